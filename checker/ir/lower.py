"""Lowering an actor's structured body into labelled atomic steps.

Each label starts a step; the step runs from its label along every path until the next label (or
the end of the actor) and ends with an explicit `Goto`. Compound statements that contain labels
(if/either/while, and inlined labelled procedures) are split so each step is straight, structured,
label-free code; the statements after them are copied into each branch (continuation passing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drvmc.checker.errors import Diagnostics, Span
from drvmc.checker.ir import nodes as I

MAX_STEP_SIZE = 20_000


@dataclass(frozen=True)
class Label:
    name: str
    span: Span


@dataclass(frozen=True)
class Exit:
    """`return` inside an inlined labelled procedure: continue after the enclosing Block."""

    tag: str
    span: Span


@dataclass(frozen=True)
class Jump:
    """`break` (leave the innermost `while`) or `continue` (test its condition again)."""

    brk: bool
    span: Span


@dataclass(frozen=True)
class Block:
    tag: str
    body: tuple[object, ...]
    span: Span


@dataclass(frozen=True)
class Loop:
    cond: I.Expr
    body: tuple[object, ...]
    span: Span


@dataclass(frozen=True)
class _Seq:
    items: tuple[object, ...]


@dataclass(frozen=True)
class _LoopBack:
    loop: Loop


@dataclass(frozen=True)
class _BlockEnd:
    tag: str


_Frame = _Seq | _LoopBack | _BlockEnd
_Cont = tuple[_Frame, ...]


class _LowerError(Exception):
    pass


def _contains_control(x: object) -> bool:
    match x:
        case Label() | Exit() | Block() | Loop() | Jump():
            return True
        case I.If():
            return any(_contains_control(s) for s in (*x.then, *x.orelse))
        case I.Either():
            return any(_contains_control(s) for b in x.branches for s in b)
        case _:
            return False


def _labels(items: Sequence[object]) -> list[Label]:
    out: list[Label] = []
    for x in items:
        match x:
            case Label():
                out.append(x)
            case Block() | Loop():
                out.extend(_labels(x.body))
            case I.If():
                out.extend(_labels((*x.then, *x.orelse)))
            case I.Either():
                for b in x.branches:
                    out.extend(_labels(b))
            case _:
                pass  # a plain statement holds no label (elaboration keeps labels out of `for`)
    return out


class _Lowerer:
    def __init__(self, actor: str, diag: Diagnostics) -> None:
        self.actor = actor
        self.diag = diag
        self.pending: list[tuple[str, tuple[object, ...], _Cont, Span]] = []
        self.scheduled: set[str] = set()
        self.size = 0

    def schedule(self, label: Label, rest: tuple[object, ...], k: _Cont) -> None:
        if label.name not in self.scheduled:
            self.scheduled.add(label.name)
            self.pending.append((label.name, rest, k, label.span))

    def code(self, items: tuple[object, ...], k: _Cont, loops: frozenset[int]) -> list[I.Stmt]:
        out: list[I.Stmt] = []
        for idx, it in enumerate(items):
            rest = items[idx + 1 :]
            self.size += 1
            if self.size > MAX_STEP_SIZE:
                raise _LowerError("control flow around labels is too large to lower (too many "
                                  "branches between two labels)")
            match it:
                case Label():
                    out.append(I.Goto(it.name, it.span))
                    self.schedule(it, rest, k)
                    return out
                case Exit():
                    kk = k
                    while kk and kk[0] != _BlockEnd(it.tag):
                        kk = kk[1:]
                    return out + self.cont(kk[1:], loops, it.span)
                case Jump():
                    kk = k
                    while kk and not isinstance(kk[0], _LoopBack):
                        kk = kk[1:]
                    # elaboration only makes a Jump inside a `while` of the same body
                    assert kk, "break/continue outside a loop"
                    return out + self.cont(kk[1:] if it.brk else kk, loops, it.span)
                case Block():
                    return out + self.code(it.body, (_BlockEnd(it.tag), _Seq(rest), *k), loops)
                case Loop():
                    # by identity: hashing a frozen Loop hashes its whole body, every time
                    if id(it) in loops:
                        raise _LowerError(f"a 'while' loop at {it.span} can go round without "
                                          "reaching a label")
                    body = self.code(it.body, (_LoopBack(it), _Seq(rest), *k), loops | {id(it)})
                    after = self.code(rest, k, loops)
                    return [*out, I.If(it.cond, tuple(body), tuple(after), it.span)]
                case I.If() if _contains_control(it):
                    then = self.code((*it.then, *rest), k, loops)
                    orelse = self.code((*it.orelse, *rest), k, loops)
                    return [*out, I.If(it.cond, tuple(then), tuple(orelse), it.span)]
                case I.Either() if _contains_control(it):
                    branches = tuple(tuple(self.code((*b, *rest), k, loops)) for b in it.branches)
                    return [*out, I.Either(branches, it.span)]
                case _:
                    out.append(it)  # type: ignore[arg-type]
        return out + self.cont(k, loops, None)

    def cont(self, k: _Cont, loops: frozenset[int], span: Span | None) -> list[I.Stmt]:
        if not k:
            return [I.Goto(None, span) if span else I.Goto(None)]
        f, rest = k[0], k[1:]
        match f:
            case _Seq():
                return self.code(f.items, rest, loops)
            case _LoopBack():
                return self.code((f.loop,), rest, loops)
            case _BlockEnd():
                return self.cont(rest, loops, span)


def lower_actor(actor: str, body: list[object], span: Span,
                diag: Diagnostics) -> tuple[I.Step, ...] | None:
    labels = _labels(body)
    seen: dict[str, Span] = {}
    ok = True
    for lab in labels:
        if lab.name in seen:
            diag.error("E120", f"label '{lab.name}' is used twice in actor {actor} (first at "
                       f"{seen[lab.name]})", lab.span)
            ok = False
        seen[lab.name] = lab.span
    # `while true { l: ... }` may open an actor: it starts at l, and a `break` ends the loop
    opening = body[0] if body else None
    loop_first = (isinstance(opening, Loop) and isinstance(opening.cond, I.Lit)
                  and opening.cond.value is True and bool(opening.body)
                  and isinstance(opening.body[0], Label))
    if not body or not (isinstance(body[0], Label) or loop_first):
        first = body[0] if body else None
        where = getattr(first, "span", span) or span
        diag.error("E120", f"actor {actor} must begin with a label (each label is one atomic "
                   "step) or with `while true` whose body begins with one", where)
        return None
    if not ok:
        return None
    lw = _Lowerer(actor, diag)
    if isinstance(opening, Loop) and loop_first:
        start = opening.body[0]
        assert isinstance(start, Label)
        lw.schedule(start, tuple(opening.body[1:]), (_LoopBack(opening), _Seq(tuple(body[1:]))))
    else:
        assert isinstance(body[0], Label)
        lw.schedule(body[0], tuple(body[1:]), ())
    steps: list[I.Step] = []
    try:
        while lw.pending:
            name, rest, k, lspan = lw.pending.pop(0)
            lw.size = 0
            code = lw.code(rest, k, frozenset())
            steps.append(I.Step(name, tuple(code), lspan))
    except _LowerError as e:
        diag.error("E122", str(e), span)
        return None
    return tuple(steps)
