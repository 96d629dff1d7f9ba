"""The package's import graph has no cycle.

Every module under ``crlqas_kit/`` is parsed with :mod:`ast` (nothing is imported), relative
imports are resolved, and two graphs are checked:

* **module level** -- the imports that run when a module is imported (also inside ``try``/``if``
  and class bodies; not under ``if TYPE_CHECKING:``). No cycle at all, no exception.
* **with lazy imports** -- plus the imports inside functions. A cycle here is a layering mistake
  hidden behind a deferred import; only the edges in :data:`ALLOWED_LAZY` (each with its reason)
  are exempt.

An import of ``a.b.c`` also runs the package ``__init__`` of ``a`` and ``a.b``; that parent edge is
not counted (it would make every package a cycle with its own submodules). ``from pkg import x``
counts as an edge to ``pkg.x`` when ``x`` is a submodule, else to ``pkg``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

PACKAGE = "crlqas_kit"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE

#: Lazy (function-level) import edges allowed to close a cycle: ``(importer, imported): reason``.
ALLOWED_LAZY: dict[tuple[str, str], str] = {}


def module_files(root: Path = ROOT, package: str = PACKAGE) -> dict[str, tuple[Path, bool]]:
    """``dotted module name -> (file, is_package)`` for every ``.py`` file under ``root``."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: Iterable[str]) -> set[str]:
    """The package modules an import statement of ``module`` loads (relative imports resolved)."""
    known = set(known)
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        names = [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in known else prefix for a in node.names]
    return {n for n in names if n == PACKAGE or n.startswith(PACKAGE + ".")}


def import_graph(files: Mapping[str, tuple[Path, bool]] | None = None) -> tuple[dict, dict]:
    """``(module_level, lazy)``: ``module -> set of imported package modules`` for both kinds."""
    files = module_files() if files is None else files
    top: dict[str, set[str]] = {m: set() for m in files}
    lazy: dict[str, set[str]] = {m: set() for m in files}

    def visit(node: ast.AST, module: str, is_package: bool, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for sub in child.orelse:  # the ``else`` branch of TYPE_CHECKING runs
                    visit(ast.Module(body=[sub], type_ignores=[]), module, is_package, in_function)
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                (lazy if in_function else top)[module] |= _targets(child, module, is_package, files)
            nested = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(child, module, is_package, in_function or nested)

    for module, (path, is_package) in files.items():
        visit(ast.parse(path.read_text(), filename=str(path)), module, is_package, False)
        top[module].discard(module)
        lazy[module] -= top[module] | {module}
    return top, lazy


def find_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) per strongly connected component that has one (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def strong(v: str) -> None:  # recursion depth <= number of modules (~50)
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph.get(v, ()):
                components.append(comp)

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return [_cycle_in(sorted(comp), graph) for comp in components]


def _cycle_in(component: list[str], graph: Mapping[str, Iterable[str]]) -> list[str]:
    """A concrete cycle through the first module of a strongly connected component (BFS)."""
    members, start = set(component), component[0]
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph.get(v, ())):
                if w == start:  # walk back from v to start, then close the loop
                    path = [v]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [*reversed(path), start]
                if w in members and w not in parent:
                    parent[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"{component} is not strongly connected")  # pragma: no cover


def _describe(cycles: list[list[str]]) -> str:
    return "\n".join(" -> ".join(c) for c in cycles)


