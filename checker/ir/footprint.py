"""Which state variables a step may read and write, from the IR (procedure calls included).

Used by partial-order reduction: two steps of different actors commute when neither writes a
variable the other reads or writes. Variable granularity is coarser than the encoding's leaves,
so it only ever finds fewer commuting pairs, never wrong ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from drvmc.checker.ir import nodes as I


@dataclass(frozen=True)
class Footprint:
    reads: frozenset[str]
    writes: frozenset[str]


def expr_vars(e: I.Expr) -> Iterator[str]:
    """The state variables an expression reads."""
    if isinstance(e, I.VarRef) and e.scope is I.Scope.STATE:
        yield e.name
    for c in I.expr_children(e):
        yield from expr_vars(c)


def add_expr_vars(e: I.Expr, out: set[str], walked: set[int]) -> None:
    """expr_vars(e) into `out`, each node looked at once (by identity, across the calls that
    share `walked`): the IR shares sub-trees, and walking every path of a large inlined step
    took most of the causal slicing of a corpus trace."""
    todo = [e]
    while todo:
        x = todo.pop()
        if id(x) in walked:
            continue
        walked.add(id(x))
        if isinstance(x, I.VarRef) and x.scope is I.Scope.STATE:
            out.add(x.name)
        todo.extend(I.expr_children(x))


def root_var(e: I.Expr) -> str | None:
    """The state variable an lvalue writes into (through fields and indices), if any."""
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

    def stmts(self, body: tuple[I.Stmt, ...], r: set[str], w: set[str]) -> None:
        walked: set[int] = set()
        for s in body:
            # every expression a statement evaluates is read, its target's indices included
            for e in I.stmt_exprs(s):
                add_expr_vars(e, r, walked)
            target = I.stmt_target(s)
            root = root_var(target) if target is not None else None
            if root is not None:
                w.add(root)
            if isinstance(s, I.Call):
                fp = self.proc(s.proc)
                r.update(fp.reads)
                w.update(fp.writes)
            for b in I.stmt_bodies(s):
                self.stmts(b, r, w)


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
