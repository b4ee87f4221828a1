"""probe.drv pinned to the kernel's probe paths (drivers/base/dd.c): driver_probe_device around
really_probe, the deferred-probe lists, their trigger and worker, asynchronous probing racing
device_del and driver unregistration.

Each spec in tests/lib/probe/ states its verdicts with `expect` lines: its base variant is the
kernel's behaviour (proved: every run of these specs ends), and each other variant removes one
rule of dd.c (the deferred-probe trigger, the trigger-count recheck, driver_deferred_probe_del
in device_del, the dead check, async_synchronize_full in driver_detach, pm_runtime_reinit, the
supplier references) and is caught, so a library change that alters a path flips a verdict here.
The traces are checked where the order of steps is the point (a bind between a probe and its
deferral; a probe after kill_device). Every Z3 engine must agree with the exhaustive search on
each variant (slow suite).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drvmc.checker.verdict.records import SpecReport
from drvmc.checker.verdict.results import Status
from tests.helpers import steps
from tests.lib_specs import disagreements, engine_cases, reports_of, row, specs_in, unmet_expects

HERE = Path(__file__).resolve().parent / "lib" / "probe"
SPECS = specs_in(HERE)
CASES = engine_cases(SPECS)
DEPTH = 12  # the longest counterexample or witness of these specs is 11 steps
ALWAYS = ("probe_without_rpm_idle", "rpm_callback_atomic")  # declared, always on
# variants that are the fix rather than a broken rule (their base is the kernel's bug)
FIXES = {("probe_lock_wait", "no_wait")}


@pytest.fixture(scope="module")
def reports() -> dict[str, SpecReport]:
    return reports_of(SPECS)


def test_there_are_probe_specs() -> None:
    assert {"deferred_trigger", "deferred_del", "async_device_del", "async_driver_unregister",
            "probe_failure_rpm", "probe_lock_wait", "attach_paths",
            "aggregate_bus"} <= {p.stem for p in SPECS}


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_every_result_matches_its_expect(reports: dict[str, SpecReport], spec: Path) -> None:
    rep = reports[spec.stem]
    bad = unmet_expects(rep)
    assert not bad, "\n".join(bad)
    # the kernel's behaviour is proved, not just bounded
    base = [r.result for r in rep.rows if r.variant == "original"]
    assert all(r.status not in (Status.SAFE, Status.NOT_REACHED, Status.UNKNOWN) for r in base)
    # and every variant that drops a rule of dd.c is caught
    for v in rep.variants[1:]:
        caught = any(r.variant == v and r.result.status is Status.VIOLATED for r in rep.rows)
        assert caught != ((spec.stem, v) in FIXES), v


@pytest.mark.parametrize(("spec", "variant", "engine"), CASES)
def test_engines_agree_with_the_exhaustive_search(spec: Path, variant: str, engine: str) -> None:
    bad = disagreements(spec, variant, engine, DEPTH)
    assert not bad, "\n".join(bad)


def test_deferred_device_is_probed_by_the_work_after_its_supplier_binds(
        reports: dict[str, SpecReport]) -> None:
    rep = reports["deferred_trigger"]
    w = row(rep, "original", "deferred_then_bound")
    assert w.status is Status.REACHABLE and w.trace is not None
    seq = steps(w.trace)
    # con defers, sup binds (the trigger moves con to the active list and queues the work), the
    # work takes con off the list, then __device_attach: device_lock, the probe
    assert seq[-3:] == [("deferred_probe_work_func[1]", "next"),
                          ("deferred_probe_work_func[1]", "probe"),
                          ("deferred_probe_work_func[1]", "__device_attach.attach")]
    assert ("add_con", "driver_probe_device.defer") in seq
    # without the trigger the consumer is never probed again: the target is unreachable, and
    # the proof says what it assumed
    nt = row(rep, "no_trigger", "deferred_then_bound")
    assert nt.status is Status.UNREACHABLE and nt.assumes == ALWAYS
    assert row(rep, "original", "con_bound").status is Status.PROVEN


def test_aggregate_device_probes_from_the_last_component_add(
        reports: dict[str, SpecReport]) -> None:
    rep = reports["aggregate_bus"]
    w = row(rep, "original", "by_rescan")
    assert w.status is Status.REACHABLE and w.trace is not None
    seq = steps(w.trace)
    # the host's own probe attempt finds no match (no component yet) and binds nothing
    assert seq[:2] == [("host", "add"), ("host", "__device_attach.attach")]
    assert w.trace.steps[1].state["dev_bound"]["agg"] is False
    # the last component_add's rescan takes the device lock, then probes, resuming both
    # components through the links before the aggregate driver's probe
    assert seq[-2][1] == "add" and seq[-1][1] == "__device_attach.attach"
    assert seq[-1][0] == seq[-2][0] and seq[-1][0].startswith("comp[")
    calls = [c.proc for c in w.trace.steps[-1].calls]
    assert calls.index("pm_runtime_get_suppliers") < calls.index("driver_probe")
    # the bus match is what holds the probe back: without it the host's add probes at once
    m = row(rep, "match_always", "probe_wrong")
    assert m.status is Status.VIOLATED and m.trace is not None
    assert steps(m.trace) == seq[:2]


def test_bind_between_probe_and_deferral_needs_the_recheck(
        reports: dict[str, SpecReport]) -> None:
    rep = reports["deferred_trigger"]
    v = row(rep, "no_recheck", "con_bound")
    assert v.status is Status.VIOLATED and v.trace is not None
    # con's probe returns -EPROBE_DEFER; sup binds (its trigger finds the pending list empty);
    # only then does con go on the pending list, where nothing moves it again
    assert steps(v.trace) == [
        ("add_con", "add"), ("add_con", "__device_attach.attach"),
        ("add_sup", "add"), ("add_sup", "__device_attach.attach"),
        ("add_con", "driver_probe_device.defer")]
    last = v.trace.steps[-1].state
    assert last["dp_pending"] == ["con"] and last["dev_bound"]["sup"] is True
    assert last["dp_work_alive"] is False
    # the kernel's recheck (deferred_trigger_count) closes the window
    assert row(rep, "original", "lists_empty").status is Status.PROVEN


def test_deleted_device_leaves_the_deferred_lists(reports: dict[str, SpecReport]) -> None:
    rep = reports["deferred_del"]
    assert row(rep, "original", "use_after_release").status is Status.PROVEN
    assert row(rep, "original", "probed_dead").status is Status.PROVEN
    v = row(rep, "no_deferred_del", "use_after_release")
    assert v.status is Status.VIOLATED and v.trace is not None
    last = v.trace.steps[-1]
    assert (last.actor, last.label) == ("deferred_probe_work_func[1]", "next")
    assert last.calls[0].proc == "get_device"
    assert v.trace.steps[-2].state["dev_state"]["con"] == "dev_freed"


def test_async_probe_after_kill_device_refuses_quietly(reports: dict[str, SpecReport]) -> None:
    rep = reports["async_device_del"]
    assert row(rep, "original", "probed_dead").status is Status.PROVEN
    # device_add returns with the probe only scheduled
    first = row(rep, "original", "add_returned_first")
    assert first.status is Status.REACHABLE and first.depth == 2
    refused = row(rep, "original", "refused_dead")
    assert refused.status is Status.REACHABLE and refused.trace is not None
    assert steps(refused.trace)[-2:] == [
        ("__device_attach_async_helper[1]", "lock"), ("__device_attach_async_helper[1]", "probe")]
    v = row(rep, "no_dead_flag", "probed_dead")
    assert v.status is Status.VIOLATED and v.trace is not None
    assert steps(v.trace) == [
        ("add", "add"), ("add", "__device_attach.attach"), ("del", "kill"),
        ("__device_attach_async_helper[1]", "lock"), ("__device_attach_async_helper[1]", "probe")]


def test_driver_detach_waits_for_async_probes(reports: dict[str, SpecReport]) -> None:
    rep = reports["async_driver_unregister"]
    assert row(rep, "original", "not_bound_to_gone_driver").status is Status.PROVEN
    assert row(rep, "original", "refs_back").status is Status.PROVEN
    v = row(rep, "no_async_sync", "not_bound_to_gone_driver")
    assert v.status is Status.VIOLATED and v.trace is not None
    seq = steps(v.trace)
    # the driver-side helper binds after driver_detach unbound: last
    assert seq[-1] == ("__driver_attach_async_helper[1]", "probe")
    assert seq.index(("module", "driver_unregister.detach")) < len(seq) - 2


def test_failed_probe_is_cleaned_up(reports: dict[str, SpecReport]) -> None:
    rep = reports["probe_failure_rpm"]
    assert row(rep, "original", "cleaned").status is Status.PROVEN
    v = row(rep, "no_reinit", "cleaned")
    assert v.status is Status.VIOLATED and v.trace is not None
    last = v.trace.steps[-1].state
    # everything but the runtime status: devres released, the supplier put back
    assert last["rpm_active"]["con"] is True and last["res_state"]["regs"] == "res_released"
    assert last["rpm_usage"]["sup"] == 0


def test_probe_holds_device_lock_from_a_step_of_its_own(reports: dict[str, SpecReport]) -> None:
    rep = reports["probe_lock_wait"]
    d = row(rep, "original", "deadlock")
    assert d.status is Status.VIOLATED and d.trace is not None
    # bus_probe_device takes device_lock; the attach step runs up to the probe's wait
    assert steps(d.trace) == [
        ("add", "add"), ("add", "__device_attach.attach")]
    assert d.trace.steps[0].state["dev_locked"]["pdev"] is True
    assert row(rep, "no_wait", "deadlock").status is Status.PROVEN
