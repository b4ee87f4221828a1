"""`--baseline`: results compared with a saved `-f json` run, "Result changed" and exit 1."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drvmc.checker.app.baseline import Outcome, changes
from drvmc.checker.app.cli import app

FIX = Path(__file__).parent / "fixtures/compare"


@pytest.fixture
def spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(FIX / "baseline.drv", tmp_path / "baseline.drv")
    (tmp_path / "lib").mkdir()
    shutil.copy(FIX / "lib/probe_lib.drv", tmp_path / "lib/probe_lib.drv")
    monkeypatch.chdir(tmp_path)
    return Path("baseline.drv")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def _run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stdout


def _changed_lines(out: str) -> list[str]:
    lines = out.splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("Result changed"))
    return lines[start:]


def test_unchanged_run_passes(spec: Path) -> None:
    code, _ = _run("check", str(spec), "-a", "--save-baseline", "base.json")
    assert code == 0 and Path("base.json").is_file()
    code, out = _run("check", str(spec), "-a", "--baseline", "base.json")
    assert code == 0
    assert out.splitlines()[-1] == "No result changed (baseline base.json)"


def test_altered_expect_is_a_change(spec: Path) -> None:
    _run("check", str(spec), "-a", "--save-baseline", "base.json")
    _edit(spec, "expect original use_after_release: VIOLATED 3",
          "expect original use_after_release: VIOLATED 4")
    code, out = _run("check", str(spec), "-a", "--baseline", "base.json")
    assert code == 1
    assert _changed_lines(out) == [
        "Result changed (1, against baseline base.json):",
        "  baseline_fixture [original] use_after_release: VIOLATED 3 (expect VIOLATED 3: "
        "as expected) → VIOLATED 3 (expect VIOLATED 4: NOT as expected)",
    ]


def test_altered_library_procedure_is_a_change(spec: Path) -> None:
    # compare's JSON is a baseline for check and the other way round
    _run("compare", str(spec), "--save-baseline", "base.json")
    _edit(Path("lib/probe_lib.drv"), "live[r] = false", "skip")
    code, out = _run("check", str(spec), "-a", "--baseline", "base.json")
    assert code == 1
    assert _changed_lines(out) == [
        "Result changed (1, against baseline base.json):",
        "  baseline_fixture [original] use_after_release: VIOLATED 3 (expect VIOLATED 3: "
        "as expected) → PROVEN (expect VIOLATED 3: NOT as expected)",
    ]
    code, out = _run("compare", str(spec), "--baseline", "base.json")
    assert code == 1 and "Result changed (1," in out


def test_verdict_only_change_shows_verdicts(spec: Path) -> None:
    _run("check", str(spec), "-a", "-k", "2", "-e", "bmc", "--save-baseline", "base.json")
    code, out = _run("check", str(spec), "-a", "--baseline", "base.json")
    assert code == 1
    # with bound 2 the wait variant was SAFE≤2; unbounded it is PROVEN; both as expected
    assert "  baseline_fixture [wait] use_after_release: SAFE≤2 → PROVEN" in _changed_lines(out)


def test_subset_is_not_a_change_but_a_vanished_result_is() -> None:
    o = Outcome("VIOLATED 3", "VIOLATED", True)
    p = Outcome("PROVEN", "safe", True)
    old = {("s", "s.drv", "original", "a"): o, ("s", "s.drv", "original", "b"): p,
           ("s", "s.drv", "fix", "a"): p}
    assert changes(old, {("s", "s.drv", "original", "a"): o,
                         ("s", "s.drv", "original", "b"): p}) == []
    (c,) = changes(old, {("s", "s.drv", "original", "a"): o})
    assert str(c) == "s [original] b: PROVEN (expect safe: as expected) → (none)"


def test_bad_baseline_is_a_usage_error(spec: Path) -> None:
    Path("base.json").write_text('{"specs": [{"spec": 1}]}', encoding="utf-8")
    r = CliRunner().invoke(app, ["check", str(spec), "--baseline", "base.json"])
    assert r.exit_code == 3
    assert "not the JSON of `drvmc check --format json`" in r.stderr
