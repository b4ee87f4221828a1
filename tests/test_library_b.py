"""runtime_pm.drv, iommu.drv, mipi_dsi.drv pinned to their documented semantics.

Each spec in tests/lib/pm_iommu_dsi/ exercises procedures of the library and states, with
`expect` lines, what the kernel does (e.g. get_sync on a disabled device runs no callback; a
second dev_iommu_free dereferences NULL). A spec's base variant is the documented behaviour
(PROVEN) and its other variants break one rule each (VIOLATED at a given length), so a library
change that alters the semantics flips a verdict here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.verdict.results import Status

HERE = Path(__file__).resolve().parent / "lib" / "pm_iommu_dsi"
SPECS = sorted(p.name for p in HERE.glob("*.drv"))


def test_there_are_library_specs() -> None:
    assert {"rpm_get_sync_disabled.drv", "iommu_groups.drv", "mipi_dsi_basics.drv"} <= set(SPECS)


@pytest.mark.parametrize("name", SPECS)
def test_library_spec_matches_its_expect_lines(name: str) -> None:
    rep = check_spec(HERE / name, CheckOptions(all_variants=True))
    bad = [f"{r.variant}/{r.result.prop}: {r.result.verdict_text()} (expected {r.expected})"
           for r in rep.rows if not r.ok]
    assert not bad, "\n".join(bad)
    # the documented behaviour is proved, not just bounded: every run of these specs ends
    base = [r.result for r in rep.rows if r.variant == "original"]
    assert all(r.status is not Status.SAFE for r in base)
    # and every variant that breaks a rule is caught
    for v in rep.variants[1:]:
        assert any(r.variant == v and r.result.status is Status.VIOLATED for r in rep.rows), v


def test_get_sync_on_disabled_device_keeps_usage_and_runs_no_callback() -> None:
    rep = check_spec(HERE / "rpm_get_sync_disabled.drv", CheckOptions(all_variants=True))
    by = {(r.variant, r.result.prop): r.result for r in rep.rows}
    assert by[("original", "callback_ran")].status is Status.PROVEN
    assert by[("original", "wrong_state")].status is Status.PROVEN
    enabled = by[("enabled", "callback_ran")]
    assert enabled.status is Status.VIOLATED and enabled.trace is not None
    assert [c.proc for c in enabled.trace.steps[0].calls][:4] == [
        "maybe_enable", "pm_runtime_enable", "pm_runtime_get_sync", "rpm_usage_inc"]


def test_second_dev_iommu_free_reads_null() -> None:
    rep = check_spec(HERE / "iommu_dev_iommu.drv", CheckOptions(variants=("double_free",)))
    r = next(r.result for r in rep.rows if r.result.prop == "null_deref")
    assert r.status is Status.VIOLATED and r.trace is not None
    assert [(s.actor, s.label) for s in r.trace.steps] == [("t", "s"), ("t", "t2")]
    assert r.trace.violation.message.startswith("NULL DevIommu handle dereferenced")
