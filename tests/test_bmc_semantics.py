"""The semantics of the language as the BMC engine implements it, one behaviour per test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import z3

from drvmc.checker.engines import bmc as bmc_mod
from drvmc.checker.verdict.results import Status
from drvmc.translators.z3_encoding import SArr
from tests.helpers import check, labels

RACE = """
spec race "a resource used after its release"
enum Res { iomap }
property uaf "no use after release"
var live: bool[Res] = false
proc touch(r: Res) { assert live[r] as uaf, "used after release" }
actor probe {
  map: live[iomap] = true
  run: touch(iomap)
}
actor unbind {
  del: await live[iomap]
       live[iomap] = false
}
"""


def test_shortest_counterexample_and_its_schedule(tmp_path: Path) -> None:
    r = check(tmp_path, RACE)["uaf"]
    assert r.status is Status.VIOLATED
    assert r.depth == 3
    assert labels(r) == ["probe.map", "unbind.del", "probe.run"]
    assert r.trace is not None
    assert r.trace.violation.message == "used after release"
    assert r.trace.violation.loc is not None and r.trace.violation.loc.line == 6


def test_exhaustive_search_proves(tmp_path: Path) -> None:
    src = RACE.replace("del: await live[iomap]", "del: await !live[iomap]")
    res = check(tmp_path, src)
    # unbind now waits for the resource to be gone: it can only run before `map`.
    assert res["uaf"].status is Status.PROVEN
    assert "every run ends within" in res["uaf"].reason


def test_bound_reached_is_safe_not_proven(tmp_path: Path) -> None:
    src = """
    var n: 0..3 = 0
    actor spin {
      a: while true {
        b: n = 1 - n + 0
      }
    }
    """
    res = check(tmp_path, src, depth=5)
    assert res["overflow"].status is Status.SAFE
    assert res["overflow"].depth == 5


def test_deadlock_reported_with_the_waiting_actor(tmp_path: Path) -> None:
    src = """
    var go: bool = false
    actor a { s: await go }
    actor b { t: skip }
    """
    r = check(tmp_path, src)["deadlock"]
    assert r.status is Status.VIOLATED
    assert r.trace is not None and "a waits at s" in r.trace.violation.message


def test_allow_deadlock_removes_the_property(tmp_path: Path) -> None:
    src = """
    allow deadlock
    var go: bool = false
    actor a { s: await go }
    """
    assert "deadlock" not in check(tmp_path, src)


def test_assume_prunes_without_deadlock(tmp_path: Path) -> None:
    src = """
    var x: bool = false
    actor a { s: assume x }
    """
    assert check(tmp_path, src)["deadlock"].status is Status.PROVEN


def test_asserts_are_warnings_and_execution_continues(tmp_path: Path) -> None:
    src = """
    property p1 "first"
    property p2 "second"
    var x: 0..3 = 0
    actor a {
      s: assert false as p1, "one"
         x = 1
      t: assert x != 1 as p2, "two"
    }
    """
    res = check(tmp_path, src)
    assert res["p1"].status is Status.VIOLATED and res["p1"].depth == 1
    assert res["p2"].status is Status.VIOLATED and res["p2"].depth == 2


def test_fatal_checks_halt_the_run(tmp_path: Path) -> None:
    src = """
    enum D { d0 }
    property later "after the fault"
    var h: D? = null
    var arr: bool[D] = false
    actor a {
      s: arr[h] = true
      t: assert false as later
    }
    """
    res = check(tmp_path, src)
    assert res["null_deref"].status is Status.VIOLATED and res["null_deref"].depth == 1
    # the only run faults in its first step and stops: `t` never runs
    assert res["later"].status is Status.PROVEN
    assert res["deadlock"].status is Status.PROVEN


def test_range_overflow_is_checked(tmp_path: Path) -> None:
    src = """
    var c: 0..2 = 0
    actor a[i in 1..3] { s: c = c + 1 }
    """
    r = check(tmp_path, src)["overflow"]
    assert r.status is Status.VIOLATED and r.depth == 3


def test_list_operations(tmp_path: Path) -> None:
    src = """
    property ok "list semantics"
    var l: list<0..9, 4> = [1, 2, 3]
    actor a {
      s: l.remove_at(0)
         assert len(l) == 2 && l[0] == 2 && l[1] == 3 as ok, "remove_at shifts"
         l.append(2)
         assert index_of(l, 2) == 0 && last_index_of(l, 2) == 2 as ok, "search order"
         assert contains(l, 3) && !contains(l, 1) as ok, "contains"
         l.pop()
         assert len(l) == 2 && 2 in l as ok, "pop"
      t: l.clear()
         assert len(l) == 0 && index_of(l, 2) == -1 as ok, "clear"
    }
    """
    res = check(tmp_path, src)
    assert res["ok"].status is Status.PROVEN
    assert res["out_of_bounds"].status is Status.PROVEN
    assert res["capacity"].status is Status.PROVEN


def test_list_capacity_and_bounds(tmp_path: Path) -> None:
    src = """
    var l: list<bool, 2> = []
    var i: 0..3 = 0
    actor a { s: l.append(true)  t: l.append(true)  u: l.append(false) }
    actor b { v: choose i in 0..3
                 l[i] = false }
    """
    res = check(tmp_path, src)
    assert res["capacity"].status is Status.VIOLATED and res["capacity"].depth == 3
    assert res["out_of_bounds"].status is Status.VIOLATED and res["out_of_bounds"].depth == 1


def test_either_and_choose_explore_every_branch(tmp_path: Path) -> None:
    src = """
    var x: 0..5 = 0
    var y: bool = false
    actor a {
      s: either { x = 1 } or { x = 2 } or { x = 3 }
      t: choose k in {4, 5}
         x = x + 0
         if k == 5 && x == 3 { y = true }
    }
    reachable both: y
    invariant not_two: x != 2
    """
    res = check(tmp_path, src)
    assert res["both"].status is Status.REACHABLE and res["both"].depth == 2
    assert res["not_two"].status is Status.VIOLATED and res["not_two"].depth == 1


def test_final_checked_only_when_all_done(tmp_path: Path) -> None:
    src = """
    var held: bool = false
    actor a { get: held = true  put: held = false }
    actor b { poke: skip }
    final no_leak: !held
    """
    assert check(tmp_path, src)["no_leak"].status is Status.PROVEN
    leaky = src.replace("put: held = false", "put: skip")
    r = check(tmp_path, leaky)["no_leak"]
    assert r.status is Status.VIOLATED and r.depth == 3


def test_labelled_procedure_is_inlined_per_call_site(tmp_path: Path) -> None:
    src = """
    property ok "ok"
    var c: 0..4 = 0
    proc twice() {
      one: c = c + 1
      two: c = c + 1
    }
    actor a {
      s: twice()
      t: twice()
         assert c == 4 as ok
    }
    """
    res = check(tmp_path, src)
    assert res["ok"].status is Status.PROVEN
    src2 = src.replace("assert c == 4", "assert c == 3")
    r = check(tmp_path, src2)["ok"]
    assert r.status is Status.VIOLATED
    assert labels(r) == ["a.s", "a.twice.one", "a.twice.two", "a.t", "a.twice#2.one",
                         "a.twice#2.two"]


def test_atomic_procedure_return_value_and_early_return(tmp_path: Path) -> None:
    src = """
    property ok "ok"
    var out: 0..9 = 0
    proc pick(x: 0..5) -> 0..9 {
      if x > 2 { return 9 }
      return x + 1
    }
    actor a {
      s: out = pick(1)
         assert out == 2 as ok, "small"
         out = pick(4)
         assert out == 9 as ok, "large"
    }
    """
    assert check(tmp_path, src)["ok"].status is Status.PROVEN


def test_labels_inside_branches_split_steps(tmp_path: Path) -> None:
    src = """
    var x: 0..3 = 0
    var done_a: bool = false
    actor a {
      s: choose k in {0, 1}
         if k == 1 {
      deep:  x = 2
         }
      end: done_a = true
    }
    reachable deep_path: x == 2 && done_a
    reachable short_path: x == 0 && done_a
    """
    res = check(tmp_path, src)
    assert res["deep_path"].status is Status.REACHABLE and res["deep_path"].depth == 3
    assert res["short_path"].status is Status.REACHABLE and res["short_path"].depth == 2


def test_variant_overrides(tmp_path: Path) -> None:
    src = RACE + """
