"""Scaling benchmark: each drvmc engine against SPIN and TLC on families parameterised by N.

Every measurement is end to end in a fresh process, spec parsing included: `drvmc check FILE
--engine E` for drvmc; for SPIN the Promela export, `spin -a`, `gcc` and `./pan`; for TLC the
TLA+ export and TLC (one worker, breadth-first, as `drvmc export --to tla` prints how to run it).
Each cell is the median of --runs runs, wall seconds with CPU seconds (the child processes' user +
system time: this machine is shared, so CPU is the steadier figure) in brackets; a run over
--timeout seconds is shown as `>T` (and a first run over it is not repeated). The ratio column is
the best drvmc engine's CPU time divided by SPIN's (below 1: drvmc uses less).

    python3 bench/bench_scaling.py --family component --ns 4,8,10,12,16 --runs 3 --timeout 60

For the component families the hand-written Z3 models of bench/hand_z3.py (BMC and Spacer over
Int/Bool, one boolean per resource where drvmc keeps devres slots) are columns too (--no-hand
leaves them out): the floor the symbolic engines are measured against.
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.families import FAMILIES  # noqa: E402

SPIN_SNIPPET = """
import sys
from pathlib import Path
from drvmc.checker.ir.elaborate import elaborate
from drvmc.checker.lang.loader import load_program
from drvmc.translators.promela import compile_spin, export_promela, run_pan
model = elaborate(load_program(Path(sys.argv[1])))
props = [p for p in model.properties if p.name == sys.argv[2]]
ex = export_promela(model, props)
pan = compile_spin(ex.text, Path(sys.argv[3]))
r = run_pan(pan, 0)
print("VIOLATED" if r.violated else "SAFE")
"""


TLC_SNIPPET = """
import sys
from pathlib import Path
from drvmc.checker.ir.elaborate import elaborate
from drvmc.checker.lang.loader import load_program
from drvmc.translators.tla import export_tla, run_tlc_cfg
model = elaborate(load_program(Path(sys.argv[1])))
ex = export_tla(model, "Family", only=sys.argv[2])
r = run_tlc_cfg(ex, Path(sys.argv[3]), timeout_s=float(sys.argv[4]))
print("VIOLATED" if r.prop is not None else "SAFE")
"""


@dataclass(frozen=True)
class Cell:
    seconds: float | None  # wall; None: timed out
    verdict: str
    cpu: float | None = None  # user + system of the run's processes

    def text(self, timeout: float) -> str:
        if self.seconds is None:
            return f">{timeout:.0f}"
        return f"{self.seconds:.2f} ({self.cpu:.2f})" if self.cpu is not None \
            else f"{self.seconds:.2f}"


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _timed(cmd: list[str], timeout: float, parse: Callable[[str], str]) -> Cell:
    start, cpu0 = time.monotonic(), _children_cpu()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return Cell(None, "timeout")
    return Cell(time.monotonic() - start, parse(out.stdout), _children_cpu() - cpu0)


def _drvmc_verdict(stdout: str) -> str:
    try:
        data = json.loads(stdout)
        return str(data["specs"][0]["results"][0]["status"])
    except (ValueError, KeyError, IndexError):
        return "error"


def run_drvmc(spec: Path, prop: str, engine: str, timeout: float) -> Cell:
    # `bmc-any`: BMC with the solver's own counterexample (`--any-switches`), as the hand-written
    # BMC gives it, rather than one re-chosen with the fewest context switches
    flags = ["--engine", "bmc", "--any-switches"] if engine == "bmc-any" else ["--engine", engine]
    cmd = [sys.executable, "-m", "checker", "check", str(spec), *flags, "-p", prop,
           "--no-traces", "--no-timings", "-f", "json", "--depth", "400"]
    return _timed(cmd, timeout, _drvmc_verdict)


def run_spin(spec: Path, prop: str, timeout: float) -> Cell:
    with tempfile.TemporaryDirectory() as work:
        cmd = [sys.executable, "-c", SPIN_SNIPPET, str(spec), prop, work]
        return _timed(cmd, timeout, lambda s: s.strip() or "error")


def run_tlc(spec: Path, prop: str, timeout: float) -> Cell:
    with tempfile.TemporaryDirectory() as work:
        cmd = [sys.executable, "-c", TLC_SNIPPET, str(spec), prop, work, str(timeout)]
        return _timed(cmd, timeout, lambda s: s.strip().splitlines()[-1] if s.strip() else "error")


def run_hand(n: int, fix: bool, asym: bool, engine: str, timeout: float) -> Cell:
    """bench/hand_z3.py: the hand-written Z3 model of the component family (BMC or Spacer)."""
    cmd = [sys.executable, str(ROOT / "bench" / "hand_z3.py"), "--n", str(n), "--engine", engine,
           *(["--fix"] if fix else []), *(["--asym"] if asym else [])]

    return _timed(cmd, timeout, lambda out: out.split()[0] if out.split() else "error")


def median_cell(cells: list[Cell]) -> Cell:
    done = [c for c in cells if c.seconds is not None]
    if len(done) * 2 <= len(cells):
        return Cell(None, "timeout")
    cpus = [c.cpu for c in done if c.cpu is not None]
    return Cell(statistics.median(c.seconds for c in done if c.seconds is not None),
                cells[0].verdict, statistics.median(cpus) if cpus else None)


def measure(run: Callable[[], Cell], runs: int) -> Cell:
    """The median of `runs` runs; a first run over the time-out is not repeated (the cell is
    `>T` either way, and repeating it would only cost runs * T)."""
    first = run()
    if first.seconds is None:
        return first
    return median_cell([first, *(run() for _ in range(runs - 1))])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--family", choices=sorted(FAMILIES), default="component")
    ap.add_argument("--ns", default="4,6,8")
    ap.add_argument("--engines", default="bmc,pdr,explicit,auto",
                    help="drvmc engines, and bmc-any: bmc with --any-switches")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--no-spin", action="store_true")
    ap.add_argument("--no-tlc", action="store_true")
    ap.add_argument("--variants", default="bug,fix", help="bug, fix or both")
    ap.add_argument("--no-hand", action="store_true",
                    help="leave out the hand-written Z3 models (component families only)")
    args = ap.parse_args()
    fam = FAMILIES[args.family]
    engines = [e for e in args.engines.split(",") if e]
    hand = [] if args.no_hand or not args.family.startswith("component") else ["bmc", "spacer"]
    cpu = platform.processor() or platform.machine()
    print(f"# {args.family} family — {platform.node()}, {cpu}, {time.strftime('%Y-%m-%d')}, "
          f"median of {args.runs}, seconds end to end: wall (CPU)")
    cols = ["N", "variant", *engines, *(f"hand {h}" for h in hand),
            *([] if args.no_spin else ["SPIN"]),
            *([] if args.no_tlc else ["TLC"]), "best/SPIN (CPU)", "verdict"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    with tempfile.TemporaryDirectory() as tmp:
        for n in [int(x) for x in args.ns.split(",")]:
            for variant, fix in (("bug", False), ("fix", True)):
                if variant not in args.variants.split(","):
                    continue
                spec = Path(tmp) / f"{args.family}_{n}_{variant}.drv"
                spec.write_text(fam.text(n, fix), encoding="utf-8")
                row: dict[str, Cell] = {}
                for e in engines:
                    row[e] = measure(functools.partial(run_drvmc, spec, fam.prop, e,
                                                       args.timeout), args.runs)
                hands = {h: measure(functools.partial(run_hand, n, fix,
                                                      args.family == "component_asym", h,
                                                      args.timeout), args.runs) for h in hand}
                spin = None
                if not args.no_spin:
                    spin = measure(functools.partial(run_spin, spec, fam.prop, args.timeout),
                                   args.runs)
                tlc = None
                if not args.no_tlc:
                    tlc = measure(functools.partial(run_tlc, spec, fam.prop, args.timeout),
                                  args.runs)
                times = [c.cpu for c in row.values() if c.cpu is not None]
                best = min(times) if times else None
                ratio = "—"
                if best is not None and spin is not None and spin.cpu:
                    ratio = f"{best / spin.cpu:.2f}"
                elif best is not None and spin is not None and spin.seconds is None:
                    ratio = f"<{best / args.timeout:.2f}"
                others = [c for c in (spin, tlc) if c is not None and c.seconds is not None]
                verdicts = sorted({c.verdict for c in [*row.values(), *hands.values(), *others]
                                   if c.seconds is not None})
                cells = [str(n), variant, *(row[e].text(args.timeout) for e in engines),
                         *(hands[h].text(args.timeout) for h in hand)]
                if spin is not None:
                    cells.append(spin.text(args.timeout))
                if tlc is not None:
                    cells.append(tlc.text(args.timeout))
                cells += [ratio, "/".join(verdicts) or "—"]
                print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
