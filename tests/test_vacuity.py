"""Coverage: a proof whose `reachable` targets are not reached is flagged vacuous (docs/ENGINES.md).

The spec is S0's "guard in resume" in miniature: the guard removes the NULL dereference, and with
it the only run that configures the port, since resume always comes before bind.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drvmc.checker.app.cli import app
from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.verdict.records import SpecReport
from drvmc.checker.verdict.results import Status
from tests.helpers import mask_times

LARB = """
spec larb "a runtime resume before bind"
property null_deref_mmu "larb->mmu is set before it is used"
var mmu_set: bool = false
var resumed: bool = false
var port_configured: bool = false
var ticks: 0..1 = 0
actor aggregate {
  resume: resumed = true
          assert mmu_set as null_deref_mmu, "config_port with larb->mmu NULL"
          port_configured = true
}
actor larb_bind {
  bind: await resumed
        mmu_set = true
}
actor timer {
  loop: while true {
    tick: ticks = 1 - ticks
  }
}
reachable port: port_configured
variant guard "if (larb->mmu) config_port()" {
  actor aggregate {
    resume: resumed = true
            if mmu_set {
              assert mmu_set as null_deref_mmu, "config_port with larb->mmu NULL"
              port_configured = true
            }
  }
}
variant guard_declared "the same guard, its consequence declared" {
  actor aggregate {
    resume: resumed = true
            if mmu_set {
              assert mmu_set as null_deref_mmu, "config_port with larb->mmu NULL"
              port_configured = true
            }
  }
}
expect original null_deref_mmu: VIOLATED 1
expect guard_declared port: UNREACHABLE
"""


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    p = tmp_path / "larb.drv"
    p.write_text(textwrap.dedent(LARB), encoding="utf-8")
    return p


def _rows(rep: SpecReport) -> dict[tuple[str, str], tuple[str, str, bool]]:
    return {(r.variant, r.result.prop): (r.result.status.value, r.result.vacuous, r.ok)
            for r in rep.rows}


def test_unbounded_proof_with_unreachable_target_is_vacuous(spec: Path) -> None:
    rep = check_spec(spec, CheckOptions(depth=10, all_variants=True, engine="pdr"))
    rows = _rows(rep)
    assert rows[("original", "null_deref_mmu")] == ("VIOLATED", "", True)
    assert rows[("original", "port")] == ("REACHABLE", "", True)
    assert rows[("original", "deadlock")] == ("PROVEN", "", True)
    assert rows[("guard", "port")] == ("UNREACHABLE", "", False)
    flag = "target port unreachable"
    assert rows[("guard", "null_deref_mmu")] == ("PROVEN", flag, False)
    assert rows[("guard", "deadlock")] == ("PROVEN", flag, False)
    declared = flag + ", as expected"
    assert rows[("guard_declared", "port")] == ("UNREACHABLE", "", True)
    assert rows[("guard_declared", "null_deref_mmu")] == ("PROVEN", declared, True)


def test_bounded_search_flags_targets_not_reached(spec: Path) -> None:
    rep = check_spec(spec, CheckOptions(depth=6, variants=("guard",), engine="bmc"))
    rows = _rows(rep)
    assert rows[("guard", "port")] == ("NOT_REACHED", "", False)
    assert rows[("guard", "null_deref_mmu")] == ("SAFE", "target port not reached≤6", False)


def test_vacuous_table_and_exit_codes(spec: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["check", str(spec), "-v", "guard", "-v", "guard_declared",
                            "--engine", "kind", "-k", "8", "--no-traces"])
    assert r.exit_code == 1
    assert mask_times(r.output).replace(str(spec), "larb.drv") == textwrap.dedent("""\
        larb.drv: larb — a runtime resume before bind
          variant         property        result                                                                       expected
          guard           null_deref_mmu  PROVEN (k-induction at k=1) (vacuous: target port unreachable)               SAFE         VACUOUS
          guard           port            UNREACHABLE (k-induction at k=6)                                             REACHED      MISMATCH
          guard           deadlock        PROVEN (k-induction at k=1) (vacuous: target port unreachable)               SAFE         VACUOUS
          guard_declared  null_deref_mmu  PROVEN (k-induction at k=1) (vacuous: target port unreachable, as expected)  SAFE         ok
          guard_declared  port            UNREACHABLE (k-induction at k=6)                                             UNREACHABLE  ok
          guard_declared  deadlock        PROVEN (k-induction at k=1) (vacuous: target port unreachable, as expected)  SAFE         ok

        6 results, 3 as expected, 3 not (T s)
        """)  # noqa: E501 - the table as printed
    ok = runner.invoke(app, ["check", str(spec), "-v", "guard_declared", "--engine", "kind",
                             "-k", "8", "--no-traces"])
    assert ok.exit_code == 0, ok.output


def test_no_flag_without_targets_or_when_reached(spec: Path) -> None:
    rep = check_spec(spec, CheckOptions(depth=6, variants=("original",), engine="kind"))
    assert all(not r.result.vacuous for r in rep.rows)
    assert {r.result.status for r in rep.rows} == {Status.VIOLATED, Status.REACHABLE,
                                                   Status.PROVEN}
