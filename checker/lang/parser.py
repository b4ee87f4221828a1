"""Text → lark tree → AST. lark stays inside this module."""

from __future__ import annotations

import dataclasses
import functools
from importlib import resources
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from drvmc.checker.errors import Diagnostic, Span, SpecError
from drvmc.checker.lang import ast as A

MAX_SOURCE_BYTES = 1_000_000
MAX_NESTING = 200


@functools.cache
def _parser() -> Lark:
    text = grammar_text()
    # cache=True: lark keeps the built LALR tables in the temp folder, keyed by a hash of the
    # grammar and options (a rebuilt grammar gets a new file): half a second off every start
    return Lark(text, parser="lalr", propagate_positions=True, maybe_placeholders=True,
                cache=True)


def grammar_text() -> str:
    grammar = resources.files("drvmc.checker.lang").joinpath("grammar.lark")
    return grammar.read_text(encoding="utf-8")


_TOKEN_NAMES = {
    "NAME": "a name",
    "INT": "a number",
    "STRING": "a string",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COLON": "':'",
    "COMMA": "','",
    "EQUAL": "'='",
    "$END": "end of file",
}


def _describe_expected(expected: set[str]) -> str:
    names = sorted({_TOKEN_NAMES.get(e, e.lower().strip("_")) for e in expected})
    if len(names) > 8:
        names = [*names[:8], "..."]
    return ", ".join(names)


def parse_text(text: str, path: str) -> A.SpecFile:
    """Parse one spec file. Raises SpecError with a position on any syntax error."""
    if len(text.encode("utf-8", errors="replace")) > MAX_SOURCE_BYTES:
        raise SpecError(
            [Diagnostic("E001", f"spec file is larger than {MAX_SOURCE_BYTES} bytes",
                        Span(path, 1, 1, 1, 2))]
        )
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as e:
        raise SpecError([_syntax_diagnostic(e, path, text)]) from None
    except RecursionError:
        raise SpecError(
            [Diagnostic("E002", "spec is nested too deeply to parse", Span(path, 1, 1, 1, 2))]
        ) from None
    too_deep = _too_deep(tree, MAX_NESTING)
    if too_deep is not None:
        # Every later stage recurses over the tree: refuse deep nesting here, with a position,
        # rather than let Python's recursion limit fail somewhere downstream.
        sp = _Builder(path).span(too_deep)
        raise SpecError([Diagnostic("E002", f"spec is nested deeper than {MAX_NESTING} levels",
                                    Span(path, sp.line, sp.col, sp.line, sp.col + 1))])
    try:
        return _Builder(path).spec(tree)
    except RecursionError:
        raise SpecError(
            [Diagnostic("E002", f"spec is nested deeper than {MAX_NESTING} levels",
                        Span(path, 1, 1, 1, 2))]
        ) from None


