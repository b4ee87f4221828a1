"""The seed scenarios S0-S3 (specs/): every variant matches its `expect` lines, and each
violation's counterexample is the kernel's sequence (actors, steps and the key calls).

S4 (specs/component_master_devres.drv) is tested with the rest of lib-A's work; the CLI test at
the end checks the whole `specs/` folder, S4 included.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.verdict.records import SpecReport
from drvmc.checker.verdict.results import Result, Status
from drvmc.checker.verdict.trace import Trace
from tests.helpers import steps

SPECS = Path(__file__).resolve().parent.parent / "specs"

SCENARIOS = [
    "aggregate_mtk_smi_a.drv",
    "aggregate_mtk_smi_b.drv",
    "mtk_iommu_v1_attach.drv",
    "iommu_async_probe.drv",
    "mipi_dsi_devm.drv",
]


@cache
def report(name: str) -> SpecReport:
    return check_spec(SPECS / name, CheckOptions(all_variants=True, engine="auto"))


def result(name: str, variant: str, prop: str) -> Result:
    rows = [r for r in report(name).rows if r.variant == variant and r.result.prop == prop]
    assert len(rows) == 1, f"{name}: no row {variant}/{prop}"
    return rows[0].result


def calls(t: Trace, i: int) -> list[str]:
    """The procedures called in step i (0-based; -1: the violating step)."""
    return [c.proc for c in t.steps[i].calls]


def all_calls(t: Trace) -> list[str]:
    return [c.proc for s in t.steps for c in s.calls]


def trace_of(name: str, variant: str, prop: str) -> Trace:
    r = result(name, variant, prop)
    assert r.status is Status.VIOLATED, f"{name} {variant}/{prop}: {r.status}"
    assert r.trace is not None
    return r.trace


@pytest.mark.slow
@pytest.mark.parametrize("name", SCENARIOS)
def test_every_variant_matches_its_expect_lines(name: str) -> None:
    rep = report(name)
    bad = [f"{r.variant}/{r.result.prop}: {r.result.verdict_text()} (expected {r.expected})"
           for r in rep.rows if not r.ok]
    assert not bad, "\n".join(bad)
    # every variant of the scenario was checked, and each has a violation or a proof
    assert len(rep.variants) >= 2
    for v in rep.variants:
        statuses = {r.result.status for r in rep.rows if r.variant == v}
        assert statuses & {Status.VIOLATED, Status.PROVEN}, v


# ---- S0 bug A --------------------------------------------------------------------------------

def check_s0a() -> None:
    name = "aggregate_mtk_smi_a.drv"
    t = trace_of(name, "original", "refcount_zero_inc")
    # the first probe: inc_not_zero fails, driver_register, refcount_inc on 0
    (actor, label), = steps(t)
    assert actor.startswith("mtk_iommu[") and label == "probe"
    assert calls(t, -1)[:4] == ["refcount_inc_not_zero", "aggregate_driver_register",
                                "count_first_registration", "refcount_inc"]
    leak = trace_of(name, "original", "aggregate_driver_released")
    # both instances probe and go; the driver stays registered
    assert sorted(label for _, label in steps(leak)) == ["probe", "probe", "remove", "remove"]
    assert "aggregate_driver_unregister" not in all_calls(leak)
    assert result(name, "v6_refcount_set", "aggregate_driver_released").status is Status.PROVEN


# ---- S0 bug B --------------------------------------------------------------------------------

def check_s0b() -> None:
    name = "aggregate_mtk_smi_b.drv"
    t = trace_of(name, "original", "null_deref")
    seq = steps(t)
    # the larb enables runtime PM in probe; the aggregate device probes (in whichever thread
    # comes last, through bus_probe_device -> __device_attach) and its pm_runtime_get_suppliers
    # resumes the larb before bind
    assert ("mtk_smi_larb_probe", "enable") in seq
    assert seq[-1][1] == "__device_attach.attach"
    assert seq.index(("mtk_smi_larb_probe", "enable")) < len(seq) - 1
    last = calls(t, -1)
    for fn in ["driver_probe_device", "__driver_probe_device", "pm_runtime_get_suppliers",
               "rpm_resume_callback", "mtk_smi_larb_resume",
               "mtk_smi_larb_config_port"]:
        assert fn in last, fn
    assert "mtk_smi_larb_bind" not in all_calls(t)
    # the guard removes the oops but loses the configured port (coverage)
    assert result(name, "guard_in_resume", "null_deref").status is Status.PROVEN
    assert result(name, "guard_in_resume",
                  "port_configured_first_resume").status is Status.UNREACHABLE
    assert result(name, "v6_enable_in_bind",
                  "port_configured_first_resume").status is Status.REACHABLE


# ---- S1 --------------------------------------------------------------------------------------

def check_s1() -> None:
    name = "mtk_iommu_v1_attach.drv"
    t = trace_of(name, "original", "null_deref")
    assert steps(t) == [("mtk_iommu_probe", "add_cam")]
    last = calls(t, -1)
    assert last.index("arm_iommu_attach_device") < last.index("iommu_attach_device_v4_15")
    assert "iommu_group_get_for_dev" not in last  # the group would only be made afterwards

    t = trace_of(name, "reorder_only", "iommu_attach_refused")
    assert steps(t) == [("mtk_iommu_probe", "add_cam"), ("mtk_iommu_probe", "add_disp")]
    last = calls(t, -1)
    assert last.index("iommu_group_get_for_dev") < last.index("iommu_attach_device_v4_15")

    t = trace_of(name, "v2_global_domain", "use_after_release")
    seq = steps(t)
    assert seq[-2:] == [("other_user", "alloc"), ("other_user", "free")]
    assert ("mtk_iommu_probe", "add_cam") in seq[:-2]
    assert "iommu_domain_kfree" in calls(t, -1)


# ---- S2 --------------------------------------------------------------------------------------

def check_s2() -> None:
    name = "iommu_async_probe.drv"
    t = trace_of(name, "original", "null_deref")
    seq = steps(t)
    workers = {a for a, _ in seq if a.startswith("rk_iommu_probe[")}
    assert workers == {"rk_iommu_probe[rk1]", "rk_iommu_probe[rk2]"}
    # both workers got dev->iommu; one failed and freed it; the other then dereferences NULL
    assert {a for a, label in seq if label == "register"} == workers
    frees = [i for i, s in enumerate(t.steps) if "dev_iommu_free" in [c.proc for c in s.calls]]
    assert frees and frees[0] < len(seq) - 1
    assert seq[-1][0] != seq[frees[0]][0]
    assert seq[-1][1] in ("__iommu_probe_device_v6_1.probe", "__iommu_probe_device_v6_1.finish")

    t = trace_of(name, "rk_dma_dev_in_device_group", "null_deref")
    assert steps(t)[-1] == ("vop_probe", "xlate")
    last = calls(t, -1)
    assert last.index("rk_iommu_of_xlate") < last.index("devres_add")


# ---- S3 --------------------------------------------------------------------------------------

def s3_steps(t: Trace) -> list[tuple[str, str]]:
    """The steps, with the host's second step of the DSI device's unregister (its label is that
    of device_release_driver inlined in the host's teardown) named `unregister`."""
    return [(a, "unregister") if a == "dsi_host" and lab.startswith("device_release_driver")
            else (a, lab) for a, lab in steps(t)]


def check_s3() -> None:
    name = "mipi_dsi_devm.drv"
    for prop in ["use_after_release", "double_detach", "double_unregister"]:
        t = trace_of(name, "original", prop)
        # host registered, bridge probed with devm, host unbinds first, then the bridge
        # (the host's unbind may also come after the peripheral's unbind took its devres
        # entries off the list, as long as it comes before their release steps)
        # (the host's unregister of the DSI device takes its device_lock in the host's unbind
        # step; device_del goes on in the next, at the inlined device_release_driver's label)
        sq = s3_steps(t)
        assert sq[:2] == [("dsi_host", "probe"), ("peripheral", "probe")], prop
        rel = ("peripheral", "release_nodes.release")
        remove = ("peripheral", "device_release_driver.unbind")
        # double_detach fails in the host's unbind step, before the unregister's second step
        unreg = ("dsi_host", "unregister")
        host_steps = {("dsi_host", "unbind"), unreg} if unreg in sq else {("dsi_host", "unbind")}
        assert sorted(set(sq[2:])) == sorted(host_steps | {("peripheral", "unbind"), remove,
                                                            rel}), prop
        if unreg in sq:
            assert sq.index(("dsi_host", "unbind")) + 1 == sq.index(unreg), prop
        assert sq.index(("peripheral", "unbind")) < sq.index(remove) < sq.index(rel), prop
        assert sq.index(("dsi_host", "unbind")) < len(sq) - 1 and sq[-1] == rel, prop
        assert "devm_mipi_dsi_device_register_full" in calls(t, 1)
        assert "devm_mipi_dsi_attach" in calls(t, 1)
        hi = sq.index(("dsi_host", "unbind"))
        host = calls(t, hi)
        assert "mipi_dsi_device_unregister" in host, prop
        if hi < sq.index(rel):
            # the peripheral's detach action has not run yet: the host detaches it first
            assert host.index("mipi_dsi_detach") < host.index("mipi_dsi_device_unregister")
        if unreg in sq:
            # the faithful device_unregister: the DSI device is freed at its last put
            assert "device_last_put" in calls(t, hi + 1), prop
        # devres_release_all takes the actions off the list at unbind; they then run one per
        # step, newest (the detach) first
        assert "devres_release_all" in calls(t, sq.index(remove))
        releases = [i for i, st in enumerate(sq) if st == rel]
        assert "devm_mipi_dsi_detach" in calls(t, releases[0])
        if len(releases) > 1:
            assert "devm_mipi_dsi_device_unregister" in calls(t, releases[1])
    for variant in ["non_devm", "tomi_v1_non_devm"]:
        t = trace_of(name, variant, "double_detach")
        assert steps(t)[-2:] == [("dsi_host", "unbind"), ("peripheral", "unbind")], variant
        assert "mipi_dsi_detach" in calls(t, -1)
        assert "devres_release_all" not in calls(t, -1)
    # Tomi v1 is not safe once devres releases take their own steps: the host unbinds after
    # the peripheral's entries left its list and before its detach action ran
    t = trace_of(name, "tomi_v1", "use_after_release")
    assert s3_steps(t) == [("dsi_host", "probe"), ("peripheral", "probe"),
                           ("peripheral", "unbind"), ("peripheral", "device_release_driver.unbind"),
                           ("dsi_host", "unbind"), ("dsi_host", "unregister"),
                           ("peripheral", "release_nodes.release")]
    assert "devm_remove_action" in calls(t, 4) and "devm_mipi_dsi_detach" in calls(t, 6)
    assert result(name, "sima_non_devm", "use_after_release").status is Status.PROVEN


CHECKS: dict[str, Callable[[], None]] = {
    "aggregate_mtk_smi_a.drv": check_s0a,
    "aggregate_mtk_smi_b.drv": check_s0b,
    "mtk_iommu_v1_attach.drv": check_s1,
    "iommu_async_probe.drv": check_s2,
    "mipi_dsi_devm.drv": check_s3,
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_violations_follow_the_kernel_sequence(name: str) -> None:
    CHECKS[name]()


@pytest.mark.slow
def test_cli_checks_every_scenario_and_variant() -> None:
    # the "done when": the whole folder, every variant, every result as expected
    proc = subprocess.run(
        [sys.executable, "-m", "drvmc.checker", "check", str(SPECS), "--all-variants",
         "--no-traces"],
        capture_output=True, text=True, timeout=1800, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    for name in SCENARIOS:
        assert name in proc.stdout
    assert " not (" in proc.stdout and "MISMATCH" not in proc.stdout
