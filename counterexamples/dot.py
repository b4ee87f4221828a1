"""Graphviz sequence diagrams of a trace (DOT text; SVG, PNG and PDF through Graphviz).

Layout: one lifeline per actor (left) and per object the trace touches (right: the enum members
passed to calls or indexing changed state); time runs downwards, one row per driver-core call,
drawn as an arrow from the actor to the object it acts on (its first object argument). Each
step's state changes sit in a note on the right; consecutive steps of one actor share a tinted
band, so a reader sees the context switches at a glance. The violation is a red box with the
assertion's message and source line; a legend closes the diagram.

Graphviz's `dot` engine cannot keep a grid, so every position is computed here and the graph is
laid out by `neato` with pinned positions (`layout=neato` inside the DOT text, so plain
`dot -Tsvg` renders it too): the best sequence layout we found, kept. The graph itself is built
with the `graphviz` package, which quotes identifiers and attributes and runs Graphviz; every
label is passed through `graphviz.escape` (and `nohtml`), so kernel identifiers, quotes,
backslashes, braces and `<...>` in a label are shown as they are. Everything is derived from the
trace alone, in order, with fixed number formatting, so the output is byte-identical across runs.
"""

from __future__ import annotations

import re

import graphviz

from drvmc.checker.errors import UsageError
from drvmc.checker.verdict.trace import Leaf, Trace, TraceStep, format_value
from drvmc.counterexamples.notes import NULL_ARG, members_of, objects_of
from drvmc.counterexamples.sequence import (
    Row,
    cut,
    narrowed,
    runs,
    step_views,
    switches,
    verdict_word,
)
from drvmc.counterexamples.sequence import actors as lifeline_actors
from drvmc.counterexamples.sequence import note_lines as note_lines_of

MONO = "DejaVu Sans Mono"
SANS = "DejaVu Sans"
FS = 10.0  # font size of calls and notes
CHAR_W = 0.61 * FS  # DejaVu Sans Mono advance width (1233/2048 em), with a little slack
ROW = 21.0  # one call
NOTE_LINE = 13.0
STEP_GAP = 7.0
HEAD_H = 30.0
MIN_LANE = 110.0
GUTTER = 92.0  # step numbers and labels (at least)
MAX_TAG = 24  # characters of a step label in the gutter
# pastel fills for actors; the band behind an actor's steps uses the same colour, lighter
PALETTE = ("#cfe2ff", "#d1f2d9", "#ffe8b3", "#e2d9fb", "#c9f1f5", "#ffd9bf", "#e5e7eb",
           "#f0e6c8")  # no pink: pink marks releases
GOOD = ("#e3f4e1", "#5b9a5b")  # fill, border of an object annotation
RED = "#c62828"
BAD = ("#ffe1e1", RED)
PLAIN = ("#f3f3f3", "#9e9e9e")
ANN_LINE = 12.0
ANN_CW = 0.61 * 9  # annotation font: 9 pt mono
OBJECT_FILL = "#eeeeee"
NOTE_FILL = "#fff9d6"
LOUD_FILL = "#ffe1e1"


def _text(*lines: str, left: bool = False) -> str:
    """A label of literal lines: centred (`\\n` between them) or left-justified (`\\l` after
    each); nothing in a line is a DOT escape or HTML."""
    sep = "\\l" if left else "\\n"
    body = sep.join(graphviz.escape(x) for x in lines) + (sep if left else "")
    return str(graphviz.nohtml(body))


def _tw(s: str, cw: float = CHAR_W) -> float:
    return len(s) * cw


def _pos(x: float, y: float) -> str:
    return f"{x:.1f},{-y:.1f}!"


def _inch(pt: float) -> str:
    return f"{pt / 72:.3f}"


