"""Files drvmc writes get the umask's permissions (0666 less the umask), like any other tool's.

Atomic writes go through a temporary file beside the target; `tempfile.mkstemp` would make it
0600, and the rename would carry that mode over to a report or trace meant to be shared.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drvmc.checker.app.cli import app
from drvmc.checker.fileio import write_text_atomic

ROOT = Path(__file__).parent.parent


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_write_text_atomic_follows_the_umask(tmp_path: Path, umask_022: None) -> None:
    out = tmp_path / "a.txt"
    write_text_atomic(out, "x")
    assert _mode(out) == 0o644
    write_text_atomic(out, "y")  # replacing a file: the same
    assert _mode(out) == 0o644 and out.read_text() == "y"
    os.umask(0o077)
    write_text_atomic(tmp_path / "b.txt", "x")
    assert _mode(tmp_path / "b.txt") == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_trace_files_and_report_follow_the_umask(tmp_path: Path, umask_022: None) -> None:
    spec = ROOT / "tests" / "golden" / "race.drv"
    traces = tmp_path / "traces"
    r = CliRunner().invoke(app, ["check", str(spec), "--trace-dir", str(traces)])
    assert r.exit_code == 0, r.stdout + r.stderr
    files = sorted(traces.iterdir())
    assert files and all(_mode(p) == 0o644 for p in files)
    assert _mode(traces) == 0o755
    md = tmp_path / "r.md"
    r = CliRunner().invoke(app, ["report", str(spec), "-o", str(md)])
    assert r.exit_code in (0, 1), r.stdout + r.stderr
    written = [md, *(tmp_path / "r_files").glob("*")]
    assert all(_mode(p) == 0o644 for p in written), {p.name: oct(_mode(p)) for p in written}
