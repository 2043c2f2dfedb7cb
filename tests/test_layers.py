"""The layers point one way (docs/architecture.md), read from the source: which package may import which, no
import cycles, no project imports hidden in functions, one advisory-lock registry, one reader of the
environment, no Streamlit below the pages, no SQL in them."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

from backend.core import locks
from backend.core.settings import PROJECT_ROOT

# Each layer may import itself and the layers listed before it (lower), never one after it.
LAYERS: list[set[str]] = [
    {"backend.core"},
    {"database"},
    {"backend.notify"},
    {"backend.catalogue"},
    {"backend.accounts"},
    {"backend.billing"},
    {"backend.watching"},
    {"backend.analytics"},
    {"backend.admin"},
    {"etl", "seed"},  # command-line programs that reuse backend rules
    {"ops"},  # the application layer that runs etl/ and seed/ from the app
    {"ui", "api", "components"},
    {"pages", "app"},
]
# Side entrances: what else each may import (besides third-party packages).
OUTSIDE_LAYERS = {"migrations": {"backend.core", "database"}, "benchmarks": None}  # None: anything but pages
SOURCE_DIRS = ("backend", "api", "ops", "ui", "pages", "components", "etl", "seed", "migrations", "benchmarks")
APP_CODE = ("backend", "api", "ops", "ui", "pages", "components", "etl", "seed")
MAX_MODULE_LINES = 380  # "about 350"


@cache
def modules() -> dict[str, Path]:
    found = {"database": PROJECT_ROOT / "database.py", "app": PROJECT_ROOT / "app.py"}
    for folder in SOURCE_DIRS:
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            name = ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts).removesuffix(".__init__")
            found[name] = path
    return found


@cache
def tree(name: str) -> ast.Module:
    return ast.parse(modules()[name].read_text())


def imported(name: str, *, nested_only: bool = False) -> set[str]:
    """The project modules that module `name` imports (anywhere in it, or only inside functions)."""
    known, found = modules(), set()
    scopes = [n for n in ast.walk(tree(name)) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    nodes = [n for scope in scopes for n in ast.walk(scope)] if nested_only else list(ast.walk(tree(name)))
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {m for m in found if m in known}


def package(name: str) -> str:
    parts = name.split(".")
    return ".".join(parts[:2]) if parts[0] == "backend" and len(parts) > 1 else parts[0]


def layer_of(pkg: str) -> int | None:
    return next((i for i, layer in enumerate(LAYERS) if pkg in layer), None)


def test_every_package_has_a_place():
    placed = {pkg for layer in LAYERS for pkg in layer} | set(OUTSIDE_LAYERS) | {"backend"}
    assert {package(m) for m in modules()} <= placed


def upward_imports(pairs: list[tuple[str, str]]) -> list[str]:
    """The (importer, imported) module pairs that break the layer rules."""
    wrong = []
    for name, other in pairs:
        here, there = package(name), package(other)
        if there == here or there == "backend":
            continue
        if here in OUTSIDE_LAYERS:
            allowed = OUTSIDE_LAYERS[here]
            ok = there not in {"pages", "app"} if allowed is None else there in allowed
        else:
            low, high = layer_of(there), layer_of(here)
            ok = low is not None and high is not None and low <= high
        if not ok:
            wrong.append(f"{name} imports {other}")
    return wrong


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle a depth-first walk of `graph` meets (as the path that closes it)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    return cycles


def test_layers_import_only_downwards():
    wrong = upward_imports([(name, other) for name in modules() for other in imported(name)])
    assert not wrong, "imports that point up or sideways:\n" + "\n".join(wrong)


def test_backend_never_imports_the_layers_above_it():
    above = {"etl", "seed", "ops", "ui", "api", "pages", "app", "components"}
    wrong = [f"{n} -> {o}" for n in modules() if n.startswith("backend") for o in imported(n) if package(o) in above]
    assert not wrong


def test_no_import_cycles_between_modules():
    cycles = find_cycles({name: {o for o in imported(name) if o != name} for name in modules()})
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_project_imports_sit_at_the_top_of_each_module():
    """An import inside a function is how a cycle hides; third-party imports may be lazy (start-up time)."""
    hidden = {name: sorted(imported(name, nested_only=True)) for name in modules() if package(name) != "migrations"}
    assert not {name: found for name, found in hidden.items() if found}


def test_advisory_lock_keys_are_unique_and_only_from_the_registry():
    keys = locks.registry()
    assert len(set(keys.values())) == len(keys) >= 8
    pattern = re.compile(r"pg_(try_)?advisory_(xact_)?(un)?lock\((?P<arg>[^)]*)\)")
    wrong = []
    for name, path in modules().items():
        source = path.read_text()
        for match in pattern.finditer(source):
            arg = match.group("arg")
            if not re.fullmatch(r"\s*(:k|%s)\s*", arg):
                wrong.append(f"{name}: {match.group(0)}")
        for literal in re.findall(r"7_?340_?\d{3}", source):
            if name != "backend.core.locks":
                wrong.append(f"{name}: key {literal} outside the registry")
    assert not wrong
    for name, path in modules().items():
        source = path.read_text()
        for match in pattern.finditer(source):  # the bound key is given right after the statement
            assert "locks." in source[match.end() : match.end() + 120], (name, match.group(0))


def test_only_the_settings_object_reads_the_environment():
    readers = []
    for name, path in modules().items():
        if package(name) not in {*APP_CODE, "database", "app"} or name == "backend.core.settings":
            continue
        if re.search(r"os\.environ|os\.getenv|getenv\(", path.read_text()):
            readers.append(name)
    assert not readers


def test_streamlit_only_in_the_ui_and_sql_only_below_it():
    for name, path in modules().items():
        source = path.read_text()
        if package(name) in {"backend.core", "database"} or name.startswith(("backend", "ops", "etl", "seed")):
            assert "import streamlit" not in source, name
        if package(name) in {"pages", "app", "ui"}:
            assert not re.search(r"^(from|import) sqlalchemy", source, re.MULTILINE), name


@pytest.mark.parametrize("folder", APP_CODE)
def test_modules_stay_small(folder):
    sizes = {
        name: len(path.read_text().splitlines()) for name, path in modules().items() if package(name).startswith(folder)
    }
    assert sizes and not {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES}


def test_the_checks_find_what_they_look_for():
    """The rules themselves, on made-up imports: an upward import and a cycle are found, a downward one is not."""
    assert upward_imports([("backend.billing.job", "backend.analytics.rollups")]) == [
        "backend.billing.job imports backend.analytics.rollups"
    ]
    assert upward_imports([("backend.core.audit", "backend.accounts.users")])
    assert upward_imports([("backend.analytics.rollups", "backend.billing.lifecycle")]) == []
    assert upward_imports([("migrations.env", "ops.billing")])
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
