"""k-induction over the BMC encoding: proofs for runs of any length.

Two solvers run side by side, deepened together:
- the *base case* is BMC from the initial states (it finds the shortest counterexamples, with
  traces, exactly as `checker.bmc` does, and notices when every run has ended);
- the *step case* asks whether some path of k transitions from ANY state of the type domain
  (simple: no state repeats) can keep a property for k states and break it in the next one.
  When that is unsat and the base case found no violation in fewer steps, the property holds in
  every reachable state: PROVEN by k-induction at k.

The type-domain constraint on the induction states is only sound because it holds in every
reachable state; `domain_invariant` checks that it is inductive and keeps only the part that is.
When the step case does not close by the depth bound the result is SAFE≤k (from the base case),
never more.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import z3

from drvmc.checker.engines.long_run import long_run
from drvmc.checker.engines.unroll import (
    BmcOptions,
    EndOfRuns,
    Known,
    Progress,
    Unroller,
    cancelled,
    decode_trace,
    make_solver,
)
from drvmc.checker.errors import Interrupted
from drvmc.checker.ir import nodes as I
from drvmc.checker.verdict.results import Result, Status
from drvmc.translators.z3_encoding import Encoding, SVal, leaves

OnResult = Callable[[Result], None]


@dataclass(frozen=True)
class KindOptions:
    depth: int = 40
    timeout_s: float | None = None  # per solver call
    step_case: bool = True  # False: plain BMC (the bug-finding half of `auto`)
    # the length of a run known to exist (long_run), for a caller that runs this engine more
    # than once on one model; None: walk the model here
    runs: int | None = None


def domain_invariant(enc: Encoding, timeout_s: float | None = None) -> z3.BoolRef:
    """The largest conjunction of per-variable type constraints that is inductive (over `cur`).

    Every reachable state should be in its type domain (stores are range-checked and a failed
    check halts the run), but the induction engines must not rely on that unchecked: a candidate
    that some transition leaves is dropped (Houdini), so the result is true in every reachable
    state by construction.
    """
    cands = {n: enc.in_type(enc.cur[n], t) for n, t in enc.var_types.items()}
    nxt = {n: enc.in_type(enc.nxt[n], t) for n, t in enc.var_types.items()}
    s = make_solver(BmcOptions(timeout_s=timeout_s))
    s.add(enc.init)
    s.push()
    for n in list(cands):
        s.push()
        s.add(z3.Not(cands[n]))
        r = s.check()
        s.pop()
        if r != z3.unsat:
            del cands[n]
    s.pop()
    s = make_solver(BmcOptions(timeout_s=timeout_s))
    s.add(enc.trans)
    while cands:
        s.push()
        s.add(*cands.values())
        s.add(z3.Not(z3.And(*[nxt[n] for n in cands])))
        r = s.check()
        if r == z3.unsat:
            s.pop()
            break
        if r == z3.unknown:
            s.pop()
            return z3.BoolVal(True)
        m = s.model()
        broken = [n for n in cands if not z3.is_true(m.eval(nxt[n], model_completion=True))]
        s.pop()
        for n in broken:
            del cands[n]
    return z3.And(*cands.values()) if cands else z3.BoolVal(True)


def distinct(a: dict[str, SVal], b: dict[str, SVal]) -> z3.BoolRef:
    """Two states differ in at least one leaf."""
    diffs: list[z3.BoolRef] = []
    for name in a:
        for x, y in zip(leaves(a[name]), leaves(b[name]), strict=True):
            diffs.append(x != y)
    return z3.Or(*diffs) if diffs else z3.BoolVal(False)


def run_kind(model: I.Model, enc: Encoding, props: list[I.Property], opts: KindOptions,
             progress: Progress | None = None, on_result: OnResult | None = None) -> list[Result]:
    """k-induction (or plain BMC with `step_case=False`) for every property in `props`.

    `on_result` is called as soon as a property's result is conclusive (the portfolio streams
    them); inconclusive ones are returned at the end. Ctrl-C (KeyboardInterrupt, or a solver
    cancelled by the CLI's handler) raises Interrupted with the results so far: the conclusive
    ones, and SAFE to the deepest base case passed for the others.
    """
    start = time.monotonic()
    bopts = BmcOptions(opts.depth, opts.timeout_s)
    base = make_solver(bopts)
    bun = Unroller(enc, propagate=bopts.propagate)
    base.add(bun.init())
    step = make_solver(bopts)
    sun = Unroller(enc)
    dom = domain_invariant(enc, opts.timeout_s) if opts.step_case else z3.BoolVal(True)
    step.add(sun.at(dom, 0))
    bad = {p.name: enc.bad(p) for p in props}
    engine = "kind" if opts.step_case else "bmc"
    known = Known(engine)  # safe: the deepest base case each open property passed
    results, safe = known.results, known.safe
    open_props = [p for p in props]

    def finish(p: I.Property, r: Result) -> None:
        results[p.name] = r
        open_props.remove(p)
        if on_result is not None:
            on_result(r)

    def elapsed() -> float:
        return time.monotonic() - start

    def deepen() -> list[Result]:
        calls = 0
        # assumption literals: ok[p][i] -> !bad_p(s_i) and hit[p][i] -> bad_p(s_i) in the step
        # solver
        ok_lits: dict[str, list[z3.BoolRef]] = {p.name: [] for p in props}
        ends = EndOfRuns(long_run(model, opts.depth) if opts.runs is None else opts.runs, bopts)
        k = 0
        while True:
            # base case: a bad state at exactly depth k?
            for p in list(open_props):
                if z3.is_false(bad[p.name]):
                    status = Status.UNREACHABLE if p.kind is I.PropKind.REACHABLE else Status.PROVEN
                    finish(p, Result(p.name, p.kind, status, 0, "kind",
                                     reason="no state can be bad", seconds=elapsed()))
                    continue
                base.push()
                base.add(bun.at(bad[p.name], k))
                r = base.check()
                calls += 1
                if r == z3.unknown and cancelled(base):
                    raise KeyboardInterrupt  # z3 catches SIGINT itself while it searches
                if r == z3.unsat:
                    safe[p.name] = k
                if r == z3.sat:
                    trace = decode_trace(model, enc, bun, base.model(), k, p)
                    status = Status.REACHABLE if p.kind is I.PropKind.REACHABLE else Status.VIOLATED
                    finish(p, Result(p.name, p.kind, status, k, "bmc" if not opts.step_case
                                     else "kind", trace=trace, seconds=elapsed()))
                elif r == z3.unknown:
                    finish(p, Result(p.name, p.kind, Status.UNKNOWN, k, "kind",
                                     reason=f"solver: {base.reason_unknown()} at depth {k} (base)",
                                     seconds=elapsed()))
                base.pop()
            # step case: k transitions from any domain state, simple path, bad only at the end
            if opts.step_case:
                for p in list(open_props):
                    hit = z3.Bool(f"$kind_hit:{p.name}@{k}")
                    step.add(z3.Implies(hit, sun.at(bad[p.name], k)))
                    r = step.check(*ok_lits[p.name], hit)
                    calls += 1
                    if r == z3.unknown and cancelled(step):
                        raise KeyboardInterrupt
                    if r == z3.unsat:
                        status = (Status.UNREACHABLE if p.kind is I.PropKind.REACHABLE
                                  else Status.PROVEN)
                        finish(p, Result(p.name, p.kind, status, k, "kind",
                                         reason=f"k-induction at k={k}", seconds=elapsed()))
                    elif r == z3.unknown:
                        # the step case is only an attempt: the base case still bounds the answer
                        pass
            if progress is not None:
                progress(model.variant, k, elapsed(), calls)
            if not open_props or k >= opts.depth:
                break
            base.add(bun.step(k))
            if opts.step_case:
                for p in open_props:
                    lit = z3.Bool(f"$kind_ok:{p.name}@{k}")
                    step.add(z3.Implies(lit, z3.Not(sun.at(bad[p.name], k))))
                    ok_lits[p.name].append(lit)
                step.add(sun.step(k))
                step.add(sun.at(dom, k + 1))
                for j in range(k + 1):
                    step.add(distinct(sun.states[j], sun.states[k + 1]))
            k += 1
            ended = ends.ended(base, k)
            if ended is None:
                continue
            calls += 1
            if ended:
                for p in list(open_props):
                    status = Status.UNREACHABLE if p.kind is I.PropKind.REACHABLE else Status.PROVEN
                    finish(p, Result(p.name, p.kind, status, k - 1, engine,
                                     reason=f"bmc: every run ends within {k - 1} steps",
                                     seconds=elapsed()))
                break
        for p in list(open_props):
            status = Status.NOT_REACHED if p.kind is I.PropKind.REACHABLE else Status.SAFE
            closed = f"k-induction did not close by k={k}" if opts.step_case else ""
            why = "; ".join(w for w in (closed, ends.unknown) if w)
            results[p.name] = Result(p.name, p.kind, status, k, "kind" if opts.step_case else "bmc",
                                     reason=why, seconds=elapsed())
        return [results[p.name] for p in props]

    try:
        return deepen()
    except KeyboardInterrupt:
        raise Interrupted(known.partial(props, elapsed())) from None
