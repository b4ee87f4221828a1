"""A hypothesis strategy of small, well-typed spec texts, for differential testing of engines.

Each generated spec has 2-3 actors over a few booleans, bounded counters (refcount-like, with
`get`/`put` asserts), a nullable handle indexing an array, a bounded list, and steps built from
assignments, `if`, `either`, `choose`, `await`, `assume`, asserts and sometimes a labelled `while`
loop. Every property kind appears (assert classes, invariant, final, reachable, deadlock) and the
built-in checks can fail (overflow on a counter, null dereference, list capacity and bounds), so
the engines are compared on every kind of verdict. The specs are small enough to be explored
exhaustively in well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from drvmc.checker.engines.bmc import run_bmc
from drvmc.checker.engines.explicit import ExplicitOptions, run_explicit
from drvmc.checker.engines.unroll import BmcOptions
from drvmc.checker.ir import nodes as I
from drvmc.checker.verdict.results import Result, Status
from drvmc.counterexamples.text import render_text
from drvmc.translators.z3_encoding import Encoding

BOOLS = ("b0", "b1", "b2")
COUNTERS = ("c0", "c1")  # 0..2
LIST = "q"  # list<0..2, 2>
HANDLE = "h"  # Obj? indexing `alive: bool[Obj]`
PROPS = ("refcount", "order")


@dataclass(frozen=True)
class GenSpec:
    text: str
    depth: int


def _bool_atom() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(BOOLS),
        st.sampled_from(BOOLS).map(lambda b: f"!{b}"),
        st.tuples(st.sampled_from(COUNTERS), st.sampled_from(("==", "!=", "<", ">=")),
                  st.integers(0, 2)).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.integers(0, 2).map(lambda k: f"contains({LIST}, {k})"),
        st.sampled_from((f"len({LIST}) == 0", f"len({LIST}) > 1", f"{HANDLE} == null",
                         f"{HANDLE} != null", f"index_of({LIST}, 1) == 0",
                         f"last_index_of({LIST}, 1) == 1")),
    )


def bool_expr() -> st.SearchStrategy[str]:
    return st.one_of(
        _bool_atom(),
        st.tuples(_bool_atom(), st.sampled_from(("&&", "||", "=>")), _bool_atom())
        .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
    )


def int_expr() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(0, 2).map(str),
        st.sampled_from(COUNTERS),
        st.just(f"len({LIST})"),
        st.just("ite(b0, 1, 0)"),
    )


def _simple_stmt() -> st.SearchStrategy[str]:
    c = st.sampled_from(COUNTERS)
    return st.one_of(
        st.tuples(st.sampled_from(BOOLS), bool_expr()).map(lambda t: f"{t[0]} = {t[1]}"),
        c.map(lambda x: f"{x} = {x} + 1"),  # may overflow 0..2: a fatal built-in check
        c.map(lambda x: f'assert {x} > 0 as refcount, "put of a zero count"\n{x} = {x} - 1'),
        c.map(lambda x: f"if {x} > 0 {{ {x} = {x} - 1 }}"),
        st.tuples(st.sampled_from(COUNTERS), int_expr()).map(
            lambda t: f"{t[0]} = min(2, {t[1]})"),
        bool_expr().map(lambda e: f'assert {e} as order, "out of order"'),
        bool_expr().map(lambda e: f"assume {e}"),
        int_expr().map(lambda e: f"{LIST}.append(min(2, {e}))"),  # capacity 2: may fail
        st.just(f"{LIST}.pop()"),  # pop on []: out_of_bounds
        st.just(f"if len({LIST}) > 0 {{ {LIST}.remove_at(0) }}"),
        st.just(f"{LIST}.clear()"),
        st.sampled_from(("o1", "o2", "null")).map(lambda o: f"{HANDLE} = {o}"),
        st.just(f"alive[{HANDLE}] = true"),  # null dereference when h is null
        st.just(f"if {HANDLE} != null {{ alive[{HANDLE}] = false }}"),
        c.map(lambda x: f"choose {x} in 0..2"),
        st.sampled_from(BOOLS).map(lambda b: f"choose {b} in {{true, false}}"),
    )


def _compound(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    block = st.lists(inner, min_size=1, max_size=2).map(lambda xs: "\n".join(xs))
    return st.one_of(
        st.tuples(bool_expr(), block, block).map(
            lambda t: f"if {t[0]} {{\n{t[1]}\n}} else {{\n{t[2]}\n}}"),
        st.tuples(block, block).map(lambda t: f"either {{\n{t[0]}\n}} or {{\n{t[1]}\n}}"),
    )


def stmt() -> st.SearchStrategy[str]:
    s = _simple_stmt()
    return st.one_of(s, s, s, _compound(s))


@st.composite
def step_body(draw: st.DrawFn, max_size: int = 3) -> list[str]:
    """An optional `await` first, then statements. The encoding rejects an await that depends on
    a choice made earlier in its step, so awaits only ever open a step."""
    body = draw(st.lists(stmt(), min_size=1, max_size=max_size))
    match draw(st.integers(0, 5)):
        case 0 | 1:
            body.insert(0, f"await {draw(bool_expr())}")
        case 2:
            # a range with a run-time bound: empty ranges block like an await (and, like one,
            # must not depend on an earlier choice of the step, so it opens the step)
            a, b = draw(st.sampled_from(COUNTERS)), draw(st.sampled_from(COUNTERS))
            body.insert(0, f"choose {a} in 1..{b}")
        case _:
            pass
    return body


@st.composite
def actor(draw: st.DrawFn, name: str) -> str:
    nsteps = draw(st.integers(1, 3))
    lines = [f"actor {name} {{"]
    for i in range(nsteps):
        body = draw(step_body())
        lines.append(f"  s{i}:")
        lines.extend("    " + ln for x in body for ln in x.split("\n"))
    if draw(st.integers(0, 4)) == 0:
        c = draw(st.sampled_from(COUNTERS))
        body = draw(step_body(2))
        lines.append(f"  w: while {c} < 2 {{")
        lines.append("    w1:")
        lines.extend("      " + ln for x in body for ln in x.split("\n"))
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines)


@st.composite
def spec_text(draw: st.DrawFn) -> GenSpec:
    nactors = draw(st.integers(2, 3))
    out = ['spec gen "generated"', "enum Obj { o1, o2 }",
           'property refcount "no put of a zero count"', 'property order "steps in order"']
    for b in BOOLS:
        init = draw(st.sampled_from(("false", "true", "any")))
        out.append(f"var {b}: bool = {init}")
    for c in COUNTERS:
        out.append(f"var {c}: 0..2 = {draw(st.integers(0, 2))}")
    out.append(f"var {LIST}: list<0..2, 2> = []")
    out.append(f"var {HANDLE}: Obj? = {draw(st.sampled_from(('null', 'o1')))}")
    out.append("var alive: bool[Obj] = false")
    for i in range(nactors):
        out.append(draw(actor(f"a{i}")))
    out.append(f"invariant inv: {draw(bool_expr())}")
    out.append(f"final fin: {draw(bool_expr())}")
    out.append(f"reachable goal: {draw(bool_expr())}")
    if draw(st.booleans()):
        out.append("allow deadlock")
    return GenSpec("\n".join(out) + "\n", 10)


__all__ = ["GenSpec", "agree", "bool_expr", "compare_engines", "describe", "int_expr", "spec_text",
           "step_body", "stmt"]


# ---------------------------------------------------------------------- comparing engines


def agree(a: Result, b: Result) -> bool:
    """Whether two engines' results on one property are compatible.

    Violations and witnesses must match in status and length (both engines find shortest ones);
    a proof must not meet a violation; a bounded SAFE is compatible with a PROVEN from an engine
    that explores the whole state space (the explicit engine proves looping specs BMC cannot).
    """
    found = (Status.VIOLATED, Status.REACHABLE)
    if a.status is Status.UNKNOWN or b.status is Status.UNKNOWN:
        return False
    if a.status in found or b.status in found:
        return a.status is b.status and a.depth == b.depth
    proven = (Status.PROVEN, Status.UNREACHABLE)
    if a.status in proven and b.status in proven:
        return a.status is b.status
    # one of them bounded, and neither found anything
    return True


def describe(r: Result) -> str:
    lines = [f"  {r.engine}: {r.verdict_text()}"]
    if r.trace is not None:
        lines.extend("    " + ln for ln in render_text(r.trace).splitlines())
    return "\n".join(lines)


def compare_engines(model: I.Model, depth: int) -> list[str]:
    """Run BMC and the explicit engine on every property; one message per disagreement."""
    props = list(model.properties)
    bmc = run_bmc(model, Encoding(model), props, BmcOptions(depth=depth))
    exp = run_explicit(model, props, ExplicitOptions(depth=depth))
    out = []
    for a, b in zip(bmc, exp, strict=True):
        if not agree(a, b):
            out.append(f"property {a.prop}:\n{describe(a)}\n{describe(b)}")
    return out
