"""IR → Z3: one transition template T(cur, next, sel, choices) built by symbolic execution.

Every state variable is flattened into Z3 scalars: booleans stay Bool, integers and enum handles
are bit-vectors of one width wide enough for every intermediate value (the IR's interval types
bound them), so the SAT-based finite-domain solver can be used. Each actor step is executed once
symbolically from the `cur` state; the template selects one step per transition through `sel`.
Engines copy the template per depth with `z3.substitute`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias, assert_never

import z3

from drvmc.checker.errors import Diagnostic, EngineError, SpecError
from drvmc.checker.ir import nodes as I
from drvmc.checker.ir.footprint import step_footprints

# ---------------------------------------------------------------------- symbolic values


@dataclass(frozen=True)
class SRec:
    fields: tuple[tuple[str, SVal], ...]

    def get(self, name: str) -> SVal:
        for n, v in self.fields:
            if n == name:
                return v
        raise KeyError(name)

    def replace(self, name: str, value: SVal) -> SRec:
        return SRec(tuple((n, value if n == name else v) for n, v in self.fields))


@dataclass(frozen=True)
class SArr:
    items: tuple[SVal, ...]


@dataclass(frozen=True)
class SList:
    length: z3.BitVecRef
    items: tuple[SVal, ...]


SVal: TypeAlias = "z3.ExprRef | SRec | SArr | SList"


# A place inside a value, as the accessors leading to it from its root: reads and writes follow
# the path and touch only the leaves it addresses, instead of reading whole records or arrays
# through symbolic indices (an If per leaf of every element) and writing them back.


@dataclass(frozen=True)
class _Field:
    name: str


@dataclass(frozen=True)
class _Index:
    # a symbolic index: item k is addressed where conds[k]; a constant one: only item `pos`
    # (None: no item, where a read sees the last item and a write changes nothing)
    conds: tuple[z3.BoolRef, ...] | None
    pos: int | None = None


class _Len:
    pass


_LEN = _Len()

_Acc: TypeAlias = "_Field | _Index | _Len"


def leaves(v: SVal) -> Iterator[z3.ExprRef]:
    match v:
        case SRec():
            for _, f in v.fields:
                yield from leaves(f)
        case SArr():
            for x in v.items:
                yield from leaves(x)
        case SList():
            yield v.length
            for x in v.items:
                yield from leaves(x)
        case _:
            yield v


def sbits(v: int) -> int:
    """The two's-complement width that holds v."""
    return (v.bit_length() if v >= 0 else (-v - 1).bit_length()) + 1


# The encoder builds hundreds of thousands of terms; z3.py's generic constructors (If, And, ==,
# size()) spend most of their time on casts, sort checks and intermediate wrapper objects. The
# helpers below call the C API directly on operands whose sorts are already aligned and wrap
# each result once, in the class z3.py itself would give it.


def _width(x: z3.BitVecRef) -> int:
    c = x.ctx.ctx
    return int(z3.Z3_get_bv_sort_size(c, z3.Z3_get_sort(c, x.ast)))


def _num(v: int, w: int, ctx: z3.Context) -> z3.BitVecNumRef:
    c = ctx.ctx
    return z3.BitVecNumRef(z3.Z3_mk_numeral(c, str(v), z3.Z3_mk_bv_sort(c, w)), ctx)


def _is_num(x: z3.ExprRef) -> bool:
    return isinstance(x, z3.BitVecRef) and bool(z3.Z3_is_numeral_ast(x.ctx.ctx, x.ast))


def _signed_value(x: z3.BitVecRef) -> int:
    v = int(z3.Z3_get_numeral_string(x.ctx.ctx, x.ast))
    w = _width(x)
    return v - (1 << w) if v >> (w - 1) else v


def _bool(ast: z3.Ast, ctx: z3.Context) -> z3.BoolRef:
    return z3.BoolRef(ast, ctx)


def _true(ctx: z3.Context) -> z3.BoolRef:
    return z3.BoolRef(z3.Z3_mk_true(ctx.ctx), ctx)


def _false(ctx: z3.Context) -> z3.BoolRef:
    return z3.BoolRef(z3.Z3_mk_false(ctx.ctx), ctx)


def _ite(c: z3.BoolRef, a: z3.ExprRef, b: z3.ExprRef) -> z3.ExprRef:
    """If(c, a, b) for a and b of one sort."""
    ctx = a.ctx
    r = z3.Z3_mk_ite(ctx.ctx, c.ast, a.ast, b.ast)
    return z3.BoolRef(r, ctx) if isinstance(a, z3.BoolRef) else z3.BitVecRef(r, ctx)


def _eq(a: z3.ExprRef, b: z3.ExprRef) -> z3.BoolRef:
    """a == b for a and b of one sort."""
    ctx = a.ctx
    return z3.BoolRef(z3.Z3_mk_eq(ctx.ctx, a.ast, b.ast), ctx)


def fit(x: z3.ExprRef, w: int) -> z3.ExprRef:
    """Resize a signed bit-vector (sign-extend or cut); other sorts are returned as they are."""
    if not isinstance(x, z3.BitVecRef):
        return x
    cur = _width(x)
    if cur == w:
        return x
    ctx = x.ctx
    if z3.Z3_is_numeral_ast(ctx.ctx, x.ast):
        # a constant stays a constant (an index computed from loop variables selects directly)
        return _num(_signed_value(x) % (1 << w), w, ctx)
    if cur < w:
        return z3.BitVecRef(z3.Z3_mk_sign_ext(ctx.ctx, w - cur, x.ast), ctx)
    return z3.BitVecRef(z3.Z3_mk_extract(ctx.ctx, w - 1, 0, x.ast), ctx)


def icmp(op: str, x: z3.BitVecRef, y: z3.BitVecRef | int) -> z3.BoolRef:
    """A signed comparison at a width that holds both sides: a Python int is never truncated."""
    ctx = x.ctx
    if _is_num(x) and (isinstance(y, int) or _is_num(y)):
        return _true(ctx) if _cmp_ints(op, _signed_value(x),
                                       y if isinstance(y, int) else _signed_value(y)) \
            else _false(ctx)
    if isinstance(y, int):
        w = max(_width(x), sbits(y))
        a, b = fit(x, w), _num(y, w, ctx)
    else:
        w = max(_width(x), _width(y))
        a, b = fit(x, w), fit(y, w)
    match op:
        case "==":
            return _eq(a, b)
        case "!=":
            return _bool(z3.Z3_mk_distinct(ctx.ctx, 2, _ast_array([a, b])), ctx)
        case "<":
            return _bool(z3.Z3_mk_bvslt(ctx.ctx, a.ast, b.ast), ctx)
        case "<=":
            return _bool(z3.Z3_mk_bvsle(ctx.ctx, a.ast, b.ast), ctx)
        case ">":
            return _bool(z3.Z3_mk_bvsgt(ctx.ctx, a.ast, b.ast), ctx)
        case ">=":
            return _bool(z3.Z3_mk_bvsge(ctx.ctx, a.ast, b.ast), ctx)
        case _:
            raise EngineError(f"comparison {op}")


def _cmp_ints(op: str, x: int, y: int) -> bool:
    match op:
        case "==":
            return x == y
        case "!=":
            return x != y
        case "<":
            return x < y
        case "<=":
            return x <= y
        case ">":
            return x > y
        case ">=":
            return x >= y
        case _:
            raise EngineError(f"comparison {op}")


def _ast_array(xs: Sequence[z3.ExprRef]) -> z3.Ast:
    arr = (z3.Ast * len(xs))()
    for i, x in enumerate(xs):
        arr[i] = x.ast
    return arr


def _align(a: z3.ExprRef, b: z3.ExprRef) -> tuple[z3.ExprRef, z3.ExprRef]:
    if isinstance(a, z3.BitVecRef) and isinstance(b, z3.BitVecRef):
        wa, wb = _width(a), _width(b)
        if wa != wb:
            w = max(wa, wb)
            return fit(a, w), fit(b, w)
    return a, b


def _is_true(x: z3.BoolRef) -> bool:
    """x is the constant true (one C call; z3.is_true makes several and builds objects)."""
    return bool(z3.Z3_get_bool_value(x.ctx.ctx, x.ast) == z3.Z3_L_TRUE)


def _is_false(x: z3.BoolRef) -> bool:
    return bool(z3.Z3_get_bool_value(x.ctx.ctx, x.ast) == z3.Z3_L_FALSE)


