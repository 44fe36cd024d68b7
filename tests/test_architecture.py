"""The layers hold: who may import whom, no import circle, adapters never open the database."""

from __future__ import annotations

import pytest

from bench.import_census import PACKAGES as OURS
from bench.import_census import ROOT, imports_of

SDKS = ("telegram", "aiohttp", "bot")


def _modules() -> dict[str, set[str]]:
    """Every module of ours and the modules it imports (anywhere in it, even in functions)."""
    found: dict[str, set[str]] = {}
    for package in OURS:
        for path in (ROOT / package).rglob("*.py"):
            if ".venv" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = imports_of(path)
    return found


MODULES = _modules()


def _imports(prefix: str) -> dict[str, set[str]]:
    return {m: names for m, names in MODULES.items() if m == prefix or m.startswith(prefix + ".")}


def _top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("package", ["core", "storage"])
def test_the_lowest_layers_import_nothing_of_ours(package: str) -> None:
    bad = {
        m: sorted(n for n in names if _top(n) in OURS and _top(n) != package)
        for m, names in _imports(package).items()
    }
    assert {m: n for m, n in bad.items() if n} == {}


@pytest.mark.parametrize("package", ["handlers", "reminders"])
def test_handlers_and_reminders_import_no_chat_sdk(package: str) -> None:
    bad = {m: sorted(n for n in names if _top(n) in SDKS) for m, names in _imports(package).items()}
    assert {m: n for m, n in bad.items() if n} == {}


def test_channel_adapters_never_import_storage() -> None:
    bad = {
        m: sorted(n for n in names if _top(n) == "storage")
        for m, names in _imports("bot.channels").items()
    }
    assert {m: n for m, n in bad.items() if n} == {}


def test_bench_does_not_import_tests() -> None:
    assert {
        m for m, names in _imports("bench").items() if any(_top(n) == "tests" for n in names)
    } == set()


def test_no_module_is_part_of_an_import_circle() -> None:
    graph = {m: {n for n in names if n in MODULES and n != m} for m, names in MODULES.items()}
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 finished

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for nxt in sorted(graph[module]):
            if state.get(nxt) == 1:
                circles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []
