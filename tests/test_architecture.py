"""The packages import one way, along the flow, and no module imports itself around a circle.

text → lang (AST) → ir (frozen IR) → translators (Z3 terms, exports) → engines (verdicts with
plain Traces) → counterexamples (renderings) → app (orchestration, the CLI). Each room may import
the rooms below it and its own modules, never a room above or beside it; the plain data every
stage hands on (`verdict`: results and the Trace model) sits just above the IR, so engines and
renderers can share it without knowing each other. docs/ARCHITECTURE.md draws the same picture.

Imports are read from the source with `ast` (function-local and TYPE_CHECKING imports included:
a cycle hidden inside a function is still a cycle). The checks are tested on a reversed import and
on a made-up circle, so they cannot pass by seeing nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the top-level folders, linked from drvmc/ (see test_the_namespace_links_point_at_the_folders)
LINKED_DIRS = {"checker": "drvmc.checker", "translators": "drvmc.translators",
               "counterexamples": "drvmc.counterexamples"}
SOURCE_DIRS = {**LINKED_DIRS, "drvmc/lsp": "drvmc.lsp", "drvmc/extract": "drvmc.extract"}

# room -> rank; a module may import from rooms of lower rank and from its own room
ROOMS: dict[str, int] = {
    "drvmc.checker.errors": 0,  # the exception tree and spans, which every stage raises
    "drvmc.checker.nodeclass": 0,  # frozen dataclasses made on first use (the AST and IR nodes)
    "drvmc.checker.fileio": 1,  # writing output files safely
    "drvmc.checker.lang": 2,
    "drvmc.checker.ir": 3,
    "drvmc.checker.verdict": 4,
    "drvmc.translators": 5,
    "drvmc.checker.engines": 6,
    "drvmc.counterexamples": 6,
    "drvmc.lsp": 6,  # the language server: the front end and elaboration, for the editor
    "drvmc.extract": 6,  # C driver sources -> a .drv spec (tree-sitter), then lang checks it
    "drvmc.checker.app": 7,
    "drvmc.checker": 8,  # the package itself and `python -m drvmc.checker`
}


def module_sources() -> dict[str, str]:
    out: dict[str, str] = {}
    for folder, package in SOURCE_DIRS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out[".".join([package, *parts])] = path.read_text(encoding="utf-8")
    return out


def room_of(module: str) -> str:
    """The longest room name that is the module or a package holding it."""
    best = ""
    for room in ROOMS:
        if (module == room or module.startswith(room + ".")) and len(room) > len(best):
            best = room
    assert best, f"{module} is in no room: add it to ROOMS and docs/ARCHITECTURE.md"
    return best


def imports_of(module: str, source: str, known: set[str]) -> set[str]:
    """The project modules `module` imports, wherever in the file the import stands."""
    out: set[str] = set()
    package = module if module + ".__init__" in known else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*up, base]) if base else ".".join(up)
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        for n in names:
            # the module itself, or the nearest project module above it (`from pkg import name`)
            while n and n not in known:
                n = n.rsplit(".", 1)[0] if "." in n else ""
            if n and n != module:
                out.add(n)
    return out


def graph(sources: dict[str, str]) -> dict[str, set[str]]:
    known = set(sources)
    # packages count as modules too, so `from drvmc.checker.ir import nodes` resolves
    for m in list(known):
        parts = m.split(".")
        for i in range(2, len(parts)):
            known.add(".".join(parts[:i]))
    return {m: imports_of(m, src, known) for m, src in sources.items()}


def direction_violations(g: dict[str, set[str]]) -> list[str]:
    bad = []
    for m, deps in sorted(g.items()):
        rm = room_of(m)
        for d in sorted(deps):
            if d.count(".") < 2 and d not in ROOMS:
                continue  # the `drvmc` namespace itself
            rd = room_of(d)
            if rd != rm and ROOMS[rd] >= ROOMS[rm]:
                bad.append(f"{m} ({rm}) imports {d} ({rd}): against the flow")
    return bad


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in g:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_every_module_is_in_a_room() -> None:
    for m in module_sources():
        room_of(m)


def test_imports_follow_the_flow() -> None:
    assert direction_violations(graph(module_sources())) == []


def test_no_import_cycles() -> None:
    assert cycles(graph(module_sources())) == []


def test_a_reversed_import_is_caught() -> None:
    sources = module_sources()
    parser = "drvmc.checker.lang.parser"
    sources[parser] += "\n\ndef _late() -> None:\n    from drvmc.checker.engines import bmc\n"
    found = direction_violations(graph(sources))
    assert any(v.startswith(f"{parser} (drvmc.checker.lang) imports drvmc.checker.engines.bmc")
               for v in found), found
    # a renderer reaching into the app (what counterexamples/report.py once did)
    sources = module_sources()
    sources["drvmc.counterexamples.text"] += "\nfrom drvmc.checker.app.compare import matrix\n"
    assert any("drvmc.counterexamples.text" in v for v in direction_violations(graph(sources)))


def test_a_circle_is_caught() -> None:
    sources = module_sources()
    sources["drvmc.checker.engines.unroll"] += "\nfrom drvmc.checker.engines import bmc\n"
    circle = {"drvmc.checker.engines.bmc", "drvmc.checker.engines.switches",
              "drvmc.checker.engines.unroll"}
    assert any(circle <= set(c) for c in cycles(graph(sources)))
    assert cycles(graph(module_sources())) == []


def test_the_namespace_links_point_at_the_folders() -> None:
    # drvmc/ holds links so the checkout imports as installed (`import drvmc.checker`)
    for folder in LINKED_DIRS:
        link = ROOT / "drvmc" / folder
        assert link.is_symlink() and link.resolve() == (ROOT / folder).resolve()
