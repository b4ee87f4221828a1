"""The elaborated model (IR) as readable text: what the engines check, after constants are
folded, actors split into instances, labelled procedures inlined and loops lowered to steps.

The text is for people (`drvmc parse --ir`, `drvmc check --dump-after elaborate`), not for
parsing back: run-time checks show their site (`!3`), calls of the library show as `call`,
temporaries as `$name`, and every step ends in the `goto` lowering gave it.
"""

from __future__ import annotations

from typing import assert_never

from drvmc.checker.ir import nodes as I

_PREC = {
    I.BinaryOp.IMPLIES: 1, I.BinaryOp.OR: 2, I.BinaryOp.AND: 3,
    I.BinaryOp.EQ: 5, I.BinaryOp.NE: 5, I.BinaryOp.LT: 5, I.BinaryOp.LE: 5, I.BinaryOp.GT: 5,
    I.BinaryOp.GE: 5, I.BinaryOp.ADD: 6, I.BinaryOp.SUB: 6, I.BinaryOp.MUL: 7,
    I.BinaryOp.DIV: 7, I.BinaryOp.MOD: 7,
}


def lit(value: bool | int | None, t: I.Type) -> str:
    match t:
        case I.BoolType():
            return "true" if value else "false"
        case I.EnumType() if value is not None:
            assert isinstance(value, int)
            return t.members[value] if 0 <= value < len(t.members) else f"?{value}"
        case I.EnumType() | I.NullType():
            return "null"
        case _:
            return str(value)


def _site(site: int | None) -> str:
    return f"!{site}" if site else ""


def expr(e: I.Expr, prec: int = 0) -> str:
    match e:
        case I.Lit():
            return lit(e.value, e.type)
        case I.VarRef():
            return e.name if e.scope is I.Scope.STATE else f"${e.name}"
        case I.FieldRef():
            return f"{expr(e.base, 9)}.{e.name}"
        case I.IndexRef():
            return f"{expr(e.base, 9)}[{expr(e.index)}]{_site(e.site)}"
        case I.Unary():
            return f"{e.op.value}{expr(e.operand, 9)}"
        case I.Binary():
            p = _PREC[e.op]
            out = f"{expr(e.left, p)} {e.op.value} {expr(e.right, p + 1)}"
            return out if prec <= p else f"({out})"
        case I.Ite():
            return f"ite({expr(e.cond)}, {expr(e.then)}, {expr(e.orelse)})"
        case I.Coerce():
            return f"({expr(e.operand)} as {e.type}){_site(e.site)}"
        case I.ListFn():
            args = expr(e.list) + ("" if e.arg is None else f", {expr(e.arg)}")
            return f"{e.fn.value}({args})"
        case I.Quant():
            vals = ", ".join(lit(v.value, v.type) for v in e.values)
            out = f"{e.kind.value} ${e.var} in {{{vals}}}: {expr(e.body)}"
            return out if prec == 0 else f"({out})"
        case I.RecordLit():
            fields = ", ".join(f"{n} = {expr(v)}" for (n, _), v in
                               zip(e.type.fields, e.values, strict=True))
            return f"{e.type.name}({fields})"
        case I.ListLit():
            return "[" + ", ".join(expr(x) for x in e.items) + "]"
        case I.ArrayLit():
            keys = I.index_values(e.type.index)
            return "[" + ", ".join(f"{lit(k, e.type.index)}: {expr(x)}"
                                   for k, x in zip(keys, e.items, strict=True)) + "]"
        case I.ArrayFill():
            return f"fill {expr(e.value)}"
        case _:
            assert_never(e)


def _domain(d: I.Domain) -> str:
    match d:
        case I.StaticDomain():
            return "{" + ", ".join(lit(v.value, v.type) for v in d.values) + "}"
        case I.RangeDomain():
            return f"{expr(d.lo)}..{expr(d.hi)}"
        case _:
            assert_never(d)


def stmts(body: tuple[I.Stmt, ...], ind: int) -> list[str]:
    out: list[str] = []
    for s in body:
        out.extend(stmt(s, ind))
    return out