def _same(a: z3.ExprRef, b: z3.ExprRef) -> bool:
    # terms are hash-consed: one term, one address
    return a is b or bool(a.ast.value == b.ast.value)


def sel(c: z3.BoolRef, a: SVal, b: SVal) -> SVal:
    """if c then a else b, structurally, keeping shared parts shared."""
    v = z3.Z3_get_bool_value(c.ctx.ctx, c.ast)
    if v == z3.Z3_L_TRUE:
        return a
    if v == z3.Z3_L_FALSE:
        return b
    return _sel(c, a, b)


def _sel(c: z3.BoolRef, a: SVal, b: SVal) -> SVal:
    if a is b:
        return a
    match a, b:
        case SRec(), SRec():
            return SRec(tuple((n, _sel(c, x, y)) for (n, x), (_, y) in zip(a.fields, b.fields,
                                                                          strict=True)))
        case SArr(), SArr():
            return SArr(tuple(_sel(c, x, y) for x, y in zip(a.items, b.items, strict=True)))
        case SList(), SList():
            length = _sel(c, a.length, b.length)
            assert isinstance(length, z3.BitVecRef)
            return SList(length, tuple(_sel(c, x, y) for x, y in zip(a.items, b.items,
                                                                      strict=True)))
        case _:
            assert isinstance(a, z3.ExprRef) and isinstance(b, z3.ExprRef)
            if a.ast.value == b.ast.value:
                return a
            ctx = a.ctx
            r = ctx.ctx
            if z3.Z3_get_sort(r, a.ast).value != z3.Z3_get_sort(r, b.ast).value:
                a, b = _align(a, b)
            return _ite(c, a, b)


def equal(a: SVal, b: SVal) -> z3.BoolRef:
    match a, b:
        case SRec(), SRec():
            return _and([equal(x, y) for (_, x), (_, y) in zip(a.fields, b.fields, strict=True)])
        case SArr(), SArr():
            return _and([equal(x, y) for x, y in zip(a.items, b.items, strict=True)])
        case SList(), SList():
            parts = [icmp("==", a.length, b.length)]
            for k, (x, y) in enumerate(zip(a.items, b.items, strict=True)):
                parts.append(z3.Implies(icmp(">", a.length, k), equal(x, y)))
            return _and(parts)
        case _:
            assert isinstance(a, z3.ExprRef) and isinstance(b, z3.ExprRef)
            if _same(a, b):
                return _true(a.ctx)
            if _is_num(a) and _is_num(b):
                # distinct constants: fold, so that branches on static facts (`dev == gpu` with
                # a constant dev) are pruned while encoding instead of encoded both ways
                same = _signed_value(a) == _signed_value(b)
                return _true(a.ctx) if same else _false(a.ctx)
            a, b = _align(a, b)
            return _eq(a, b)


def _junction(xs: Sequence[z3.BoolRef], absorbing: int, mk: Any) -> z3.BoolRef:
    """`and` (absorbing false) or `or` (absorbing true) of xs, with constants folded away."""
    neutral = z3.Z3_L_TRUE if absorbing == z3.Z3_L_FALSE else z3.Z3_L_FALSE
    ys = []
    for x in xs:
        v = z3.Z3_get_bool_value(x.ctx.ctx, x.ast)
        if v == absorbing:
            return _false(x.ctx) if absorbing == z3.Z3_L_FALSE else _true(x.ctx)
        if v != neutral:
            ys.append(x)
    if not ys:
        return z3.BoolVal(neutral == z3.Z3_L_TRUE)
    if len(ys) == 1:
        return ys[0]
    ctx = ys[0].ctx
    return z3.BoolRef(mk(ctx.ctx, len(ys), _ast_array(ys)), ctx)


def _and(xs: Sequence[z3.BoolRef]) -> z3.BoolRef:
    return _junction(xs, z3.Z3_L_FALSE, z3.Z3_mk_and)


def _or(xs: Sequence[z3.BoolRef]) -> z3.BoolRef:
    return _junction(xs, z3.Z3_L_TRUE, z3.Z3_mk_or)


def _not(x: z3.BoolRef) -> z3.BoolRef:
    ctx = x.ctx
    v = z3.Z3_get_bool_value(ctx.ctx, x.ast)
    if v == z3.Z3_L_TRUE:
        return _false(ctx)
    if v == z3.Z3_L_FALSE:
        return _true(ctx)
    return z3.BoolRef(z3.Z3_mk_not(ctx.ctx, x.ast), ctx)


# ---------------------------------------------------------------------- widths


def _type_ints(t: I.Type) -> Iterator[int]:
    match t:
        case I.IntType():
            yield t.lo
            yield t.hi
        case I.EnumType():
            yield len(t.members) + 1
        case I.RecordType():
            for _, ft in t.fields:
                yield from _type_ints(ft)
        case I.ArrayType():
            yield from _type_ints(t.index)
            yield from _type_ints(t.elem)
        case I.ListType():
            yield t.cap + 1
            yield -1
            if t.elem is not None:
                yield from _type_ints(t.elem)
        case _:
            pass


def _model_types(model: I.Model) -> list[I.Type]:
    """Every type the model's values can take: declarations, every (sub-)expression, the pcs;
    each type object once.

    Inlining shares sub-trees, so expressions and statements are visited once by identity (a
    frozen node's hash walks its whole tree); the model keeps them all alive while this runs.
    Collected into a dict rather than yielded: the walk meets a type per node, hundreds of
    thousands on a model of the seeds' size, and this runs once per variant.
    """
    types: dict[int, I.Type] = {}  # holds the types, so that no id is reused while this runs
    seen: set[int] = set()
    exprs: list[I.Expr] = []
    stmts: list[I.Stmt] = []

    def walk_exprs() -> None:
        while exprs:
            e = exprs.pop()
            k = id(e)
            if k in seen:
                continue
            seen.add(k)
            t = e.type
            types[id(t)] = t
            if isinstance(e, I.Quant):
                types[id(e.var_type)] = e.var_type
            exprs.extend(I.expr_children(e))

    for v in model.vars:
        types[id(v.type)] = v.type
        if v.init is not None:
            exprs.append(v.init)
    for p in model.procs:
        for _, t in p.params:
            types[id(t)] = t
        stmts.extend(p.body)
    for a in model.actors:
        pc = I.IntType(0, len(a.steps) + 1)
        types[id(pc)] = pc
        for step in a.steps:
            stmts.extend(step.body)
    for prop in model.properties:
        if prop.expr is not None:
            exprs.append(prop.expr)
    sites = I.IntType(0, len(model.sites) + 1)
    types[id(sites)] = sites
    while stmts:
        st = stmts.pop()
        if id(st) in seen:
            continue
        seen.add(id(st))
        match st:
            case I.For():
                types[id(st.var_type)] = st.var_type
            case I.Either():
                n = I.IntType(0, len(st.branches))
                types[id(n)] = n
            case I.Choose() | I.LocalDecl():
                types[id(st.type)] = st.type
            case _:
                pass
        exprs.extend(I.stmt_exprs(st))
        for body in I.stmt_bodies(st):
            stmts.extend(body)
        walk_exprs()
    walk_exprs()  # the properties' and initialisers' expressions, when no statement came after
    return list(types.values())


def bit_width(model: I.Model) -> int:
    m = 1
    for t in _model_types(model):
        for v in _type_ints(t):
            m = max(m, abs(v) + 1)
    return max(2, m.bit_length() + 1)


# ---------------------------------------------------------------------- encoding


@dataclass(frozen=True)
class StepEnc:
    """One actor step executed symbolically from the `cur` state."""

    actor: int
    label: str
    fire: z3.BoolRef  # may fire: pc, awaits, assumes and choice domains
    enabled: z3.BoolRef  # pc and awaits only, free of choices (for deadlock)
    updates: dict[str, z3.ExprRef]  # flat key -> next value (only what the step writes)
    fails: tuple[tuple[int, z3.BoolRef], ...]  # (site, condition), in program order
    calls: tuple[tuple[int, str, tuple[SVal, ...], tuple[I.Type, ...], z3.BoolRef], ...]
    choices: tuple[z3.ExprRef, ...]


@dataclass
class _Frame:
    temps: dict[str, SVal]
    ret: z3.BoolRef
    result: SVal | None
    rtype: I.Type | None = None
    # the path each temporary was declared under (see write)
    decl: dict[str, z3.BoolRef] = field(default_factory=dict)


