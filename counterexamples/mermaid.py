"""Mermaid `sequenceDiagram` text of a trace, which GitHub and GitLab draw inside Markdown (a
```` ```mermaid ```` block) and the Mermaid CLI renders to SVG.

The same picture as the Graphviz diagram (dot.py), from the same view of each step
(sequence.py): one participant per actor and per object the drawn calls act on; per step a note
with its number and label, one message per call (a self-message when the call acts on no
object; nested calls dotted and marked `↳`), a note with what it changed; consecutive steps of
one actor share a tinted `rect`, the failing step a red one; the violation closes the diagram in
a note across every lifeline. `narrow` draws only the causal slice: a step off it is one grey
line across the diagram, and only the slice's lifelines remain.

Mermaid reads `;` and `#` inside text as syntax and would pass `<...>` and `&` to HTML, so
every piece of text is written with Mermaid's entity codes (`#59;`, `#35;`, `#lt;`); participants
get generated ids (`a1`, `o2`: a kernel name such as `end` or `box` is a Mermaid keyword) and
their names as aliases. Output is deterministic.
"""

from __future__ import annotations

from types import MappingProxyType

from drvmc.checker.verdict.trace import Trace, TraceStep
from drvmc.counterexamples.notes import members_of, objects_of
from drvmc.counterexamples.sequence import (
    StepView,
    actors,
    cut,
    narrowed,
    note_lines,
    runs,
    step_views,
    switches,
    verdict_word,
)

INDENT = "    "
# the same pastels as the Graphviz diagram's actor bands (dot.PALETTE), translucent
BANDS = ((207, 226, 255), (209, 242, 217), (255, 232, 179), (226, 217, 251), (201, 241, 245),
         (255, 217, 191), (229, 231, 235), (240, 230, 200))
FOLDED_BAND = (229, 231, 235)
FAILING_BAND = (255, 225, 225)
# `;` ends a statement, `#` starts an entity code, `<`/`>`/`&` would reach the HTML; a line
# break would end the text
_ENTITIES = MappingProxyType(str.maketrans({
    "#": "#35;", ";": "#59;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "\r": " ", "\n": " ",
    "\t": " "}))


def text(s: str) -> str:
    """Text as Mermaid shows it literally in a message, note, title or alias."""
    return s.translate(_ENTITIES).strip() or "#32;"


def _lines(items: list[str]) -> str:
    return "<br/>".join(text(x) for x in items)


def _rgba(rgb: tuple[int, int, int], alpha: str = "0.45") -> str:
    return f"rgba({rgb[0]}, {rgb[1]}, {rgb[2]}, {alpha})"


def render_mermaid(trace: Trace, narrow: bool = False) -> str:
    members = members_of(trace)
    views = step_views(trace, narrow)
    causal = narrowed(trace, narrow)
    acts = actors(trace, views)
    targets = {r.target for v in views.values() for r in v.rows if r.target is not None}
    objects = [o for o in objects_of(trace) if o in targets and o not in acts]
    ids = {name: f"a{i + 1}" for i, name in enumerate(acts)}
    ids |= {name: f"o{i + 1}" for i, name in enumerate(objects)}
    if not ids:  # no step drawn on a lifeline (no steps at all): one for the violation
        ids = {trace.spec: "a1"}
    lanes = list(ids.values())
    across = f"{lanes[0]},{lanes[-1]}" if len(lanes) > 1 else lanes[0]

    v = trace.violation
    title = (f"{trace.spec} [{trace.variant}]: {trace.prop} {verdict_word(trace)} after "
             f"{trace.length} steps, {switches(trace.context_switches())}")
    if causal is not None:
        title += " — causal slice: steps " + ", ".join(str(x.index) for x in causal.steps)
    out = ["sequenceDiagram", f"{INDENT}title {text(title)}"]
    for name, pid in ids.items():
        out.append(f"{INDENT}participant {pid} as {text(name)}")
    colour = {a: BANDS[i % len(BANDS)] for i, a in enumerate(acts)}
    last = trace.steps[-1].index if trace.steps else -1
    for run in runs(trace.steps):
        failing = run[-1].index == last and v.kind != "reachable"
        band = colour.get(run[0].actor, FOLDED_BAND)
        if failing and len(run) > 1:  # the failing step gets a band of its own
            out.extend(_band(band, [_step(s, views[s.index], ids, members, across)
                                    for s in run[:-1]]))
            run = run[-1:]
        out.extend(_band(FAILING_BAND if failing else band,
                         [_step(s, views[s.index], ids, members, across) for s in run]))
    vl = [f"{verdict_word(trace)}: {v.prop}", v.message]
    if v.loc:
        vl.append(f"at {v.loc}")
    if v.source and v.source.split(":", 1)[-1].strip() not in v.message:
        vl.append(cut(v.source.strip(), 90))
    out.append(f"{INDENT}Note over {across}: {_lines(vl)}")
    return "\n".join(out) + "\n"


def _band(rgb: tuple[int, int, int], steps: list[list[str]]) -> list[str]:
    return [f"{INDENT}rect {_rgba(rgb)}", *(INDENT * 2 + x for s in steps for x in s),
            f"{INDENT}end"]


def _step(s: TraceStep, view: StepView, ids: dict[str, str], members: frozenset[str],
          across: str) -> list[str]:
    tag = f"[{s.index}] {s.label}"
    if view.folded:
        return [f"Note over {across}: {text(tag + ' · ' + view.folded)}"]
    me = ids[s.actor]
    out = [f"Note over {me}: {text(tag)}"]
    for r in view.rows:
        if r.call is None:
            out.append(f"Note right of {me}: {text(r.text)}")
            continue
        to = ids.get(r.target or "", me)
        arrow = "->>" if r.call.depth == 0 else "-->>"
        out.append(f"{me}{arrow}{to}: {text(('↳ ' if r.call.depth else '') + str(r.call))}")
    lines = note_lines(s, members, view)
    if lines:
        # beside the object the step changed, when it has a lifeline
        keys = [k for leaf in view.leaves for k in leaf.keys if k in ids]
        out.append(f"Note right of {ids[keys[0]] if keys else me}: {_lines(lines)}")
    return out