variant fixed "unbind waits for the user" {
  actor unbind { del: await false }
}
expect original uaf: VIOLATED
expect fixed deadlock: VIOLATED
"""
    assert check(tmp_path, src, "fixed")["uaf"].status is Status.PROVEN
    assert check(tmp_path, src, "fixed")["deadlock"].status is Status.VIOLATED


class _UnknownSolver:
    """A solver that can never decide: the engine must say UNKNOWN, never SAFE."""

    def __init__(self) -> None:
        self.inner = z3.SolverFor("QF_FD")

    def add(self, *a: object) -> None:
        self.inner.add(*a)

    def push(self) -> None:
        self.inner.push()

    def pop(self) -> None:
        self.inner.pop()

    def check(self, *assumptions: object) -> z3.CheckSatResult:
        return z3.unknown

    def reason_unknown(self) -> str:
        return "timeout"


def test_solver_unknown_is_never_safe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bmc_mod, "make_solver", lambda opts: _UnknownSolver())
    res = check(tmp_path, RACE)
    for r in res.values():
        assert r.status is Status.UNKNOWN
        assert "timeout" in r.reason


# ---- one question per depth for all open properties


JOINT = """
spec joint "three properties, two of them broken at the same depth by different runs"
property p1 "first"
property p2 "second"
property p3 "third"
var a: 0..2 = 0
var b: 0..2 = 0
actor left {
  x: a = 1
  y: assert a != 1 as p1, "left"
}
actor right {
  x: b = 1
  y: assert b != 1 as p2, "right"
}
actor never {
  z: assert a + b <= 2 as p3, "never"
}
"""


def test_joint_question_answers_each_property_as_alone(tmp_path: Path) -> None:
    """The joint question's model answers for every property bad in it, the others are asked
    again: each gets the verdict and the length the engine finds for it alone, and the explicit
    engine too."""
    from drvmc.checker.engines.explicit import ExplicitOptions, run_explicit
    from drvmc.translators.z3_encoding import Encoding
    from tests.helpers import model_of

    m = model_of(tmp_path, JOINT)
    enc, opts = Encoding(m), bmc_mod.BmcOptions(depth=10)
    joint = {r.prop: r for r in bmc_mod.run_bmc(m, enc, list(m.properties), opts)}
    explicit = {r.prop: r for r in run_explicit(m, list(m.properties), ExplicitOptions())}
    for p in m.properties:
        [alone] = bmc_mod.run_bmc(m, enc, [p], opts)
        assert (joint[p.name].status, joint[p.name].depth) == (alone.status, alone.depth) == \
            (explicit[p.name].status, explicit[p.name].depth), p.name
    assert (joint["p1"].status, joint["p1"].depth) == (Status.VIOLATED, 2)
    assert (joint["p2"].status, joint["p2"].depth) == (Status.VIOLATED, 2)
    assert joint["p3"].status is Status.PROVEN
    assert labels(joint["p1"])[-1] == "left.y" and labels(joint["p2"])[-1] == "right.y"


def test_one_solver_call_per_depth_when_nothing_is_bad(tmp_path: Path) -> None:
    """Several properties (three named, and the built-in ones the encoding can make bad), none
    of which breaks: one joint question per depth, not one question per property."""
    src = """
    spec quiet "nothing breaks"
    property q1 "one"
    property q2 "two"
    property q3 "three"
    var n: 0..3 = 0
    actor spin {
      a: while true {
        b: n = 1 - n + 0
           assert n <= 1 as q1, "one"
           assert n <= 2 as q2, "two"
           assert n <= 3 as q3, "three"
      }
    }
    """
    from drvmc.translators.z3_encoding import Encoding
    from tests.helpers import model_of

    m = model_of(tmp_path, src)
    calls: list[int] = []
    # unrolled by name: by value, this one-actor model is all constants (next test)
    results = bmc_mod.run_bmc(m, Encoding(m), list(m.properties),
                              bmc_mod.BmcOptions(depth=6, propagate=False),
                              progress=lambda _v, _k, _t, c: calls.append(c))
    asked = [p for p in m.properties if not z3.is_false(Encoding(m).bad(p))]
    assert len(asked) > 1
    assert all(r.status is Status.SAFE and r.depth == 6 for r in results)
    # depth 0 to 6: seven joint questions; the loop runs for ever, so a walk of the model finds
    # a run of 6 steps and no "does a longer run exist" question is asked either
    assert calls[-1] == 7
    # by value, every state of the only run is a constant: no bad state is left to ask about
    calls.clear()
    again = bmc_mod.run_bmc(m, Encoding(m), list(m.properties), bmc_mod.BmcOptions(depth=6),
                            progress=lambda _v, _k, _t, c: calls.append(c))
    assert [(r.prop, r.status, r.depth) for r in again] == \
        [(r.prop, r.status, r.depth) for r in results]
    assert calls[-1] == 0


def test_unrolling_by_value_keeps_what_varies_and_fixes_the_rest(tmp_path: Path) -> None:
    """From the initial state, a variable no step that can fire writes stays a constant, a step
    forced (the only one that can fire) is pinned, and a variable two steps may write gets a
    constant of its own; both unrollings find the same counterexample length."""
    from drvmc.checker.engines.unroll import BmcOptions, Unroller, make_solver
    from drvmc.translators.z3_encoding import Encoding
    from tests.helpers import model_of

    m = model_of(tmp_path, RACE)
    enc = Encoding(m)
    un = Unroller(enc, propagate=True)
    s = make_solver(BmcOptions())
    s.add(un.init())
    live = un.states[0]["live"]
    assert isinstance(live, SArr) and z3.is_false(live.items[0])
    step0 = un.step(0)
    # only probe.map can fire first (unbind awaits the mapping): taken, and its write is a value
    sel0 = z3.BitVec("sel@0", enc.sel.size())
    taken = [i for i, st in enumerate(enc.steps) if st.label == "map"]
    def step0_with(i: int) -> z3.ExprRef:
        return z3.simplify(z3.substitute(step0, (sel0, z3.BitVecVal(i, sel0.size()))))

    assert z3.is_true(step0_with(taken[0]))
    assert z3.is_false(step0_with(taken[0] + 1))
    live1 = un.states[1]["live"]
    assert isinstance(live1, SArr) and z3.is_true(live1.items[0])
    unbind = enc.actor_index["unbind"]
    assert z3.is_bv_value(un.states[1][enc.pc_name(unbind)])
    s.add(step0, un.step(1))
    # now probe.run and unbind.del can both fire: the mapping's next value is no constant
    live2 = un.states[2]["live"]
    assert isinstance(live2, SArr) and not z3.is_true(live2.items[0])
    assert not z3.is_false(live2.items[0]) and z3.is_const(live2.items[0])
    for propagate in (False, True):
        r = {x.prop: x for x in bmc_mod.run_bmc(m, enc, list(m.properties),
                                                BmcOptions(depth=6, propagate=propagate))}
        assert r["uaf"].status is Status.VIOLATED and r["uaf"].depth == 3
        assert labels(r["uaf"]) == ["probe.map", "unbind.del", "probe.run"]


def test_walked_runs_spare_questions_and_never_prove(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs the walk found need no "does a run this long exist" question; the solver alone ends
    the search: a walk claiming runs longer than any (two engines disagreeing) leaves the
    properties SAFE to the bound, never PROVEN, and without walks the answers are the same."""
    from drvmc.checker.engines.long_run import long_run
    from drvmc.translators.z3_encoding import Encoding
    from tests.helpers import model_of

    src = RACE.replace("del: await live[iomap]", "del: await !live[iomap]")
    m = model_of(tmp_path, src)
    # probe.map, probe.run, then nothing: unbind waits for ever; or unbind.del first, then both
    assert long_run(m, 30) == 3
    runs: dict[str, int] = {}

    def answers(walk: int | None) -> list[tuple[str, Status, int, str]]:
        if walk is not None:
            monkeypatch.setattr(bmc_mod, "long_run", lambda _m, _d: walk)
        calls: list[int] = []
        res = bmc_mod.run_bmc(m, Encoding(m), list(m.properties), bmc_mod.BmcOptions(depth=8),
                              progress=lambda _v, _k, _t, c: calls.append(c))
        runs[str(walk)] = calls[-1]
        return [(r.prop, r.status, r.depth, r.reason) for r in res]

    walked = answers(None)
    assert ("uaf", Status.PROVEN, 3, "bmc: every run ends within 3 steps") in walked
    assert answers(0) == walked
    assert runs["0"] == runs["None"] + 3  # three "yes, runs that long exist" spared
    too_long = answers(8)
    assert [(p, st, d) for p, st, d, _ in too_long] == [
        (p, Status.SAFE, 8) if st is Status.PROVEN else (p, st, d) for p, st, d, _ in walked]


