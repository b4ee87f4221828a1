"""The second pass: each driver function's body → the statements of a spec procedure.

A call the mapping table knows becomes the library procedure; a dereference of a tracked object
becomes `resource_use`; anything else is kept as a `# not modelled:` comment and counted.
Control flow is kept where it decides what is acquired or released: conditions over the
function's integer locals (`if (ret)`) and tracked pointers (`if (priv->buf)`) are translated,
a `goto` is replaced by the code from its label to the end of the function (the unwinding
ladder), a `return` ends the procedure. A condition over data the model does not track becomes
a nondeterministic choice, and so does the result of a call the model does not know.

In a procedure with steps (probe, remove) every modelled call starts a step of its own,
labelled `l<line>`, so the IRQs, work items and users interleave between them as they do in the
kernel; the callbacks the library calls (handlers, work functions, ops) are atomic.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from drvmc.extract import cast as C
from drvmc.extract.mapping import Entry, Kind, Result
from drvmc.extract.scan import Role, Symbols, fn_name, ident, is_int, last_field, local_types
from drvmc.extract.scan import type_of as _type_of

# stand-ins for errno values the model does not distinguish
EFAIL = -5
INT_RANGE = "-517..1"
MAX_GOTO = 16  # nested goto expansions before one is given up (a backward goto: a retry loop)

class RetKind(StrEnum):
    ok = "ok"  # -> bool, true = success (probe, component bind)
    errno = "errno"  # -> -22..0 (runtime PM callbacks)
    int = "int"  # -> -517..1 (helpers returning int)
    none = "none"


Ref = tuple[str, str]  # ("res", member) — never null — or ("ptr", variable) — may be null


@dataclass
class Counts:
    """What the summary at the top of the spec counts."""

    steps: int = 0
    modelled: int = 0
    not_modelled: Counter[str] = field(default_factory=Counter)
    ignored: Counter[str] = field(default_factory=Counter)
    abstracted: int = 0  # conditions and results turned into a choice
    loops: int = 0
    skipped: int = 0  # statements the extractor could not read or handle


@dataclass
class Ctx:
    fn: C.Function
    labelled: bool
    ret: RetKind
    types: dict[str, C.CType]
    ints: dict[str, str]  # C int local → spec variable
    alias: dict[str, Ref]
    labels: set[str]
    gotos: int = 0
    pending: list[str] = field(default_factory=list)  # uses waiting for the step's label
    step_uses: set[str] = field(default_factory=set)  # uses already made in this step
    need_tmp_bool: bool = False
    need_choice: bool = False


@dataclass(frozen=True)
class Lowered:
    name: str
    header: str  # `proc name(params) -> R`
    body: tuple[str, ...]  # indented lines, without the braces


class Lowerer:
    def __init__(self, unit: C.Unit, sym: Symbols, table: dict[str, Entry],
                 counts: Counts) -> None:
        self.unit = unit
        self.sym = sym
        self.table = table
        self.counts = counts
        self.fns = {f.name: f for f in unit.functions}
        self.structs = {s.name: {f.name: f.ctype for f in s.fields} for s in unit.structs}
        self.ptr_vars: dict[tuple[str, str], str] = {
            k: f"ptr_{ident(k[0])}_{ident(k[1])}" for k in sym.field_res}
        self.dev = "dev"  # the Dev parameter or member the current function names
        self.drs: set[str] = set()

    # ---- functions -----------------------------------------------------------------------------

    def function(self, fn: C.Function, role: Role, proc_name: str) -> Lowered:
        labelled = role in (Role.probe, Role.remove)
        ret = {Role.probe: RetKind.ok, Role.comp_bind: RetKind.ok,
               Role.rpm_suspend: RetKind.errno, Role.rpm_resume: RetKind.errno}.get(role)
        if ret is None:
            ret = RetKind.int if role is Role.helper and _returns_value(fn) else RetKind.none
        types = local_types(fn)
        ints: dict[str, str] = {}
        for name, t in types.items():
            if is_int(t) and name not in {p.name for p in fn.params}:
                ints[name] = ident(name)
        ctx = Ctx(fn, labelled, ret, types, ints, {}, set())
        params = {Role.probe: "dev: Dev", Role.remove: "dev: Dev", Role.irq: "i: Irq",
                  Role.work: "w: Work", Role.action: "r: Res", Role.comp_bind: "c: Gid, m: Gid",
                  Role.comp_unbind: "c: Gid, m: Gid", Role.rpm_suspend: "dev: Dev",
                  Role.rpm_resume: "dev: Dev"}.get(role, "")
        self.dev = "dev" if "dev: Dev" in params else "pdev"
        out: list[str] = []
        if role is Role.action:
            # the action's data argument: a `void *` whose object is the Res passed
            for p in fn.params:
                if p.ctype.pointer and not p.ctype.struct:
                    ctx.alias[p.name] = ("res", "r")
        if role in (Role.irq, Role.work, Role.sysfs, Role.action) or (
                role in (Role.comp_bind, Role.comp_unbind, Role.rpm_suspend, Role.rpm_resume)):
            out.append(f"ran_{ident(fn.name)} = true")
        ended = self.block(fn.body, ctx, out, 0)
        if not ended:
            out.extend(self.ret_default(ctx))
        decls = [f"var {v}: {'bool' if types[c].name == 'bool' else INT_RANGE} = "
                 f"{'false' if types[c].name == 'bool' else '0'}" for c, v in ints.items()]
        if ctx.need_tmp_bool:
            decls.append("var tb: bool = false")
        if ctx.need_choice:
            decls.append("var nd: bool = false")
        result = {RetKind.ok: " -> bool", RetKind.errno: " -> -22..0",
                  RetKind.int: f" -> {INT_RANGE}", RetKind.none: ""}[ret]
        body = tuple(decls) + tuple(out)
        if labelled and body and not any(re.match(r"^l\d+(_\d+)?:", ln.strip())
                                         for ln in body):
            body = (*body[:len(decls)], f"l{fn.line}:", *body[len(decls):])
        return Lowered(proc_name, f"proc {proc_name}({params}){result}", body)

    def ret_default(self, ctx: Ctx) -> list[str]:
        match ctx.ret:
            case RetKind.ok:
                return ["return true"]
            case RetKind.errno | RetKind.int:
                return ["return 0"]
            case RetKind.none:
                return []

    # ---- statements ----------------------------------------------------------------------------

    def block(self, stmts: tuple[C.Stmt, ...], ctx: Ctx, out: list[str], ind: int) -> bool:
        """Lower `stmts` into `out`; true when every path through them returned."""
        for s in stmts:
            ended = self.stmt(s, ctx, out, ind)
            self.flush(ctx, out)
            if ended:
                return True
        return False

    def label(self, ctx: Ctx, line: int, out: list[str], ind: int, text: str) -> None:
        where = f"{ctx.fn.file}:{line}"
        text = " ".join(text.split())  # a comment is one line, whatever the C source held
        pending, ctx.pending = ctx.pending, []
        if not ctx.labelled:
            out.append(" " * ind + f"# {where}: {text}")
            out.extend(pending)
            return
        name = f"l{line}"
        k = 2
        while name in ctx.labels:
            name = f"l{line}_{k}"
            k += 1
        ctx.labels.add(name)
        self.counts.steps += 1
        out.append(" " * ind + f"{name}:  # {where}: {text}")
        ctx.step_uses.clear()
        out.extend(self.flush_uses(ctx, pending))

    def flush_uses(self, ctx: Ctx, pending: list[str]) -> list[str]:
        """The pending uses, without those already made in this step."""
        out: list[str] = []
        for ln in pending:
            key = ln.split("#")[0].strip()
            if key not in ctx.step_uses:
                ctx.step_uses.add(key)
                out.append(ln)
        return out

    def flush(self, ctx: Ctx, out: list[str]) -> None:
        pending, ctx.pending = ctx.pending, []
        out.extend(self.flush_uses(ctx, pending))

    def stmt(self, s: C.Stmt, ctx: Ctx, out: list[str], ind: int) -> bool:
        pad = " " * ind
        where = f"{ctx.fn.file}:{s.line}"
        match s:
            case C.Label():
                return False
            case C.Decl(name=name, init=init):
                if init is None:
                    return False
                return self.assign(C.Ident(name), init, s.line, ctx, out, ind)
            case C.ExprStmt(expr=e):
                ended = self.expr_stmt(e, s.line, ctx, out, ind)
                if isinstance(e, C.Call):
                    self.flush(ctx, out)
                    ctx.step_uses.clear()
                return ended
            case C.If(cond=cond, then=then, els=els):
                self.emit_uses(cond, ctx, out, ind, s.line)
                self.flush(ctx, out)
                c = self.cond(cond, ctx)
                if c is True or c is False:
                    out.append(pad + f"# {where}: if ({_c_text(cond)}): always "
                               f"{'true' if c else 'false'} in the model (allocation never "
                               f"fails)")
                    return self.block(then if c else els, ctx, out, ind)
                if c is None:
                    self.counts.abstracted += 1
                    ctx.need_choice = True
                    out.append(pad + f"either {{ nd = true }} or {{ nd = false }}  # {where}: "
                               f"if ({_c_text(cond)}): not tracked, either way")
                    c = "nd"
                out.append(pad + f"if {c} {{")
                seen = set(ctx.step_uses)
                t_end = self.block(then, ctx, out, ind + 2)
                ctx.step_uses = set(seen)
                if els:
                    out.append(pad + "} else {")
                    e_end = self.block(els, ctx, out, ind + 2)
                else:
                    e_end = False
                out.append(pad + "}")
                ctx.step_uses.clear()
                return t_end and e_end
            case C.Return(value=v):
                entry = self.table.get(v.func) if isinstance(v, C.Call) else None
                if isinstance(v, C.Call) and (entry is None or entry.kind is not Kind.ignore) \
                        and ctx.ret is not RetKind.none:
                    # `return f(...)`: the call, then its result
                    ctx.ints.setdefault("__rv", "rv")
                    ctx.types.setdefault("__rv", C.CType("int"))
                    self.call(v, C.Ident("__rv"), s.line, ctx, out, ind)
                    self.flush(ctx, out)
                    v = C.Ident("__rv")
                if v is not None:
                    self.emit_uses(v, ctx, out, ind, s.line)
                self.flush(ctx, out)
                out.extend(pad + x + f"  # {where}" for x in self.ret(v, ctx, out, ind, s.line))
                return True
            case C.Goto(label=lbl):
                tail = _tail(ctx.fn.body, lbl)
                if tail is None or ctx.gotos >= MAX_GOTO:
                    self.counts.skipped += 1
                    out.append(pad + f"# not modelled: goto {lbl} ({where}): "
                               f"{'no such label' if tail is None else 'nested too deep'}")
                    out.extend(pad + x for x in self.ret_default(ctx))
                    return True
                out.append(pad + f"# {where}: goto {lbl}")
                ctx.gotos += 1
                ended = self.block(tail, ctx, out, ind)
                ctx.gotos -= 1
                if not ended:
                    out.extend(pad + x for x in self.ret_default(ctx))
                return True
            case C.Loop(text=text, body=body):
                self.counts.loops += 1
                ctx.need_choice = True
                out.append(pad + f"either {{ nd = true }} or {{ nd = false }}  # {where}: "
                           f"{text}: the body runs once or not at all")
                out.append(pad + "if nd {")
                was = ctx.labelled
                ctx.labelled = False  # no steps inside: the loop's body is abstracted
                self.block(body, ctx, out, ind + 2)
                ctx.labelled = was
                out.append(pad + "}")
                return False
            case C.Skipped(text=text):
                self.counts.skipped += 1
                out.append(pad + f"# not modelled: {text} ({where})")
                return False

    def expr_stmt(self, e: C.Expr, line: int, ctx: Ctx, out: list[str], ind: int) -> bool:
        match e:
            case C.Assign(target=t, op="=", value=v):
                return self.assign(t, v, line, ctx, out, ind)
            case C.Call():
                self.call(e, None, line, ctx, out, ind)
                return False
            case _:
                self.emit_uses(e, ctx, out, ind, line)
                before = len(ctx.pending)
                core = _strip(e)
                if isinstance(e, C.Unary | C.Assign) and isinstance(core, C.Ident) \
                        and core.name in ctx.ints:
                    var = ctx.ints[core.name]
                    out.append(" " * ind + f"either {{ {var} = 0 }} or {{ {var} = {EFAIL} }}  "
                               f"# {ctx.fn.file}:{line}: {_c_text(e)}")
                    self.counts.abstracted += 1
                elif before == 0:
                    out.append(" " * ind + f"# {ctx.fn.file}:{line}: {_c_text(e)}: no "
                                           "lifecycle effect")
                return False

    def assign(self, target: C.Expr, value: C.Expr, line: int, ctx: Ctx, out: list[str],
               ind: int) -> bool:
        pad = " " * ind
        where = f"{ctx.fn.file}:{line}"
        if isinstance(value, C.Call):
            self.emit_uses(target, ctx, out, ind, line, write=True)
            self.call(value, target, line, ctx, out, ind)
            ctx.step_uses.clear()
            return False
        self.emit_uses(value, ctx, out, ind, line)
        self.emit_uses(target, ctx, out, ind, line, write=True)
        # an integer local
        if isinstance(target, C.Ident) and target.name in ctx.ints:
            v = self.int_expr(value, ctx)
            if v is None:
                self.counts.abstracted += 1
                v2 = ctx.ints[target.name]
                out.append(pad + f"either {{ {v2} = 0 }} or {{ {v2} = {EFAIL} }}  # {where}: "
                           f"{_c_text(target)} = {_c_text(value)}: not tracked")
            else:
                out.append(pad + f"{ctx.ints[target.name]} = {v}  # {where}")
            return False
        # a tracked pointer field: publishing or clearing it is a step of its own
        ptr = self.ptr_of_member(target, ctx)
        if ptr is not None:
            src = self.ref(value, ctx)
            if _is_null(value):
                rhs = "null"
            elif src is not None and src[0] in ("res", "ptr"):
                rhs = src[1]
            else:
                rhs = ""
            if rhs:
                self.label(ctx, line, out, ind, f"{_c_text(target)} = {_c_text(value)}")
                out.append(pad + f"{ptr} = {rhs}")
                self.counts.modelled += 1
                return False
        # a pointer local: it now names what the value names
        if isinstance(target, C.Ident):
            r = self.ref(value, ctx)
            if r is not None:
                ctx.alias[target.name] = r
            else:
                ctx.alias.pop(target.name, None)
            return False
        return False

    # ---- calls ---------------------------------------------------------------------------------

    def call(self, c: C.Call, target: C.Expr | None, line: int, ctx: Ctx, out: list[str],
             ind: int) -> None:
        pad = " " * ind
        where = f"{ctx.fn.file}:{line}"
        entry = self.table.get(c.func)
        int_target = ctx.ints.get(target.name) if isinstance(target, C.Ident) else None
        # calls nested in the arguments
        for a in c.args:
            for x in _calls(a):
                if x.func not in self.table and x.func not in self.fns:
                    self.counts.not_modelled[x.func or "(call through a pointer)"] += 1
                    out.append(pad + f"# not modelled: {x.func or '(*fn)'}() ({where})")
        if c.func in self.fns and c.func in self.sym.roles:
            self.emit_uses_args(c, ctx, out, ind, line, deref_args=False)
            self.label(ctx, line, out, ind, f"{c.func}()")
            self.counts.modelled += 1
            callee = self.fns[c.func]
            if int_target and _returns_value(callee) and \
                    self.sym.roles[c.func] is Role.helper:
                out.append(pad + f"{int_target} = {ident(c.func)}()")
            else:
                out.append(pad + f"{ident(c.func)}()")
                if int_target:
                    out.append(pad + f"{int_target} = 0")
            return
        if entry is None:
            self.counts.not_modelled[c.func or "(call through a pointer)"] += 1
            self.emit_uses_args(c, ctx, out, ind, line, deref_args=True)
            note = f"# not modelled: {c.func or '(*fn)'}() ({where})"
            if int_target:
                if ctx.labelled:
                    self.label(ctx, line, out, ind, f"{_c_text(target)} = {c.func}(...)")
                    out.append(pad + f"either {{ {int_target} = 0 }} or {{ {int_target} = "
                                     f"{EFAIL} }}  {note}: its result either way")
                    self.counts.abstracted += 1
                else:
                    out.append(pad + f"{int_target} = 0  {note}: assumed to succeed")
            else:
                out.append(pad + note)
                if isinstance(target, C.Ident):
                    ctx.alias.pop(target.name, None)
            return
        match entry.kind:
            case Kind.use:
                self.counts.modelled += 1
                self.emit_uses_args(c, ctx, out, ind, line, deref_args=True)
                out.append(pad + f"# {c.func}(): dereferences its arguments ({where})")
                if int_target:
                    out.append(pad + f"{int_target} = 0")
            case Kind.ignore:
                self.counts.ignored[c.func] += 1
                self.emit_uses_args(c, ctx, out, ind, line, deref_args=False)
                out.append(pad + f"# ignored: {c.func}() ({where})")
                if isinstance(target, C.Ident) and c.args and c.func in (
                        "dev_err_probe",) and int_target:
                    v = self.int_expr(c.args[1], ctx) if len(c.args) > 1 else None
                    out.append(pad + f"{int_target} = {v if v is not None else EFAIL}")
                elif isinstance(target, C.Ident) and target.name not in ctx.ints:
                    r = self.ref(c, ctx)
                    if r is not None:
                        ctx.alias[target.name] = r
            case Kind.alloc:
                self.emit_uses_args(c, ctx, out, ind, line, deref_args=False)
                res = self.alloc_res(target, ctx)
                if not res:
                    self.counts.not_modelled[c.func] += 1
                    out.append(pad + f"# not modelled: {c.func}() ({where}): its result is not "
                                     "kept where the extractor can follow it")
                    return
                self.label(ctx, line, out, ind, f"{_c_text(target)} = {c.func}(...)")
                self.counts.modelled += 1
                if entry.devm:
                    out.append(pad + f"devres_add({self.dev}, {res})")
                else:
                    out.append(pad + f"resource_acquire({res})")
                ptr = self.ptr_of_member(target, ctx) if target is not None else None
                if ptr is not None:
                    out.append(pad + f"{ptr} = {res}")
                elif isinstance(target, C.Ident) and target.name not in ctx.ints:
                    ctx.alias[target.name] = ("res", res)
            case Kind.free:
                self.emit_uses_args(c, ctx, out, ind, line, deref_args=False)
                arg = c.args[entry.arg] if entry.arg < len(c.args) else None
                r = self.ref(arg, ctx) if arg is not None else None
                if r is None:
                    self.counts.not_modelled[c.func] += 1
                    out.append(pad + f"# not modelled: {c.func}() ({where}): what it frees is "
                                     "not tracked")
                    return
                self.label(ctx, line, out, ind, f"{c.func}({_c_text(arg)})")
                self.counts.modelled += 1
                if r[0] == "ptr":
                    out.append(pad + f"if {r[1]} != null {{ resource_release({r[1]}) }}")
                else:
                    out.append(pad + f"resource_release({r[1]})")
            case Kind.call:
                self.emit_uses_args(c, ctx, out, ind, line, deref_args=False)
                args = [self.template(t, c, ctx) for t in entry.args]
                bad = [t for t, a in zip(entry.args, args, strict=True) if a is None]
                if bad:
                    self.counts.not_modelled[c.func] += 1
                    out.append(pad + f"# not modelled: {c.func}() ({where}): argument "
                                     f"{bad[0]} not understood")
                    if int_target:
                        out.append(pad + f"{int_target} = 0")
                    return
                self.label(ctx, line, out, ind, f"{c.func}(...)")
                self.counts.modelled += 1
                call = f"{entry.proc}({', '.join(a for a in args if a is not None)})"
                match entry.result:
                    case Result.none:
                        out.append(pad + call)
                        if int_target:
                            out.append(pad + f"{int_target} = 0")
                    case Result.int:
                        if int_target:
                            out.append(pad + f"{int_target} = {call}")
                        else:
                            ctx.ints.setdefault("__ti", "ti")
                            ctx.types.setdefault("__ti", C.CType("int"))
                            out.append(pad + f"ti = {call}")
                    case Result.bool | Result.bool_ok:
                        ctx.need_tmp_bool = True
                        out.append(pad + f"tb = {call}")
                        if int_target:
                            ok, fail = ("1", "0") if entry.result is Result.bool else ("0", "-22")
                            out.append(pad + f"{int_target} = ite(tb, {ok}, {fail})")

    def template(self, t: str, c: C.Call, ctx: Ctx) -> str | None:
        kind, _, n = t.partition(":")
        arg = c.args[int(n)] if n.isdigit() and int(n) < len(c.args) else None
        if n.isdigit() and arg is None:
            return None
        match kind:
            case "dev":
                return self.dev
            case "irq":
                key = last_field(arg) if arg is not None else ""
                if key in self.sym.irqs:
                    return self.sym.irqs[key]
                return next(iter(self.sym.irqs.values())) if len(self.sym.irqs) == 1 else None
            case "fn":
                name = fn_name(arg)
                if not name or arg is None or _is_null(arg):
                    return "null"
                return ident(name) if name in self.fns else None
            case "work":
                key = last_field(arg) if arg is not None else ""
                return self.sym.works.get(key)
            case "res":
                r = self.ref(arg, ctx) if arg is not None else None
                if r is not None and r[0] in ("res", "ptr"):
                    return r[1] if r[0] == "res" else None
                # data the model does not track: a Res of its own for the action entry
                return self.fresh_dr(c)
            case "dr":
                return self.fresh_dr(c)
            case "comp":
                key = last_field(arg) if arg is not None else ""
                return self.sym.comps.get(key)
            case "attr":
                return self.attr_of(arg)
            case "lock":
                return self.sym.locks.get(last_field(arg)) if arg is not None else None
            case _:
                return t

    def fresh_dr(self, c: C.Call) -> str:
        """The Res standing for a devres entry's data (or an action's untracked data)."""
        name = self._dr_name(c)
        self.drs.add(name)
        return name

    def _dr_name(self, c: C.Call) -> str:
        if "irq" in c.func and len(c.args) > 1:
            key = last_field(c.args[1])
            irq = self.sym.irqs.get(key) or (next(iter(self.sym.irqs.values()))
                                             if len(self.sym.irqs) == 1 else "")
            return f"{irq}_dr" if irq else "irq_dr"
        if "work_autocancel" in c.func and len(c.args) > 1:
            w = self.sym.works.get(last_field(c.args[1]))
            return f"{w}_dr" if w else "work_dr"
        if c.func.startswith(("devm_add_action", "devm_remove_action", "devm_release_action")):
            f = fn_name(c.args[1]) if len(c.args) > 1 else ""
            return f"act_{ident(f)}" if f else "act_data"
        return f"{ident(c.func)}_dr"

    def attr_of(self, arg: C.Expr | None) -> str | None:
        if arg is None:
            return None
        for x in _idents(arg):
            if x.startswith("dev_attr_") and x.removeprefix("dev_attr_") in self.sym.attrs:
                return self.sym.attrs[x.removeprefix("dev_attr_")]
            if x in self.sym.groups:
                return "grp_" + ident(x)
        return None

    def alloc_res(self, target: C.Expr | None, ctx: Ctx) -> str:
        if target is None:
            return ""
        if isinstance(target, C.Ident):
            t = ctx.types.get(target.name)
            if t is not None and t.struct and t.pointer:
                return self.sym.struct_res.get(t.name, "")
            return self.sym.local_res.get((ctx.fn.name, target.name), "")
        if isinstance(target, C.Member):
            bt = self.type_of(target.base, ctx)
            if bt is not None and bt.struct:
                return self.sym.field_res.get((bt.name, target.field), "")
        return ""

    def ret(self, v: C.Expr | None, ctx: Ctx, out: list[str], ind: int, line: int) -> list[str]:
        match ctx.ret:
            case RetKind.none:
                return ["return"]
            case RetKind.ok:
                if v is None:
                    return ["return true"]
                if isinstance(v, C.Call) and v.func == "dev_err_probe" and len(v.args) > 1:
                    v = v.args[1]
                x = self.int_expr(v, ctx)
                if x is None:
                    if isinstance(v, C.Call) and v.func in ("PTR_ERR",):
                        return ["return false"]
                    self.counts.abstracted += 1
                    return ["either { return true } or { return false }"]
                if x.lstrip("-").isdigit():
                    return [f"return {'true' if int(x) == 0 else 'false'}"]
                return [f"return {x} == 0"]
            case RetKind.errno | RetKind.int:
                x = self.int_expr(v, ctx) if v is not None else "0"
                if x is None:
                    x = "0" if not isinstance(v, C.Call) or v.func != "PTR_ERR" else str(EFAIL)
                if ctx.ret is RetKind.errno:
                    if x.lstrip("-").isdigit():
                        return [f"return {0 if int(x) == 0 else -22}"]
                    return [f"return ite({x} == 0, 0, -22)"]
                return [f"return {x}"]

    # ---- expressions ---------------------------------------------------------------------------

    def type_of(self, e: C.Expr, ctx: Ctx) -> C.CType | None:
        return _type_of(e, ctx.types, self.structs)

    def ptr_of_member(self, e: C.Expr | None, ctx: Ctx) -> str | None:
        if not isinstance(e, C.Member):
            return None
        bt = self.type_of(e.base, ctx)
        if bt is None or not bt.struct:
            return None
        return self.ptr_vars.get((bt.name, e.field))

    def ref(self, e: C.Expr | None, ctx: Ctx) -> Ref | None:
        """The tracked object `e` points to."""
        match e:
            case C.Ident(name=n):
                if n in ctx.alias:
                    return ctx.alias[n]
                t = ctx.types.get(n)
                if t is not None and t.struct and t.pointer and t.name in self.sym.struct_res:
                    return ("res", self.sym.struct_res[t.name])
                return None
            case C.Member():
                p = self.ptr_of_member(e, ctx)
                return ("ptr", p) if p is not None else None
            case _:
                return None

    def uses(self, e: C.Expr, ctx: Ctx, write: bool = False) -> list[Ref]:
        """Objects `e` dereferences, in evaluation order."""
        out: list[Ref] = []

        def deref(x: C.Expr) -> None:
            r = self.ref(x, ctx)
            if r is not None and r not in out:
                out.append(r)

        def go(x: C.Expr) -> None:
            match x:
                case C.Member(base=b, arrow=arrow):
                    go(b)
                    if arrow:
                        deref(b)
                    elif isinstance(b, C.Member | C.Index | C.Unary):
                        pass
                case C.Index(base=b, index=i):
                    go(b)
                    go(i)
                    deref(b)
                case C.Unary(op="*", operand=inner):
                    go(inner)
                    deref(inner)
                case C.Unary(operand=inner):
                    go(inner)
                case C.Binary(left=a, right=b) | C.Assign(target=a, value=b):
                    go(a)
                    go(b)
                case C.Call(args=args) | C.Other(parts=args):
                    for a in args:
                        go(a)
                case C.Ident() | C.Literal():
                    pass

        go(e)
        return out

    def emit_uses(self, e: C.Expr, ctx: Ctx, out: list[str], ind: int, line: int,
                  write: bool = False, extra: tuple[Ref, ...] = (), text: str = "") -> None:
        """Queue the uses `e` makes (ctx.pending): they go after the label of the step the
        statement starts, or, if it starts none, right away (`flush`)."""
        refs = self.uses(e, ctx, write)
        for r in extra:
            if r not in refs:
                refs.append(r)
        for r in refs:
            ctx.pending.append(" " * ind + f"resource_use({r[1]})  # {ctx.fn.file}:{line}: "
                                           f"{(text or _c_text(e))[:50]}")
            self.counts.modelled += 1

    def emit_uses_args(self, c: C.Call, ctx: Ctx, out: list[str], ind: int, line: int,
                       deref_args: bool) -> None:
        """The dereferences in a call's arguments; a call the model does not know is assumed
        to dereference the tracked objects passed to it."""
        extra: list[Ref] = []
        if deref_args:
            for a in c.args:
                r = self.ref(_pointer_side(a), ctx)
                if r is not None:
                    extra.append(r)
        self.emit_uses(C.Other("", c.args), ctx, out, ind, line, extra=tuple(extra),
                       text=_c_text(c))

    def int_expr(self, e: C.Expr, ctx: Ctx) -> str | None:
        match e:
            case C.Ident(name=n) if n in ctx.ints:
                return ctx.ints[n]
            case C.Literal(text=t) if re.fullmatch(r"\d+[uUlL]*", t):
                v = int(re.sub(r"[uUlL]+$", "", t))
                return "1" if v > 0 else "0"  # a positive value: success in driver code
            case C.Unary(op="-", operand=C.Ident(name=n)) if re.fullmatch(r"E[A-Z0-9_]+", n):
                return "-22" if n == "EINVAL" else str(EFAIL)
            case C.Unary(op="-", operand=C.Literal()):
                return str(EFAIL)
            case _:
                return None

    def cond(self, e: C.Expr, ctx: Ctx) -> str | bool | None:
        """A spec condition for `e`; True/False when the model decides it statically; None
        when it reads data the model does not track."""
        match e:
            case C.Unary(op="!", operand=inner):
                c = self.cond(inner, ctx)
                if c is None or isinstance(c, bool):
                    return (not c) if isinstance(c, bool) else None
                return f"!({c})"
            case C.Binary(op="&&" | "||" as op, left=a, right=b):
                ca, cb = self.cond(a, ctx), self.cond(b, ctx)
                if ca is None or cb is None:
                    return None
                if isinstance(ca, bool) or isinstance(cb, bool):
                    if op == "&&":
                        if ca is False or cb is False:
                            return False
                        return cb if ca is True else ca
                    if ca is True or cb is True:
                        return True
                    return cb if ca is False else ca
                return f"({ca}) {op} ({cb})"
            case C.Binary(op="==" | "!=" | "<" | "<=" | ">" | ">=" as op, left=a, right=b):
                if _is_null(b) or _is_null(a):
                    p = a if _is_null(b) else b
                    r = self.ref(p, ctx)
                    if r is None:
                        return None
                    if r[0] == "res":
                        return op == "!="
                    return f"{r[1]} {op} null"
                x, y = self.int_expr(a, ctx), self.int_expr(b, ctx)
                if x is None or y is None:
                    return None
                return f"{x} {op} {y}"
            case C.Call(func="IS_ERR" | "IS_ERR_OR_NULL", args=args) if args:
                r = self.ref(args[0], ctx)
                if r is None:
                    return None
                if r[0] == "res":
                    return False
                return f"{r[1]} == null" if "NULL" in e.func else False
            case C.Ident(name=n) if n in ctx.ints:
                return f"{ctx.ints[n]} != 0"
            case C.Ident() | C.Member():
                r = self.ref(e, ctx)
                if r is None:
                    return None
                return True if r[0] == "res" else f"{r[1]} != null"
            case _:
                return None


def _returns_value(fn: C.Function) -> bool:
    from drvmc.extract.scan import walk_stmts

    return any(isinstance(s, C.Return) and s.value is not None for s in walk_stmts(fn.body))


def _tail(body: tuple[C.Stmt, ...], label: str) -> tuple[C.Stmt, ...] | None:
    for i, s in enumerate(body):
        if isinstance(s, C.Label) and s.name == label:
            return body[i + 1:]
    return None


def _is_null(e: C.Expr) -> bool:
    return (isinstance(e, C.Literal) and e.text in ("NULL", "0")) or (
        isinstance(e, C.Ident) and e.name == "NULL")


def _pointer_side(e: C.Expr) -> C.Expr:
    """`priv->regs + CTRL` → `priv->regs`: the pointer an address computation starts from."""
    match e:
        case C.Binary(op="+" | "-", left=a):
            return _pointer_side(a)
        case _:
            return e


def _strip(e: C.Expr) -> C.Expr:
    match e:
        case C.Unary(operand=inner):
            return _strip(inner)
        case C.Assign(target=t):
            return _strip(t)
        case _:
            return e


def _calls(e: C.Expr) -> list[C.Call]:
    from drvmc.extract.scan import walk_expr

    return [x for x in walk_expr(e) if isinstance(x, C.Call)]


def _idents(e: C.Expr) -> list[str]:
    from drvmc.extract.scan import walk_expr

    return [x.name for x in walk_expr(e) if isinstance(x, C.Ident)] + [
        x.field for x in walk_expr(e) if isinstance(x, C.Member)]


def _c_text(e: C.Expr | None) -> str:
    """A short C rendering of an expression, for comments: on one line, whatever the source
    held (a string literal broken by a stray quote spans lines, and a comment cannot)."""
    return " ".join(_c_text_lines(e).split())


def _c_text_lines(e: C.Expr | None) -> str:
    match e:
        case None:
            return ""
        case C.Ident(name=n):
            return n
        case C.Literal(text=t):
            return t if len(t) < 20 else t[:17] + "..."
        case C.Call(func=f, args=args):
            inner = ", ".join(_c_text(a) for a in args)
            return f"{f}({inner if len(inner) < 40 else '...'})"
        case C.Member(base=b, field=f, arrow=arrow):
            return f"{_c_text(b)}{'->' if arrow else '.'}{f}"
        case C.Index(base=b, index=i):
            return f"{_c_text(b)}[{_c_text(i)}]"
        case C.Unary(op=op, operand=inner):
            return f"{op}{_c_text(inner)}"
        case C.Binary(op=op, left=a, right=b):
            return f"{_c_text(a)} {op} {_c_text(b)}"
        case C.Assign(target=t, op=op, value=v):
            return f"{_c_text(t)} {op} {_c_text(v)}"
        case C.Other(text=t):
            one = " ".join(t.split())
            return one if len(one) < 40 else one[:37] + "..."
