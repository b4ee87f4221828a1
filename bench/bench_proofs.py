"""How long each unbounded proof takes: every variant of every scenario, and a loop family.

    python3 bench/bench_proofs.py [--out docs/BENCH_PROOFS.md] [--timeout 60] [specs...]

For each variant it runs bmc (the reference), kind, pdr and the explicit-state engine on all
properties and records each property's verdict and the engine's time per property (the time until
that property's answer; for the Z3 engines including the time to build the encoding).
The scenarios in specs/ have no loops (BMC proves them by exhaustion); the `irq_loop` family
has an interrupt that fires forever, so only the unbounded engines can prove its fix. It scales
with N interrupt lines, each with its own enable flag and counter.
Not a test: the numbers depend on the machine and its load (printed with the results).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import z3  # noqa: E402

from drvmc.checker.engines.bmc import run_bmc  # noqa: E402
from drvmc.checker.engines.explicit import ExplicitOptions, run_explicit  # noqa: E402
from drvmc.checker.engines.kind import KindOptions, run_kind  # noqa: E402
from drvmc.checker.engines.pdr import PdrOptions, run_pdr  # noqa: E402
from drvmc.checker.engines.unroll import BmcOptions  # noqa: E402
from drvmc.checker.ir.elaborate import elaborate, variant_names  # noqa: E402
from drvmc.checker.lang.loader import load_program  # noqa: E402
from drvmc.checker.verdict.results import Result, Status  # noqa: E402
from drvmc.translators.z3_encoding import Encoding  # noqa: E402

PROOF = (Status.PROVEN, Status.UNREACHABLE)
ENGINES = ("bmc", "kind", "pdr", "explicit")


def irq_loop(n: int, fixed: bool) -> str:
    """N interrupt lines that fire forever on a shared mapping; unbind releases it."""
    lines = " ".join(f"l{i}," for i in range(n)).rstrip(",")
    irqs = "\n".join(f"""actor irq{i} {{
  loop: while true {{
    fire: await irq_on[l{i}]
          assert live as use_after_release, "irq {i} touches the released mapping"
          count[l{i}] = (count[l{i}] + 1) % 4
  }}
}}""" for i in range(n))
    disable = "\n".join(f"       irq_on[l{i}] = false" for i in range(n))
    enable = "\n".join(f"       irq_on[l{i}] = true" for i in range(n))
    unbind = (f"""actor unbind {{
  dis: await state == running
{disable}
  del: live = false
       state = stopped
}}""" if fixed else """actor unbind {
  del: await state == running
       live = false
       state = stopped
}""")
    return f"""spec irq_loop_{n} "{n} interrupt lines firing forever"
enum Line {{ {lines} }}
enum St {{ idle, running, stopped }}
property use_after_release "no use of a released mapping"
var live: bool = false
var irq_on: bool[Line] = false
var count: 0..3[Line] = 0
var state: St = idle
actor probe {{
  map: live = true
  en:
{enable}
       state = running
}}
{irqs}
{unbind}
reachable fired: count[l0] == 2
allow deadlock
"""


def _fmt(r: Result) -> str:
    return r.verdict_text().split(" (")[0] if r.status in PROOF else r.verdict_text()


def bench_model(label: str, path: Path, timeout: float, depth: int,
                engines: tuple[str, ...] = ENGINES) -> list[str]:
    rows: list[str] = []
    prog = load_program(path)
    for v in variant_names(prog):
        m = elaborate(prog, v)
        t0 = time.monotonic()
        enc = Encoding(m)
        enc_s = time.monotonic() - t0
        props = list(m.properties)
        runs: dict[str, tuple[list[Result], float]] = {}
        for name in engines:
            t0 = time.monotonic()
            match name:
                case "explicit":
                    rs = run_explicit(m, props, ExplicitOptions(depth))
                case "bmc":
                    rs = run_bmc(m, enc, props, BmcOptions(depth, timeout))
                case "kind":
                    rs = run_kind(m, enc, props, KindOptions(depth, timeout))
                case _:
                    rs = run_pdr(m, enc, props, PdrOptions(timeout, depth))
            runs[name] = (rs, time.monotonic() - t0)
        for i, p in enumerate(props):
            cells = [label, v, p.name]
            for name in ENGINES:
                if name not in runs:
                    cells.append("—")
                    continue
                r = runs[name][0][i]
                # the symbolic engines' times include building the encoding, once per variant
                extra = 0.0 if name == "explicit" else enc_s
                cells.append(f"{_fmt(r)} ({r.seconds + extra:.1f}s)")
            rows.append("| " + " | ".join(cells) + " |")
        print(f"{label}/{v}: " + ", ".join(f"{n} {t:.1f}s" for n, (_, t) in runs.items()),
              file=sys.stderr, flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("specs", nargs="*", type=Path)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--depth", type=int, default=40)
    ap.add_argument("--loop-sizes", default="1,2,3,4")
    ap.add_argument("--spec-engines", default="bmc,kind,pdr,explicit",
                    help="engines for the specs (the loop family always gets all three)")
    args = ap.parse_args()
    specs = args.specs or sorted((ROOT / "specs").glob("*.drv"))
    rows: list[str] = []
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.loop_sizes.split(",") if x):
            for fixed in (False, True):
                p = Path(tmp) / f"irq_loop_{n}_{'fixed' if fixed else 'original'}.drv"
                p.write_text(irq_loop(n, fixed), encoding="utf-8")
                rows.extend(bench_model(p.stem, p, args.timeout, args.depth))
    for s in specs:
        rows.extend(bench_model(s.stem, s, args.timeout, args.depth,
                                tuple(args.spec_engines.split(","))))
    load = os.getloadavg()
    head = [
        f"# Proof benchmark ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
        "",
        f"`python3 bench/bench_proofs.py` — depth {args.depth}, time-out {args.timeout:g}s per "
        f"solver call (pdr: per query); z3 {z3.get_version_string()}, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{load[0]:.1f} at the end; total {time.monotonic() - start:.0f}s.",
        "Times are per property: from the engine's start on that variant to the property's "
        "answer (pdr: its own query).",
        "",
        "| spec | variant | property | bmc | kind | pdr | explicit |",
        "|---|---|---|---|---|---|---|",
    ]
    text = "\n".join(head + rows) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
