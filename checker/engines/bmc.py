"""Bounded model checking: unroll the transition template depth by depth on one solver.

Depth k asks, for each open property, whether a state reached by exactly k steps is bad. Depths
are tried in increasing order, so the first counterexample found is a shortest one. After adding
the k-th transition the engine also asks whether any run of k steps exists at all: when none does,
every run has ended, the search was exhaustive and the open properties are PROVEN.
"""

from __future__ import annotations

import time

import z3

from drvmc.checker.engines.long_run import long_run
from drvmc.checker.engines.switches import Minimiser, fewest_switches
from drvmc.checker.engines.unroll import (
    BmcOptions,
    EndOfRuns,
    Known,
    Progress,
    Unroller,
    cancelled,
    make_solver,
    solvers_mb,
    why_unknown,
)
from drvmc.checker.errors import Interrupted
from drvmc.checker.ir import nodes as I
from drvmc.checker.verdict.results import Result, Status
from drvmc.translators.z3_encoding import Encoding


def run_bmc(model: I.Model, enc: Encoding, props: list[I.Property], opts: BmcOptions,
            progress: Progress | None = None) -> list[Result]:
    """Ctrl-C (KeyboardInterrupt, or z3 reporting it) raises Interrupted with partial results."""
    known = Known("bmc")
    try:
        return _run_bmc(model, enc, props, opts, progress, known)
    except KeyboardInterrupt:
        raise Interrupted(known.partial(props)) from None


def _run_bmc(model: I.Model, enc: Encoding, props: list[I.Property], opts: BmcOptions,
             progress: Progress | None, known: Known) -> list[Result]:
    start = time.monotonic()
    solver = make_solver(opts)
    un = Unroller(enc, por=opts.por, propagate=opts.propagate)
    solver.add(un.init())
    results = known.results
    open_props = list(props)
    bad = {p.name: enc.bad(p) for p in props}
    minimiser: Minimiser | None = None  # built at the first counterexample
    calls = 0
    ends = EndOfRuns(long_run(model, opts.depth), opts)

    def found(p: I.Property, m: z3.ModelRef, k: int) -> None:
        nonlocal minimiser
        if minimiser is None:
            minimiser = Minimiser(enc, opts)
        trace = fewest_switches(model, enc, un, m, k, p, opts, minimiser)
        if opts.memory_mb is not None and solvers_mb() > opts.memory_mb / 2:
            # z3 counts the memory limit over every solver of the process: the minimiser's
            # unrolling (900 MB at drm_msm's depth 8) would make the main search run out
            # (UNKNOWN at depth 11, PROVEN at 11 without it). A later counterexample builds
            # another: slower, and its fresh solver may pick another of the shortest runs, with
            # switches minimised the same way.
            minimiser = None
        status = Status.REACHABLE if p.kind is I.PropKind.REACHABLE else Status.VIOLATED
        results[p.name] = Result(p.name, p.kind, status, k, "bmc", trace=trace,
                                 seconds=time.monotonic() - start)
        open_props.remove(p)

    k = 0
    while True:
        at_k = {p.name: un.at(bad[p.name], k) for p in open_props
                if not z3.is_false(bad[p.name])}
        # a bad state the unrolling's values already rule out at this depth needs no question
        asked = [p for p in open_props if p.name in at_k and not z3.is_false(at_k[p.name])]
        for p in open_props:
            if p not in asked:
                known.safe[p.name] = k

        # One question for every property open at this depth: at most depths none is bad, and
        # one refutation costs far less than one per property (S4: 212 queries, 38 of its
        # 48 s); a model answers for every property bad in it. A property is asked alone when
        # it is the last, or when the joint question has no answer (unknown).
        while len(asked) > 1:
            lit = z3.Bool(f"bad!{len(asked)}@{k}")
            solver.add(z3.Implies(lit, z3.Or(*(at_k[p.name] for p in asked))))
            r = solver.check(lit)
            calls += 1
            if r == z3.unknown and cancelled(solver):
                raise KeyboardInterrupt  # z3 catches SIGINT itself while it searches
            if r == z3.unsat:
                for p in asked:
                    known.safe[p.name] = k
                asked = []
            if r != z3.sat:
                break
            m = solver.model()
            hit = [p for p in asked
                   if z3.is_true(m.eval(at_k[p.name], model_completion=True))]
            if not hit:
                break  # not expected of a model of the disjunction; ask one by one
            for p in hit:
                found(p, m, k)
            asked = [p for p in asked if p not in hit]
        for p in asked:
            # assumption literals keep the SAT solver's learnt clauses (push/pop would not)
            lit = z3.Bool(f"bad!{p.name}@{k}")
            solver.add(z3.Implies(lit, at_k[p.name]))
            r = solver.check(lit)
            calls += 1
            if r == z3.unknown and cancelled(solver):
                raise KeyboardInterrupt
            if r == z3.unsat:
                known.safe[p.name] = k
            if r == z3.sat:
                found(p, solver.model(), k)
            elif r == z3.unknown:
                results[p.name] = Result(p.name, p.kind, Status.UNKNOWN, k, "bmc",
                                         reason=f"solver: {why_unknown(solver, opts)} at "
                                                f"depth {k}",
                                         seconds=time.monotonic() - start)
                open_props.remove(p)
        if progress is not None:
            progress(model.variant, k, time.monotonic() - start, calls)
        if not open_props or k >= opts.depth:
            break
        solver.add(un.step(k))
        k += 1
        ended = ends.ended(solver, k)
        if ended is None:
            continue
        calls += 1
        if ended:
            for p in open_props:
                status = Status.UNREACHABLE if p.kind is I.PropKind.REACHABLE else Status.PROVEN
                results[p.name] = Result(p.name, p.kind, status, k - 1, "bmc",
                                         reason=f"bmc: every run ends within {k - 1} steps",
                                         seconds=time.monotonic() - start)
            open_props.clear()
            break
    for p in open_props:
        status = Status.NOT_REACHED if p.kind is I.PropKind.REACHABLE else Status.SAFE
        results[p.name] = Result(p.name, p.kind, status, k, "bmc", reason=ends.unknown,
                                 seconds=time.monotonic() - start)
    return [results[p.name] for p in props]