class _EndsUnknownSolver(_UnknownSolver):
    """A real solver, except that "does a run of k steps exist" (asked without assumptions)
    answers unknown, as drm_msm's did past its memory limit."""

    def __init__(self, asked: list[int]) -> None:
        super().__init__()
        self.asked, self.unknown, self.scopes = asked, False, 0

    def push(self) -> None:
        super().push()
        self.scopes += 1

    def pop(self) -> None:
        super().pop()
        self.scopes -= 1

    def check(self, *assumptions: object) -> z3.CheckSatResult:
        # the bad states are asked under an assumption (bmc) or in a scope (kind)
        self.unknown = not assumptions and self.scopes == 0
        if self.unknown:
            self.asked.append(1)
            return z3.unknown
        return self.inner.check(*assumptions)

    def model(self) -> z3.ModelRef:
        return self.inner.model()

    def reason_unknown(self) -> str:
        return "memout" if self.unknown else self.inner.reason_unknown()


@pytest.mark.parametrize("engine", ["bmc", "kind"])
def test_an_unknown_end_of_runs_is_asked_once_and_never_proves(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str) -> None:
    """When the solver cannot say whether a run of k steps exists, the question is not asked at
    the deeper depths (it only grows: drm_msm spent 12 to 35 s on each, all unknown); the bad
    states still are, so the property ends SAFE to the bound, with the reason, never PROVEN."""
    from drvmc.checker.engines import kind as kind_mod
    from drvmc.translators.z3_encoding import Encoding
    from tests.helpers import model_of

    src = RACE.replace("del: await live[iomap]", "del: await !live[iomap]")
    m = model_of(tmp_path, src)
    mod = bmc_mod if engine == "bmc" else kind_mod
    asked: list[int] = []
    monkeypatch.setattr(mod, "make_solver", lambda _o: _EndsUnknownSolver(asked))
    monkeypatch.setattr(mod, "long_run", lambda _m, _d: 0)  # every depth would be asked
    enc = Encoding(m)
    if engine == "bmc":
        res = bmc_mod.run_bmc(m, enc, list(m.properties), bmc_mod.BmcOptions(depth=8))
    else:
        res = kind_mod.run_kind(m, enc, list(m.properties),
                                kind_mod.KindOptions(depth=8, step_case=False))
    by = {r.prop: r for r in res}
    # without the answer, the exhaustive search of the real solver (PROVEN at 3) is out of reach
    assert (by["uaf"].status, by["uaf"].depth) == (Status.SAFE, 8)
    assert by["uaf"].reason == "whether every run ends: solver: memout at depth 1"
    assert asked == [1]


