"""The house's rules, checked like any behaviour: lint and format, strict types over product
and tests, the import walls between rooms, no import cycle, modules of a readable size, a
contract that reads no clock, and the front-end's types. docs/architecture.md explains them.

Each runs the real tool on the working tree, so a failure prints what the tool printed.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp

from tests.support.tools import FRONTEND, require_node

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("console", "bots", "integrations")
MAX_MODULE_LINES = 450
# Reading the time inside the agreement's arithmetic would make it untestable by date
CLOCK_READS = frozenset({"now", "utcnow", "today", "time", "monotonic", "perf_counter"})


def tool(name: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run a command-line tool of this virtualenv (beside the running Python)."""
    found = Path(sys.executable).parent / name
    return subprocess.run(
        [str(found), *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


def said(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"


def product_modules() -> list[Path]:
    return sorted(
        path
        for package in PRODUCT
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def test_ruff_finds_nothing_to_fix() -> None:
    result = tool("ruff", "check", ".")
    assert 0 == result.returncode, said(result)


def test_the_code_is_formatted_as_ruff_formats_it() -> None:
    result = tool("ruff", "format", "--check", ".")
    assert 0 == result.returncode, said(result)


def test_mypy_strict_passes_over_product_and_tests() -> None:
    result = tool("mypy")  # the packages and strictness are pyproject.toml's
    assert 0 == result.returncode, said(result)


def test_the_import_walls_hold() -> None:
    result = tool("lint-imports")  # the contracts are pyproject.toml's [tool.importlinter]
    assert 0 == result.returncode, said(result)
    assert "0 broken" in result.stdout, said(result)


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every group of modules that import one another in a circle (Tarjan's algorithm),
    counting imports made only for type checking."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return cycles


def test_no_module_imports_itself_through_others() -> None:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))
    graph = grimp.build_graph(*PRODUCT, exclude_type_checking_imports=False)
    assert [] == import_cycles(graph)


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check above could not fail if the finder missed cycles: a graph with one."""
    graph = grimp.ImportGraph()
    for importer, imported in (("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")):
        graph.add_import(importer=importer, imported=imported)
    assert [["a", "b", "c"]] == import_cycles(graph)


def test_no_product_module_is_longer_than_a_reader_holds() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in product_modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert {} == long


def clock_reads(source: str) -> list[str]:
    """Calls such as datetime.now(), date.today() or time.monotonic() in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in CLOCK_READS
        ):
            found.append(f"line {node.lineno}: {ast.unparse(node.func)}()")
    return found


def test_the_contract_reads_no_clock() -> None:
    reads = {
        path.name: calls
        for path in sorted((ROOT / "console" / "contract").glob("*.py"))
        if (calls := clock_reads(path.read_text(encoding="utf-8")))
    }
    assert {} == reads
    assert ["line 1: datetime.now()"] == clock_reads("datetime.now(UTC)")


def test_the_front_end_type_checks() -> None:
    require_node(FRONTEND, "typescript", "tsc")
    result = subprocess.run(
        [str(FRONTEND / "node_modules" / ".bin" / "tsc"), "--noEmit", "-p", "."],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert 0 == result.returncode, said(result)
