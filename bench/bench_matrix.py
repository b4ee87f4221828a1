"""A run's jobs on Dask (issue 23): serial `drvmc check` against `--workers 2`.

For each folder (the seeds with the corpus below them, `specs/`, and the corpus alone) and each
engine (the default, auto, and bmc), runs `drvmc check FOLDER --no-timings` once serially and
twice with `--workers 2`: first with no job times recorded (a fresh cache directory: the jobs
start in the serial order), then again with the times the first run recorded (longest first,
app.job_times). It prints wall time and CPU time (this process's children: drvmc and the
cluster's worker processes it started), the speed-ups, and whether the outputs are byte-identical
(they must be). The figures go to docs/PERFORMANCE.md, "Distributed runs".

    python bench/bench_matrix.py [--repeat N] [--workers N] [--engines default,bmc] [FOLDER ...]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ENGINES = (("default", ()), ("bmc", ("--engine", "bmc")))


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float  # user + system of the children that ended during the run
    code: int
    out: str


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(args: list[str], cache: str | None = None) -> Timing:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if cache is not None:
        env["DRVMC_CACHE_DIR"] = cache
    cpu0, t0 = _cpu(), time.monotonic()
    p = subprocess.run([sys.executable, "-m", "drvmc.checker.app.cli", "check", *args,
                        "--no-timings"], cwd=REPO, env=env, capture_output=True, text=True)
    return Timing(time.monotonic() - t0, _cpu() - cpu0, p.returncode, p.stdout)


def best(args: list[str], repeat: int) -> Timing:
    runs = [run(args) for _ in range(repeat)]
    return min(runs, key=lambda t: t.wall)


def cold_then_warm(args: list[str], repeat: int) -> tuple[Timing, Timing]:
    """The fastest of `repeat` first runs (each with a fresh cache), and of `repeat` runs after
    the first of them (its times recorded)."""
    colds: list[Timing] = []
    warms: list[Timing] = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="drvmc-bench-cache-") as cache:
            colds.append(run(args, cache))
            warms.append(run(args, cache))
    return min(colds, key=lambda t: t.wall), min(warms, key=lambda t: t.wall)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="*", default=["specs", "specs/corpus"])
    ap.add_argument("--repeat", type=int, default=1, help="runs of each, the fastest kept")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--engines", default="default,bmc", help="comma-separated: default, bmc")
    a = ap.parse_args()
    engines = [(n, x) for n, x in ENGINES if n in a.engines.split(",")]
    print(f"load before: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} CPUs")
    j = f"-j{a.workers}"
    head = (f"{'folder':<14} {'engine':<8} {'serial wall':>11} {'cpu':>7} "
            f"{j + ' 1st wall':>12} {'cpu':>7} {'speed-up':>8} "
            f"{j + ' 2nd wall':>12} {'cpu':>7} {'speed-up':>8}  same output")
    print(head)
    print("-" * len(head))
    for folder in a.folders:
        for name, extra in engines:
            s = best([folder, *extra], a.repeat)
            c, w = cold_then_warm([folder, *extra, "--workers", str(a.workers)], a.repeat)
            same = "yes" if (s.out, s.code) == (c.out, c.code) == (w.out, w.code) else "NO"
            print(f"{folder:<14} {name:<8} {s.wall:>10.1f}s {s.cpu:>6.1f}s "
                  f"{c.wall:>11.1f}s {c.cpu:>6.1f}s {s.wall / c.wall:>7.2f}x "
                  f"{w.wall:>11.1f}s {w.cpu:>6.1f}s {s.wall / w.wall:>7.2f}x  {same} "
                  f"(exit {s.code})", flush=True)
    print(f"load after: {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
