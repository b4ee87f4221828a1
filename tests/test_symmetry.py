"""Symmetry reduction in the explicit engine (checker/engines/symmetry.py).

The reduced search must give the full search's answers: the same verdict per property, the same
counterexample length and the same number of context switches; and every trace it prints must be
a real run of the unreduced model (the engine searches representatives and replays the concrete
run behind them). Detection must leave out every enum the spec tells apart.
"""

from __future__ import annotations

import itertools
import json
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bench.families import component, dsi, iommu_workers
from drvmc.checker.app.cli import app
from drvmc.checker.engines.explicit import ExplicitOptions, Machine, State, run_explicit
from drvmc.checker.engines.symmetry import find_symmetry
from drvmc.checker.ir import nodes as I
from drvmc.checker.ir.elaborate import elaborate
from drvmc.checker.lang.loader import load_program
from drvmc.checker.verdict.results import Result, Status
from drvmc.checker.verdict.trace import Trace
from tests.gen_specs import compare_engines


def _model(tmp_path: Path, text: str, name: str = "s.drv") -> I.Model:
    p = tmp_path / name
    p.write_text(text)
    return elaborate(load_program(p), "original")


def _sym_names(model: I.Model) -> list[str]:
    m = Machine(model)
    sym = find_symmetry(model, m.var_index, m.pc0, tuple(m.viol_slot.values()))
    return [] if sym is None else [g.enum for g in sym.groups]


def _switches(t: Trace) -> int:
    actors = [s.actor for s in t.steps]
    return sum(1 for a, b in itertools.pairwise(actors) if a != b)


def _summary(rs: list[Result]) -> list[tuple[str, str, int | None, int | None]]:
    return [(r.prop, r.status.value, None if r.trace is None else len(r.trace.steps),
             None if r.trace is None else _switches(r.trace)) for r in rs]


def _replays(model: I.Model, t: Trace, prop: I.Property) -> bool:
    """Whether the trace is a run of the unreduced model that ends in a bad state for prop."""
    m = Machine(model)
    names = [a.name for a in model.actors]
    cur: list[State] = [s for s in m.initial_states() if m.user_state(s) == t.initial]
    for step in t.steps:
        ai = names.index(step.actor)
        nxt: list[State] = []
        for s in cur:
            pc = s[m.pc0 + ai]
            assert isinstance(pc, int)
            if pc >= len(m.labels[ai]) or m.labels[ai][pc] != step.label:
                continue
            si = m.by_pc[ai][pc]
            nxt.extend(oc.state for oc in m.run_step(s, si)
                       if oc is not None and oc.state is not None
                       and m.user_state(oc.state) == step.state)
        cur = nxt
    return any(m.is_bad(prop, s, m.successors(s)[0]) for s in cur)


# ---- detection ----


def test_families_found_symmetric_or_not() -> None:
    assert _sym_names(_load_text(component(3, False))) == ["Comp"]
    assert _sym_names(_load_text(iommu_workers(3, True))) == ["W"]
    # the host's `for p in P` loops tell members apart by their order: no reduction
    assert _sym_names(_load_text(dsi(3, True))) == []


def _load_text(text: str) -> I.Model:
    with tempfile.TemporaryDirectory() as d:
        return _model(Path(d), text)


BASE = """spec s "symmetry"
enum W {{ w1, w2, w3 }}
property p "p"
var flag: bool[W] = false
var n: 0..3 = 0
var h: W? = null
{extra}
actor w[x in W] {{
  a: {body}
     flag[x] = true
  b: n = min(3, n + 1)
     assert n < 3 as p, "too many"
}}
"""


