"""Explicit-state model checking: breadth-first search over concrete states of the IR.

A second opinion for the Z3 engines: it executes the same lowered steps concretely and must give
exactly the semantics of `translators/z3_encoding.py`, which is the reference:

- one step of one actor fires per transition; a halted state has no successors;
- `await c` false blocks the step (it counts for deadlock); `assume c` false discards the path
  (not a deadlock); `either`, `choose` and locals without initialiser branch;
- a failed user `assert` is recorded (the first failing site per property class, sticky) and the
  step goes on; a failed built-in check (null, bounds, overflow, capacity) records its site, ends
  the step where it failed (earlier writes stay, the pc does not move) and halts the run;
- `&&`, `||`, `=>` and `ite` short-circuit their run-time checks as the encoding does (the
  right operand or the arm not taken checks nothing); quantifiers check every value;
- integers are the encoding's signed bit-vectors of `bit_width(model)` bits.

Breadth-first order makes every counterexample a shortest one, and among the shortest ones the
search keeps one with the fewest context switches (as BMC does); when the reachable state space
is exhausted within the bound, the open properties are PROVEN. A result counts the states it
explored (`Result.states`); the rate is the caller's to show, so verdict texts are deterministic.

The instances of an enum-indexed actor family the spec treats symmetrically are searched up to
permutation (checker/engines/symmetry.py): the search runs on representatives, and a
counterexample is replayed as the concrete run behind them. Expressions are compiled once to
closures (checker/engines/explicit_expr.py); statements are interpreted here.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple, assert_never

from drvmc.checker.engines.explicit_expr import ExprCompiler
from drvmc.checker.engines.switches import model_members
from drvmc.checker.engines.symmetry import Canon, Perm, Symmetry, find_symmetry
from drvmc.checker.errors import Diagnostic, EngineError, SpecError, Unsupported
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
from drvmc.translators.z3_encoding import bit_width

Progress = Callable[[str, int, float, int], None]

# A concrete value: bool, int (enum members by position, null = number of members), or a tuple
# (records by field order, arrays by index order, lists holding only their live items).
CVal = bool | int | tuple["CVal", ...]
State = tuple[CVal, ...]


# values an `any` initialiser of one array or record may stand for in the explicit engine
MAX_ANY_VALUES = 1 << 16


@dataclass(frozen=True)
class ExplicitOptions:
    depth: int = 40
    max_states: int = 2_000_000
    symmetry: bool = True  # one state per orbit of a symmetric enum (checker/engines/symmetry.py)


class _Fault(Exception):
    """A failed built-in check: the rest of the step does nothing."""


class _Blocked(Exception):
    """An `await` (or an empty `choose` range) is false: the step cannot fire."""


class _Returned(Exception):
    pass


class Outcome(NamedTuple):
    """One execution path of one step from one state (a named tuple: the search makes one per
    transition, and a frozen dataclass costs several times as much to build)."""

    state: State | None  # None: discarded by an `assume`
    calls: tuple[tuple[int, str, tuple[CVal, ...], tuple[I.Type, ...]], ...]


class Machine:
    """The concrete transition system of one Model (the layout mirrors the Z3 encoding)."""

    def __init__(self, model: I.Model) -> None:
        self.model = model
        self.width = bit_width(model)
        self.nvars = len(model.vars)
        self.var_index = {v.name: i for i, v in enumerate(model.vars)}
        self.labels = [[s.label for s in a.steps] for a in model.actors]
        self.pc0 = self.nvars
        self.halted_at = self.nvars + len(model.actors)
        self.viol_props: list[str] = []
        for site in model.sites:
            if site.prop not in self.viol_props:
                self.viol_props.append(site.prop)
        self.viol0 = self.halted_at + 1
        self.viol_slot = {p: self.viol0 + i for i, p in enumerate(self.viol_props)}
        self.sites = {s.id: s for s in model.sites}
        self.procs = {p.name: p for p in model.procs}
        self.expr = ExprCompiler(self.var_index, self.width, self.lit, self.default)
        # compiled statement blocks, keyed by id() of the body tuple (kept alive beside it)
        self._blocks: dict[int, tuple[tuple[I.Stmt, ...], Callable[[_Exec], None]]] = {}
        # the steps, in the encoding's order; indexed by (actor, pc) for a fast pc test
        self.steps: list[tuple[int, I.Step]] = [(ai, s) for ai, a in enumerate(model.actors)
                                                for s in a.steps]
        # each step's body compiled at its first run (a step never reached costs nothing)
        self.step_body: list[Callable[[_Exec], None] | None] = [None] * len(self.steps)
        self.by_pc: list[list[int]] = [[] for _ in model.actors]
        for si, (ai, st) in enumerate(self.steps):
            pc = self.labels[ai].index(st.label)
            while len(self.by_pc[ai]) <= pc:
                self.by_pc[ai].append(-1)
            self.by_pc[ai][pc] = si

    # ---- compiled statements ----
    def block(self, body: Sequence[I.Stmt]) -> Callable[[_Exec], None]:
        """`body` as one function of an _Exec: the common statements compiled to closures over
        their compiled expressions (no dispatch and no expression-cache look-up per run), the
        others handed to the interpreter, `_Exec.stmt`, which they behave exactly as."""
        hit = self._blocks.get(id(body))
        if hit is not None and hit[0] is body:
            return hit[1]
        fns = tuple(self._stmt_fn(x) for x in body)

        def run(ex: _Exec) -> None:
            for f in fns:
                f(ex)

        fn: Callable[[_Exec], None] = run if len(fns) > 1 else fns[0] if fns else _nothing
        if isinstance(body, tuple):
            self._blocks[id(body)] = (body, fn)
        return fn

    def _stmt_fn(self, st: I.Stmt) -> Callable[[_Exec], None]:
        match st:
            case I.Assign() if isinstance(st.target, I.VarRef) \
                    and st.target.scope is I.Scope.STATE:
                value = self.expr(st.value)
                i = self.var_index[st.target.name]

                def assign_state(ex: _Exec) -> None:
                    ex.state[i] = value(ex)
                return assign_state
            case I.Assign() if isinstance(st.target, I.IndexRef) \
                    and isinstance(st.target.base, I.VarRef) \
                    and st.target.base.scope is I.Scope.STATE \
                    and isinstance(st.target.base.type, I.ArrayType):
                return self._assign_element(st.target, self.expr(st.value))
            case I.Assign():
                value, target = self.expr(st.value), st.target
                return lambda ex: ex.write(target, value(ex))
            case I.If():
                cond, then, orelse = self.expr(st.cond), self.block(st.then), \
                    self.block(st.orelse)

                def if_(ex: _Exec) -> None:
                    if cond(ex):
                        then(ex)
                    else:
                        orelse(ex)
                return if_
            case I.Assert():
                cond, site = self.expr(st.cond), st.site

                def assert_(ex: _Exec) -> None:
                    if not cond(ex):
                        ex.fails.append(site)
                return assert_
            case I.Goto():
                slot, lab = self.pc0, st.label
                # the label's position in each actor that runs this goto, found once
                pcs: dict[int, int] = {}

                def goto(ex: _Exec) -> None:
                    pc = pcs.get(ex.actor)
                    if pc is None:
                        pc = pcs[ex.actor] = self.lab(ex.actor, lab)
                    ex.state[slot + ex.actor] = pc
                return goto
            case I.LocalDecl() if st.init is not None:
                init, name = self.expr(st.init), st.name

                def local(ex: _Exec) -> None:
                    ex.frames[-1][name] = init(ex)
                return local
            case I.Call():
                return self._call(st)
            case I.For():
                vals = [self.lit(v.value, v.type) for v in st.values]
                var, loop_body = st.var, self.block(st.body)

                def for_(ex: _Exec) -> None:
                    for x in vals:
                        ex.frames[-1][var] = x
                        loop_body(ex)
                return for_
            case I.Await():
                cond = self.expr(st.cond)
                return lambda ex: ex.gate(st, bool(cond(ex)))
            case I.Return() if st.value is not None:
                value = self.expr(st.value)

                def return_(ex: _Exec) -> None:
                    ex.result[-1] = value(ex)
                    raise _Returned
                return return_
            case _:
                return lambda ex: ex.stmt(st)

    def _assign_element(self, target: I.IndexRef, value: Callable[[_Exec], CVal]
                        ) -> Callable[[_Exec], None]:
        """`a[i] = v` on a state array, as `_Exec.write` does it: the value, then the read's
        checks, then the element replaced (an index out of range writes nothing)."""
        read, index = self.expr(target), self.expr(target.index)
        assert isinstance(target.base, I.VarRef)
        bt = target.base.type
        assert isinstance(bt, I.ArrayType)
        i, lo = self.var_index[target.base.name], _index_lo(bt.index)

        def assign_element(ex: _Exec) -> None:
            v = value(ex)
            read(ex)
            base = ex.state[i]
            assert isinstance(base, tuple)
            pos = index(ex) - lo
            if 0 <= pos < len(base):
                ex.state[i] = (*base[:pos], v, *base[pos + 1:])
        return assign_element

    def _call(self, st: I.Call) -> Callable[[_Exec], None]:
        """A procedure call, as `_Exec.call` does it; the callee's body is compiled at its
        first call (a compiled body never compiles its callees ahead)."""
        proc = self.procs[st.proc]
        args = tuple(self.expr(a) for a in st.args)
        names = tuple(n for n, _ in proc.params)
        types = tuple(t for _, t in proc.params)
        name, target = st.proc, st.target
        absent = self.default(proc.result or I.BOOL)
        body: list[Callable[[_Exec], None]] = []

        # a procedure without a result, its value unused, needs no result slot
        keep = proc.result is not None or target is not None or _returns_value(proc.body)

        def call(ex: _Exec) -> None:
            vals = (args[0](ex),) if len(args) == 1 else tuple([a(ex) for a in args])
            ex.calls.append((ex.depth, name, vals, types))
            ex.frames.append(dict(zip(names, vals, strict=True)))
            if keep:
                ex.result.append(None)
            ex.depth += 1
            if not body:
                body.append(self.block(proc.body))
            try:  # noqa: SIM105 -- see _Exec.call
                body[0](ex)
            except _Returned:
                pass
            ex.depth -= 1
            ex.frames.pop()
            if keep:
                res = ex.result.pop()
                if target is not None:
                    ex.write(target, res if res is not None else absent)
        return call

    # ---- values ----
    def lit(self, value: bool | int | None, t: I.Type) -> CVal:
        match t:
            case I.BoolType():
                return bool(value)
            case I.EnumType() if value is None:
                return len(t.members)
            case I.NullType():
                return 0
            case _:
                assert isinstance(value, int)
                return int(value)

    def default(self, t: I.Type) -> CVal:
        match t:
            case I.BoolType():
                return False
            case I.IntType():
                return t.default
            case I.EnumType():
                return len(t.members) if t.nullable else 0
            case I.NullType():
                return 0
            case I.RecordType():
                return tuple(self.default(ft) for _, ft in t.fields)
            case I.ArrayType():
                d = self.default(t.elem)
                return tuple(d for _ in I.index_values(t.index))
            case I.ListType():
                return ()

    def type_values(self, t: I.Type) -> list[CVal]:
        """Every value of a scalar type (for `any` and locals without initialiser)."""
        match t:
            case I.BoolType():
                return [False, True]
            case I.IntType():
                return list(range(t.lo, t.hi + 1))
            case I.EnumType():
                return list(range(len(t.members) + (1 if t.nullable else 0)))
            case I.ArrayType() | I.RecordType():
                # an array or record initialised with `any`: every combination of its parts
                parts = ([t.elem] * len(I.index_values(t.index)) if isinstance(t, I.ArrayType)
                         else [ft for _, ft in t.fields])
                options = [self.type_values(pt) for pt in parts]
                count = 1
                for o in options:
                    count *= len(o)
                if count > MAX_ANY_VALUES:
                    raise EngineError(f"explicit engine: {count} initial values of {t} "
                                      f"(limit {MAX_ANY_VALUES})")
                return [tuple(c) for c in itertools.product(*options)]
            case _:
                raise Unsupported(f"explicit engine: cannot enumerate every value of {t}")

    # ---- states ----
    def initial_states(self) -> Iterator[State]:
        ex = _Exec(self, [], prop_mode=True)
        fixed: list[list[CVal]] = []
        for v in self.model.vars:
            if v.init is None:
                fixed.append(self.type_values(v.type))
            else:
                fixed.append([ex.eval(v.init)])
        tail: list[CVal] = [self.lab(ai, a.steps[0].label)
                            for ai, a in enumerate(self.model.actors)]
        tail.append(False)
        tail.extend(0 for _ in self.viol_props)
        for combo in itertools.product(*fixed):
            yield (*combo, *tail)

    def lab(self, actor: int, label: str | None) -> int:
        labels = self.labels[actor]
        return len(labels) if label is None else labels.index(label)

    def all_done(self, s: State) -> bool:
        """Every actor ended, or (a pool instance) stands dormant at its first step."""
        for ai, a in enumerate(self.model.actors):
            pc = s[self.pc0 + ai]
            if pc == len(self.labels[ai]):
                continue
            if a.dormant is not None and pc == 0 and self.prop_holds(a.dormant, s):
                continue
            return False
        return True

    def successors(self, s: State, skip: frozenset[int] = frozenset()
                   ) -> tuple[bool, list[tuple[int, Outcome]]]:
        """(some step is enabled by pc and awaits, [(step index, outcome)]), the actors in
        `skip` left out (under symmetry: those their class's leader stands for)."""
        out: list[tuple[int, Outcome]] = []
        enabled = False
        if s[self.halted_at]:
            return False, out
        for ai, row in enumerate(self.by_pc):
            if ai in skip:
                continue
            pc = s[self.pc0 + ai]
            assert isinstance(pc, int)
            if pc >= len(row) or row[pc] < 0:
                continue
            si = row[pc]
            for oc in self.run_step(s, si):
                if oc is None:
                    continue
                enabled = True
                if oc.state is not None:
                    out.append((si, oc))
        return enabled, out

    def run_step(self, s: State, si: int) -> list[Outcome | None]:
        """Every execution path of step `si` from `s`; None for a path blocked by an await."""
        ai, step = self.steps[si]
        body = self.step_body[si]
        if body is None:
            body = self.step_body[si] = self.block(step.body)
        out: list[Outcome | None] = []
        prefix: list[int] = []
        gates: dict[tuple[int, int], bool] = {}
        while True:
            ex = _Exec(self, list(s), prop_mode=False, actor=ai, prefix=prefix)
            blocked = False
            try:
                body(ex)
            except _Fault:
                pass
            except _Blocked:
                blocked = True
            except _Returned:
                pass
            self._same_gates(step, ex, gates)
            if blocked:
                out.append(None)
            else:
                out.append(Outcome(None if ex.discarded else self._finish(s, ex),
                                   tuple(ex.calls)))
            # next choice sequence (depth-first over the choice tree)
            trail = ex.trail
            while trail and trail[-1][0] + 1 >= trail[-1][1]:
                trail.pop()
            if not trail:
                return out
            prefix = [c for c, _ in trail]
            prefix[-1] += 1

    @staticmethod
    def _same_gates(step: I.Step, ex: _Exec, seen: dict[tuple[int, int], bool]) -> None:
        """Whether a step fires must not depend on a choice made earlier in it: the Z3 engines
        cannot encode that (E126), so no engine accepts it. Here the dependence shows as one
        await giving different answers on two choice paths from the same state."""
        count: dict[int, int] = {}
        for st, ok in ex.gates:
            n = count.get(id(st), 0)
            count[id(st)] = n + 1
            if seen.setdefault((id(st), n), ok) != ok:
                raise SpecError([Diagnostic(
                    "E126", f"an 'await' in step {step.label} depends on a nondeterministic "
                    "choice made earlier in the same step; put the await first or in its own "
                    "step", step.span)])

    def _finish(self, old: State, ex: _Exec) -> State:
        st = ex.state
        halted = False
        seen: set[str] = set()
        for site_id in ex.fails:
            site = self.sites[site_id]
            if site.fatal:
                halted = True
            if site.prop in seen:
                continue
            seen.add(site.prop)
            slot = self.viol_slot[site.prop]
            if old[slot] == 0:
                st[slot] = site_id
        if halted:
            st[self.halted_at] = True
        return tuple(st)

    # ---- properties ----
    def prop_holds(self, e: I.Expr, s: State) -> bool:
        v = _Exec(self, list(s), prop_mode=True).eval(e)
        assert isinstance(v, bool)
        return v

    def is_bad(self, p: I.Property, s: State, enabled: bool | None) -> bool:
        halted = bool(s[self.halted_at])
        match p.kind:
            case I.PropKind.ASSERT:
                slot = self.viol_slot.get(p.name)
                return slot is not None and s[slot] != 0
            case I.PropKind.INVARIANT:
                assert p.expr is not None
                return not halted and not self.prop_holds(p.expr, s)
            case I.PropKind.FINAL:
                assert p.expr is not None
                return not halted and self.all_done(s) and not self.prop_holds(p.expr, s)
            case I.PropKind.REACHABLE:
                assert p.expr is not None
                return not halted and self.prop_holds(p.expr, s)
            case I.PropKind.DEADLOCK:
                return not halted and not self.all_done(s) and enabled is False

    # ---- decoding ----
    def value(self, v: CVal, t: I.Type) -> Value:
        match t:
            case I.BoolType():
                return bool(v)
            case I.IntType() | I.NullType():
                return v
            case I.EnumType():
                assert isinstance(v, int)
                return t.members[v] if 0 <= v < len(t.members) else None
            case I.RecordType():
                assert isinstance(v, tuple)
                return {n: self.value(x, ft) for (n, ft), x in zip(t.fields, v, strict=True)}
            case I.ArrayType():
                assert isinstance(v, tuple)
                vals = [self.value(x, t.elem) for x in v]
                if isinstance(t.index, I.EnumType):
                    return dict(zip(t.index.members, vals, strict=True))
                return vals
            case I.ListType():
                assert isinstance(v, tuple) and t.elem is not None
                return [self.value(x, t.elem) for x in v]

    def user_state(self, s: State) -> dict[str, Value]:
        return {v.name: self.value(s[i], v.type) for i, v in enumerate(self.model.vars)}


class _Exec:
    """Concrete execution of one step (or evaluation of one property) from one state."""

    # one per execution path of a step, millions in a search: slots make them cheaper to build
    # and their attributes cheaper to reach
    __slots__ = ("actor", "calls", "depth", "discarded", "fails", "frames", "gates", "m",
                 "prefix", "prop_mode", "result", "state", "trail")

    def __init__(self, m: Machine, state: list[CVal], prop_mode: bool, actor: int = 0,
                 prefix: Sequence[int] = ()) -> None:
        self.m = m
        self.state = state
        self.prop_mode = prop_mode
        self.actor = actor
        self.frames: list[dict[str, CVal]] = [{}]
        self.result: list[CVal | None] = [None]
        self.fails: list[int] = []
        self.calls: list[tuple[int, str, tuple[CVal, ...], tuple[I.Type, ...]]] = []
        self.discarded = False
        self.depth = 0
        self.prefix = prefix
        self.trail: list[tuple[int, int]] = []  # (choice, number of options) per choice point
        # each blocking test made after a choice, in path order: (statement, outcome)
        self.gates: list[tuple[I.Stmt, bool]] = []

    def gate(self, s: I.Stmt, ok: bool) -> None:
        """An await (or a run-time choose range) decides whether the step fires."""
        if self.trail:
            self.gates.append((s, ok))
        if not ok:
            raise _Blocked

    def choose(self, n: int) -> int:
        k = len(self.trail)
        c = self.prefix[k] if k < len(self.prefix) else 0
        self.trail.append((c, n))
        return c

    def check(self, site: int | None, bad: bool) -> None:
        if not site or not bad or self.prop_mode:
            return
        self.fails.append(site)
        raise _Fault

    # ---- expressions ----
    def eval(self, e: I.Expr) -> CVal:
        v: CVal = self.m.expr(e)(self)
        return v

    # ---- writes ----
    def write(self, lv: I.Expr, value: CVal) -> None:
        match lv:
            case I.VarRef():
                if lv.scope is I.Scope.STATE:
                    self.state[self.m.var_index[lv.name]] = value
                    return
                for fr in reversed(self.frames):
                    if lv.name in fr:
                        fr[lv.name] = value
                        return
                raise EngineError(f"unbound temporary {lv.name}")
            case I.FieldRef():
                base = self.eval(lv.base)
                rt = lv.base.type
                assert isinstance(base, tuple) and isinstance(rt, I.RecordType)
                pos = rt.field_index(lv.name)
                self.write(lv.base, (*base[:pos], value, *base[pos + 1:]))
            case I.IndexRef():
                self.eval(lv)  # a write makes the null/bounds checks of a read, first
                base = self.eval(lv.base)
                idx = self.eval(lv.index)
                assert isinstance(base, tuple) and isinstance(idx, int)
                bt = lv.base.type
                if isinstance(bt, I.ArrayType):
                    pos = idx - _index_lo(bt.index)
                    if not 0 <= pos < len(base):
                        return  # no slot matches: the encoding writes nothing
                else:
                    pos = idx
                    if not 0 <= pos < len(base):
                        if isinstance(bt, I.ListType) and 0 <= pos < bt.cap:
                            raise EngineError("unchecked write past the end of a list")
                        return
                self.write(lv.base, (*base[:pos], value, *base[pos + 1:]))
            case _:
                raise EngineError("bad assignment target")

    # ---- statements ----
    def run(self, stmts: Sequence[I.Stmt]) -> None:
        self.m.block(stmts)(self)

    def stmt(self, s: I.Stmt) -> None:
        m = self.m
        match s:
            case I.Assign():
                self.write(s.target, self.eval(s.value))
            case I.If():
                self.run(s.then if self.eval(s.cond) else s.orelse)
            case I.Either():
                if len(s.branches) == 1:
                    self.run(s.branches[0])
                else:
                    self.run(s.branches[self.choose(len(s.branches))])
            case I.For():
                for v in s.values:
                    self.frames[-1][s.var] = m.lit(v.value, v.type)
                    self.run(s.body)
            case I.Await():
                self.gate(s, bool(self.eval(s.cond)))
            case I.Assume():
                # the path is discarded, but later awaits still decide whether the step is
                # enabled (the encoding's `enabled` ignores assumes)
                if not self.eval(s.cond):
                    self.discarded = True
            case I.Assert():
                if not self.eval(s.cond):
                    self.fails.append(s.site)
            case I.Choose():
                match s.domain:
                    case I.StaticDomain():
                        vals = [m.lit(x.value, x.type) for x in s.domain.values]
                    case I.RangeDomain():
                        lo, hi = self.eval(s.domain.lo), self.eval(s.domain.hi)
                        assert isinstance(lo, int) and isinstance(hi, int)
                        self.gate(s, lo <= hi)
                        vals = list(range(lo, hi + 1))
                if not vals:
                    self.discarded = True
                    return
                self.write(s.target, vals[self.choose(len(vals))])
            case I.Call():
                self.call(s)
            case I.Return():
                if s.value is not None:
                    self.result[-1] = self.eval(s.value)
                raise _Returned
            case I.LocalDecl():
                if s.init is None:
                    vals = m.type_values(s.type)
                    self.frames[-1][s.name] = vals[self.choose(len(vals))]
                else:
                    self.frames[-1][s.name] = self.eval(s.init)
            case I.ListOp():
                self.list_op(s)
            case I.Goto():
                self.state[m.pc0 + self.actor] = m.lab(self.actor, s.label)
            case I.Trace():
                args = tuple(self.eval(a) for a in s.args)
                self.calls.append((s.depth, s.proc, args, tuple(a.type for a in s.args)))

    def call(self, s: I.Call) -> None:
        proc = self.m.procs[s.proc]
        args = tuple(self.eval(a) for a in s.args)
        types = tuple(t for _, t in proc.params)
        self.calls.append((self.depth, s.proc, args, types))
        self.frames.append({n: v for (n, _), v in zip(proc.params, args, strict=True)})
        self.result.append(None)
        self.depth += 1
        # not contextlib.suppress: this runs on every call, where the context manager costs
        try:  # noqa: SIM105
            self.run(proc.body)
        except _Returned:
            pass
        self.depth -= 1
        self.frames.pop()
        res = self.result.pop()
        if s.target is not None:
            self.write(s.target, res if res is not None else
                       self.m.default(proc.result or I.BOOL))

    def list_op(self, s: I.ListOp) -> None:
        lst = self.eval(s.target)
        lt = s.target.type
        assert isinstance(lst, tuple) and isinstance(lt, I.ListType)
        n = len(lst)
        match s.op:
            case I.ListMut.APPEND:
                assert s.arg is not None
                x = self.eval(s.arg)
                self.check(s.site, n == lt.cap)
                self.write(s.target, (*lst, x))
            case I.ListMut.REMOVE_AT:
                assert s.arg is not None
                i = self.eval(s.arg)
                assert isinstance(i, int)
                self.check(s.site, i < 0 or i >= n)
                self.write(s.target, lst[:i] + lst[i + 1:])
            case I.ListMut.POP:
                self.check(s.site, n == 0)
                self.write(s.target, lst[:-1])
            case I.ListMut.CLEAR:
                self.write(s.target, ())
            case I.ListMut.TRUNCATE:
                assert s.arg is not None
                t = self.eval(s.arg)
                assert isinstance(t, int)
                self.check(s.site, t < 0 or t > n)
                self.write(s.target, lst[:t])
            case I.ListMut.REMOVE_RANGE:
                assert s.arg is not None and s.arg2 is not None
                a, b = self.eval(s.arg), self.eval(s.arg2)
                assert isinstance(a, int) and isinstance(b, int)
                self.check(s.site, a < 0 or a > b or b > n)
                self.write(s.target, lst[:a] + lst[b:])
            case _:
                assert_never(s.op)


def _nothing(ex: _Exec) -> None:
    """An empty block."""


def _returns_value(body: Sequence[I.Stmt]) -> bool:
    """Whether a `return` in the body (at any depth) gives a value."""
    return any((isinstance(st, I.Return) and st.value is not None)
               or any(_returns_value(b) for b in I.stmt_bodies(st)) for st in body)


def _index_lo(t: I.EnumType | I.IntType) -> int:
    return 0 if isinstance(t, I.EnumType) else t.lo


# ---------------------------------------------------------------------- search


class _Edge(NamedTuple):  # one per transition, as Outcome
    parent: State
    step: int
    calls: tuple[tuple[int, str, tuple[CVal, ...], tuple[I.Type, ...]], ...]


# The last actor of a path into a state (None: the initial state, no step yet).
Last = int | None


class _Via(NamedTuple):  # one per transition, as Outcome
    """The path with the fewest context switches among the shortest ones into (state, last)."""

    switches: int
    edge: _Edge | None
    parent_last: Last


class _Paths:
    """Shortest paths with the fewest context switches, built level by level.

    A state first found at depth d+1 is entered only from states at depth d, whose best paths
    are final when they are expanded (breadth-first order), so one pass keeps, for each state
    and each actor that can end a path into it, the fewest switches: the same choice the BMC
    engines make with `checker/engines/switches.py` (shortest first, then fewest switches).
    """

    def __init__(self) -> None:
        self.depth: dict[State, int] = {}
        self.best: dict[State, dict[Last, _Via]] = {}

    def add_initial(self, s: State) -> bool:
        if s in self.depth:
            return False
        self.depth[s] = 0
        self.best[s] = {None: _Via(0, None, None)}
        return True

    def fewest(self, s: State) -> tuple[int, Last]:
        """The fewest switches into s, and the last actor of that path (first in actor order)."""
        vias = self.best[s]
        last = min(vias, key=lambda a: (vias[a].switches, -1 if a is None else a))
        return vias[last].switches, last

    def extend(self, s: State, fewest_s: tuple[int, Last], actor: int, edge: _Edge,
               t: State, key: int) -> None:
        """Record the edge s -> t (t one level deeper than s) taken by a step of `actor`;
        `fewest_s` is `fewest(s)`, final once s is expanded (computed once for all its edges);
        `key` is the actor in t (under symmetry, the leader of its class there)."""
        same = self.best[s].get(actor)
        sw, last = fewest_s
        if last is not None and last != actor:
            sw += 1
        if same is not None and same.switches <= sw:
            sw, last = same.switches, actor
        into = self.best.setdefault(t, {})
        old = into.get(key)
        if old is None or sw < old.switches:
            into[key] = _Via(sw, edge, last)

    def path(self, s: State) -> tuple[State, list[tuple[State, _Edge]]]:
        """The initial state and the edges of the best path into s."""
        out: list[tuple[State, _Edge]] = []
        _, last = self.fewest(s)
        cur = s
        while True:
            via = self.best[cur][last]
            if via.edge is None:
                break
            out.append((cur, via.edge))
            cur, last = via.edge.parent, via.parent_last
        out.reverse()
        return cur, out


def run_explicit(model: I.Model, props: list[I.Property], opts: ExplicitOptions,
                 progress: Progress | None = None) -> list[Result]:
    start = time.monotonic()
    m = Machine(model)
    sym = (find_symmetry(model, m.var_index, m.pc0, tuple(m.viol_slot.values()))
           if opts.symmetry else None)
    paths = _Paths()
    results: dict[str, Result] = {}
    open_props = list(props)
    need_enabled = any(p.kind is I.PropKind.DEADLOCK for p in props)
    # under symmetry: per state of the frontier, the actors its class leaders stand for
    followers: dict[State, frozenset[int]] = {}
    frontier: list[State] = []
    for s0 in m.initial_states():
        if sym is not None:
            c0 = sym.canon(s0)
            s0 = c0.state
            followers[s0] = sym.followers(c0)
        if paths.add_initial(s0):
            frontier.append(s0)
    up_to = "" if sym is None else f" up to symmetry of {sym.names()}"

    def states() -> str:
        return f"{len(paths.depth)} states{up_to}"

    depth = 0
    exhaustive = False
    limit_hit = False
    too_many = False
    while True:
        nxt: list[State] = []
        nxt_followers: dict[State, frozenset[int]] = {}
        expand = depth < opts.depth
        # per open property, the bad state of this level with the fewest switches
        bad_here: dict[str, tuple[int, State]] = {}
        for s in frontier:
            fewest_s = paths.fewest(s)
            enabled: bool | None = None
            succ: list[tuple[int, Outcome]] = []
            if need_enabled or expand or depth == opts.depth:
                enabled, succ = m.successors(s, followers.get(s, frozenset()))
            for p in open_props:
                if m.is_bad(p, s, enabled):
                    sw = fewest_s[0]
                    if p.name not in bad_here or sw < bad_here[p.name][0]:
                        bad_here[p.name] = (sw, s)
            for si, oc in succ:
                t = oc.state
                assert t is not None
                actor = m.steps[si][0]
                key = actor
                c: Canon | None = None
                if sym is not None:
                    c = sym.canon(t)
                    t, key = c.state, sym.key(c, actor)
                seen = paths.depth.get(t)
                if seen is None:
                    if not expand:
                        limit_hit = True  # a new state beyond the bound: not exhaustive
                        continue
                    paths.depth[t] = depth + 1
                    nxt.append(t)
                    if sym is not None and c is not None:
                        nxt_followers[t] = sym.followers(c)
                elif seen != depth + 1:
                    continue  # reached earlier by a shorter path
                paths.extend(s, fewest_s, actor, _Edge(s, si, oc.calls), t, key)
            if len(paths.depth) > opts.max_states:
                too_many = True
                break
        for p in list(open_props):
            if p.name in bad_here:
                status = Status.REACHABLE if p.kind is I.PropKind.REACHABLE else Status.VIOLATED
                bad = bad_here[p.name][1]
                results[p.name] = Result(p.name, p.kind, status, depth, "explicit",
                                         reason=f"explicit: {states()}",
                                         trace=_trace(m, sym, paths, bad, p),
                                         seconds=time.monotonic() - start,
                                         states=len(paths.depth))
                open_props.remove(p)
        if progress is not None:
            progress(model.variant, depth, time.monotonic() - start, len(paths.depth))
        if too_many:
            for p in list(open_props):
                results[p.name] = Result(p.name, p.kind, Status.UNKNOWN, depth, "explicit",
                                         reason=f"explicit: state limit {opts.max_states} "
                                                f"reached at depth {depth}",
                                         seconds=time.monotonic() - start,
                                         states=len(paths.depth))
            open_props = []
            break
        if not open_props:
            break
        if not nxt:
            exhaustive = not limit_hit
            break
        frontier = nxt
        followers = nxt_followers
        depth += 1
    for p in open_props:
        if exhaustive:
            status = Status.UNREACHABLE if p.kind is I.PropKind.REACHABLE else Status.PROVEN
            reason = f"explicit: all {states()}"
        else:
            status = Status.NOT_REACHED if p.kind is I.PropKind.REACHABLE else Status.SAFE
            reason = f"explicit: {states()}"
        results[p.name] = Result(p.name, p.kind, status, depth, "explicit", reason=reason,
                                 seconds=time.monotonic() - start, states=len(paths.depth))
    return [results[p.name] for p in props]


def _format_arg(v: Value) -> str:
    return format_value(v).upper() if v is None else format_value(v)


Calls = tuple[tuple[int, str, tuple[CVal, ...], tuple[I.Type, ...]], ...]


def _trace(m: Machine, sym: Symmetry | None, paths: _Paths, s: State, p: I.Property) -> Trace:
    model = m.model
    cur, path = paths.path(s)
    run = [(t, e.step, e.calls) for t, e in path] if sym is None else _replay(m, sym, path)
    initial = m.user_state(cur)
    prev = initial
    steps: list[TraceStep] = []
    for j, (st, si, calls) in enumerate(run):
        ai, step = m.steps[si]
        actor = model.actors[ai]
        recs = tuple(CallRecord(d, proc, tuple(_format_arg(m.value(a, t))
                                               for a, t in zip(args, types, strict=True)))
                     for d, proc, args, types in calls)
        state = m.user_state(st)
        sp = step.span
        steps.append(TraceStep(j + 1, actor.name, step.label, Loc(sp.file, sp.line, sp.col),
                               recs, state, diff_states(prev, state)))
        prev = state
    last = run[-1][0] if run else cur
    return Trace(model.spec, model.variant, p.name, p.kind.value, initial, tuple(steps),
                 _violation(m, last, p), members=model_members(model))


def _replay(m: Machine, sym: Symmetry, path: list[tuple[State, _Edge]]
            ) -> list[tuple[State, int, Calls]]:
    """The concrete run behind a path of representatives: (state, step, calls) per step.

    The run starts in the path's initial state (a representative is a state) and keeps `perms`,
    which take each representative to the concrete state. Where the path steps a class leader
    and the previous step's actor is interchangeable with it, that actor steps instead: it is
    the move the path's switch count was made with."""
    perms = [tuple(range(g.n)) for g in sym.groups]
    out: list[tuple[State, int, Calls]] = []
    prev_actor: int | None = None
    for r_next, edge in path:
        r = edge.parent
        leader_ai = m.steps[edge.step][0]
        tries = [edge.step]
        if prev_actor is not None:
            inv = [_inverse(p) for p in perms]
            here = sym.actor(prev_actor, inv)
            cr = sym.canon(r)
            pc = r[m.pc0 + here]
            assert isinstance(pc, int)
            if (here != leader_ai and sym.leader(cr, here) == sym.leader(cr, leader_ai)
                    and pc < len(m.by_pc[here])
                    and m.by_pc[here][pc] >= 0):
                tries.insert(0, m.by_pc[here][pc])
        found = next(((si, oc, c) for si in tries for oc in m.run_step(r, si)
                      if oc is not None and oc.state is not None
                      and (c := sym.canon(oc.state)).state == r_next), None)
        if found is None:
            raise EngineError("explicit: a step of a symmetry-reduced path does not replay")
        si, oc, c = found
        assert oc.state is not None
        actor = sym.actor(m.steps[si][0], perms)
        step = m.steps[si][1]
        concrete_si = next(i for i, (ai, st) in enumerate(m.steps)
                           if ai == actor and st.label == step.label)
        calls = tuple((d, proc, tuple(sym.value(a, t, perms) for a, t in zip(args, types,
                                                                             strict=True)),
                       types) for d, proc, args, types in oc.calls)
        out.append((sym.apply(oc.state, perms), concrete_si, calls))
        perms = [tuple(p[i] for i in _inverse(q)) for p, q in zip(perms, c.perms, strict=True)]
        prev_actor = actor
    return out


def _inverse(p: Perm) -> Perm:
    inv = [0] * len(p)
    for i, j in enumerate(p):
        inv[j] = i
    return tuple(inv)


def _violation(m: Machine, s: State, p: I.Property) -> Violation:
    if p.kind is I.PropKind.ASSERT:
        vid = s[m.viol_slot[p.name]]
        site = m.sites.get(vid) if isinstance(vid, int) else None
        if site is not None:
            sp = site.span
            return Violation(p.name, p.kind.value, site.message, Loc(sp.file, sp.line, sp.col))
    sp = p.span
    loc = Loc(sp.file, sp.line, sp.col) if sp.line else None
    waiting: list[tuple[str, str]] = []
    if p.kind is I.PropKind.DEADLOCK:
        for ai, a in enumerate(m.model.actors):
            pc = s[m.pc0 + ai]
            assert isinstance(pc, int)
            if not 0 <= pc < len(m.labels[ai]):
                continue
            if a.dormant is not None and pc == 0 and m.prop_holds(a.dormant, s):
                continue  # a pool instance never spawned: not waiting for anything
            waiting.append((a.name, m.labels[ai][pc]))
    messages = {
        I.PropKind.INVARIANT: f"invariant {p.name} does not hold: {p.description}",
        I.PropKind.FINAL: f"at the end of the run, {p.name} does not hold: {p.description}",
        I.PropKind.REACHABLE: f"target {p.name} reached: {p.description}",
        I.PropKind.DEADLOCK: ", ".join(f"{a} waits at {lab}" for a, lab in waiting),
    }
    return Violation(p.name, p.kind.value, messages.get(p.kind, p.description), loc,
                     waiting=tuple(waiting))


__all__ = ["ExplicitOptions", "Machine", "Outcome", "run_explicit"]
