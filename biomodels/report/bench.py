"""The benchmark dashboard: one self-contained HTML page drawn from ``results.json``.

:func:`write_dashboard` reads the record of :func:`biomodels.bench.run_suite` (and optionally an
earlier one) and writes ``index.html``: the machine, versions and commit; one row per benchmark
(status, seconds, command); per benchmark its figures as tables, read generically from the JSON
the script wrote (a list of records or a mapping of records is a table, the remaining numbers a
figure table), with a bar chart of each table's main figure; and, with ``previous``, the change of
every figure found in both records. Peer tools (chemprop) appear where the scripts measured
them in the same run: their rows and columns are in the scripts' JSON.

The page has no scripts and no external resources: charts are inline SVG, so it opens offline in
any browser without console errors.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from biomodels.report.html import HtmlReport
from biomodels.utils import read_json

__all__ = ["changes", "figure_tables", "flat_figures", "peer_status", "write_dashboard"]

PEERS = ("chemprop",)
"""Peer tools the scripts may measure in the same run; the overview says which were measured."""
MAX_COLUMNS = 24
"""A mapping of records with more flattened columns than this is shown as nested tables instead."""
MAX_CHANGES = 300
"""At most this many changed figures are listed (largest relative changes first)."""
_MAIN_FIGURES = ("per_s", "throughput", "rmse", "roc_auc", "accuracy", "median", "seconds", "mean")
"""Column name parts that make a column a table's charted figure, in order of preference."""

Table = tuple[str, list[dict[str, Any]]]
"""A titled table: its rows as ``{column: value}``."""


def write_dashboard(results: str | Path | Mapping[str, Any], path: str | Path, previous: Any = None) -> Path:
    """Write the dashboard of ``results`` (a ``results.json`` path or its record) to ``path``.

    Args:
        previous: an earlier ``results.json`` (path or record) to show the change against.
    """
    record = read_json(results) if isinstance(results, str | Path) else results
    old = read_json(previous) if isinstance(previous, str | Path) else previous
    page = HtmlReport(f"biomodels benchmarks: {record['suite']} suite")
    machine = record.get("machine", {})
    git = record.get("git", {})
    page.table(
        [
            ["started", record.get("started")],
            ["seconds", record.get("seconds")],
            ["commit", f"{git.get('commit')}{' (uncommitted changes)' if git.get('dirty') else ''}"],
            ["platform", machine.get("platform")],
            ["CPUs", machine.get("cpu_count")],
            ["CUDA devices", ", ".join(map(str, (machine.get("cuda") or {}).get("devices") or [])) or "none"],
            ["python", machine.get("python")],
            *[[name, version] for name, version in machine.get("packages", {}).items()],
        ],
        header=["run", ""],
    )
    benchmarks = record.get("benchmarks", {})
    page.heading("Benchmarks")
    page.table(
        [
            [
                n,
                b["status"],
                b["seconds"],
                peer_status(b.get("results")),
                b["reason"] or "",
                b["command"] or "",
            ]
            for n, b in benchmarks.items()
        ],
        header=["benchmark", "status", "seconds", "peers", "reason", "command"],
    )
    if old is not None:
        page.heading(
            f"Change against the run of {old.get('started')} ({(old.get('git') or {}).get('commit')})"
        )
        rows = changes(old, record)
        if rows:
            page.table(rows[:MAX_CHANGES], header=["benchmark", "figure", "before", "now", "change %"])
        else:
            page.preformatted("no figure in common with the previous run")
    for name, entry in benchmarks.items():
        page.heading(name)
        if entry.get("results") is None:
            page.preformatted(f"{entry['status']}: {entry['reason']}")
            continue
        for title, rows in figure_tables(entry["results"], name):
            page.heading(title, level=3)
            columns = list(dict.fromkeys(key for row in rows for key in row))
            page.table([[row.get(c, "") for c in columns] for row in rows], header=columns)
            chart = _bar_chart(rows, columns)
            if chart:
                page.svg(chart)
    return page.write(path)


def figure_tables(results: Any, title: str) -> list[Table]:
    """The tables of one benchmark's JSON: lists of records, mappings of records, and the other
    numbers and words of each level as a two-column table (nothing is left out)."""
    tables: list[Table] = []
    _collect(results, title, tables)
    return tables


