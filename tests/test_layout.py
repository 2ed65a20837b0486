"""The chapter's layout holds: each file fits one sitting, and imports go only one way.

Chapter files import `support` and earlier chapter files (numbered ones through chapter.py, the
one loader); `support` never imports a chapter file; the stand-in is a package of its own; and
nothing imports in a circle. Imports are read from the source (`ast`), lazy ones included, so a
test fails the moment an edit breaks the rule, whether or not that code path runs.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

from tests.conftest import ROOT

# In reading order, with the line budget of each (wc -l, docstring and comments included).
CHAPTER = {
    "1_authorization_url": 110,
    "2_callback_exchange": 180,
    "device_flow": 180,
    "3_github_request": 180,
    "token_manager": 260,
    "dev_github_tool": 300,
}
LAUNCHER_BUDGET = 40  # local_github.py only starts the stand-in


def project_modules() -> dict[str, Path]:
    """Every module of the project outside tests/, tools/ and benchmarks/, by its import name."""
    modules = {path.stem: path for path in ROOT.glob("*.py")}
    for package in ("support", "stand_in"):
        for path in (ROOT / package).glob("*.py"):
            modules[package if path.stem == "__init__" else f"{package}.{path.stem}"] = path
    return modules


@functools.lru_cache(maxsize=None)
def chapter_loader_names() -> dict[str, str]:
    tree = ast.parse((ROOT / "chapter.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "CHAPTER_FILES":
            return ast.literal_eval(node.value)
    raise AssertionError("chapter.py has no CHAPTER_FILES")


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The project modules `path` imports anywhere: in functions and under TYPE_CHECKING too."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    loader = chapter_loader_names()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
            if node.module == "chapter":  # `from chapter import step1` loads 1_authorization_url.py
                found.update(loader[alias.name] for alias in node.names if alias.name in loader)
        elif isinstance(node, ast.Attribute) and getattr(node.value, "id", "") == "chapter" and node.attr in loader:
            found.add(loader[node.attr])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module" and node.args \
                and isinstance(node.args[0], ast.Constant):
            found.add(node.args[0].value)
    return {name for name in found if name in known}


@functools.lru_cache(maxsize=None)
def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(path, set(modules)) - {name} for name, path in modules.items()}


@pytest.mark.parametrize("name, budget", [*CHAPTER.items(), ("local_github", LAUNCHER_BUDGET)])
def test_each_chapter_file_fits_its_line_budget(name, budget):
    lines = (ROOT / f"{name}.py").read_text(encoding="utf-8").count("\n")
    assert lines <= budget, f"{name}.py has {lines} lines, over its {budget}: move plumbing into support/"


def test_the_loader_names_every_chapter_file_in_reading_order():
    assert list(chapter_loader_names().values()) == [name for name in CHAPTER if name != "dev_github_tool"]


def test_support_never_imports_a_chapter_file():
    for name, imported in import_graph().items():
        if name.startswith("support"):
            assert not imported & {*CHAPTER, "chapter"}, f"{name} imports {sorted(imported & {*CHAPTER, 'chapter'})}"


def test_a_chapter_file_imports_only_earlier_chapter_files():
    graph, order = import_graph(), list(CHAPTER)
    for position, name in enumerate(order):
        later = graph[name] & set(order[position + 1:])
        assert not later, f"{name}.py imports {sorted(later)}, which come later in the chapter"


def test_only_the_loader_imports_numbered_files_by_name():
    for name, path in project_modules().items():
        if name == "chapter":
            continue
        numbered = {module for module in imports_of(path, {n for n in CHAPTER if n[0].isdigit()})}
        tree = ast.parse(path.read_text(encoding="utf-8"))
        by_name = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
                   and getattr(node.func, "attr", "") == "import_module"]
        assert not by_name, f"{name} imports modules by name; only chapter.py may"
        assert not numbered - imports_through_the_loader(path), f"{name} imports {sorted(numbered)} directly"


def imports_through_the_loader(path: Path) -> set[str]:
    loader = chapter_loader_names()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                  and getattr(node.value, "id", "") == "chapter"}
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and node.module == "chapter" for alias in node.names}
    return {loader[name] for name in attributes | imported if name in loader}


def test_the_stand_in_imports_nothing_of_the_tool():
    for name, imported in import_graph().items():
        if name.startswith("stand_in"):
            outside = {module for module in imported if not module.startswith("stand_in")}
            assert not outside, f"{name} imports {sorted(outside)}"


def test_nothing_imports_in_a_circle():
    graph = import_graph()
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in visiting:
            cycle = visiting[visiting.index(name):] + [name]
            raise AssertionError("an import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        visiting.append(name)
        for imported in sorted(graph.get(name, ())):
            visit(imported)
        visiting.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)
