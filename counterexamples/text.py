"""Plain-text rendering of a trace, kernel-log style, for a mail or a paper.

Default (`render_text`): a one-paragraph summary (80 columns), then per step a header line; the
steps on the causal slice (`Trace.causal`, checker/verdict/slicing.py) show first the call chain
that led to each write the violation depends on, with those writes under it, and the
`either`/`choose` outcomes they made; every other call and change is folded into a count. Every
line fits in 100 columns; a null handle is spelled `NULL` throughout.

`render_full_text` (`--full`): every step with its calls on the headline and every changed leaf
under it, as drvmc has always printed it.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import replace

from drvmc.checker.verdict.trace import CallRecord, Leaf, StepSlice, Trace, TraceStep, Value
from drvmc.counterexamples.notes import changed_words, members_of, notes, relevant, step_leaves

MAX_INNER = 4  # nested calls shown on the step line; the rest are counted
MAX_NOTES = 4  # notes on the step line
WIDTH = 100  # every line of the default rendering
SUMMARY_WIDTH = 80
INDENT = "       "  # under a step's `[ n] ` header
MAX_CALL = 64  # characters of one call in a chain (long record arguments are cut)


def calls_text(calls: tuple[CallRecord, ...], queries: frozenset[str] = frozenset(),
               changed: frozenset[str] = frozenset()) -> str:
    """`top(a) → inner(b), inner2(c)`; several top-level calls are separated by `;`. Nested
    look-ups (`queries`) are left out; of many nested calls, those naming what changed
    (`changed`: words of the changed variables) and the shallowest are shown."""
    groups: list[tuple[CallRecord, list[CallRecord]]] = []
    orphans: list[CallRecord] = []
    for c in calls:
        if c.depth == 0:
            groups.append((c, []))
        elif c.proc in queries:
            continue
        elif groups:
            groups[-1][1].append(c)
        else:
            orphans.append(c)
    parts = []
    for top, inner in groups:
        txt = str(top)
        if inner:
            order = sorted(range(len(inner)),
                           key=lambda i: (not relevant(inner[i], changed), inner[i].depth, i))
            shown = [inner[i] for i in sorted(order[:MAX_INNER])]
            txt += " → " + ", ".join(str(c) for c in shown)
            if len(inner) > MAX_INNER:
                txt += f", … (+{len(inner) - MAX_INNER})"
        parts.append(txt)
    if orphans:
        parts.insert(0, ", ".join(str(c) for c in orphans))
    return "; ".join(parts)


def trace_header(trace: Trace) -> str:
    """A title line for a trace file: what failed, in how many steps and switches."""
    verdict = "REACHED" if trace.violation.kind == "reachable" else "VIOLATED"
    return (f"# {trace.spec} [{trace.variant}] {trace.prop}: {verdict} after {trace.length} "
            f"steps, {trace.context_switches()} context switch"
            f"{'' if trace.context_switches() == 1 else 'es'}")


def render_text(trace: Trace, full: bool = False) -> str:
    """The trace as text: the causal view (module doc), or with `full` every call and change."""
    return render_full_text(trace) if full else render_causal_text(trace)


def render_full_text(trace: Trace) -> str:
    members = members_of(trace)
    lines: list[str] = []
    width_actor = max([len(s.actor) for s in trace.steps] + [5])
    width_label = max([len(s.label) for s in trace.steps] + [4])
    for s in trace.steps:
        head = f"[{s.index:>2}] {s.actor:<{width_actor}}  {s.label:<{width_label}}"
        call_txt = calls_text(s.calls, frozenset(trace.queries), changed_words(s))
        ns = notes(s, members)
        # the headline keeps the first few notes; every change is listed under it anyway
        note_txt = "; ".join(ns[:MAX_NOTES]) + (f"; … (+{len(ns) - MAX_NOTES})"
                                                 if len(ns) > MAX_NOTES else "")
        # a step without calls shows its notes after a dash, so they do not read as a call
        tail = call_txt + (": " + note_txt if call_txt and note_txt else
                           "— " + note_txt if note_txt else "")
        lines.append((head + "  " + tail).rstrip() if tail else head.rstrip())
        # where the step is in the spec, so the reader can follow it in the source
        lines.append(f"       at {s.loc.file}:{s.loc.line}"
                     + (f"  | {s.source.strip()}" if s.source else ""))
        for leaf in step_leaves(s, members):
            lines.append(f"       {leaf}")
    v = trace.violation
    where = f" at {v.loc}" if v.loc else ""
    label = "reached" if v.kind == "reachable" else "violated"
    lines.append(f"{label}: {v.prop}{where}: {v.message}")
    if v.source and v.loc:
        lines.append(f"  {v.loc.line:>4} | {v.source}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- the causal view


def _null(text: str) -> str:
    """One spelling of a null handle: `NULL` (values print `null`, call arguments `NULL`)."""
    return re.sub(r"\bnull\b", "NULL", text)


def _value(v: Value) -> str:
    from drvmc.checker.verdict.trace import format_value

    return _null(format_value(v))


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _leaf_text(leaf: Leaf) -> str:
    return f"{leaf.path}: {_value(leaf.old)} → {_value(leaf.new)}"


def _chain_lines(chain: tuple[str, ...], first: str, rest: str) -> list[str]:
    """`a(x) → b(y) → c(z)`, wrapped at WIDTH: continuation lines start with `→`."""
    parts = [_fit(_null(c), MAX_CALL) for c in chain]
    lines: list[str] = []
    cur = first
    for i, p in enumerate(parts):
        sep = "" if i == 0 else " → "
        if i and len(cur) + len(sep) + len(p) > WIDTH:
            lines.append(cur)
            cur = rest + "→ " + p
        else:
            cur += sep + p
    lines.append(cur)
    return lines


def _header(s: TraceStep, wa: int, wl: int, tail: str) -> str:
    head = f"[{s.index:>2}] {_fit(s.actor, wa):<{wa}}  {_fit(s.label, wl):<{wl}}"
    if not tail:
        return head.rstrip()
    room = WIDTH - len(head) - 2
    return head + "  " + _fit(tail, room) if room > 10 else head.rstrip()


def _folded(s: TraceStep, members: frozenset[str], shown_calls: int, shown: set[str]) -> str:
    """What a step did beyond the slice, in a few words: `… 24 more calls; 11 more changes`."""
    calls = len(s.calls) - shown_calls
    rest = [leaf for leaf in step_leaves(s, members) if leaf.path not in shown]
    parts = []
    if calls > 0:
        parts.append(f"{calls} more call{'s' if calls != 1 else ''}")
    if rest:
        parts.append(f"{len(rest)} more change{'s' if len(rest) != 1 else ''}")
    return ("… " + ", ".join(parts) + " (--full)") if parts else ""


def _off_slice(s: TraceStep, members: frozenset[str]) -> str:
    """An off-slice step's headline: its first call and its notes, short (a labelled
    procedure's locals, `actor.proc.x`, left out)."""
    s = replace(s, changes=tuple(c for c in s.changes if "." not in c.var))
    tops = [c for c in s.calls if c.depth == 0]
    words = [_fit(_null(str(tops[0])), 40)] if tops else []
    ns = [_null(x) for x in notes(s, members)]
    if ns:
        words.append("; ".join(ns[:2]) + (f"; … (+{len(ns) - 2})" if len(ns) > 2 else ""))
    return ": ".join(words) if tops else ("— " + words[0] if words else "")


