"""Switch minimisation: of the shortest counterexamples, the one with the fewest actor switches."""

from __future__ import annotations

from pathlib import Path

import pytest

from drvmc.checker.engines.bmc import run_bmc
from drvmc.checker.engines.switches import model_members
from drvmc.checker.engines.unroll import BmcOptions
from drvmc.checker.ir.elaborate import elaborate
from drvmc.checker.lang.loader import load_program
from drvmc.checker.verdict.trace import Trace
from drvmc.translators.z3_encoding import Encoding
from tests.helpers import model_of

SPEC = Path(__file__).parent / "golden" / "render" / "switches.drv"


def _trace(min_switches: bool, seed: int = 0) -> Trace:
    m = elaborate(load_program(SPEC), "original")
    [r] = run_bmc(m, Encoding(m), [m.prop("not_both_done")],
                  BmcOptions(depth=10, seed=seed, min_switches=min_switches))
    assert r.trace is not None
    return r.trace


def _order(t: Trace) -> list[str]:
    return [f"{s.actor}.{s.label}" for s in t.steps]


def test_rendezvous_needs_two_switches_and_gets_exactly_two() -> None:
    raw = _trace(min_switches=False)
    best = _trace(min_switches=True)
    # the test means something only if the solver's own answer switches more often
    assert raw.context_switches() > 2, _order(raw)
    # a1 < b2 < a3 splits actor a around b's rendezvous: two switches at least, and no more
    assert best.context_switches() == 2, _order(best)
    assert best.length == raw.length == 6  # still a shortest counterexample
    assert _order(best).index("a.a1") < _order(best).index("b.b2") < _order(best).index("a.a3")
    assert best.violation.prop == "not_both_done"


