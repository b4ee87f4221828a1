"""What every library test file does with its folder of specs under tests/lib/.

Each spec states its verdicts with `expect` lines, checked with the auto engine in the default
suite; and every Z3 engine (BMC, k-induction, PDR) must agree with the exhaustive search on every
variant. That cross-check takes seconds to minutes per variant on the library's larger specs
(device_lock and the stepwise devres teardown make their runs long: together over three minutes
of the default suite's ten), so it runs in the slow suite (DRVMC_SLOW_TESTS=1). The default suite
ties the four engines on the seeds and on generated specs (tests/test_engines.py,
tests/test_differential.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.engines.bmc import run_bmc
from drvmc.checker.engines.explicit import ExplicitOptions, run_explicit
from drvmc.checker.engines.kind import KindOptions, run_kind
from drvmc.checker.engines.pdr import PdrOptions, run_pdr
from drvmc.checker.engines.unroll import BmcOptions
from drvmc.checker.ir import nodes as I
from drvmc.checker.ir.elaborate import elaborate, variant_names
from drvmc.checker.lang.loader import load_program
from drvmc.checker.verdict.records import SpecReport
from drvmc.checker.verdict.results import Result
from drvmc.translators.z3_encoding import Encoding
from tests.gen_specs import disagreements as result_disagreements

ENGINES = ("bmc", "kind", "pdr")


def specs_in(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.drv"))


def engine_cases(specs: list[Path]) -> list[Any]:
    """(spec, variant, engine) parameters, all in the slow suite."""
    return [pytest.param(p, v, e, id=f"{p.stem}-{v}-{e}", marks=[pytest.mark.slow])
            for p in specs for v in variant_names(load_program(p)) for e in ENGINES]


def reports_of(specs: list[Path]) -> dict[str, SpecReport]:
    return {p.stem: check_spec(p, CheckOptions(engine="auto", all_variants=True)) for p in specs}


def unmet_expects(report: SpecReport) -> list[str]:
    return [f"{r.variant}/{r.result.prop}: {r.result.verdict_text()} (expected {r.expected})"
            for r in report.rows if not r.ok]


def row(report: SpecReport, variant: str, prop: str) -> Result:
    return next(r.result for r in report.rows if r.variant == variant and r.result.prop == prop)


def _engine(name: str, depth: int) -> Callable[[I.Model, list[I.Property]], list[Result]]:
    match name:
        case "bmc":
            return lambda m, ps: run_bmc(m, Encoding(m), ps, BmcOptions(depth=depth))
        case "kind":
            return lambda m, ps: run_kind(m, Encoding(m), ps, KindOptions(depth=depth))
        case "pdr":
            return lambda m, ps: run_pdr(m, Encoding(m), ps, PdrOptions(depth=depth))
        case _:
            raise AssertionError(f"unknown engine {name}")


def disagreements(spec: Path, variant: str, engine: str, depth: int) -> list[str]:
    """Where `engine` (at `depth`) and the exhaustive search differ on the variant's properties."""
    model = elaborate(load_program(spec), variant)
    props = list(model.properties)
    ref = run_explicit(model, props, ExplicitOptions(depth=1000))
    return result_disagreements(ref, _engine(engine, depth)(model, props), engine)
