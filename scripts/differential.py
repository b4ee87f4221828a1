#!/usr/bin/env python3
"""A longer differential sweep: generated specs checked by BMC and the explicit engine (and,
with --spin, by SPIN too). Prints counts of verdicts and every disagreement with both traces.

    python3 scripts/differential.py [-n 1000] [--seed S] [--depth 10] [--spin K]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, given, seed, settings

from drvmc.checker.errors import DrvmcError
from drvmc.checker.ir.elaborate import elaborate
from drvmc.checker.lang.loader import load_program
from tests.gen_specs import GenSpec, compare_engines, spec_text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=1000, help="specs to generate")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--spin", type=int, default=0, help="also run SPIN on every K-th spec")
    args = ap.parse_args()
    counts: Counter[str] = Counter()
    failures: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="drvmc-diff-"))
    start = time.monotonic()

    @seed(args.seed)
    @settings(max_examples=args.n, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(g=spec_text())
    def sweep(g: GenSpec) -> None:
        counts["specs"] += 1
        p = tmp / "gen.drv"
        p.write_text(g.text, encoding="utf-8")
        try:
            model = elaborate(load_program(p), "original")
            problems = compare_engines(model, args.depth)
        except DrvmcError as e:
            counts["errors"] += 1
            failures.append(f"{g.text}\nerror: {e}")
            return
        counts["properties"] += len(model.properties)
        if problems:
            counts["disagreements"] += 1
            failures.append(g.text + "\n" + "\n".join(problems))
        if args.spin and counts["specs"] % args.spin == 0:
            from tests.test_spin import spin_disagreements

            d = Path(tempfile.mkdtemp(dir=tmp))
            counts["spin specs"] += 1
            sp = spin_disagreements(model, d)
            if sp:
                counts["spin disagreements"] += 1
                failures.append(g.text + "\n" + "\n".join(sp))

    sweep()
    for f in failures:
        print(f, end="\n\n")
    print(f"seed {args.seed}: " + ", ".join(f"{v} {k}" for k, v in counts.items())
          + f" in {time.monotonic() - start:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
