"""A small, frozen C syntax tree: what extraction reads of a driver's source.

tree-sitter's nodes stay in `cparse`; the rest of the extractor works on these plain values, so
the lowering can be read (and tested) without the parser. Only what the lowering needs is kept:
anything else becomes `Other` with its text and its sub-expressions (so a dereference inside an
unsupported construct is still seen), or a `Skipped` statement that the summary counts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CType:
    """A declared type, reduced to what identifies an object: `struct foo *` is
    CType("foo", struct=True, pointer=True)."""

    name: str
    struct: bool = False
    pointer: bool = False


# ---- expressions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ident:
    name: str


@dataclass(frozen=True)
class Literal:
    text: str  # a number, a string, NULL, true/false


@dataclass(frozen=True)
class Call:
    func: str  # the callee's name; "" when called through an expression
    args: tuple[Expr, ...]
    line: int


@dataclass(frozen=True)
class Member:
    base: Expr
    field: str
    arrow: bool  # `->` (a dereference of base) rather than `.`


@dataclass(frozen=True)
class Index:
    base: Expr
    index: Expr


@dataclass(frozen=True)
class Unary:
    op: str  # & * ! - ~ ++ --
    operand: Expr


@dataclass(frozen=True)
class Binary:
    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Assign:
    target: Expr
    op: str
    value: Expr


@dataclass(frozen=True)
class Other:
    text: str
    parts: tuple[Expr, ...]


Expr = Ident | Literal | Call | Member | Index | Unary | Binary | Assign | Other


# ---- statements -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decl:
    line: int
    ctype: CType
    name: str
    init: Expr | None


@dataclass(frozen=True)
class ExprStmt:
    line: int
    expr: Expr


@dataclass(frozen=True)
class If:
    line: int
    cond: Expr
    then: tuple[Stmt, ...]
    els: tuple[Stmt, ...]


@dataclass(frozen=True)
class Return:
    line: int
    value: Expr | None


@dataclass(frozen=True)
class Goto:
    line: int
    label: str


@dataclass(frozen=True)
class Label:
    line: int
    name: str


@dataclass(frozen=True)
class Loop:
    """for/while/do: its body may run any number of times; the lowering abstracts it."""

    line: int
    text: str
    body: tuple[Stmt, ...]


@dataclass(frozen=True)
class Skipped:
    """A statement the parser could not read, or a kind the extractor does not handle."""

    line: int
    text: str


Stmt = Decl | ExprStmt | If | Return | Goto | Label | Loop | Skipped


# ---- top level --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    name: str
    ctype: CType


@dataclass(frozen=True)
class Function:
    name: str
    line: int
    file: str
    params: tuple[Param, ...]
    body: tuple[Stmt, ...]


@dataclass(frozen=True)
class Field:
    name: str
    ctype: CType


@dataclass(frozen=True)
class StructDef:
    name: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class InitEntry:
    """One entry of a brace initializer: `.probe = foo_probe` (path ("probe",)), a nested one
    (`.driver = { .pm = &foo_pm }`: ("driver", "pm")), or a positional macro entry
    (`SET_RUNTIME_PM_OPS(a, b, NULL)`: path (), value the call)."""

    path: tuple[str, ...]
    value: Expr


@dataclass(frozen=True)
class Global:
    """A file-scope object with a brace initializer (a driver struct, ops tables)."""

    name: str
    type_name: str
    line: int
    entries: tuple[InitEntry, ...]
    array: tuple[Expr, ...] = ()  # the elements of an array initializer (attribute lists)


@dataclass(frozen=True)
class Macro:
    """A file-scope macro use: `DEVICE_ATTR_RO(foo);`, `ATTRIBUTE_GROUPS(foo);`,
    `module_platform_driver(foo_driver);`, `DEFINE_RUNTIME_DEV_PM_OPS(...)`."""

    name: str
    args: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Unit:
    """What one or more C files hold, merged."""

    functions: tuple[Function, ...]
    structs: tuple[StructDef, ...]
    globals: tuple[Global, ...]
    macros: tuple[Macro, ...]
    skipped: tuple[tuple[str, int, str], ...]  # (file, line, text) the parser could not read
