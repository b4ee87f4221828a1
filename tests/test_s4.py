"""S4 (specs/component_master_devres.drv): every variant gets its expected verdicts, and the
original's use-after-release counterexample is the kernel's sequence from the seed thread."""

from __future__ import annotations

from pathlib import Path

import pytest

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.verdict.records import SpecReport
from drvmc.checker.verdict.results import Result, Status

SPEC = Path(__file__).resolve().parent.parent / "specs" / "component_master_devres.drv"

# every variant of S4 by BMC takes minutes; tests/test_explicit.py covers its expect lines fast
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report() -> SpecReport:
    return check_spec(SPEC, CheckOptions(all_variants=True))


def _result(rep: SpecReport, variant: str, prop: str) -> Result:
    return next(r.result for r in rep.rows if r.variant == variant and r.result.prop == prop)


def test_every_variant_matches_its_expect(report: SpecReport) -> None:
    assert report.variants == ["original", "landed_fix", "audio_closes_group", "child_device"]
    bad = [(r.variant, r.result.prop, r.result.verdict_text(), r.expected)
           for r in report.rows if not r.ok]
    assert bad == []


def test_original_trace_is_the_kernel_sequence(report: SpecReport) -> None:
    r = _result(report, "original", "use_after_release")
    assert r.status is Status.VIOLATED and r.trace is not None
    t = r.trace
    assert [(s.actor, s.label) for s in t.steps] == [
        ("i915_probe", "probe"),         # component_add
        ("hda_probe", "acomp"),          # component_master_add_with_match → bring-up
        ("hda_probe", "wait"),
        ("hda_probe", "map"),            # pcim_iomap: lands inside the open group
        ("i915_unbind", "unbind"),       # component_del → take_down_master → release by NULL
        ("hda_runtime_resume", "resume"),  # touches the iomap
    ]
    calls = [[str(c) for c in s.calls] for s in t.steps]
    assert "component_add(gpu, i915_audio)" in calls[0]
    assert "component_master_add_with_match(hda, hda_master)" in calls[1]
    assert "try_to_bring_up_master(hda_master, NULL)" in calls[1]
    assert "devres_open_group(hda, NULL)" in calls[1]
    assert "devres_add(hda, iomap)" in calls[3]
    unbind = calls[4]
    order = ["component_del(gpu, i915_audio)", "take_down_master(hda_master)",
             "devres_release_group(hda, NULL)"]
    assert all(c in unbind for c in order)
    assert [unbind.index(c) for c in order] == sorted(unbind.index(c) for c in order)
    assert "resource_use(iomap)" in calls[5]
    # the mapping is live after the probe and released by the display driver's unbind
    assert t.steps[3].state["res_state"]["iomap"] == "res_live"
    assert t.steps[4].state["res_state"]["iomap"] == "res_released"
    assert t.violation.message == "use of a released resource"


def test_original_release_is_by_a_group_that_does_not_own_the_iomap(report: SpecReport) -> None:
    r = _result(report, "original", "not_owned")
    assert r.status is Status.VIOLATED and r.trace is not None
    assert r.trace.steps[-1].state["res_state"]["iomap"] == "res_released"


@pytest.mark.parametrize("variant", ["landed_fix", "child_device"])
def test_fixes_proven_and_the_work_still_happens(report: SpecReport, variant: str) -> None:
    for prop in ("use_after_release", "not_owned", "devres_warn", "no_leak", "deadlock"):
        assert _result(report, variant, prop).status is Status.PROVEN, prop
    for target in ("audio_master_bound", "audio_runs_mapped", "audio_survives_display_unbind"):
        assert _result(report, variant, target).status is Status.REACHABLE, target


def test_audio_closing_the_group_warns_at_take_down(report: SpecReport) -> None:
    # the iomap is safe, but component.c (v5.15) still releases by NULL and finds no open group
    assert _result(report, "audio_closes_group", "use_after_release").status is Status.PROVEN
    r = _result(report, "audio_closes_group", "devres_warn")
    assert r.status is Status.VIOLATED and r.trace is not None
    assert r.trace.violation.message == "devres_release_group: group not found"
    assert "take_down_master(hda_master)" in [str(c) for c in r.trace.steps[-1].calls]