@pytest.mark.parametrize(("body", "extra", "symmetric"), [
    ("skip", "", True),
    ("h = x", "", True),  # a member stored as a value: reduced, without merging classes
    ("assert h != x as p", "", True),
    ("await forall y in W: !flag[y] || y == x", "", True),
    ("choose h in W", "", True),
    ("if h == null { h = x }", "", True),
    ("flag[w1] = false", "", False),  # names a member
    ("if x == w2 { n = 0 }", "", False),
    ("for y in W { flag[y] = false }", "", False),  # iteration order
    ("choose h in {w1, w2}", "", False),  # a subset
    ("skip", "actor o { s: flag[w3] = true }", False),
    ("skip", "invariant i: !flag[w1]", False),
    ("skip", "var first: W = w1", False),
    ("skip", "invariant i: forall y in W: !flag[y] || n > 0", True),
])
def test_detection(tmp_path: Path, body: str, extra: str, symmetric: bool) -> None:
    model = _model(tmp_path, BASE.format(body=body, extra=extra))
    assert _sym_names(model) == (["W"] if symmetric else [])


def test_integer_indexed_families_are_not_reduced(tmp_path: Path) -> None:
    model = _model(tmp_path, 'spec s "s"\nvar n: 0..3 = 0\n'
                             "actor a[i in 1..3] { s: n = min(3, n + 1) }\n")
    assert _sym_names(model) == []


def test_instances_that_differ_are_not_reduced(tmp_path: Path) -> None:
    # an own variable that starts at the instance's own member keeps the symmetry (each instance
    # names only itself); one that starts at a fixed member tells the instances apart
    text = BASE.format(body="skip", extra="").replace(
        "actor w[x in W] {\n", "actor w[x in W] {\n  var me: W = x\n")
    assert _sym_names(_model(tmp_path, text)) == ["W"]
    text = BASE.format(body="skip", extra="").replace(
        "actor w[x in W] {\n", "actor w[x in W] {\n  var me: W = w1\n")
    assert _sym_names(_model(tmp_path, text, "t.drv")) == []


# ---- reduced search = full search ----


FAMILIES = [(f, n, fix) for f in (component, iommu_workers) for n in (2, 3, 4)
            for fix in (False, True)]


@pytest.mark.parametrize(("family", "n", "fix"), FAMILIES,
                         ids=[f"{f.__name__}-{n}-{'fix' if x else 'bug'}" for f, n, x in FAMILIES])
def test_reduced_search_gives_the_full_answers(family: object, n: int, fix: bool) -> None:
    assert callable(family)
    model = _load_text(family(n, fix))
    props = list(model.properties)
    full = run_explicit(model, props, ExplicitOptions(depth=200, symmetry=False))
    red = run_explicit(model, props, ExplicitOptions(depth=200, symmetry=True))
    assert _summary(red) == _summary(full)
    assert red[0].states is not None and full[0].states is not None
    assert red[0].states < full[0].states
    assert all(r.status in (Status.PROVEN, Status.VIOLATED) for r in red)
    for r in red:
        if r.trace is not None:
            assert _replays(model, r.trace, model.prop(r.prop))


def test_component_bug_trace_is_a_concrete_run() -> None:
    model = _load_text(component(4, False))
    (r,) = run_explicit(model, [model.prop("use_after_release")], ExplicitOptions(depth=200))
    assert r.status is Status.VIOLATED and r.trace is not None
    assert "up to symmetry of Comp" in r.reason
    assert _replays(model, r.trace, model.prop("use_after_release"))
    # the instances in the trace are concrete ones, several of them
    assert len({s.actor for s in r.trace.steps if s.actor.startswith("comp[")}) == 4


# ---- generated symmetric specs ----


def _fam_stmt(handle: bool) -> st.SearchStrategy[str]:
    pool = [s for s in _FAM_STMTS if handle or not re.search(r"\bh\b", s)]
    # a few statements tell members apart: the enum is left out, the answers are the same
    return st.sampled_from(pool * 2 + _BREAKING)


_FAM_STMTS = [
        "flag[x] = !flag[x]",
        "cnt[x] = min(2, cnt[x] + 1)",
        "if cnt[x] > 0 { cnt[x] = cnt[x] - 1 }",
        "g = g + 1",  # may overflow: a fatal built-in check
        'assert g < 2 as p, "g too big"',
        'assert cnt[x] < 2 || flag[x] as q, "count without flag"',
        "b = exists y in W: flag[y] && y != x",
        "assume !b || flag[x]",
        "h = x",
        "if h != null { flag[h] = false }",
        'assert h != x as q, "own handle"',
        "choose h in W",
        "either { g = 0 } or { flag[x] = true }",
        "mine = !mine",
        "if mine { cnt[x] = 0 }",
]
_BREAKING = ["flag[w1] = true", "for y in W { cnt[y] = 0 }"]


