"""Patch variants side by side: a verdict matrix, and what each fix does to the original's bug.

For every fix (a variant other than the original) against the original:
- each counterexample of the original is *replayed* under the fix: BMC on the fix's encoding,
  constrained so that transition j fires a step of the same actor as the original's step j
  (labels may differ: a fix may rename or split steps). The longest feasible prefix says where
  the two runs part, and when the whole schedule is feasible, whether the fix's run still
  reaches the violation;
- what the fix takes away beyond the bug: `reachable` targets the original reaches and the fix
  does not, and deadlocks the fix introduces (a fix that blocks everything must not look safe);
- new violations: properties safe in the original and violated in the fix.

A solver `unknown` during a replay is reported as such, never as "blocked".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import z3

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.engines.unroll import BmcOptions, Progress, Unroller, decode_state, make_solver
from drvmc.checker.ir import nodes as I
from drvmc.checker.ir.elaborate import BASE_VARIANT
from drvmc.checker.verdict.records import (
    Change,
    Comparison,
    Difference,
    FixComparison,
    PropChange,
    Replay,
    ReplayStatus,
    SpecReport,
)
from drvmc.checker.verdict.results import Result, Status
from drvmc.checker.verdict.trace import Change as TraceChange
from drvmc.checker.verdict.trace import Trace
from drvmc.counterexamples.notes import leaves, members_of
from drvmc.translators.z3_encoding import Encoding

MAX_SHOWN_DIFFERENCES = 4


@dataclass(frozen=True)
class CompareOptions:
    check: CheckOptions = field(default_factory=CheckOptions)
    original: str = BASE_VARIANT


# ---------------------------------------------------------------------- running


def compare_spec(path: Path, opts: CompareOptions,
                 progress: Progress | None = None) -> Comparison:
    chk = opts.check
    if chk.variants and opts.original not in chk.variants:
        chk = replace(chk, variants=(opts.original, *chk.variants))
    elif not chk.variants:
        chk = replace(chk, all_variants=True)
    report = check_spec(path, chk, progress)
    start = time.monotonic()
    props: list[str] = []
    for r in report.rows:
        if r.result.prop not in props:
            props.append(r.result.prop)
    fixes = []
    for v in report.variants:
        if v == opts.original:
            continue
        model = report.models[v]
        enc: Encoding | None = None
        replays = []
        for r in report.rows:
            if r.variant != opts.original or r.result.status is not Status.VIOLATED:
                continue
            trace = r.result.trace
            if trace is None:
                continue
            if enc is None:
                enc = Encoding(model)
            replays.append(replay(trace, model, enc, BmcOptions(chk.depth, chk.timeout_s)))
        changes = tuple(_lost_elsewhere(report, opts.original, v, _change(
            p, report.result(opts.original, p), report.result(v, p))) for p in props)
        fixes.append(FixComparison(v, model.variant_description, tuple(replays), changes))
    return Comparison(report, opts.original, tuple(props), tuple(fixes),
                      report.seconds + time.monotonic() - start)


_NOT_REACHED = (Status.NOT_REACHED, Status.UNREACHABLE)


def _change(prop: str, o: Result | None, f: Result | None) -> PropChange:
    def mk(c: Change) -> PropChange:
        return PropChange(prop, c, o, f)

    if o is None or f is None:
        # the property exists on one side only: a violation there is new, anything else is moot
        if f is not None and f.status is Status.VIOLATED:
            return mk(Change.NEW_DEADLOCK if f.kind is I.PropKind.DEADLOCK
                      else Change.NEW_VIOLATION)
        return mk(Change.SAME)
    if Status.UNKNOWN in (o.status, f.status):
        return mk(Change.UNDECIDED)
    if o.status is Status.VIOLATED:
        return mk(Change.STILL_VIOLATED if f.status is Status.VIOLATED else Change.FIXED)
    if f.status is Status.VIOLATED:
        return mk(Change.NEW_DEADLOCK if f.kind is I.PropKind.DEADLOCK else Change.NEW_VIOLATION)
    if o.status is Status.REACHABLE and f.status in _NOT_REACHED:
        return mk(Change.LOST_TARGET)
    return mk(Change.SAME)


def _lost_elsewhere(report: SpecReport, original: str, variant: str,
                    c: PropChange) -> PropChange:
    """A target the original does not reach either (it crashes first, say) is still lost when
    another fix reaches it: the guard that dodges a NULL dereference by skipping the work."""
    if c.change is Change.LOST_TARGET:
        return replace(c, reached_by=original)
    if (c.change is not Change.SAME or c.fix is None or c.fix.kind is not I.PropKind.REACHABLE
            or c.fix.status not in _NOT_REACHED):
        return c
    for v in report.variants:
        other = report.result(v, c.prop)
        if v not in (original, variant) and other and other.status is Status.REACHABLE:
            return replace(c, change=Change.LOST_TARGET, reached_by=v)
    return c


def replay(trace: Trace, fix: I.Model, enc: Encoding, opts: BmcOptions) -> Replay:
    """Follow `trace`'s actor schedule under `fix` as far as it goes (see the module doc)."""
    schedule = [s.actor for s in trace.steps]
    n = len(schedule)
    prop = _prop(fix, trace.prop)
    solver = make_solver(opts)
    un = Unroller(enc)
    solver.add(un.init())
    actor_steps: dict[str, list[int]] = {}
    for i, s in enumerate(enc.steps):
        actor_steps.setdefault(fix.actors[s.actor].name, []).append(i)
    r = solver.check()
    if r != z3.sat:
        why = ("the fix has no initial state" if r == z3.unsat
               else f"solver: {solver.reason_unknown()}")
        return _early(trace, r, why)
    model = solver.model()
    for j, actor in enumerate(schedule):
        solver.add(un.step(j))
        sel = z3.BitVec(f"sel@{j}", enc.sel.size())
        solver.add(z3.Or([sel == i for i in actor_steps.get(actor, [])] or [z3.BoolVal(False)]))
        r = solver.check()
        if r == z3.unknown:
            return Replay(trace.prop, n, ReplayStatus.UNKNOWN, j,
                          why=f"solver: {solver.reason_unknown()}")
        if r == z3.unsat:
            # `model` is a run of the first j steps: it shows why step j+1 cannot follow
            return _blocked(trace, fix, enc, un, model, j)
        model = solver.model()
    bad = z3.BoolVal(False) if prop is None else enc.bad(prop)
    solver.add(z3.Or([un.at(bad, k) for k in range(n + 1)]))
    r = solver.check()
    if r == z3.unknown:
        return Replay(trace.prop, n, ReplayStatus.UNKNOWN, n,
                      why=f"solver: {solver.reason_unknown()}")
    if r == z3.sat:
        return Replay(trace.prop, n, ReplayStatus.REPRODUCED, n,
                      fix_steps=_labels(fix, enc, solver.model(), n))
    # every run of the fix with this schedule is good: show how one of them ends differently
    return Replay(trace.prop, n, ReplayStatus.AVOIDED, n,
                  differences=_differences(trace, fix, enc, un, model, n),
                  fix_steps=_labels(fix, enc, model, n))


