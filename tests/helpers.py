"""Shared helpers for tests: check a spec given as text through the real pipeline."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from drvmc.checker.engines.bmc import run_bmc
from drvmc.checker.engines.unroll import BmcOptions
from drvmc.checker.ir import nodes as I
from drvmc.checker.ir.elaborate import elaborate
from drvmc.checker.lang.loader import load_program
from drvmc.checker.verdict.results import Result
from drvmc.checker.verdict.trace import Trace
from drvmc.translators.z3_encoding import Encoding


def write_spec(tmp_path: Path, src: str, name: str = "t.drv") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(src), encoding="utf-8")
    return p


def model_of(tmp_path: Path, src: str, variant: str = "original") -> I.Model:
    return elaborate(load_program(write_spec(tmp_path, src)), variant)


def check(tmp_path: Path, src: str, variant: str = "original",
          depth: int = 30) -> dict[str, Result]:
    m = model_of(tmp_path, src, variant)
    results = run_bmc(m, Encoding(m), list(m.properties), BmcOptions(depth=depth))
    return {r.prop: r for r in results}


def labels(r: Result) -> list[str]:
    assert r.trace is not None
    return [f"{s.actor}.{s.label}" for s in r.trace.steps]


def steps(t: Trace) -> list[tuple[str, str]]:
    """A trace's steps as (actor, label) pairs."""
    return [(s.actor, s.label) for s in t.steps]


def mask_times(text: str) -> str:
    return re.sub(r"\(\d+\.\d+s(, explicit [\d,]+ states/s)?\)", "(T s)", text)
