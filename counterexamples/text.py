"""Plain-text rendering of a trace: one line per step, changed variables indented under it."""

from __future__ import annotations

from counterexamples.trace import Trace, format_value


def render_text(trace: Trace) -> str:
    lines: list[str] = []
    width_actor = max([len(s.actor) for s in trace.steps] + [5])
    width_label = max([len(s.label) for s in trace.steps] + [4])
    for s in trace.steps:
        calls = [c for c in s.calls if c.depth == 0]
        call_txt = ""
        if s.calls:
            first = str(calls[0]) if calls else str(s.calls[0])
            inner = [str(c) for c in s.calls if c.depth > 0]
            call_txt = first + (" → " + ", ".join(inner[:4]) if inner else "")
            if len(inner) > 4:
                call_txt += f", … (+{len(inner) - 4})"
            if len(calls) > 1:
                call_txt += "; " + "; ".join(str(c) for c in calls[1:])
        lines.append(f"[{s.index:>2}] {s.actor:<{width_actor}}  {s.label:<{width_label}}  "
                     f"{s.loc}" + (f"  {call_txt}" if call_txt else ""))
        for ch in s.changes:
            lines.append(f"       {ch.var}: {format_value(ch.old)} → {format_value(ch.new)}")
    v = trace.violation
    where = f" at {v.loc}" if v.loc else ""
    label = "reached" if v.kind == "reachable" else "violated"
    lines.append(f"{label}: {v.prop}{where}: {v.message}")
    return "\n".join(lines)
