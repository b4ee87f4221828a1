"""Time building the Z3 transition template (`Encoding(model)`) for every variant of each spec.

CPU seconds (`time.process_time`), so that other jobs on the machine disturb the figures little;
each cell is the median of --runs builds. Spec parsing and elaboration are not timed.

    python3 bench/bench_encoding.py specs/*.drv --runs 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from drvmc.checker.ir.elaborate import elaborate, variant_names  # noqa: E402
from drvmc.checker.lang.loader import load_program  # noqa: E402
from drvmc.translators.z3_encoding import Encoding  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("specs", nargs="+", type=Path)
    ap.add_argument("--runs", type=int, default=1, help="builds per variant (median shown)")
    args = ap.parse_args(argv)
    print(f"{'spec':28s} {'variant':28s} {'seconds':>8s} {'steps':>6s}")
    total = 0.0
    for f in args.specs:
        prog = load_program(f)
        for v in variant_names(prog):
            model = elaborate(prog, v)
            times: list[float] = []
            steps = 0
            for _ in range(max(1, args.runs)):
                t = time.process_time()
                enc = Encoding(model)
                times.append(time.process_time() - t)
                steps = len(enc.steps)
            d = statistics.median(times)
            total += d
            print(f"{f.stem:28s} {v:28s} {d:8.2f} {steps:6d}", flush=True)
    print(f"{'total':57s} {total:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
