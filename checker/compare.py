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
from enum import Enum
from pathlib import Path
from typing import Any

import z3

from checker import ir as I
from checker.bmc import BmcOptions, Progress, Unroller, decode_state, make_solver
from checker.driver import CheckOptions, Row, SpecReport, check_spec
from checker.elaborate import BASE_VARIANT
from checker.results import Result, Status
from counterexamples.notes import leaves, members_of
from counterexamples.trace import Change as TraceChange
from counterexamples.trace import Trace, Value, format_value
from translators.z3_encoding import Encoding

MAX_SHOWN_DIFFERENCES = 4


@dataclass(frozen=True)
class CompareOptions:
    check: CheckOptions = field(default_factory=CheckOptions)
    original: str = BASE_VARIANT


class ReplayStatus(Enum):
    BLOCKED = "blocked"  # the fix cannot follow the original's actor schedule
    AVOIDED = "avoided"  # it follows the whole schedule, and the violation does not happen
    REPRODUCED = "reproduced"  # the fix's run with the original's schedule is still bad
    UNKNOWN = "unknown"  # the solver could not tell


@dataclass(frozen=True)
class Difference:
    """A state variable that differs, just before the runs part (or at their end)."""

    var: str
    original: Value
    fix: Value

    def __str__(self) -> str:
        return f"{self.var} = {format_value(self.fix)} (original: {format_value(self.original)})"


@dataclass(frozen=True)
class Replay:
    """The original's counterexample for `prop`, replayed under one fix."""

    prop: str
    length: int  # of the original's counterexample
    status: ReplayStatus
    followed: int  # steps of the original's schedule the fix can follow
    actor: str = ""  # BLOCKED: the original's step the fix cannot take
    label: str = ""
    fix_label: str = ""  # BLOCKED: where that actor stands in the fix ("" when done/absent)
    why: str = ""  # BLOCKED: what stops it; UNKNOWN: the solver's reason
    differences: tuple[Difference, ...] = ()
    fix_steps: tuple[str, ...] = ()  # "actor label" of each step the fix's run took

    @property
    def parted_at(self) -> int | None:
        """1-based index of the original's step that the fix cannot take."""
        return self.followed + 1 if self.status is ReplayStatus.BLOCKED else None

    @property
    def blocked(self) -> bool | None:
        """Whether the fix stops this counterexample; None when the solver could not tell."""
        match self.status:
            case ReplayStatus.BLOCKED | ReplayStatus.AVOIDED:
                return True
            case ReplayStatus.REPRODUCED:
                return False
            case ReplayStatus.UNKNOWN:
                return None

    def summary(self) -> str:
        match self.status:
            case ReplayStatus.BLOCKED:
                text = f"blocked at step {self.parted_at}: {self.actor} {self.label} — {self.why}"
            case ReplayStatus.AVOIDED:
                text = (f"blocked without parting: the fix takes all {self.length} steps "
                        "and the violation does not happen")
            case ReplayStatus.REPRODUCED:
                text = (f"NOT blocked: the fix's run with the same {self.length} steps is still "
                        "bad: " + " → ".join(self.fix_steps))
            case ReplayStatus.UNKNOWN:
                return f"unknown after {self.followed} steps ({self.why})"
        if self.differences:
            when = "before it" if self.status is ReplayStatus.BLOCKED else "at the end"
            text += f"; {when}: " + ", ".join(str(d) for d in self.differences)
        return text


class Change(Enum):
    """How a property's result moves from the original to a fix."""

    FIXED = "fixed"  # violated in the original, safe or proven in the fix
    STILL_VIOLATED = "still violated"
    NEW_VIOLATION = "new violation"  # safe in the original, violated in the fix
    NEW_DEADLOCK = "new deadlock"
    LOST_TARGET = "lost target"  # reached in the original, not in the fix
    UNDECIDED = "undecided"  # a solver unknown on either side
    SAME = "same"


@dataclass(frozen=True)
class PropChange:
    prop: str
    change: Change
    original: Result | None
    fix: Result | None
    reached_by: str = ""  # LOST_TARGET: the variant that reaches it (the original if it does)


@dataclass(frozen=True)
class FixComparison:
    variant: str
    description: str
    replays: tuple[Replay, ...]
    changes: tuple[PropChange, ...]

    def of(self, change: Change) -> tuple[PropChange, ...]:
        return tuple(c for c in self.changes if c.change is change)


@dataclass(frozen=True)
class Comparison:
    report: SpecReport
    original: str
    properties: tuple[str, ...]
    fixes: tuple[FixComparison, ...]
    seconds: float

    def row(self, variant: str, prop: str) -> Row | None:
        return _row(self.report, variant, prop)


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
            p, _result(report, opts.original, p), _result(report, v, p))) for p in props)
        fixes.append(FixComparison(v, model.variant_description, tuple(replays), changes))
    return Comparison(report, opts.original, tuple(props), tuple(fixes),
                      report.seconds + time.monotonic() - start)


def _row(report: SpecReport, variant: str, prop: str) -> Row | None:
    for r in report.rows:
        if r.variant == variant and r.result.prop == prop:
            return r
    return None


def _result(report: SpecReport, variant: str, prop: str) -> Result | None:
    r = _row(report, variant, prop)
    return None if r is None else r.result


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
        other = _result(report, v, c.prop)
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


