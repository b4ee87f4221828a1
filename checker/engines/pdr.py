"""IC3/PDR through Z3's Spacer: the transition template as constrained Horn clauses.

    Inv(cur) <- Init(cur)
    Inv(next) <- Inv(cur) && Trans(cur, next, sel, choices)
    query: Inv(cur) && Bad(cur)

`Fixedpoint.query` answers `unsat` when no bad state is reachable; Spacer then gives the
interpretation of Inv it found, an inductive invariant, which is checked independently (three
SAT queries) before it is believed, and printed in spec names. When Spacer answers `sat` the bad
state is reachable, but its derivation is not decoded: BMC is asked for a shortest trace instead,
and the property is VIOLATED only with that trace. A Spacer time-out raises
`Z3Exception('canceled')`; it becomes UNKNOWN, never safe.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import z3

from drvmc.checker.engines.invariant_names import render_invariant
from drvmc.checker.engines.kind import KindOptions, OnResult, domain_invariant, run_kind
from drvmc.checker.engines.long_run import long_run
from drvmc.checker.engines.unroll import BmcOptions, Progress, make_solver
from drvmc.checker.errors import EngineError
from drvmc.checker.ir import nodes as I
from drvmc.checker.verdict.results import Result, Status
from drvmc.translators.z3_encoding import Encoding


@dataclass(frozen=True)
class PdrOptions:
    timeout_s: float | None = None  # per property (one Spacer query)
    depth: int = 40  # bound for the BMC run that confirms a reachable bad state with a trace
    confirm: bool = True  # False: leave confirmation to another engine (the portfolio's BMC)
    # Spacer finds bugs slowly (a deadlock at depth 6: > 30 s, BMC: 3 s), so short bugs are
    # looked for by BMC first, up to this depth; 0: no hunt (the portfolio runs BMC beside)
    hunt_depth: int = 10


class Chc:
    """The Horn clauses of one encoding, ready for one query per property."""

    def __init__(self, enc: Encoding, timeout_s: float | None = None) -> None:
        self.enc = enc
        # Known facts help Spacer (a deadlock proof: > 30 s without, 16-22 s with): the type
        # domain, checked inductive first, constrains the source state of every transition.
        self.domain = domain_invariant(enc, timeout_s)
        self.cur = list(enc.cur_leaves)
        self.nxt = list(enc.next_leaves)
        self.inv = z3.Function("Inv", *[x.sort() for x in self.cur], z3.BoolSort())

    def fixedpoint(self, timeout_s: float | None) -> z3.Fixedpoint:
        fp = z3.Fixedpoint()
        fp.set(engine="spacer")
        if timeout_s is not None:
            fp.set(timeout=max(1, int(timeout_s * 1000)))
        fp.register_relation(self.inv)
        fp.declare_var(*self.cur, *self.nxt, self.enc.sel, *self.enc.choices)
        fp.rule(self.inv(*self.cur), self.enc.init)
        fp.rule(self.inv(*self.nxt), [self.inv(*self.cur), self.domain, self.enc.trans])
        return fp

    def invariant(self, fp: z3.Fixedpoint) -> z3.BoolRef:
        """Spacer's interpretation of Inv, with the type domain it was given (over `cur`)."""
        body = fp.get_cover_delta(-1, self.inv)
        inv = z3.substitute_vars(body, *self.cur)
        assert isinstance(inv, z3.BoolRef)
        return z3.And(inv, self.domain)

    def validate(self, inv: z3.BoolRef, bads: list[z3.BoolRef],
                 timeout_s: float | None) -> str | None:
        """Why `inv` is not an inductive invariant excluding every bad state, or None."""
        inv_next = z3.substitute(inv, *zip(self.cur, self.nxt, strict=True))
        checks = (
            ("the initial states", z3.And(self.enc.init, z3.Not(inv))),
            ("a transition", z3.And(inv, self.enc.trans, z3.Not(inv_next))),
            *(("the property", z3.And(inv, bad)) for bad in bads),
        )
        for what, q in checks:
            s = make_solver(BmcOptions(timeout_s=timeout_s))
            s.add(q)
            r = s.check()
            if r != z3.unsat:
                return f"the invariant does not cover {what} ({r})"
        return None


def run_pdr(model: I.Model, enc: Encoding, props: list[I.Property], opts: PdrOptions,
            progress: Progress | None = None, on_result: OnResult | None = None) -> list[Result]:
    start = time.monotonic()
    chc = Chc(enc, opts.timeout_s)
    done: dict[str, Result] = {}
    # the walk for the BMC runs (the hunt, each confirmation) is made once, when first needed
    runs = functools.cache(lambda: long_run(model, opts.depth))
    if opts.hunt_depth > 0:
        hunt = KindOptions(min(opts.hunt_depth, opts.depth), opts.timeout_s, step_case=False,
                           runs=runs())
        for r in run_kind(model, enc, props, hunt):
            if r.status in (Status.VIOLATED, Status.REACHABLE):
                done[r.prop] = replace(r, engine="pdr+bmc")
                if on_result is not None:
                    on_result(done[r.prop])
    # Fixed variants usually keep every safety property: one query for all of them at once
    # (their bad states joined) then proves them together with one invariant.
    safety = [p for p in props if p.kind is not I.PropKind.REACHABLE
              and not z3.is_false(enc.bad(p)) and p.name not in done]
    if len(safety) > 1:
        for r in _together(enc, chc, safety, opts, start):
            done[r.prop] = r
            if on_result is not None:
                on_result(r)
    for n, p in enumerate(props):
        if p.name not in done:
            r = _one(model, enc, chc, p, opts, time.monotonic(), runs)
            done[p.name] = r
            if on_result is not None:
                on_result(r)
        if progress is not None:
            progress(model.variant, n + 1, time.monotonic() - start, n + 1)
    return [done[p.name] for p in props]


