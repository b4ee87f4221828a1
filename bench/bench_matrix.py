"""A run's jobs on Dask (issue 23): serial `drvmc check` against `--workers 2`.

For each folder (the seeds with the corpus below them, `specs/`, and the corpus alone) and each
engine (the default, auto, and bmc), runs `drvmc check FOLDER --no-timings` once serially and
once with `--workers 2`, and prints wall time and CPU time (this process's children: drvmc and
the cluster's worker processes it started), the speed-up, and whether the two outputs are
byte-identical (they must be). The figures go to docs/PERFORMANCE.md, "Distributed runs".

    python bench/bench_matrix.py [--repeat N] [--workers N] [FOLDER ...]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
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


def run(args: list[str]) -> Timing:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cpu0, t0 = _cpu(), time.monotonic()
    p = subprocess.run([sys.executable, "-m", "drvmc.checker.app.cli", "check", *args,
                        "--no-timings"], cwd=REPO, env=env, capture_output=True, text=True)
    return Timing(time.monotonic() - t0, _cpu() - cpu0, p.returncode, p.stdout)


def best(args: list[str], repeat: int) -> Timing:
    runs = [run(args) for _ in range(repeat)]
    return min(runs, key=lambda t: t.wall)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="*", default=["specs", "specs/corpus"])
    ap.add_argument("--repeat", type=int, default=1, help="runs of each, the fastest kept")
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    print(f"load before: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} CPUs")
    head = (f"{'folder':<14} {'engine':<8} {'serial wall':>11} {'cpu':>7} "
            f"{'-j' + str(a.workers) + ' wall':>9} {'cpu':>7} {'speed-up':>8}  same output")
    print(head)
    print("-" * len(head))
    for folder in a.folders:
        for name, extra in ENGINES:
            s = best([folder, *extra], a.repeat)
            d = best([folder, *extra, "--workers", str(a.workers)], a.repeat)
            same = "yes" if (s.out, s.code) == (d.out, d.code) else "NO"
            print(f"{folder:<14} {name:<8} {s.wall:>10.1f}s {s.cpu:>6.1f}s "
                  f"{d.wall:>8.1f}s {d.cpu:>6.1f}s {s.wall / d.wall:>7.2f}x  {same} "
                  f"(exit {s.code})", flush=True)
    print(f"load after: {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
