"""Sequence diagrams: DOT text (golden), SVG through the real `dot`, determinism, long traces."""

from __future__ import annotations

import html
import os
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from drvmc.checker.verdict.trace import (
    CallRecord,
    CausalSlice,
    Cause,
    Loc,
    StepSlice,
    Trace,
    TraceStep,
    Violation,
    diff_states,
)
from drvmc.counterexamples.dot import render_dot, render_pdf, render_png, render_svg
from tests.render_helpers import RENDER, real_traces

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz not installed")


@pytest.fixture(scope="module")
def toy() -> Trace:
    t = real_traces("component_toy.drv")["use_after_release"]
    # the golden must not depend on where the repository is checked out
    return _relocate(t)


def _relocate(t: Trace) -> Trace:
    def fix(loc: Loc) -> Loc:
        return replace(loc, file=Path(loc.file).name)

    v = t.violation
    steps = tuple(replace(s, loc=fix(s.loc)) for s in t.steps)
    return replace(t, steps=steps, violation=replace(v, loc=fix(v.loc) if v.loc else None))


def _golden(name: str, actual: str) -> None:
    path = RENDER / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8")


def test_dot_golden(toy: Trace) -> None:
    _golden("component_toy.dot", render_dot(toy))


def test_svg_has_lifelines_arrows_and_the_violation(toy: Trace) -> None:
    svg = render_svg(toy)
    for actor in ("hda_probe", "i915_unbind"):
        assert f'id="lifeline_{actor}"' in svg
    for obj in ("hda", "gpu", "iomap"):
        assert f'id="lifeline_{obj}"' in svg
    # every call is an arrow (an edge with an arrowhead) labelled with the call
    n = 0
    for s in toy.steps:
        for i, c in enumerate(s.calls):
            block = re.search(rf'<g id="call_{s.index}_{i}" class="edge">(.*?)</g>', svg, re.S)
            assert block is not None, (s.index, i, c)
            assert "<polygon" in block.group(1)  # the arrowhead
            assert f"{c.proc}({', '.join(c.args)})" in svg
            n += 1
    assert n == 6
    # the violation: red, with the assertion's message and source line
    block = re.search(r'<g id="violation" class="node">(.*?)</g>', svg, re.S)
    assert block is not None
    assert 'stroke="#c62828"' in block.group(1)
    assert "use_after_release" in block.group(1)
    assert "iomap used after release" in block.group(1)
    assert "component_toy.drv:19:22" in block.group(1)
    assert "proc touch(r: Res)" in block.group(1)
    assert "Legend" in svg


def test_steps_run_top_to_bottom(toy: Trace) -> None:
    svg = render_svg(toy)
    ys = []
    for s in toy.steps:
        m = re.search(rf'<g id="node\d+" class="node">\s*<title>step{s.index}</title>\s*'
                      r'<text[^>]* y="(-?[\d.]+)"', svg)
        assert m is not None
        ys.append(float(m.group(1)))
    assert ys == sorted(ys) and len(set(ys)) == len(ys)


def test_output_is_deterministic(toy: Trace) -> None:
    assert render_dot(toy) == render_dot(toy)
    assert render_svg(toy) == render_svg(toy)
    assert render_png(toy) == render_png(toy)
    assert render_png(toy)[:8] == b"\x89PNG\r\n\x1a\n"


