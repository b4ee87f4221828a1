"""The untyped syntax tree of a spec file, one node per construct, each with its source span."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from drvmc.checker.errors import NO_SPAN, Span


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, repr=False)


# ---- types ----


@dataclass(frozen=True)
class TBool:
    span: Span = _span()


@dataclass(frozen=True)
class TRange:
    lo: Expr
    hi: Expr
    span: Span = _span()


@dataclass(frozen=True)
class TNamed:
    name: str
    span: Span = _span()


@dataclass(frozen=True)
class TNullable:
    name: str
    span: Span = _span()


@dataclass(frozen=True)
class TList:
    elem: TypeExpr
    cap: Expr
    span: Span = _span()


@dataclass(frozen=True)
class TArray:
    elem: TypeExpr
    index: TypeExpr
    span: Span = _span()


@dataclass(frozen=True)
class TCallback:
    """`proc(T, ...) [-> R]`: a reference to a procedure of that signature; `proc(T)?` may be
    null."""

    params: tuple[TypeExpr, ...]
    result: TypeExpr | None
    nullable: bool
    span: Span = _span()


TypeExpr = TBool | TRange | TNamed | TNullable | TList | TArray | TCallback


# ---- expressions ----


@dataclass(frozen=True)
class IntLit:
    value: int
    span: Span = _span()


@dataclass(frozen=True)
class BoolLit:
    value: bool
    span: Span = _span()


@dataclass(frozen=True)
class NullLit:
    span: Span = _span()


@dataclass(frozen=True)
class AnyInit:
    """`any`: every value of the declared type is a possible initial value."""

    span: Span = _span()


@dataclass(frozen=True)
class Name:
    name: str
    span: Span = _span()


@dataclass(frozen=True)
class FieldAccess:
    base: Expr
    name: str
    span: Span = _span()


@dataclass(frozen=True)
class Index:
    base: Expr
    index: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Arg:
    name: str | None
    value: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Call:
    func: Expr
    args: tuple[Arg, ...]
    span: Span = _span()


class UnOp(Enum):
    NOT = "!"
    NEG = "-"


class BinOp(Enum):
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


@dataclass(frozen=True)
class Unary:
    op: UnOp
    operand: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Binary:
    op: BinOp
    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True)
class SetRange:
    lo: Expr
    hi: Expr
    span: Span = _span()


@dataclass(frozen=True)
class SetLit:
    items: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True)
class SetNamed:
    """A type name (enum or range) or a list used as a set."""

    expr: Expr
    span: Span = _span()


SetExpr = SetRange | SetLit | SetNamed


@dataclass(frozen=True)
class InSet:
    elem: Expr
    set: SetExpr
    span: Span = _span()


class Quant(Enum):
    FORALL = "forall"
    EXISTS = "exists"


@dataclass(frozen=True)
class Quantifier:
    kind: Quant
    var: str
    domain: SetExpr
    body: Expr
    span: Span = _span()


@dataclass(frozen=True)
class ListLit:
    items: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True)
class ArrayLit:
    """`[k: v, ...]`: an array value given per element (the rest take the type's default)."""

    entries: tuple[tuple[Expr, Expr], ...]
    span: Span = _span()


Expr = (
    IntLit
    | BoolLit
    | NullLit
    | Name
    | FieldAccess
    | Index
    | Call
    | Unary
    | Binary
    | InSet
    | Quantifier
    | ListLit
    | ArrayLit
)
Init = Expr | AnyInit


# ---- statements ----


@dataclass(frozen=True)
class LabelMark:
    name: str
    span: Span = _span()


@dataclass(frozen=True)
class Assign:
    target: Expr
    value: Expr
    span: Span = _span()


@dataclass(frozen=True)
class ExprStmt:
    expr: Expr
    span: Span = _span()


@dataclass(frozen=True)
class LocalDecl:
    name: str
    type: TypeExpr
    init: Init | None
    span: Span = _span()


@dataclass(frozen=True)
class If:
    cond: Expr
    then: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...]
    span: Span = _span()


@dataclass(frozen=True)
class For:
    var: str
    domain: SetExpr
    body: tuple[Stmt, ...]
    span: Span = _span()


