"""The frozen, typed, resolved intermediate representation every engine and translator reads.

One `Model` is one variant of one spec: constants folded, names resolved, actors split into
instances and lowered into labelled atomic steps, labelled procedures inlined at their call sites.
Every runtime check (null dereference, index bounds, integer range, list capacity) has a numbered
`Site` so engines can say which one failed and where.
"""

from __future__ import annotations

from dataclasses import field
from enum import Enum

from drvmc.checker.errors import NO_SPAN, Span
from drvmc.checker.nodeclass import node


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, repr=False)


# ---- types ----


@node
class BoolType:
    def __str__(self) -> str:
        return "bool"


@node
class IntType:
    lo: int
    hi: int

    def __str__(self) -> str:
        return str(self.lo) if self.lo == self.hi else f"{self.lo}..{self.hi}"

    @property
    def default(self) -> int:
        """What a variable of this type holds when nothing initialises it: 0 if the range
        holds it, else the lower end (every engine and export starts from this value)."""
        return 0 if self.lo <= 0 <= self.hi else self.lo


@node
class EnumType:
    name: str
    members: tuple[str, ...]
    nullable: bool = False

    def __str__(self) -> str:
        return self.name + ("?" if self.nullable else "")

    def strict(self) -> EnumType:
        return EnumType(self.name, self.members, False)

    def as_nullable(self) -> EnumType:
        return EnumType(self.name, self.members, True)


@node
class NullType:
    """The type of the literal `null`, before it meets a nullable handle type."""

    def __str__(self) -> str:
        return "null"


@node
class RecordType:
    name: str
    fields: tuple[tuple[str, Type], ...]

    def __str__(self) -> str:
        return self.name

    def field_type(self, name: str) -> Type | None:
        for n, t in self.fields:
            if n == name:
                return t
        return None

    def field_index(self, name: str) -> int:
        """The field's position (records are tuples in field order in the explicit engine)."""
        for i, (n, _) in enumerate(self.fields):
            if n == name:
                return i
        raise KeyError(name)


@node
class ArrayType:
    index: EnumType | IntType
    elem: Type

    def __str__(self) -> str:
        return f"{self.elem}[{self.index}]"


@node
class ListType:
    elem: Type | None  # None only for the empty literal `[]`
    cap: int

    def __str__(self) -> str:
        return f"list<{self.elem}, {self.cap}>"


Type = BoolType | IntType | EnumType | NullType | RecordType | ArrayType | ListType

BOOL = BoolType()


def index_values(t: EnumType | IntType) -> tuple[int, ...]:
    """The concrete index values of an array's index type (enum members by position)."""
    match t:
        case EnumType():
            return tuple(range(len(t.members)))
        case IntType():
            return tuple(range(t.lo, t.hi + 1))


# ---- runtime check sites ----


class Builtin(Enum):
    """Properties the language checks by itself; the first two are driver-core properties."""

    NULL_DEREF = "null_deref"
    OUT_OF_BOUNDS = "out_of_bounds"
    OVERFLOW = "overflow"
    CAPACITY = "capacity"


@node
class Site:
    """One place where a property can fail: an `assert` or a built-in runtime check."""

    id: int
    prop: str
    message: str
    fatal: bool
    span: Span = _span()


# ---- expressions ----


@node
class Lit:
    """bool, int, enum member (by position) or None for null."""

    value: bool | int | None
    type: Type
    span: Span = _span()


class Scope(Enum):
    STATE = "state"  # a state variable: global, actor-local or inlined procedure variable
    TEMP = "temp"  # lives only inside one atomic step


@node
class VarRef:
    name: str
    scope: Scope
    type: Type
    span: Span = _span()


@node
class FieldRef:
    base: Expr
    name: str
    type: Type
    span: Span = _span()


@node
class IndexRef:
    """`base[index]` on an array or a list; `site` is the null/bounds check, if one is needed."""

    base: Expr
    index: Expr
    type: Type
    site: int | None
    span: Span = _span()


class UnaryOp(Enum):
    NOT = "!"
    NEG = "-"


@node
class Unary:
    op: UnaryOp
    operand: Expr
    type: Type
    span: Span = _span()


class BinaryOp(Enum):
    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"
    MOD = "%"
    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    AND = "&&"
    OR = "||"
    IMPLIES = "=>"


@node
class Binary:
    op: BinaryOp
    left: Expr
    right: Expr
    type: Type
    span: Span = _span()


