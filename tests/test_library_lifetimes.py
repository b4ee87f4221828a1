"""Objects with lifetimes pinned to the kernel: kobjects and krefs from a bounded pool
(lib/kobject.drv), character devices and open files (cdev.drv), sysfs attributes against
unbind (sysfs.drv), device links as refcounted objects and the managed-link state machine
(device_link.drv).

Each spec in tests/lib/lifetimes/ states its verdicts with `expect` lines (misuse VIOLATED on
the property the kernel would report, correct use PROVEN); every Z3 engine must agree with the
exhaustive search on each variant.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drvmc.checker.verdict.records import SpecReport
from drvmc.checker.verdict.results import Status
from tests.lib_specs import disagreements, engine_cases, reports_of, row, specs_in, unmet_expects

HERE = Path(__file__).resolve().parent / "lib" / "lifetimes"
SPECS = specs_in(HERE)
CASES = engine_cases(SPECS)
DEPTH = 16


@pytest.fixture(scope="module")
def reports() -> dict[str, SpecReport]:
    return reports_of(SPECS)



@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_every_result_matches_its_expect(reports: dict[str, SpecReport], spec: Path) -> None:
    rep = reports[spec.stem]
    bad = unmet_expects(rep)
    assert not bad, "\n".join(bad)
    # the rows are proofs, not bounds: every run of these specs ends
    assert all(r.result.status is not Status.SAFE for r in rep.rows)


def test_a_stale_pointer_is_caught_after_its_slot_was_reallocated(
        reports: dict[str, SpecReport]) -> None:
    """The reallocated slot is the same one (o1) with a newer generation, and the use through
    the old pointer is what fails — not the allocation."""
    r = row(reports["kobject_basics"], "stale", "use_after_release")
    assert r.status is Status.VIOLATED and r.trace is not None
    last = r.trace.steps[-1]
    assert last.label == "deref"
    assert last.state["parent"] == {"o": "o1", "gen": 1}
    assert last.state["child"] == {"o": "o1", "gen": 2}


def test_device_link_double_delete_fails_on_the_second_del(
        reports: dict[str, SpecReport]) -> None:
    r = row(reports["device_link_refs"], "double_del", "use_after_release")
    assert r.status is Status.VIOLATED and r.trace is not None
    assert [s.label for s in r.trace.steps] == ["add", "del1", "del2"]


def test_sysfs_removal_drain_orders_the_callback_before_the_free(
        reports: dict[str, SpecReport]) -> None:
    """Without the drain the read that took its active reference before the unbind would run
    after priv was freed; the base proves it cannot, and the late removal shows it can."""
    assert row(reports["sysfs_unbind"], "original", "use_after_release").status is Status.PROVEN
    late = row(reports["sysfs_unbind"], "late_remove", "use_after_release")
    assert late.status is Status.VIOLATED and late.trace is not None
    labels = [s.label for s in late.trace.steps]
    assert labels.index("driver_remove.free") < labels.index("call")


@pytest.mark.parametrize(("spec", "variant", "engine"), CASES)
def test_engines_agree_with_the_exhaustive_search(spec: Path, variant: str, engine: str) -> None:
    bad = disagreements(spec, variant, engine, DEPTH)
    assert not bad, "\n".join(bad)


def test_the_last_close_runs_the_device_release_and_its_devm_actions(
        reports: dict[str, SpecReport]) -> None:
    """cdev.drv's release puts the device with the faithful put_device: when the file's close
    drops the last reference, the device's release runs there, in the file's thread, and the
    devm action added after device_del is released in a step of its own."""
    rep = reports["cdev_last_put_devres"]
    w = row(rep, "original", "late_then_released")
    assert w.status is Status.REACHABLE and w.trace is not None
    close, release = w.trace.steps[-2], w.trace.steps[-1]
    assert close.actor == release.actor == "chrdev_file[1]"
    calls = [c.proc for c in close.calls]
    assert calls.index("cdev_default_release") < calls.index("put_device") \
        < calls.index("device_last_put")
    assert close.state["res_state"]["buf"] == "res_live"  # the action has not run yet
    assert release.label.startswith("release_nodes") and release.label.endswith(".release")
    assert [c.proc for c in release.calls][:2] == ["unmap_buf", "resource_release"]
    assert release.state["dev_state"]["cdev_dev"] == "dev_freed"
    assert row(rep, "original", "model_limit").status is Status.PROVEN


def test_a_freed_link_puts_its_devices_in_its_release_work(
        reports: dict[str, SpecReport]) -> None:
    """device_link_del frees the link at once, but the supplier's last put (the link's) comes
    later, in the link's release work: its devres is released there, each callback in a step of
    its own, and a use after the del races with that work."""
    r = row(reports["device_link_release_work"], "stale_use", "use_after_release")
    assert r.status is Status.VIOLATED and r.trace is not None
    steps = r.trace.steps
    assert [s.actor for s in steps[:3]] == ["a", "a", "a"]
    assert steps[2].state["dev_state"]["sup"] == "dev_added"  # the del frees nothing yet
    work = [s for s in steps if s.actor.startswith("device_link_release_work")]
    assert [s.label.split("#")[0] for s in work] == ["release", "release_nodes"]
    assert work[1].label.endswith(".release")
    first = work[0]
    calls = [c.proc for c in first.calls]
    assert calls.index("put_device") < calls.index("device_last_put")
    assert any("unmap_buf" in [c.proc for c in s.calls] for s in work[1:])
    assert work[-1].state["dev_state"]["sup"] == "dev_freed"
    assert steps[-1].actor == "a" and steps[-1].label == "use"
    assert row(reports["device_link_release_work"], "original", "released").status \
        is Status.PROVEN
