"""Self-contained HTML reports: one file, images inlined (PNG as base64, SVG as markup).

:class:`HtmlReport` collects sections in order and writes them as a single page that opens
offline, with no external style sheets, scripts or image files::

    report = HtmlReport("Screening report")
    report.heading("Counts")
    report.table([["rows", 5000], ["scored", 4990]], header=["", "count"])
    report.image(Path("histogram.png"), "score histogram")
    report.write("out.report.html")
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from biomodels.utils import atomic_path

__all__ = ["HtmlReport"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
img, svg { max-width: 100%; height: auto; }
.figures { display: flex; flex-wrap: wrap; gap: 0.5em; }
.figures img { width: 32%; min-width: 280px; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
"""


class HtmlReport:
    """An HTML page built section by section; :meth:`render` returns it, :meth:`write` saves it.

    Args:
        title: the page title and top heading.
    """

    def __init__(self, title: str):
        self.title = title
        self._parts: list[str] = []

    def heading(self, text: str, level: int = 2) -> None:
        self._parts.append(f"<h{level}>{html.escape(text)}</h{level}>")

    def table(self, rows: Sequence[Sequence[Any]], header: Sequence[str] | None = None) -> None:
        """A table of escaped cells; numbers are right-aligned and floats shown to 4 significant digits."""
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header) if header else ""
        body = "".join("<tr>" + "".join(_cell(value) for value in row) + "</tr>" for row in rows)
        self._parts.append(f"<table>{f'<tr>{head}</tr>' if head else ''}{body}</table>")

    def image(self, path: str | Path, alt: str) -> None:
        """Inline a PNG file as a base64 data URI."""
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        self._parts.append(f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">')

    def figures(self, paths: Sequence[str | Path], alts: Sequence[str]) -> None:
        """Several PNG files side by side."""
        self._parts.append('<div class="figures">')
        for path, alt in zip(paths, alts, strict=True):
            self.image(path, alt)
        self._parts.append("</div>")

    def svg(self, markup: str) -> None:
        """Inline SVG markup as it is (the XML declaration, if any, is dropped)."""
        start = markup.find("<svg")
        self._parts.append(markup[start:] if start >= 0 else markup)

    def paragraph(self, text: str) -> None:
        """A paragraph of escaped text."""
        self._parts.append(f"<p>{html.escape(text)}</p>")

    def preformatted(self, text: str) -> None:
        self._parts.append(f"<pre>{html.escape(text)}</pre>")

    def render(self) -> str:
        title = html.escape(self.title)
        return (
            f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{_STYLE}</style></head><body><h1>{title}</h1>\n"
            + "\n".join(self._parts)
            + "\n</body></html>\n"
        )

    def write(self, path: str | Path) -> Path:
        """Write the page atomically; returns ``path``."""
        path = Path(path)
        with atomic_path(path) as tmp:
            tmp.write_text(self.render(), encoding="utf-8")
        return path


def _cell(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"<td>{html.escape(str(value))}</td>"
    text = f"{value:,}" if isinstance(value, int) else f"{value:.4g}"
    return f'<td class="num">{text}</td>'
