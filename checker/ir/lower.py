"""Lowering an actor's structured body into labelled atomic steps.

Each label starts a step; the step runs from its label along every path until the next label (or
the end of the actor); every path through it ends with an explicit `Goto`. Compound statements
that contain labels (if/either/while, and inlined labelled procedures) are split so each step is
straight, structured, label-free code.

The code after such a compound is not copied into each of its branches: within one step it is
lowered once, where a branch first reaches it, and placed after the compound behind a fresh
boolean (`$joinN`) that the branches reaching it set (a join point); a branch that ends the step
(a label's `Goto`) or leaves by `return`, `break` or `continue` leaves the flag unset, so it skips
that code. The same holds where an inlined procedure's body is left (its returns and its end),
and, in a step that starts at a label inside compounds or procedures, before each piece of what
follows. Where one path only reaches a join, or what follows is short, the code goes in its
place as a copy would have (no flag: the IR stays as written). *Why:* a circle of labelled
procedures inlined to RECURSION_DEPTH nests branches and returns inside one another, and copies
then grow exponentially with the nesting (E122); with joins a step's code grows with the number
of statements in it.
"""

from __future__ import annotations

from collections.abc import Sequence

from drvmc.checker.errors import Diagnostics, Span
from drvmc.checker.ir import nodes as I
from drvmc.checker.nodeclass import node

MAX_STEP_SIZE = 20_000
# the code after a join is copied to each place that reaches it, rather than put once behind a
# flag, when it is this short (statements, nested ones included): the IR stays as written
COPY_MAX = 12


@node
class Label:
    name: str
    span: Span


@node
class Exit:
    """`return` inside an inlined labelled procedure: continue after the enclosing Block."""

    tag: str
    span: Span


@node
class Jump:
    """`break` (leave the innermost `while`) or `continue` (test its condition again)."""

    brk: bool
    span: Span


@node
class Block:
    tag: str
    body: tuple[object, ...]
    span: Span


@node
class Loop:
    cond: I.Expr
    body: tuple[object, ...]
    span: Span


@node
class _Seq:
    items: tuple[object, ...]


@node
class _LoopBack:
    loop: Loop


@node
class _BlockEnd:
    tag: str


@node
class _Join:
    """Falling through to here sets `flag` and ends this branch's code; the statements after the
    compound follow it once, guarded by the flag (only in the step that made the join)."""

    flag: I.VarRef
    step: int


@node
class _JoinHit:
    """Where a branch falls through to a join, until the step is done (see `_resolve`)."""

    flag: str


_Frame = _Seq | _LoopBack | _BlockEnd | _Join
_Cont = tuple[_Frame, ...]


class _LowerError(Exception):
    pass


CONTROL = (Label, Exit, Block, Loop, Jump)  # what splits code into steps
OWN_CONTROL = (Label, Loop)  # a body's own labels and loops (not a procedure inlined into it)


