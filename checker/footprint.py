"""Which state variables a step may read and write, from the IR (procedure calls included).

Used by partial-order reduction: two steps of different actors commute when neither writes a
variable the other reads or writes. Variable granularity is coarser than the encoding's leaves,
so it only ever finds fewer commuting pairs, never wrong ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from checker import ir as I


@dataclass(frozen=True)
class Footprint:
    reads: frozenset[str]
    writes: frozenset[str]


def _expr_vars(e: I.Expr) -> Iterator[str]:
    match e:
        case I.VarRef():
            if e.scope is I.Scope.STATE:
                yield e.name
        case I.Lit():
            pass
        case I.FieldRef():
            yield from _expr_vars(e.base)
        case I.IndexRef():
            yield from _expr_vars(e.base)
            yield from _expr_vars(e.index)
        case I.Unary() | I.Coerce():
            yield from _expr_vars(e.operand)
        case I.Binary():
            yield from _expr_vars(e.left)
            yield from _expr_vars(e.right)
        case I.Ite():
            yield from _expr_vars(e.cond)
            yield from _expr_vars(e.then)
            yield from _expr_vars(e.orelse)
        case I.ListFn():
            yield from _expr_vars(e.list)
            if e.arg is not None:
                yield from _expr_vars(e.arg)
        case I.Quant():
            yield from _expr_vars(e.body)
        case I.RecordLit():
            for x in e.values:
                yield from _expr_vars(x)
        case I.ListLit():
            for x in e.items:
                yield from _expr_vars(x)
        case I.ArrayFill():
            yield from _expr_vars(e.value)


def _root(e: I.Expr) -> str | None:
    while isinstance(e, I.FieldRef | I.IndexRef):
        e = e.base
    return e.name if isinstance(e, I.VarRef) and e.scope is I.Scope.STATE else None


class _Walker:
    def __init__(self, model: I.Model) -> None:
        self.model = model
        self.procs: dict[str, Footprint] = {}

    def proc(self, name: str) -> Footprint:
        if name not in self.procs:
            self.procs[name] = Footprint(frozenset(), frozenset())  # no recursion in the IR
            r: set[str] = set()
            w: set[str] = set()
            self.stmts(self.model.proc(name).body, r, w)
            self.procs[name] = Footprint(frozenset(r), frozenset(w))
        return self.procs[name]

    def lvalue(self, e: I.Expr, r: set[str], w: set[str]) -> None:
        root = _root(e)
        if root is not None:
            w.add(root)
        # indices inside a target are read; so is the target when only part of it changes
        r.update(_expr_vars(e))

    def stmts(self, body: tuple[I.Stmt, ...], r: set[str], w: set[str]) -> None:
        for s in body:
            match s:
                case I.Assign():
                    self.lvalue(s.target, r, w)
                    r.update(_expr_vars(s.value))
                case I.If():
                    r.update(_expr_vars(s.cond))
                    self.stmts(s.then, r, w)
                    self.stmts(s.orelse, r, w)
                case I.For():
                    self.stmts(s.body, r, w)
                case I.Await() | I.Assume() | I.Assert():
                    r.update(_expr_vars(s.cond))
                case I.Either():
                    for b in s.branches:
                        self.stmts(b, r, w)
                case I.Choose():
                    self.lvalue(s.target, r, w)
                    if isinstance(s.domain, I.RangeDomain):
                        r.update(_expr_vars(s.domain.lo))
                        r.update(_expr_vars(s.domain.hi))
                case I.Call():
                    for a in s.args:
                        r.update(_expr_vars(a))
                    fp = self.proc(s.proc)
                    r.update(fp.reads)
                    w.update(fp.writes)
                    if s.target is not None:
                        self.lvalue(s.target, r, w)
                case I.Return():
                    if s.value is not None:
                        r.update(_expr_vars(s.value))
                case I.LocalDecl():
                    if s.init is not None:
                        r.update(_expr_vars(s.init))
                case I.ListOp():
                    self.lvalue(s.target, r, w)
                    for opt in (s.arg, s.arg2):
                        if opt is not None:
                            r.update(_expr_vars(opt))
                case I.Trace():
                    for a in s.args:
                        r.update(_expr_vars(a))
                case I.Goto():
                    pass


def step_footprints(model: I.Model) -> list[list[Footprint]]:
    """Per actor, per step (in the actors' step order): the variables it may read and write."""
    walker = _Walker(model)
    out: list[list[Footprint]] = []
    for actor in model.actors:
        row: list[Footprint] = []
        for step in actor.steps:
            r: set[str] = set()
            w: set[str] = set()
            walker.stmts(step.body, r, w)
            row.append(Footprint(frozenset(r), frozenset(w)))
        out.append(row)
    return out