# a run-time check made: its site, its failure condition, and the conditions eval_under had
# added to the path
_Check: TypeAlias = "tuple[int, z3.BoolRef, tuple[z3.BoolRef, ...]]"


class _Exec:
    """Symbolic execution of one step; writes are guarded by the path condition."""

    def __init__(self, enc: Encoding, state: dict[str, SVal], tag: str) -> None:
        self.enc = enc
        self.state = dict(state)
        self.tag = tag
        self.path: z3.BoolRef = z3.BoolVal(True)
        self.fault: z3.BoolRef = z3.BoolVal(False)
        self.frames: list[_Frame] = [_Frame({}, z3.BoolVal(False), None)]
        self.awaits: list[z3.BoolRef] = []
        self.constraints: list[z3.BoolRef] = []
        self.fails: list[tuple[int, z3.BoolRef]] = []
        self.calls: list[tuple[int, str, tuple[SVal, ...], tuple[I.Type, ...], z3.BoolRef]] = []
        self.choices: list[z3.ExprRef] = []
        self.depth = 0
        self._fresh = itertools.count()
        # guard() is asked for far more often than path, ret or fault change
        self._guard: tuple[z3.BoolRef, z3.BoolRef, z3.BoolRef, z3.BoolRef] | None = None
        # the sub-expressions met in the expression being evaluated, each with its value and
        # the checks it made, in order (see eval); None between expressions
        self._memo: dict[int, tuple[SVal, int, list[_Check]]] | None = None
        self._checks: list[_Check] = []  # every check made in that expression, in order
        self._conds: list[z3.BoolRef] = []  # the conditions eval_under added to the path

    # -- guard --
    @property
    def frame(self) -> _Frame:
        return self.frames[-1]

    def guard(self) -> z3.BoolRef:
        path, ret, fault = self.path, self.frames[-1].ret, self.fault
        c = self._guard
        if c is not None and c[0] is path and c[1] is ret and c[2] is fault:
            return c[3]
        g = _and([path, _not(ret), _not(fault)])
        self._guard = (path, ret, fault, g)
        return g

    def fresh(self, t: I.Type, what: str) -> SVal:
        v = self.enc.fresh(t, f"{self.tag}!{what}{next(self._fresh)}")
        self.choices.extend(leaves(v))
        return v

    def check(self, site: int | None, bad: z3.BoolRef) -> None:
        """A fatal runtime check: record it and stop this path if it fails."""
        if site is None or site == 0 or _is_false(bad):
            return
        if self._memo is not None:
            # inside an expression: made when it is done (eval), so that the two arms of a
            # join can share the checks they both begin with (_merge_arms)
            self._checks.append((site, bad, tuple(self._conds)))
            return
        cond = _and([self.guard(), bad])
        self.fails.append((site, cond))
        self.fault = _or([self.fault, cond])

    # -- expressions --
    def eval(self, e: I.Expr) -> SVal:
        """e's value in the current state. Lowering joins the branches of a function's body, so
        an expression is a DAG whose shared nodes a tree walk visits once per path to them:
        2^10 visits of one node for a ten-slot loop of `if`s (drm_msm: 86 s to encode). A
        node's value does not depend on the path (the state and temporaries do not change
        within one expression), so it is computed once; its run-time checks do (each counts
        under its own path's condition), so a later visit makes them again, in the same order,
        from their recorded conditions, as a tree walk would, except that the checks both arms
        of a join begin with are made once (_merge_arms). They are made when the expression is
        done, in the order met (ret and the fault do not change within one expression)."""
        if self._memo is not None:
            return self._eval_shared(e)
        self._memo = {}
        depth = len(self._conds)
        try:
            v = self._eval_shared(e)
            checks = list(self._checks)
        finally:
            self._memo = None
            self._checks.clear()
        if checks:
            self._replay(checks, depth)  # made now, in the order met
        return v

    def _eval_shared(self, e: I.Expr) -> SVal:
        memo = self._memo
        assert memo is not None
        known = memo.get(id(e))
        if known is not None:
            value, depth, checks = known
            if checks:
                self._replay(checks, depth)
            return value
        start = len(self._checks)
        v = self._eval_node(e)
        memo[id(e)] = (v, len(self._conds), self._checks[start:])
        return v

    def _replay(self, checks: list[_Check], depth: int) -> None:
        """Make a shared node's recorded checks again under the current path, each under the
        conditions the node's own branches added (`conds[depth:]`), as eval_under adds them.
        Consecutive checks mostly share those conditions: the path is kept for every prefix
        entered, and only the conditions past the common prefix are left and entered (the
        same terms as entering each check's conditions afresh; drm_msm: 1.3 million `and`s
        built for 138,000 replays)."""
        base = len(self._conds)
        outer = (self.path, base)
        paths = [self.path]  # paths[i]: the path with the first i conditions entered here
        for site, bad, conds in checks:
            want = conds[depth:]
            n = 0
            while (n < len(want) and base + n < len(self._conds)
                   and _same(self._conds[base + n], want[n])):
                n += 1
            del paths[n + 1:]
            self._leave((paths[n], base + n))
            for c in want[n:]:
                self._enter((c,))
                paths.append(self.path)
            self.check(site, bad)
        self._leave(outer)

    def _merge_arms(self, depth: int, first: int, second: int) -> None:
        """The checks an `ite`'s two arms made (`_checks[first:second]` under its condition,
        `_checks[second:]` under the negation, the arm's condition at `conds[depth]`): the
        checks both arms begin with, alike but for that condition, become one check without
        it, before the rest of each arm's. A concrete evaluation takes one arm and meets its
        checks in the same order as before, so the fault and the site blamed are the same;
        without this, a node shared by both arms has its checks made once per arm, and a
        chain of joins over one node (a loop's `n = ite(c, n + 1, n)`) doubles them at each
        link (drm_msm: 135,000 checks, its depth-2 BMC question unanswered in 3 minutes)."""
        ch = self._checks
        then, orelse = ch[first:second], ch[second:]
        k = 0
        for (s1, b1, c1), (s2, b2, c2) in zip(then, orelse, strict=False):
            inner = zip(c1[depth + 1:], c2[depth + 1:], strict=False)
            if (s1 != s2 or not _same(b1, b2) or len(c1) != len(c2)
                    or not all(_same(x, y) for x, y in inner)):
                break
            k += 1
        if k:
            shared = [(s, b, c[:depth] + c[depth + 1:]) for s, b, c in then[:k]]
            ch[first:] = [*shared, *then[k:], *orelse[k:]]

    def _eval_node(self, e: I.Expr) -> SVal:
        enc = self.enc
        match e:
            case I.Lit():
                return enc.lit(e.value, e.type)
            case I.VarRef():
                if e.scope is I.Scope.STATE:
                    return self.state[e.name]
                for fr in reversed(self.frames):
                    if e.name in fr.temps:
                        return fr.temps[e.name]
                raise EngineError(f"unbound temporary {e.name}")
            case I.FieldRef() | I.IndexRef():
                root, path = self.resolve(e)
                return enc.get(root, path)
            case I.Unary():
                v = self.eval(e.operand)
                if e.op is I.UnaryOp.NOT:
                    assert isinstance(v, z3.BoolRef)
                    return _not(v)
                assert isinstance(v, z3.BitVecRef)
                return z3.simplify(-fit(v, enc.width_of(e.type)))
            case I.Binary():
                return self.binary(e)
            case I.Ite():
                c = self.eval(e.cond)
                assert isinstance(c, z3.BoolRef)
                depth, first = len(self._conds), len(self._checks)
                a = enc.fit_t(self.eval_under(c, e.then), e.type)
                second = len(self._checks)
                b = enc.fit_t(self.eval_under(_not(c), e.orelse), e.type)
                self._merge_arms(depth, first, second)
                return sel(c, a, b)
            case I.Coerce():
                v = self.eval(e.operand)
                st, tt = e.operand.type, e.type
                if e.site:
                    assert isinstance(v, z3.BitVecRef)
                    if isinstance(tt, I.IntType):
                        self.check(e.site, z3.Or(icmp("<", v, tt.lo), icmp(">", v, tt.hi)))
                    elif isinstance(tt, I.EnumType) and isinstance(st, I.EnumType):
                        self.check(e.site, _eq(v, enc.null(tt)))
                return enc.fit_t(v, tt)
            case I.ListFn():
                lst = self.eval(e.list)
                assert isinstance(lst, SList)
                arg = self.eval(e.arg) if e.arg is not None else None
                return enc.list_fn(e.fn, lst, arg, e.type)
            case I.Quant():
                parts: list[z3.BoolRef] = []
                outer = self._memo
                for v in e.values:
                    self.frame.temps[e.var] = enc.lit(v.value, v.type)
                    self._memo = {}  # the body's nodes have other values for each value
                    b = self.eval(e.body)
                    assert isinstance(b, z3.BoolRef)
                    parts.append(b)
                self._memo = outer
                self.frame.temps.pop(e.var, None)
                return _and(parts) if e.kind is I.QuantKind.FORALL else _or(parts)
            case I.RecordLit():
                return SRec(tuple((n, enc.fit_t(self.eval(v), ft))
                                  for (n, ft), v in zip(e.type.fields, e.values, strict=True)))
            case I.ListLit():
                assert e.type.elem is not None
                items = [enc.fit_t(self.eval(x), e.type.elem) for x in e.items]
                while len(items) < e.type.cap:
                    items.append(enc.default(e.type.elem))
                return SList(enc.len_val(len(e.items), e.type), tuple(items))
            case I.ArrayLit():
                return SArr(tuple(enc.fit_t(self.eval(x), e.type.elem) for x in e.items))
            case I.ArrayFill():
                v = enc.fit_t(self.eval(e.value), e.type.elem)
                return SArr(tuple(v for _ in I.index_values(e.type.index)))

    def resolve(self, e: I.Expr) -> tuple[SVal, tuple[_Acc, ...]]:
        """The root value and the path of a field/index chain, making the null and bounds checks
        of its indices in the order a read makes them: base first, then index, then its check."""
        enc = self.enc
        match e:
            case I.FieldRef():
                root, path = self.resolve(e.base)
                return root, (*path, _Field(e.name))
            case I.IndexRef():
                root, path = self.resolve(e.base)
                idx = self.eval(e.index)
                assert isinstance(idx, z3.BitVecRef)
                bt = e.base.type
                if isinstance(bt, I.ArrayType):
                    keys = I.index_values(bt.index)
                    if e.site:
                        if isinstance(bt.index, I.EnumType):
                            self.check(e.site, _eq(idx, enc.null(bt.index)))
                        else:
                            self.check(e.site, _or([icmp("<", idx, keys[0]),
                                                    icmp(">", idx, keys[-1])]))
                    return root, (*path, enc.index(idx, keys, isinstance(bt.index, I.IntType)))
                assert isinstance(bt, I.ListType)
                if e.site:
                    length = enc.get(root, (*path, _LEN))
                    assert isinstance(length, z3.BitVecRef)
                    self.check(e.site, _or([icmp("<", idx, 0), icmp(">=", idx, length)]))
                return root, (*path, enc.index(idx, range(bt.cap)))
            case _:
                return self.eval(e), ()

    def eval_under(self, cond: z3.BoolRef, e: I.Expr) -> SVal:
        """Evaluate e where cond holds: its run-time checks (null, bounds) count only there, as
        with C's short-circuit `&&`, `||` and `?:` (`p != null && a[p]` is no NULL dereference)."""
        outer = self._enter((cond,))
        try:
            return self.eval(e)
        finally:
            self._leave(outer)

    def _enter(self, conds: Sequence[z3.BoolRef]) -> tuple[z3.BoolRef, int]:
        """Add conds to the path, one by one; returns what _leave restores."""
        outer = (self.path, len(self._conds))
        for c in conds:
            self.path = _and([self.path, c])
            self._conds.append(c)
        return outer

    def _leave(self, outer: tuple[z3.BoolRef, int]) -> None:
        self.path = outer[0]
        del self._conds[outer[1]:]

    def binary(self, e: I.Binary) -> SVal:
        op = e.op
        a = self.eval(e.left)
        match op:
            case I.BinaryOp.AND | I.BinaryOp.OR | I.BinaryOp.IMPLIES:
                assert isinstance(a, z3.BoolRef)
                b = self.eval_under(_not(a) if op is I.BinaryOp.OR else a, e.right)
                assert isinstance(b, z3.BoolRef)
                if op is I.BinaryOp.AND:
                    return _and([a, b])
                return _or([a, b]) if op is I.BinaryOp.OR else _or([_not(a), b])
            case I.BinaryOp.EQ | I.BinaryOp.NE:
                b = self.eval(e.right)
                # `null` meets a handle: give it the handle's encoding
                lt, rt = e.left.type, e.right.type
                if isinstance(rt, I.NullType) and isinstance(lt, I.EnumType):
                    b = self.enc.null(lt)
                elif isinstance(lt, I.NullType) and isinstance(rt, I.EnumType):
                    a = self.enc.null(rt)
                eq = equal(a, b)
                return eq if op is I.BinaryOp.EQ else _not(eq)
            case I.BinaryOp.LT | I.BinaryOp.LE | I.BinaryOp.GT | I.BinaryOp.GE:
                b = self.eval(e.right)
                assert isinstance(a, z3.BitVecRef) and isinstance(b, z3.BitVecRef)
                return icmp(op.value, a, b)
            case I.BinaryOp.ADD | I.BinaryOp.SUB | I.BinaryOp.MUL:
                b = self.eval(e.right)
                assert isinstance(a, z3.BitVecRef) and isinstance(b, z3.BitVecRef)
                w = self.enc.width_of(e.type)
                if _is_num(a) and _is_num(b):
                    # fold constants (`DEVRES_CAP - 1 - k` in an unrolled loop): an index that
                    # stays a constant selects one element instead of an If over all of them
                    x, y = _signed_value(a), _signed_value(b)
                    r = x + y if op is I.BinaryOp.ADD else x - y if op is I.BinaryOp.SUB \
                        else x * y
                    return self.enc.num(r % (1 << w), w)
                # modular arithmetic is exact when the true result fits the result's width
                if op is I.BinaryOp.ADD:
                    return fit(a, w) + fit(b, w)
                return fit(a, w) - fit(b, w) if op is I.BinaryOp.SUB else fit(a, w) * fit(b, w)
            case I.BinaryOp.DIV | I.BinaryOp.MOD:
                b = self.eval(e.right)
                assert isinstance(a, z3.BitVecRef) and isinstance(b, z3.BitVecRef)
                w = self.enc.width_of(e.type)
                wd = max(a.size(), b.size(), w)
                aa, bb = fit(a, wd), fit(b, wd)
                assert isinstance(aa, z3.BitVecRef) and isinstance(bb, z3.BitVecRef)
                return fit(aa / bb, w) if op is I.BinaryOp.DIV else fit(z3.SRem(aa, bb), w)
            case _:
                assert_never(op)

    # -- writes --
    def write(self, lv: I.Expr, value: SVal) -> None:
        g = self.guard()
        if _is_false(g):
            return
        value = self.enc.fit_t(value, lv.type)
        var = lv
        while isinstance(var, I.FieldRef | I.IndexRef):
            var = var.base
        if not isinstance(var, I.VarRef):
            raise EngineError("bad assignment target")
        path: tuple[_Acc, ...] = ()
        if var is not lv:
            _, path = self.resolve(lv)  # the same null/bounds checks as a read
            g = self.guard()
            if _is_false(g):
                return
        if var.scope is I.Scope.STATE:
            holder = self.state
        else:
            fr = next((f for f in reversed(self.frames) if var.name in f.temps), None)
            if fr is None:
                raise EngineError(f"unbound temporary {var.name}")
            holder = fr.temps
            if fr is self.frame and fr.decl.get(var.name) is self.path:
                # A temporary is read only in its own block, after its declaration, where the
                # guard implies this one (the path extends the declaration's, `returned` and
                # `fault` only grow): where the guard is false here the value is never seen, so
                # it needs no If on the guard; a result stored in a fresh local stays a constant.
                g = self.enc.true
        old = holder[var.name]
        holder[var.name] = self.enc.put(old, path, g, value) if path else sel(g, value, old)

    def fault_now(self) -> bool:
        return bool(_is_false(self.guard()))

    # -- statements --
    def run(self, stmts: Sequence[I.Stmt]) -> None:
        for s in stmts:
            if _is_false(self.guard()):
                return
            self.stmt(s)

    def stmt(self, s: I.Stmt) -> None:
        enc = self.enc
        match s:
            case I.Assign():
                self.write(s.target, self.eval(s.value))
            case I.If():
                c = self.eval(s.cond)
                assert isinstance(c, z3.BoolRef)
                self.branch([(c, s.then), (_not(c), s.orelse)])
            case I.Either():
                if len(s.branches) == 1:
                    self.run(s.branches[0])
                    return
                pick = self.fresh(I.IntType(0, len(s.branches) - 1), "either")
                assert isinstance(pick, z3.BitVecRef)
                self.constraints.append(z3.Implies(
                    self.guard(), z3.And(icmp(">=", pick, 0), icmp("<", pick, len(s.branches)))))
                self.branch([(pick == i, b) for i, b in enumerate(s.branches)])
            case I.For():
                for v in s.values:
                    self.frame.temps[s.var] = enc.lit(v.value, v.type)
                    self.run(s.body)
            case I.Await():
                c = self.eval(s.cond)
                assert isinstance(c, z3.BoolRef)
                self.awaits.append(z3.Implies(self.guard(), c))
            case I.Assume():
                c = self.eval(s.cond)
                assert isinstance(c, z3.BoolRef)
                self.constraints.append(z3.Implies(self.guard(), c))
            case I.Assert():
                c = self.eval(s.cond)
                assert isinstance(c, z3.BoolRef)
                bad = _and([self.guard(), _not(c)])
                if not _is_false(bad):
                    self.fails.append((s.site, bad))
            case I.Choose():
                cv = self.fresh(s.type, "choose")
                assert isinstance(cv, z3.ExprRef)
                match s.domain:
                    case I.StaticDomain():
                        ok = _or([equal(cv, enc.lit(x.value, x.type)) for x in s.domain.values])
                    case I.RangeDomain():
                        lo, hi = self.eval(s.domain.lo), self.eval(s.domain.hi)
                        assert isinstance(lo, z3.BitVecRef) and isinstance(hi, z3.BitVecRef)
                        assert isinstance(cv, z3.BitVecRef)
                        self.awaits.append(z3.Implies(self.guard(), icmp("<=", lo, hi)))
                        ok = z3.And(icmp("<=", lo, cv), icmp("<=", cv, hi))
                self.constraints.append(z3.Implies(self.guard(), ok))
                self.write(s.target, cv)
            case I.Call():
                self.call(s)
            case I.Return():
                fr = self.frame
                if s.value is not None:
                    rv = self.eval(s.value)
                    if fr.rtype is not None:
                        rv = enc.fit_t(rv, fr.rtype)
                    g = self.guard()
                    fr.result = rv if fr.result is None else sel(g, rv, fr.result)
                fr.ret = _or([fr.ret, self.guard()])
            case I.LocalDecl():
                if s.init is None:
                    self.frame.temps[s.name] = self.fresh(s.type, s.name)
                    if isinstance(s.type, I.IntType | I.EnumType):
                        self.constraints.append(enc.in_type(self.frame.temps[s.name], s.type))
                else:
                    self.frame.temps[s.name] = enc.fit_t(self.eval(s.init), s.type)
                self.frame.decl[s.name] = self.path
            case I.ListOp():
                self.list_op(s)
            case I.Goto():
                pc = enc.pc_val(self.tag_actor, s.label)
                self.state[enc.pc_name(self.tag_actor)] = sel(
                    self.guard(), pc, self.state[enc.pc_name(self.tag_actor)])
            case I.Trace():
                args = tuple(self.eval(a) for a in s.args)
                types = tuple(a.type for a in s.args)
                self.calls.append((s.depth, s.proc, args, types, self.guard()))

    tag_actor: int = 0

    def branch(self, arms: list[tuple[z3.BoolRef, Sequence[I.Stmt]]]) -> None:
        saved = self.path
        for c, body in arms:
            if _is_false(c) or not body:
                continue
            self.path = _and([saved, c])
            self.run(body)
        self.path = saved

    def call(self, s: I.Call) -> None:
        proc = self.enc.model.proc(s.proc)
        args = [self.eval(a) for a in s.args]
        g = self.guard()
        types = tuple(t for _, t in proc.params)
        self.calls.append((self.depth, s.proc, tuple(args), types, g))
        if self.depth > 64:
            raise SpecError([Diagnostic("E130", "procedure calls nested more than 64 deep",
                                        s.span)])
        temps = {n: self.enc.fit_t(v, t) for (n, t), v in zip(proc.params, args, strict=True)}
        saved_path = self.path
        # the callee runs only where the call runs: its guard must include the caller's
        # `returned` flag (guard() reads the innermost frame's only), else a callee's asserts
        # fired after the caller had returned
        self.path = g
        self.frames.append(_Frame(temps, z3.BoolVal(False), None, proc.result,
                                  dict.fromkeys(temps, g)))
        self.depth += 1
        self.run(proc.body)
        self.depth -= 1
        fr = self.frames.pop()
        self.path = saved_path
        if s.target is not None:
            result = fr.result if fr.result is not None else self.enc.default(proc.result or I.BOOL)
            self.write(s.target, result)

    def list_op(self, s: I.ListOp) -> None:
        enc = self.enc
        lst = self.eval(s.target)
        assert isinstance(lst, SList)
        lt = s.target.type
        assert isinstance(lt, I.ListType) and lt.elem is not None
        cap = lt.cap
        n = lst.length
        match s.op:
            case I.ListMut.APPEND:
                assert s.arg is not None
                x = enc.fit_t(self.eval(s.arg), lt.elem)
                self.check(s.site, icmp("==", n, cap))
                if self.fault_now():
                    return
                items = tuple(sel(icmp("==", n, k), x, old) for k, old in enumerate(lst.items))
                self.write(s.target, SList(n + 1, items))
            case I.ListMut.REMOVE_AT:
                assert s.arg is not None
                i = self.eval(s.arg)
                assert isinstance(i, z3.BitVecRef)
                self.check(s.site, z3.Or(icmp("<", i, 0), icmp(">=", i, n)))
                if self.fault_now():
                    return
                d = enc.default(lt.elem)
                items = tuple(
                    sel(icmp("<=", i, k), lst.items[k + 1] if k + 1 < cap else d, lst.items[k])
                    for k in range(cap)
                )
                self.write(s.target, SList(n - 1, items))
            case I.ListMut.POP:
                self.check(s.site, icmp("==", n, 0))
                if self.fault_now():
                    return
                d = enc.default(lt.elem)
                items = tuple(sel(icmp("==", n, k + 1), d, old) for k, old in enumerate(lst.items))
                self.write(s.target, SList(n - 1, items))
            case I.ListMut.CLEAR:
                d = enc.default(lt.elem)
                self.write(s.target, SList(enc.len_val(0, lt), tuple(d for _ in range(cap))))
            case I.ListMut.TRUNCATE:
                assert s.arg is not None
                t = self.eval(s.arg)
                assert isinstance(t, z3.BitVecRef)
                self.check(s.site, z3.Or(icmp("<", t, 0), icmp(">", t, n)))
                if self.fault_now():
                    return
                d = enc.default(lt.elem)
                items = tuple(sel(icmp("<=", t, k), d, old) for k, old in enumerate(lst.items))
                tl = fit(t, n.size())
                assert isinstance(tl, z3.BitVecRef)
                self.write(s.target, SList(tl, items))
            case I.ListMut.REMOVE_RANGE:
                assert s.arg is not None and s.arg2 is not None
                a, b = self.eval(s.arg), self.eval(s.arg2)
                assert isinstance(a, z3.BitVecRef) and isinstance(b, z3.BitVecRef)
                self.check(s.site, z3.Or(icmp("<", a, 0), icmp(">", a, b), icmp(">", b, n)))
                if self.fault_now():
                    return
                d = enc.default(lt.elem)
                ww = max(a.size(), b.size(), n.size()) + 1
                w = fit(b, ww) - fit(a, ww)
                padded = (*lst.items, *(d for _ in range(cap + 1)))
                items = tuple(
                    sel(icmp(">", a, k), lst.items[k],
                        enc.pick(w, tuple(range(cap + 1)),
                                 tuple(padded[k + j] for j in range(cap + 1))))
                    for k in range(cap)
                )
                nl = fit(fit(n, ww) - w, n.size())
                assert isinstance(nl, z3.BitVecRef)
                self.write(s.target, SList(nl, items))


