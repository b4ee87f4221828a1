"""Same spec and options → the same bytes: verdict tables, JSON, trace files and diagrams, across
processes with different hash seeds (set/dict order), so no output depends on iteration order,
addresses or the clock (`--no-timings` drops the one time in the text summary)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Several actors and several ways to fail, so which counterexample is printed is a real choice.
SPEC = """spec determinism "three workers, two lists, two variants: many equal-length bugs"
enum Dev { d0, d1, d2 }
record Res { owner: Dev?, live: bool }
property uaf "no use after release"
property leak_prop "released at most once"
var res: list<Res, 4> = []
var live: bool[Dev] = false
var refs: 0..3 = 0
invariant refs_small: refs < 3
final all_released: forall d in Dev: !live[d]

proc use_it(d: Dev) { assert live[d] as uaf, "used after release" }

actor worker[i in Dev] {
  get:  live[i] = true
        refs = refs + 1
        res.append(Res(owner = i, live = true))
  touch: use_it(i)
  put:  either { live[i] = false } or { skip }
        refs = refs - 1
}
actor reaper {
  r1: choose k in 0..2
      if k < len(res) { res.remove_at(k) }
      live[d1] = false
  r2: assert len(res) < 3 as leak_prop, "three resources"
}
variant fix "the reaper waits" {
  actor reaper { r1: await refs == 0
                     live[d1] = false }
}
expect original uaf: VIOLATED
"""


def _run(args: list[str], hashseed: str, cwd: Path) -> tuple[int, bytes, bytes]:
    env = {**os.environ, "PYTHONHASHSEED": hashseed, "COLUMNS": "100"}
    p = subprocess.run([sys.executable, "-m", "drvmc.checker", *args], cwd=cwd, env=env,
                       capture_output=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def _trace_dir_supported() -> bool:
    p = subprocess.run([sys.executable, "-m", "drvmc.checker", "check", "--help"], cwd=REPO,
                       capture_output=True, text=True, timeout=60)
    return "--trace-dir" in p.stdout


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("det") / "determinism.drv"
    p.write_text(SPEC, encoding="utf-8")
    return p


# the deterministic engines; `auto` races k-induction against Spacer when its explicit pass runs
# out of states, so which engine's proof is printed may vary (never the verdict)
@pytest.mark.parametrize(("fmt", "engine"), [("text", "bmc"), ("json", "bmc"), ("text", "auto"),
                                             ("json", "explicit")])
def test_check_output_is_byte_identical_across_processes(spec: Path, fmt: str,
                                                         engine: str) -> None:
    args = ["check", str(spec), "--all-variants", "-k", "8", "-f", fmt, "--no-timings",
            "-e", engine]
    a = _run(args, "1", REPO)
    b = _run(args, "4242", REPO)
    assert a[0] == b[0]
    assert a[0] in (0, 1), a[2].decode()
    assert a[1] == b[1]
    # The run is not trivially identical: it found counterexamples and printed them.
    out = a[1].decode()
    assert "VIOLATED" in out and ("violated:" in out or '"trace"' in out)


def test_trace_files_are_byte_identical_across_processes(spec: Path, tmp_path: Path) -> None:
    if not _trace_dir_supported():
        pytest.skip("check --trace-dir is not available")
    dirs = []
    for seed in ("7", "99"):
        d = tmp_path / f"run{seed}"
        d.mkdir()
        code, _, err = _run(["check", str(spec), "--all-variants", "-k", "8", "--trace-dir",
                             str(d)], seed, REPO)
        assert code in (0, 1), err.decode()
        dirs.append(d)
    names = [sorted(p.name for p in d.iterdir()) for d in dirs]
    assert names[0] == names[1] and names[0], names
    for n in names[0]:
        assert (dirs[0] / n).read_bytes() == (dirs[1] / n).read_bytes(), n


def test_golden_scenario_repeats_exactly() -> None:
    # A committed scenario, run twice in one order and once in the other variant order.
    race = REPO / "tests" / "golden" / "race.drv"
    args = ["check", str(race), "-f", "json"]
    outs = {_run(args, s, REPO)[1] for s in ("0", "3", "random")}
    assert len(outs) == 1
