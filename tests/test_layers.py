"""Layers point down: no module of src/hybridbatch imports a module of a higher layer (or a sibling).

The import graph is read with ``ast`` from every file under src/hybridbatch, counting imports inside
functions and under ``TYPE_CHECKING`` too (an import hidden in a function is still an edge). The order
is the one docs/architecture.md shows.
"""

from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "hybridbatch"

#: Lowest first; a module may import its own layer group and the groups below. Names in one tuple are
#: siblings: neither imports the other (search and comparison).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "paths"),  # the foundation: errors, locations, atomic output, settings, figures
    ("io", "settings"),
    ("figures",),
    ("data",),
    ("models",),
    ("sampling",),
    ("training",),
    ("evaluation",),
    ("neutrality",),
    ("search", "comparison"),
    ("commands",),
    ("cli",),
)


@dataclass(frozen=True)
class Edge:
    """``source`` (a module) imports ``target`` (a module or package) at ``line``."""

    source: str
    target: str
    line: int

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} (line {self.line})"


def module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def import_edges(src: Path) -> list[Edge]:
    """Every import of a ``hybridbatch`` module by a module under ``src``, wherever it sits."""
    paths = sorted((src / PACKAGE).rglob("*.py"))
    known = {module_name(path, src) for path in paths}
    edges = []
    for path in paths:
        module = module_name(path, src)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node, module, path.name == "__init__.py")
                # ``from hybridbatch import training`` imports the subpackage (a name is the module)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
            else:
                continue
            edges += [Edge(module, t, node.lineno) for t in targets if t.split(".")[0] == PACKAGE]
    return edges


def group(module: str) -> str | None:
    """The top-level part of ``module`` under the package (``hybridbatch.data.x`` -> ``data``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def rank(name: str) -> int:
    for index, layer in enumerate(LAYERS):
        if name in layer:
            return index
    raise AssertionError(f"{name!r} is in no layer: add it to LAYERS and docs/architecture.md")


def upward(edges: list[Edge]) -> list[Edge]:
    """The edges that point to a higher layer or to a sibling of the same layer."""
    bad = []
    for edge in edges:
        source, target = group(edge.source), group(edge.target)
        if source is None or target is None or source == target:
            continue  # the package's __init__, or within one subpackage / module
        if rank(target) >= rank(source):  # above, or a sibling in the same layer
            bad.append(edge)
    return bad


def test_every_import_points_down() -> None:
    edges = import_edges(SRC)
    assert len(edges) > 300  # the graph was read (function-local imports included)
    bad = upward(edges)
    assert not bad, "imports that point up a layer:\n" + "\n".join(map(str, bad))


def test_every_subpackage_has_a_layer() -> None:
    names = {p.stem if p.is_file() else p.name for p in (SRC / PACKAGE).iterdir()}
    names = {n for n in names if not n.startswith("_") and n != "py.typed"}
    for name in names:
        rank(name)


PLANTED = {
    # a function-local import, as most hidden upward edges were
    "data/planted.py": "def f():\n    from hybridbatch.training import trainer\n    return trainer\n",
    # a relative import from models up to evaluation
    "models/planted.py": "from ..evaluation import metrics\n",
    # ``from hybridbatch import X`` names the subpackage X
    "sampling/planted.py": "from hybridbatch import comparison\n",
    # siblings: search must not import comparison
    "search/planted.py": "import hybridbatch.comparison.runs.report\n",
    # under TYPE_CHECKING still counts
    "evaluation/planted.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
    "    from hybridbatch.commands import evaluation\n",
}


def test_a_planted_upward_import_is_caught(tmp_path: Path) -> None:
    copy = tmp_path / "src"
    shutil.copytree(SRC / PACKAGE, copy / PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))
    assert not upward(import_edges(copy))
    for relative, text in PLANTED.items():
        (copy / PACKAGE / relative).write_text(text, encoding="utf-8")
    found = {(e.source, e.target) for e in upward(import_edges(copy))}
    assert found == {
        ("hybridbatch.data.planted", "hybridbatch.training.trainer"),
        ("hybridbatch.models.planted", "hybridbatch.evaluation.metrics"),
        ("hybridbatch.sampling.planted", "hybridbatch.comparison"),
        ("hybridbatch.search.planted", "hybridbatch.comparison.runs.report"),
        ("hybridbatch.evaluation.planted", "hybridbatch.commands.evaluation"),
    }


def test_downward_and_same_package_imports_pass(tmp_path: Path) -> None:
    root = tmp_path / "src" / PACKAGE
    for relative, text in {
        "__init__.py": "",
        "errors.py": "",
        "data/__init__.py": "from hybridbatch.data.a import x\n",
        "data/a.py": "from hybridbatch.errors import E\nx = 1\n",
        "training/__init__.py": "",
        "training/t.py": "def f():\n    from hybridbatch.data import a\n    from . import u\n",
        "training/u.py": "",
        "cli.py": "from hybridbatch.training import t\n",
    }.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    edges = import_edges(tmp_path / "src")
    assert ("hybridbatch.training.t", "hybridbatch.training.u") in {(e.source, e.target) for e in edges}
    assert not upward(edges)


def test_a_module_outside_every_layer_is_named() -> None:
    with pytest.raises(AssertionError, match="'nowhere' is in no layer"):
        rank("nowhere")