class Encoding:
    """The transition system of one Model, over `cur`/`next` Z3 constants."""

    def __init__(self, model: I.Model) -> None:
        self.model = model
        self.ctx = z3.main_ctx()
        self.true, self.false = _true(self.ctx), _false(self.ctx)
        self._nums: dict[tuple[int, int], z3.BitVecNumRef] = {}
        self.width = bit_width(model)
        self.actor_index = {a.name: i for i, a in enumerate(model.actors)}
        self.labels: list[list[str]] = [[s.label for s in a.steps] for a in model.actors]
        self.prop_sites: dict[str, list[I.Site]] = {}
        for site in model.sites:
            self.prop_sites.setdefault(site.prop, []).append(site)
        # state layout: user state, one pc per actor, the halted flag, one sticky error per class
        self.var_types: dict[str, I.Type] = {v.name: v.type for v in model.vars}
        for i, _ in enumerate(model.actors):
            self.var_types[self.pc_name(i)] = I.IntType(0, len(self.labels[i]))
        self.var_types["$halted"] = I.BOOL
        for prop in self.prop_sites:
            self.var_types[self.viol_name(prop)] = I.IntType(0, len(model.sites))
        self.cur: dict[str, SVal] = {n: self.fresh(t, f"{n}@cur") for n, t in
                                     self.var_types.items()}
        self.nxt: dict[str, SVal] = {n: self.fresh(t, f"{n}@next") for n, t in
                                     self.var_types.items()}
        self.cur_leaves: list[z3.ExprRef] = [x for v in self.cur.values() for x in leaves(v)]
        self.next_leaves: list[z3.ExprRef] = [x for v in self.nxt.values() for x in leaves(v)]
        self.steps: list[StepEnc] = []
        for ai, actor in enumerate(model.actors):
            for step in actor.steps:
                self.steps.append(self._encode_step(ai, step))
        self.sel = z3.BitVec("sel@cur", max(1, (len(self.steps)).bit_length()))
        self.choices: list[z3.ExprRef] = [c for s in self.steps for c in s.choices]
        # trans is trans_guard and next == next_terms, leaf by leaf (cur's flat order): the
        # functional form lets an unrolling from the initial state carry values forward
        self.trans, self.trans_guard, self.next_terms = self._transition()
        self.init = self._init()
        self.commuting_before = self._independence()

    # -- partial-order reduction --
    def _independence(self) -> list[tuple[int, ...]]:
        """For each step t, the steps s of higher-numbered actors that commute with t.

        Two steps of different actors commute when neither writes a state variable the other
        reads or writes (checker.footprint, from the IR). The sticky violation records and the
        halted flag are left out: swapping two such steps keeps the final state of a run (the
        recorded site may differ, its status does not), and a step that faults ends its run, so
        in a shortest bad run it never needs to be swapped (its shorter prefix would be bad
        already). Forbidding `s` right before `t`
        therefore keeps every shortest counterexample, in a canonical interleaving.
        """
        fps = step_footprints(self.model)
        reads: list[frozenset[str]] = []
        writes: list[frozenset[str]] = []
        for st in self.steps:
            fp = fps[st.actor][self.labels[st.actor].index(st.label)]
            reads.append(fp.reads)
            writes.append(fp.writes)
        out: list[tuple[int, ...]] = []
        for t, tst in enumerate(self.steps):
            ok: list[int] = []
            for s, sst in enumerate(self.steps):
                if sst.actor <= tst.actor:
                    continue
                if writes[s] & (reads[t] | writes[t]) or writes[t] & reads[s]:
                    continue
                ok.append(s)
            out.append(tuple(ok))
        return out

    def por(self, sel_prev: z3.BitVecRef, sel_now: z3.BitVecRef) -> z3.BoolRef:
        """Adjacent commuting steps run in actor order: the canonical interleaving."""
        parts: list[z3.BoolRef] = []
        for t, before in enumerate(self.commuting_before):
            if before:
                parts.append(z3.Implies(sel_now == t, z3.And(*[sel_prev != s for s in before])))
        return _and(parts)

    # -- values --
    def width_of(self, t: I.Type) -> int:
        """Each type gets the narrowest width that holds it (enums hold `null` too)."""
        match t:
            case I.IntType():
                return max(sbits(t.lo), sbits(t.hi))
            case I.EnumType():
                return max(1, len(t.members).bit_length())
            case _:
                return 1

    def len_val(self, n: int, t: I.ListType) -> z3.BitVecRef:
        return self.num(n, self.width_of(I.IntType(0, t.cap)))

    def num(self, v: int, w: int) -> z3.BitVecNumRef:
        """The w-bit constant v; the same few constants are asked for thousands of times."""
        x = self._nums.get((v, w))
        if x is None:
            x = self._nums[(v, w)] = _num(v, w, self.ctx)
        return x

    def fit_t(self, v: SVal, t: I.Type) -> SVal:
        """Resize every integer leaf of a value to the widths of type t."""
        match t:
            case I.IntType():
                assert isinstance(v, z3.ExprRef)
                return fit(v, self.width_of(t))
            case I.RecordType():
                assert isinstance(v, SRec)
                return SRec(tuple((n, self.fit_t(x, ft))
                                  for (n, x), (_, ft) in zip(v.fields, t.fields, strict=True)))
            case I.ArrayType():
                assert isinstance(v, SArr)
                return SArr(tuple(self.fit_t(x, t.elem) for x in v.items))
            case I.ListType():
                if t.elem is None or not isinstance(v, SList):
                    return v
                length = fit(v.length, self.width_of(I.IntType(0, t.cap)))
                assert isinstance(length, z3.BitVecRef)
                return SList(length, tuple(self.fit_t(x, t.elem) for x in v.items))
            case _:
                return v

    def bv(self, v: int) -> z3.BitVecRef:
        return self.num(v, self.width)

    def null(self, t: I.EnumType) -> z3.BitVecRef:
        return self.num(len(t.members), self.width_of(t))

    def lit(self, value: bool | int | None, t: I.Type) -> SVal:
        match t:
            case I.BoolType():
                return self.true if value else self.false
            case I.EnumType() if value is None:
                return self.null(t)
            case I.NullType():
                return self.num(0, 1)
            case _:
                assert isinstance(value, int)
                return self.num(int(value), self.width_of(t))

    def default(self, t: I.Type) -> SVal:
        match t:
            case I.BoolType():
                return self.false
            case I.IntType():
                return self.num(t.default, self.width_of(t))
            case I.EnumType():
                return self.null(t) if t.nullable else self.num(0, self.width_of(t))
            case I.NullType():
                return self.num(0, 1)
            case I.RecordType():
                return SRec(tuple((n, self.default(ft)) for n, ft in t.fields))
            case I.ArrayType():
                d = self.default(t.elem)
                return SArr(tuple(d for _ in I.index_values(t.index)))
            case I.ListType():
                assert t.elem is not None
                d = self.default(t.elem)
                return SList(self.len_val(0, t), tuple(d for _ in range(t.cap)))

    def fresh(self, t: I.Type, name: str) -> SVal:
        match t:
            case I.BoolType():
                return z3.Bool(name)
            case I.IntType() | I.EnumType() | I.NullType():
                return z3.BitVec(name, self.width_of(t))
            case I.RecordType():
                return SRec(tuple((n, self.fresh(ft, f"{name}.{n}")) for n, ft in t.fields))
            case I.ArrayType():
                keys = I.index_values(t.index)
                names = t.index.members if isinstance(t.index, I.EnumType) else keys
                return SArr(tuple(self.fresh(t.elem, f"{name}[{k}]") for k in names))
            case I.ListType():
                assert t.elem is not None
                return SList(z3.BitVec(f"{name}.len", self.width_of(I.IntType(0, t.cap))),
                             tuple(self.fresh(t.elem, f"{name}[{k}]") for k in range(t.cap)))

    def in_type(self, v: SVal, t: I.Type) -> z3.BoolRef:
        """The values a variable of type t may hold (for `any` and for induction)."""
        match t:
            case I.BoolType() | I.NullType():
                return z3.BoolVal(True)
            case I.IntType():
                assert isinstance(v, z3.BitVecRef)
                return z3.And(icmp(">=", v, t.lo), icmp("<=", v, t.hi))
            case I.EnumType():
                assert isinstance(v, z3.BitVecRef)
                top = len(t.members) + (1 if t.nullable else 0)
                if top >= 1 << v.size():
                    return z3.BoolVal(True)
                return z3.ULT(v, top)
            case I.RecordType():
                assert isinstance(v, SRec)
                return _and([self.in_type(x, ft) for (_, x), (_, ft) in zip(v.fields, t.fields,
                                                                            strict=True)])
            case I.ArrayType():
                assert isinstance(v, SArr)
                return _and([self.in_type(x, t.elem) for x in v.items])
            case I.ListType():
                assert isinstance(v, SList) and t.elem is not None
                parts = [icmp(">=", v.length, 0), icmp("<=", v.length, t.cap)]
                d = self.default(t.elem)
                for k, x in enumerate(v.items):
                    parts.append(z3.If(icmp(">", v.length, k), self.in_type(x, t.elem),
                                       equal(x, d)))
                return _and(parts)

    def is_val(self, idx: z3.BitVecRef, k: int, signed: bool = True) -> z3.BoolRef:
        """idx == k. Integers are signed and compared at a width that holds k; enum codes are
        unsigned and always below 2^width."""
        if _is_num(idx):
            # a constant index is folded, so that only the element it names is read or written
            return self.true if self._const_is(idx, k, signed) else self.false
        return icmp("==", idx, k) if signed else _eq(idx, self.num(k, _width(idx)))

    @staticmethod
    def _const_is(idx: z3.BitVecRef, k: int, signed: bool) -> bool:
        if signed:
            return _signed_value(idx) == k
        return int(z3.Z3_get_numeral_string(idx.ctx.ctx, idx.ast)) == k % (1 << _width(idx))

    def index(self, idx: z3.BitVecRef, keys: Sequence[int], signed: bool = True) -> _Index:
        if _is_num(idx):
            for p, k in enumerate(keys):
                if self._const_is(idx, k, signed):
                    return _Index(None, p)
            return _Index(None, None)
        return _Index(tuple(self.is_val(idx, k, signed) for k in keys))

    def get(self, v: SVal, path: Sequence[_Acc], pos: int = 0) -> SVal:
        """The part of v at path (as `pick` would read it, one level at a time)."""
        while pos < len(path):
            a = path[pos]
            if isinstance(a, _Field):
                assert isinstance(v, SRec)
                v = v.get(a.name)
            elif isinstance(a, _Len):
                assert isinstance(v, SList)
                v = v.length
            else:
                assert isinstance(v, SArr | SList)
                items = v.items
                if a.conds is None:
                    v = items[-1 if a.pos is None else a.pos]
                else:
                    assert len(a.conds) == len(items)
                    out = self.get(items[-1], path, pos + 1)
                    for k in range(len(items) - 2, -1, -1):
                        out = sel(a.conds[k], self.get(items[k], path, pos + 1), out)
                    return out
            pos += 1
        return v

    def put(self, v: SVal, path: Sequence[_Acc], cond: z3.BoolRef, value: SVal,
            pos: int = 0) -> SVal:
        """v with the part at path set to value where cond (and the path's indices) hold."""
        if pos == len(path):
            return sel(cond, value, v)
        a = path[pos]
        if isinstance(a, _Field):
            assert isinstance(v, SRec)
            return v.replace(a.name, self.put(v.get(a.name), path, cond, value, pos + 1))
        assert isinstance(a, _Index) and isinstance(v, SArr | SList)
        items = list(v.items)
        if a.conds is None:
            if a.pos is None:
                return v
            items[a.pos] = self.put(items[a.pos], path, cond, value, pos + 1)
        else:
            assert len(a.conds) == len(items)
            for k, c in enumerate(a.conds):
                ck = _and([cond, c])
                if not _is_false(ck):
                    items[k] = self.put(items[k], path, ck, value, pos + 1)
        if isinstance(v, SArr):
            return SArr(tuple(items))
        return SList(v.length, tuple(items))

    def pick(self, idx: z3.BitVecRef, keys: Sequence[int], items: Sequence[SVal],
             signed: bool = True) -> SVal:
        if _is_num(idx):
            for k, it in zip(keys, items, strict=True):
                if self._const_is(idx, k, signed):
                    return it
            return items[-1]
        out = items[-1]
        for k, it in zip(reversed(keys[:-1]), reversed(items[:-1]), strict=True):
            out = sel(self.is_val(idx, k, signed), it, out)
        return out

    def list_fn(self, fn: I.ListQuery, lst: SList, arg: SVal | None, rt: I.Type) -> SVal:
        n = lst.length
        w = self.width_of(rt)
        match fn:
            case I.ListQuery.LEN:
                return fit(n, w)
            case I.ListQuery.CONTAINS:
                assert arg is not None
                return _or([_and([icmp(">", n, k), equal(x, arg)])
                            for k, x in enumerate(lst.items)])
            case I.ListQuery.INDEX_OF:
                assert arg is not None
                out: z3.ExprRef = z3.BitVecVal(-1, w)
                for k in reversed(range(len(lst.items))):
                    out = z3.If(_and([icmp(">", n, k), equal(lst.items[k], arg)]),
                                z3.BitVecVal(k, w), out)
                return out
            case I.ListQuery.LAST_INDEX_OF:
                assert arg is not None
                res: z3.ExprRef = z3.BitVecVal(-1, w)
                for k in range(len(lst.items)):
                    res = z3.If(_and([icmp(">", n, k), equal(lst.items[k], arg)]),
                                z3.BitVecVal(k, w), res)
                return res

    # -- names --
    @staticmethod
    def pc_name(actor: int) -> str:
        return f"$pc{actor}"

    @staticmethod
    def viol_name(prop: str) -> str:
        return f"$viol:{prop}"

    def pc_val(self, actor: int, label: str | None) -> z3.BitVecRef:
        labels = self.labels[actor]
        w = self.width_of(I.IntType(0, len(labels)))
        return self.num(len(labels) if label is None else labels.index(label), w)

    def done(self, state: dict[str, SVal], actor: int) -> z3.BoolRef:
        """The actor ended, or (a pool instance) stands dormant at its first step."""
        pc = state[self.pc_name(actor)]
        ended = pc == self.pc_val(actor, None)
        a = self.model.actors[actor]
        if a.dormant is None:
            return ended
        dormant = _Exec(self, state, "prop").eval(a.dormant)
        assert isinstance(dormant, z3.BoolRef)
        return _or([ended, _and([pc == self.pc_val(actor, a.steps[0].label), dormant])])

    def all_done(self, state: dict[str, SVal]) -> z3.BoolRef:
        return _and([self.done(state, i) for i in range(len(self.model.actors))])

    # -- building --
    def _encode_step(self, ai: int, step: I.Step) -> StepEnc:
        ex = _Exec(self, self.cur, f"{self.model.actors[ai].name}.{step.label}")
        ex.tag_actor = ai
        at = self.cur[self.pc_name(ai)] == self.pc_val(ai, step.label)
        ex.run(step.body)
        choice_set = {c.get_id() for c in ex.choices}
        enabled = _and([at, *ex.awaits])
        if any(_mentions(a, choice_set) for a in ex.awaits):
            enabled = self._enabled_over_choices(step, at, ex)
        fire = _and([at, *ex.awaits, *ex.constraints])
        updates: dict[str, z3.ExprRef] = {}
        for name, val in ex.state.items():
            old = self.cur[name]
            for (key, new), o in zip(_flat(name, val), leaves(old), strict=True):
                if not _same(new, o):
                    updates[key] = new
        return StepEnc(ai, step.label, fire, enabled, updates, tuple(ex.fails), tuple(ex.calls),
                       tuple(ex.choices))

    def _enabled_over_choices(self, step: I.Step, at: z3.BoolRef, ex: _Exec) -> z3.BoolRef:
        """Whether a step can fire when an await depends on a choice made earlier in it (an
        `either` whose branches begin with awaits): some value of those choices passes every
        await and the choices' own constraints. The choices are few and small (a branch index),
        so the existential is expanded; anything larger is the language limit E126."""
        by_id = {c.get_id(): c for c in ex.choices}
        used = sorted({i for a in ex.awaits for i in const_ids(a) if i in by_id})
        sizes = [by_id[i].size() if isinstance(by_id[i], z3.BitVecRef) else 99 for i in used]
        # only `either` branch picks: an await on a chosen value (`choose c in ..; await c > 1`)
        # stays E126, as in the explicit engine
        if not all("!either" in str(by_id[i]) for i in used) or sum(sizes) > _MAX_CHOICE_BITS:
            raise SpecError([Diagnostic(
                "E126", f"an 'await' in step {step.label} depends on a nondeterministic "
                "choice made earlier in the same step; put the await first or in its own step",
                step.span)])
        relevant = [c for c in ex.constraints
                    if {i for i in const_ids(c) if i in by_id} <= set(used)]
        body = _and([*ex.awaits, *relevant])
        alts: list[z3.BoolRef] = []
        for combo in itertools.product(*(range(1 << n) for n in sizes)):
            subst: list[tuple[z3.ExprRef, z3.ExprRef]] = []
            for i, n, v in zip(used, sizes, combo, strict=True):
                c = by_id[i]
                subst.append((c, z3.BitVecVal(v, n)))
            alt = z3.simplify(z3.substitute(body, *subst))
            assert isinstance(alt, z3.BoolRef)
            alts.append(alt)
        return _and([at, _or(alts)])

    def flat_cur(self) -> dict[str, z3.ExprRef]:
        return {k: v for name, val in self.cur.items() for k, v in _flat(name, val)}

    def flat_next(self) -> dict[str, z3.ExprRef]:
        return {k: v for name, val in self.nxt.items() for k, v in _flat(name, val)}

    def _transition(self) -> tuple[z3.BoolRef, z3.BoolRef, tuple[z3.ExprRef, ...]]:
        cur, nxt = self.flat_cur(), self.flat_next()
        sel_ = self.sel
        is_step = [_eq(sel_, self.num(i, sel_.size())) for i in range(len(self.steps))]
        parts: list[z3.BoolRef] = [z3.ULT(sel_, len(self.steps)), _not(self._halted(self.cur))]
        for i, s in enumerate(self.steps):
            parts.append(z3.Implies(is_step[i], s.fire))
        site_prop = {s.id: s.prop for s in self.model.sites}
        fatal = {s.id for s in self.model.sites if s.fatal}
        written: dict[str, list[tuple[int, z3.ExprRef]]] = {}
        for i, s in enumerate(self.steps):
            for k, v in s.updates.items():
                written.setdefault(k, []).append((i, v))
        # sticky error per property class: the first failing site wins
        halted_now: list[tuple[int, z3.BoolRef]] = []
        per_prop: dict[str, list[tuple[int, z3.ExprRef]]] = {}
        for i, s in enumerate(self.steps):
            by_prop: dict[str, list[tuple[int, z3.BoolRef]]] = {}
            for site, cond in s.fails:
                by_prop.setdefault(site_prop[site], []).append((site, cond))
                if site in fatal:
                    halted_now.append((i, cond))
            vw = self.width_of(I.IntType(0, len(self.model.sites)))
            for prop, fl in by_prop.items():
                val: z3.ExprRef = self.num(0, vw)
                for site, cond in reversed(fl):
                    val = _ite(cond, self.num(site, vw), val)
                per_prop.setdefault(prop, []).append((i, val))

        def next_values(taken: list[z3.BoolRef]) -> dict[str, z3.ExprRef]:
            """Every leaf's next value, step i's where taken[i]."""
            defs: dict[str, z3.ExprRef] = {}
            for prop in self.prop_sites:
                key = self.viol_name(prop) + "#0"
                old = cur[key]
                assert isinstance(old, z3.BitVecRef)
                new: z3.ExprRef = self.num(0, old.size())
                for i, val in reversed(per_prop.get(prop, [])):
                    new = _ite(taken[i], val, new)
                defs[key] = z3.If(old != 0, old, new)
            defs["$halted#0"] = _or([cur["$halted#0"], *(_and([taken[i], c])
                                                         for i, c in halted_now)])
            for k, cv in cur.items():
                if k not in defs:
                    val2: z3.ExprRef = cv
                    for i, v in reversed(written.get(k, [])):
                        val2 = _ite(taken[i], v, val2)
                    defs[k] = val2
            return defs

        guard = _and(parts)
        defs = next_values(is_step)
        parts.extend(_eq(nxt[k], v) for k, v in defs.items())
        # for the functional form, a step's arm also asks that the step can fire: the same
        # values under the guard, and an unrolling by value drops the arms of steps it knows
        # cannot fire (their pc is elsewhere, an await fails)
        by_value = next_values([_and([c, s.fire]) for c, s in zip(is_step, self.steps,
                                                                     strict=True)])
        return z3.And(*parts), guard, tuple(by_value[k] for k in cur)

    def _halted(self, state: dict[str, SVal]) -> z3.BoolRef:
        h = state["$halted"]
        assert isinstance(h, z3.BoolRef)
        return h

    def _init(self) -> z3.BoolRef:
        ex = _Exec(self, self.cur, "init")
        parts: list[z3.BoolRef] = []
        for v in self.model.vars:
            sv = self.cur[v.name]
            if v.init is None:
                parts.append(self.in_type(sv, v.type))
            else:
                parts.append(equal(sv, ex.eval(v.init)))
        for i, _ in enumerate(self.model.actors):
            parts.append(self.cur[self.pc_name(i)] == self.pc_val(i, self.labels[i][0]))
        parts.append(_not(self._halted(self.cur)))
        for prop in self.prop_sites:
            parts.append(self.cur[self.viol_name(prop)] == 0)
        return _and(parts)

    # -- properties, as formulas over `cur` --
    def state_expr(self, e: I.Expr) -> z3.BoolRef:
        ex = _Exec(self, self.cur, "prop")
        v = ex.eval(e)
        assert isinstance(v, z3.BoolRef)
        return v

    def bad(self, prop: I.Property) -> z3.BoolRef:
        """A state in which `prop` is violated (or, for `reachable`, reached)."""
        halted = self._halted(self.cur)
        match prop.kind:
            case I.PropKind.ASSERT:
                if prop.name not in self.prop_sites:
                    return z3.BoolVal(False)
                v = self.cur[self.viol_name(prop.name)]
                assert isinstance(v, z3.BitVecRef)
                return v != 0
            case I.PropKind.INVARIANT:
                assert prop.expr is not None
                return _and([_not(halted), _not(self.state_expr(prop.expr))])
            case I.PropKind.FINAL:
                assert prop.expr is not None
                return _and([_not(halted), self.all_done(self.cur),
                             _not(self.state_expr(prop.expr))])
            case I.PropKind.REACHABLE:
                assert prop.expr is not None
                return _and([_not(halted), self.state_expr(prop.expr)])
            case I.PropKind.DEADLOCK:
                return _and([_not(halted), _not(self.all_done(self.cur)),
                             *[_not(s.enabled) for s in self.steps]])

    # -- copies per depth --
    def state_at(self, k: int) -> dict[str, SVal]:
        return {n: self.fresh(t, f"{n}@{k}") for n, t in self.var_types.items()}

    def substitution(self, cur_k: dict[str, SVal], next_k: dict[str, SVal] | None,
                     k: int) -> list[tuple[z3.ExprRef, z3.ExprRef]]:
        pairs: list[tuple[z3.ExprRef, z3.ExprRef]] = []
        for name in self.var_types:
            pairs.extend(zip(leaves(self.cur[name]), leaves(cur_k[name]), strict=True))
            if next_k is not None:
                pairs.extend(zip(leaves(self.nxt[name]), leaves(next_k[name]), strict=True))
        pairs.append((self.sel, z3.BitVec(f"sel@{k}", self.sel.size())))
        for c in self.choices:
            pairs.append((c, z3.Const(f"{c}@{k}", c.sort())))
        return pairs


def _flat(name: str, v: SVal) -> list[tuple[str, z3.ExprRef]]:
    return [(f"{name}#{i}", x) for i, x in enumerate(leaves(v))]


def const_ids(e: z3.ExprRef) -> Iterator[int]:
    """The ids of the constants in e's DAG, each once, lazily (a shared subterm is walked once)."""
    seen: set[int] = set()
    todo = [e]
    while todo:
        x = todo.pop()
        if x.get_id() in seen:
            continue
        seen.add(x.get_id())
        if z3.is_const(x):
            yield x.get_id()
        todo.extend(x.children())


# choice bits an await may depend on: the picks of the `either`s in the step (up to 256 cases)
_MAX_CHOICE_BITS = 8


def _mentions(e: z3.ExprRef, ids: set[int]) -> bool:
    return bool(ids) and any(i in ids for i in const_ids(e))