# ---------------------------------------------------------------------- text


def status_text(status: Status, depth: int) -> str:
    """A short verdict: VIOLATED 3, SAFE≤40, PROVEN, REACHED 2, NOT REACHED≤40, UNKNOWN."""
    match status:
        case Status.VIOLATED:
            return f"VIOLATED {depth}"
        case Status.SAFE:
            return f"SAFE≤{depth}"
        case Status.PROVEN:
            return "PROVEN"
        case Status.REACHABLE:
            return f"REACHED {depth}"
        case Status.NOT_REACHED:
            return f"NOT REACHED≤{depth}"
        case Status.UNREACHABLE:
            return "UNREACHABLE"
        case Status.UNKNOWN:
            return "UNKNOWN"


def cell_text(result: Result | None) -> str:
    """A matrix cell (see status_text); a dash where the variant has no such property."""
    return "—" if result is None else status_text(result.status, result.depth)


def matrix(cmp: Comparison) -> list[list[str]]:
    """Header row, then one row per property; '*' marks a result its `expect` does not allow."""
    rows = [["property", *cmp.report.variants]]
    for p in cmp.properties:
        line = [p]
        for v in cmp.report.variants:
            row = cmp.row(v, p)
            text = cell_text(row.result if row else None)
            line.append(text + ("" if row is None or row.ok else " *"))
        rows.append(line)
    return rows


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [(indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))).rstrip()
            for r in rows]


def format_comparison(cmp: Comparison) -> str:
    rep = cmp.report
    title = f"{rep.path}: {rep.spec}" + (f" — {rep.description}" if rep.description else "")
    lines = [title, *_table(matrix(cmp))]
    if any(not r.ok for r in rep.rows):
        lines.append("  (* not what the spec's expect lines say)")
    for fx in cmp.fixes:
        lines.append("")
        lines.append(f"fix {fx.variant}" + (f" — {fx.description}" if fx.description else ""))
        lines.extend(fix_lines(fx))
    return "\n".join(lines)


def _reached_by(c: PropChange) -> str:
    """Where a lost target is reached: the original's result, or another variant's."""
    if c.original is not None and c.original.status is Status.REACHABLE:
        return f"{cell_text(c.original)} in the original"
    return f"reached by {c.reached_by}"


def fix_lines(fx: FixComparison) -> list[str]:
    lines = []
    for rp in fx.replays:
        lines.append(f"  {rp.prop} ({rp.length} steps): {rp.summary()}")
    fixed = [c.prop for c in fx.of(Change.FIXED)]
    still = [f"{c.prop} ({cell_text(c.fix)})" for c in fx.of(Change.STILL_VIOLATED)]
    if fixed:
        lines.append(f"  fixes: {', '.join(fixed)}")
    if still:
        lines.append(f"  still violated: {', '.join(still)}")
    lost = [f"target {c.prop} ({_reached_by(c)}, {cell_text(c.fix)} here)"
            for c in fx.of(Change.LOST_TARGET)]
    lost += [f"{c.prop} ({cell_text(c.original)} → {cell_text(c.fix)})"
             for c in fx.of(Change.NEW_DEADLOCK)]
    lines.append("  takes away: " + (", ".join(lost) if lost else "nothing the spec checks"))
    new = [f"{c.prop} ({cell_text(c.original)} → {cell_text(c.fix)})"
           for c in fx.of(Change.NEW_VIOLATION)]
    lines.append("  new violations: " + (", ".join(new) if new else "none"))
    undecided = [c.prop for c in fx.of(Change.UNDECIDED)]
    if undecided:
        lines.append(f"  undecided (solver unknown): {', '.join(undecided)}")
    return lines


# ---------------------------------------------------------------------- JSON


def _result_ref(r: Result | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {"status": r.status.value, "depth": r.depth, "text": cell_text(r)}


def comparison_json(cmp: Comparison) -> dict[str, Any]:
    """The `comparison` member of a spec in `drvmc compare -f json` (docs/JSON.md)."""
    return {
        "original": cmp.original,
        "properties": list(cmp.properties),
        "matrix": [
            {"property": p,
             "cells": {v: _result_ref(_result(cmp.report, v, p)) for v in cmp.report.variants}}
            for p in cmp.properties
        ],
        "fixes": [
            {
                "variant": fx.variant,
                "description": fx.description,
                "replays": [
                    {
                        "property": rp.prop,
                        "length": rp.length,
                        "status": rp.status.value,
                        "blocked": rp.blocked,
                        "followed": rp.followed,
                        "parted_at": rp.parted_at,
                        "actor": rp.actor or None,
                        "label": rp.label or None,
                        "fix_label": rp.fix_label or None,
                        "why": rp.why,
                        "differences": [{"var": d.var, "original": d.original, "fix": d.fix}
                                        for d in rp.differences],
                        "fix_steps": list(rp.fix_steps),
                        "summary": rp.summary(),
                    }
                    for rp in fx.replays
                ],
                "changes": [
                    {"property": c.prop, "change": c.change.value,
                     "original": _result_ref(c.original), "fix": _result_ref(c.fix),
                     "reached_by": c.reached_by or None}
                    for c in fx.changes if c.change is not Change.SAME
                ],
            }
            for fx in cmp.fixes
        ],
    }