def contains(x: object, kinds: tuple[type, ...] = CONTROL) -> bool:
    """Whether `x` is, or holds in its branches, a node of one of `kinds` (a `for` holds none:
    elaboration keeps labels out of it)."""
    match x:
        case I.If():
            return any(contains(s, kinds) for s in (*x.then, *x.orelse))
        case I.Either():
            return any(contains(s, kinds) for b in x.branches for s in b)
        case _:
            return isinstance(x, kinds)


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
        self.step = 0  # which step is being lowered: a join is live only in its own step
        self.joins = 0
        # a join's code after the compound, lowered where a branch first falls through to it
        # (so labels are scheduled, and steps numbered, in the order the copies had them)
        self.after: dict[str, list[I.Stmt]] = {}
        self.hits: dict[str, int] = {}
        self.resolved: dict[str, tuple[I.Stmt, ...]] = {}  # this step's joins, as `joined` chose

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
                    # returns and the end of the body join where the body is left
                    flag, kj = self.join(rest, k, it.span)
                    inner = self.code(it.body, (_BlockEnd(it.tag), *kj), loops)
                    return [*out, *self.joined(flag, inner)]
                case Loop():
                    # by identity: hashing a frozen Loop hashes its whole body, every time
                    if id(it) in loops:
                        raise _LowerError(f"a 'while' loop at {it.span} can go round without "
                                          "reaching a label")
                    body = self.code(it.body, (_LoopBack(it), _Seq(rest), *k), loops | {id(it)})
                    after = self.code(rest, k, loops)
                    return [*out, I.If(it.cond, tuple(body), tuple(after), it.span)]
                case I.If() if contains(it):
                    flag, kj = self.join(rest, k, it.span)
                    then = self.code(it.then, kj, loops)
                    orelse = self.code(it.orelse, kj, loops)
                    return [*out, *self.joined(flag, [I.If(it.cond, tuple(then),
                                                           tuple(orelse), it.span)])]
                case I.Either() if contains(it):
                    flag, kj = self.join(rest, k, it.span)
                    branches = tuple(tuple(self.code(b, kj, loops)) for b in it.branches)
                    return [*out, *self.joined(flag, [I.Either(branches, it.span)])]
                case _:
                    out.append(it)  # type: ignore[arg-type]
        return out + self.cont(k, loops, None)

    def join(self, rest: tuple[object, ...], k: _Cont, span: Span) -> tuple[I.VarRef, _Cont]:
        flag = self.flag(span)
        return flag, (_Join(flag, self.step), _Seq(rest), *k)

    def flag(self, span: Span) -> I.VarRef:
        self.joins += 1
        return I.VarRef(f"$join{self.joins}", I.Scope.TEMP, I.BOOL, span)

    def joined(self, flag: I.VarRef, compound: Sequence[I.Stmt]) -> list[I.Stmt]:
        """`compound`, whose falling-through branches reach join `flag`, then what follows it
        once, behind the flag. Where one branch at most falls through, or what follows is
        short (`_short`), it goes in each place instead, as a copy would have: no flag."""
        after = self.after.pop(flag.name, None)
        hits = self.hits.pop(flag.name, 0)
        if after is None:
            return list(compound)
        if hits == 1 or _short(after):
            self.resolved[flag.name] = tuple(after)
            return list(compound)
        span = flag.span
        self.resolved[flag.name] = (I.Assign(flag, I.Lit(True, I.BOOL, span), span),)
        return [I.LocalDecl(flag.name, I.BOOL, I.Lit(False, I.BOOL, span), span), *compound,
                I.If(flag, tuple(after), (), span)]

    def step_code(self, rest: tuple[object, ...], k: _Cont, span: Span) -> tuple[I.Stmt, ...]:
        """A step from its label: a join before each frame of the continuation, so that the
        code after an inlined procedure or a compound the step starts inside is lowered once
        however many paths (returns, branches) reach it."""
        self.step += 1
        self.size = 0
        self.resolved = {}
        frames: list[_Frame] = []
        flags: list[I.VarRef] = []
        for f in k:
            if isinstance(f, _Join):
                continue  # an earlier step's join: here what follows is plain code
            flags.append(self.flag(span))
            frames += [_Join(flags[-1], self.step), f]
        body = self.code(rest, tuple(frames), frozenset())
        for flag in flags:
            body = self.joined(flag, body)
        return _resolve(tuple(body), self.resolved)

    def cont(self, k: _Cont, loops: frozenset[int], span: Span | None) -> list[I.Stmt]:
        if not k:
            return [I.Goto(None, span) if span else I.Goto(None)]
        f, rest = k[0], k[1:]
        match f:
            case _Join() if f.step == self.step:
                if f.flag.name not in self.after:
                    self.after[f.flag.name] = self.cont(rest, loops, span)
                self.hits[f.flag.name] = self.hits.get(f.flag.name, 0) + 1
                return [_JoinHit(f.flag.name)]  # type: ignore[list-item]
            case _Join():
                return self.cont(rest, loops, span)
            case _Seq():
                return self.code(f.items, rest, loops)
            case _LoopBack():
                return self.code((f.loop,), rest, loops)
            case _BlockEnd():
                return self.cont(rest, loops, span)


def _short(code: Sequence[object]) -> bool:
    """Whether `code` may be copied to every place that reaches its join: at most COPY_MAX
    statements, and no join of its own inside (whose code a copy would copy again)."""
    n = 0
    todo = list(code)
    while todo:
        s = todo.pop()
        n += 1
        match s:
            case _JoinHit():
                return False
            case I.If():
                todo += [*s.then, *s.orelse]
            case I.Either():
                todo += [x for b in s.branches for x in b]
            case I.For():
                todo += s.body
            case _:
                pass
        if n > COPY_MAX:
            return False
    return True


def _resolve(code: tuple[I.Stmt, ...], by: dict[str, tuple[I.Stmt, ...]]) -> tuple[I.Stmt, ...]:
    """`code` with each place that falls through to a join replaced by what `joined` chose:
    the code after the join (itself resolved), or the setting of its flag."""
    out: list[I.Stmt] = []
    for s in code:
        match s:
            case _JoinHit():
                out.extend(_resolve(by[s.flag], by))
            case I.If():
                out.append(I.If(s.cond, _resolve(s.then, by), _resolve(s.orelse, by), s.span))
            case I.Either():
                out.append(I.Either(tuple(_resolve(b, by) for b in s.branches), s.span))
            case _:
                out.append(s)  # a For holds no label, so no join
    return tuple(out)


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
            steps.append(I.Step(name, lw.step_code(rest, k, lspan), lspan))
    except _LowerError as e:
        diag.error("E122", str(e), span)
        return None
    return tuple(steps)
