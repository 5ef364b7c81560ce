"""The layering, read from the imports (ast): what may import what, and no circle.

    web/ ──▶ search (core) ◀── indexer/          the core: search/*.py
                 ▲                               the stores: search/whoosh/, search/postgres/
          search/whoosh/, search/postgres/       (each reads AND writes its format)

- `search` imports neither `indexer` nor `web`; `indexer` and `web` do not import each
  other; nothing imports `web` but its own modules.
- `web` and `indexer` reach a store only through the core (`search.stores`): they never
  import `search.whoosh` or `search.postgres`.
- Only the Whoosh store imports `whoosh`, besides `search/analysis.py` and
  `search/schema.py`, whose classes Whoosh pickles into every index; only the PostgreSQL
  store imports `psycopg`. Whoosh's private API is touched in one package,
  `search/whoosh/private/`.
- No module imports another's private name, and the modules import no circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("search", "indexer", "web")
WHOOSH_ALLOWED = ("search.analysis", "search.schema")
PRIVATE_API = "search.whoosh.private"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources(*packages: str) -> dict[str, ast.Module]:
    found = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = ast.parse(path.read_text("utf-8"), str(path))
    return found


MODULES = _sources(*PACKAGES)


def _imports(tree: ast.Module) -> list[tuple[str, list[str], int]]:
    """(module imported, names taken from it, line) of every import, nested ones too;
    `from package import module` counts as importing that module."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [alias.name for alias in node.names]
            modules = [n for n in names if f"{node.module}.{n}" in MODULES]
            out += [(f"{node.module}.{n}", [], node.lineno) for n in modules]
            if len(modules) < len(names):
                out.append((node.module, [n for n in names if n not in modules], node.lineno))
    return out


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _violations(rule) -> list[str]:
    return [f"{module}:{line} imports {imported}"
            for module, tree in MODULES.items()
            for imported, _, line in _imports(tree) if rule(module, imported)]


@pytest.mark.parametrize("importer, imported", [
    ("search", "indexer"), ("search", "web"), ("indexer", "web"), ("web", "indexer"),
    ("web", "search.whoosh"), ("web", "search.postgres"),
    ("indexer", "search.whoosh"), ("indexer", "search.postgres"),
])
def test_layers(importer, imported):
    assert _violations(lambda module, name: _within(module, importer)
                       and _within(name, imported)) == []


def test_only_the_whoosh_store_imports_whoosh():
    assert _violations(lambda module, name: _within(name, "whoosh")
                       and not _within(module, "search.whoosh")
                       and module not in WHOOSH_ALLOWED) == []


def test_only_the_postgresql_store_imports_psycopg():
    assert _violations(lambda module, name: (_within(name, "psycopg")
                                             or _within(name, "psycopg_pool"))
                       and not _within(module, "search.postgres")) == []


def test_whoosh_private_api_is_touched_in_one_package():
    """No `from whoosh… import _name`, and no `something._name` in `search` (where Whoosh's
    objects are), outside search/whoosh/private/ (attributes of the module's own
    objects, `self._x`, are its own business; any other `x._name` counts)."""
    found = []
    for module, tree in MODULES.items():
        if _within(module, PRIVATE_API) or not _within(module, "search"):
            continue
        for imported, names, line in _imports(tree):
            if _within(imported, "whoosh") and any(n.startswith("_") for n in names):
                found.append(f"{module}:{line} imports a private name of {imported}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") \
                    and not node.attr.startswith("__") \
                    and not (isinstance(node.value, ast.Name)
                             and node.value.id in ("self", "cls")):
                found.append(f"{module}:{node.lineno} reads .{node.attr}")
    assert found == []


def test_no_private_name_is_imported_across_modules():
    """(search/whoosh/private/ is where Whoosh's private names are imported, on purpose.)"""
    trees = {**MODULES, **_sources("bench", "tests")}
    found = [f"{module}:{line} imports {name} from {imported}"
             for module, tree in trees.items()
             for imported, names, line in _imports(tree)
             for name in names if name.startswith("_") and not name.startswith("__")
             and not (_within(module, PRIVATE_API) and _within(imported, "whoosh"))]
    assert found == []


def test_no_import_circle():
    graph = {module: {name for name, _, _ in _imports(tree) if name in MODULES}
             for module, tree in MODULES.items()}
    state: dict[str, int] = {}  # 1: being visited, 2: done

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                return path + [module, target]
            if target not in state and (circle := visit(target, path + [module])):
                return circle
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            assert visit(module, []) is None, "an import circle"


def test_the_rules_see_the_imports_they_forbid():
    """The checks above read real import statements: a forbidden one is caught."""
    tree = ast.parse("from whoosh.codec.whoosh3 import _lenfield\nimport indexer.cli\n"
                     "def f():\n    from search.postgres import writer\n")
    assert [(name, names) for name, names, _ in _imports(tree)] == [
        ("whoosh.codec.whoosh3", ["_lenfield"]), ("indexer.cli", []),
        ("search.postgres.writer", [])]
