"""Mermaid sequence diagrams (`drvmc render --to mermaid`): a golden file, and every diagram
parsed by the mermaid npm package under node (installed into build/node by scripts/setup.sh).

Regenerate the golden files after an intended change with
`UPDATE_GOLDEN=1 python3 -m pytest tests/test_mermaid.py` and review the diff.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

from drvmc.checker.app.cli import app
from drvmc.checker.verdict.trace import CallRecord, Loc, Trace, TraceStep, Violation, diff_states
from drvmc.counterexamples.itf import dumps_itf
from drvmc.counterexamples.mermaid import render_mermaid, text
from tests.render_helpers import RENDER, real_traces, traces

ROOT = Path(__file__).parent.parent
MODULES = ROOT / "build" / "node" / "node_modules"
NODE = shutil.which("node")
PARSER_MISSING = (
    "node is not installed" if NODE is None else
    "the mermaid npm package is not installed (scripts/setup.sh puts it in build/node)"
    if not (MODULES / "mermaid").is_dir() or not (MODULES / "jsdom").is_dir() else None)
needs_mermaid = pytest.mark.skipif(PARSER_MISSING is not None, reason=PARSER_MISSING or "")


def _relocate(t: Trace) -> Trace:
    def fix(loc: Loc) -> Loc:
        return replace(loc, file=Path(loc.file).name)

    v = t.violation
    return replace(t, steps=tuple(replace(s, loc=fix(s.loc)) for s in t.steps),
                   violation=replace(v, loc=fix(v.loc) if v.loc else None))


def _golden(name: str, actual: str) -> None:
    path = RENDER / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8")


def parse_errors(diagrams: list[str], tmp: Path) -> list[str | None]:
    """Mermaid's verdict on each diagram: None, or its parse error."""
    assert NODE is not None
    batch = tmp / "diagrams.json"
    batch.write_text(json.dumps(diagrams), encoding="utf-8")
    p = subprocess.run([NODE, str(ROOT / "tests" / "mermaid_parse.mjs"), str(MODULES),
                        str(batch)], capture_output=True, text=True, timeout=300, check=False)
    assert p.returncode == 0, p.stderr
    out: list[str | None] = json.loads(p.stdout)
    assert len(out) == len(diagrams)
    return out


@pytest.fixture(scope="module")
def toy() -> Trace:
    return _relocate(real_traces("component_toy.drv")["use_after_release"])


def test_golden_narrow(toy: Trace) -> None:
    # the causal slice only: the whole file, as GitHub gets it
    _golden("component_toy.narrow.mmd", render_mermaid(toy, narrow=True))


def test_golden_whole(toy: Trace) -> None:
    _golden("component_toy.mmd", render_mermaid(toy))


def test_narrow_keeps_only_the_slices_lifelines() -> None:
    t = real_traces("s4_mini.drv")["use_after_release"]
    assert t.causal is not None
    on = {s.index for s in t.causal.steps}
    whole, narrow = render_mermaid(t), render_mermaid(t, narrow=True)
    heads = [x.split(" as ", 1)[1] for x in narrow.splitlines() if "participant " in x]
    assert set(heads) < {x.split(" as ", 1)[1] for x in whole.splitlines()
                         if "participant " in x}
    # every lifeline of the narrow diagram belongs to a step on the slice or to a call on it
    actors = {s.actor for s in t.steps if s.index in on}
    assert {h for h in heads if h in {s.actor for s in t.steps}} == actors
    # a step off the slice is one folded line
    for s in t.steps:
        if s.index not in on:
            assert f"[{s.index}] {s.label} · {s.actor}: " in narrow
            assert "off the slice" in narrow


def test_text_escapes_what_mermaid_reads_as_syntax() -> None:
    assert text("a; b # c <d> & e\nf") == "a#59; b #35; c #lt;d#gt; #amp; e f"
    assert text("   ") == "#32;"  # an empty message is a syntax error


def _special_trace() -> Trace:
    nasty = "end; x#1 <b>&amp; %%{init}%% a->>b: c"
    step = TraceStep(1, "end", "loop", Loc("s.drv", 1, 1),
                     (CallRecord(0, "touch", (nasty, "NULL")),
                      CallRecord(1, "note", ("participant",))),
                     {"v": 1}, diff_states({"v": 0}, {"v": 1}))
    return Trace("sp", "original", "p", "assert", {"v": 0}, (step,),
                 Violation("p", "assert", nasty, Loc("s.drv", 2, 3), "assert false; # no"),
                 (nasty, "participant"))


@needs_mermaid
def test_every_rendering_parses(tmp_path: Path) -> None:
    diagrams = []
    for name in ("component_toy.drv", "s4_mini.drv", "switches.drv"):
        for t in real_traces(name).values():
            diagrams += [render_mermaid(t), render_mermaid(t, narrow=True)]
    diagrams.append(render_mermaid(_special_trace()))
    bad = "sequenceDiagram\n    a1->>: nothing\n"  # the parser does reject what is wrong
    errors = parse_errors([*diagrams, bad], tmp_path)
    assert errors[:-1] == [None] * len(diagrams), [e for e in errors if e]
    assert errors[-1] is not None and "Parse error" in errors[-1]


@needs_mermaid
def test_generated_traces_parse(tmp_path: Path) -> None:
    found: list[str] = []

    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(traces())
    def collect(t: Trace) -> None:
        found.extend([render_mermaid(t), render_mermaid(t, narrow=True)])

    collect()
    errors = parse_errors(found, tmp_path)
    assert [(d, e) for d, e in zip(found, errors, strict=True) if e] == []


def test_render_command(toy: Trace, tmp_path: Path) -> None:
    saved = tmp_path / "t.itf.json"
    saved.write_text(dumps_itf(toy), encoding="utf-8")
    r = CliRunner().invoke(app, ["render", str(saved), "--to", "mermaid", "--narrow"])
    assert r.exit_code == 0, r.stderr
    assert r.stdout == render_mermaid(toy, narrow=True)
    out = tmp_path / "t.mmd"
    r = CliRunner().invoke(app, ["render", str(saved), "--to", "mermaid", "-o", str(out)])
    assert r.exit_code == 0, r.stderr
    assert out.read_text(encoding="utf-8") == render_mermaid(toy)
    r = CliRunner().invoke(app, ["render", str(saved), "--to", "text", "--narrow"])
    assert r.exit_code == 3 and "--narrow is for diagrams" in r.stderr


# ---------------------------------------------------------------------- the seeds


@pytest.mark.slow
@needs_mermaid
def test_seed_counterexamples_parse(tmp_path: Path) -> None:
    """Every VIOLATED of every variant of specs/*.drv, whole and narrow (minutes)."""
    from drvmc.checker.app.driver import CheckOptions, check_spec
    from drvmc.checker.verdict.results import Status

    diagrams: dict[str, str] = {}
    for spec in sorted((ROOT / "specs").glob("*.drv")):
        rep = check_spec(spec, CheckOptions(depth=40, all_variants=True))
        for row in rep.rows:
            t = row.result.trace
            if row.result.status is Status.VIOLATED and t is not None:
                for narrow in (False, True):
                    key = f"{spec.name} {row.variant} {row.result.prop} narrow={narrow}"
                    diagrams[key] = render_mermaid(t, narrow)
    assert len(diagrams) >= 2 * len(list((ROOT / "specs").glob("*.drv")))
    errors = parse_errors(list(diagrams.values()), tmp_path)
    assert {k: e for k, e in zip(diagrams, errors, strict=True) if e} == {}