@node
class Ite:
    cond: Expr
    then: Expr
    orelse: Expr
    type: Type
    span: Span = _span()


@node
class Coerce:
    """A value flowing into a narrower type: an int into a smaller range, a handle into non-null."""

    operand: Expr
    type: Type
    site: int
    span: Span = _span()


class ListQuery(Enum):
    LEN = "len"
    CONTAINS = "contains"
    INDEX_OF = "index_of"
    LAST_INDEX_OF = "last_index_of"


@node
class ListFn:
    fn: ListQuery
    list: Expr
    arg: Expr | None
    type: Type
    span: Span = _span()


class QuantKind(Enum):
    FORALL = "forall"
    EXISTS = "exists"


@node
class Quant:
    """Finite quantifier; `var` is bound to each of `values` in turn."""

    kind: QuantKind
    var: str
    var_type: Type
    values: tuple[Lit, ...]
    body: Expr
    type: Type
    span: Span = _span()


@node
class RecordLit:
    type: RecordType
    values: tuple[Expr, ...]
    span: Span = _span()


@node
class ListLit:
    type: ListType
    items: tuple[Expr, ...]
    span: Span = _span()


@node
class ArrayLit:
    """An array given element by element: `items` in the order of the index's values."""

    type: ArrayType
    items: tuple[Expr, ...]
    span: Span = _span()


@node
class ArrayFill:
    """Every element of an array set to one value (initialisers)."""

    type: ArrayType
    value: Expr
    span: Span = _span()


Expr = (
    Lit
    | VarRef
    | FieldRef
    | IndexRef
    | Unary
    | Binary
    | Ite
    | Coerce
    | ListFn
    | Quant
    | RecordLit
    | ListLit
    | ArrayLit
    | ArrayFill
)


# ---- statements ----


@node
class Assign:
    target: Expr
    value: Expr
    span: Span = _span()


@node
class If:
    cond: Expr
    then: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...]
    span: Span = _span()


@node
class For:
    var: str
    var_type: Type
    values: tuple[Lit, ...]
    body: tuple[Stmt, ...]
    span: Span = _span()


@node
class Await:
    cond: Expr
    span: Span = _span()


@node
class Assume:
    cond: Expr
    span: Span = _span()


@node
class Assert:
    cond: Expr
    site: int
    span: Span = _span()


@node
class Either:
    branches: tuple[tuple[Stmt, ...], ...]
    span: Span = _span()


@node
class StaticDomain:
    values: tuple[Lit, ...]


@node
class RangeDomain:
    """`lo..hi` with bounds known only at run time; empty ranges block the step."""

    lo: Expr
    hi: Expr


Domain = StaticDomain | RangeDomain


@node
class Choose:
    target: Expr
    type: Type
    domain: Domain
    span: Span = _span()


@node
class Call:
    """A call of an atomic procedure, which runs inside the caller's step."""

    proc: str
    args: tuple[Expr, ...]
    target: Expr | None
    span: Span = _span()


@node
class Return:
    value: Expr | None
    span: Span = _span()


@node
class LocalDecl:
    name: str
    type: Type
    init: Expr | None  # None: any value of the type
    span: Span = _span()


class ListMut(Enum):
    APPEND = "append"
    REMOVE_AT = "remove_at"
    POP = "pop"
    CLEAR = "clear"
    TRUNCATE = "truncate"  # keep the first `arg` items
    REMOVE_RANGE = "remove_range"  # remove items arg..arg2-1, shifting the rest down


@node
class ListOp:
    op: ListMut
    target: Expr
    arg: Expr | None
    site: int | None
    span: Span = _span()
    arg2: Expr | None = None


@node
class Goto:
    """End of a step: continue at `label` (None: the actor is done)."""

    label: str | None
    span: Span = _span()


@node
class Trace:
    """Marks a driver-core call in a step, so traces can say which kernel function ran."""

    proc: str
    args: tuple[Expr, ...]
    depth: int
    span: Span = _span()


Stmt = (
    Assign
    | If
    | For
    | Await
    | Assume
    | Assert
    | Either
    | Choose
    | Call
    | Return
    | LocalDecl
    | ListOp
    | Goto
    | Trace
)


# ---- model ----


@node
class StateVar:
    name: str
    type: Type
    init: Expr | None  # None: any value of the type
    owner: str | None  # actor instance for actor-local and inlined-procedure variables
    span: Span = _span()


@node
class Proc:
    name: str
    params: tuple[tuple[str, Type], ...]
    result: Type | None
    body: tuple[Stmt, ...]
    span: Span = _span()