def _block(head: str, body: tuple[I.Stmt, ...], ind: int) -> list[str]:
    pad = "  " * ind
    return [f"{pad}{head} {{", *stmts(body, ind + 1), f"{pad}}}"]


def stmt(s: I.Stmt, ind: int) -> list[str]:
    pad = "  " * ind
    match s:
        case I.Assign():
            return [f"{pad}{expr(s.target)} = {expr(s.value)}"]
        case I.If():
            out = _block(f"if {expr(s.cond)}", s.then, ind)
            if s.orelse:
                out[-1] += " else {"
                out += [*stmts(s.orelse, ind + 1), f"{pad}}}"]
            return out
        case I.For():
            vals = ", ".join(lit(v.value, v.type) for v in s.values)
            return _block(f"for ${s.var} in {{{vals}}}", s.body, ind)
        case I.Await():
            return [f"{pad}await {expr(s.cond)}"]
        case I.Assume():
            return [f"{pad}assume {expr(s.cond)}"]
        case I.Assert():
            return [f"{pad}assert {expr(s.cond)} !{s.site}"]
        case I.Either():
            out = []
            for k, b in enumerate(s.branches):
                part = _block("either" if k == 0 else "or", b, ind)
                if k:
                    out[-1] += " " + part[0].strip()
                    part = part[1:]
                out.extend(part)
            return out
        case I.Choose():
            return [f"{pad}choose {expr(s.target)} in {_domain(s.domain)}"]
        case I.Call():
            call = f"call {s.proc}({', '.join(expr(a) for a in s.args)})"
            return [f"{pad}{expr(s.target)} = {call}" if s.target is not None else pad + call]
        case I.Return():
            return [f"{pad}return" + ("" if s.value is None else f" {expr(s.value)}")]
        case I.LocalDecl():
            init = "any" if s.init is None else expr(s.init)
            return [f"{pad}var ${s.name}: {s.type} = {init}"]
        case I.ListOp():
            args = [expr(a) for a in (s.arg, s.arg2) if a is not None]
            return [f"{pad}{expr(s.target)}.{s.op.value}({', '.join(args)}){_site(s.site)}"]
        case I.Goto():
            return [f"{pad}goto {s.label if s.label is not None else 'done'}"]
        case I.Trace():
            return [f"{pad}# {s.proc}({', '.join(expr(a) for a in s.args)})"]
        case _:
            assert_never(s)


def model(m: I.Model) -> str:
    """The whole model: header, state, procedures, actors with their steps, properties, sites."""
    out = [f"model {m.spec} variant {m.variant}"
           + (f" — {m.variant_description}" if m.variant_description else "")]
    out.append("")
    out.append(f"state ({len(m.vars)} variables)")
    for v in m.vars:
        owner = f"  [{v.owner}]" if v.owner else ""
        init = "any" if v.init is None else expr(v.init)
        out.append(f"  {v.name}: {v.type} = {init}{owner}")
    for p in m.procs:
        params = ", ".join(f"${n}: {t}" for n, t in p.params)
        res = f" -> {p.result}" if p.result is not None else ""
        out.append("")
        out.append(f"proc {p.name}({params}){res} {{")
        out.extend(stmts(p.body, 1))
        out.append("}")
    for a in m.actors:
        out.append("")
        dormant = "" if a.dormant is None else f"  # dormant while {expr(a.dormant)}"
        out.append(f"actor {a.name} {{{dormant}")
        for st in a.steps:
            out.append(f"  {st.label}:")
            out.extend(stmts(st.body, 2))
        out.append("}")
    out.append("")
    out.append("properties")
    for pr in m.properties:
        body = "" if pr.expr is None else f": {expr(pr.expr)}"
        out.append(f"  {pr.kind.value} {pr.name}{body}")
    out.append("")
    out.append("check sites")
    for site in m.sites:
        kind = "fatal" if site.fatal else "sticky"
        out.append(f"  !{site.id} {site.prop} ({kind}) at {site.span.file}:{site.span.line}: "
                   f"{site.message}")
    return "\n".join(out) + "\n"
