"""AST → normalized spec text (`drvmc parse`). Parsing the output gives back an equal AST."""

from __future__ import annotations

from drvmc.checker.lang import ast as A

_PREC = {
    A.BinOp.IMPLIES: 1,
    A.BinOp.OR: 2,
    A.BinOp.AND: 3,
    A.BinOp.EQ: 5,
    A.BinOp.NE: 5,
    A.BinOp.LT: 5,
    A.BinOp.LE: 5,
    A.BinOp.GT: 5,
    A.BinOp.GE: 5,
    A.BinOp.ADD: 6,
    A.BinOp.SUB: 6,
    A.BinOp.MUL: 7,
    A.BinOp.DIV: 7,
    A.BinOp.MOD: 7,
}


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def expr(e: A.Expr, prec: int = 0) -> str:
    match e:
        case A.IntLit():
            return str(e.value) if e.value >= 0 or prec == 0 else f"({e.value})"
        case A.BoolLit():
            return "true" if e.value else "false"
        case A.NullLit():
            return "null"
        case A.Name():
            return e.name
        case A.FieldAccess():
            return f"{expr(e.base, 9)}.{e.name}"
        case A.Index():
            return f"{expr(e.base, 9)}[{expr(e.index)}]"
        case A.Call():
            args = ", ".join((f"{a.name} = " if a.name else "") + expr(a.value) for a in e.args)
            return f"{expr(e.func, 9)}({args})"
        case A.Unary():
            inner = expr(e.operand, 9 if isinstance(e.operand, A.Binary | A.InSet) else 8)
            out = ("-" if e.op is A.UnOp.NEG else "!") + inner
            return out if prec <= (8 if e.op is A.UnOp.NEG else 4) else f"({out})"
        case A.Binary():
            p = _PREC[e.op]
            if e.op is A.BinOp.IMPLIES:
                out = f"{expr(e.left, p + 1)} => {expr(e.right, p)}"
            elif p == 5:
                out = f"{expr(e.left, 6)} {e.op.value} {expr(e.right, 6)}"
            else:
                out = f"{expr(e.left, p)} {e.op.value} {expr(e.right, p + 1)}"
            return out if prec <= p else f"({out})"
        case A.InSet():
            out = f"{expr(e.elem, 6)} in {set_expr(e.set)}"
            return out if prec <= 5 else f"({out})"
        case A.Quantifier():
            out = f"{e.kind.value} {e.var} in {set_expr(e.domain)}: {expr(e.body)}"
            return out if prec == 0 else f"({out})"
        case A.ListLit():
            return "[" + ", ".join(expr(x) for x in e.items) + "]"
        case A.ArrayLit():
            return "[" + ", ".join(f"{expr(k)}: {expr(v)}" for k, v in e.entries) + "]"


def set_expr(s: A.SetExpr) -> str:
    match s:
        case A.SetRange():
            return f"{expr(s.lo, 6)}..{expr(s.hi, 6)}"
        case A.SetLit():
            return "{" + ", ".join(expr(x) for x in s.items) + "}"
        case A.SetNamed():
            return expr(s.expr, 6)


def _bound(e: A.Expr) -> str:
    match e:
        case A.IntLit() | A.Name():
            return str(e.value) if isinstance(e, A.IntLit) else e.name
        case _:
            return f"({expr(e)})"


def type_(t: A.TypeExpr) -> str:
    match t:
        case A.TBool():
            return "bool"
        case A.TRange():
            return f"{_bound(t.lo)}..{_bound(t.hi)}"
        case A.TNamed():
            return t.name
        case A.TNullable():
            return f"{t.name}?"
        case A.TList():
            return f"list<{type_(t.elem)}, {_bound(t.cap)}>"
        case A.TArray():
            return f"{type_(t.elem)}[{type_(t.index)}]"
        case A.TCallback():
            sig = "proc(" + ", ".join(type_(p) for p in t.params) + ")"
            if t.result is not None:
                sig += f" -> {type_(t.result)}"
                return f"({sig})?" if t.nullable else sig  # `-> R?` would read as a null R
            return sig + ("?" if t.nullable else "")


def init(i: A.Init) -> str:
    return "any" if isinstance(i, A.AnyInit) else expr(i)


def stmts(body: tuple[A.Stmt, ...], ind: int) -> list[str]:
    out: list[str] = []
    for s in body:
        out.extend(stmt(s, ind))
    return out


def _block(body: tuple[A.Stmt, ...], ind: int) -> str:
    inner = stmts(body, ind + 1)
    if not inner:
        return "{ }"
    return "{\n" + "\n".join(inner) + "\n" + "  " * ind + "}"


