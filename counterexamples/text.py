"""Plain-text rendering of a trace, kernel-log style.

One line per step: `[ 3] i915_unbind  del  component_del(gpu) → devres_release_group(hda, NULL):
released iomap`, then the changed state leaves indented under it, and at the end the violated
property with its location and source line.
"""

from __future__ import annotations

from drvmc.checker.verdict.trace import CallRecord, Trace
from drvmc.counterexamples.notes import changed_words, members_of, notes, relevant, step_leaves

MAX_INNER = 4  # nested calls shown on the step line; the rest are counted
MAX_NOTES = 4  # notes on the step line


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


def render_text(trace: Trace) -> str:
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
