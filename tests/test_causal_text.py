"""The causal view of a counterexample (the default text): the summary, the call chain to each
write the violation depends on, the rest folded; `--full` keeps the complete listing.

The S4 seed's release step must show the chain the bug is about, and every line of every seed
counterexample must fit in 100 columns (the summary in 80), with one spelling of a null handle
and no change listed twice.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drvmc.checker.app.cli import app
from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.verdict.records import SpecReport
from drvmc.checker.verdict.results import Status
from drvmc.checker.verdict.trace import Trace, with_sources
from drvmc.counterexamples.itf import dumps_itf, loads_itf
from drvmc.counterexamples.text import render_text

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.drv"))
S4 = ROOT / "specs" / "component_master_devres.drv"


def _cex(rep: SpecReport) -> list[tuple[str, Trace]]:
    out = []
    for r in rep.rows:
        t = r.result.trace
        if r.result.status is Status.VIOLATED and t is not None:
            src = rep.program.sources if rep.program else {}
            out.append((f"{rep.spec}/{r.variant}/{r.result.prop}", with_sources(t, src)))
    return out


@pytest.fixture(scope="module")
def seeds() -> list[tuple[str, Trace]]:
    return [x for p in SPECS for x in _cex(check_spec(p, CheckOptions(engine="auto",
                                                                     all_variants=True)))]


def _steps(text: str) -> dict[int, list[str]]:
    """Each step's block of lines: its header and what is indented under it."""
    out: dict[int, list[str]] = {}
    cur: int | None = None
    for line in text.splitlines():
        m = re.match(r"\[\s*(\d+)\]", line)
        if m:
            cur = int(m.group(1))
            out[cur] = [line]
        elif cur is not None and line.startswith(" "):
            out[cur].append(line)
        else:
            cur = None
    return out


def test_s4_release_step_shows_the_chain() -> None:
    rep = check_spec(S4, CheckOptions(engine="auto", properties=("use_after_release",)))
    ((_, t),) = _cex(rep)
    text = render_text(t)
    release = [b for b in _steps(text).values()
               if any("⇒ res_state[iomap]: res_live → res_released" in x for x in b)]
    assert len(release) == 1, text
    block = "\n".join(release[0])
    for call in ("component_del(", "take_down_master(", "devres_release_group(hda, NULL)"):
        assert call in block, block
    # the summary names the release and the use
    summary = text.split("\n\n", 1)[0]
    assert "res_released" in summary and "resource_use(iomap)" in summary
    # --full lists every call of every step, as before
    assert len(render_text(t, full=True).splitlines()) > len(text.splitlines())


def test_every_seed_counterexample_fits(seeds: list[tuple[str, Trace]]) -> None:
    assert len(seeds) >= 5
    for name, t in seeds:
        assert t.causal is not None, name
        text = render_text(t)
        summary, _, _ = text.partition("\n\n")
        assert all(len(x) <= 80 for x in summary.splitlines()), (name, summary)
        for line in text.splitlines():
            assert len(line) <= 100, (name, line)
            source = line.lstrip().startswith("at ") or re.match(r"\s+\d+ \| ", line)
            if not source:
                assert not re.search(r"\bnull\b", line), (name, line)  # one spelling: NULL
        for index, block in _steps(text).items():
            changes = [x.split("⇒ ", 1)[1].split(":", 1)[0] for x in block if "⇒ " in x]
            assert len(changes) == len(set(changes)), (name, index, block)


def test_either_outcome_is_shown_where_it_was_made() -> None:
    rep = check_spec(ROOT / "tests/fixtures/replay/choice.drv", CheckOptions(engine="auto"))
    ((_, t),) = _cex(rep)
    step1 = _steps(render_text(t))[1]
    assert "       either at choice.drv:12 → branch 2 of 2" in step1


def test_the_slice_survives_itf_and_check_full() -> None:
    rep = check_spec(ROOT / "tests/golden/race.drv", CheckOptions(engine="auto"))
    ((_, t),) = _cex(rep)
    back = loads_itf(dumps_itf(t))
    assert back.causal == t.causal and back.causal is not None
    assert render_text(back) == render_text(t)
    r = CliRunner().invoke(app, ["check", str(ROOT / "tests/golden/race.drv"), "--full",
                                 "--no-timings"])
    assert "[ 1] probe   map   — live[iomap] set\n" in r.stdout
    assert "It reads" not in r.stdout


CLOSED = """
property use_after_release "no use after release"
var freed: bool = false
var held: bool = false
proc kfree(x: 0..1) {
  assert !held as use_after_release, "freed while held"
  freed = true
}
proc teardown(x: 0..1) {
  first:
    held = true
  second:
    held = held
}
actor a {
  s: teardown(1)
  t: kfree(0)
}
"""


def test_a_returned_labelled_procedure_is_not_named_as_the_caller(tmp_path: Path) -> None:
    # teardown's steps open its frame; step t runs at the actor's own level, so its kfree is
    # called by the step, not by teardown (a return makes no call record: the step's label says
    # where it runs)
    spec = tmp_path / "closed.drv"
    spec.write_text(CLOSED, encoding="utf-8")
    rep = check_spec(spec, CheckOptions(engine="auto", properties=("use_after_release",)))
    ((_, t),) = _cex(rep)
    assert t.causal is not None
    assert [s.label for s in t.steps][-1] == "t"
    assert t.causal.failing == ("kfree(0)",), t.causal.failing