def test_any_switches_on_the_command_line_keeps_the_solvers_own_trace() -> None:
    import json
    import subprocess
    import sys

    from drvmc.counterexamples.json_trace import trace_from_json

    def trace(*flag: str) -> Trace:
        p = subprocess.run([sys.executable, "-m", "drvmc.checker", "check", str(SPEC), "-e",
                            "bmc", "-p", "not_both_done", "-k", "10", "-f", "json", *flag],
                           capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr  # as the spec expects
        [res] = json.loads(p.stdout)["specs"][0]["results"]
        assert res["status"] == "VIOLATED"
        return trace_from_json(res["trace"])

    fewest, solvers = trace(), trace("--any-switches")
    assert _order(trace("--fewest-switches")) == _order(fewest)  # the default
    assert solvers.length == fewest.length == 6  # as short
    # as the in-process tests above find
    assert fewest.context_switches() == 2 < solvers.context_switches()


def test_other_seeds_reach_the_same_minimum() -> None:
    for seed in (1, 2, 3):
        assert _trace(True, seed).context_switches() == 2


def test_a_single_actor_run_wins_over_one_switch(tmp_path: Path) -> None:
    import z3

    from drvmc.checker.engines.switches import Minimiser, _sel, actors_in, count_switches
    from drvmc.checker.engines.unroll import Unroller, make_solver

    src = """
    var x: 0..2 = 0
    var y: 0..1 = 0
    invariant below_two: x + y < 2
    actor b { b1: y = 1 }
    actor a { a1: x = x + 1  a2: x = x + 1 }
    """
    m = model_of(tmp_path, src)
    enc, opts, bad = Encoding(m), BmcOptions(), m.prop("below_two")
    # a solver answer that starts with b's step: (b1, a1), one switch
    un = Unroller(enc)
    s = make_solver(opts)
    s.add(un.init(), un.step(0), un.step(1), un.at(enc.bad(bad), 2))
    s.add(_sel(enc, 0) == next(i for i, st in enumerate(enc.steps) if st.label == "b1"))
    assert s.check() == z3.sat
    raw = s.model()
    assert count_switches(actors_in(enc, raw, 2)) == 1
    best = Minimiser(enc, opts).minimise(enc.bad(bad), 2, raw)
    assert count_switches(actors_in(enc, best, 2)) == 0
    # and the engine: whatever the solver answers first, the trace is (a1, a2)
    [r] = run_bmc(m, enc, [bad], opts)
    assert r.trace is not None and r.trace.length == 2
    assert r.trace.context_switches() == 0, _order(r.trace)


def test_traces_know_the_models_members() -> None:
    m = elaborate(load_program(SPEC.with_name("component_toy.drv")), "original")
    assert model_members(m) == ("iomap", "grp", "hda", "gpu")
    [r] = run_bmc(m, Encoding(m), [m.prop("use_after_release")], BmcOptions())
    assert r.trace is not None and r.trace.members == model_members(m)


def test_queries_are_the_procedures_without_effects(tmp_path: Path) -> None:
    from drvmc.checker.engines.switches import model_queries

    src = """
    enum Dev { hda }
    var n: 0..3 = 0
    property p "p"
    proc owner(d: Dev) -> bool { var x: bool = true
      return x }
    proc check(d: Dev) { assert n < 3 as p }
    proc bump(d: Dev) { var o: bool
      o = owner(d)
      if o { n = n + 1 } }
    proc outer(d: Dev) { bump(d) }
    proc look(d: Dev) -> bool { var o: bool
      o = owner(d)
      return o }
    actor a { s: outer(hda)
              t: check(hda) }
    """
    m = model_of(tmp_path, src)
    assert model_queries(m) == ("owner", "look")


def test_the_explicit_engine_also_draws_the_fewest_switches() -> None:
    from drvmc.checker.engines.explicit import ExplicitOptions, run_explicit

    m = elaborate(load_program(SPEC), "original")
    [r] = run_explicit(m, [m.prop("not_both_done")], ExplicitOptions(depth=10))
    assert r.trace is not None and r.trace.length == 6
    assert r.trace.context_switches() == 2, _order(r.trace)
    # breadth-first order alone finds a shortest run with more switches: the minimisation is
    # what makes it two (first-found parents would interleave a and b step by step)
    assert _order(r.trace).index("a.a1") < _order(r.trace).index("b.b2") < \
        _order(r.trace).index("a.a3")


def test_explicit_and_bmc_agree_on_the_fewest_switches_of_every_seed_trace() -> None:
    from drvmc.checker.engines.explicit import ExplicitOptions, run_explicit

    for spec in ("mtk_iommu_v1_attach.drv", "iommu_async_probe.drv"):
        path = Path(__file__).parent.parent / "specs" / spec
        m = elaborate(load_program(path), "original")
        props = list(m.properties)
        exp = {r.prop: r for r in run_explicit(m, props, ExplicitOptions(depth=20))}
        bmc = {r.prop: r for r in run_bmc(m, Encoding(m), props, BmcOptions(depth=20))}
        for name, r in exp.items():
            if r.trace is None:
                assert bmc[name].trace is None, name
                continue
            t = bmc[name].trace
            assert t is not None and t.length == r.trace.length, name
            assert t.context_switches() == r.trace.context_switches(), (name, _order(t),
                                                                        _order(r.trace))


def test_a_shorter_counterexample_than_the_minimisers_unrolling_gets_its_own() -> None:
    # the run's minimiser keeps its unrolling; steps past k would demand that the run go on
    # (here no run has 9 steps), so a counterexample shorter than it is minimised afresh
    import z3

    from drvmc.checker.engines.switches import Minimiser
    from drvmc.checker.engines.unroll import Unroller, decode_trace, make_solver

    m = elaborate(load_program(SPEC), "original")
    enc = Encoding(m)
    prop = m.prop("not_both_done")
    opts = BmcOptions(depth=10)
    un = Unroller(enc, por=opts.por, propagate=opts.propagate)
    s = make_solver(opts)
    s.add(un.init())
    for j in range(6):
        s.add(un.step(j))
    s.add(un.at(enc.bad(prop), 6))
    assert s.check() == z3.sat
    raw = decode_trace(m, enc, un, s.model(), 6, prop)
    assert raw.context_switches() > 2, _order(raw)
    mini = Minimiser(enc, opts)
    mini._deepen(9)
    best = decode_trace(m, enc, un, mini.minimise(enc.bad(prop), 6, s.model()), 6, prop)
    assert best.context_switches() == 2, _order(best)
    assert best.length == 6 and best.violation.prop == "not_both_done"


def test_a_round_past_its_resource_budget_keeps_the_solvers_own_answer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the first round here costs about 26,000 of z3's resource units (unrolling included): a
    # budget of 10,000 ends it `unknown`, and the minimiser must then hand back the model it got
    from drvmc.checker.engines import switches

    raw = _trace(min_switches=False)
    monkeypatch.setattr(switches, "ROUND_RLIMIT", 10_000)
    capped = _trace(min_switches=True)
    assert raw.context_switches() > 2
    assert _order(capped) == _order(raw)
    assert capped.length == raw.length == 6 and capped.violation.prop == "not_both_done"