@dataclass(frozen=True)
class While:
    cond: Expr
    body: tuple[Stmt, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Await:
    cond: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Assume:
    cond: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Assert:
    cond: Expr
    prop: str | None
    message: str | None
    span: Span = _span()


@dataclass(frozen=True)
class Either:
    branches: tuple[tuple[Stmt, ...], ...]
    span: Span = _span()


@dataclass(frozen=True)
class Choose:
    var: str
    domain: SetExpr
    span: Span = _span()


@dataclass(frozen=True)
class Return:
    value: Expr | None
    span: Span = _span()


@dataclass(frozen=True)
class Skip:
    span: Span = _span()


@dataclass(frozen=True)
class Simplified:
    """`simplified NAME`: the code path this statement lies on is coarser than the kernel in the
    way simplification NAME declares; a verdict of a model that can reach it names it."""

    name: str
    span: Span = _span()


@dataclass(frozen=True)
class Break:
    span: Span = _span()


@dataclass(frozen=True)
class Continue:
    span: Span = _span()


@dataclass(frozen=True)
class Spawn:
    """`spawn name(args)`: start a dormant instance of a pool actor with these parameters."""

    actor: str
    args: tuple[Arg, ...]
    span: Span = _span()


Stmt = (
    LabelMark
    | Assign
    | ExprStmt
    | LocalDecl
    | If
    | For
    | While
    | Await
    | Assume
    | Assert
    | Either
    | Choose
    | Return
    | Skip
    | Simplified
    | Break
    | Continue
    | Spawn
)


# ---- declarations ----


@dataclass(frozen=True)
class Header:
    name: str
    description: str
    span: Span = _span()


@dataclass(frozen=True)
class Use:
    path: str
    span: Span = _span()


@dataclass(frozen=True)
class ConstDecl:
    name: str
    value: Expr
    span: Span = _span()


@dataclass(frozen=True)
class EnumDecl:
    name: str
    members: tuple[str, ...]
    member_spans: tuple[Span, ...] = field(default=(), compare=False, repr=False)
    span: Span = _span()
    default: bool = False  # `default enum`: a library default a spec file may replace


@dataclass(frozen=True)
class Field:
    name: str
    type: TypeExpr
    span: Span = _span()


@dataclass(frozen=True)
class RecordDecl:
    name: str
    fields: tuple[Field, ...]
    span: Span = _span()
    default: bool = False  # `default record`: a library default a spec file may replace


@dataclass(frozen=True)
class VarDecl:
    name: str
    type: TypeExpr
    init: Init | None
    span: Span = _span()
    default: bool = False  # `default var`: a library default a spec file may replace


@dataclass(frozen=True)
class Param:
    name: str
    type: TypeExpr
    span: Span = _span()


@dataclass(frozen=True)
class ProcDecl:
    name: str
    params: tuple[Param, ...]
    result: TypeExpr | None
    body: tuple[Stmt, ...]
    span: Span = _span()
    pure: bool = False  # `func`: a side-effect-free function, called inside expressions
    default: bool = False  # `default proc`/`default func`: a library default a spec may replace


@dataclass(frozen=True)
class ActorDecl:
    name: str
    index_var: str | None
    index_domain: SetExpr | None
    body: tuple[Stmt, ...]
    span: Span = _span()
    # `actor name(p: T, ...) pool N { ... }`: N dormant instances, each started by `spawn`
    params: tuple[Param, ...] | None = None
    pool: Expr | None = None


class PropKind(Enum):
    INVARIANT = "invariant"
    FINAL = "final"
    REACHABLE = "reachable"


@dataclass(frozen=True)
class SimplificationDecl:
    """`simplification NAME "what is coarser than the kernel, and the bugs it can hide"`."""

    name: str
    description: str
    span: Span = _span()


@dataclass(frozen=True)
class PropertyDecl:
    """`property NAME "description"`: a class of assertions (`assert c as NAME`)."""

    name: str
    description: str
    span: Span = _span()


@dataclass(frozen=True)
class StateProp:
    kind: PropKind
    name: str
    expr: Expr
    span: Span = _span()
    description: str | None = None  # None: the expression's source text describes it


@dataclass(frozen=True)
class AllowDecl:
    what: str
    span: Span = _span()


@dataclass(frozen=True)
class VariantDecl:
    name: str
    description: str
    items: tuple[Decl, ...]
    span: Span = _span()
    base: str | None = None  # `extends BASE`: BASE's declarations apply first


@dataclass(frozen=True)
class ExpectDecl:
    """`expect VARIANT [P1, P2, ...]: VERDICT [LENGTH]`: no property names the whole variant."""

    variant: str
    props: tuple[str, ...]
    verdict: str
    length: int | None
    span: Span = _span()


Decl = (
    Use
    | ConstDecl
    | EnumDecl
    | RecordDecl
    | VarDecl
    | ProcDecl
    | ActorDecl
    | PropertyDecl
    | SimplificationDecl
    | StateProp
    | AllowDecl
    | VariantDecl
    | ExpectDecl
)


@dataclass(frozen=True)
class SpecFile:
    path: str
    header: Header | None
    decls: tuple[Decl, ...]