def _too_deep(tree: Tree[Any], limit: int) -> Tree[Any] | None:
    """The first node deeper than `limit` (counted in tree levels), found without recursion."""
    stack: list[tuple[Tree[Any], int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return node
        stack.extend((c, depth + 1) for c in node.children if isinstance(c, Tree))
    return None


def _syntax_diagnostic(e: UnexpectedInput, path: str, text: str) -> Diagnostic:
    line = getattr(e, "line", 1) or 1
    col = getattr(e, "column", 1) or 1
    if isinstance(e, UnexpectedToken):
        tok = e.token
        if tok.type == "$END":
            lines = text.splitlines() or [""]
            line, col = len(lines), len(lines[-1]) + 1
            msg = "unexpected end of file"
        else:
            msg = f"unexpected {tok.value!r}"
        exp = _describe_expected(set(e.expected or ()))
        if exp:
            msg += f"; expected {exp}"
        if tok.type != "NAME" and str(tok.value).isidentifier() and "NAME" in (e.expected or ()):
            msg += f" ('{tok.value}' is a keyword and cannot name a variable or a label)"
        width = max(1, len(str(tok.value))) if tok.type != "$END" else 1
        return Diagnostic("E010", msg, Span(path, line, col, line, col + width))
    if isinstance(e, UnexpectedCharacters):
        pos = e.pos_in_stream
        ch = text[pos] if pos is not None and 0 <= pos < len(text) else "?"
        return Diagnostic("E011", f"unexpected character {ch!r}",
                          Span(path, line, col, line, col + 1))
    if isinstance(e, UnexpectedEOF):
        lines = text.splitlines() or [""]
        ln = len(lines)
        return Diagnostic("E010", "unexpected end of file", Span(path, ln, len(lines[-1]) + 1, ln,
                                                                 len(lines[-1]) + 2))
    return Diagnostic("E010", "syntax error", Span(path, line, col, line, col + 1))


def _unquote(s: str) -> str:
    body = s[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\"}.get(nxt, nxt))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


class _Builder:
    """Turns the lark tree into AST nodes, attaching a span to each."""

    def __init__(self, path: str) -> None:
        self.path = path

    def span(self, node: Tree[Any] | Token) -> Span:
        if isinstance(node, Token):
            line = node.line or 1
            col = node.column or 1
            end_line = node.end_line or line
            end_col = node.end_column or col + 1
            return Span(self.path, line, col, end_line, end_col)
        meta = node.meta
        if getattr(meta, "empty", True):
            return Span(self.path, 1, 1, 1, 2)
        return Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    def int_token(self, tok: Token | Tree[Any]) -> int:
        # Python refuses int() of more than 4300 digits; no limit is near 40 digits anyway.
        digits = str(tok).lstrip("0") or "0"
        if len(digits) > 40:
            raise SpecError([Diagnostic("E150", f"integer literal of {len(digits)} digits is too "
                                        "large", self.span(tok))])
        return int(digits)

    # ---- file ----
    def spec(self, tree: Tree[Any]) -> A.SpecFile:
        header: A.Header | None = None
        decls: list[A.Decl] = []
        for child in tree.children:
            if isinstance(child, Tree) and child.data == "header":
                name = str(child.children[0])
                desc = _unquote(str(child.children[1])) if child.children[1] is not None else ""
                header = A.Header(name, desc, self.span(child))
            else:
                decls.append(self.decl(child))
        return A.SpecFile(self.path, header, tuple(decls))

    def decl(self, t: Tree[Any]) -> A.Decl:
        sp = self.span(t)
        c = t.children
        match t.data:
            case "use_decl":
                arg = c[0]
                if isinstance(arg, Token):
                    return A.Use(_unquote(str(arg)), sp)
                return A.Use("/".join(str(x) for x in arg.children), sp)
            case "const_decl":
                return A.ConstDecl(str(c[0]), self.expr(c[1]), sp)
            case "default_decl":
                inner = self.decl(c[0])
                assert isinstance(inner, A.EnumDecl | A.RecordDecl | A.VarDecl | A.ProcDecl)
                return dataclasses.replace(inner, default=True, span=sp)
            case "enum_decl":
                return A.EnumDecl(
                    str(c[0]),
                    tuple(str(x) for x in c[1:]),
                    tuple(self.span(x) for x in c[1:]),
                    sp,
                )
            case "record_decl":
                fields = tuple(
                    A.Field(str(f.children[0]), self.type(f.children[1]), self.span(f))
                    for f in c[1:]
                )
                return A.RecordDecl(str(c[0]), fields, sp)
            case "var_decl":
                return A.VarDecl(str(c[0]), self.type(c[1]), self.init(c[2]), sp)
            case "proc_decl" | "func_decl":
                params = tuple(
                    A.Param(str(p.children[0]), self.type(p.children[1]), self.span(p))
                    for p in c[1].children
                    if p is not None
                )
                result = self.type(c[2]) if c[2] is not None else None
                return A.ProcDecl(str(c[0]), params, result, self.block(c[3]), sp,
                                  pure=t.data == "func_decl")
            case "actor_decl":
                name = str(c[0])
                ivar: str | None = None
                idom: A.SetExpr | None = None
                if c[1] is not None:
                    ivar = str(c[1].children[0])
                    idom = self.set_expr(c[1].children[1])
                return A.ActorDecl(name, ivar, idom, self.block(c[2]), sp)
            case "pool_decl":
                params = tuple(
                    A.Param(str(p.children[0]), self.type(p.children[1]), self.span(p))
                    for p in c[1].children
                    if p is not None
                )
                pool = self.expr(c[2]) if c[2] is not None else None
                return A.ActorDecl(str(c[0]), None, None, self.block(c[3]), sp, params, pool)
            case "property_decl":
                return A.PropertyDecl(str(c[0]), _unquote(str(c[1])), sp)
            case "invariant_decl" | "final_decl" | "reachable_decl":
                kind = {"invariant_decl": A.PropKind.INVARIANT, "final_decl": A.PropKind.FINAL,
                        "reachable_decl": A.PropKind.REACHABLE}[t.data]
                desc = _unquote(str(c[1])) if c[1] is not None else None
                return A.StateProp(kind, str(c[0]), self.expr(c[2]), sp, desc)
            case "allow_decl":
                return A.AllowDecl(str(c[0]), sp)
            case "simplification_decl":
                return A.SimplificationDecl(str(c[0]), _unquote(str(c[1])), sp)
            case "variant_decl":
                base = str(c[1].children[0]) if c[1] is not None else None
                desc = _unquote(str(c[2])) if c[2] is not None else ""
                return A.VariantDecl(str(c[0]), desc, tuple(self.decl(x) for x in c[3:]), sp,
                                     base)
            case "expect_decl":
                variant = str(c[0])
                props = tuple(str(x) for x in c[1].children) if c[1] is not None else ()
                verdict = str(c[2])
                length = self.int_token(c[3]) if c[3] is not None else None
                return A.ExpectDecl(variant, props, verdict, length, sp)
            case _:
                raise AssertionError(f"unknown declaration {t.data}")

    # ---- types ----
    def type(self, t: Tree[Any]) -> A.TypeExpr:
        sp = self.span(t)
        c = t.children
        match t.data:
            case "bool_type":
                return A.TBool(sp)
            case "range_type":
                return A.TRange(self.expr(c[0]), self.expr(c[1]), sp)
            case "named_type":
                return A.TNamed(str(c[0]), sp)
            case "nullable_type":
                return A.TNullable(str(c[0]), sp)
            case "callback_type":
                *ps, res = c
                return A.TCallback(tuple(self.type(x) for x in ps if x is not None),
                                   self.type(res) if res is not None else None, False, sp)
            case "nullable_result_callback_type":
                *ps, res = c
                return A.TCallback(tuple(self.type(x) for x in ps if x is not None),
                                   self.type(res), True, sp)
            case "nullable_callback_type":
                return A.TCallback(tuple(self.type(x) for x in c if x is not None), None, True,
                                   sp)
            case "list_type":
                return A.TList(self.type(c[0]), self.expr(c[1]), sp)
            case "array_type":
                return A.TArray(self.type(c[0]), self.type(c[1]), sp)
            case _:
                raise AssertionError(f"unknown type {t.data}")

    def init(self, t: Tree[Any] | Token | None) -> A.Init | None:
        if t is None:
            return None
        if isinstance(t, Tree) and t.data == "init_any":
            return A.AnyInit(self.span(t))
        return self.expr(t)

    # ---- statements ----
    def block(self, t: Tree[Any]) -> tuple[A.Stmt, ...]:
        return tuple(self.stmt(s) for s in t.children)

    def stmt(self, t: Tree[Any]) -> A.Stmt:
        sp = self.span(t)
        c = t.children
        match t.data:
            case "label_mark":
                return A.LabelMark(str(c[0]), sp)
            case "assign":
                return A.Assign(self.expr(c[0]), self.expr(c[1]), sp)
            case "expr_stmt":
                return A.ExprStmt(self.expr(c[0]), sp)
            case "local_decl":
                return A.LocalDecl(str(c[0]), self.type(c[1]), self.init(c[2]), sp)
            case "if_stmt" | "if_else":
                orelse: tuple[A.Stmt, ...] = ()
                if c[2] is not None:
                    part = c[2].children[0]
                    orelse = self.block(part) if part.data == "block" else (self.stmt(part),)
                return A.If(self.expr(c[0]), self.block(c[1]), orelse, sp)
            case "for_stmt":
                return A.For(str(c[0]), self.set_expr(c[1]), self.block(c[2]), sp)
            case "while_stmt":
                return A.While(self.expr(c[0]), self.block(c[1]), sp)
            case "await_stmt":
                return A.Await(self.expr(c[0]), sp)
            case "assume_stmt":
                return A.Assume(self.expr(c[0]), sp)
            case "assert_stmt":
                tag = str(c[1].children[0]) if c[1] is not None else None
                msg = _unquote(str(c[2].children[0])) if c[2] is not None else None
                return A.Assert(self.expr(c[0]), tag, msg, sp)
            case "either_stmt":
                return A.Either(tuple(self.block(b) for b in c), sp)
            case "choose_stmt":
                return A.Choose(str(c[0]), self.set_expr(c[1]), sp)
            case "return_stmt":
                return A.Return(self.expr(c[0]) if c[0] is not None else None, sp)
            case "spawn_stmt":
                return A.Spawn(str(c[0]), self.args(c[1:]), sp)
            case "skip_stmt":
                return A.Skip(sp)
            case "simplified_stmt":
                return A.Simplified(str(c[0]), sp)
            case "break_stmt":
                return A.Break(sp)
            case "continue_stmt":
                return A.Continue(sp)
            case _:
                raise AssertionError(f"unknown statement {t.data}")

    # ---- expressions ----
    def set_expr(self, t: Tree[Any]) -> A.SetExpr:
        sp = self.span(t)
        c = t.children
        match t.data:
            case "set_range":
                return A.SetRange(self.expr(c[0]), self.expr(c[1]), sp)
            case "set_lit":
                return A.SetLit(tuple(self.expr(x) for x in c if x is not None), sp)
            case "set_named":
                return A.SetNamed(self.expr(c[0]), sp)
            case _:
                raise AssertionError(f"unknown set {t.data}")

    def args(self, trees: list[Any]) -> tuple[A.Arg, ...]:
        return tuple(
            A.Arg(
                str(a.children[0]) if a.children[0] is not None else None,
                self.expr(a.children[1]),
                self.span(a),
            )
            for a in trees
            if a is not None
        )

    def expr(self, t: Tree[Any] | Token) -> A.Expr:
        if isinstance(t, Token):
            raise AssertionError(f"unexpected token {t!r}")
        sp = self.span(t)
        c = t.children
        match t.data:
            case "int_lit":
                return A.IntLit(self.int_token(c[0]), sp)
            case "neg_int_lit":
                return A.IntLit(-self.int_token(c[0]), sp)
            case "true_lit":
                return A.BoolLit(True, sp)
            case "false_lit":
                return A.BoolLit(False, sp)
            case "null_lit":
                return A.NullLit(sp)
            case "name_ref":
                return A.Name(str(c[0]), sp)
            case "field_access":
                return A.FieldAccess(self.expr(c[0]), str(c[1]), sp)
            case "index":
                return A.Index(self.expr(c[0]), self.expr(c[1]), sp)
            case "call":
                return A.Call(self.expr(c[0]), self.args(c[1:]), sp)
            case "neg_op":
                return A.Unary(A.UnOp.NEG, self.expr(c[0]), sp)
            case "not_op":
                return A.Unary(A.UnOp.NOT, self.expr(c[0]), sp)
            case "arith" | "cmp_op":
                return A.Binary(A.BinOp(str(c[1])), self.expr(c[0]), self.expr(c[2]), sp)
            case "and_op":
                return A.Binary(A.BinOp.AND, self.expr(c[0]), self.expr(c[1]), sp)
            case "or_op":
                return A.Binary(A.BinOp.OR, self.expr(c[0]), self.expr(c[1]), sp)
            case "implies_op":
                return A.Binary(A.BinOp.IMPLIES, self.expr(c[0]), self.expr(c[1]), sp)
            case "in_op":
                return A.InSet(self.expr(c[0]), self.set_expr(c[1]), sp)
            case "quantifier":
                return A.Quantifier(
                    A.Quant(str(c[0])), str(c[1]), self.set_expr(c[2]), self.expr(c[3]), sp
                )
            case "list_lit":
                return A.ListLit(tuple(self.expr(x) for x in c if x is not None), sp)
            case "array_lit":
                return A.ArrayLit(tuple((self.expr(k.children[0]), self.expr(k.children[1]))
                                        for k in c), sp)
            case _:
                raise AssertionError(f"unknown expression {t.data}")
