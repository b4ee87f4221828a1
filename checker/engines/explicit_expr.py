"""IR expressions compiled to Python closures, for the explicit engine's concrete execution.

The explicit engine evaluates the same few expressions millions of times (a guard, a quantifier
over every member of an enum, an index into the devres slots), so each expression is turned
once into a closure over its compiled sub-expressions instead of being re-dispatched node by node
on every evaluation. The closures give exactly the values and run-time checks of the tree
walker they replace (`checker/engines/explicit.py` documents the semantics; the Z3 encoding is the
reference): `&&`, `||`, `=>` and `ite` short-circuit their checks, quantifiers check every
value, reads out of range give the encoding's element, integers wrap at the model's width.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, assert_never

from drvmc.checker.errors import EngineError
from drvmc.checker.ir import nodes as I

CVal = bool | int | tuple["CVal", ...]


class Env(Protocol):
    """What a compiled expression reads: the state, the temporaries' frames, the checks."""

    state: list[CVal]
    frames: list[dict[str, CVal]]

    def check(self, site: int | None, bad: bool) -> None: ...


# Any, not CVal: the closures index and add what their sub-closures return, and the IR is typed
# already (elaboration checked it), so checking again on every evaluation would only cost time
Fn = Callable[[Env], Any]


class ExprCompiler:
    def __init__(self, var_index: dict[str, int], width: int,
                 lit: Callable[[bool | int | None, I.Type], CVal],
                 default: Callable[[I.Type], CVal]) -> None:
        self.var_index = var_index
        self.half = half = 1 << (width - 1)
        self.mask = mask = (1 << width) - 1
        self.wrap: Callable[[int], int] = lambda x: ((x + half) & mask) - half
        self.lit = lit
        self.default = default
        # keyed by id(); the expression is kept so its id cannot be reused while cached
        self._cache: dict[int, tuple[I.Expr, Fn]] = {}

    def __call__(self, e: I.Expr) -> Fn:
        hit = self._cache.get(id(e))
        if hit is not None and hit[0] is e:
            return hit[1]
        fn = self._compile(e)
        self._cache[id(e)] = (e, fn)
        return fn

    def _compile(self, e: I.Expr) -> Fn:
        c = self
        match e:
            case I.Lit():
                v = self.lit(e.value, e.type)
                return lambda ex: v
            case I.VarRef():
                if e.scope is I.Scope.STATE:
                    i = self.var_index[e.name]
                    return lambda ex: ex.state[i]
                return _temp(e.name)
            case I.FieldRef():
                base = c(e.base)
                rt = e.base.type
                assert isinstance(rt, I.RecordType)
                pos = rt.field_index(e.name)
                return lambda ex: base(ex)[pos]
            case I.IndexRef():
                return self._index(e)
            case I.Unary():
                operand = c(e.operand)
                if e.op is I.UnaryOp.NOT:
                    return lambda ex: not operand(ex)
                wrap = self.wrap
                return lambda ex: wrap(-operand(ex))
            case I.Binary():
                return self._binary(e)
            case I.Ite():
                cond, then, orelse = c(e.cond), c(e.then), c(e.orelse)
                # only the arm taken runs its checks (like C's `?:`)
                return lambda ex: then(ex) if cond(ex) else orelse(ex)
            case I.Coerce():
                return self._coerce(e)
            case I.ListFn():
                return self._list_fn(e)
            case I.Quant():
                vals = [self.lit(x.value, x.type) for x in e.values]
                body = c(e.body)
                var = e.var
                every = e.kind is I.QuantKind.FORALL

                def quant(ex: Env) -> Any:
                    fr = ex.frames[-1]
                    out: list[bool] = []
                    for x in vals:  # every value, so every value's checks run
                        fr[var] = x
                        out.append(bool(body(ex)))
                    fr.pop(var, None)
                    return all(out) if every else any(out)
                return quant
            case I.RecordLit():
                fields = [c(v) for v in e.values]
                return lambda ex: tuple(f(ex) for f in fields)
            case I.ListLit():
                items = [c(x) for x in e.items]
                return lambda ex: tuple(f(ex) for f in items)
            case I.ArrayLit():
                elems = [c(x) for x in e.items]
                return lambda ex: tuple(f(ex) for f in elems)
            case I.ArrayFill():
                value = c(e.value)
                n = len(I.index_values(e.type.index))
                return lambda ex: (value(ex),) * n

    def _index(self, e: I.IndexRef) -> Fn:
        """A read as the encoding does it: a check, then the element (or the last slot)."""
        base, index = self(e.base), self(e.index)
        bt = e.base.type
        site = e.site
        if isinstance(bt, I.ArrayType):
            it = bt.index
            if isinstance(it, I.EnumType):
                null = len(it.members)

                def enum_read(ex: Env) -> Any:
                    b, i = base(ex), index(ex)
                    if site:
                        ex.check(site, i == null)
                    return b[i] if 0 <= i < len(b) else b[-1]
                return enum_read
            lo, hi = it.lo, it.hi

            def range_read(ex: Env) -> Any:
                b, i = base(ex), index(ex)
                if site:
                    ex.check(site, i < lo or i > hi)
                pos = i - lo
                return b[pos] if 0 <= pos < len(b) else b[-1]
            return range_read
        assert isinstance(bt, I.ListType) and bt.elem is not None
        cap = bt.cap
        dflt = self.default(bt.elem)

        def list_read(ex: Env) -> Any:
            b, i = base(ex), index(ex)
            ex.check(site, i < 0 or i >= len(b))
            if 0 <= i < len(b):
                return b[i]
            # the encoding's list has `cap` slots, the unused ones holding the default value
            if 0 <= i < cap - 1 or len(b) < cap:
                return dflt
            return b[-1]
        return list_read

    def _binary(self, e: I.Binary) -> Fn:
        a, b = self(e.left), self(e.right)
        wrap, half, mask = self.wrap, self.half, self.mask
        match e.op:
            # the right operand's checks run only when it decides the value
            case I.BinaryOp.AND:
                return lambda ex: bool(a(ex)) and bool(b(ex))
            case I.BinaryOp.OR:
                return lambda ex: bool(a(ex)) or bool(b(ex))
            case I.BinaryOp.IMPLIES:
                return lambda ex: (not a(ex)) or bool(b(ex))
            case I.BinaryOp.EQ:
                return lambda ex: a(ex) == b(ex)
            case I.BinaryOp.NE:
                return lambda ex: a(ex) != b(ex)
            case I.BinaryOp.ADD:
                return lambda ex: ((a(ex) + b(ex) + half) & mask) - half
            case I.BinaryOp.SUB:
                return lambda ex: ((a(ex) - b(ex) + half) & mask) - half
            case I.BinaryOp.MUL:
                return lambda ex: wrap(a(ex) * b(ex))
            case I.BinaryOp.DIV:
                return lambda ex: wrap(_c_div(a(ex), b(ex)))
            case I.BinaryOp.MOD:
                return lambda ex: wrap(_c_mod(a(ex), b(ex)))
            case I.BinaryOp.LT:
                return lambda ex: a(ex) < b(ex)
            case I.BinaryOp.LE:
                return lambda ex: a(ex) <= b(ex)
            case I.BinaryOp.GT:
                return lambda ex: a(ex) > b(ex)
            case I.BinaryOp.GE:
                return lambda ex: a(ex) >= b(ex)

    def _coerce(self, e: I.Coerce) -> Fn:
        operand = self(e.operand)
        site = e.site
        st, tt = e.operand.type, e.type
        if site and isinstance(tt, I.IntType):
            lo, hi = tt.lo, tt.hi

            def to_range(ex: Env) -> Any:
                v = operand(ex)
                ex.check(site, v < lo or v > hi)
                return v
            return to_range
        if site and isinstance(tt, I.EnumType) and isinstance(st, I.EnumType):
            null = len(tt.members)

            def non_null(ex: Env) -> Any:
                v = operand(ex)
                ex.check(site, v == null)
                return v
            return non_null
        return operand

    def _list_fn(self, e: I.ListFn) -> Fn:
        lst = self(e.list)
        arg = self(e.arg) if e.arg is not None else None
        match e.fn:
            case I.ListQuery.LEN:
                return lambda ex: len(lst(ex))
            case I.ListQuery.CONTAINS:
                assert arg is not None
                return lambda ex: _contains(lst(ex), arg(ex))
            case I.ListQuery.INDEX_OF:
                assert arg is not None
                return lambda ex: _index_of(lst(ex), arg(ex))
            case I.ListQuery.LAST_INDEX_OF:
                assert arg is not None
                return lambda ex: _last_index_of(lst(ex), arg(ex))
            case _:
                assert_never(e.fn)


def _temp(name: str) -> Fn:
    def temp(ex: Env) -> Any:
        # the innermost frame first, where a procedure's parameters and locals are
        fr = ex.frames[-1]
        if name in fr:
            return fr[name]
        for fr in reversed(ex.frames):
            if name in fr:
                return fr[name]
        raise EngineError(f"unbound temporary {name}")
    return temp


def _contains(lst: tuple[CVal, ...], x: CVal) -> bool:
    return x in lst


def _index_of(lst: tuple[CVal, ...], x: CVal) -> int:
    return lst.index(x) if x in lst else -1


def _last_index_of(lst: tuple[CVal, ...], x: CVal) -> int:
    return len(lst) - 1 - lst[::-1].index(x) if x in lst else -1


def _c_div(a: int, b: int) -> int:
    if b == 0:
        raise EngineError("division by zero")
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _c_mod(a: int, b: int) -> int:
    if b == 0:
        raise EngineError("division by zero")
    r = abs(a) % abs(b)
    return -r if a < 0 else r


__all__ = ["Env", "ExprCompiler", "Fn"]