def test_the_minimiser_is_dropped_when_the_solvers_hold_half_the_memory_limit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """z3 compares a solver's memory limit with all it holds in the process, so the minimiser's
    unrolling counts against the search's: past half the limit it is dropped after each
    counterexample (drm_msm: UNKNOWN at depth 11 with it kept, PROVEN without), and the next
    counterexample builds another (here with the same traces; in general a fresh solver may
    pick another of the shortest runs)."""
    from drvmc.checker.engines import switches
    from drvmc.translators.z3_encoding import Encoding
    from tests.helpers import model_of

    m = model_of(tmp_path, JOINT)
    built: list[int] = []

    class Counted(switches.Minimiser):
        def __init__(self, *a: Any) -> None:
            built.append(1)
            super().__init__(*a)

    monkeypatch.setattr(bmc_mod, "Minimiser", Counted)
    runs = {}
    for held in (1.0, 60_000.0):
        monkeypatch.setattr(bmc_mod, "solvers_mb", lambda held=held: held)
        built.clear()
        res = bmc_mod.run_bmc(m, Encoding(m), list(m.properties),
                              bmc_mod.BmcOptions(depth=10, memory_mb=100_000))
        runs[held] = (len(built), [(r.prop, r.status, r.depth, r.trace) for r in res])
    assert runs[1.0][0] == 1  # kept: one minimiser for p1 and p2
    assert runs[60_000.0][0] == 2  # dropped after p1's counterexample, built again for p2
    assert runs[1.0][1] == runs[60_000.0][1]
    monkeypatch.undo()
    # the real count: what z3 holds now (the encoding above, at least), in MB
    assert abs(bmc_mod.solvers_mb() - z3.Z3_get_estimated_alloc_size() / 2**20) < 1
    assert bmc_mod.solvers_mb() > 0


