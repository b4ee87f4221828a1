"""Patch variants side by side: a verdict matrix, and what each fix does to the original's bug.

For every fix (a variant other than the original) against the original:
- each counterexample of the original is *replayed* under the fix: BMC on the fix's encoding,
  constrained so that transition j fires a step of the same actor as the original's step j
  (labels may differ: a fix may rename or split steps), keeping the original's outcomes of
  `either`/`choose` where the fix can (see `replay`). The longest feasible prefix says where
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
from typing import Any

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
from drvmc.checker.verdict.trace import Trace, TraceStep, Value, leaves
from drvmc.counterexamples.notes import members_of
from drvmc.translators.z3_encoding import Encoding, SArr, SList, SRec, SVal

MAX_SHOWN_DIFFERENCES = 4


@dataclass(frozen=True)
class CompareOptions:
    check: CheckOptions = field(default_factory=CheckOptions)
    original: str = BASE_VARIANT


# ---------------------------------------------------------------------- running


def compare_spec(path: Path, opts: CompareOptions,
                 progress: Progress | None = None) -> Comparison:
    return compare_report(check_spec(path, compared_variants(opts), progress), opts)


def compared_variants(opts: CompareOptions) -> CheckOptions:
    """The check a comparison needs: the original and the chosen fixes (default: every one)."""
    chk = opts.check
    if chk.variants and opts.original not in chk.variants:
        return replace(chk, variants=(opts.original, *chk.variants))
    if not chk.variants:
        return replace(chk, all_variants=True)
    return chk


def compare_report(report: SpecReport, opts: CompareOptions) -> Comparison:
    """The comparison of the variants of a checked spec (`compared_variants`), however it was
    checked (in this process or as a matrix of jobs: app.distributed)."""
    chk = opts.check
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
            replays.append(replay(trace, model, enc, BmcOptions(chk.depth, chk.timeout_s),
                                  report.models[opts.original]))
        changes = tuple(_lost_elsewhere(report, opts.original, v, _change(
            p, report.result(opts.original, p), report.result(v, p))) for p in props)
        fixes.append(FixComparison(v, model.variant_description, tuple(replays), changes))
    return Comparison(report, opts.original, tuple(props), tuple(fixes),
                      report.seconds + time.monotonic() - start)


_NOT_REACHED = (Status.NOT_REACHED, Status.UNREACHABLE)


def _change(prop: str, o: Result | None, f: Result | None) -> PropChange:
    def mk(c: Change) -> PropChange:
        return PropChange(prop, c, o, f)

    if o is None or f is None or Status.NO_CHECK in (o.status, f.status):
        # the property is checked on one side only: a violation there is new, else it is moot
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


def replay(trace: Trace, fix: I.Model, enc: Encoding, opts: BmcOptions,
           original: I.Model | None = None) -> Replay:
    """Follow `trace`'s actor schedule under `fix` as far as it goes (see the module doc).

    With the `original` model at hand, the run also keeps to the original's outcomes where the
    fix allows: after each step, every state leaf the original's step changed (of a variable
    both models share, with the same type) is pinned to the original's value, as an assumption
    the solver may give up. So an `either` or `choose` the fix can decide the same way is decided
    the same way, and the differences reported are the fix's, not a different choice's."""
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
    shared = _shared_vars(fix, original)
    pins: list[z3.BoolRef] = []  # assumptions: the original's outcomes the fix keeps so far
    for j, actor in enumerate(schedule):
        solver.add(un.step(j))
        sel = z3.BitVec(f"sel@{j}", enc.sel.size())
        solver.add(z3.Or([sel == i for i in actor_steps.get(actor, [])] or [z3.BoolVal(False)]))
        for i, eq in enumerate(_pins(enc, un.states[j + 1], trace.steps[j], shared)):
            lit = z3.Bool(f"pin@{j}#{i}")
            solver.add(z3.Implies(lit, eq))
            pins.append(lit)
        r, pins = _check_keeping(solver, pins)
        if r == z3.unknown:
            return Replay(trace.prop, n, ReplayStatus.UNKNOWN, j,
                          why=f"solver: {solver.reason_unknown()}")
        if r == z3.unsat:
            # `model` is a run of the first j steps: it shows why step j+1 cannot follow
            return _blocked(trace, fix, enc, un, model, j)
        model = solver.model()
    bad = z3.BoolVal(False) if prop is None else enc.bad(prop)
    solver.add(z3.Or([un.at(bad, k) for k in range(n + 1)]))
    r, _ = _check_keeping(solver, pins)
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


def _check_keeping(solver: z3.Solver,
                   pins: list[z3.BoolRef]) -> tuple[z3.CheckSatResult, list[z3.BoolRef]]:
    """Check under as many of `pins` as the constraints allow: the pins in an unsatisfiable
    core are given up until the check is sat, or unsat with no pin to blame (then unsat)."""
    while True:
        r = solver.check(*pins)
        if r != z3.unsat or not pins:
            return r, pins
        core = {c.get_id() for c in solver.unsat_core()}
        kept = [p for p in pins if p.get_id() not in core]
        if len(kept) == len(pins):
            return r, pins
        pins = kept


def _shared_vars(fix: I.Model, original: I.Model | None) -> dict[str, I.Type]:
    """The state variables of the fix that the original has too, with the same type."""
    if original is None:
        return {}
    theirs = {v.name: v.type for v in original.vars}
    return {v.name: v.type for v in fix.vars if theirs.get(v.name) == v.type}


def _pins(enc: Encoding, state: dict[str, SVal], step: TraceStep,
          shared: dict[str, I.Type]) -> list[z3.BoolRef]:
    """One equality per leaf the original's step changed: the fix's state after the step has
    the original's value there (a leaf: a scalar, or a whole list of scalars)."""
    out: list[z3.BoolRef] = []

    def walk(sv: SVal, t: I.Type, old: Value, new: Value) -> None:
        if old == new:
            return
        match t:
            case I.RecordType() if isinstance(sv, SRec) and isinstance(new, dict):
                for (name, fv), (_, ft) in zip(sv.fields, t.fields, strict=True):
                    if name in new:
                        walk(fv, ft, old.get(name) if isinstance(old, dict) else None, new[name])
            case I.ArrayType() if isinstance(sv, SArr):
                keys: list[Any] = (list(t.index.members) if isinstance(t.index, I.EnumType)
                                   else list(range(len(sv.items))))
                for k, item in zip(keys, sv.items, strict=True):
                    o = old[k] if isinstance(old, dict | list) and _has(old, k) else None
                    if _has(new, k):
                        walk(item, t.elem, o, new[k])
            case _:
                eq = _equal_to(enc, sv, t, new)
                if eq is not None:
                    out.append(eq)

    for ch in step.changes:
        t = shared.get(ch.var)
        if t is not None and ch.var in state:
            walk(state[ch.var], t, ch.old, ch.new)
    return out