def render_causal_text(trace: Trace) -> str:
    members = members_of(trace)
    causal = trace.causal
    lines: list[str] = []
    if causal is not None and causal.summary:
        lines.extend(textwrap.wrap(_null(causal.summary.replace("\n", " ")), SUMMARY_WIDTH,
                                   break_on_hyphens=False, break_long_words=False))
        lines.append("")
    wa = min(max([len(s.actor) for s in trace.steps] + [5]), 24)
    wl = min(max([len(s.label) for s in trace.steps] + [4]), 24)
    last = trace.steps[-1].index if trace.steps else 0
    for s in trace.steps:
        sl: StepSlice | None = causal.step(s.index) if causal is not None else None
        if sl is None and s.index != last:
            lines.append(_header(s, wa, wl, _off_slice(s, members)))
            continue
        lines.append(_header(s, wa, wl, ""))
        lines.append(_fit(f"{INDENT}at {s.loc.file}:{s.loc.line}"
                          + (f"  | {s.source.strip()}" if s.source else ""), WIDTH))
        shown: set[str] = set()
        by_path = {leaf.path: leaf for leaf in step_leaves(s, members)}
        for cause in (sl.causes if sl is not None else ()):
            if cause.chain:
                lines.extend(_chain_lines(cause.chain, INDENT, INDENT + "  "))
            for path in cause.leaves:
                if path in by_path and path not in shown:
                    shown.add(path)
                    lines.append(_fit(f"{INDENT}  ⇒ {_leaf_text(by_path[path])}", WIDTH))
        for choice in (sl.choices if sl is not None else ()):
            lines.append(_fit(f"{INDENT}{choice}", WIDTH))
        if s.index == last and causal is not None and causal.failing:
            lines.extend(_chain_lines(causal.failing, INDENT, INDENT + "  "))
        elif s.index == last and causal is None and s.calls:
            tops = [c for c in s.calls if c.depth == 0]
            lines.extend(_chain_lines(tuple(str(c) for c in tops), INDENT, INDENT + "  "))
        shown_calls = len(sl.calls) if sl is not None else 0
        if s.index == last and causal is None:
            shown_calls = sum(1 for c in s.calls if c.depth == 0)
        rest = _folded(s, members, shown_calls, shown)
        if rest:
            lines.append(f"{INDENT}{rest}")
    v = trace.violation
    where = f" at {v.loc}" if v.loc else ""
    label = "reached" if v.kind == "reachable" else "violated"
    lines.append(_fit(f"{label}: {v.prop}{where}: {v.message}", WIDTH))
    if v.source and v.loc:
        lines.append(_fit(f"  {v.loc.line:>4} | {v.source}", WIDTH))
    return "\n".join(lines)
