"""Golden tests that describe themselves: each spec's first line is the command, the expected
output sits beside it (`.out` for stdout, `.err` for stderr, both ending with the exit code).

Regenerate after an intended change with `UPDATE_GOLDEN=1 python3 -m pytest tests/test_golden.py`
and review the diff.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import mask_times

HERE = Path(__file__).parent
CASES = sorted([*HERE.glob("golden/*.drv"), *HERE.glob("errors/*.drv")])


def _command(spec: Path) -> list[str]:
    first = spec.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# drvmc "), f"{spec}: first line must be '# drvmc ...'"
    rel = spec.relative_to(HERE.parent).as_posix()
    return [a.replace("{spec}", rel) for a in shlex.split(first[len("# drvmc "):])]


@pytest.mark.parametrize("spec", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_golden(spec: Path) -> None:
    # a fresh process, as a user runs it: z3's shared context would otherwise carry other
    # tests' terms and pick another (equally short) interleaving
    result = subprocess.run([sys.executable, "-m", "checker", *_command(spec)],
                            cwd=HERE.parent, capture_output=True, text=True, timeout=600)
    stream = "err" if spec.parent.name == "errors" else "out"
    text = result.stderr if stream == "err" else result.stdout
    actual = mask_times(text) + f"[exit {result.returncode}]\n"
    expected_path = spec.with_suffix("." + stream)
    if os.environ.get("UPDATE_GOLDEN"):
        expected_path.write_text(actual, encoding="utf-8")
    assert expected_path.exists(), f"missing {expected_path}; run with UPDATE_GOLDEN=1"
    assert actual == expected_path.read_text(encoding="utf-8")