def _early(trace: Trace, r: z3.CheckSatResult, why: str) -> Replay:
    status = ReplayStatus.BLOCKED if r == z3.unsat else ReplayStatus.UNKNOWN
    first = trace.steps[0] if trace.steps else None
    return Replay(trace.prop, trace.length, status, 0,
                  actor=first.actor if first else "", label=first.label if first else "",
                  why=why)


def _prop(model: I.Model, name: str) -> I.Property | None:
    for p in model.properties:
        if p.name == name:
            return p
    return None


def _labels(fix: I.Model, enc: Encoding, m: z3.ModelRef, n: int) -> tuple[str, ...]:
    out = []
    for j in range(n):
        v = m.eval(z3.BitVec(f"sel@{j}", enc.sel.size()), model_completion=True)
        s = enc.steps[v.as_long()] if z3.is_bv_value(v) else None
        out.append(f"{fix.actors[s.actor].name} {s.label}" if s else "?")
    return tuple(out)


def _blocked(trace: Trace, fix: I.Model, enc: Encoding, un: Unroller, m: z3.ModelRef,
             j: int) -> Replay:
    """The fix followed j steps and cannot take the original's step j+1: say why."""
    step = trace.steps[j]
    actor = step.actor
    ai = enc.actor_index.get(actor)
    fix_label = ""
    if ai is None:
        why = f"the fix has no actor {actor}"
    elif z3.is_true(m.eval(un.states[j]["$halted"], model_completion=True)):
        why = "the fix's run has stopped after a failed check"
    else:
        pc = m.eval(un.states[j][enc.pc_name(ai)], model_completion=True)
        pci = pc.as_long() if z3.is_bv_value(pc) else -1
        labels = enc.labels[ai]
        if not 0 <= pci < len(labels):
            why = f"{actor} has already finished in the fix"
        else:
            fix_label = labels[pci]
            s = next(s for s in enc.steps if s.actor == ai and s.label == fix_label)
            enabled = z3.is_true(m.eval(un.at(s.enabled, j), model_completion=True))
            sp = fix.actors[ai].step(fix_label).span
            where = f"{fix_label} ({Path(sp.file).name}:{sp.line})"
            if fix_label != step.label:
                where += f" (original: {step.label})"
            if enabled:
                why = f"{actor} at {where} cannot proceed (an assume or choice fails)"
            else:
                why = f"{actor} waits at {where}"
    diffs = _differences(trace, fix, enc, un, m, j)
    return Replay(trace.prop, trace.length, ReplayStatus.BLOCKED, j, actor, step.label,
                  fix_label, why, diffs, _labels(fix, enc, m, j))


def _differences(trace: Trace, fix: I.Model, enc: Encoding, un: Unroller, m: z3.ModelRef,
                 j: int) -> tuple[Difference, ...]:
    """The leaves (`rpm_active[larb]`, `dev.refs`) of variables both models share whose values
    differ after j steps."""
    ours = trace.states()[j]
    theirs = decode_state(fix, enc, m, un.states[j])
    members = members_of(trace)
    out: list[Difference] = []
    for v in fix.vars:
        if v.name in ours and ours[v.name] != theirs[v.name]:
            out.extend(Difference(leaf.path, leaf.old, leaf.new)
                       for leaf in leaves(TraceChange(v.name, ours[v.name], theirs[v.name]),
                                          members))
    return tuple(out[:MAX_SHOWN_DIFFERENCES])


