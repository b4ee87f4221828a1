"""One walk over IR expressions, shared by the translators that turn them into text.

`ExprVisitor.visit` dispatches on the expression's kind (every kind: mypy's exhaustive-match
check fails when checker/ir/nodes.py gains one) to one method per kind; temporaries are looked up
through the stack of frames every translator keeps. The Promela and TLA+ exports subclass it; `C`
is whatever an export collects on the way (its run-time checks).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Generic, TypeVar, assert_never

from drvmc.checker.errors import EngineError
from drvmc.checker.ir import nodes as I

V = TypeVar("V")
C = TypeVar("C")


class ExprVisitor(ABC, Generic[V, C]):
    frames: list[dict[str, V]]

    def visit(self, e: I.Expr, ck: C) -> V:
        match e:
            case I.Lit():
                return self.lit(e, ck)
            case I.VarRef():
                if e.scope is I.Scope.STATE:
                    return self.state_var(e, ck)
                return self.temp(e.name)
            case I.FieldRef():
                return self.field_ref(e, ck)
            case I.IndexRef():
                return self.index_ref(e, ck)
            case I.Unary():
                return self.unary(e, ck)
            case I.Binary():
                return self.binary(e, ck)
            case I.Ite():
                return self.ite(e, ck)
            case I.Coerce():
                return self.coerce(e, ck)
            case I.ListFn():
                return self.list_fn(e, ck)
            case I.Quant():
                return self.quant(e, ck)
            case I.RecordLit():
                return self.record_lit(e, ck)
            case I.ListLit():
                return self.list_lit(e, ck)
            case I.ArrayLit():
                return self.array_lit(e, ck)
            case I.ArrayFill():
                return self.array_fill(e, ck)
            case _:
                assert_never(e)

    def temp(self, name: str) -> V:
        """A temporary (a parameter, a local, a bound variable), innermost frame first."""
        for fr in reversed(self.frames):
            if name in fr:
                return fr[name]
        raise EngineError(f"unbound temporary {name}")

    @abstractmethod
    def lit(self, e: I.Lit, ck: C) -> V:
        ...

    @abstractmethod
    def state_var(self, e: I.VarRef, ck: C) -> V:
        ...

    @abstractmethod
    def field_ref(self, e: I.FieldRef, ck: C) -> V:
        ...

    @abstractmethod
    def index_ref(self, e: I.IndexRef, ck: C) -> V:
        ...

    @abstractmethod
    def unary(self, e: I.Unary, ck: C) -> V:
        ...

    @abstractmethod
    def binary(self, e: I.Binary, ck: C) -> V:
        ...

    @abstractmethod
    def ite(self, e: I.Ite, ck: C) -> V:
        ...

    @abstractmethod
    def coerce(self, e: I.Coerce, ck: C) -> V:
        ...

    @abstractmethod
    def list_fn(self, e: I.ListFn, ck: C) -> V:
        ...

    @abstractmethod
    def quant(self, e: I.Quant, ck: C) -> V:
        ...

    @abstractmethod
    def record_lit(self, e: I.RecordLit, ck: C) -> V:
        ...

    @abstractmethod
    def list_lit(self, e: I.ListLit, ck: C) -> V:
        ...

    @abstractmethod
    def array_lit(self, e: I.ArrayLit, ck: C) -> V:
        ...

    @abstractmethod
    def array_fill(self, e: I.ArrayFill, ck: C) -> V:
        ...
