"""Ctrl-C and SIGTERM during a long check: what is known is printed, the exit code is 130, and no
partial file is left behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.errors import ExitCode, Interrupted
from drvmc.checker.fileio import write_text_atomic
from drvmc.checker.verdict.records import SpecReport
from drvmc.checker.verdict.results import Status

REPO = Path(__file__).resolve().parent.parent

QUICK = """spec quick "done before the slow one starts"
var n: 0..3 = 0
actor a { s: n = 1 }
"""

# Eight looping workers: `early` fails at length 3, `calm` never fails, so BMC deepens until
# the bound (500) -- far longer than the test waits.
SLOW = """spec slow "eight workers; one bug found early, one property that stays open"
allow deadlock
var c: 0..15 = 0
var x: 0..15[0..7] = 0
var never: bool = false
property early "c reaches 3"
invariant calm: !never
actor w[i in 0..7] {
  s: while true {
       a: x[i] = (x[i] + c + 1) % 16
       b: c = (c + x[i] + i) % 16
          assert c != 3 as early, "c reached 3"
     }
}
"""


def _specs(tmp: Path) -> tuple[Path, Path]:
    quick, slow = tmp / "quick.drv", tmp / "slow.drv"
    quick.write_text(QUICK, encoding="utf-8")
    slow.write_text(SLOW, encoding="utf-8")
    return quick, slow


class _StopAt:
    """A progress callback that presses Ctrl-C when the search reaches a depth."""

    def __init__(self, depth: int) -> None:
        self.depth = depth

    def __call__(self, variant: str, depth: int, elapsed: float, calls: int) -> None:
        if depth >= self.depth:
            raise KeyboardInterrupt


def test_interrupt_keeps_verdicts_found_and_depth_reached(tmp_path: Path) -> None:
    _, slow = _specs(tmp_path)
    with pytest.raises(Interrupted) as ei:
        check_spec(slow, CheckOptions(depth=500), _StopAt(6))
    rep = ei.value.partial
    assert isinstance(rep, SpecReport)
    by_prop = {r.result.prop: r.result for r in rep.rows}
    assert by_prop["early"].status is Status.VIOLATED and by_prop["early"].depth == 3
    assert not by_prop["early"].interrupted and by_prop["early"].trace is not None
    calm = by_prop["calm"]
    assert (calm.status, calm.depth, calm.interrupted) == (Status.SAFE, 6, True)
    assert calm.verdict_text() == "SAFE≤6 (interrupted)"
    assert ei.value.exit_code == ExitCode.INTERRUPTED


def test_interrupt_before_any_depth_is_unknown_not_safe(tmp_path: Path) -> None:
    _, slow = _specs(tmp_path)
    with pytest.raises(Interrupted) as ei:
        check_spec(slow, CheckOptions(depth=500), _StopAt(0))
    rep = ei.value.partial
    assert isinstance(rep, SpecReport)
    calm = next(r.result for r in rep.rows if r.result.prop == "calm")
    # depth 0 was checked before the callback ran: SAFE≤0, never PROVEN or a bare SAFE
    assert (calm.status, calm.depth, calm.interrupted) == (Status.SAFE, 0, True)


def _run_and_signal(tmp_path: Path, sig: signal.Signals, *extra: str) -> tuple[int, str, str]:
    """Start `drvmc check quick slow`, wait for quick's table, then signal during slow."""
    quick, slow = _specs(tmp_path)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    p = subprocess.Popen([sys.executable, "-m", "drvmc.checker", "check", str(quick), str(slow),
                          "-k", "500", "-e", "bmc", *extra], cwd=REPO, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout is not None
    seen = ""
    while "deadlock" not in seen:  # the last row of quick's table
        line = p.stdout.readline()
        if not line:
            break
        seen += line
    # quick's table is out: slow is loading or deepening now; give it time to get somewhere
    time.sleep(2.0)
    p.send_signal(sig)
    out, err = p.communicate(timeout=60)
    return p.returncode, seen + out, err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_prints_partial_table_and_exits_130(tmp_path: Path, sig: signal.Signals) -> None:
    code, out, err = _run_and_signal(tmp_path, sig, "--no-traces")
    assert code == 130, err
    assert "Traceback" not in err
    assert "drvmc: interrupted" in err
    # the spec finished before the signal keeps its full table
    assert re.search(r"original\s+deadlock\s+PROVEN", out), out
    # the interrupted spec: each row says what is known, marked as interrupted
    assert "slow.drv: slow" in out, out
    calm = re.search(r"original\s+calm\s+(.*)", out)
    assert calm is not None, out
    assert re.match(r"(SAFE≤\d+ \(interrupted\)|UNKNOWN \(interrupted before (it|depth 0) was "
                    r"checked\))\s+safe\s+interrupted$", calm.group(1)), calm.group(1)
    # no final summary line pretends the run completed
    assert not re.search(r"^\d+ results, ", out, re.MULTILINE), out


def test_signal_leaves_no_partial_files(tmp_path: Path) -> None:
    traces = tmp_path / "traces"
    traces.mkdir()
    code, _, err = _run_and_signal(tmp_path, signal.SIGINT, "--trace-dir", str(traces))
    assert code == 130, err
    # quick has no counterexample; slow's were never written, and no temporary file remains
    assert sorted(p.name for p in traces.iterdir()) == []


def test_atomic_write_interrupted_leaves_old_file(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.md"
    write_text_atomic(target, "old\n")

    def boom(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        write_text_atomic(target, "new and much longer\n" * 1000)
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


@pytest.mark.parametrize(("engine", "extra"), [
    ("pdr", []), ("kind", []), ("auto", ["--explicit-states", "0"]), ("auto", []),
    ("explicit", [])], ids=["pdr", "kind", "auto-symbolic", "auto-explicit-pass", "explicit"])
def test_sigterm_during_an_unbounded_engine_is_an_interrupt_not_a_time_out(
        tmp_path: Path, engine: str, extra: list[str]) -> None:
    # Spacer answers a cancel by raising from inside z3's error callback; the signal must still
    # end the run as an interrupt (exit 130), without a traceback, and not as a "time-out"
    from bench.families import component

    # the component family's fix at N = 8 without symmetry reduction: 85,985 states, about 20 s
    # for the explicit search (auto's pass included), and neither Spacer nor k-induction proves
    # it in seconds
    slow = tmp_path / "family.drv"
    slow.write_text(component(8, True), encoding="utf-8")
    p = subprocess.Popen([sys.executable, "-m", "drvmc.checker", "check", str(slow), "-e", engine,
                          "--no-traces", "--no-symmetry", "-k", "500", "-p", "use_after_release",
                          *extra], cwd=REPO,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4.0)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, out + err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert "time-out" not in out, out
    row = re.search(r"original\s+use_after_release\s+(.*)", out)
    assert row is not None, out
    assert "interrupted" in row.group(1) and "PROVEN" not in row.group(1), row.group(1)
