"""What a sequence diagram of a trace shows, whatever draws it (Graphviz in dot.py, Mermaid in
mermaid.py): per step the call rows (arrow from the actor to the object a call acts on), the
changed leaves and `either`/`choose` outcomes for its note, and the actors with a lifeline.

Two views. Whole (the default): every step with its calls (nested look-ups left out, at most
`MAX_CALL_ROWS`) and every changed leaf. Narrow (for a paper column or a Markdown page): only the
causal slice (`Trace.causal`, checker/verdict/slicing.py) — the slice's calls and the writes
the violation depends on; a step off the slice folds into one line, and its actor gets no
lifeline unless it acts on the slice elsewhere. A trace without a slice (a deadlock) is whole.
"""

from __future__ import annotations

from dataclasses import dataclass

from drvmc.checker.verdict.trace import (
    CallRecord,
    CausalSlice,
    Leaf,
    Trace,
    TraceStep,
    format_value,
)
from drvmc.counterexamples.notes import call_target, members_of, notes, shown_calls, step_leaves

MAX_CALL_ROWS = 7  # per step; the rest is counted
MAX_NOTE_LINES = 10
MAX_CALL_CHARS = 72
MAX_NOTE_CHARS = 60


def cut(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


@dataclass(frozen=True)
class Row:
    call: CallRecord | None  # None: the "… +n more calls" row
    text: str
    target: str | None


@dataclass(frozen=True)
class StepView:
    """One step as drawn: its call rows, the changed leaves and `either` outcomes of its note,
    or (off the causal slice, narrow view) only `folded`, one line saying what was left out."""

    rows: tuple[Row, ...]
    leaves: tuple[Leaf, ...]
    choices: tuple[str, ...] = ()
    folded: str = ""


def _row(c: CallRecord, members: frozenset[str]) -> Row:
    return Row(c, cut("  " * c.depth + ("↳ " if c.depth else "") + str(c), MAX_CALL_CHARS),
               call_target(c, members))


def _whole(step: TraceStep, members: frozenset[str], queries: frozenset[str]) -> StepView:
    keep, hidden = shown_calls(step, MAX_CALL_ROWS, queries)
    rows = [_row(step.calls[i], members) for i in keep]
    if hidden:
        rows.append(Row(None, f"   … +{hidden} more nested calls (look-ups and deeper)", None))
    return StepView(tuple(rows), tuple(step_leaves(step, members)))


def _sliced(step: TraceStep, members: frozenset[str], causal: CausalSlice,
            last: int) -> StepView:
    sl = causal.step(step.index)
    lvs = step_leaves(step, members)
    if sl is None and step.index != last:
        tops = [c for c in step.calls if c.depth == 0]
        what = cut(str(tops[0]), 40) + " " if tops else ""
        n, m = len(step.calls), len(lvs)
        return StepView((), (), (), f"{step.actor}: {what}— off the slice ({n} call"
                                    f"{'s' if n != 1 else ''}, {m} change{'s' if m != 1 else ''})")
    if sl is None:  # the failing step of a slice that does not list it: its own calls
        picked = [i for i, c in enumerate(step.calls) if c.depth == 0]
        paths: set[str] = set()
    else:
        picked = list(sl.calls)
        paths = {p for cause in sl.causes for p in cause.leaves}
    rows = [_row(step.calls[i], members) for i in picked]
    if len(rows) > MAX_CALL_ROWS:
        hidden = len(rows) - MAX_CALL_ROWS + 1
        rows = [*rows[:MAX_CALL_ROWS - 1], Row(None, f"   … +{hidden} more calls", None)]
    return StepView(tuple(rows), tuple(x for x in lvs if x.path in paths),
                    sl.choices if sl is not None else ())


def narrowed(trace: Trace, narrow: bool) -> CausalSlice | None:
    """The slice the narrow view follows; None: the whole trace is drawn."""
    return trace.causal if narrow and trace.steps else None


def step_views(trace: Trace, narrow: bool) -> dict[int, StepView]:
    members = members_of(trace)
    causal = narrowed(trace, narrow)
    last = trace.steps[-1].index if trace.steps else -1
    return {s.index: (_sliced(s, members, causal, last) if causal is not None
                      else _whole(s, members, frozenset(trace.queries)))
            for s in trace.steps}


def actors(trace: Trace, views: dict[int, StepView]) -> list[str]:
    """The actors with a lifeline, in order of their first step drawn (not folded)."""
    out: list[str] = []
    for s in trace.steps:
        if s.actor not in out and not views[s.index].folded:
            out.append(s.actor)
    return out


def leaf_note(leaf: Leaf) -> str:
    o, n = leaf.old, leaf.new
    if isinstance(o, list) and isinstance(n, list):
        return f"{leaf.path} = {format_value(n)}"
    if n is None:
        return f"{leaf.path}: {format_value(o)} → NULL"
    return f"{leaf.path}: {format_value(o)} → {format_value(n)}"


def note_lines(step: TraceStep, members: frozenset[str], view: StepView) -> list[str]:
    """The derived "released X" summary (when a leaf it covers is shown), then every changed
    leaf shown (the summary's other items would repeat the leaves), then the `either`
    outcomes; at most `MAX_NOTE_LINES`, the rest counted."""
    keys = {k for leaf in view.leaves for k in leaf.keys}
    lines = [f"• {x}" for x in notes(step, members)
             if x.startswith("released ") and keys & set(x.removeprefix("released ").split(", "))]
    lines += [leaf_note(leaf) for leaf in view.leaves]
    lines += [f"• {x}" for x in view.choices]
    lines = [cut(x, MAX_NOTE_CHARS) for x in lines]
    if len(lines) > MAX_NOTE_LINES:
        lines = [*lines[: MAX_NOTE_LINES - 1], f"… +{len(lines) - MAX_NOTE_LINES + 1} more"]
    return lines


def runs(steps: tuple[TraceStep, ...]) -> list[list[TraceStep]]:
    """Consecutive steps of one actor (a tinted band each)."""
    out: list[list[TraceStep]] = []
    for s in steps:
        if out and out[-1][-1].actor == s.actor:
            out[-1].append(s)
        else:
            out.append([s])
    return out


def verdict_word(trace: Trace) -> str:
    return "REACHED" if trace.violation.kind == "reachable" else "VIOLATED"


def switches(n: int) -> str:
    return f"{n} context switch" + ("" if n == 1 else "es")