COUNT = """
spec count "a function whose loop of ifs lowers to a DAG with shared nodes"
var m: bool[0..9] = false
var total: 0..9 = 0
func taken(xs: bool[0..9]) -> 0..9 {
  var n: 0..LIMIT = 0
  for j in 0..9 {
    if xs[j] {
      n = n + 1
    }
  }
  return n
}
actor a {
  s: m[1] = true
  t: m[2] = true
  u: m[5] = true
  v: total = taken(m)
}
"""


@pytest.mark.parametrize(("limit", "status"), [(9, Status.PROVEN), (2, Status.VIOLATED)])
def test_shared_expression_nodes_are_evaluated_once_and_keep_their_checks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int, status: Status) -> None:
    """`n = n + 1` under an `if` in a ten-slot loop: each slot's n appears in both arms of the
    next, so a tree walk of the lowered expression visits the first ones about 2^10 times, and
    makes their range checks once per path. The encoder evaluates each node once, and makes the
    checks both arms of a join begin with once, under the join's own path: the same transition
    relation as the tree walk's in far fewer checks, and with n's range too small for three
    flags, the coercion fails, as the explicit engine says."""
    from drvmc.checker.engines.explicit import ExplicitOptions, run_explicit
    from drvmc.translators import z3_encoding
    from tests.helpers import model_of

    m = model_of(tmp_path, COUNT.replace("LIMIT", str(limit)))
    visits = 0
    node = z3_encoding._Exec._eval_node

    def counted(self: z3_encoding._Exec, e: object) -> object:
        nonlocal visits
        visits += 1
        return node(self, e)  # type: ignore[arg-type]

    monkeypatch.setattr(z3_encoding._Exec, "_eval_node", counted)
    enc = z3_encoding.Encoding(m)
    assert visits < 1000, visits
    # the tree walk, a check for every path to a node (no join's arms share theirs)
    visits = 0
    monkeypatch.setattr(z3_encoding._Exec, "_eval_shared", counted)
    monkeypatch.setattr(z3_encoding._Exec, "_merge_arms", lambda *_: None)
    tree = z3_encoding.Encoding(m)
    assert visits > 5000, visits
    checks, tree_checks = (sum(len(s.fails) for s in x.steps) for x in (enc, tree))
    if limit == 2:  # n's coercions can fail: each is a check
        assert tree_checks >= 2 ** 9 - 1 and checks <= 10, (tree_checks, checks)  # slots: 10
    same = z3.SolverFor("QF_FD")
    same.add(z3.Or(z3.Xor(enc.trans, tree.trans), z3.Xor(enc.init, tree.init),
                   *(z3.Xor(enc.bad(p), tree.bad(p)) for p in m.properties)))
    assert same.check() == z3.unsat
    bmc = {r.prop: r for r in bmc_mod.run_bmc(m, enc, list(m.properties),
                                              bmc_mod.BmcOptions(depth=10))}
    explicit = {r.prop: r for r in run_explicit(m, list(m.properties), ExplicitOptions())}
    assert bmc["overflow"].status is status
    assert explicit["overflow"].status is status
    if status is Status.VIOLATED:
        assert bmc["overflow"].depth == explicit["overflow"].depth == 4
