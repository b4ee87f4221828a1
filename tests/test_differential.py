"""BMC and the explicit-state engine must agree on every property of generated specs.

Two halves of 100 specs each, so pytest-xdist can run them side by side. Hypothesis is
derandomized: every CI run checks the same specs (scripts/differential.py runs a longer,
randomized sweep). A disagreement fails with both engines' verdicts and traces.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from drvmc.checker.ir.elaborate import elaborate
from drvmc.checker.lang.loader import load_program
from tests.gen_specs import GenSpec, compare_engines, spec_text

SETTINGS = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


def _check(tmp_path: Path, g: GenSpec) -> None:
    p = tmp_path / "gen.drv"
    p.write_text(g.text, encoding="utf-8")
    model = elaborate(load_program(p), "original")
    problems = compare_engines(model, g.depth)
    assert not problems, g.text + "\n" + "\n".join(problems)


@SETTINGS
@given(g=spec_text())
def test_bmc_and_explicit_agree_first_half(tmp_path_factory: pytest.TempPathFactory,
                                           g: GenSpec) -> None:
    _check(tmp_path_factory.mktemp("gen"), g)


@SETTINGS
@given(g=spec_text())
def test_bmc_and_explicit_agree_second_half(tmp_path_factory: pytest.TempPathFactory,
                                           g: GenSpec) -> None:
    _check(tmp_path_factory.mktemp("gen"), g)