@node
class Step:
    label: str
    body: tuple[Stmt, ...]
    span: Span = _span()


@node
class Actor:
    name: str
    family: str
    index: int | None
    steps: tuple[Step, ...]
    span: Span = _span()
    index_type: Type | None = None  # an indexed family's: the type of its index variable
    # a spawnable actor (one of a pool): while it stands at its first step and this holds, it
    # has not been spawned and counts as finished (for deadlock and `final`), as one that ran
    # to its end does
    dormant: Expr | None = None

    def step(self, label: str) -> Step:
        for s in self.steps:
            if s.label == label:
                return s
        raise KeyError(label)


class PropKind(Enum):
    ASSERT = "assert"  # a class of assertions and runtime checks (sticky when failed)
    INVARIANT = "invariant"
    FINAL = "final"
    REACHABLE = "reachable"
    DEADLOCK = "deadlock"


@node
class Property:
    name: str
    kind: PropKind
    description: str
    expr: Expr | None
    span: Span = _span()


class Verdict(Enum):
    VIOLATED = "VIOLATED"
    SAFE = "SAFE"
    PROVEN = "PROVEN"
    REACHABLE = "REACHABLE"
    UNREACHABLE = "UNREACHABLE"


@node
class Expect:
    prop: str | None  # None: every property not named in another expect line
    verdict: Verdict
    length: int | None
    span: Span = _span()


@node
class Assumption:
    """A declared simplification (`simplification NAME "..."`) that code reachable in this model
    relies on: the model is coarser than the kernel there, so proofs hold only under it."""

    name: str
    description: str
    span: Span


@node
class Model:
    spec: str
    description: str
    file: str
    variant: str
    variant_description: str
    vars: tuple[StateVar, ...]
    procs: tuple[Proc, ...]
    actors: tuple[Actor, ...]
    sites: tuple[Site, ...]
    properties: tuple[Property, ...]
    expects: tuple[Expect, ...]
    files: tuple[str, ...] = ()
    assumptions: tuple[Assumption, ...] = ()

    def proc(self, name: str) -> Proc:
        for p in self.procs:
            if p.name == name:
                return p
        raise KeyError(name)

    def prop(self, name: str) -> Property:
        for p in self.properties:
            if p.name == name:
                return p
        raise KeyError(name)

    def var(self, name: str) -> StateVar:
        for v in self.vars:
            if v.name == name:
                return v
        raise KeyError(name)


# ---- traversal ----


def expr_children(e: Expr) -> tuple[Expr, ...]:
    """The sub-expressions of e, one level down."""
    match e:
        case FieldRef():
            return (e.base,)
        case IndexRef():
            return (e.base, e.index)
        case Unary() | Coerce():
            return (e.operand,)
        case Binary():
            return (e.left, e.right)
        case Ite():
            return (e.cond, e.then, e.orelse)
        case ListFn():
            return (e.list,) if e.arg is None else (e.list, e.arg)
        case Quant():
            return (e.body,)
        case RecordLit():
            return e.values
        case ListLit():
            return e.items
        case ArrayLit():
            return e.items
        case ArrayFill():
            return (e.value,)
        case _:
            return ()


def stmt_exprs(s: Stmt) -> tuple[Expr, ...]:
    """The expressions a statement evaluates itself (targets included, nested bodies not)."""
    match s:
        case Assign():
            return (s.target, s.value)
        case If():
            return (s.cond,)
        case Await() | Assume() | Assert():
            return (s.cond,)
        case Choose():
            rng = (s.domain.lo, s.domain.hi) if isinstance(s.domain, RangeDomain) else ()
            return (s.target, *rng)
        case Call():
            return s.args if s.target is None else (*s.args, s.target)
        case Return():
            return () if s.value is None else (s.value,)
        case LocalDecl():
            return () if s.init is None else (s.init,)
        case ListOp():
            return (s.target, *(a for a in (s.arg, s.arg2) if a is not None))
        case Trace():
            return s.args
        case _:
            return ()


def stmt_target(s: Stmt) -> Expr | None:
    """What a statement writes, if it writes state."""
    match s:
        case Assign() | Choose() | ListOp():
            return s.target
        case Call():
            return s.target
        case _:
            return None


def stmt_bodies(s: Stmt) -> tuple[tuple[Stmt, ...], ...]:
    match s:
        case If():
            return (s.then, s.orelse)
        case For():
            return (s.body,)
        case Either():
            return s.branches
        case _:
            return ()
