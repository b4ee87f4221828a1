"""Objects with lifetimes pinned to the kernel: kobjects and krefs from a bounded pool
(lib/kobject.drv), character devices and open files (cdev.drv), sysfs attributes against
unbind (sysfs.drv), device links as refcounted objects and the managed-link state machine
(device_link.drv).

Each spec in tests/lib/lifetimes/ states its verdicts with `expect` lines (misuse VIOLATED on
the property the kernel would report, correct use PROVEN); every Z3 engine must agree with the
exhaustive search on each variant.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.engines.bmc import run_bmc
from drvmc.checker.engines.explicit import ExplicitOptions, run_explicit
from drvmc.checker.engines.kind import KindOptions, run_kind
from drvmc.checker.engines.pdr import PdrOptions, run_pdr
from drvmc.checker.engines.unroll import BmcOptions
from drvmc.checker.ir.elaborate import elaborate, variant_names
from drvmc.checker.lang.loader import load_program
from drvmc.checker.verdict.records import SpecReport
from drvmc.checker.verdict.results import Result, Status
from drvmc.translators.z3_encoding import Encoding
from tests.gen_specs import agree, describe

HERE = Path(__file__).resolve().parent / "lib" / "lifetimes"
SPECS = sorted(HERE.glob("*.drv"))
# specs whose Z3 cross-check takes more than ~10 s per variant run in the slow suite only
SLOW: set[str] = set()
CASES = [pytest.param(p, v, marks=[pytest.mark.slow] if p.stem in SLOW else [])
         for p in SPECS for v in variant_names(load_program(p))]
IDS = [f"{p.stem}-{v}" for p in SPECS for v in variant_names(load_program(p))]
DEPTH = 16


@pytest.fixture(scope="module")
def reports() -> dict[str, SpecReport]:
    return {p.stem: check_spec(p, CheckOptions(engine="auto", all_variants=True)) for p in SPECS}


def _row(rep: SpecReport, variant: str, prop: str) -> Result:
    return next(r.result for r in rep.rows if r.variant == variant and r.result.prop == prop)


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_every_result_matches_its_expect(reports: dict[str, SpecReport], spec: Path) -> None:
    rep = reports[spec.stem]
    bad = [f"{r.variant}/{r.result.prop}: {r.result.verdict_text()} (expected {r.expected})"
           for r in rep.rows if not r.ok]
    assert not bad, "\n".join(bad)
    # the rows are proofs, not bounds: every run of these specs ends
    assert all(r.result.status is not Status.SAFE for r in rep.rows)


def test_a_stale_pointer_is_caught_after_its_slot_was_reallocated(
        reports: dict[str, SpecReport]) -> None:
    """The reallocated slot is the same one (o1) with a newer generation, and the use through
    the old pointer is what fails — not the allocation."""
    r = _row(reports["kobject_basics"], "stale", "use_after_release")
    assert r.status is Status.VIOLATED and r.trace is not None
    last = r.trace.steps[-1]
    assert last.label == "deref"
    assert last.state["parent"] == {"o": "o1", "gen": 1}
    assert last.state["child"] == {"o": "o1", "gen": 2}


def test_device_link_double_delete_fails_on_the_second_del(
        reports: dict[str, SpecReport]) -> None:
    r = _row(reports["device_link_refs"], "double_del", "use_after_release")
    assert r.status is Status.VIOLATED and r.trace is not None
    assert [s.label for s in r.trace.steps] == ["add", "del1", "del2"]


def test_sysfs_removal_drain_orders_the_callback_before_the_free(
        reports: dict[str, SpecReport]) -> None:
    """Without the drain the read that took its active reference before the unbind would run
    after priv was freed; the base proves it cannot, and the late removal shows it can."""
    assert _row(reports["sysfs_unbind"], "original", "use_after_release").status is Status.PROVEN
    late = _row(reports["sysfs_unbind"], "late_remove", "use_after_release")
    assert late.status is Status.VIOLATED and late.trace is not None
    labels = [s.label for s in late.trace.steps]
    assert labels.index("driver_remove.free") < labels.index("call")


@pytest.mark.parametrize(("spec", "variant"), CASES, ids=IDS)
def test_engines_agree_with_the_exhaustive_search(spec: Path, variant: str) -> None:
    model = elaborate(load_program(spec), variant)
    props = list(model.properties)
    ref = run_explicit(model, props, ExplicitOptions(depth=1000))
    runs: dict[str, Callable[[], list[Result]]] = {
        "bmc": lambda: run_bmc(model, Encoding(model), props, BmcOptions(depth=DEPTH)),
        "kind": lambda: run_kind(model, Encoding(model), props, KindOptions(depth=DEPTH)),
        "pdr": lambda: run_pdr(model, Encoding(model), props, PdrOptions(depth=DEPTH)),
    }
    bad: list[str] = []
    for name, run in runs.items():
        by_prop = {r.prop: r for r in run()}
        for r in ref:
            other = by_prop.get(r.prop)
            if other is None:
                bad.append(f"{name} gave no result for {r.prop}")
            elif not agree(r, other):  # agree() takes a bound SAFE≤k beside a proof
                bad.append(f"{r.prop}:\n{describe(r)}\n{describe(other)}")
    assert not bad, "\n".join(bad)
