"""The driver-core library (specs/lib/devres, refcount, device) pinned to its documented semantics.

Each spec in tests/lib/core/ runs through the real pipeline (check_spec); every row must match the
spec's `expect` lines (or be safe / reached), and the traces and states show the specific facts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.verdict.records import SpecReport
from drvmc.checker.verdict.results import Result, Status
from drvmc.checker.verdict.trace import Trace

CORE = Path(__file__).parent / "lib" / "core"
SPECS = sorted(p.stem for p in CORE.glob("*.drv"))


@pytest.fixture(scope="module")
def reports() -> dict[str, SpecReport]:
    return {name: check_spec(CORE / f"{name}.drv", CheckOptions(depth=14)) for name in SPECS}


def _result(report: SpecReport, prop: str) -> Result:
    return next(r.result for r in report.rows if r.result.prop == prop)


def _trace(report: SpecReport, prop: str) -> Trace:
    t = _result(report, prop).trace
    assert t is not None
    return t


def _calls(trace: Trace, step: int) -> list[str]:
    return [str(c) for c in trace.steps[step - 1].calls]


@pytest.mark.parametrize("name", SPECS)
def test_every_result_matches_its_expect(reports: dict[str, SpecReport], name: str) -> None:
    bad = [(r.result.prop, r.result.verdict_text(), r.expected) for r in reports[name].rows
           if not r.ok]
    assert bad == []


def test_release_of_open_group_by_null_goes_to_the_end(reports: dict[str, SpecReport]) -> None:
    rep = reports["devres_release_open_null"]
    t = _trace(rep, "not_owned")
    assert [(s.actor, s.label) for s in t.steps] == [("a", "open"), ("a", "later"), ("a", "rel")]
    assert "devres_release_group(d0, NULL)" in _calls(t, 3)
    after = t.steps[2].state
    # r1 was added after the group by other code: it goes with the group. The WARN comes while
    # the entries are taken off the list (remove_nodes), before any release callback: r1 is off
    # the list (dying) and still live, r0 (before the group) untouched
    assert after["res_state"] == {"r0": "res_live", "r1": "res_live"}
    assert after["devres"]["d0"][2]["dying"] is True and after["devres"]["d0"][0]["dying"] is False
    assert _result(rep, "released_to_end").status is Status.PROVEN


def test_closed_group_stops_at_close_marker_and_removed_group_keeps_entries(
        reports: dict[str, SpecReport]) -> None:
    rep = reports["devres_groups_closed"]
    t = _trace(rep, "devres_warn")
    assert [s.label for s in t.steps] == ["fill", "remove", "release", "release_nodes.release",
                                          "again"]
    assert t.steps[1].state["after_remove"] is True
    # the group's entry is taken off the list in the call's step and released in the next
    assert t.steps[2].state["res_state"]["r0"] == "res_live"
    assert t.steps[2].state["devres"]["d0"][1]["dying"] is True
    assert t.steps[3].state["res_state"] == {"r0": "res_released", "r1": "res_live",
                                             "r2": "res_live"}
    assert t.steps[4].state["after_release"] is True
    # the WARN is the release of the removed group gb, in step 5
    assert "devres_release_group(d0, gb)" in _calls(t, 5)
    assert t.violation.message == "devres_release_group: group not found"
    assert _result(rep, "checked").status is Status.PROVEN
    assert _result(rep, "not_owned").status is Status.PROVEN


def test_devm_actions_newest_match_and_absent_warns(reports: dict[str, SpecReport]) -> None:
    rep = reports["devm_actions"]
    t = _trace(rep, "devres_warn")
    assert [s.label for s in t.steps] == ["add", "remove", "release", "absent"]
    assert t.steps[1].state["mid"] is True  # the newest (x0) dropped, not run
    assert t.steps[2].state["ran"] == 1 and t.steps[2].state["res_state"]["x1"] == "res_released"
    assert t.violation.message == "devm_remove_action: action not found"
    assert _result(rep, "checked").status is Status.PROVEN


def test_refcount_checks(reports: dict[str, SpecReport]) -> None:
    rep = reports["refcount_checks"]
    t = _trace(rep, "refcount_zero_inc")
    assert [s.label for s in t.steps] == ["inz0", "kref", "inc0"]
    # inc_not_zero at 0: false, no warning (the WARN is step 3's refcount_inc), count unchanged
    assert t.steps[0].state["inz"] is False
    assert t.steps[0].state["refs"]["c0"] == {"n": 0, "sat": False}
    # the addition on 0 saturates
    assert t.steps[2].state["refs"]["c0"]["sat"] is True
    assert t.violation.message == "refcount_t: addition on 0; use-after-free"
    u = _trace(rep, "refcount_underflow")
    assert [s.label for s in u.steps][-1] == "dec" and u.steps[-1].state["dec_on_sat"] is False
    assert _result(rep, "checked").status is Status.PROVEN


def test_put_device_releases_at_last_put_only(reports: dict[str, SpecReport]) -> None:
    rep = reports["device_lifecycle"]
    t = _trace(rep, "use_after_release")
    # every devres release callback is a step of its own, after the step that started it; an
    # unbind takes device_lock in the step that calls it, remove() runs in the next
    assert [s.label for s in t.steps] == [
        "probe1", "release_nodes.release", "probe2", "unbind", "device_release_driver.unbind",
        "release_nodes#3.release", "child", "unreg", "device_release_driver#2.unbind",
        "release_nodes#5.release", "put", "late"]
    unreg, put = t.steps[9].state, t.steps[10].state
    assert unreg["dev_state"]["child"] == "dev_deleted" and unreg["released"] == 0
    assert unreg["dev_kref"]["child"] == {"n": 1, "sat": False}
    assert not unreg["dev_locked"]["child"] and unreg["dev_dead"]["child"]
    assert put["dev_state"]["child"] == "dev_freed" and put["released"] == 1
    assert "device_last_put(child)" in _calls(t, 11)
    # probe failure released the probe's devres; remove() ran before the devres release
    assert t.steps[2].state["failed_released"] is True
    assert t.steps[4].state["remove_saw_buf"] is True
    assert t.steps[4].state["res_state"]["buf"] == "res_live"
    assert t.steps[5].state["res_state"]["buf"] == "res_released"
    assert t.violation.message == "use of a freed device"
    assert _result(rep, "checked").status is Status.PROVEN
