"""Issue 17's library fixes and additions, each pinned by a spec in tests/lib/objects/.

The table rows: each spec's `expect` lines hold on today's library and failed on the model before
the fix (checked when each row was fixed: null_device_refs got null_deref VIOLATED at 1,
find_components_stops attach VIOLATED at 2, unbind_all_unbound bad_lifecycle PROVEN and its
unbound_twice target UNREACHABLE, refcount_dec_saturates refcount_zero_inc VIOLATED at 3,
devres_close_order devres_warn VIOLATED at 3).

Item 6 (devres lookups by release function, devm_kfree, devm_add_action_or_reset and the
DEVRES_MAY_FAIL switch): one spec per procedure, whose base variant uses it correctly (PROVEN)
and whose other variants misuse it (the WARN or the bug VIOLATED). Every Z3 engine must agree
with the exhaustive search on every variant.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drvmc.checker.verdict.records import SpecReport
from drvmc.checker.verdict.results import Status
from tests.lib_specs import disagreements, engine_cases, reports_of, row, specs_in, unmet_expects

HERE = Path(__file__).resolve().parent / "lib" / "objects"
SPECS = specs_in(HERE)
CASES = engine_cases(SPECS)
DEPTH = 14


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


@pytest.mark.parametrize(("spec", "variant", "engine"), CASES)
def test_engines_agree_with_the_exhaustive_search(spec: Path, variant: str, engine: str) -> None:
    bad = disagreements(spec, variant, engine, DEPTH)
    assert not bad, "\n".join(bad)


def test_devres_find_skips_entries_being_released(reports: dict[str, SpecReport]) -> None:
    rep = reports["devres_find"]
    w = row(rep, "original", "looked_while_dying").trace
    assert w is not None
    # the lookup ran while the release was in progress, with r0 off the list but still live
    peek = next(s for s in w.steps if s.actor == "peek")
    assert peek.state["found_dying"] is None
    assert peek.state["devres"]["d0"][0]["dying"] is True
    assert peek.state["res_state"]["r0"] == "res_live"


def test_devres_get_frees_the_new_data_in_the_call(reports: dict[str, SpecReport]) -> None:
    t = row(reports["devres_get"], "uses_new_res", "use_after_release").trace
    assert t is not None
    first, second = t.steps[0].state, t.steps[1].state
    assert first["first"] == "r0" and first["res_state"]["r0"] == "res_live"
    assert second["second"] == "r0" and second["res_state"]["r1"] == "res_released"
    assert any(str(c).startswith("devres_get(d0, devm_kmalloc_release, r1, NULL)")
               for c in t.steps[1].calls)


def test_devres_destroy_and_release_return_enoent_without_warning(
        reports: dict[str, SpecReport]) -> None:
    for spec in ("devres_destroy", "devres_release"):
        t = row(reports[spec], "twice", "devres_warn").trace
        assert t is not None
        # the WARN is the caller's WARN_ON on -ENOENT, not the library's
        assert t.violation is not None
        assert t.violation.message.startswith("WARN_ON(devres_")
    # the second devres_release did not run the action again
    assert row(reports["devres_release"], "twice", "double_release").status is Status.PROVEN


def test_devm_kfree_warns_and_frees_nothing_on_misuse(reports: dict[str, SpecReport]) -> None:
    rep = reports["devm_kfree"]
    for variant in ("twice", "plain_kmalloc", "other_device", "action_data"):
        t = row(rep, variant, "devres_warn").trace
        assert t is not None and t.violation is not None
        assert t.violation.message == ("devm_kfree: memory not allocated by devm_kmalloc on "
                                       "this device")
        assert row(rep, variant, "double_release").status is Status.PROVEN
    # another device's memory stays on its owner's list and live until that one's unbind
    t = row(rep, "other_device", "devres_warn").trace
    assert t is not None
    assert t.steps[-1].state["res_state"]["m0"] == "res_live"


def test_may_fail_is_off_by_default(reports: dict[str, SpecReport]) -> None:
    rep = reports["devm_kmalloc_may_fail"]
    assert row(rep, "unchecked", "use_before_acquire").status is Status.VIOLATED
    assert row(rep, "never_fails", "use_before_acquire").status is Status.PROVEN
    t = row(reports["devm_add_action_or_reset"], "double_undo", "double_release").trace
    assert t is not None
    # the add failed, _or_reset ran the action, then the error path ran it again
    assert t.steps[0].state["ret"] == -12