def _has(v: Value, k: Any) -> bool:
    if isinstance(v, dict):
        return k in v
    return isinstance(v, list) and isinstance(k, int) and 0 <= k < len(v)


def _equal_to(enc: Encoding, sv: SVal, t: I.Type, v: Value) -> z3.BoolRef | None:
    """`sv == v` for a decoded value `v` of type `t`; None when `v` does not fit the type."""
    match t:
        case I.BoolType() if isinstance(v, bool) and isinstance(sv, z3.BoolRef):
            return sv == z3.BoolVal(v, ctx=sv.ctx)
        case I.IntType() | I.NullType() if isinstance(v, int) and not isinstance(v, bool):
            lit = enc.lit(v, t)
            return sv == lit if isinstance(sv, z3.BitVecRef) else None
        case I.EnumType() if v is None or (isinstance(v, str) and v in t.members):
            lit = enc.lit(None if v is None else t.members.index(v), t)
            return sv == lit if isinstance(sv, z3.BitVecRef) else None
        case I.RecordType() if isinstance(sv, SRec) and isinstance(v, dict):
            eqs = [_equal_to(enc, fv, ft, v.get(n)) for (n, fv), (_, ft)
                   in zip(sv.fields, t.fields, strict=True)]
            return z3.And(*eqs) if all(e is not None for e in eqs) and eqs else None
        case I.ListType() if (isinstance(sv, SList) and isinstance(v, list) and t.elem is not None
                              and len(v) <= len(sv.items)):
            eqs = [sv.length == enc.len_val(len(v), t)]
            eqs += [_equal_to(enc, x, t.elem, y) for x, y in zip(sv.items, v, strict=False)]
            return z3.And(*eqs) if all(e is not None for e in eqs) else None
        case _:
            return None


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


