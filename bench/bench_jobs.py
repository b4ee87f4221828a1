"""The jobs of a distributed run, one at a time (issue 23): how long each spec and variant takes.

`drvmc check --workers N` shares the work out by job, one variant of one spec
(checker/app/distributed.py). Its wall time cannot go below the longest job, nor below the total
divided by N. This times every job of the given folders as its own `drvmc check FILE --variant V`
process (start-up included, as a worker pays its own once), prints them longest first, and the
two bounds for N workers, with the makespan of a longest-first schedule of these times, so the
figures in docs/PERFORMANCE.md ("Distributed runs") can say where a speed-up below N comes from.

    python bench/bench_jobs.py [--engine bmc] [--workers 2] [FOLDER ...]
"""

from __future__ import annotations

import argparse
import heapq
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from drvmc.checker.app.driver import CheckOptions, plan_spec  # noqa: E402


@dataclass(frozen=True)
class JobTime:
    spec: str
    variant: str
    wall: float
    cpu: float


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def time_job(path: Path, variant: str, engine: tuple[str, ...]) -> JobTime:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cpu0, t0 = _cpu(), time.monotonic()
    subprocess.run([sys.executable, "-m", "drvmc.checker.app.cli", "check", str(path),
                    "--variant", variant, "--no-timings", *engine], cwd=REPO, env=env,
                   capture_output=True, text=True, check=False)
    return JobTime(os.path.relpath(path, REPO), variant, time.monotonic() - t0, _cpu() - cpu0)


def longest_first(times: list[float], workers: int) -> float:
    """The makespan of assigning the jobs, longest first, each to the least loaded worker."""
    loads = [0.0] * workers
    for t in sorted(times, reverse=True):
        heapq.heappush(loads, heapq.heappop(loads) + t)
    return max(loads)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="*", default=["specs"])
    ap.add_argument("--engine", default="bmc", help="bmc (default), or 'default' for auto")
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    engine = () if a.engine == "default" else ("--engine", a.engine)
    files = sorted({p for f in a.folders for p in (REPO / f).rglob("*.drv")
                    if "lib" not in p.relative_to(REPO / f).parts})
    print(f"load before: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} CPUs, "
          f"engine {a.engine}, {len(files)} spec files")
    jobs: list[JobTime] = []
    for path in files:
        plan = plan_spec(path, CheckOptions())
        for v in plan.chosen:
            jobs.append(time_job(path, v, engine))
            print(f"  {jobs[-1].wall:7.1f} s  {jobs[-1].spec} {v}", file=sys.stderr)
    jobs.sort(key=lambda j: j.wall, reverse=True)
    print(f"{'wall':>8} {'cpu':>8}  job")
    for j in jobs:
        print(f"{j.wall:8.1f} {j.cpu:8.1f}  {j.spec} / {j.variant}")
    walls = [j.wall for j in jobs]
    total = sum(walls)
    print(f"jobs: {len(jobs)}; total {total:.1f} s wall, {sum(j.cpu for j in jobs):.1f} s CPU; "
          f"longest {walls[0]:.1f} s")
    lower = max(walls[0], total / a.workers)
    lpt = longest_first(walls, a.workers)
    print(f"{a.workers} workers: no schedule under {lower:.1f} s (speed-up at most "
          f"{total / lower:.2f}x); longest-first schedule {lpt:.1f} s ({total / lpt:.2f}x)")
    print(f"load after: {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
