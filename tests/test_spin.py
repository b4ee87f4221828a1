"""SPIN must agree with drvmc on every property of every variant of every seed scenario.

For each variant the Promela export is compiled once (spin -a, gcc) and pan is run once per
property (the property is chosen at run time through DRVMC_PROPERTY). drvmc's verdict here is the
explicit-state engine's, which tests/test_differential.py ties to BMC and tests/test_explicit.py
ties to the specs' expect lines. A generated sample of specs is checked the same way.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from drvmc.checker.engines.explicit import ExplicitOptions, run_explicit
from drvmc.checker.ir import nodes as I
from drvmc.checker.ir.elaborate import elaborate, variant_names
from drvmc.checker.lang.loader import load_program
from drvmc.checker.verdict.results import Status
from drvmc.translators.promela import compile_spin, export_promela, run_pan
from tests.gen_specs import GenSpec, spec_text

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "specs").glob("*.drv"))
OWN = sorted((ROOT / "tests" / "engines").glob("*.drv"))

pytestmark = pytest.mark.skipif(shutil.which("spin") is None or shutil.which("gcc") is None,
                                reason="SPIN and gcc are needed (scripts/setup.sh installs them)")


def _cases() -> list[tuple[Path, str]]:
    out = []
    for f in [*SEEDS, *OWN]:
        for v in variant_names(load_program(f)):
            out.append((f, v))
    return out


# gcc needs about a second per 1,500 lines of exported Promela on this 2-core machine (and 45 s
# of CPU for the component scenario's 21,000): bigger exports are checked when
# DRVMC_SLOW_TESTS=1, so the default suite stays fast.
MAX_LINES = 6000
SLOW = os.environ.get("DRVMC_SLOW_TESTS") == "1"


def spin_disagreements(model: I.Model, workdir: Path) -> list[str]:
    props = list(model.properties)
    mine = run_explicit(model, props, ExplicitOptions(depth=1000))
    ex = export_promela(model, props)
    assert not ex.unsupported, ex.unsupported
    lines = ex.text.count("\n")
    if lines > MAX_LINES and not SLOW:
        pytest.skip(f"{lines} lines of Promela: set DRVMC_SLOW_TESTS=1 to compile it")
    pan = compile_spin(ex.text, workdir)
    bad = []
    for k, r in enumerate(mine):
        assert r.status is not Status.UNKNOWN and r.status is not Status.SAFE, r.verdict_text()
        found = r.status in (Status.VIOLATED, Status.REACHABLE)
        spin = run_pan(pan, k)
        if spin.violated != found:
            bad.append(f"{model.variant} {r.prop}: drvmc {r.verdict_text()}, SPIN "
                       f"{'found a violation' if spin.violated else 'found none'}\n"
                       + spin.output[-2000:])
    return bad


@pytest.mark.parametrize(("spec", "variant"), _cases(),
                         ids=[f"{f.stem}-{v}" for f, v in _cases()])
def test_spin_agrees_on_seed_variant(spec: Path, variant: str, tmp_path: Path) -> None:
    model = elaborate(load_program(spec), variant)
    assert spin_disagreements(model, tmp_path) == []


@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(g=spec_text())
def test_spin_agrees_on_generated_specs(tmp_path_factory: pytest.TempPathFactory,
                                        g: GenSpec) -> None:
    d = tmp_path_factory.mktemp("spin")
    p = d / "gen.drv"
    p.write_text(g.text, encoding="utf-8")
    model = elaborate(load_program(p), "original")
    problems = spin_disagreements(model, d)
    assert problems == [], g.text + "\n".join(problems)


FAMILY_CASES = [("component", 3, False), ("component", 3, True), ("iommu", 3, False),
                ("iommu", 3, True)]


@pytest.mark.parametrize(("family", "n", "fix"), FAMILY_CASES,
                         ids=[f"{f}-{n}-{'fix' if x else 'bug'}" for f, n, x in FAMILY_CASES])
def test_spin_agrees_with_the_symmetry_reduced_search(family: str, n: int, fix: bool,
                                                      tmp_path: Path) -> None:
    # the explicit engine reduces these families by the symmetry of their enum-indexed actors;
    # SPIN explores them whole
    from bench.families import FAMILIES

    p = tmp_path / "family.drv"
    p.write_text(FAMILIES[family].text(n, fix), encoding="utf-8")
    model = elaborate(load_program(p), "original")
    assert "up to symmetry" in run_explicit(model, list(model.properties),
                                            ExplicitOptions(depth=1000))[0].reason
    assert spin_disagreements(model, tmp_path) == []