# ----------------------------------------------------------------------------- the checks
def test_cycle_finder_finds_cycles_and_only_cycles():
    # independent small graphs: a DAG, a 3-cycle with a tail, a self-import, two separate cycles
    assert find_cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []
    assert find_cycles({"t": {"a"}, "a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"a"}}) == [["a", "a"]]
    cycles = find_cycles({"a": {"b"}, "b": {"a"}, "x": {"y"}, "y": {"x", "a"}})
    assert sorted(cycles) == [["a", "b", "a"], ["x", "y", "x"]]


def test_import_resolution(tmp_path):
    pkg = tmp_path / PACKAGE
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .sub import thing\n")
    (pkg / "sub" / "__init__.py").write_text("from . import leaf\nfrom .. import top as t\n")
    (pkg / "sub" / "leaf.py").write_text(
        "import os\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .. import top\n"
        "else:\n    from ..top import X\ndef f():\n    from crlqas_kit.sub import leaf\n    import crlqas_kit.top\n"
    )
    (pkg / "top.py").write_text("class A:\n    from .sub.leaf import Y\n")
    top, lazy = import_graph(module_files(pkg, PACKAGE))
    assert top == {
        PACKAGE: {f"{PACKAGE}.sub"},
        f"{PACKAGE}.sub": {f"{PACKAGE}.sub.leaf", f"{PACKAGE}.top"},
        f"{PACKAGE}.sub.leaf": {f"{PACKAGE}.top"},  # the TYPE_CHECKING branch does not run
        f"{PACKAGE}.top": {f"{PACKAGE}.sub.leaf"},  # class bodies run at import
    }
    assert lazy[f"{PACKAGE}.sub.leaf"] == set()  # leaf itself; top already imported at module level
    assert find_cycles(top) == [[f"{PACKAGE}.sub.leaf", f"{PACKAGE}.top", f"{PACKAGE}.sub.leaf"]]


def test_graph_sees_the_package():
    top, lazy = import_graph()
    assert len(top) > 30 and f"{PACKAGE}.sim.noise_spec" in top
    # the layering of the noise modules: noise_spec above devices above noise
    assert {f"{PACKAGE}.sim.noise", f"{PACKAGE}.sim.devices"} <= top[f"{PACKAGE}.sim.noise_spec"]
    assert f"{PACKAGE}.sim.noise" in top[f"{PACKAGE}.sim.devices"]
    assert not {f"{PACKAGE}.sim.devices", f"{PACKAGE}.sim.noise_spec"} & top[f"{PACKAGE}.sim.noise"]
    assert f"{PACKAGE}.search" in lazy[f"{PACKAGE}.cli_search"]


def test_module_level_imports_have_no_cycle():
    top, _ = import_graph()
    cycles = find_cycles(top)
    assert not cycles, "import cycles at module level:\n" + _describe(cycles)


def test_lazy_imports_close_no_cycle():
    top, lazy = import_graph()
    graph = {m: top[m] | {t for t in lazy[m] if (m, t) not in ALLOWED_LAZY} for m in top}
    cycles = find_cycles(graph)
    assert not cycles, "import cycles through imports inside functions:\n" + _describe(cycles)


def test_allowed_lazy_edges_still_exist():
    # a stale exemption would hide a future cycle: drop it once the import is gone
    _, lazy = import_graph()
    for importer, imported in ALLOWED_LAZY:
        assert imported in lazy[importer], f"{importer} no longer imports {imported}: remove it from ALLOWED_LAZY"


def test_import_is_light_and_lazy_exports_work():
    """``import crlqas_kit`` loads no flax, optax, matplotlib, ipywidgets or Ray; the lazy exports
    (``ck.search`` & co.) import them on first use (``crlqas_kit.sweep`` imports Ray only to run a
    sweep), and ``ck.search`` / ``ck.sweep`` are callable in any order."""
    import json
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "import crlqas_kit as ck\n"
        "heavy = [m for m in ('flax', 'optax', 'matplotlib', 'ipywidgets', 'ray') if m in sys.modules]\n"
        "import crlqas_kit.search\n"  # the submodule first: ck.search is then the (callable) module
        "names = [ck.SearchConfig.__name__, ck.Results.__name__, ck.load_run.__name__, ck.InteractiveEnv.__name__]\n"
        "import crlqas_kit.sweep\n"  # the sweep module imports no Ray; ck.sweep stays callable
        "heavy += [m for m in ('ray',) if m in sys.modules]\n"
        "print(json.dumps([heavy, names, callable(ck.search) and callable(ck.sweep), ck.notebook_mode()]))\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "CI"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    heavy, names, is_callable, mode = json.loads(out.stdout.strip().splitlines()[-1])
    assert heavy == []
    assert names == ["SearchConfig", "Results", "load_run", "InteractiveEnv"]
    assert is_callable and mode == "full"
