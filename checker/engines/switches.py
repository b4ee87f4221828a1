"""Fewer context switches: among the shortest counterexamples, one a reader can follow.

BMC finds a shortest counterexample, but the solver picks an arbitrary interleaving of the actors'
steps; readers follow a trace by its switches between actors. Right after a counterexample of
length k is found, `fewest_switches` asks a second solver holding the same assertions (initial
state, k transitions, the bad state at k; one solver per BMC run, `Minimiser`, the bad state and
each bound behind assumption literals) for a model with fewer switches, tightening a
pseudo-Boolean bound until it is unsatisfiable. The length stays k, so the trace is still a
shortest one, and every model it returns satisfies the same assertions, so the verdict never
changes; a solver `unknown` only ends the tightening early (the best model so far is kept). Each
round gets a budget of SAT conflicts (`ROUND_CONFLICTS`) and of z3's resource count
(`ROUND_RLIMIT`): on large models the trace may then keep a switch or two more than the minimum,
never more than the solver's own first answer.
"""

from __future__ import annotations

from itertools import pairwise

import z3

from drvmc.checker.engines.unroll import BmcOptions, Unroller, decode_trace, make_solver
from drvmc.checker.ir import nodes as I
from drvmc.checker.verdict.trace import Trace
from drvmc.translators.z3_encoding import Encoding

MAX_ROUNDS = 64  # each round removes at least one switch; k-1 bounds the rounds anyway
# SAT conflicts per tightening round. Without the partial-order reduction the rounds can cost far
# more than finding the bug did (the component family at N = 6: 28 s against 7 s); a conflict
# budget, unlike a time budget, keeps the chosen trace the same on every machine.
ROUND_CONFLICTS = 20_000
# z3's resource count per round, which also bounds the work outside the SAT search (the first
# round at a new depth simplifies the newly added steps): drm_msm's rounds cost 20-27 million
# (about 25 s each, 170 s of its 550 s BMC run) against at most 3.4 million for any seed's round.
ROUND_RLIMIT = 5_000_000


def _sel(enc: Encoding, j: int) -> z3.BitVecRef:
    return z3.BitVec(f"sel@{j}", enc.sel.size())


def actors_in(enc: Encoding, m: z3.ModelRef, k: int) -> list[int]:
    """The actor index of each of the k steps in model m."""
    out = []
    for j in range(k):
        v = m.eval(_sel(enc, j), model_completion=True)
        si = v.as_long() if z3.is_bv_value(v) else 0
        out.append(enc.steps[si].actor if 0 <= si < len(enc.steps) else -1)
    return out


def count_switches(actors: list[int]) -> int:
    return sum(1 for a, b in pairwise(actors) if a != b)


class Minimiser:
    """Switch minimisation for every counterexample of one BMC run, on one solver.

    The unrolling without partial-order reduction is built once and deepened as the
    counterexamples get longer; each property's bad state and each tightening bound sit behind
    an assumption literal, so the solver keeps its preprocessing and learnt clauses from one
    counterexample to the next (a fresh solver per counterexample re-simplified the whole
    unrolling each time: most of S3's BMC time).
    """

    def __init__(self, enc: Encoding, opts: BmcOptions) -> None:
        self.enc = enc
        self.opts = opts
        self.solver = make_solver(opts)
        self.solver.set("max_conflicts", ROUND_CONFLICTS)
        self.solver.set("rlimit", ROUND_RLIMIT)
        # the same unrolling, rebuilt (a QF_FD solver's assertions() are its preprocessed
        # clauses), and without partial-order reduction: POR keeps commuting steps in actor
        # order, which can force switches; every run it drops is still a real run of length k,
        # hence still shortest. The state and selector names are the caller's, so its Unroller
        # decodes the model.
        self.full = Unroller(enc, propagate=opts.propagate)
        self.solver.add(self.full.init())
        self.depth = 0  # steps added
        self.acts: list[z3.BitVecRef] = []
        self.width = max(1, (max((st.actor for st in enc.steps), default=0)).bit_length())
        self.lits = 0

    def _lit(self) -> z3.BoolRef:
        self.lits += 1
        return z3.Bool(f"$min!{self.lits}")

    def _deepen(self, k: int) -> None:
        while self.depth < k:
            self.solver.add(self.full.step(self.depth))
            self.depth += 1
        while len(self.acts) < k:
            j = len(self.acts)
            act = z3.BitVec(f"act@{j}", self.width)
            self.acts.append(act)
            for i, st in enumerate(self.enc.steps):
                self.solver.add(z3.Implies(_sel(self.enc, j) == i, act == st.actor))

    def minimise(self, bad: z3.BoolRef, k: int, m: z3.ModelRef) -> z3.ModelRef:
        """A model of init, k transitions and `bad` at k with the fewest actor switches."""
        best = m
        c = count_switches(actors_in(self.enc, m, k))
        if k < 2 or c == 0:
            return best
        if k < self.depth:
            # the steps past k would demand that the run go on: BMC deepens, so this does not
            # happen there, but a shorter counterexample gets an unrolling of its own
            return Minimiser(self.enc, self.opts).minimise(bad, k, m)
        self._deepen(k)
        at_bad = self._lit()
        self.solver.add(z3.Implies(at_bad, self.full.at(bad, k)))
        switches = [self.acts[j] != self.acts[j + 1] for j in range(k - 1)]
        for _ in range(MAX_ROUNDS):
            if c == 0:
                break
            fewer = self._lit()
            self.solver.add(z3.Implies(fewer, z3.AtMost(*switches, c - 1)))
            if self.solver.check(at_bad, fewer) != z3.sat:
                break  # unsat: c is the least; unknown: keep the best found so far
            best = self.solver.model()
            c = count_switches(actors_in(self.enc, best, k))
        return best


