"""Every always-on simplification of the library is named by the proofs that rely on it.

tests/test_library_concurrency.py pins irq_handler_atomic, rpm_callback_atomic and
unbind_without_rpm (and the opt-in ones) on the library's own mini-specs; this pins the other two
on the scenarios that reach them: work_fn_atomic (a work function is one step) on a corpus bug
with a work item, component_unbind_order (component_bind_all's unwind) on the S4 seed. A proof of
a scenario that never reaches the simplified code names nothing.
"""

from __future__ import annotations

from pathlib import Path

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.verdict.records import SpecReport
from drvmc.checker.verdict.results import Status

ROOT = Path(__file__).resolve().parent.parent


def _proofs(rep: SpecReport) -> dict[tuple[str, str], tuple[str, ...]]:
    return {(r.variant, r.result.prop): r.result.assumes for r in rep.rows
            if r.result.status is Status.PROVEN}


def test_a_work_function_run_as_one_step_is_named() -> None:
    rep = check_spec(ROOT / "specs" / "corpus" / "input_cyttsp4_watchdog_rearm.drv",
                     CheckOptions(engine="auto", all_variants=True))
    proofs = _proofs(rep)
    assert proofs[("fixed", "use_after_release")] == ("work_fn_atomic",)
    assert "work_fn_atomic" in next(r.result.verdict_text() for r in rep.rows
                                    if (r.variant, r.result.prop) == ("fixed",
                                                                       "use_after_release"))


def test_component_unbind_order_is_named_and_absent_where_unreached() -> None:
    rep = check_spec(ROOT / "specs" / "component_master_devres.drv",
                     CheckOptions(engine="auto", all_variants=True))
    proofs = _proofs(rep)
    assert "component_unbind_order" in proofs[("landed_fix", "use_after_release")]
    # the S1 seed has no component framework: its proofs name no simplification of it
    rep1 = check_spec(ROOT / "specs" / "mtk_iommu_v1_attach.drv",
                      CheckOptions(engine="auto", all_variants=True))
    assert all(not a for a in _proofs(rep1).values())
