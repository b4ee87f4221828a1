"""Unrolling a transition system on a Z3 solver, and reading a run back out of a model.

What BMC, k-induction, switch minimisation and `compare`'s replays share: the solver setup
(`make_solver`, `why_unknown`), the per-depth copies of the state (`Unroller`) and the decoding of
a satisfying assignment into a plain `Trace` (`decode_trace`), right where the model is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import z3

from drvmc.checker.errors import interrupt_requested
from drvmc.checker.ir import nodes as I
from drvmc.checker.verdict.results import Result, Status
from drvmc.checker.verdict.trace import (
    CallRecord,
    Loc,
    Trace,
    TraceStep,
    Value,
    Violation,
    diff_states,
    format_value,
)
from drvmc.translators.z3_encoding import Encoding, SArr, SList, SRec, SVal, leaves

Progress = Callable[[str, int, float, int], None]


@dataclass(frozen=True)
class BmcOptions:
    depth: int = 40
    timeout_s: float | None = None  # per solver call
    seed: int = 0
    por: bool = True  # partial-order reduction of the unrolling
    min_switches: bool = True  # re-choose each counterexample with the fewest actor switches
    memory_mb: int | None = None  # z3 compares it with all its solvers hold (solvers_mb)
    # unroll from the initial state by value (Unroller._step_by_value): exact; off only to
    # compare the two unrollings
    propagate: bool = True


def make_solver(opts: BmcOptions) -> z3.Solver:
    s = z3.SolverFor("QF_FD")
    s.set("random_seed", opts.seed)
    if opts.timeout_s is not None:
        s.set("timeout", max(1, int(opts.timeout_s * 1000)))
    if opts.memory_mb is not None:
        # the solver's own limit: it gives up cleanly (z3's global memory_max_size instead
        # aborts the whole process when a later allocation fails)
        s.set("max_memory", max(1, opts.memory_mb))
    return s


@dataclass
class Known:
    """What a deepening search (BMC, k-induction) knows so far; survives a Ctrl-C so its partial
    results can be reported."""

    engine: str
    results: dict[str, Result] = field(default_factory=dict)
    safe: dict[str, int] = field(default_factory=dict)  # deepest depth checked safe, per property

    def partial(self, props: list[I.Property], seconds: float = 0.0) -> list[Result]:
        """Every property: its conclusive result, else SAFE to its deepest depth (interrupted),
        else UNKNOWN (interrupted before depth 0)."""
        out: list[Result] = []
        for p in props:
            if p.name in self.results:
                out.append(self.results[p.name])
            elif p.name in self.safe:
                st = Status.NOT_REACHED if p.kind is I.PropKind.REACHABLE else Status.SAFE
                out.append(Result(p.name, p.kind, st, self.safe[p.name], self.engine,
                                  reason="interrupted", interrupted=True, seconds=seconds))
            else:
                out.append(Result(p.name, p.kind, Status.UNKNOWN, 0, self.engine,
                                  reason="interrupted before depth 0 was checked",
                                  interrupted=True, seconds=seconds))
        return out


def cancelled(s: z3.Solver) -> bool:
    """Whether the solver's `unknown` is Ctrl-C/SIGTERM: z3's own SIGINT handling says so, and a
    cancel by the CLI's handlers (which set the interrupt flag first) gives whatever reason the
    phase it stopped in gives ("interrupted from keyboard" in the search, a bit-blaster's give-up
    in preprocessing)."""
    return s.reason_unknown() == "interrupted from keyboard" or interrupt_requested()


class EndOfRuns:
    """"Does a run of k steps exist?", asked by BMC and k-induction's base case after adding the
    k-th transition: no run of k steps means every run has ended and the search was exhaustive.
    Not asked up to `runs` (a walk found a run that long, long_run.py), nor again once the
    solver could not answer: the question only grows with k (drm_msm: 12 to 35 s a depth, all
    unknown); `unknown` then says why, for the bounded results."""

    def __init__(self, runs: int, opts: BmcOptions) -> None:
        self.runs = runs
        self.opts = opts
        self.unknown = ""

    def ended(self, s: z3.Solver, k: int) -> bool | None:
        """None: not asked; True: no run of k steps exists; False: one may."""
        if k <= self.runs or self.unknown:
            return None
        r = s.check()
        if r == z3.unknown:
            if cancelled(s):
                raise KeyboardInterrupt  # z3 catches SIGINT itself while it searches
            self.unknown = f"whether every run ends: solver: {why_unknown(s, self.opts)} at " \
                           f"depth {k}"
        return bool(r == z3.unsat)


def solvers_mb() -> float:
    """The memory z3 holds for the whole process, in MB: what a solver's `max_memory` is
    compared with, whichever solver allocated it."""
    return float(z3.Z3_get_estimated_alloc_size()) / (1 << 20)


def why_unknown(s: z3.Solver, opts: BmcOptions) -> str:
    """z3 says "no reason given" when its memory limit stops it: say so."""
    reason = str(s.reason_unknown())
    if opts.memory_mb is not None:
        st = s.statistics()
        names = st.keys()  # a z3 Statistics object, not a dict
        peak = st.get_key_value("max memory") if "max memory" in names else 0.0
        if peak >= 0.95 * opts.memory_mb:
            return f"memory limit of {opts.memory_mb} MB reached"
    return reason


class Unroller:
    """Per-depth copies of the state and the transitions between them.

    With `por`, consecutive transitions also keep commuting steps of different actors in actor
    order (see Encoding.por): sound for shortest counterexamples from the initial state, not for
    induction from arbitrary states.
    """

    def __init__(self, enc: Encoding, por: bool = False, propagate: bool = False) -> None:
        self.enc = enc
        self.por = por
        self.propagate = propagate
        self.states: list[dict[str, SVal]] = [enc.state_at(0)]
        self._subst: list[list[tuple[z3.ExprRef, z3.ExprRef]]] = []
        # step k's substitution as z3 C arrays, built once: decoding a trace substitutes every
        # call argument of every step, and z3.substitute re-checks the sorts of all pairs and
        # rebuilds the arrays per call (80% of a library scenario's checking time)
        self._arrays: dict[int, tuple[int, Any, Any]] = {}
        # state k's substitution, the same way: BMC puts every property at every depth (a fifth
        # of S0b's BMC time went to rebuilding these pairs and z3.substitute's sort checks)
        # (the pairs are kept beside their arrays: the C arrays hold no references to the ASTs)
        self._at: dict[int, tuple[list[tuple[z3.ExprRef, z3.ExprRef]], tuple[int, Any, Any]]] = {}

    def at(self, term: z3.ExprRef, k: int) -> z3.ExprRef:
        known = self._at.get(k)
        if known is None:
            # sorts agree: substitution() pairs like with like
            pairs = self.enc.substitution(self.states[k], None, k)
            known = (pairs, _c_arrays(pairs))
            self._at[k] = known
        t = _substitute(term, known[1])
        return z3.simplify(t) if self.propagate else t

    def init(self) -> z3.ExprRef:
        t = self.at(self.enc.init, 0)
        if self.propagate and len(self.states) == 1:
            self.states[0] = _initial_values(self.enc, self.states[0], t)
            self._at.clear()
        return t

    def step(self, k: int) -> z3.ExprRef:
        """The transition from state k to state k+1 (creates state k+1)."""
        if self.propagate:
            return self._step_by_value(k)
        while len(self.states) <= k + 1:
            self.states.append(self.enc.state_at(len(self.states)))
        pairs = self.enc.substitution(self.states[k], self.states[k + 1], k)
        while len(self._subst) <= k:
            self._subst.append([])
        self._subst[k] = pairs
        t = z3.substitute(self.enc.trans, *pairs)
        return self._with_por(t, k)

    def _step_by_value(self, k: int) -> z3.ExprRef:
        """The transition from state k, carrying forward the values it fixes: a next value the
        simplifier folds to a constant (a variable no step that can fire writes, a step's
        effect where only one step can fire) is state k+1's value itself, the others get
        constants of their own. The solver's incremental preprocessing folds none of this
        (wcd938x, depth 3: 37 s against 12 after z3's own solve-eqs). Exact: the transition
        defines every next value, and sel@k is pinned where it is forced."""
        assert len(self.states) == k + 1, "unrolled in order, from init()"
        enc = self.enc
        pairs = enc.substitution(self.states[k], None, k)
        while len(self._subst) <= k:
            self._subst.append([])
        self._subst[k] = pairs
        arrays = _c_arrays(pairs)
        fires = _batch_simplified([s.fire for s in enc.steps], arrays)
        can = [i for i, f in enumerate(fires) if not z3.is_false(f)]
        named = enc.state_at(k + 1)
        sel_k = z3.BitVec(f"sel@{k}", enc.sel.size())
        parts: list[z3.ExprRef] = []
        if not can:
            # no step can fire: the run has ended (halted, or every actor done or blocked)
            self.states.append(named)
            return z3.BoolVal(False)
        if len(can) == 1:
            # one step can fire: it is the one taken
            forced = z3.BitVecVal(can[0], enc.sel.size())
            parts.append(sel_k == forced)
            pinned = [(a, forced if b.eq(sel_k) else b) for a, b in pairs]
            arrays = _c_arrays(pinned)  # `pinned` outlives its use below
        terms = _batch_simplified([enc.trans_guard, *enc.next_terms], arrays)
        parts.append(terms[0])
        values: list[z3.ExprRef] = []
        for i, var in enumerate(x for v in named.values() for x in leaves(v)):
            term = terms[i + 1]
            if _is_value(term):
                values.append(term)
            else:
                values.append(var)
                parts.append(var == term)
        nxt = iter(values)
        self.states.append({n: _refill(v, nxt) for n, v in named.items()})
        return self._with_por(z3.And(*parts), k)

    def _with_por(self, t: z3.ExprRef, k: int) -> z3.ExprRef:
        if self.por and k > 0:
            w = self.enc.sel.size()
            t = z3.And(t, self.enc.por(z3.BitVec(f"sel@{k - 1}", w), z3.BitVec(f"sel@{k}", w)))
        return t

    def step_terms(self, terms: list[z3.ExprRef], k: int) -> list[z3.ExprRef]:
        """Several step-template terms in transition k, substituted in one walk of their DAG
        (as the arguments of one uninterpreted application)."""
        if not terms:
            return []
        batch = z3.Function("$batch", *(t.sort() for t in terms), z3.BoolSort())
        app = self.step_term(batch(*terms), k)
        return [app.arg(i) for i in range(len(terms))]

    def step_term(self, term: z3.ExprRef, k: int) -> z3.ExprRef:
        """A step-template term (calls, choices) evaluated in transition k."""
        arrays = self._arrays.get(k)
        if arrays is None:
            arrays = _c_arrays(self._subst[k])  # sorts agree: pairs like with like
            self._arrays[k] = arrays
        return _substitute(term, arrays)


def _batch_simplified(terms: list[z3.ExprRef], arrays: tuple[int, Any, Any]) -> list[z3.ExprRef]:
    """The terms substituted and simplified in one walk of their shared DAG (as the arguments
    of one uninterpreted application: the simplifier's cache lives for one call)."""
    if not terms:
        return []
    batch = z3.Function("$batch", *(t.sort() for t in terms), z3.BoolSort())
    app = z3.simplify(_substitute(batch(*terms), arrays))
    assert z3.is_app(app) and app.num_args() == len(terms)
    return [app.arg(i) for i in range(len(terms))]


def _initial_values(enc: Encoding, state: dict[str, SVal], init: z3.ExprRef) -> dict[str, SVal]:
    """`state` (the constants of depth 0) with each leaf that `init` fixes replaced by its value:
    the conjuncts `leaf == value`, `leaf` and `Not(leaf)` of the simplified initial condition.
    A variable left unconstrained by its declaration keeps its constant."""
    fixed: dict[int, z3.ExprRef] = {}
    todo = [init]
    while todo:
        c = todo.pop()
        if z3.is_and(c):
            todo.extend(c.children())
        elif z3.is_eq(c):
            a, b = c.arg(0), c.arg(1)
            if _is_value(b) and z3.is_const(a):
                fixed[a.get_id()] = b
            elif _is_value(a) and z3.is_const(b):
                fixed[b.get_id()] = a
        elif z3.is_const(c) and not _is_value(c):
            fixed[c.get_id()] = z3.BoolVal(True, c.ctx)
        elif z3.is_not(c) and z3.is_const(c.arg(0)) and not _is_value(c.arg(0)):
            fixed[c.arg(0).get_id()] = z3.BoolVal(False, c.ctx)
    return {n: _refill(v, iter([fixed.get(x.get_id(), x) for x in leaves(v)]))
            for n, v in state.items()}


def _is_value(x: z3.ExprRef) -> bool:
    return bool(z3.is_bv_value(x) or z3.is_true(x) or z3.is_false(x))


def _c_arrays(pairs: list[tuple[z3.ExprRef, z3.ExprRef]]) -> tuple[int, Any, Any]:
    """A substitution's pairs as the C arrays Z3_substitute takes (built once per depth). The
    arrays hold no references: the caller keeps `pairs` alive as long as it uses them."""
    frm = (z3.Ast * len(pairs))()
    to = (z3.Ast * len(pairs))()
    for i, (a, b) in enumerate(pairs):
        frm[i] = a.as_ast()
        to[i] = b.as_ast()
    return (len(pairs), frm, to)


def _substitute(term: z3.ExprRef, arrays: tuple[int, Any, Any]) -> z3.ExprRef:
    n, frm, to = arrays
    ctx = term.ctx
    return z3.z3._to_expr_ref(z3.Z3_substitute(ctx.ref(), term.as_ast(), n, frm, to), ctx)


# ---------------------------------------------------------------------- decoding


def decode_value(m: z3.ModelRef, v: SVal, t: I.Type) -> Value:
    match t:
        case I.BoolType():
            assert isinstance(v, z3.ExprRef)
            return z3.is_true(m.eval(v, model_completion=True))
        case I.IntType() | I.NullType():
            assert isinstance(v, z3.ExprRef)
            x = m.eval(v, model_completion=True)
            return x.as_signed_long() if z3.is_bv_value(x) else 0
        case I.EnumType():
            assert isinstance(v, z3.ExprRef)
            x = m.eval(v, model_completion=True)
            i = x.as_long() if z3.is_bv_value(x) else 0
            return t.members[i] if 0 <= i < len(t.members) else None
        case I.RecordType():
            assert isinstance(v, SRec)
            return {n: decode_value(m, fv, ft) for (n, fv), (_, ft) in zip(v.fields, t.fields,
                                                                          strict=True)}
        case I.ArrayType():
            assert isinstance(v, SArr)
            vals = [decode_value(m, x, t.elem) for x in v.items]
            if isinstance(t.index, I.EnumType):
                return dict(zip(t.index.members, vals, strict=True))
            return vals
        case I.ListType():
            assert isinstance(v, SList) and t.elem is not None
            n = decode_value(m, v.length, I.IntType(0, t.cap))
            assert isinstance(n, int)
            return [decode_value(m, x, t.elem) for x in v.items[: max(0, min(n, t.cap))]]


def eval_bools(m: z3.ModelRef, terms: list[z3.ExprRef]) -> list[bool]:
    """The Boolean terms' values in m, in one evaluation: the evaluator caches within a call
    only, and the call conditions of a step share its whole DAG (wcd938x: 23,614 separate
    evaluations took 137 s of a 204 s run)."""
    if not terms:
        return []
    one, zero = z3.BitVecVal(1, 1), z3.BitVecVal(0, 1)
    bits = [z3.If(t, one, zero) for t in terms]
    packed = m.eval(z3.Concat(*bits) if len(bits) > 1 else bits[0], model_completion=True)
    assert z3.is_bv_value(packed)
    v = packed.as_long()
    n = len(terms)
    return [bool(v >> (n - 1 - i) & 1) for i in range(n)]


def _format_arg(v: Value) -> str:
    return format_value(v).upper() if v is None else format_value(v)


def decode_state(model: I.Model, enc: Encoding, m: z3.ModelRef,
                 state: dict[str, SVal]) -> dict[str, Value]:
    return {v.name: decode_value(m, state[v.name], v.type) for v in model.vars}


def decode_trace(model: I.Model, enc: Encoding, un: Unroller, m: z3.ModelRef, k: int,
                 prop: I.Property) -> Trace:
    initial = decode_state(model, enc, m, un.states[0])
    steps: list[TraceStep] = []
    prev = initial
    for j in range(k):
        sel_v = m.eval(z3.BitVec(f"sel@{j}", enc.sel.size()), model_completion=True)
        si = sel_v.as_long() if z3.is_bv_value(sel_v) else 0
        s = enc.steps[si]
        actor = model.actors[s.actor]
        step = actor.step(s.label)
        call_recs: list[CallRecord] = []
        # two batched substitutions per step (the conditions, then the arguments of the calls
        # made), not one per term: each substitution walks the step's whole term DAG
        conds = un.step_terms([c for *_, c in s.calls], j)
        made = [c for c, yes in zip(s.calls, eval_bools(m, conds), strict=True) if yes]
        subst = iter(un.step_terms([x for c in made for a in c[2] for x in leaves(a)], j))
        for depth, proc, args, ptypes, _ in made:
            shown = []
            for a, t in zip(args, ptypes, strict=True):
                sub = _refill(a, subst)
                shown.append(_format_arg(decode_value(m, sub, t)))
            call_recs.append(CallRecord(depth, proc, tuple(shown)))
        state = decode_state(model, enc, m, un.states[j + 1])
        sp = step.span
        steps.append(TraceStep(j + 1, actor.name, s.label, Loc(sp.file, sp.line, sp.col),
                               tuple(call_recs), state, diff_states(prev, state)))
        prev = state
    return Trace(model.spec, model.variant, prop.name, prop.kind.value, initial, tuple(steps),
                 _violation(model, enc, m, un, k, prop))


def _refill(v: SVal, new: Iterator[z3.ExprRef]) -> SVal:
    """v with its leaves replaced, in leaves() order, by the next terms of `new`."""
    match v:
        case SRec():
            return SRec(tuple((n, _refill(x, new)) for n, x in v.fields))
        case SArr():
            return SArr(tuple(_refill(x, new) for x in v.items))
        case SList():
            length = next(new)
            assert isinstance(length, z3.BitVecRef)
            return SList(length, tuple(_refill(x, new) for x in v.items))
        case _:
            return next(new)


def _violation(model: I.Model, enc: Encoding, m: z3.ModelRef, un: Unroller, k: int,
               prop: I.Property) -> Violation:
    if prop.kind is I.PropKind.ASSERT:
        viol = un.states[k][enc.viol_name(prop.name)]
        site_id = decode_value(m, viol, I.IntType(0, len(model.sites)))
        for s in model.sites:
            if s.id == site_id:
                sp = s.span
                return Violation(prop.name, prop.kind.value, s.message,
                                 Loc(sp.file, sp.line, sp.col))
    sp = prop.span
    loc = Loc(sp.file, sp.line, sp.col) if sp.line else None
    waiting: list[tuple[str, str]] = []
    if prop.kind is I.PropKind.DEADLOCK:
        for i, a in enumerate(model.actors):
            label = _pc_label(enc, m, un, k, i)
            if label is None:
                continue
            if a.dormant is not None and z3.is_true(
                    m.eval(enc.done(un.states[k], i), model_completion=True)):
                continue  # a pool instance never spawned: not waiting for anything
            waiting.append((a.name, label))
    messages = {
        I.PropKind.INVARIANT: f"invariant {prop.name} does not hold: {prop.description}",
        I.PropKind.FINAL: f"at the end of the run, {prop.name} does not hold: {prop.description}",
        I.PropKind.REACHABLE: f"target {prop.name} reached: {prop.description}",
        I.PropKind.DEADLOCK: ", ".join(f"{a} waits at {lab}" for a, lab in waiting),
    }
    return Violation(prop.name, prop.kind.value, messages.get(prop.kind, prop.description), loc,
                     waiting=tuple(waiting))


def _pc_label(enc: Encoding, m: z3.ModelRef, un: Unroller, k: int, actor: int) -> str | None:
    pc = un.states[k][enc.pc_name(actor)]
    v = decode_value(m, pc, I.IntType(0, len(enc.labels[actor])))
    assert isinstance(v, int)
    labels = enc.labels[actor]
    return labels[v] if 0 <= v < len(labels) else None
