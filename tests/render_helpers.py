"""Traces for the renderer tests: real ones from the checker, and hypothesis-generated ones."""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

from drvmc.checker.engines.bmc import run_bmc
from drvmc.checker.engines.unroll import BmcOptions
from drvmc.checker.ir.elaborate import elaborate
from drvmc.checker.lang.loader import load_program
from drvmc.checker.verdict.slicing import slice_trace
from drvmc.checker.verdict.trace import (
    CallRecord,
    Loc,
    Trace,
    TraceStep,
    Value,
    Violation,
    diff_states,
    with_sources,
)
from drvmc.translators.z3_encoding import Encoding

RENDER = Path(__file__).parent / "golden" / "render"


def real_traces(name: str, variant: str = "original") -> dict[str, Trace]:
    """Every counterexample and witness of tests/golden/render/NAME.drv, by property."""
    program = load_program(RENDER / name)
    m = elaborate(program, variant)
    results = run_bmc(m, Encoding(m), list(m.properties), BmcOptions(depth=20))
    return {r.prop: with_sources(slice_trace(m, r.trace), program.sources)
            for r in results if r.trace}


IDENT = st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True)
SCALARS: st.SearchStrategy[Value] = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), IDENT)
VALUES: st.SearchStrategy[Value] = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(IDENT, inner, min_size=1, max_size=4)),
    max_leaves=12)
STATES = st.dictionaries(IDENT, VALUES, max_size=4)
LOCS = st.builds(Loc, st.text(min_size=1, max_size=12), st.integers(0, 9999),
                 st.integers(0, 200))
CALLS = st.builds(CallRecord, st.integers(0, 5), IDENT,
                  st.lists(st.one_of(IDENT, st.just("NULL")), max_size=3).map(tuple))


@st.composite
def traces(draw: st.DrawFn) -> Trace:
    initial = draw(STATES)
    steps = []
    prev = initial
    for i in range(draw(st.integers(0, 5))):
        state = draw(STATES)
        # changes are usually the state diff, but other code may build them freely
        changes = draw(st.one_of(st.just(diff_states(prev, state)), st.just(())))
        steps.append(TraceStep(i + 1, draw(IDENT), draw(IDENT), draw(LOCS),
                               tuple(draw(st.lists(CALLS, max_size=3))), state, changes,
                               draw(st.text(max_size=20))))
        prev = state
    v = Violation(draw(IDENT), draw(st.sampled_from(["assert", "invariant", "reachable"])),
                  draw(st.text(max_size=30)), draw(st.none() | LOCS), draw(st.text(max_size=10)))
    return Trace(draw(IDENT), draw(IDENT), v.prop, v.kind, initial, tuple(steps), v,
                 tuple(draw(st.lists(IDENT, max_size=4))), tuple(draw(st.lists(IDENT, max_size=3))))