def _together(enc: Encoding, chc: Chc, props: list[I.Property], opts: PdrOptions,
              t0: float) -> list[Result]:
    """All properties PROVEN by one query, or nothing (then each is asked on its own)."""
    fp = chc.fixedpoint(opts.timeout_s)
    bads = [enc.bad(p) for p in props]
    started = time.monotonic()
    try:
        answer = fp.query(z3.And(chc.inv(*chc.cur), z3.Or(*bads)))
    except z3.Z3Exception as e:
        _raise_if_interrupted(e, started, opts.timeout_s)
        return []
    if answer != z3.unsat:
        return []
    inv = chc.invariant(fp)
    if chc.validate(inv, bads, opts.timeout_s) is not None:
        return []
    text = render_invariant(enc, inv)
    secs = time.monotonic() - t0
    return [Result(p.name, p.kind, Status.PROVEN, 0, "pdr",
                   reason="pdr: inductive invariant", invariant=text, seconds=secs)
            for p in props]


def _raise_if_interrupted(e: z3.Z3Exception, started: float, timeout_s: float | None) -> None:
    """Spacer says "canceled" both for its time-out and for Ctrl-C/SIGTERM (the CLI cancels
    z3): a cancel before the time-out was due can only be the interrupt."""
    if "cancel" not in str(e):
        return
    if timeout_s is None or time.monotonic() - started < 0.9 * timeout_s:
        raise KeyboardInterrupt from None


def _one(model: I.Model, enc: Encoding, chc: Chc, p: I.Property, opts: PdrOptions,
         t0: float, runs: Callable[[], int]) -> Result:
    reached = p.kind is I.PropKind.REACHABLE
    bad = enc.bad(p)

    def elapsed() -> float:
        return time.monotonic() - t0

    if z3.is_false(bad):
        return Result(p.name, p.kind, Status.UNREACHABLE if reached else Status.PROVEN, 0, "pdr",
                      reason="no state can be bad", seconds=elapsed())
    fp = chc.fixedpoint(opts.timeout_s)
    started = time.monotonic()
    try:
        answer = fp.query(z3.And(chc.inv(*chc.cur), bad))
    except z3.Z3Exception as e:
        # Spacer reports a time-out (and an interrupt) by raising, not by answering unknown
        _raise_if_interrupted(e, started, opts.timeout_s)
        why = "time-out" if "cancel" in str(e) else f"spacer: {e}"
        if opts.timeout_s is not None and "cancel" in str(e):
            why = f"time-out after {opts.timeout_s:g}s"
        return Result(p.name, p.kind, Status.UNKNOWN, 0, "pdr", reason=f"pdr: {why}",
                      seconds=elapsed())
    if answer == z3.unsat:
        inv = chc.invariant(fp)
        problem = chc.validate(inv, [bad], opts.timeout_s)
        if problem is not None:
            return Result(p.name, p.kind, Status.UNKNOWN, 0, "pdr",
                          reason=f"pdr: {problem}", seconds=elapsed())
        return Result(p.name, p.kind, Status.UNREACHABLE if reached else Status.PROVEN, 0, "pdr",
                      reason="pdr: inductive invariant", invariant=render_invariant(enc, inv),
                      seconds=elapsed())
    if answer == z3.sat:
        if not opts.confirm:
            return Result(p.name, p.kind, Status.UNKNOWN, 0, "pdr",
                          reason="reachable (pdr); run bmc for the trace", seconds=elapsed())
        (b,) = run_kind(model, enc, [p], KindOptions(opts.depth, opts.timeout_s,
                                                     step_case=False, runs=runs()))
        match b.status:
            case Status.VIOLATED | Status.REACHABLE:
                return Result(p.name, p.kind, b.status, b.depth, "pdr+bmc", trace=b.trace,
                              seconds=elapsed())
            case Status.PROVEN | Status.UNREACHABLE:
                raise EngineError(f"{model.variant}/{p.name}: pdr reaches a bad state but bmc "
                                  f"finds that {b.reason}")
            case _:
                return Result(p.name, p.kind, Status.UNKNOWN, b.depth, "pdr",
                              reason=f"reachable (pdr), but no trace within {b.depth} steps; "
                                     "raise --depth for bmc", seconds=elapsed())
    return Result(p.name, p.kind, Status.UNKNOWN, 0, "pdr",
                  reason=f"pdr: {fp.reason_unknown()}", seconds=elapsed())