def stmt(s: A.Stmt, ind: int) -> list[str]:
    pad = "  " * ind
    match s:
        case A.LabelMark():
            return ["  " * max(0, ind - 1) + f" {s.name}:"]
        case A.Assign():
            return [pad + f"{expr(s.target)} = {expr(s.value)}"]
        case A.ExprStmt():
            return [pad + expr(s.expr)]
        case A.LocalDecl():
            return [pad + f"var {s.name}: {type_(s.type)}" + (f" = {init(s.init)}" if s.init
                                                              else "")]
        case A.If():
            text = pad + f"if {expr(s.cond)} {_block(s.then, ind)}"
            if s.orelse:
                text += f" else {_block(s.orelse, ind)}"
            return [text]
        case A.For():
            return [pad + f"for {s.var} in {set_expr(s.domain)} {_block(s.body, ind)}"]
        case A.While():
            return [pad + f"while {expr(s.cond)} {_block(s.body, ind)}"]
        case A.Await():
            return [pad + f"await {expr(s.cond)}"]
        case A.Assume():
            return [pad + f"assume {expr(s.cond)}"]
        case A.Assert():
            text = pad + f"assert {expr(s.cond)}"
            if s.prop:
                text += f" as {s.prop}"
            if s.message is not None:
                text += f", {_q(s.message)}"
            return [text]
        case A.Either():
            return [pad + "either " + " or ".join(_block(b, ind) for b in s.branches)]
        case A.Choose():
            return [pad + f"choose {s.var} in {set_expr(s.domain)}"]
        case A.Return():
            return [pad + "return" + (f" {expr(s.value)}" if s.value is not None else "")]
        case A.Skip():
            return [pad + "skip"]
        case A.Simplified():
            return [pad + f"simplified {s.name}"]
        case A.Break():
            return [pad + "break"]
        case A.Continue():
            return [pad + "continue"]
        case A.Spawn():
            return [pad + f"spawn {s.actor}({', '.join(expr(a.value) for a in s.args)})"]


def decl(d: A.Decl, ind: int = 0) -> list[str]:
    pad = "  " * ind
    match d:
        case A.Use():
            return [pad + f"use {_q(d.path)}"]
        case A.ConstDecl():
            return [pad + f"const {d.name} = {expr(d.value)}"]
        case A.EnumDecl():
            dflt = "default " if d.default else ""
            return [pad + f"{dflt}enum {d.name} {{ {', '.join(d.members)} }}"]
        case A.RecordDecl():
            dflt = "default " if d.default else ""
            fields = ", ".join(f"{f.name}: {type_(f.type)}" for f in d.fields)
            return [pad + f"{dflt}record {d.name} {{ {fields} }}"]
        case A.VarDecl():
            dflt = "default " if d.default else ""
            return [pad + f"{dflt}var {d.name}: {type_(d.type)}"
                    + (f" = {init(d.init)}" if d.init else "")]
        case A.ProcDecl():
            dflt = "default " if d.default else ""
            params = ", ".join(f"{p.name}: {type_(p.type)}" for p in d.params)
            res = f" -> {type_(d.result)}" if d.result is not None else ""
            kw = "func" if d.pure else "proc"
            return [pad + f"{dflt}{kw} {d.name}({params}){res} {_block(d.body, ind)}"]
        case A.ActorDecl():
            idx = ""
            if d.index_var is not None and d.index_domain is not None:
                idx = f"[{d.index_var} in {set_expr(d.index_domain)}]"
            if d.params is not None:
                idx = "(" + ", ".join(f"{p.name}: {type_(p.type)}" for p in d.params) + ")"
                if d.pool is not None:
                    idx += f" pool {_bound(d.pool)}"
            return [pad + f"actor {d.name}{idx} {_block(d.body, ind)}"]
        case A.PropertyDecl():
            return [pad + f"property {d.name} {_q(d.description)}"]
        case A.SimplificationDecl():
            return [pad + f"simplification {d.name} {_q(d.description)}"]
        case A.StateProp():
            desc = f" {_q(d.description)}" if d.description is not None else ""
            return [pad + f"{d.kind.value} {d.name}{desc}: {expr(d.expr)}"]
        case A.AllowDecl():
            return [pad + f"allow {d.what}"]
        case A.VariantDecl():
            inner = [line for x in d.items for line in decl(x, ind + 1)]
            base = f" extends {d.base}" if d.base is not None else ""
            return [pad + f"variant {d.name}{base} {_q(d.description)} {{", *inner, pad + "}"]
        case A.ExpectDecl():
            prop = f" {', '.join(d.props)}" if d.props else ""
            n = f" {d.length}" if d.length is not None else ""
            return [pad + f"expect {d.variant}{prop}: {d.verdict}{n}"]


def spec(f: A.SpecFile) -> str:
    out: list[str] = []
    if f.header is not None:
        out.append(f"spec {f.header.name} {_q(f.header.description)}")
    for d in f.decls:
        out.extend(decl(d))
    return "\n".join(out) + "\n"
