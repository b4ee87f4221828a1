"""End-to-end time of `drvmc check SPEC --all-variants` for the seed scenarios and the
corpus of real bugs written with the stock library (specs/corpus).

    python3 bench/bench_scenarios.py [--runs 3] [--engine auto] [--out docs/BENCH_SCENARIOS.md]

Each scenario is checked in a fresh `drvmc` process (parse, elaborate, encode, BMC, traces,
output: what a user waits for), `--runs` times; the table shows the median, the minimum and the
CPU time (user + system of the check process, less sensitive to a loaded machine) and the
number of results as expected. S0 is two files (bug A and bug B). A last row checks all of them in
one process (`drvmc check specs --all-variants`), which is how a user runs the folder. The goal
(issue 16): all of them under 20 s together (issue 3's was the five seeds under 10 s). Not a
test: the numbers depend on the machine and its load, which is printed with them.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCENARIOS = [
    ("S0a", "specs/aggregate_mtk_smi_a.drv"),
    ("S0b", "specs/aggregate_mtk_smi_b.drv"),
    ("S1", "specs/mtk_iommu_v1_attach.drv"),
    ("S2", "specs/iommu_async_probe.drv"),
    ("S3", "specs/mipi_dsi_devm.drv"),
    ("S4", "specs/component_master_devres.drv"),
    # the corpus of real bugs on the stock library (issues 16 and 17)
    *((f"C{i}", f"specs/corpus/{p.name}")
      for i, p in enumerate(sorted((ROOT / "specs" / "corpus").glob("*.drv")), start=1)),
]


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_once(spec: str, engine: str) -> tuple[float, float, int, str]:
    """Wall-clock seconds, CPU seconds, exit code and the summary line of one check."""
    cpu0 = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "drvmc.checker", "check", spec, "--all-variants",
                           "--no-traces", "--engine", engine], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    seconds = time.perf_counter() - start
    summary = next((ln for ln in reversed(proc.stdout.splitlines()) if " results, " in ln), "")
    return seconds, _children_cpu() - cpu0, proc.returncode, summary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None, help="also write the table (Markdown)")
    ap.add_argument("--engine", default="auto", help="drvmc's --engine (default: its default)")
    args = ap.parse_args()
    rows: list[str] = []
    total = 0.0
    ok = True
    for tag, spec in SCENARIOS:
        if not (ROOT / spec).exists():
            rows.append(f"| {tag} | `{spec}` | missing | | | | |")
            continue
        times: list[float] = []
        cpus: list[float] = []
        code, summary = 0, ""
        for _ in range(args.runs):
            t, cpu, code, summary = run_once(spec, args.engine)
            times.append(t)
            cpus.append(cpu)
        med = statistics.median(times)
        total += med
        ok = ok and code == 0
        m = re.search(r"(\d+) results, (\d+) as expected", summary)
        results = f"{m.group(2)}/{m.group(1)}" if m else "?"
        rows.append(f"| {tag} | `{spec}` | {med:.2f} | {min(times):.2f} | "
                    f"{statistics.median(cpus):.2f} | {results} | {code} |")
    # one process over the whole folder: what `drvmc check specs -a` costs a user
    one_times: list[float] = []
    one_cpus: list[float] = []
    one_code, one_summary = 0, ""
    for _ in range(args.runs):
        t, cpu, one_code, one_summary = run_once("specs", args.engine)
        one_times.append(t)
        one_cpus.append(cpu)
    ok = ok and one_code == 0
    m = re.search(r"(\d+) results, (\d+) as expected", one_summary)
    one_results = f"{m.group(2)}/{m.group(1)}" if m else "?"
    one_row = (f"| one process | `specs` | {statistics.median(one_times):.2f} | "
               f"{min(one_times):.2f} | {statistics.median(one_cpus):.2f} | {one_results} | "
               f"{one_code} |")
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    lines = [
        f"# `drvmc check --all-variants --engine {args.engine}` per scenario "
        f"(median of {args.runs}, seconds, end to end)",
        "",
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; "
        f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}",
        "",
        "| scenario | spec | median s | min s | median CPU s | as expected | exit |",
        "|---|---|---|---|---|---|---|",
        *rows,
        f"| **all, one process each** | | **{total:.2f}** | | | | "
        f"{'0' if ok else 'not all 0'} |",
        one_row,
        "",
        "goal (issue 16): `drvmc check specs --all-variants` (seeds and corpus, one command) "
        "under 20 s: " + ("met" if statistics.median(one_times) < 20 else "NOT met")
        + f"; one process per file adds {len(SCENARIOS)} start-ups (issue 19)",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
