"""The untyped syntax tree of a spec file, one node per construct, each with its source span."""

from __future__ import annotations

from dataclasses import field
from enum import Enum

from drvmc.checker.errors import NO_SPAN, Span
from drvmc.checker.nodeclass import node


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, repr=False)


# ---- types ----


@node
class TBool:
    span: Span = _span()


@node
class TRange:
    lo: Expr
    hi: Expr
    span: Span = _span()


@node
class TNamed:
    name: str
    span: Span = _span()


@node
class TNullable:
    name: str
    span: Span = _span()


@node
class TList:
    elem: TypeExpr
    cap: Expr
    span: Span = _span()


@node
class TArray:
    elem: TypeExpr
    index: TypeExpr
    span: Span = _span()


@node
class TCallback:
    """`proc(T, ...) [-> R]`: a reference to a procedure of that signature; `proc(T)?` may be
    null."""

    params: tuple[TypeExpr, ...]
    result: TypeExpr | None
    nullable: bool
    span: Span = _span()


TypeExpr = TBool | TRange | TNamed | TNullable | TList | TArray | TCallback


# ---- expressions ----


@node
class IntLit:
    value: int
    span: Span = _span()


@node
class BoolLit:
    value: bool
    span: Span = _span()


@node
class NullLit:
    span: Span = _span()


@node
class AnyInit:
    """`any`: every value of the declared type is a possible initial value."""

    span: Span = _span()


@node
class Name:
    name: str
    span: Span = _span()


@node
class FieldAccess:
    base: Expr
    name: str
    span: Span = _span()


@node
class Index:
    base: Expr
    index: Expr
    span: Span = _span()


@node
class Arg:
    name: str | None
    value: Expr
    span: Span = _span()


@node
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


@node
class Unary:
    op: UnOp
    operand: Expr
    span: Span = _span()


@node
class Binary:
    op: BinOp
    left: Expr
    right: Expr
    span: Span = _span()


@node
class SetRange:
    lo: Expr
    hi: Expr
    span: Span = _span()


@node
class SetLit:
    items: tuple[Expr, ...]
    span: Span = _span()


@node
class SetNamed:
    """A type name (enum or range) or a list used as a set."""

    expr: Expr
    span: Span = _span()


SetExpr = SetRange | SetLit | SetNamed


@node
class InSet:
    elem: Expr
    set: SetExpr
    span: Span = _span()


class Quant(Enum):
    FORALL = "forall"
    EXISTS = "exists"


@node
class Quantifier:
    kind: Quant
    var: str
    domain: SetExpr
    body: Expr
    span: Span = _span()


@node
class ListLit:
    items: tuple[Expr, ...]
    span: Span = _span()


@node
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


@node
class LabelMark:
    name: str
    span: Span = _span()


@node
class Assign:
    target: Expr
    value: Expr
    span: Span = _span()


@node
class ExprStmt:
    expr: Expr
    span: Span = _span()


@node
class LocalDecl:
    name: str
    type: TypeExpr
    init: Init | None
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
    domain: SetExpr
    body: tuple[Stmt, ...]
    span: Span = _span()


@node
class While:
    cond: Expr
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
    prop: str | None
    message: str | None
    span: Span = _span()


@node
class Either:
    branches: tuple[tuple[Stmt, ...], ...]
    span: Span = _span()


@node
class Choose:
    var: str
    domain: SetExpr
    span: Span = _span()


@node
class Return:
    value: Expr | None
    span: Span = _span()


@node
class Skip:
    span: Span = _span()


@node
class Simplified:
    """`simplified NAME`: the code path this statement lies on is coarser than the kernel in the
    way simplification NAME declares; a verdict of a model that can reach it names it."""

    name: str
    span: Span = _span()


@node
class Break:
    span: Span = _span()


@node
class Continue:
    span: Span = _span()


@node
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


@node
class Header:
    name: str
    description: str
    span: Span = _span()


@node
class Use:
    path: str
    span: Span = _span()


@node
class ConstDecl:
    name: str
    value: Expr
    span: Span = _span()


@node
class EnumDecl:
    name: str
    members: tuple[str, ...]
    member_spans: tuple[Span, ...] = field(default=(), compare=False, repr=False)
    span: Span = _span()
    default: bool = False  # `default enum`: a library default a spec file may replace


@node
class Field:
    name: str
    type: TypeExpr
    span: Span = _span()


@node
class RecordDecl:
    name: str
    fields: tuple[Field, ...]
    span: Span = _span()
    default: bool = False  # `default record`: a library default a spec file may replace


@node
class VarDecl:
    name: str
    type: TypeExpr
    init: Init | None
    span: Span = _span()
    default: bool = False  # `default var`: a library default a spec file may replace


@node
class Param:
    name: str
    type: TypeExpr
    span: Span = _span()


@node
class ProcDecl:
    name: str
    params: tuple[Param, ...]
    result: TypeExpr | None
    body: tuple[Stmt, ...]
    span: Span = _span()
    pure: bool = False  # `func`: a side-effect-free function, called inside expressions
    default: bool = False  # `default proc`/`default func`: a library default a spec may replace


@node
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


@node
class SimplificationDecl:
    """`simplification NAME "what is coarser than the kernel, and the bugs it can hide"`."""

    name: str
    description: str
    span: Span = _span()


@node
class PropertyDecl:
    """`property NAME "description"`: a class of assertions (`assert c as NAME`)."""

    name: str
    description: str
    span: Span = _span()


@node
class StateProp:
    kind: PropKind
    name: str
    expr: Expr
    span: Span = _span()
    description: str | None = None  # None: the expression's source text describes it


@node
class AllowDecl:
    what: str
    span: Span = _span()


@node
class VariantDecl:
    name: str
    description: str
    items: tuple[Decl, ...]
    span: Span = _span()
    base: str | None = None  # `extends BASE`: BASE's declarations apply first


@node
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


@node
class SpecFile:
    path: str
    header: Header | None
    decls: tuple[Decl, ...]