def _annotations(lvs: list[Leaf],
                 lanes: set[str]) -> dict[str, list[tuple[str, tuple[str, str]]]]:
    """What happened to each object in this step, for a small box on its lifeline:
    `live ✗` (a flag indexed by it cleared), `+devres` (it joined a list), `refs 1→0`,
    `state → res_released`; more than two changes of one variable are counted, not listed."""
    found: dict[tuple[str, str], list[tuple[str, tuple[str, str]]]] = {}

    def add(lane: str, root: str, text: str, tone: tuple[str, str]) -> None:
        found.setdefault((lane, root), []).append((cut(text, 24), tone))

    for leaf in lvs:
        o, n = leaf.old, leaf.new
        root = leaf.path.split("[", 1)[0].split(".", 1)[0]
        if leaf.keys and leaf.keys[-1] in lanes:
            key = leaf.keys[-1]
            base = leaf.path.replace(f"[{key}]", "", 1)
            if isinstance(o, bool) and isinstance(n, bool):
                add(key, root, f"{base} {'✓' if n else '✗'}", GOOD if n else BAD)
            elif n is None:
                add(key, root, f"{base} → NULL", BAD)
            elif isinstance(o, int) and isinstance(n, int):
                add(key, root, f"{base} {o}→{n}", PLAIN)  # whether less is bad depends
            elif not isinstance(n, list | dict):
                add(key, root, f"{base} → {format_value(n)}", PLAIN)
        if isinstance(o, list) and isinstance(n, list):
            for m in n:
                if isinstance(m, str) and m in lanes and m not in o:
                    add(m, root, f"+{leaf.path}", GOOD)
            for m in o:
                if isinstance(m, str) and m in lanes and m not in n:
                    add(m, root, f"-{leaf.path}", BAD)
    out: dict[str, list[tuple[str, tuple[str, str]]]] = {}
    for (lane, root), items in found.items():
        if len(items) > 2:
            tones = {t for _, t in items}
            tone = BAD if BAD in tones else GOOD if tones == {GOOD} else PLAIN
            items = [(f"{root}: {len(items)} changes", tone)]
        out.setdefault(lane, []).extend(items)
    return out


def _tag(s: TraceStep) -> str:
    return f"{s.index:>2} {cut(s.label, MAX_TAG)}"


def render_dot(trace: Trace, narrow: bool = False) -> str:
    return str(graph(trace, narrow).source)