def _guard() -> st.SearchStrategy[str]:
    return st.sampled_from(["", "", "await !b\n", "await flag[x] || g > 0\n",
                            "await forall y in W: !flag[y] || y == x\n", "await !mine\n"])


@st.composite
def _sym_spec(draw: st.DrawFn) -> str:
    members = ", ".join(f"w{i}" for i in range(1, draw(st.integers(2, 3)) + 1))
    # with the handle `h`, a variable holds members as values and no two instances are taken as
    # interchangeable; without it, members holding the same are expanded once
    handle = draw(st.booleans())
    steps = []
    for i in range(draw(st.integers(1, 3))):
        body = draw(st.lists(_fam_stmt(handle), min_size=1, max_size=3))
        steps.append(f"  s{i}: " + draw(_guard()) + "\n".join(body))
    other = draw(st.lists(st.sampled_from([
        "b = !b", "g = 0", "await forall y in W: flag[y]", 'assert !b as p, "b set"',
        *(["h = null"] if handle else []), "choose g in 0..1"]), min_size=1, max_size=2))
    final = ["forall y in W: !flag[y]", *(["h == null"] if handle else [])]
    return "\n".join([
        'spec gen "generated symmetric"',
        f"enum W {{ {members} }}",
        'property p "p"', 'property q "q"',
        f"var flag: bool[W] = {draw(st.sampled_from(['false', 'true', 'any']))}",
        "var cnt: 0..2[W] = 0",
        "var g: 0..2 = 0",
        f"var b: bool = {draw(st.sampled_from(['false', 'any']))}",
        *(["var h: W? = null"] if handle else []),
        "actor w[x in W] {",
        "  var mine: bool = false",
        *steps,
        "}",
        "actor m { o1: " + "\n".join(other) + " }",
        f"invariant inv: {draw(st.sampled_from(['g < 2 || b', 'forall y in W: cnt[y] < 2']))}",
        f"final fin: {draw(st.sampled_from(final))}",
        "reachable goal: exists y in W: cnt[y] == 2",
        *(["allow deadlock"] if draw(st.booleans()) else []),
    ]) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          database=None, derandomize=True)
@given(text=_sym_spec())
def test_generated_symmetric_specs_agree_with_the_full_search(text: str) -> None:
    model = _load_text(text)
    props = list(model.properties)
    full = run_explicit(model, props, ExplicitOptions(depth=30, symmetry=False))
    red = run_explicit(model, props, ExplicitOptions(depth=30, symmetry=True))
    assert _summary(red) == _summary(full), text
    for r in red:
        if r.trace is not None:
            assert _replays(model, r.trace, model.prop(r.prop)), text


# ---- the CLI ----


def test_cli_reports_and_switches_off_symmetry(tmp_path: Path) -> None:
    spec = tmp_path / "c.drv"
    spec.write_text(component(3, True))
    args = ["check", str(spec), "-e", "explicit", "-k", "100", "-f", "json"]
    on = CliRunner().invoke(app, args)
    off = CliRunner().invoke(app, [*args, "--no-symmetry"])
    assert on.exit_code == off.exit_code == 0
    r_on = json.loads(on.stdout)["specs"][0]["results"][0]
    r_off = json.loads(off.stdout)["specs"][0]["results"][0]
    assert r_on["status"] == r_off["status"] == "PROVEN"
    assert r_on["reason"] == "explicit: all 111 states up to symmetry of Comp"
    assert r_off["reason"] == "explicit: all 269 states"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          database=None, derandomize=True)
@given(text=_sym_spec())
def test_generated_symmetric_specs_agree_with_bmc(text: str) -> None:
    # the reduced search against the other engine family directly (depth 12 covers every run of
    # these specs' at most 3 steps per instance, 3 instances and one other actor)
    model = _load_text(text)
    assert compare_engines(model, 12) == [], text
