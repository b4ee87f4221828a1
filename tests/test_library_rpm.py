"""runtime_pm.drv's devm_pm_runtime_enable, autosuspend and sticky runtime_error, pinned to the
kernel (drivers/base/power/runtime.c, include/linux/pm_runtime.h, Linux v6.x).

Each spec in tests/lib/rpm/ states its verdicts with `expect` lines: the driver bug VIOLATED with
the faithful library, its fix PROVEN. The tests below also pin the traces: which step runs the
callback, which actor (the suspend timer, pm_wq), and the runtime-PM state around it. Every Z3
engine must agree with the exhaustive search on each variant (slow suite).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drvmc.checker.verdict.records import SpecReport
from drvmc.checker.verdict.results import Status
from drvmc.checker.verdict.trace import Trace
from tests.lib_specs import disagreements, engine_cases, reports_of, row, specs_in, unmet_expects

HERE = Path(__file__).resolve().parent / "lib" / "rpm"
SPECS = specs_in(HERE)
CASES = engine_cases(SPECS)
DEPTH = 14
ALWAYS = ("rpm_callback_atomic", "unbind_without_rpm")  # declared, always on


@pytest.fixture(scope="module")
def reports() -> dict[str, SpecReport]:
    return reports_of(SPECS)


def _trace(rep: SpecReport, variant: str, prop: str) -> Trace:
    t = row(rep, variant, prop).trace
    assert t is not None
    return t


def _procs(t: Trace, step: int) -> list[str]:
    return [c.proc for c in t.steps[step].calls]


def _in_order(names: list[str], want: list[str]) -> bool:
    it = iter(names)
    return all(w in it for w in want)


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_every_result_matches_its_expect(reports: dict[str, SpecReport], spec: Path) -> None:
    bad = unmet_expects(reports[spec.stem])
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize(("spec", "variant", "engine"), CASES)
def test_engines_agree_with_the_exhaustive_search(spec: Path, variant: str, engine: str) -> None:
    bad = disagreements(spec, variant, engine, DEPTH)
    assert not bad, "\n".join(bad)


def test_devm_pm_runtime_enable_action_is_released_lifo_in_a_step_of_its_own(
        reports: dict[str, SpecReport]) -> None:
    rep = reports["devm_rpm_enable_order"]
    t = _trace(rep, "original", "use_after_release")
    assert [(s.actor, s.label) for s in t.steps] == [
        ("drv", "probe"), ("drv", "unbind"), ("drv", "device_release_driver.unbind"),
        ("drv", "release_nodes.release"), ("drv", "release_nodes.release")]
    # the action is a device-datum devres entry, the older of the two
    probe = t.steps[0].state
    assert probe["devres"]["pdev"][0]["kind"] == "dr_action"
    assert probe["devres"]["pdev"][0]["dact"] == "pm_runtime_disable_action"
    assert probe["devres"]["pdev"][1]["kind"] == "dr_res"
    # newest first: clk is released in a step of its own, runtime PM still enabled
    clk_gone = t.steps[3].state
    assert clk_gone["res_state"]["clk"] == "res_released"
    assert clk_gone["rpm_disable_depth"]["pdev"] == 0 and clk_gone["rpm_active"]["pdev"] is True
    # then the action: pm_runtime_dont_use_autosuspend's rpm_idle suspends the idle device now,
    # before pm_runtime_disable
    assert _in_order(_procs(t, 4), [
        "pm_runtime_disable_action", "pm_runtime_dont_use_autosuspend",
        "rpm_idle", "rpm_suspend_flags", "rpm_suspend_callback", "resource_use",
        "pm_runtime_disable"])
    assert t.steps[4].state["rpm_disable_depth"]["pdev"] == 1
    # the fix, and an action that only disables: proved, with nothing new assumed
    for v in ("clk_first", "disable_only"):
        r = row(rep, v, "use_after_release")
        assert r.status is Status.PROVEN and r.assumes == ALWAYS


def test_devm_pm_runtime_enable_that_cannot_add_its_action_disables_again(
        reports: dict[str, SpecReport]) -> None:
    rep = reports["devm_rpm_enable_order"]
    t = _trace(rep, "add_fails", "enable_ok")
    s = t.steps[0].state
    assert s["rpm_disable_depth"]["pdev"] == 1 and s["devres_next"]["pdev"] == 0
    assert "pm_runtime_disable_action" in _procs(t, 0)
    assert row(rep, "add_fails", "action_state").status is Status.PROVEN


def test_put_autosuspend_in_remove_leaves_the_suspend_pending(
        reports: dict[str, SpecReport]) -> None:
    rep = reports["rpm_autosuspend_remove"]
    # the delay passed: the put queues the request at once, pm_wq runs it after devres
    t = _trace(rep, "original", "use_after_release")
    remove = t.steps[2].state
    assert remove["rpm_active"]["pdev"] is True and remove["rpm_usage"]["pdev"] == 0
    assert remove["rpm_suspend_pending"]["pdev"] is True
    assert (t.steps[-1].actor, t.steps[-1].label) == ("pm_runtime_work[1]", "run")
    assert _in_order(_procs(t, 4), ["rpm_suspend_flags", "rpm_callback", "rpm_suspend_callback"])
    # pm_runtime_put_sync with autosuspend in use (the delay not passed) only arms the timer:
    # the timer fires after devres, queues the request, pm_wq suspends
    t = _trace(rep, "put_sync_arms_timer", "use_after_release")
    remove = t.steps[2].state
    assert remove["rpm_timer_armed"]["pdev"] is True and remove["rpm_active"]["pdev"] is True
    assert remove["rpm_suspend_pending"]["pdev"] is False
    assert [(s.actor, s.label) for s in t.steps[3:]] == [
        ("drv", "release_nodes.release"), ("pm_suspend_timer[1]", "fire"),
        ("pm_runtime_work[1]", "run")]
    assert t.steps[4].state["rpm_suspend_pending"]["pdev"] is True
    # pm_runtime_dont_use_autosuspend leaves an autosuspend request already queued alone
    t = _trace(rep, "put_then_dont_use", "use_after_release")
    assert t.steps[2].state["rpm_suspend_pending"]["pdev"] is True
    assert t.steps[2].state["rpm_use_autosuspend"]["pdev"] is False
    # without use_autosuspend: the same request as pm_runtime_put's
    t = _trace(rep, "no_autosuspend", "use_after_release")
    assert t.steps[2].state["rpm_timer_armed"]["pdev"] is False
    # disabling runtime PM stops the timer and cancels the request
    for v in ("put_then_disable", "put_then_dont_use_disable"):
        r = row(rep, v, "use_after_release")
        assert r.status is Status.PROVEN and r.assumes == ALWAYS


def test_autosuspend_timer_semantics(reports: dict[str, SpecReport]) -> None:
    rep = reports["rpm_autosuspend_timer"]
    for v in ("original", "resume_keeps_timer", "disable_stops_timer", "dont_use_suspends_now",
              "no_use", "delay_zero", "negative_delay"):
        assert row(rep, v, "order").status is Status.PROVEN, v
    # the timer is really pending after the put (the sequences that assume it are not vacuous)
    t = _trace(rep, "original", "timer_pending")
    assert [(s.actor, s.label) for s in t.steps] == [("t", "setup"), ("t", "put")]
    assert row(rep, "no_use", "timer_pending").status is Status.UNREACHABLE
    assert row(rep, "delay_zero", "timer_pending").status is Status.UNREACHABLE


def test_runtime_error_is_sticky(reports: dict[str, SpecReport]) -> None:
    rep = reports["rpm_runtime_error"]
    t = _trace(rep, "original", "sticky_error")
    io = t.steps[1]
    assert io.state["rpm_runtime_error"]["d"] is True
    assert io.state["resumes"] == 1  # the retry ran no callback
    assert io.state["rpm_active"]["d"] is False and io.state["rpm_usage"]["d"] == 0
    assert _procs(t, 1).count("rpm_resume_callback") == 1
    # pm_runtime_set_suspended clears it (allowed on an enabled device with an error)
    assert row(rep, "cleared", "io_ok").status is Status.PROVEN
    # -EBUSY and -EACCES (as -EAGAIN) are not sticky
    assert row(rep, "ebusy", "io_ok").status is Status.PROVEN
    assert row(rep, "eacces", "io_ok").status is Status.PROVEN
    # a failed ->runtime_suspend: the device stays active, yet the next get fails (-EINVAL)
    t = _trace(rep, "suspend_fails", "io_ok")
    io = t.steps[1]
    assert io.state["rpm_active"]["d"] is True and io.state["rpm_runtime_error"]["d"] is True
    assert io.state["suspends"] == 1 and io.state["resumes"] == 1
    assert row(rep, "suspend_ebusy", "io_ok").status is Status.PROVEN
