"""The package layout (docs/code-map.md): no import cycles, framework-free extraction, old paths kept.

The import graph is read from the source with ``ast``: imports at module level and inside functions
(and under ``if TYPE_CHECKING:``) all count, ``from package import name`` counts as importing the
submodule ``package.name`` when there is one.
"""

from __future__ import annotations

import ast
import importlib
import re
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path

import pytest
from scrapy.utils.misc import load_object

from archiver import _moved, settings

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("archiver", "spiders", "pipelines")


def module_files() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = module_files()


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(module: str) -> set[str]:
    """Every module ``module`` imports, anywhere in its source (ours and third-party, top names kept)."""
    return _imports_in(module, ast.walk(ast.parse(MODULES[module].read_text(), str(MODULES[module]))))


def _imports_in(module: str, nodes: Iterable[ast.AST]) -> set[str]:
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(module, node)
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in MODULES)
    return found


def graph() -> dict[str, set[str]]:
    """Our modules → our modules they import (a submodule import also runs its packages' __init__)."""
    edges: dict[str, set[str]] = {}
    for module in MODULES:
        ours = set()
        for name in imports_of(module):
            parts = name.split(".")
            prefixes = (".".join(parts[:i]) for i in range(1, len(parts) + 1))
            ours.update(p for p in prefixes if p in MODULES)
        ours.discard(module)
        # importing a package's own submodule from its __init__, or a parent package, is not a cycle
        edges[module] = {m for m in ours if not module.startswith(m + ".")}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(edges.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_imports_inside_functions_and_from_imports_of_submodules() -> None:
    edges = graph()
    assert "archiver.offline.commands" in edges["archiver.cli"]  # imported inside a function
    assert "archiver.settings" in edges["archiver.distributed.commands"]  # from archiver import settings
    assert len(edges) == len(MODULES) > 100


def test_cycles_are_found() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


FRAMEWORKS = ("scrapy", "twisted", "pipelines")


def frameworks_reached(module: str) -> set[str]:
    """What of Scrapy, Twisted and the pipelines importing ``module`` can load: its own imports
    (anywhere in it) and, from there on, the module-level imports of what it imports."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        for name in imports_of(current) if current == module else _module_level_imports(current):
            if name not in seen:
                seen.add(name)
                if name in MODULES:
                    todo.append(name)
    return {name for name in seen if name.split(".")[0] in FRAMEWORKS}


def test_extraction_imports_no_framework_and_no_pipelines() -> None:
    extract = [m for m in MODULES if m == "archiver.extract" or m.startswith("archiver.extract.")]
    assert len(extract) > 10
    assert {m: sorted(frameworks_reached(m)) for m in extract if frameworks_reached(m)} == {}
    # what the walk finds elsewhere: the chain loads pipelines, the redirect middleware Scrapy
    assert "pipelines.base" in frameworks_reached("pipelines.chain")
    redirect = frameworks_reached("archiver.downloadermiddlewares.redirect")
    assert "scrapy.downloadermiddlewares.redirect" in redirect


def _module_level_imports(module: str) -> set[str]:
    return _imports_in(module, ast.parse(MODULES[module].read_text()).body)


def test_at_most_ten_modules_at_the_top_of_archiver() -> None:
    top = sorted(p.name for p in (ROOT / "archiver").glob("*.py"))
    assert len(top) <= 10, top


@pytest.mark.parametrize("old", sorted(_moved.MOVED))
def test_an_old_path_imports_and_gives_the_new_objects(old: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, old, raising=False)  # imported fresh, whatever ran before
    with pytest.warns(DeprecationWarning, match="moved to"):
        module = importlib.import_module(old)
    targets = [importlib.import_module(t) for t in _moved.MOVED[old]]
    if len(targets) == 1:
        assert module is targets[0]
    public = [(t, n) for t in targets for n in vars(t) if not n.startswith("_")]
    assert public
    for target, name in public:
        if any(name in vars(earlier) for earlier in targets[: targets.index(target)]):
            continue  # the first module holding the name wins
        assert getattr(module, name) is getattr(target, name), (old, name)
    assert old not in MODULES  # no file left at the old path


#: dotted names in the docs that are not Python: systemd units (docs/scheduling.md)
NOT_PYTHON = frozenset({"archiver.service", "archiver.timer"})


def _dotted_paths_in(text: str) -> set[str]:
    # not after a dot: ``[tool.archiver.tools]`` is a pyproject.toml table
    found = set(re.findall(r"(?<![\w.])(?:archiver|spiders|pipelines)(?:\.[A-Za-z_]\w*)+", text))
    return found - NOT_PYTHON


def _component_paths() -> set[str]:
    found: set[str] = set()
    for name in dir(settings):
        value = getattr(settings, name)
        if name.isupper() and isinstance(value, dict):
            found.update(k for k in value if isinstance(k, str) and k.startswith(("archiver.", "pipelines.")))
            found.update(v for v in value.values() if isinstance(v, str) and v.startswith("archiver."))
    return found


def test_every_component_path_in_settings_loads() -> None:
    paths = _component_paths()
    assert "archiver.downloadermiddlewares.redirect.GuardedRedirectMiddleware" in paths
    for path in sorted(paths):
        assert load_object(path) is not None, path


def _resolves(path: str) -> bool:
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                obj = importlib.import_module(module_name)
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_every_dotted_path_in_the_docs_resolves() -> None:
    texts = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "archiver" / "settings.py"]
    paths = set().union(*(_dotted_paths_in(p.read_text()) for p in texts))
    assert len(paths) > 30
    broken = sorted(p for p in paths if not _resolves(p.rstrip(".")))
    assert broken == []


MOVED_NAMES = sorted((module, name) for module, names in _moved.MOVED_NAMES.items() for name in names)


@pytest.mark.parametrize(("module", "name"), MOVED_NAMES)
def test_a_name_moved_out_of_a_module_is_still_found_there(module: str, name: str) -> None:
    with pytest.warns(DeprecationWarning, match="moved to"):
        found = getattr(importlib.import_module(module), name)
    assert found is getattr(importlib.import_module(_moved.MOVED_NAMES[module][name]), name)
    assert name not in vars(importlib.import_module(module))
