"""IR → Promela, one property at a time, for a second opinion from SPIN.

The export follows the semantics of `translators/z3_encoding.py`:

- every state variable is flattened into scalar globals (records, arrays and lists leaf by leaf;
  a list is a length and `cap` slots), so indexing is a chain of conditional expressions that
  picks the last slot when the index is out of range, exactly as the encoding's `pick` does;
- each actor is a proctype looping over its steps; each step is one `atomic` whose guard is
  `!halted`, the actor's pc and the step's awaits and assumes; the body then never blocks.
  Awaits and assumes must therefore be decidable in the state before the step: they may follow
  reads, temporaries and procedure entries, not writes to the state or choices (the exporter
  refuses other steps with an `ExportError` rather than export them unfaithfully);
- temporaries are `hidden` globals (not part of SPIN's state vector);
- built-in checks run before the expression that needs them, in the encoding's order; a failed
  fatal check sets `halted` and leaves the step (the pc does not move);
- the exported property is the only one SPIN checks: sites of its class are `assert`s, an
  invariant, `final`, `reachable` or deadlock check is a monitor process that asserts the bad
  condition is never true. Run `pan -E` (the exported model blocks by design when it ends).
  `reachable` targets are reached when SPIN finds an assertion violation.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import assert_never

from drvmc.checker.errors import EngineError, UsageError
from drvmc.checker.ir import nodes as I
from drvmc.checker.ir.visit import ExprVisitor

MAX_D_STEP_LINES = 1500  # SPIN refuses longer d_step sequences ("d_step sequence too long")


class ExportError(UsageError):
    """The model uses something this exporter cannot translate faithfully."""


@dataclass(frozen=True)
class PList:
    length: str
    items: tuple[Tree, ...]


Tree = str | tuple["Tree", ...] | PList


def leaves(t: Tree) -> list[str]:
    match t:
        case str():
            return [t]
        case PList():
            return [t.length, *(x for it in t.items for x in leaves(it))]
        case tuple():
            return [x for it in t for x in leaves(it)]


def sel(c: str, a: Tree, b: Tree) -> Tree:
    if c == "true":
        return a
    if c == "false":
        return b
    match a, b:
        case str(), str():
            return a if a == b else f"({c} -> {a} : {b})"
        case PList(), PList():
            n = sel(c, a.length, b.length)
            assert isinstance(n, str)
            return PList(n, tuple(sel(c, x, y) for x, y in zip(a.items, b.items, strict=True)))
        case tuple(), tuple():
            return tuple(sel(c, x, y) for x, y in zip(a, b, strict=True))
        case _:
            raise ExportError("mismatched values in a conditional")


def _leading(body: Sequence[I.Stmt]) -> tuple[I.Await | I.Assume, ...]:
    """The awaits and assumes a block begins with."""
    out: list[I.Await | I.Assume] = []
    for st in body:
        if not isinstance(st, I.Await | I.Assume):
            break
        out.append(st)
    return tuple(out)


def conj(xs: Sequence[str]) -> str:
    ys = [x for x in xs if x != "true"]
    if "false" in ys:
        return "false"
    return "true" if not ys else ys[0] if len(ys) == 1 else "(" + " && ".join(ys) + ")"


def disj(xs: Sequence[str]) -> str:
    ys = [x for x in xs if x != "false"]
    if "true" in ys:
        return "true"
    return "false" if not ys else ys[0] if len(ys) == 1 else "(" + " || ".join(ys) + ")"


def neg(x: str) -> str:
    # operands are atoms or parenthesised; `!!` would be Promela's sorted-send operator
    if x.startswith("!"):
        return x[1:]
    return "false" if x == "true" else "true" if x == "false" else f"!{x}"


def equal(a: Tree, b: Tree) -> str:
    match a, b:
        case str(), str():
            return "true" if a == b else f"({a} == {b})"
        case PList(), PList():
            parts = [f"({a.length} == {b.length})"]
            for k, (x, y) in enumerate(zip(a.items, b.items, strict=True)):
                parts.append(disj([f"({a.length} <= {k})", equal(x, y)]))
            return conj(parts)
        case tuple(), tuple():
            return conj([equal(x, y) for x, y in zip(a, b, strict=True)])
        case _:
            raise ExportError("mismatched values in a comparison")


def _c(text: str) -> str:
    """Text safe inside a Promela comment."""
    return text.replace("*/", "* /")


def _ident(name: str) -> str:
    out = "".join(c if c.isalnum() else "_" for c in name)
    return "v_" + out


class Checks:
    """Built-in checks met while compiling an expression, in evaluation order."""

    def __init__(self) -> None:
        self.items: list[tuple[int, str]] = []

    def add(self, site: int | None, bad: str) -> None:
        if site and bad != "false":
            self.items.append((site, bad))


class Compiler(ExprVisitor[Tree, Checks]):
    """Expressions to Promela expression trees, over an environment of temporaries."""

    def __init__(self, x: Exporter, frames: list[dict[str, Tree]]) -> None:
        self.x = x
        self.frames = frames

    def ex(self, e: I.Expr, ck: Checks) -> Tree:
        return self.visit(e, ck)

    def lit(self, e: I.Lit, ck: Checks) -> Tree:
        return self.x.lit(e.value, e.type)

    def state_var(self, e: I.VarRef, ck: Checks) -> Tree:
        return self.x.state[e.name]

    def field_ref(self, e: I.FieldRef, ck: Checks) -> Tree:
        base = self.ex(e.base, ck)
        rt = e.base.type
        assert isinstance(base, tuple) and isinstance(rt, I.RecordType)
        return base[[n for n, _ in rt.fields].index(e.name)]

    def index_ref(self, e: I.IndexRef, ck: Checks) -> Tree:
        base = self.ex(e.base, ck)
        idx = self.ex(e.index, ck)
        assert isinstance(idx, str)
        return self.read_index(e, base, idx, ck)

    def unary(self, e: I.Unary, ck: Checks) -> Tree:
        v = self.ex(e.operand, ck)
        assert isinstance(v, str)
        return neg(v) if e.op is I.UnaryOp.NOT else f"(-{v})"

    def ite(self, e: I.Ite, ck: Checks) -> Tree:
        c = self.ex(e.cond, ck)
        assert isinstance(c, str)
        a = self.ex_under(c, e.then, ck)
        b = self.ex_under(neg(c), e.orelse, ck)
        return sel(c, a, b)

    def coerce(self, e: I.Coerce, ck: Checks) -> Tree:
        v = self.ex(e.operand, ck)
        if e.site:
            assert isinstance(v, str)
            st, tt = e.operand.type, e.type
            if isinstance(tt, I.IntType):
                ck.add(e.site, f"({v} < {tt.lo} || {v} > {tt.hi})")
            elif isinstance(tt, I.EnumType) and isinstance(st, I.EnumType):
                ck.add(e.site, f"({v} == {len(tt.members)})")
        return v

    def list_fn(self, e: I.ListFn, ck: Checks) -> Tree:
        lst = self.ex(e.list, ck)
        assert isinstance(lst, PList)
        arg = self.ex(e.arg, ck) if e.arg is not None else None
        n = lst.length
        match e.fn:
            case I.ListQuery.LEN:
                return n
            case I.ListQuery.CONTAINS:
                assert arg is not None
                return disj([conj([f"({n} > {k})", equal(it, arg)])
                             for k, it in enumerate(lst.items)])
            case I.ListQuery.INDEX_OF:
                assert arg is not None
                out = "-1"
                for k in reversed(range(len(lst.items))):
                    hit = conj([f"({n} > {k})", equal(lst.items[k], arg)])
                    out = f"({hit} -> {k} : {out})"
                return out
            case I.ListQuery.LAST_INDEX_OF:
                assert arg is not None
                res = "-1"
                for k in range(len(lst.items)):
                    hit = conj([f"({n} > {k})", equal(lst.items[k], arg)])
                    res = f"({hit} -> {k} : {res})"
                return res

    def quant(self, e: I.Quant, ck: Checks) -> Tree:
        parts: list[str] = []
        fr = self.frames[-1]
        for lv in e.values:
            fr[e.var] = self.x.lit(lv.value, lv.type)
            b = self.ex(e.body, ck)
            assert isinstance(b, str)
            parts.append(b)
        fr.pop(e.var, None)
        return conj(parts) if e.kind is I.QuantKind.FORALL else disj(parts)

    def record_lit(self, e: I.RecordLit, ck: Checks) -> Tree:
        return tuple(self.ex(v, ck) for v in e.values)

    def list_lit(self, e: I.ListLit, ck: Checks) -> Tree:
        x = self.x
        assert e.type.elem is not None
        items = [self.ex(i, ck) for i in e.items]
        while len(items) < e.type.cap:
            items.append(x.default(e.type.elem))
        return PList(str(len(e.items)), tuple(items))

    def array_lit(self, e: I.ArrayLit, ck: Checks) -> Tree:
        return tuple(self.ex(x, ck) for x in e.items)

    def array_fill(self, e: I.ArrayFill, ck: Checks) -> Tree:
        v = self.ex(e.value, ck)
        return tuple(v for _ in I.index_values(e.type.index))

    def read_index(self, e: I.IndexRef, base: Tree, idx: str, ck: Checks) -> Tree:
        bt = e.base.type
        if isinstance(bt, I.ArrayType):
            assert isinstance(base, tuple)
            keys = I.index_values(bt.index)
            if isinstance(bt.index, I.EnumType):
                ck.add(e.site, f"({idx} == {len(bt.index.members)})")
            else:
                ck.add(e.site, f"({idx} < {keys[0]} || {idx} > {keys[-1]})")
            return pick(idx, keys, base)
        assert isinstance(base, PList)
        ck.add(e.site, f"({idx} < 0 || {idx} >= {base.length})")
        return pick(idx, tuple(range(len(base.items))), base.items)

    def ex_under(self, cond: str, e: I.Expr, ck: Checks) -> Tree:
        """`e` where `cond` holds: its checks count only there (C's `&&`, `||`, `?:`)."""
        inner = Checks()
        v = self.ex(e, inner)
        for site, bad in inner.items:
            ck.add(site, conj([cond, bad]))
        return v

    def binary(self, e: I.Binary, ck: Checks) -> Tree:
        a = self.ex(e.left, ck)
        if e.op in (I.BinaryOp.AND, I.BinaryOp.OR, I.BinaryOp.IMPLIES):
            assert isinstance(a, str)
            b = self.ex_under(neg(a) if e.op is I.BinaryOp.OR else a, e.right, ck)
        else:
            b = self.ex(e.right, ck)
        match e.op:
            case I.BinaryOp.EQ:
                return equal(a, b)
            case I.BinaryOp.NE:
                return neg(equal(a, b))
            case I.BinaryOp.AND | I.BinaryOp.OR | I.BinaryOp.IMPLIES:
                assert isinstance(a, str) and isinstance(b, str)
                if e.op is I.BinaryOp.AND:
                    return conj([a, b])
                return disj([a, b]) if e.op is I.BinaryOp.OR else disj([neg(a), b])
            case (I.BinaryOp.ADD | I.BinaryOp.SUB | I.BinaryOp.MUL | I.BinaryOp.DIV | I.BinaryOp.MOD
                  | I.BinaryOp.LT | I.BinaryOp.LE | I.BinaryOp.GT | I.BinaryOp.GE):
                # C's operators are the IR's: `/` and `%` truncate toward zero in both
                assert isinstance(a, str) and isinstance(b, str)
                return f"({a} {e.op.value} {b})"
            case _:
                assert_never(e.op)


def is_val(idx: str, k: int) -> str:
    if idx.lstrip("-").isdigit():
        return "true" if int(idx) == k else "false"
    return f"({idx} == {k})"


def pick(idx: str, keys: Sequence[int], items: Sequence[Tree]) -> Tree:
    if idx.lstrip("-").isdigit():
        v = int(idx)
        for k, it in zip(keys, items, strict=True):
            if k == v:
                return it
        return items[-1]
    out = items[-1]
    for k, it in zip(reversed(keys[:-1]), reversed(items[:-1]), strict=True):
        out = sel(is_val(idx, k), it, out)
    return out


@dataclass(frozen=True)
class StepGuard:
    awaits: str  # for deadlock: pc and awaits only
    fire: str  # awaits and assumes


class _GuardWalk:
    """The awaits and assumes of a step as conditions on the state before it."""

    def __init__(self, x: Exporter, step: I.Step) -> None:
        self.x = x
        self.step = step
        self.frames: list[dict[str, Tree]] = [{}]
        self.comp = Compiler(x, self.frames)
        self.open = True
        self.path: list[str] = []
        self.faults: list[str] = []
        self.awaits: list[str] = []
        self.assumes: list[str] = []
        self.nest = 0
        self.early: list[bool] = []  # per await/assume/range choice, in traversal order
        self.late_await = False
        # `either`s met before any write whose branches begin with awaits: their branches are
        # guarded by those awaits, and the step's guard is the disjunction
        self.guarded: set[int] = set()

    def fail(self, what: str) -> ExportError:
        sp = self.step.span
        return ExportError(f"{sp}: step {self.step.label}: {what} after a write or a choice in "
                           "the same step: its deadlock check cannot be exported to Promela")

    def cond(self, e: I.Expr) -> tuple[str, list[str]]:
        ck = Checks()
        c = self.comp.ex(e, ck)
        assert isinstance(c, str)
        return c, [b for _, b in ck.items]

    def expr_faults(self, e: I.Expr) -> None:
        ck = Checks()
        self.comp.ex(e, ck)
        if self.open:
            self.faults.extend(b for _, b in ck.items)

    def item(self, c: str, own: list[str]) -> str:
        return disj([*self.faults, *own, *(neg(p) for p in self.path), c])

    def run(self, stmts: Sequence[I.Stmt]) -> None:
        for s in stmts:
            self.stmt(s)

    def stmt(self, s: I.Stmt) -> None:
        match s:
            case I.Await() | I.Assume():
                self.early.append(self.open)
                if not self.open:
                    self.late_await |= isinstance(s, I.Await)
                    return
                c, own = self.cond(s.cond)
                (self.awaits if isinstance(s, I.Await) else self.assumes).append(self.item(c, own))
                self.faults.extend(own)
            case I.Choose():
                if isinstance(s.domain, I.RangeDomain):
                    self.early.append(self.open)
                    if not self.open:
                        self.late_await = True
                        self.open = False
                        return
                    lo, own1 = self.cond(s.domain.lo)
                    hi, own2 = self.cond(s.domain.hi)
                    self.awaits.append(self.item(f"({lo} <= {hi})", own1 + own2))
                self.open = False
            case I.Either():
                if self.open and len(s.branches) > 1 and any(_leading(b) for b in s.branches):
                    alts_aw: list[str] = []
                    alts_fire: list[str] = []
                    for b in s.branches:
                        aw: list[str] = []
                        fire: list[str] = []
                        for st in _leading(b):
                            self.early.append(True)
                            c, own = self.cond(st.cond)
                            item = disj([*own, c])
                            fire.append(item)
                            if isinstance(st, I.Await):
                                aw.append(item)
                        alts_aw.append(conj(aw))
                        alts_fire.append(conj(fire))
                    self.awaits.append(self.item(disj(alts_aw), []))
                    self.assumes.append(self.item(disj(alts_fire), []))
                    self.guarded.add(id(s))
                    self.open = False
                    for b in s.branches:
                        self.run(b[len(_leading(b)):])
                    return
                self.open = False
                for b in s.branches:
                    self.run(b)
            case I.LocalDecl():
                if s.init is None:
                    self.open = False
                    self.frames[-1][s.name] = self.x.default(s.type)
                else:
                    ck = Checks()
                    v = self.comp.ex(s.init, ck)
                    if self.open:
                        self.faults.extend(b for _, b in ck.items)
                    self.frames[-1][s.name] = v
                    if self.nest:
                        self.open = False
            case I.Assign():
                self.expr_faults(s.value)
                if not (isinstance(s.target, I.VarRef) and s.target.scope is I.Scope.TEMP
                        and self.nest == 0):
                    self.open = False
                else:
                    ck = Checks()
                    self.frames_set(s.target.name, self.comp.ex(s.value, ck))
            case I.If():
                c, own = self.cond(s.cond)
                if self.open:
                    self.faults.extend(own)
                self.nest += 1
                for pc, body in ((c, s.then), (neg(c), s.orelse)):
                    self.path.append(pc)
                    self.run(body)
                    self.path.pop()
                self.nest -= 1
            case I.For():
                # the export runs the loop as a Promela `do` (its body appears once), so the
                # prefix of the step that the guard can see ends here
                self.open = False
                if s.values:
                    self.frames[-1][s.var] = self.x.lit(s.values[0].value, s.values[0].type)
                    self.run(s.body)
            case I.Call():
                proc = self.x.model.proc(s.proc)
                ck = Checks()
                args = [self.comp.ex(a, ck) for a in s.args]
                if self.open:
                    self.faults.extend(b for _, b in ck.items)
                self.frames.append({n: v for (n, _), v in zip(proc.params, args, strict=True)})
                self.run(proc.body)
                self.frames.pop()
                if s.target is not None:
                    self.open = False
            case I.Return():
                self.open = False
            case I.Assert():
                self.expr_faults(s.cond)
            case I.Trace():
                for a in s.args:
                    self.expr_faults(a)
            case I.ListOp() | I.Goto():
                self.open = False

    def frames_set(self, name: str, v: Tree) -> None:
        for fr in reversed(self.frames):
            if name in fr:
                fr[name] = v
                return
        raise ExportError(f"unbound temporary {name}")


class _Body:
    """The Promela code of one step (the awaits are in its guard)."""

    def __init__(self, x: Exporter, actor: int, out_label: str, block_label: str,
                 early: list[bool], guarded: set[int], dry: bool = False) -> None:
        self.x = x
        self.guarded = guarded
        self.dry = dry  # a dry run for the deadlock monitor: no asserts, no halting
        self.actor = actor
        self.out = out_label
        self.blocked = block_label
        self.early = early
        self.nblock = 0
        self.snapshot: list[tuple[str, str]] = []  # (state leaf, hidden copy)
        self.frames: list[dict[str, Tree]] = [{}]
        self.comp = Compiler(x, self.frames)
        self.lines: list[str] = []
        self.ind = 3
        self.ret: list[tuple[str, str | None]] = []  # (label, result tree name)

    def emit(self, line: str) -> None:
        self.lines.append("  " * self.ind + line)

    def ex(self, e: I.Expr) -> Tree:
        ck = Checks()
        v = self.comp.ex(e, ck)
        for site, bad in ck.items:
            self.fault_check(site, bad)
        return v

    def fault_check(self, site_id: int, bad: str) -> None:
        site = self.x.sites[site_id]
        if self.dry:
            self.emit(f"if :: {bad} -> goto {self.out} :: else -> skip fi;")
            return
        k = self.x.prop_index.get(site.prop)
        if k is not None:
            self.emit(f"assert(which != {k} || !{bad});  "
                      f"/* site {site_id}: {_c(site.message)} */")
        self.emit(f"if :: {bad} -> halted = {'true' if site.fatal else 'halted'}; "
                  f"goto {self.out} :: else -> skip fi;")

    def temp(self, t: I.Type, name: str) -> Tree:
        return self.x.temp_tree(t, name)

    def assign(self, target: Tree, value: Tree) -> None:
        tl, vl = leaves(target), leaves(value)
        if len(tl) == 1:
            if tl[0] != vl[0]:
                self.emit(f"{tl[0]} = {vl[0]};")
            return
        # several leaves: through scratch temporaries, as the new values read the old ones
        pairs = [(t, v) for t, v in zip(tl, vl, strict=True) if t != v]
        scratch = [self.x.scratch(i) for i in range(len(pairs))]
        for s, (_, v) in zip(scratch, pairs, strict=True):
            self.emit(f"{s} = {v};")
        for s, (t, _) in zip(scratch, pairs, strict=True):
            self.emit(f"{t} = {s};")

    def write(self, lv: I.Expr, value: Tree) -> None:
        match lv:
            case I.VarRef():
                tree = self.x.state[lv.name] if lv.scope is I.Scope.STATE else \
                    self.comp.temp(lv.name)
                self.assign(tree, value)
            case I.FieldRef():
                base = self.ex(lv.base)
                rt = lv.base.type
                assert isinstance(base, tuple) and isinstance(rt, I.RecordType)
                pos = [n for n, _ in rt.fields].index(lv.name)
                self.write(lv.base, (*base[:pos], value, *base[pos + 1:]))
            case I.IndexRef():
                base = self.ex(lv.base)
                idx = self.ex(lv.index)
                assert isinstance(idx, str)
                ck = Checks()
                self.comp.read_index(lv, base, idx, ck)
                for site, bad in ck.items:
                    self.fault_check(site, bad)
                if isinstance(base, tuple):
                    bt = lv.base.type
                    assert isinstance(bt, I.ArrayType)
                    keys = I.index_values(bt.index)
                    self.write(lv.base, tuple(sel(is_val(idx, k), value, old)
                                              for k, old in zip(keys, base, strict=True)))
                else:
                    assert isinstance(base, PList)
                    self.write(lv.base, PList(base.length, tuple(
                        sel(is_val(idx, k), value, old) for k, old in enumerate(base.items))))
            case _:
                raise ExportError("bad assignment target")

    def run(self, stmts: Sequence[I.Stmt]) -> None:
        for s in stmts:
            self.stmt(s)

    def block(self, stmts: Sequence[I.Stmt]) -> None:
        self.ind += 1
        n = len(self.lines)
        self.run(stmts)
        if len(self.lines) == n:
            self.emit("skip;")
        self.ind -= 1

    def stmt(self, s: I.Stmt) -> None:
        x = self.x
        match s:
            case I.Assign():
                self.write(s.target, self.ex(s.value))
            case I.If():
                c = self.ex(s.cond)
                assert isinstance(c, str)
                self.emit(f"if :: {c} ->")
                self.block(s.then)
                self.emit("   :: else ->")
                self.block(s.orelse)
                self.emit("fi;")
            case I.Either():
                if len(s.branches) == 1:
                    self.run(s.branches[0])
                    return
                self.emit("if")
                for b in s.branches:
                    if id(s) in self.guarded:
                        # the branch's leading awaits are its guard (see _GuardWalk)
                        lead = _leading(b)
                        conds: list[str] = []
                        for st in lead:
                            self.is_early()
                            c = self.ex(st.cond)
                            assert isinstance(c, str)
                            conds.append(c)
                        self.emit(f":: {conj(conds)} ->")
                        self.block(b[len(lead):])
                    else:
                        self.emit(":: true ->")
                        self.block(b)
                self.emit("fi;")
            case I.For():
                self.for_loop(s)
            case I.Await() | I.Assume():
                c = self.ex(s.cond)  # its checks
                assert isinstance(c, str)
                if not self.is_early():
                    self.block_unless(c)
            case I.Assert():
                c = self.ex(s.cond)
                assert isinstance(c, str)
                k = x.prop_index.get(x.sites[s.site].prop)
                if k is not None and not self.dry:
                    # recorded, asserted when the step completes: a later assume may still
                    # discard the step (and with it the failure)
                    self.emit(f"if :: (which == {k} && {neg(c)}) -> failed = true "
                              f":: else -> skip fi;  "
                              f"/* site {s.site}: {_c(x.sites[s.site].message)} */")
            case I.Choose():
                t = self.temp(s.type, "choice")
                assert isinstance(t, str)
                match s.domain:
                    case I.StaticDomain():
                        self.emit("if")
                        for v in s.domain.values:
                            self.emit(f":: {t} = {x.lit(v.value, v.type)}")
                        self.emit("fi;")
                    case I.RangeDomain():
                        lo, hi = self.ex(s.domain.lo), self.ex(s.domain.hi)
                        if not self.is_early():
                            self.block_unless(f"({lo} <= {hi})")
                        self.emit(f"{t} = {lo};")
                        self.emit(f"do :: {t} < {hi} -> {t}++ :: break od;")
                self.write(s.target, t)
            case I.Call():
                self.call(s)
            case I.Return():
                if not self.ret:
                    self.emit(f"goto {self.out};")
                    return
                label, res = self.ret[-1]
                if s.value is not None and res is not None:
                    rv = self.ex(s.value)
                    self.assign(self.x.temp_trees[res], rv)
                self.emit(f"goto {label};")
            case I.LocalDecl():
                t = self.temp(s.type, s.name)
                if s.init is None:
                    vals = x.scalar_values(s.type)
                    assert isinstance(t, str)
                    self.emit("if")
                    for opt in vals:
                        self.emit(f":: {t} = {opt}")
                    self.emit("fi;")
                else:
                    iv = self.ex(s.init)
                    self.assign(t, iv)
                self.frames[-1][s.name] = t
            case I.ListOp():
                self.list_op(s)
            case I.Goto():
                self.emit(f"{x.pc(self.actor)} = {x.pc_val(self.actor, s.label)};")
            case I.Trace():
                for a in s.args:
                    self.ex(a)

    def for_loop(self, s: I.For) -> None:
        """A Promela loop rather than an unrolled one: nested loops over procedures that loop
        would otherwise multiply the size of the model."""
        x = self.x
        vals = [x.lit(v.value, v.type) for v in s.values]
        if not vals:
            return
        k = x.temp_tree(I.IntType(0, 0), s.var)
        assert isinstance(k, str)
        ints = [int(v) for v in vals] if all(v.lstrip("-").isdigit() for v in vals) else []
        if ints and ints == list(range(ints[0], ints[0] + len(ints))):
            lo, hi, var = ints[0], ints[-1], k
        else:
            lo, hi = 0, len(vals) - 1
            var = pick(k, tuple(range(len(vals))), vals)  # type: ignore[assignment]
        self.frames[-1][s.var] = var
        self.emit(f"{k} = {lo};")
        self.emit("do")
        self.emit(f":: {k} <= {hi} ->")
        self.block(s.body)
        self.emit(f"   {k}++")
        self.emit(":: else -> break")
        self.emit("od;")
        self.frames[-1][s.var] = vals[-1]  # the encoding leaves the last value bound

    def is_early(self) -> bool:
        k = self.nblock
        self.nblock += 1
        return self.early[k]

    def block_unless(self, c: str) -> None:
        """A late await/assume: undo the step's writes and leave (a stutter, no new state)."""
        if self.dry:
            self.emit(f"if :: {neg(c)} -> goto {self.blocked} :: else -> skip fi;")
            return
        if not self.snapshot:
            for leaf in (lf for v in self.x.model.vars for lf in leaves(self.x.state[v.name])):
                self.snapshot.append((leaf, self.x.scratch_named("snap_" + leaf)))
        restore = "; ".join(f"{leaf} = {copy}" for leaf, copy in self.snapshot)
        self.emit(f"if :: {neg(c)} -> {restore}; goto {self.blocked} :: else -> skip fi;")

    def call(self, s: I.Call) -> None:
        x = self.x
        proc = x.model.proc(s.proc)
        args = [self.ex(a) for a in s.args]
        frame: dict[str, Tree] = {}
        for (n, t), a in zip(proc.params, args, strict=True):
            tmp = self.temp(t, n)
            self.assign(tmp, a)
            frame[n] = tmp
        label = x.fresh_label("ret")
        res_name: str | None = None
        if proc.result is not None:
            res = self.temp(proc.result, "result")
            res_name = leaves(res)[0]
            x.temp_trees[res_name] = res
            self.assign(res, x.default(proc.result))
        self.frames.append(frame)
        self.ret.append((label, res_name))
        self.run(proc.body)
        self.ret.pop()
        self.frames.pop()
        self.emit(f"{label}: skip;")
        if s.target is not None:
            value = x.temp_trees[res_name] if res_name is not None else \
                x.default(proc.result or I.BOOL)
            self.write(s.target, value)

    def list_op(self, s: I.ListOp) -> None:
        lst = self.ex(s.target)
        lt = s.target.type
        assert isinstance(lst, PList) and isinstance(lt, I.ListType) and lt.elem is not None
        n, cap = lst.length, lt.cap
        d = self.x.default(lt.elem)
        match s.op:
            case I.ListMut.APPEND:
                assert s.arg is not None
                v = self.ex(s.arg)
                self.fault_check_opt(s.site, f"({n} == {cap})")
                self.write(s.target, PList(f"({n} + 1)", tuple(
                    sel(f"({n} == {k})", v, old) for k, old in enumerate(lst.items))))
            case I.ListMut.REMOVE_AT:
                assert s.arg is not None
                i = self.ex(s.arg)
                self.fault_check_opt(s.site, f"({i} < 0 || {i} >= {n})")
                self.write(s.target, PList(f"({n} - 1)", tuple(
                    sel(f"({k} >= {i})", lst.items[k + 1] if k + 1 < cap else d, lst.items[k])
                    for k in range(cap))))
            case I.ListMut.POP:
                self.fault_check_opt(s.site, f"({n} == 0)")
                self.write(s.target, PList(f"({n} - 1)", tuple(
                    sel(f"({n} == {k + 1})", d, old) for k, old in enumerate(lst.items))))
            case I.ListMut.CLEAR:
                self.write(s.target, PList("0", tuple(d for _ in range(cap))))
            case I.ListMut.TRUNCATE:
                assert s.arg is not None
                t = self.ex(s.arg)
                assert isinstance(t, str)
                self.fault_check_opt(s.site, f"({t} < 0 || {t} > {n})")
                self.write(s.target, PList(t, tuple(
                    sel(f"({k} >= {t})", d, old) for k, old in enumerate(lst.items))))
            case I.ListMut.REMOVE_RANGE:
                assert s.arg is not None and s.arg2 is not None
                a, b = self.ex(s.arg), self.ex(s.arg2)
                assert isinstance(a, str) and isinstance(b, str)
                self.fault_check_opt(s.site, f"({a} < 0 || {a} > {b} || {b} > {n})")
                # item k of the result is item k + (b - a) of the old list past position a
                w = f"({b} - {a})"
                padded = (*lst.items, *(d for _ in range(cap + 1)))
                self.write(s.target, PList(f"({n} - {w})", tuple(
                    sel(f"({k} < {a})", lst.items[k],
                        pick(w, tuple(range(cap + 1)),
                             tuple(padded[k + j] for j in range(cap + 1))))
                    for k in range(cap))))
            case _:
                assert_never(s.op)

    def fault_check_opt(self, site: int | None, bad: str) -> None:
        if site:
            self.fault_check(site, bad)


class Exporter:
    def __init__(self, model: I.Model, props: Sequence[I.Property]) -> None:
        self.model = model
        self.props = list(props)
        self.prop_index = {p.name: k for k, p in enumerate(self.props)}
        self.unsupported: dict[str, str] = {}
        self.which: int | None = None  # None: chosen at run time from $DRVMC_PROPERTY
        self.sites = {s.id: s for s in model.sites}
        self.labels = [[s.label for s in a.steps] for a in model.actors]
        self.state: dict[str, Tree] = {v.name: self.tree(v.type, _ident(v.name))
                                       for v in model.vars}
        self.hidden: list[str] = []
        self.temp_trees: dict[str, Tree] = {}
        self._n = itertools.count(1)
        self._scratch: list[str] = []
        self._named: list[str] = []

    # ---- values ----
    def lit(self, value: bool | int | None, t: I.Type) -> str:
        match t:
            case I.BoolType():
                return "true" if value else "false"
            case I.EnumType() if value is None:
                return str(len(t.members))
            case I.NullType():
                return "0"
            case _:
                assert isinstance(value, int)
                return str(value)

    def default(self, t: I.Type) -> Tree:
        match t:
            case I.BoolType():
                return "false"
            case I.IntType():
                return str(t.default)
            case I.EnumType():
                return str(len(t.members)) if t.nullable else "0"
            case I.NullType():
                return "0"
            case I.RecordType():
                return tuple(self.default(ft) for _, ft in t.fields)
            case I.ArrayType():
                d = self.default(t.elem)
                return tuple(d for _ in I.index_values(t.index))
            case I.ListType():
                assert t.elem is not None
                d = self.default(t.elem)
                return PList("0", tuple(d for _ in range(t.cap)))

    def scalar_values(self, t: I.Type) -> list[str]:
        match t:
            case I.BoolType():
                return ["false", "true"]
            case I.IntType():
                return [str(v) for v in range(t.lo, t.hi + 1)]
            case I.EnumType():
                return [str(v) for v in range(len(t.members) + (1 if t.nullable else 0))]
            case _:
                raise ExportError(f"cannot enumerate the values of {t}")

    def tree(self, t: I.Type, name: str) -> Tree:
        match t:
            case I.BoolType() | I.IntType() | I.EnumType() | I.NullType():
                return name
            case I.RecordType():
                return tuple(self.tree(ft, f"{name}_{_ident(n)[2:]}") for n, ft in t.fields)
            case I.ArrayType():
                return tuple(self.tree(t.elem, f"{name}_{i}")
                             for i, _ in enumerate(I.index_values(t.index)))
            case I.ListType():
                assert t.elem is not None
                return PList(f"{name}_len", tuple(self.tree(t.elem, f"{name}_{k}")
                                                  for k in range(t.cap)))

    def temp_tree(self, t: I.Type, name: str) -> Tree:
        tr = self.tree(t, f"t{next(self._n)}_{_ident(name)[2:]}")
        self.hidden.extend(leaves(tr))
        return tr

    def scratch_named(self, name: str) -> str:
        if name not in self._named:
            self._named.append(name)
        return name

    def scratch(self, i: int) -> str:
        while len(self._scratch) <= i:
            self._scratch.append(f"scratch{len(self._scratch)}")
        return self._scratch[i]

    def fresh_label(self, what: str) -> str:
        return f"{what}_{next(self._n)}"

    # ---- names ----
    def pc(self, actor: int) -> str:
        return f"pc_{actor}"

    def pc_val(self, actor: int, label: str | None) -> int:
        labels = self.labels[actor]
        return len(labels) if label is None else labels.index(label)

    def all_done(self) -> str:
        """Every actor ended, or (a pool instance) stands dormant at its first step."""
        parts = []
        for i, ls in enumerate(self.labels):
            ended = f"({self.pc(i)} == {len(ls)})"
            a = self.model.actors[i]
            if a.dormant is not None:
                ended = disj([ended, conj([f"({self.pc(i)} == 0)", self.prop_expr(a.dormant)])])
            parts.append(ended)
        return conj(parts)

    def prop_expr(self, e: I.Expr) -> str:
        c = Compiler(self, [{}]).ex(e, Checks())  # property checks are not run-time checks
        assert isinstance(c, str)
        return c

    # ---- the model ----
    def export(self) -> str:
        m = self.model
        out: list[str] = [f"/* drvmc export of spec {m.spec}, variant {m.variant}. SPIN checks the",
                          "   property numbered `which`:"]
        out.extend(f"     {k}: {p.name} ({p.kind.value})" for k, p in enumerate(self.props))
        out.extend(["   Run: spin -a model.pml && gcc -DSAFETY -o pan pan.c && ./pan -E",
                    "   (pan finds an assertion violation: the property is violated, or a",
                    "   `reachable` target is reached) */", ""])
        decls: list[str] = ["byte which;"]
        for v in m.vars:
            for leaf, t in _leaf_types(self.state[v.name], v.type):
                decls.append(f"{_ptype(t)} {leaf};")
        for i, _ in enumerate(m.actors):
            decls.append(f"int {self.pc(i)};")
        decls.append("bool halted;")
        guards: list[StepGuard] = []
        procs: list[str] = []
        late: list[tuple[int, I.Step, StepGuard, list[bool], set[int]]] = []
        for ai, actor in enumerate(m.actors):
            lines = [f"proctype {_ident(actor.name)}() {{", "  do"]
            for step in actor.steps:
                gw = _GuardWalk(self, step)
                gw.run(step.body)
                at = f"({self.pc(ai)} == {self.pc_val(ai, step.label)})"
                g = StepGuard(conj([at, *gw.awaits]), conj([at, *gw.awaits, *gw.assumes]))
                guards.append(g)
                if gw.late_await:
                    late.append((ai, step, g, gw.early, gw.guarded))
                outl, blk = self.fresh_label("out"), self.fresh_label("blocked")
                body = _Body(self, ai, outl, blk, gw.early, gw.guarded)
                body.run(step.body)
                # a deterministic step is one d_step: one transition and compact C in pan.c
                kw = "atomic" if _nondet(step.body, m, set()) or \
                    len(body.lines) > MAX_D_STEP_LINES else "d_step"
                lines.append(f"  :: {kw} {{ (!halted && {g.fire}) ->  "
                             f"/* {actor.name}.{step.label} */")
                lines.append("      failed = false;")
                lines.extend("  " * 3 + f"{copy} = {leaf};" for leaf, copy in body.snapshot)
                lines.extend(body.lines)
                lines.append(f"      {outl}: skip;")
                lines.append("      assert(!failed);")
                lines.append(f"      {blk}: skip")
                lines.append("     }")
            lines.append("  od")
            lines.append("}")
            procs.append("\n".join(lines))
        dead = [k for k, p in enumerate(self.props) if p.kind is I.PropKind.DEADLOCK]
        dry_monitor = self.deadlock_monitor(dead[0], guards, late) if dead and late else None
        out.extend(decls)
        out.extend(f"hidden int {h};" for h in (*self.hidden, *self._scratch, *self._named))
        out.append("hidden int failed;")
        out.append("hidden int en;")
        out.append("")
        out.extend(procs)
        out.append("")
        if dry_monitor is not None:
            out.append(dry_monitor)
            out.append("")
        bad = self.monitor_bad(guards, skip_deadlock=dry_monitor is not None)
        if bad is not None:
            out.append("proctype monitor() {")
            out.append(f"  atomic {{ {bad} -> assert(false) }}")
            out.append("}")
            out.append("")
        out.append("init {")
        out.append("  atomic {")
        if self.which is None:
            out.append('    c_code { char *s = getenv("DRVMC_PROPERTY"); '
                       'now.which = s ? atoi(s) : 0; };')
        else:
            out.append(f"    which = {self.which};")
        for line in self.init_lines():
            out.append("    " + line)
        for i, a in enumerate(m.actors):
            out.append(f"    {self.pc(i)} = {self.pc_val(i, a.steps[0].label)};")
        for a in m.actors:
            out.append(f"    run {_ident(a.name)}();")
        if bad is not None:
            out.append("    run monitor();")
        if dry_monitor is not None:
            out.append("    run deadlock_monitor();")
        out.append("  }")
        out.append("}")
        return "\n".join(out) + "\n"

    def deadlock_monitor(self, k: int, guards: list[StepGuard],
                         late: list[tuple[int, I.Step, StepGuard, list[bool], set[int]]]) -> str:
        """Deadlock when some step's await follows a write: whether such a step is enabled is
        found by a dry run of it (then every write is undone); the monitor's transition is a
        stutter unless it finds no step enabled."""
        late_ids = {id(g) for _, _, g, _, _ in late}
        early = disj([g.awaits for g in guards if id(g) not in late_ids])
        leaves_all = [lf for v in self.model.vars for lf in leaves(self.state[v.name])]
        leaves_all += [self.pc(i) for i in range(len(self.model.actors))]
        snap = [(lf, self.scratch_named("dry_" + lf)) for lf in leaves_all]
        restore = " ".join(f"{lf} = {c};" for lf, c in snap)
        lines = ["proctype deadlock_monitor() {", "  do",
                 f"  :: atomic {{ (which == {k} && !halted && {neg(self.all_done())}) ->",
                 f"      en = {early};"]
        lines.extend(f"      {c} = {lf};" for lf, c in snap)
        for ai, step, g, early_flags, guarded in late:
            outl, blk = self.fresh_label("dry_out"), self.fresh_label("dry_blocked")
            body = _Body(self, ai, outl, blk, early_flags, guarded, dry=True)
            body.ind = 4
            body.run(step.body)
            lines.append(f"      if :: (!en && {g.awaits}) ->  /* dry run of "
                         f"{self.model.actors[ai].name}.{step.label} */")
            lines.extend(body.lines)
            lines.append(f"        {outl}: en = true;")
            lines.append(f"        {blk}: {restore}")
            lines.append("      :: else -> skip")
            lines.append("      fi;")
        lines.append("      assert(en)")
        lines.append("     }")
        lines.append("  od")
        lines.append("}")
        return "\n".join(lines)

    def monitor_bad(self, guards: list[StepGuard], skip_deadlock: bool = False) -> str | None:
        bads = []
        for k, p in enumerate(self.props):
            if p.name in self.unsupported or (skip_deadlock and p.kind is I.PropKind.DEADLOCK):
                continue
            b = self.bad(p, guards)
            if b is not None:
                bads.append(f"(which == {k} && {b})")
        return disj(bads) if bads else None

    def bad(self, p: I.Property, guards: list[StepGuard]) -> str | None:
        match p.kind:
            case I.PropKind.ASSERT:
                return None
            case I.PropKind.INVARIANT:
                assert p.expr is not None
                return f"(!halted && {neg(self.prop_expr(p.expr))})"
            case I.PropKind.FINAL:
                assert p.expr is not None
                return f"(!halted && {self.all_done()} && {neg(self.prop_expr(p.expr))})"
            case I.PropKind.REACHABLE:
                assert p.expr is not None
                return f"(!halted && {self.prop_expr(p.expr)})"
            case I.PropKind.DEADLOCK:
                return (f"(!halted && {neg(self.all_done())} && "
                        f"{neg(disj([g.awaits for g in guards]))})")

    def init_lines(self) -> list[str]:
        lines: list[str] = []
        comp = Compiler(self, [{}])
        for v in self.model.vars:
            tr = self.state[v.name]
            if v.init is None:
                vals = self.scalar_values(v.type)
                assert isinstance(tr, str)
                lines.append("if " + " ".join(f":: {tr} = {x}" for x in vals) + " fi;")
            else:
                val = comp.ex(v.init, Checks())
                for t, x in zip(leaves(tr), leaves(val), strict=True):
                    lines.append(f"{t} = {x};")
        return lines


def _nondet(stmts: Sequence[I.Stmt], model: I.Model, seen: set[str]) -> bool:
    """Whether the code makes a choice (either, choose, a local without initialiser)."""
    for s in stmts:
        match s:
            case I.Either():
                if len(s.branches) > 1 or _nondet(s.branches[0], model, seen):
                    return True
            case I.Choose():
                return True
            case I.LocalDecl() if s.init is None:
                return True
            case I.If():
                if _nondet(s.then, model, seen) or _nondet(s.orelse, model, seen):
                    return True
            case I.For():
                if _nondet(s.body, model, seen):
                    return True
            case I.Call() if s.proc not in seen:
                seen.add(s.proc)
                if _nondet(model.proc(s.proc).body, model, seen):
                    return True
    return False


def _leaf_types(tr: Tree, t: I.Type) -> list[tuple[str, I.Type]]:
    match t:
        case I.RecordType():
            assert isinstance(tr, tuple)
            return [p for x, (_, ft) in zip(tr, t.fields, strict=True) for p in _leaf_types(x, ft)]
        case I.ArrayType():
            assert isinstance(tr, tuple)
            return [p for x in tr for p in _leaf_types(x, t.elem)]
        case I.ListType():
            assert isinstance(tr, PList) and t.elem is not None
            elem = t.elem
            return [(tr.length, I.IntType(0, t.cap)),
                    *(p for x in tr.items for p in _leaf_types(x, elem))]
        case _:
            assert isinstance(tr, str)
            return [(tr, t)]


def _ptype(t: I.Type) -> str:
    match t:
        case I.BoolType():
            return "bool"
        case I.IntType() if t.lo >= 0 and t.hi <= 255:
            return "byte"
        case I.EnumType() if len(t.members) < 255:
            return "byte"
        case _:
            return "int"


@dataclass(frozen=True)
class PromelaExport:
    text: str
    props: tuple[str, ...]  # property number k is checked when `which` == k
    unsupported: dict[str, str]  # properties SPIN cannot check in this export, and why


def export_promela(model: I.Model, props: Sequence[I.Property] | None = None,
                   only: str | None = None) -> PromelaExport:
    """The Promela model of `model`. SPIN checks one property per run: `only` fixes it, otherwise
    pan reads its number from the environment variable DRVMC_PROPERTY."""
    ps = list(model.properties if props is None else props)
    x = Exporter(model, ps)
    if only is not None:
        if only not in x.prop_index:
            raise ExportError(f"no property '{only}'")
        x.which = x.prop_index[only]
    text = x.export()
    return PromelaExport(text, tuple(p.name for p in ps), dict(x.unsupported))


@dataclass(frozen=True)
class SpinResult:
    violated: bool  # pan found an assertion violation (for `reachable`: the target is reached)
    output: str


def _run(cmd: list[str], cwd: Path, timeout_s: float, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout_s,
                              check=False, env=env)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise EngineError(f"{cmd[0]}: {e}") from None


def compile_spin(text: str, workdir: Path, timeout_s: float = 600.0) -> Path:
    """spin -a and gcc in `workdir`; the pan binary. Raises EngineError when a tool fails."""
    (workdir / "model.pml").write_text(text, encoding="utf-8")
    for cmd in (["spin", "-a", "model.pml"],
                ["gcc", "-O0", "-w", "-DSAFETY", "-DVECTORSZ=65536", "-o", "pan", "pan.c"]):
        p = _run(cmd, workdir, timeout_s)
        if p.returncode != 0:
            raise EngineError(f"{' '.join(cmd)} failed:\n{p.stdout}{p.stderr}")
    return workdir / "pan"


def run_pan(pan: Path, which: int, timeout_s: float = 600.0) -> SpinResult:
    env = dict(os.environ, DRVMC_PROPERTY=str(which))
    p = _run([str(pan), "-E", "-n", "-m1000000", "-w20"], pan.parent, timeout_s, env)
    out = p.stdout + p.stderr
    m = re.search(r"errors: (\d+)", out)
    if m is None:
        raise EngineError(f"pan gave no verdict:\n{out}")
    if "depth too small" in out:
        raise EngineError(f"pan: search depth too small:\n{out}")
    return SpinResult(int(m.group(1)) > 0, out)


__all__ = ["ExportError", "PromelaExport", "SpinResult", "compile_spin", "export_promela",
           "run_pan"]
