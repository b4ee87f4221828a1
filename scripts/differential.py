#!/usr/bin/env python3
"""The long differential run: generated specs checked by every engine and both exports.

Each spec from tests/gen_specs.py's strategy is checked by BMC, k-induction, PDR (Spacer) and the
explicit engine, every property compared across them (tests/gen_specs.py `compare`: violations
and witnesses agree on status and length, no proof meets a violation, a bounded SAFE≤k meets no
violation of at most k steps; UNKNOWNs are counted apart), then by SPIN on the Promela export
(tests/test_spin.py `spin_disagreements`) and TLC on the TLA+ export (tests/test_tla.py
`tlc_disagreements`, lengths compared too). Prints every disagreement with the spec and the
verdicts, then a table: specs, properties, verdicts per engine, UNKNOWNs, disagreements, wall and
CPU time, machine load. Exit code 1 when anything disagreed or failed.

    python3 scripts/differential.py [-n 1000] [--seed S] [--depth 10] [--jobs 1]
        [--engines bmc,kind,pdr,explicit] [--spin-every 1] [--tlc-every 1] [--save DIR]
        [--pdr-timeout 10] [--pdr-hard-limit S] [--pdr-budget 120]

SPIN costs about a second per spec and TLC about two: `--spin-every K` / `--tlc-every K` check
only every K-th spec (0: never). PDR costs the most: Spacer overruns its per-query time-out by
minutes on some specs, so it runs in a child process killed after `--pdr-hard-limit` seconds
without an answer, within `--pdr-budget` seconds per spec (tests/gen_specs.py `run_engine`);
what it leaves open is UNKNOWN.
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing as mp
import os
import platform
import re
import resource
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pytest
from hypothesis import HealthCheck, given, seed, settings

from drvmc.checker.errors import DrvmcError

# everything the workers run is imported here, before they fork, so a long run uses one version
# of the code even while the files change
from drvmc.checker.ir.elaborate import elaborate
from drvmc.checker.lang.loader import load_program
from drvmc.checker.verdict.results import Status
from tests.gen_specs import ENGINES, GenSpec, compare, spec_text
from tests.test_spin import spin_disagreements
from tests.test_tla import tlc_disagreements

VERDICTS = (Status.VIOLATED, Status.REACHABLE, Status.PROVEN, Status.UNREACHABLE, Status.SAFE,
            Status.NOT_REACHED, Status.UNKNOWN)
EXPORTS = ("SPIN", "TLC")


@dataclass
class Options:
    depth: int
    engines: tuple[str, ...]
    spin_every: int
    tlc_every: int
    pdr_timeout: float
    pdr_hard_limit: float | None
    pdr_budget: float
    pdr_depth: int
    workdir: str


@dataclass
class Outcome:
    """What one spec gave: per engine the verdict counts and times, and what went wrong."""

    index: int
    properties: int = 0
    verdicts: dict[str, Counter[str]] = field(default_factory=dict)
    wall: Counter[str] = field(default_factory=Counter)
    cpu: Counter[str] = field(default_factory=Counter)
    unknown: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # engines disagreeing among themselves
    culprits: set[str] = field(default_factory=set)  # the engines in those disagreements
    export_problems: dict[str, list[str]] = field(default_factory=dict)
    exports: dict[str, str] = field(default_factory=dict)  # "checked" or "skipped: why"
    error: str = ""  # the spec did not elaborate: a generator bug


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def check_spec(job: tuple[int, str, Options]) -> Outcome:
    index, text, opts = job
    out = Outcome(index)
    d = Path(tempfile.mkdtemp(dir=opts.workdir, prefix=f"s{index}-"))
    p = d / "gen.drv"
    p.write_text(text, encoding="utf-8")
    try:
        model = elaborate(load_program(p), "original")
    except DrvmcError as e:
        out.error = str(e)
        return out
    out.properties = len(model.properties)
    c = compare(model, opts.depth, opts.engines, pdr_timeout=opts.pdr_timeout,
                pdr_hard_limit=opts.pdr_hard_limit, pdr_budget=opts.pdr_budget,
                pdr_depth=opts.pdr_depth)
    for e, run in c.runs.items():
        out.verdicts[e] = Counter(r.status.value for r in run.results or [])
        out.wall[e] += run.wall
        out.cpu[e] += run.cpu
    out.unknown = c.unknown
    out.problems = c.problems
    out.culprits = c.culprits
    for name, every, fn in (("SPIN", opts.spin_every, spin_disagreements),
                            ("TLC", opts.tlc_every, tlc_disagreements)):
        if not every or index % every:
            continue
        w0, c0, k0 = time.monotonic(), time.process_time(), _children_cpu()
        sub = d / name.lower()
        sub.mkdir()
        # TLC copies its standard modules (TLC.tla, Integers.tla, ...) into java.io.tmpdir and
        # parses them from there: with /tmp shared, concurrent TLC runs (other workers, other
        # users) now and then find a module missing ("Cannot find source file for module
        # Integers"). Each run gets its own folder here.
        saved = os.environ.get("JAVA_TOOL_OPTIONS")
        os.environ["JAVA_TOOL_OPTIONS"] = f"-Djava.io.tmpdir={sub}"
        try:
            bad = fn(model, sub)
            out.exports[name] = "checked"
        except pytest.skip.Exception as e:
            bad, out.exports[name] = [], f"skipped: {e}"
        except Exception as e:  # an export or tool failure on a well-typed spec is a finding
            bad, out.exports[name] = [f"{name} failed: {type(e).__name__}: {e}"], "checked"
        finally:
            if saved is None:
                del os.environ["JAVA_TOOL_OPTIONS"]
            else:
                os.environ["JAVA_TOOL_OPTIONS"] = saved
        out.export_problems[name] = bad
        out.wall[name] += time.monotonic() - w0
        out.cpu[name] += time.process_time() - c0 + _children_cpu() - k0
    return out


@dataclass
class _Done:
    """A result computed in this process, shaped like a finished future."""

    value: Outcome

    def result(self) -> Outcome:
        return self.value


def draw_specs(n: int, seed_value: int) -> list[GenSpec]:
    """The first n distinct specs hypothesis draws with this seed (it repeats one now and then:
    a few percent more are drawn to make up for those)."""
    specs: dict[str, GenSpec] = {}

    @seed(seed_value)
    @settings(max_examples=n + n // 20 + 10, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(g=spec_text())
    def collect(g: GenSpec) -> None:
        if len(specs) < n:
            specs.setdefault(g.text, g)

    collect()
    return list(specs.values())


def _num(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}"


def table(outs: list[Outcome], opts: Options, seed_value: int, drawn: int, wall: float,
          cpu: float, loads: list[tuple[float, float, float]], started: str) -> str:
    specs = [o for o in outs if not o.error]
    props = sum(o.properties for o in specs)
    hard = opts.pdr_hard_limit if opts.pdr_hard_limit is not None else 2 * opts.pdr_timeout + 5
    lines = [
        f"Differential run of {started}: `python3 scripts/differential.py -n {drawn} "
        f"--seed {seed_value} --depth {opts.depth}` (SPIN every {opts.spin_every or '-'}, "
        f"TLC every {opts.tlc_every or '-'}; PDR {opts.pdr_timeout:g} s per query, killed after "
        f"{hard:g} s without an answer, {opts.pdr_budget:g} s per spec, its traces by BMC up to "
        f"{opts.pdr_depth} steps; the explicit engine unbounded).",
        f"{len(outs)} distinct specs ({len(specs)} checked, "
        f"{sum(1 for o in outs if o.error)} not elaborated), {props:,} properties; "
        f"wall {wall / 60:.1f} min, CPU {cpu / 60:.1f} min (this process and its workers and "
        f"tools), on {platform.node()} ({os.cpu_count()} cores), load average "
        f"{' / '.join(f'{x:.2f}' for x in loads[0])} at the start, "
        f"{' / '.join(f'{x:.2f}' for x in loads[-1])} at the end, "
        f"{max(x[0] for x in loads):.2f} highest 1-min sample.",
        "",
        "| engine | specs | " + " | ".join(v.value.replace("_", " ") for v in VERDICTS)
        + " | disagreeing specs | wall s | CPU s |",
        "|---|" + "---:|" * (len(VERDICTS) + 4),
    ]
    for e in opts.engines:
        ran = [o for o in specs if e in o.verdicts]
        tot: Counter[str] = Counter()
        for o in ran:
            tot.update(o.verdicts[e])
        bad = sum(1 for o in ran if e in o.culprits)
        lines.append(f"| {e} | {len(ran)} | " + " | ".join(f"{tot[v.value]:,}" for v in VERDICTS)
                     + f" | {bad} | {_num(sum(o.wall[e] for o in ran))} | "
                     f"{_num(sum(o.cpu[e] for o in ran))} |")
    lines += ["", "| export | specs checked | skipped | properties compared | "
                  "disagreeing specs | wall s | CPU s |", "|---|---:|---:|---:|---:|---:|---:|"]
    for x in EXPORTS:
        ran = [o for o in specs if x in o.exports]
        checked = [o for o in ran if o.exports[x] == "checked"]
        bad = sum(1 for o in ran if o.export_problems.get(x))
        lines.append(f"| {x} | {len(checked)} | {len(ran) - len(checked)} | "
                     f"{sum(o.properties for o in checked):,} | {bad} | "
                     f"{_num(sum(o.wall[x] for o in ran))} | {_num(sum(o.cpu[x] for o in ran))} |")
    why: Counter[str] = Counter()
    for o in specs:
        for u in o.unknown:  # "engine property: reason"
            eng, rest = u.split(" ", 1)
            why[f"{eng} ({re.sub(r'[0-9.]+', 'N', rest.split(': ', 1)[-1])})"] += 1
    if why:
        lines += ["", "UNKNOWN, by engine and reason: " + "; ".join(
            f"{n} from {w}" for w, n in why.most_common()) + "."]
    engine_bad = sum(1 for o in specs if o.problems)
    export_bad = sum(1 for o in specs if any(o.export_problems.values()))
    unknown = sum(len(o.unknown) for o in specs)
    slow = sorted(specs, key=lambda o: -sum(o.wall.values()))[:3]
    lines += ["", "Slowest specs: " + ", ".join(
        f"{o.index} ({sum(o.wall.values()):.0f} s, of which "
        f"{max(o.wall, key=lambda k: o.wall[k])} {max(o.wall.values()):.0f} s)" for o in slow)
        + "."]
    lines += ["", f"Disagreements: {engine_bad} specs among the engines, {export_bad} specs "
                  f"with an export; UNKNOWN results: {unknown} (counted apart, not as agreement); "
                  f"specs that did not elaborate: {sum(1 for o in outs if o.error)}."]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=1000, help="distinct specs to generate")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--depth", type=int, default=10, help="BMC and k-induction bound")
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--spin-every", type=int, default=1,
                    help="run SPIN on every K-th spec (0: never)")
    ap.add_argument("--tlc-every", type=int, default=1,
                    help="run TLC on every K-th spec (0: never)")
    ap.add_argument("--pdr-timeout", type=float, default=10.0, help="seconds per Spacer query")
    ap.add_argument("--pdr-hard-limit", type=float, default=None,
                    help="kill PDR after this long without an answer (default: two time-outs "
                         "and 5 s; Spacer overruns its time-out)")
    ap.add_argument("--pdr-budget", type=float, default=120.0,
                    help="seconds PDR may take per spec in all")
    ap.add_argument("--pdr-depth", type=int, default=20,
                    help="bound of the BMC run that confirms PDR's violations")
    ap.add_argument("--jobs", type=int, default=1, help="specs checked side by side")
    ap.add_argument("--save", type=Path, default=None,
                    help="folder for the specs that disagreed (default: a temporary one)")
    args = ap.parse_args()
    engines = tuple(e for e in args.engines.split(",") if e)
    for e in engines:
        if e not in ENGINES:
            ap.error(f"unknown engine {e} (one of {', '.join(ENGINES)})")
    started = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    w0, c0 = time.monotonic(), time.process_time()
    loads = [os.getloadavg()]
    workdir = tempfile.mkdtemp(prefix="drvmc-diff-")
    save = args.save or Path(workdir) / "failures"
    opts = Options(args.depth, engines, args.spin_every, args.tlc_every, args.pdr_timeout,
                   args.pdr_hard_limit, args.pdr_budget, args.pdr_depth, workdir)
    specs = draw_specs(args.n, args.seed)
    print(f"seed {args.seed}: {len(specs)} specs drawn in {time.monotonic() - w0:.0f} s",
          file=sys.stderr, flush=True)
    jobs = [(i, g.text, opts) for i, g in enumerate(specs, 1)]
    outs: list[Outcome] = []
    texts = {i: t for i, t, _ in jobs}
    failed = 0
    # not multiprocessing.Pool: its daemonic workers may not start the process PDR runs in
    pool = (ProcessPoolExecutor(args.jobs, mp_context=mp.get_context("fork"))
            if args.jobs > 1 else None)
    it = (as_completed([pool.submit(check_spec, j) for j in jobs]) if pool
          else (_Done(check_spec(j)) for j in jobs))
    try:
        for fut in it:
            o = fut.result()
            outs.append(o)
            if o.error or o.problems or any(o.export_problems.values()):
                failed += 1
                save.mkdir(parents=True, exist_ok=True)
                (save / f"spec{o.index}.drv").write_text(texts[o.index], encoding="utf-8")
                report = "\n".join([o.error, *o.problems,
                                    *(p for ps in o.export_problems.values() for p in ps)])
                (save / f"spec{o.index}.txt").write_text(report, encoding="utf-8")
                print(f"---- spec {o.index} ({save / f'spec{o.index}.drv'})\n{texts[o.index]}"
                      f"{report}\n", flush=True)
            if len(outs) % 25 == 0 or len(outs) == len(jobs):
                loads.append(os.getloadavg())
                print(f"{len(outs)}/{len(jobs)} specs, {failed} with problems, "
                      f"{time.monotonic() - w0:.0f} s, load {loads[-1][0]:.2f}",
                      file=sys.stderr, flush=True)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    cpu = time.process_time() - c0 + _children_cpu()
    outs.sort(key=lambda o: o.index)
    print(table(outs, opts, args.seed, len(specs), time.monotonic() - w0, cpu, loads, started))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
