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

HERE = Path(__file__).resolve().parent / "lib" / "concurrency"
SPECS = sorted(HERE.glob("*.drv"))
# the Z3 engines need 10-80 s on each variant of workqueue_devm (an IRQ, a worker and a devres
# teardown); those run in the slow suite, the explicit engine's verdicts on them in the default
SLOW = {"workqueue_devm"}
CASES = [pytest.param(p, v, marks=[pytest.mark.slow] if p.stem in SLOW else [])
         for p in SPECS for v in variant_names(load_program(p))]
IDS = [f"{p.stem}-{v}" for p in SPECS for v in variant_names(load_program(p))]
DEPTH = 14


@pytest.fixture(scope="module")
def reports() -> dict[str, SpecReport]:
    return {p.stem: check_spec(p, CheckOptions(engine="auto", all_variants=True)) for p in SPECS}


def _row(rep: SpecReport, variant: str, prop: str) -> Result:
    return next(r.result for r in rep.rows if r.variant == variant and r.result.prop == prop)


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_every_result_matches_its_expect(reports: dict[str, SpecReport], spec: Path) -> None:
    bad = [f"{r.variant}/{r.result.prop}: {r.result.verdict_text()} (expected {r.expected})"
           for r in reports[spec.stem].rows if not r.ok]
    assert not bad, "\n".join(bad)


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


def test_devm_irq_order_handler_fires_between_two_release_steps(
        reports: dict[str, SpecReport]) -> None:
    rep = reports["devm_irq_order"]
    t = _row(rep, "original", "use_after_release").trace
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
    fixed = _row(rep, "fixed", "use_after_release")
    assert fixed.status is Status.PROVEN and fixed.assumes == ()
    # the one-step release hides the bug, and the proof says what it assumed
    cheap = _row(rep, "atomic_teardown", "use_after_release")
    assert cheap.status is Status.PROVEN
    assert cheap.assumes == ("devres_release_atomic",)
    assert "(assumes: devres_release_atomic)" in cheap.verdict_text()


def test_rpm_put_queues_and_disable_cancels(reports: dict[str, SpecReport]) -> None:
    rep = reports["rpm_put_async"]
    t = _row(rep, "original", "use_after_release").trace
    assert t is not None
    labels = [(s.actor, s.label) for s in t.steps]
    assert labels[-1] == ("pm_runtime_work[1]", "run")
    unbind = t.steps[2]  # remove(), the step after the one taking device_lock
    assert unbind.state["rpm_idle_pending"]["pdev"] is True
    assert unbind.state["rpm_active"]["pdev"] is True  # still active: the put only queued
    assert _row(rep, "put_then_disable", "use_after_release").status is Status.PROVEN
    assert _row(rep, "put_sync", "use_after_release").status is Status.PROVEN
    cheap = _row(rep, "sync_put_model", "use_after_release")
    assert cheap.status is Status.PROVEN and cheap.assumes == ("rpm_put_sync",)
    # the faithful variants depend on no simplification
    assert _row(rep, "original", "deadlock").assumes == ()


def test_assumes_reaches_the_json(tmp_path: Path) -> None:
    p = subprocess.run(
        [sys.executable, "-m", "drvmc.checker", "check", str(HERE / "rpm_put_async.drv"),
         "--all-variants", "--format", "json", "--no-timings"],
        capture_output=True, text=True, check=False)
    doc = json.loads(p.stdout)
    got = {(r["variant"], r["property"]): r["assumes"] for r in doc["specs"][0]["results"]}
    assert got[("sync_put_model", "use_after_release")] == ["rpm_put_sync"]
    assert got[("original", "use_after_release")] == []
    assert got[("put_sync", "use_after_release")] == []


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
    assert _row(rep, "original", "both").status is Status.VIOLATED
    assert _row(rep, "cheap", "both").assumes == ("cheap",)
    main = tmp_path / "b.drv"
    main.write_text('spec b\nuse lib/s\nconst CHEAP = true\nactor w {\n  s: set_both()\n}\n'
                    'invariant both: x == y || !x\n')
    rep = check_spec(main, CheckOptions(engine="auto"))
    assert _row(rep, "original", "both").assumes == ("cheap",)
    assert _row(rep, "original", "both").status is Status.PROVEN