def _collect(node: Any, title: str, tables: list[Table]) -> None:
    if _is_records(node):
        tables.append((title, [_flatten(row) for row in node]))
        return
    if not isinstance(node, Mapping):
        tables.append((title, [{"value": _scalar(node)}]))
        return
    scalars = {k: v for k, v in node.items() if not isinstance(v, Mapping | list)}
    nested = {k: v for k, v in node.items() if k not in scalars}
    if scalars:
        tables.append((title, [{"figure": k, "value": _scalar(v)} for k, v in scalars.items()]))
    records = {k: v for k, v in nested.items() if isinstance(v, Mapping)}
    flat = {k: _flatten(v) for k, v in records.items()}
    if len(records) >= 2 and all(0 < len(f) <= MAX_COLUMNS for f in flat.values()):
        tables.append((title, [{"name": k, **f} for k, f in flat.items()]))
        nested = {k: v for k, v in nested.items() if k not in records}
    for key, value in nested.items():
        if isinstance(value, list) and not _is_records(value):
            tables.append((f"{title} / {key}", [{"value": ", ".join(map(str, map(_scalar, value)))}]))
        else:
            _collect(value, f"{title} / {key}", tables)


def _is_records(node: Any) -> bool:
    return isinstance(node, list) and bool(node) and all(isinstance(item, Mapping) for item in node)


def _flatten(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as ``a.b`` columns, lists as one comma-joined cell."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, list):
            flat[name] = ", ".join(str(_scalar(v)) for v in value)
        else:
            flat[name] = _scalar(value)
    return flat


def _scalar(value: Any) -> Any:
    return "" if value is None else value


def flat_figures(results: Any, prefix: str = "") -> Iterator[tuple[str, float]]:
    """Every named number of a benchmark's JSON with its path; a record in a list is named by its
    text fields (``rows[parse + graph featurise].seconds``) so the paths survive reordering. The
    numbers of a list of numbers (raw timing samples) are left out: their summaries are figures."""
    if isinstance(results, Mapping):
        for key, value in results.items():
            yield from flat_figures(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(results, list):
        for index, item in enumerate(results):
            if isinstance(item, Mapping | list):
                label = _label(item) if isinstance(item, Mapping) else None
                yield from flat_figures(item, f"{prefix}[{label if label is not None else index}]")
    elif isinstance(results, int | float) and not isinstance(results, bool) and math.isfinite(results):
        yield prefix, float(results)


def peer_status(results: Any) -> str:
    """Which :data:`PEERS` a benchmark's JSON holds figures of (``chemprop measured``), names
    without figures (``chemprop not measured``: the script looked for it and found none), or ``-``."""
    figures = [path for path, _ in flat_figures(results)]
    keys = set(_keys(results))
    found = []
    for peer in PEERS:
        if any(peer in path for path in figures):
            found.append(f"{peer} measured")
        elif peer in keys:
            found.append(f"{peer} not measured")
    return ", ".join(found) or "-"


def _keys(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield str(key)
            yield from _keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from _keys(item)


def _label(row: Mapping[str, Any]) -> str | None:
    words = [str(v) for v in row.values() if isinstance(v, str)]
    return " ".join(words) if words else None


def changes(previous: Mapping[str, Any], current: Mapping[str, Any]) -> list[list[Any]]:
    """``[benchmark, figure, before, now, change %]`` for each figure in both records that changed,
    the largest relative changes first."""
    rows = []
    for name, entry in current.get("benchmarks", {}).items():
        before = dict(flat_figures((previous.get("benchmarks", {}).get(name) or {}).get("results")))
        for path, now in flat_figures(entry.get("results")):
            if path in before and before[path] != now:
                change = 100 * (now - before[path]) / abs(before[path]) if before[path] else math.inf
                rows.append([name, path, before[path], now, change])
    return sorted(rows, key=lambda row: -abs(row[4]))


def _bar_chart(rows: list[dict[str, Any]], columns: list[str]) -> str | None:
    """An inline SVG bar chart of the table's main figure by its label column; None when the
    table has fewer than two rows, no text column or no number to chart."""
    label = next((c for c in columns if all(isinstance(r.get(c), str) for r in rows)), None)
    numbers = [c for c in columns if c != label and all(_is_number(r.get(c)) for r in rows)]
    if len(rows) < 2 or label is None or not numbers:
        return None
    figure = next((c for part in _MAIN_FIGURES for c in numbers if part in c), numbers[0])
    values = [float(r[figure]) for r in rows]
    top = max(max(values), 0.0) or 1.0
    bar, gap, left, width = 16, 4, 260, 420
    height = len(rows) * (bar + gap) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 90}" height="{height}" '
        f'role="img" aria-label="{html.escape(figure)} by {html.escape(label)}">',
        f'<text x="{left}" y="14" font-size="12" font-weight="bold">{html.escape(figure)}</text>',
    ]
    for i, (row, value) in enumerate(zip(rows, values, strict=True)):
        y = 22 + i * (bar + gap)
        length = max(0.0, value) / top * width
        name = html.escape(str(row[label])[:40])
        parts.append(f'<text x="{left - 6}" y="{y + 12}" font-size="11" text-anchor="end">{name}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{bar}" fill="#4477aa"/>')
        parts.append(f'<text x="{left + length + 4:.1f}" y="{y + 12}" font-size="11">{value:.4g}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
