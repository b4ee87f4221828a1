"""Hostile input never produces a traceback: a bounded fuzz run, grammar-generated text, and the
crash reproducers in tests/regressions/ (each with its expected outcome on its `# expect:` line).

The long run is `python3 scripts/fuzz.py --count 100000` (figures in docs/RELIABILITY.md).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.extra.lark import from_lark
from lark import Lark

from drvmc.checker.app.driver import check_spec
from drvmc.checker.errors import SpecError
from drvmc.checker.lang.parser import grammar_text
from scripts import fuzz

REPO = Path(__file__).resolve().parent.parent
REGRESSIONS = sorted((REPO / "tests" / "regressions").glob("*.drv"))
_EXPECT = re.compile(rb"^# expect: ([^\r\n]*)", re.MULTILINE)


def _expectation(path: Path) -> tuple[str, list[str]]:
    m = _EXPECT.search(path.read_bytes())
    assert m is not None, f"{path.name} has no '# expect:' line"
    outcome, *diags = m.group(1).decode().split()
    return outcome, diags


def _matches(want: str, code: str, line: int, col: int) -> bool:
    wc, wl, wcol = want.split(":")
    return wc == code and wl in ("*", str(line)) and wcol in ("*", str(col))


@pytest.mark.parametrize("path", REGRESSIONS, ids=lambda p: p.stem)
def test_regression(path: Path) -> None:
    outcome, diags = _expectation(path)
    if outcome == "checked":
        rep = check_spec(path, fuzz.FUZZ_OPTIONS)
        assert rep.rows, "a checked spec has at least one result row"
        return
    assert outcome == "spec_error"
    with pytest.raises(SpecError) as ei:
        check_spec(path, fuzz.FUZZ_OPTIONS)
    got = [(d.code, d.span.line, d.span.col) for d in ei.value.diagnostics]
    assert len(got) == len(diags), got
    for want, (code, line, col) in zip(diags, got, strict=True):
        assert _matches(want, code, line, col), (want, got)


def test_every_regression_has_a_matching_in_process_outcome() -> None:
    # run_one is what the fuzzer uses to classify: it must agree with the expectations too
    tmp = REPO / "tests" / "regressions"
    assert REGRESSIONS, f"no reproducers in {tmp}"
    for path in REGRESSIONS:
        outcome, diags = _expectation(path)
        work = Path(os.environ.get("TMPDIR", "/tmp")) / f"drvmc-reg-{os.getpid()}"
        work.mkdir(exist_ok=True)
        r = fuzz.run_one(path.read_bytes(), work)
        assert r.outcome.value == outcome, (path.name, r)
        if diags:
            assert r.detail == diags[0].split(":")[0], (path.name, r)


@pytest.mark.parametrize("name", ["nul_byte", "invalid_utf8", "deep_sum", "await_after_choose",
                                  "poisoned_names"])
def test_cli_prints_positions_not_tracebacks(name: str) -> None:
    path = REPO / "tests" / "regressions" / f"{name}.drv"
    p = subprocess.run([sys.executable, "-m", "drvmc.checker", "check", str(path), "-k", "2"],
                       capture_output=True, text=True, cwd=REPO, timeout=120)
    assert p.returncode == 3, p.stderr
    assert "Traceback" not in p.stderr
    first = p.stderr.splitlines()[0]
    assert re.match(r"^\S+\.drv:\d+:\d+: error\[E\d{3}\]: ", first), first


def test_bounded_fuzz_run(tmp_path: Path) -> None:
    """A fixed-seed sample of the long run: mutations of every spec in the repository plus
    generated well-typed specs, through parse → elaborate → encode → check → text and JSON."""
    stats = fuzz.run(150, seed=20261122, mode="mixed", out=tmp_path, report_every=0)
    assert stats.tried == 150
    assert not stats.failures, "\n".join(d for _, d in stats.failures[:3])
    # The sample must reach every stage, not only the parser.
    assert stats.by_outcome.get("checked", 0) + stats.by_outcome.get("unknown", 0) > 10
    assert stats.by_outcome.get("spec_error", 0) > 10


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(from_lark(Lark(grammar_text(), parser="lalr")))  # the grammar itself, not a cached parser
def test_grammar_generated_text_fails_cleanly(text: str) -> None:
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"drvmc-gram-{os.getpid()}"
    work.mkdir(exist_ok=True)
    r = fuzz.run_one(text, work)
    assert r.outcome not in fuzz.BAD, r.detail


def test_generated_specs_mostly_check(tmp_path: Path) -> None:
    # The generator must produce specs that go all the way through (else the fuzz run only
    # exercises error paths); a spec error here is a generator bug or a checker bug.
    import random

    rng = random.Random(5)
    results = [fuzz.run_one(fuzz.generate(rng), tmp_path) for _ in range(15)]
    bad = [r for r in results if r.outcome in fuzz.BAD]
    assert not bad, bad[0].detail
    through = sum(r.outcome in (fuzz.Outcome.CHECKED, fuzz.Outcome.UNKNOWN) for r in results)
    assert through >= 10, [r.detail for r in results]
