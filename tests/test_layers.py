"""Data flows one way: each part of biomodels imports only its own layer and the layers below.

Every ``biomodels/**/*.py`` is read with :mod:`ast` (nothing is imported) and each of its imports
of ``biomodels.*`` is checked: module-level, function-level and ``TYPE_CHECKING`` imports,
``import x`` and ``from x import y`` (relative imports resolved). Layers, bottom to top
(:data:`LAYERS`; ``docs/STYLE.md`` draws the same picture):

1. the leaf modules: ``biomodels/__init__.py``, ``types``, ``exceptions``, ``registry``, ``utils``,
   ``cache``
2. ``chem``  3. ``io``  4. ``featurize``  5. ``data``  6. ``kernels``  7. ``nn``  8. ``models``
9. ``train``
10. the workflows ``screen``, ``diagnostics``, ``generate``, ``dta``, ``serve``, ``tune``,
    ``bench``: one layer, but independent of each other: a workflow imports no other workflow
    (what two of them share belongs in ``train`` or below), so each can change, or be left out,
    without touching the others
11. ``report``: reads results and run directories, draws; nothing below imports it
12. ``cli``: parse, call the library, print

A module may import its own layer or a lower one. Two rules fail a test:

- an import from a higher layer (or, among the workflows, from another workflow);
- an import of a private name (leading underscore, dunders aside) from another package, e.g.
  ``from biomodels.featurize.batch import _x`` outside ``featurize``: use or add a public name.

Not imports, so not checked: the string targets of lazy registry entries (``MODELS``' lazy
``"biomodels.train.property:GNNEstimator"``) and of lazy export maps, resolved with
:mod:`importlib` on first use. :data:`ALLOWED` holds the one deliberate upward edge (a stale
entry fails too).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "biomodels"

LEAVES = (
    "biomodels",
    "biomodels.types",
    "biomodels.exceptions",
    "biomodels.registry",
    "biomodels.utils",
    "biomodels.cache",
)
WORKFLOWS = (
    "biomodels.screen",
    "biomodels.diagnostics",
    "biomodels.generate",
    "biomodels.dta",
    "biomodels.serve",
    "biomodels.tune",
    "biomodels.bench",
)
LAYERS = (
    LEAVES,
    ("biomodels.chem",),
    ("biomodels.io",),
    ("biomodels.featurize",),
    ("biomodels.data",),
    ("biomodels.kernels",),
    ("biomodels.nn",),
    ("biomodels.models",),
    ("biomodels.train",),
    WORKFLOWS,
    ("biomodels.report",),
    ("biomodels.cli",),
)
"""Bottom to top. Each entry is a layer; each name in it a unit (a leaf module or a package)."""

ALLOWED = {
    # The top level stays light for a fast command line, yet offers ``biomodels.train_run``,
    # ``load_run`` and ``TrainRunConfig``: its PEP 562 ``__getattr__`` imports them on first use.
    ("biomodels/__init__.py", "biomodels.train.run"),
}
"""(importing file, imported module or ``module:name``): the one allowed upward edge."""


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> str:
    """The leaf module or package (``biomodels.chem``) that ``module`` belongs to."""
    units = [unit for layer in LAYERS for unit in layer]
    matches = [u for u in units if module == u or (u != "biomodels" and module.startswith(u + "."))]
    if not matches:
        return "biomodels" if module == "biomodels" else ""
    return max(matches, key=len)


def layer_of(unit: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if unit in layer)


def is_module(name: str, root: Path) -> bool:
    path = root.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(path: Path, root: Path) -> Iterator[tuple[int, str, str | None]]:
    """``(line, imported module, imported name or None)`` for each ``biomodels`` import."""
    tree = ast.parse(path.read_text(), filename=str(path))
    own = module_name(path, root)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "biomodels":
                    yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            if base.split(".")[0] != "biomodels":
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if is_module(submodule, root):
                    yield node.lineno, submodule, None
                else:
                    yield node.lineno, base, alias.name


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def find_violations(root: Path = ROOT) -> dict[tuple[str, str], str]:
    """(importing file, imported module or ``module:name``) -> why it breaks a rule, line."""
    found = {}
    for path in sorted((root / "biomodels").rglob("*.py")):
        source = path.relative_to(root).as_posix()
        importer = unit_of(module_name(path, root))
        if not importer:
            continue  # test_every_module_is_in_a_layer names it
        for line, module, name in imports(path, root):
            target = unit_of(module)
            if not target:
                found[source, module] = f"line {line}: {module} is in no layer"
            elif layer_of(target) > layer_of(importer):
                found[source, module] = f"line {line}: {importer} imports the higher layer {target}"
            elif target != importer and importer in WORKFLOWS and target in WORKFLOWS:
                found[source, module] = f"line {line}: the workflow {importer} imports the workflow {target}"
            private = [part for part in [*module.split("."), name or ""] if is_private(part)]
            if private and target != importer:
                edge = (source, module if name is None else f"{module}:{name}")
                found[edge] = f"line {line}: {importer} imports the private {private[-1]} of {target}"
    return found


def test_every_module_is_in_a_layer():
    missing = [module_name(p) for p in PACKAGE.rglob("*.py") if not unit_of(module_name(p))]
    assert not missing, f"place these in tests/test_layers.py LAYERS: {missing}"


def test_imports_follow_the_layers():
    found = find_violations()
    new = {edge: why for edge, why in found.items() if edge not in ALLOWED}
    assert not new, "imports against the layers:\n" + "\n".join(
        f"  {source} -> {target} ({why})" for (source, target), why in sorted(new.items())
    )


@pytest.mark.parametrize("edge", sorted(ALLOWED), ids="{0[0]} -> {0[1]}".format)
def test_listed_exceptions_still_occur(edge):
    """An allowed edge that is gone must leave the list (so it only shrinks)."""
    assert edge in find_violations(), f"{edge} no longer occurs: remove it from tests/test_layers.py"


def test_the_checker_catches_each_rule(tmp_path):
    """Upward, workflow-to-workflow and private imports, module- and function-level, are found."""
    fake = tmp_path / "biomodels"
    for package in ("chem", "featurize", "screen", "diagnostics", "report"):
        (fake / package).mkdir(parents=True)
        (fake / package / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("")
    (fake / "featurize" / "batch.py").write_text("def _x(): ...\n")
    (fake / "chem" / "bad.py").write_text("def f():\n    import biomodels.featurize.batch\n")
    (fake / "screen" / "bad.py").write_text("from biomodels.diagnostics import models\n")
    (fake / "report" / "bad.py").write_text("from biomodels.featurize.batch import _x\n")
    (fake / "report" / "fine.py").write_text("from ..screen import bad\nfrom . import bad as mine\n")
    found = find_violations(tmp_path)
    assert set(found) == {
        ("biomodels/chem/bad.py", "biomodels.featurize.batch"),
        ("biomodels/screen/bad.py", "biomodels.diagnostics"),
        ("biomodels/report/bad.py", "biomodels.featurize.batch:_x"),
    }, found
    assert "private _x" in found[("biomodels/report/bad.py", "biomodels.featurize.batch:_x")]
