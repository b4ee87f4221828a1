"""Start-up cost (issue 19): `drvmc parse` of a ten-line spec against `python -c "import z3"`.

    python3 bench/bench_startup.py [--runs 15]

Every command runs `--runs` times as a fresh process, the three interleaved so that a change in
the machine's load falls on all of them; the table shows the median and the minimum of the CPU
time (user + system of the child, less sensitive to a shared machine than the wall time, which is
shown beside it) and the ratio to `import z3` by median CPU. The goal: `drvmc parse` under 2x.
With `--path`, the commands are run as a user types them, `python3` and `drvmc` from PATH: on a
machine where those are wrappers (pyenv's shims are shell scripts), both pay the wrapper's
start-up too. Not a test: the numbers depend on the machine and its load, printed with them.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "bench" / "data" / "ten_lines.drv"



def commands(path: bool) -> dict[str, list[str]]:
    python = ["python3"] if path else [sys.executable]
    drvmc = ["drvmc"] if path else [sys.executable, "-m", "drvmc.checker"]
    return {
        'python -c "import z3"': [*python, "-c", "import z3"],
        "drvmc version": [*drvmc, "version"],
        "drvmc parse ten_lines.drv": [*drvmc, "parse", str(SPEC)],
    }


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_once(argv: list[str]) -> tuple[float, float]:
    """(wall, CPU) of one run; a failed run stops the bench rather than time an error path."""
    cpu0, t0 = _children_cpu(), time.monotonic()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    wall, cpu = time.monotonic() - t0, _children_cpu() - cpu0
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--path", action="store_true",
                    help="run python3 and drvmc as found on PATH (wrappers included)")
    a = ap.parse_args()
    cmds = commands(a.path)
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.2f} (1 min), Python {sys.version.split()[0]}, "
          f"{a.runs} runs each, {'from PATH' if a.path else 'this interpreter directly'}")
    walls: dict[str, list[float]] = {k: [] for k in cmds}
    cpus: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(a.runs):
        for name, argv in cmds.items():
            wall, cpu = run_once(argv)
            walls[name].append(wall)
            cpus[name].append(cpu)
    base = statistics.median(next(iter(cpus.values())))
    print("| command | CPU median | CPU min | wall median | CPU / import z3 |")
    print("|---|---:|---:|---:|---:|")
    for name in cmds:
        med = statistics.median(cpus[name])
        print(f"| `{name}` | {med:.3f} s | {min(cpus[name]):.3f} s | "
              f"{statistics.median(walls[name]):.3f} s | {med / base:.2f}x |")
    print(f"load after: {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
