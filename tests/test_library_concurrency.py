"""The library's asynchronous contexts pinned to the kernel: stepwise devres release, IRQs,
runtime PM's queued idle request, and the declared simplifications that hide them.

Each spec in tests/lib/concurrency/ states its verdicts with `expect` lines. The mini-specs of
the simplifications (devm_irq_order: atomic devres teardown; rpm_put_async: synchronous put)
show the bug VIOLATED with the faithful library and PROVEN, marked `assumes: NAME`, with the
opt-in simplification; every Z3 engine must agree with the exhaustive search on each variant.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.verdict.records import SpecReport
from drvmc.checker.verdict.results import Status
from tests.lib_specs import disagreements, engine_cases, reports_of, row, specs_in, unmet_expects

HERE = Path(__file__).resolve().parent / "lib" / "concurrency"
SPECS = specs_in(HERE)
CASES = engine_cases(SPECS)
DEPTH = 14


@pytest.fixture(scope="module")
def reports() -> dict[str, SpecReport]:
    return reports_of(SPECS)



@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_every_result_matches_its_expect(reports: dict[str, SpecReport], spec: Path) -> None:
    bad = unmet_expects(reports[spec.stem])
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize(("spec", "variant", "engine"), CASES)
def test_engines_agree_with_the_exhaustive_search(spec: Path, variant: str, engine: str) -> None:
    bad = disagreements(spec, variant, engine, DEPTH)
    assert not bad, "\n".join(bad)


def test_devm_irq_order_handler_fires_between_two_release_steps(
        reports: dict[str, SpecReport]) -> None:
    rep = reports["devm_irq_order"]
    t = row(rep, "original", "use_after_release").trace
    assert t is not None
    # unbind takes device_lock, then remove() and both entries off the list; buf (newest) is
    # released in a step of its own; the handler fires before the IRQ's own devres entry
    # (free_irq) is released
    assert [(s.actor, s.label) for s in t.steps] == [
        ("drv", "probe"), ("drv", "unbind"), ("drv", "device_release_driver.unbind"),
        ("drv", "release_nodes.release"), ("irq_line[irq0]", "fire")]
    assert t.steps[3].state["res_state"]["buf"] == "res_released"
    assert t.steps[3].state["irq_requested"]["irq0"] is True
    assert [c.proc for c in t.steps[4].calls][:2] == ["irq_hard_handler", "my_handler"]
    fixed = row(rep, "fixed", "use_after_release")
    # the handler is one step (irq_handler_atomic, always on); nothing opt-in is assumed
    assert fixed.status is Status.PROVEN and fixed.assumes == ("irq_handler_atomic",)
    # the one-step release hides the bug, and the proof says what it assumed
    cheap = row(rep, "atomic_teardown", "use_after_release")
    assert cheap.status is Status.PROVEN
    assert cheap.assumes == ("devres_release_atomic", "irq_handler_atomic")
    assert "devres_release_atomic" in cheap.verdict_text()


def test_rpm_put_queues_and_disable_cancels(reports: dict[str, SpecReport]) -> None:
    rep = reports["rpm_put_async"]
    t = row(rep, "original", "use_after_release").trace
    assert t is not None
    labels = [(s.actor, s.label) for s in t.steps]
    assert labels[-1] == ("pm_runtime_work[1]", "run")
    unbind = t.steps[2]  # remove(), the step after the one taking device_lock
    assert unbind.state["rpm_idle_pending"]["pdev"] is True
    assert unbind.state["rpm_active"]["pdev"] is True  # still active: the put only queued
    assert row(rep, "put_then_disable", "use_after_release").status is Status.PROVEN
    assert row(rep, "put_sync", "use_after_release").status is Status.PROVEN
    cheap = row(rep, "sync_put_model", "use_after_release")
    always = ("rpm_callback_atomic", "unbind_without_rpm")  # declared, always on
    assert cheap.status is Status.PROVEN
    assert cheap.assumes == ("rpm_callback_atomic", "rpm_put_sync", "unbind_without_rpm")
    # the faithful variants depend on no opt-in simplification
    assert row(rep, "original", "deadlock").assumes == always


def test_assumes_reaches_the_json(tmp_path: Path) -> None:
    p = subprocess.run(
        [sys.executable, "-m", "drvmc.checker", "check", str(HERE / "rpm_put_async.drv"),
         "--all-variants", "--format", "json", "--no-timings"],
        capture_output=True, text=True, check=False)
    doc = json.loads(p.stdout)
    got = {(r["variant"], r["property"]): r["assumes"] for r in doc["specs"][0]["results"]}
    always = ["rpm_callback_atomic", "unbind_without_rpm"]  # declared, always on
    assert got[("sync_put_model", "use_after_release")] == [
        "rpm_callback_atomic", "rpm_put_sync", "unbind_without_rpm"]
    assert got[("original", "use_after_release")] == []  # a violation found assumes nothing
    assert got[("original", "deadlock")] == always
    assert got[("put_sync", "use_after_release")] == always


def test_a_simplification_on_a_dead_branch_is_not_assumed(tmp_path: Path) -> None:
    # `simplified` under `if CONST` with CONST false is not reached: no note; a library
    # constant is a default the spec file may set
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "s.drv").write_text(
        'const CHEAP = false\n'
        'simplification cheap "x and y change in one step"\n'
        'var x: bool = false\nvar y: bool = false\n'
        'proc set_both() {\n  if CHEAP {\n    simplified cheap\n    x = true\n    y = true\n'
        '  } else {\n    x = true\n  }\n}\n')
    spec = tmp_path / "a.drv"
    spec.write_text('spec a\nuse lib/s\nactor w {\n  s: set_both()\n}\n'
                    'invariant both: x == y || !x\n'
                    'variant cheap "opt in" {\n  const CHEAP = true\n}\n')
    rep = check_spec(spec, CheckOptions(engine="auto", all_variants=True))
    assert row(rep, "original", "both").status is Status.VIOLATED
    assert row(rep, "cheap", "both").assumes == ("cheap",)
    main = tmp_path / "b.drv"
    main.write_text('spec b\nuse lib/s\nconst CHEAP = true\nactor w {\n  s: set_both()\n}\n'
                    'invariant both: x == y || !x\n')
    rep = check_spec(main, CheckOptions(engine="auto"))
    assert row(rep, "original", "both").assumes == ("cheap",)
    assert row(rep, "original", "both").status is Status.PROVEN