def _long_trace(n: int) -> Trace:
    """n steps of three actors in runs of four, touching three objects."""
    actors = ("probe", "unbind", "irq")
    objs = ("hda", "gpu", "dsi")
    state: dict[str, object] = {"refs": {o: 0 for o in objs}, "list": []}
    initial = dict(state)
    steps = []
    prev = initial
    for i in range(n):
        a = actors[(i // 4) % 3]
        o = objs[i % 3]
        refs = dict(prev["refs"])  # type: ignore[call-overload]
        refs[o] += 1
        new = {"refs": refs, "list": [*prev["list"], o][-3:]}  # type: ignore[misc]
        steps.append(TraceStep(i + 1, a, f"s{i + 1}", Loc("x.drv", i + 1, 1),
                               (CallRecord(0, "get_device", (o,)),
                                CallRecord(1, "kref_get", (o,))),
                               new, diff_states(prev, new)))
        prev = new
    v = Violation("p", "invariant", "p does not hold", Loc("x.drv", 99, 1))
    return Trace("long", "original", "p", "invariant", initial, tuple(steps), v, objs)


def test_long_traces_stay_readable() -> None:
    t = _long_trace(45)
    svg = render_svg(t)
    assert svg.count('class="edge"') == 45 * 2 + 6  # two calls per step and six lifelines
    # one band per run of one actor's steps: 12 runs, not 45 rows of switching colours
    assert len(re.findall(r"<title>band\d+</title>", svg)) == 12
    m = re.search(r'<svg width="[\d.]+pt" height="([\d.]+)pt"', svg)
    assert m is not None
    height = float(m.group(1))
    assert height < 45 * 90  # rows stay compact
    assert "45 s45" in svg


def test_reachable_witness_is_green_not_red() -> None:
    w = real_traces("component_toy.drv")["mapped"]
    assert w.violation.kind == "reachable"
    svg = render_svg(w)
    assert "REACHED: mapped" in svg and "#c62828" not in svg


def _attrs(dot: str, node: str) -> dict[str, str]:
    """The attributes of one node of DOT text (quoted values unquoted, escapes kept)."""
    m = re.search(rf"^\s*{re.escape(node)} \[(.*)\]$", dot, re.M)
    assert m is not None, node
    return {k: (q[1:-1] if q else b) for k, q, b in
            re.findall(r'(\w+)=(?:("(?:[^"\\]|\\.)*")|([^ \]]+))', m.group(1))}


def test_objects_carry_what_happened_to_them() -> None:
    t = real_traces("s4_mini.drv")["use_after_release"]
    dot = render_dot(t)
    lanes = ["i915_probe", "hda_probe", "i915_unbind", "hda_runtime_resume",
             "gpu", "hda", "acomp_match", "iomap"]
    for i, name in enumerate(lanes):
        assert _attrs(dot, f"lane_top_{i}")["label"] == name
    # iomap joins the devres list (green) in step 3 and leaves it, dead, in step 4 (red)
    iomap = lanes.index("iomap")
    a3, a4 = _attrs(dot, f"ann3_{iomap}"), _attrs(dot, f"ann4_{iomap}")
    assert (a3["fillcolor"], a3["label"]) == ("#e3f4e1", "+devres\\nlive ✓")
    assert (a4["fillcolor"], a4["label"]) == ("#ffe1e1", "-devres\\nlive ✗")
    n4 = _attrs(dot, "note4")
    assert n4["fillcolor"] == "#ffe1e1" and "released iomap" in n4["label"]


def test_what_the_failing_assertion_reads_is_framed_and_lookups_are_hidden() -> None:
    t = real_traces("s4_mini.drv")["use_after_release"]
    dot = render_dot(t)
    iomap = dot.count("ann4_7 [")
    assert iomap == 1
    # `assert live[iomap] ...` reads `live`: its annotations get the thick red frame
    a = _attrs(dot, "ann4_7")
    assert (a["color"], a["penwidth"]) == ("#c62828", "2.2")
    assert not re.search(r"ann1_\d+ \[[^]]*penwidth", dot)  # comp_added is not read by it
    # a look-up procedure is not drawn as a nested call, but counted
    fake = replace(t, queries=("try_to_bring_up_master",))
    assert "try_to_bring_up_master(hda)" in dot
    assert "try_to_bring_up_master(hda)" not in render_dot(fake)


SPECIAL = 'q"uote b\\ack {brace} <angle> |bar| a->b x\ny ünï — ✓'


def test_labels_with_every_dot_special_character_arrive_intact() -> None:
    # every label of the diagram goes through the graphviz package's quoting: the actor,
    # object, call argument, state note and the violation message all carry the specials
    step = TraceStep(1, SPECIAL, "st", Loc("s.drv", 1, 1),
                     (CallRecord(0, "touch", (SPECIAL,)),), {"v": 1}, diff_states({"v": 0},
                                                                                   {"v": 1}))
    t = Trace("sp", "original", "p", "assert", {"v": 0}, (step,),
              Violation("p", "assert", SPECIAL, Loc("s.drv", 2, 3)))
    texts = [html.unescape(x) for x in re.findall(r"<text[^>]*>([^<]*)</text>", render_svg(t))]
    for part in SPECIAL.split("\n"):  # a newline in a label starts a new line
        # the actor's lifeline heads (top, bottom) and the violation
        assert texts.count(part) == 3, (part, texts)
        assert f"touch({part}" in texts or f"{part})" in texts
    assert render_pdf(t).startswith(b"%PDF")


def test_without_dot_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch,
                                                      toy: Trace, tmp_path: Path) -> None:
    from drvmc.checker.errors import UsageError

    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` here
    with pytest.raises(UsageError, match="apt-get install graphviz"):
        render_svg(toy)


def test_render_without_dot_on_the_command_line(toy: Trace, tmp_path: Path) -> None:
    import subprocess
    import sys

    from drvmc.counterexamples.itf import dumps_itf

    saved = tmp_path / "t.itf.json"
    saved.write_text(dumps_itf(toy), encoding="utf-8")
    env = {**os.environ, "PATH": str(tmp_path)}  # python is run by its full path: no `dot`
    p = subprocess.run([sys.executable, "-m", "drvmc.checker", "render", str(saved), "--to",
                        "pdf", "-o", str(tmp_path / "t.pdf")], capture_output=True, text=True,
                       env=env, cwd=Path(__file__).resolve().parent.parent, timeout=120,
                       check=False)
    assert p.returncode == 3, p.stderr
    assert "apt-get install graphviz" in p.stderr and "Traceback" not in p.stderr


# ---------------------------------------------------------------------- the narrow view


def test_narrow_dot_golden(toy: Trace) -> None:
    _golden("component_toy.narrow.dot", render_dot(toy, narrow=True))


def _svg_width(svg: str) -> float:
    m = re.search(r'<svg width="([\d.]+)pt"', svg)
    assert m is not None
    return float(m.group(1))


def s4_sliced() -> Trace:
    """S4 in small with a causal slice fixed here (the slicer's own is tested elsewhere): the
    iomap mapped in step 3, released in step 4 by the devres group, used in step 5."""
    t = real_traces("s4_mini.drv")["use_after_release"]
    chain3 = ("pcim_iomap(hda)", "devres_add(hda, iomap)")
    chain4 = ("component_del(gpu)", "take_down_master(hda)", "devres_release_group(hda, NULL)")
    causal = CausalSlice(("live[iomap]",), ("azx_runtime_resume(hda)",), (
        StepSlice(3, (Cause(chain3, ("live[iomap]",)),), (0, 1)),
        StepSlice(4, (Cause(chain4, ("live[iomap]",)),), (0, 1, 3)),
        StepSlice(5, (), (0,))))
    return replace(t, causal=causal)


def test_narrow_keeps_only_the_slices_lifelines() -> None:
    t = s4_sliced()
    dot, whole = render_dot(t, narrow=True), render_dot(t)

    def heads(d: str) -> list[str]:
        return re.findall(r"^\s*lane_top_\d+ \[label=(\S+)", d, re.M)

    assert heads(whole) == ["i915_probe", "hda_probe", "i915_unbind", "hda_runtime_resume",
                            "gpu", "hda", "acomp_match", "iomap"]
    # i915_probe acts only in step 1, acomp_match is touched only in step 2: off the slice
    assert heads(dot) == ["hda_probe", "i915_unbind", "hda_runtime_resume", "gpu", "hda",
                          "iomap"]
    for i in (1, 2):  # a step off the slice: one grey line, no arrow
        label = _attrs(dot, f"s{i}_0_l")["label"]
        assert label.startswith(f"{t.steps[i - 1].actor}: ") and "off the slice" in label
        assert f"s{i}_0_a" not in dot
    # step 4 draws its slice's three calls, not component_unbind_all
    assert "component_unbind_all" in whole and "component_unbind_all" not in dot
    assert [_attrs(dot, f"s4_{r}_l")["label"].strip(" ↳") for r in range(3)] == list(
        t.causal.steps[1].causes[0].chain if t.causal else ())
    assert "legend" not in dot and "legend" in whole
    assert _svg_width(render_svg(t, narrow=True)) < 0.8 * _svg_width(render_svg(t))


def test_narrow_without_a_slice_is_the_whole_diagram(toy: Trace) -> None:
    bare = replace(toy, causal=None)  # a deadlock has none
    assert render_dot(bare, narrow=True) == render_dot(bare) == render_dot(toy)
