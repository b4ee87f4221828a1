"""The explicit-state engine: its verdicts, traces and bounds, checked against BMC and the specs."""

from __future__ import annotations

from pathlib import Path

import pytest

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.engines.bmc import run_bmc
from drvmc.checker.engines.explicit import ExplicitOptions, run_explicit
from drvmc.checker.engines.unroll import BmcOptions
from drvmc.checker.ir import nodes as I
from drvmc.checker.ir.elaborate import elaborate, variant_names
from drvmc.checker.lang.loader import load_program
from drvmc.checker.verdict.results import Result, Status, expectation_for, matches
from drvmc.translators.z3_encoding import Encoding
from tests.helpers import model_of

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted([*(ROOT / "specs").glob("*.drv"), *(ROOT / "tests" / "engines").glob("*.drv")])

RACE = (ROOT / "tests" / "engines" / "race.drv").read_text(encoding="utf-8")

LOOP = """
var n: 0..3 = 0
var seen: bool = false
actor spin {
  a: while true {
    b: n = 1 - n + 0
       seen = true
  }
}
reachable flipped: n == 1
invariant small: n <= 1
"""


def _both(model: I.Model, depth: int) -> tuple[dict[str, Result], dict[str, Result]]:
    props = list(model.properties)
    bmc = run_bmc(model, Encoding(model), props, BmcOptions(depth=depth))
    exp = run_explicit(model, props, ExplicitOptions(depth=depth))
    return {r.prop: r for r in bmc}, {r.prop: r for r in exp}


def test_trace_equals_bmc_trace(tmp_path: Path) -> None:
    # the race has a unique shortest schedule: both engines must draw the same trace, whole
    bmc, exp = _both(model_of(tmp_path, RACE), 20)
    assert exp["use_after_release"].status is Status.VIOLATED
    assert exp["use_after_release"].trace == bmc["use_after_release"].trace
    assert exp["deadlock"].status is Status.PROVEN
    assert exp["deadlock"].engine == "explicit"


def test_exhaustive_search_proves_a_looping_spec_bmc_cannot(tmp_path: Path) -> None:
    bmc, exp = _both(model_of(tmp_path, LOOP), 6)
    assert bmc["small"].status is Status.SAFE  # runs never end: BMC stops at its bound
    assert exp["small"].status is Status.PROVEN
    assert exp["flipped"].status is Status.REACHABLE and exp["flipped"].depth == 2
    assert (bmc["flipped"].status, bmc["flipped"].depth) == (Status.REACHABLE, 2)
    # (pc, n, seen): (a, 0, F) (b, 0, F) (b, 1, T) (b, 0, T): the loop goes back to b directly
    assert exp["small"].reason == "explicit: all 4 states"
    assert exp["small"].states == 4


def test_bound_cut_short_is_safe_not_proven(tmp_path: Path) -> None:
    exp = {r.prop: r for r in run_explicit(model_of(tmp_path, LOOP),
                                           list(model_of(tmp_path, LOOP).properties),
                                           ExplicitOptions(depth=1))}
    assert exp["small"].status is Status.SAFE and exp["small"].depth == 1


def test_state_limit_is_unknown_never_safe(tmp_path: Path) -> None:
    m = model_of(tmp_path, LOOP)
    exp = {r.prop: r for r in run_explicit(m, list(m.properties),
                                           ExplicitOptions(depth=50, max_states=2))}
    assert exp["small"].status is Status.UNKNOWN
    assert "state limit" in exp["small"].reason


def test_fault_halts_and_earlier_assert_sticks(tmp_path: Path) -> None:
    src = """
    enum Obj { o1 }
    property order "in order"
    var h: Obj? = null
    var live: bool[Obj] = false
    var after: bool = false
    actor a {
      s: assert after as order, "too early"
         live[h] = true
         after = true
      t: after = true
    }
    reachable went_on: after
    """
    bmc, exp = _both(model_of(tmp_path, src), 10)
    for name in ("order", "null_deref", "went_on", "deadlock"):
        assert (exp[name].status, exp[name].depth) == (bmc[name].status, bmc[name].depth), name
    assert exp["order"].status is Status.VIOLATED and exp["order"].depth == 1
    assert exp["null_deref"].status is Status.VIOLATED and exp["null_deref"].depth == 1
    assert exp["went_on"].status is Status.UNREACHABLE  # the run halted in step s


def test_engine_is_selectable_in_the_driver(tmp_path: Path) -> None:
    p = tmp_path / "race.drv"
    p.write_text(RACE, encoding="utf-8")
    rep = check_spec(p, CheckOptions(engine="explicit"))
    assert {r.result.prop: (r.result.status, r.result.engine) for r in rep.rows} == {
        "use_after_release": (Status.VIOLATED, "explicit"),
        "deadlock": (Status.PROVEN, "explicit"),
    }
    assert all(r.ok for r in rep.rows)


def _cases() -> list[tuple[Path, str]]:
    return [(f, v) for f in SPECS for v in variant_names(load_program(f))]


@pytest.mark.parametrize(("spec", "variant"), _cases(),
                         ids=[f"{f.stem}-{v}" for f, v in _cases()])
def test_explicit_meets_the_expect_lines(spec: Path, variant: str) -> None:
    model = elaborate(load_program(spec), variant)
    results = run_explicit(model, list(model.properties), ExplicitOptions(depth=1000))
    wrong = [f"{r.prop}: {r.verdict_text()}" for r in results
             if r.status is Status.UNKNOWN or not matches(r, expectation_for(model, r.prop))]
    assert wrong == []


# the engine specs, a switch-minimisation one and two seeds with the library's calls, loops and
# list operations (the other seeds add about 15 s of interpretation and no statement kind)
INTERPRETED = [*sorted((ROOT / "tests" / "engines").glob("*.drv")),
               ROOT / "tests" / "golden" / "render" / "switches.drv",
               ROOT / "specs" / "component_master_devres.drv",
               ROOT / "specs" / "iommu_async_probe.drv"]


@pytest.mark.parametrize("spec", INTERPRETED, ids=lambda p: p.name)
def test_compiled_statements_behave_as_the_interpreter(spec: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The statements `Machine.block` compiles to closures against `_Exec.stmt`, the
    interpreter they must behave exactly as: every variant's results, state counts and traces."""
    from drvmc.checker.engines import explicit

    program = load_program(spec)
    models = [elaborate(program, v) for v in variant_names(program)]

    def results() -> list[object]:
        return [[(r.prop, r.status, r.states, r.depth, r.reason, r.trace)
                 for r in run_explicit(m, list(m.properties), ExplicitOptions(30))]
                for m in models]

    compiled = results()
    monkeypatch.setattr(explicit.Machine, "_stmt_fn",
                        lambda self, st: lambda ex: ex.stmt(st))
    assert results() == compiled