def graph(trace: Trace, narrow: bool = False) -> graphviz.Digraph:
    """The diagram as a `graphviz.Digraph`, every node at a position computed here.

    `narrow` (for a paper column): only the causal slice's lifelines, calls and writes; the
    other steps fold into one grey line each, and the legend is left out. A trace without a
    slice (a deadlock) is drawn whole."""
    members = members_of(trace)
    causal = narrowed(trace, narrow)
    views = step_views(trace, narrow)
    actors = lifeline_actors(trace, views)
    objects = [o for o in objects_of(trace) if o not in actors]
    rows = {i: list(view.rows) for i, view in views.items()}
    anns = {i: _annotations(list(view.leaves), set(objects)) for i, view in views.items()}
    # an object lane with no arrow and no annotation would be an empty column
    used = {r.target for v in rows.values() for r in v} | {k for a in anns.values() for k in a}
    objects = [o for o in objects if o in used]
    lanes = [*actors, *objects]
    color = {a: PALETTE[i % len(PALETTE)] for i, a in enumerate(actors)}

    # lane x positions: wide enough for the header
    xs: dict[str, float] = {}
    gutter = max(GUTTER, max((_tw(_tag(s)) for s in trace.steps), default=0.0) + 22)
    x = gutter
    ann_w = {name: max([_tw(t, ANN_CW) + 22 for a in anns.values() for t, _ in a.get(name, [])],
                       default=0.0) for name in lanes}
    for name in lanes:
        w = max(MIN_LANE, _tw(name, 7.5) + 30, ann_w[name])
        xs[name] = x + w / 2
        x += w
    lanes_right = x

    ann_h = {i: max((len(v) for v in a.values()), default=0) * ANN_LINE + (8 if a else 0)
             for i, a in anns.items()}
    note_lines = {s.index: note_lines_of(s, members, views[s.index]) for s in trace.steps}

    # how far right the call labels reach: the notes column starts after that
    reach = lanes_right
    for s in trace.steps:
        for r in rows[s.index]:
            reach = max(reach, xs[s.actor] + 8 + _tw(r.text))
        reach = max(reach, gutter + 6 + _tw(views[s.index].folded, ANN_CW))
    notes_x = reach + 24
    widest_note = max([_tw(x) for v in note_lines.values() for x in v] + [120.0])
    right = notes_x + widest_note + 24

    y = 40.0
    head_y = y + HEAD_H / 2
    y += HEAD_H + 14

    # vertical extents of steps
    tops: dict[int, float] = {}
    heights: dict[int, float] = {}
    for s in trace.steps:
        h = max(max(len(rows[s.index]), 1) * ROW + ann_h[s.index],
                len(note_lines[s.index]) * NOTE_LINE + 10)
        tops[s.index] = y
        heights[s.index] = h
        y += h + STEP_GAP
    body_bottom = y

    g = graphviz.Digraph("trace")
    g.attr("graph", layout="neato", inputscale="72", overlap="true", splines="line",
           outputorder="nodesfirst", bgcolor="white", pad="0.3", fontname=SANS)
    g.attr("node", fontname=MONO, fontsize=f"{FS:.0f}", margin="0.04,0.02")
    g.attr("edge", arrowsize="0.7")

    # title
    v = trace.violation
    verdict = verdict_word(trace)
    title = (f"{trace.spec} [{trace.variant}]: {trace.prop} {verdict} after {trace.length} "
             f"steps, {switches(trace.context_switches())}")
    if causal is None:
        g.node("title", _text(title), shape="plaintext", fontname=SANS, fontsize="13",
               pos=_pos(gutter + _tw(title, 7.4) / 2 - 70, 14))
    else:  # two shorter lines: the narrow figure is not to be widened by its title
        on = ", ".join(str(x.index) for x in causal.steps)
        tl = [f"{trace.spec} [{trace.variant}]: {trace.prop}",
              f"{verdict} after {trace.length} steps; causal slice: step"
              f"{'s' if len(causal.steps) != 1 else ''} {on}"]
        tw = max(_tw(x, 7.4) for x in tl)
        g.node("title", _text(*tl), shape="plaintext", fontname=SANS, fontsize="13",
               pos=_pos(max(8 + tw / 2, gutter + tw / 2 - 70), 8))
    foot_y = body_bottom + 8 + HEAD_H / 2

    # bands: one per run of consecutive steps of one actor (drawn first: behind everything)
    for gi, grp in enumerate(runs(trace.steps)):
        top = tops[grp[0].index] - STEP_GAP / 2
        bot = tops[grp[-1].index] + heights[grp[-1].index] + STEP_GAP / 2
        cx, w = (8 + right) / 2, right - 8
        # translucent, so lifelines show through; grey for the steps folded off the slice
        fill = color.get(grp[0].actor, PALETTE[-2]) + "70"
        g.node(f"band{gi}", "", shape="box", style="filled", penwidth="0", fillcolor=fill,
               fixedsize="true", width=_inch(w), height=_inch(bot - top),
               pos=_pos(cx, (top + bot) / 2))

    # lifeline heads (top and bottom) and the lifelines between them
    for name in lanes:
        style: dict[str, str] = (
            {"shape": "box", "style": "rounded,filled,bold", "fillcolor": color[name]}
            if name in actors else {"shape": "box", "style": "filled", "fillcolor": OBJECT_FILL})
        w = max(MIN_LANE, _tw(name, 7.5) + 30) - 16
        for where, yy in (("top", head_y), ("bottom", foot_y)):
            extra = {"id": graphviz.escape(f"lifeline_{name}")} if where == "top" else {}
            g.node(f"lane_{where}_{lanes.index(name)}", _text(name), **style, fontname=SANS,
                   fontsize="11", fixedsize="true", width=_inch(w), height=_inch(HEAD_H - 6),
                   pos=_pos(xs[name], yy), **extra)
    g.node("notes_head", "state changes", shape="plaintext", fontname=SANS, fontsize="11",
           pos=_pos(notes_x + 48, head_y))

    # per step: the number and label in the gutter, one arrow per call, the note
    last = trace.steps[-1].index if trace.steps else -1
    key_vars = set(re.findall(r"[A-Za-z_]\w*", v.source)) if v.kind != "reachable" else set()
    for s in trace.steps:
        top = tops[s.index]
        bad = s.index == last and v.kind != "reachable"
        fc = {"fontcolor": RED} if bad else {}
        tag = _tag(s)
        folded = views[s.index].folded
        if folded:
            fc = {"fontcolor": "#6b6b6b"}
        g.node(f"step{s.index}", _text(tag), shape="plaintext", **fc,
               pos=_pos(8 + _tw(tag) / 2 + 4, top + ROW / 2))
        if folded:
            g.node(f"s{s.index}_0_l", _text(folded), shape="plaintext", fontcolor="#6b6b6b",
                   fontsize="9", pos=_pos(gutter + 6 + _tw(folded, ANN_CW) / 2,
                                          top + ROW * 0.72 - 8))
            continue
        ax = xs[s.actor]
        srows = rows[s.index] or [Row(None, f"({s.label})", None)]
        for ri, r in enumerate(srows):
            ry = top + ri * ROW + ROW * 0.72
            depth = r.call.depth if r.call else 0
            tx = xs[r.target] if r.target in xs else ax + 26
            ecol = RED if bad else ("#222222" if depth == 0 else "#555555")
            lid = f"s{s.index}_{ri}"
            g.node(f"{lid}_l", _text(r.text), shape="plaintext",
                   fontcolor=RED if bad else "#111111",
                   pos=_pos(ax + 6 + _tw(r.text) / 2, ry - 8))
            if r.call is None:
                continue
            g.node(f"{lid}_a", "", shape="point", width="0.03", color=ecol, pos=_pos(ax, ry))
            g.node(f"{lid}_b", "", shape="point", width="0.01", style="invis", pos=_pos(tx, ry))
            dashed = {"style": "dashed"} if r.target is None else {}
            g.edge(f"{lid}_a", f"{lid}_b", id=f"call_{s.index}_{ri}", color=ecol,
                   penwidth="1.4" if depth == 0 else "0.9",
                   tooltip=graphviz.escape(str(r.call)), **dashed)
        # what happened to each object, on its lifeline below the step's arrows
        ay = top + max(len(srows), 1) * ROW + 4
        for lane, items in anns[s.index].items():
            lines = [t for t, _ in items]
            fill, border = BAD if any(t is BAD for _, t in items) else items[0][1]
            # the variables the failing assertion reads: a thick red frame
            key = any(t.lstrip("+-").split("[")[0].split(".")[0].split(" ")[0].rstrip(":")
                      in key_vars for t in lines)
            pen = {"penwidth": "2.2"} if key else {}
            if key:
                border = RED
            aw = max(_tw(x, ANN_CW) for x in lines) + 10
            ah = len(lines) * ANN_LINE + 4
            g.node(f"ann{s.index}_{lanes.index(lane)}", _text(*lines), shape="box",
                   style="rounded,filled", fillcolor=fill, color=border, fontsize="9",
                   fixedsize="true", width=_inch(aw), height=_inch(ah),
                   pos=_pos(xs[lane], ay + ah / 2), **pen)
        if note_lines[s.index]:
            nl = note_lines[s.index]
            nw = max(_tw(x) for x in nl) + 14
            nh = len(nl) * NOTE_LINE + 6
            # releases and pointers going NULL are what lifecycle bugs are made of: pink
            loud = any(x.startswith("• released") or x.endswith("→ NULL") for x in nl)
            g.node(f"note{s.index}", _text(*nl, left=True), shape="note", style="filled",
                   fillcolor=LOUD_FILL if loud else NOTE_FILL, color="#b8a960",
                   fixedsize="true", width=_inch(nw), height=_inch(nh),
                   pos=_pos(notes_x + nw / 2, top + nh / 2))

    # lifelines
    for i in range(len(lanes)):
        g.edge(f"lane_top_{i}", f"lane_bottom_{i}", arrowhead="none", style="dashed",
               color="#9e9e9e", penwidth="0.8")

    # the violation
    y = foot_y + HEAD_H / 2 + 18
    vl = [f"{verdict}: {v.prop}", v.message]
    if v.loc:
        vl.append(f"at {v.loc}")
    if v.source and v.source.split(":", 1)[-1].strip() not in v.message:
        vl.append(f"  {cut(v.source, 90 if causal is None else 60)}")
    vw = max(_tw(x, 6.4) for x in vl) + 24
    vh = len(vl) * 15 + 12
    vcol = RED if v.kind != "reachable" else "#2e7d32"
    g.node("violation", _text(*vl, left=True), shape="box", style="filled,bold",
           fillcolor="#ffffff", color=vcol, fontcolor=vcol, penwidth="2", fontname=SANS,
           fontsize="11", id="violation", fixedsize="true", width=_inch(vw), height=_inch(vh),
           pos=_pos(gutter + vw / 2, y + vh / 2))

    if causal is not None:  # a paper's caption explains the figure
        return g

    # legend
    legend = [
        "→  a driver-core call, from the actor to the object it acts on",
        "   (indented ↳: called inside the call above; dashed: no object)",
        "box on an object's lifeline: what the step did to it (+list: joined it,",
        "   -list: left it, flag ✓ set / ✗ cleared, count old→new); red: a loss",
        *(["thick red frame: a variable the failing assertion reads"] if key_vars else []),
        "tinted band: consecutive steps of one actor",
        "note: the state the step changed (old → new); pink: a release or NULL",
        f"red: the step where {v.prop} fails" if v.kind != "reachable"
        else "green: the target reached",
    ]
    lw = max(_tw(x, 5.6) for x in legend) + 20
    lh = len(legend) * 14 + 26
    lx = max(gutter + vw + 30 + lw / 2, right - lw / 2)
    g.node("legend", _text("Legend", *legend, left=True), shape="box", style="filled,rounded",
           fillcolor="#fafafa", color="#bdbdbd", fontname=SANS, fontsize="10",
           fixedsize="true", width=_inch(lw), height=_inch(lh), pos=_pos(lx, y + lh / 2))
    return g


def _pipe(trace: Trace, fmt: str, narrow: bool) -> bytes:
    """The diagram rendered by Graphviz (through the graphviz package)."""
    source = graphviz.Source(render_dot(trace, narrow))
    try:
        out: bytes = source.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise UsageError("the Graphviz `dot` program is not installed: apt-get install graphviz "
                         "(or run scripts/setup.sh)") from None
    except graphviz.CalledProcessError as e:
        err = e.stderr.decode("utf-8", "replace").strip() if isinstance(e.stderr, bytes) else ""
        raise UsageError(f"Graphviz could not render the diagram as {fmt}: {err}") from None
    return out


def render_svg(trace: Trace, narrow: bool = False) -> str:
    return _pipe(trace, "svg", narrow).decode("utf-8")


def render_png(trace: Trace, narrow: bool = False) -> bytes:
    return _pipe(trace, "png", narrow)


def render_pdf(trace: Trace, narrow: bool = False) -> bytes:
    """A vector figure for a paper (`narrow`: for one column)."""
    return _pipe(trace, "pdf", narrow)


__all__ = ["NULL_ARG", "render_dot", "render_pdf", "render_png", "render_svg"]
