"""Issue 17's table rows, each pinned by a spec in tests/lib/objects/ whose `expect` lines hold
on today's library and failed on the model before the fix (checked when each row was fixed:
null_device_refs got null_deref VIOLATED at 1, find_components_stops attach VIOLATED at 2,
unbind_all_unbound bad_lifecycle PROVEN and its unbound_twice target UNREACHABLE,
refcount_dec_saturates refcount_zero_inc VIOLATED at 3, devres_close_order devres_warn VIOLATED
at 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.verdict.results import Status

HERE = Path(__file__).resolve().parent / "lib" / "objects"
SPECS = sorted(HERE.glob("*.drv"))


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_every_result_matches_its_expect(spec: Path) -> None:
    rep = check_spec(spec, CheckOptions(engine="auto", all_variants=True))
    bad = [f"{r.variant}/{r.result.prop}: {r.result.verdict_text()} (expected {r.expected})"
           for r in rep.rows if not r.ok]
    assert not bad, "\n".join(bad)
    # the rows are proofs, not bounds: every run of these specs ends
    assert all(r.result.status is not Status.SAFE for r in rep.rows)