def model_members(model: I.Model) -> tuple[str, ...]:
    """Every enum member named in the model's state and procedure types, in declaration order."""
    seen: list[str] = []

    def walk(t: I.Type) -> None:
        match t:
            case I.EnumType():
                seen.extend(x for x in t.members if x not in seen)
            case I.RecordType():
                for _, ft in t.fields:
                    walk(ft)
            case I.ArrayType():
                walk(t.index)
                walk(t.elem)
            case I.ListType():
                if t.elem is not None:
                    walk(t.elem)
            case _:
                pass

    for v in model.vars:
        walk(v.type)
    for p in model.procs:
        for _, pt in p.params:
            walk(pt)
    return tuple(seen)


def _root(e: I.Expr) -> I.Expr:
    while isinstance(e, I.FieldRef | I.IndexRef):
        e = e.base
    return e


def _writes_state(e: I.Expr) -> bool:
    r = _root(e)
    return isinstance(r, I.VarRef) and r.scope is I.Scope.STATE


def model_queries(model: I.Model) -> tuple[str, ...]:
    """Procedures that write no state variable and hold no assertion, directly or through the
    procedures they call: look-ups a reader of a trace can skip."""
    procs = {p.name: p for p in model.procs}
    memo: dict[str, bool] = {}

    def effects(stmts: tuple[I.Stmt, ...]) -> bool:
        for s in stmts:
            match s:
                case I.Assign() | I.Choose() | I.ListOp():
                    if _writes_state(s.target):
                        return True
                case I.Assert():
                    return True
                case I.Call():
                    if proc_effects(s.proc) or (s.target is not None
                                                and _writes_state(s.target)):
                        return True
                case I.If():
                    if effects(s.then) or effects(s.orelse):
                        return True
                case I.For():
                    if effects(s.body):
                        return True
                case I.Either():
                    if any(effects(b) for b in s.branches):
                        return True
                case _:
                    pass
        return False

    def proc_effects(name: str) -> bool:
        if name not in memo:
            memo[name] = True  # no recursion in specs; assume effects while visiting
            p = procs.get(name)
            memo[name] = effects(p.body) if p is not None else True
        return memo[name]

    return tuple(p.name for p in model.procs if not proc_effects(p.name))


def fewest_switches(model: I.Model, enc: Encoding, un: Unroller, m: z3.ModelRef, k: int,
                    prop: I.Property, opts: BmcOptions,
                    minimiser: Minimiser | None = None) -> Trace:
    """A counterexample the solver found (its model `m`), re-chosen with the fewest switches
    (on `minimiser`, the run's own, or a fresh one), decoded into a Trace that knows the model's
    enum members."""
    from dataclasses import replace

    if opts.min_switches:
        m = (minimiser or Minimiser(enc, opts)).minimise(enc.bad(prop), k, m)
    return replace(decode_trace(model, enc, un, m, k, prop), members=model_members(model),
                   queries=model_queries(model))
