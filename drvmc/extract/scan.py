"""The first pass over a parsed driver: its structures, the role of each function, its objects.

Before any body is lowered the extractor must know which functions run asynchronously (an IRQ
handler is lowered as `proc h(i: Irq)`, wherever it stands in the file), which objects are
resources (a struct the driver allocates, a pointer field that holds an allocation) and how
many devres entries a run can add. This module finds all of that and returns a `Symbols`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache

from drvmc.extract import cast as C
from drvmc.extract.mapping import Entry, Kind, Registers

DRIVER_TYPES = ("platform_driver", "pci_driver", "i2c_driver", "spi_driver", "amba_driver",
                "usb_driver", "auxiliary_driver")
INT_TYPES = frozenset({"int", "long", "short", "s8", "s16", "s32", "s64", "ssize_t", "irqreturn_t",
                       "unsigned", "u8", "u16", "u32", "u64", "size_t", "bool", "int32_t",
                       "uint32_t", "unsigned int", "unsigned long", "long long"})


class Role(StrEnum):
    probe = "probe"
    remove = "remove"
    irq = "irq"  # proc h(i: Irq)
    work = "work"  # proc f(w: Work): work functions and timer callbacks
    action = "action"  # proc a(r: Res): devm actions
    comp_bind = "comp_bind"
    comp_unbind = "comp_unbind"
    rpm_suspend = "rpm_suspend"
    rpm_resume = "rpm_resume"
    sysfs = "sysfs"  # proc s(): show/store, called by a userspace actor
    helper = "helper"  # a driver function called from one of the above


@dataclass
class Symbols:
    """What the scan found (filled once by `scan`, then only read)."""

    driver: str = ""  # the driver struct's name
    driver_type: str = ""
    roles: dict[str, Role] = field(default_factory=dict)  # C function → role
    struct_res: dict[str, str] = field(default_factory=dict)  # struct tag → Res member
    field_res: dict[tuple[str, str], str] = field(default_factory=dict)  # (tag, field) → Res
    local_res: dict[tuple[str, str], str] = field(default_factory=dict)  # (fn, local) → Res
    devm_res: set[str] = field(default_factory=set)  # Res members allocated by devm
    plain_res: set[str] = field(default_factory=set)  # Res members kzalloc'd (leak-checked)
    irqs: dict[str, str] = field(default_factory=dict)  # irq key → Irq member
    works: dict[str, str] = field(default_factory=dict)  # field name → Work member
    comps: dict[str, str] = field(default_factory=dict)  # ops struct → Gid member
    attrs: dict[str, str] = field(default_factory=dict)  # attribute → Attr member
    locks: dict[str, str] = field(default_factory=dict)  # lock field → Lock member
    attr_fns: dict[str, tuple[str, ...]] = field(default_factory=dict)  # Attr → show/store
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # group → attributes
    dev_groups: tuple[str, ...] = ()  # the driver's .dev_groups attributes
    devm_sites: int = 0
    uses_rpm: bool = False
    other_drivers: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)


def walk_stmts(stmts: tuple[C.Stmt, ...]) -> Iterator[C.Stmt]:
    for s in stmts:
        yield s
        if isinstance(s, C.If):
            yield from walk_stmts(s.then)
            yield from walk_stmts(s.els)
        elif isinstance(s, C.Loop):
            yield from walk_stmts(s.body)


def walk_expr(e: C.Expr) -> Iterator[C.Expr]:
    yield e
    match e:
        case C.Call(args=args) | C.Other(parts=args):
            for a in args:
                yield from walk_expr(a)
        case C.Member(base=b) | C.Unary(operand=b):
            yield from walk_expr(b)
        case C.Index(base=b, index=i) | C.Binary(left=b, right=i) | C.Assign(target=b, value=i):
            yield from walk_expr(b)
            yield from walk_expr(i)
        case C.Ident() | C.Literal():
            pass


def stmt_exprs(s: C.Stmt) -> Iterator[C.Expr]:
    match s:
        case C.Decl(init=init) if init is not None:
            yield init
        case C.ExprStmt(expr=e) | C.If(cond=e):
            yield e
        case C.Return(value=v) if v is not None:
            yield v
        case _:
            pass


def calls_in(fn: C.Function) -> Iterator[C.Call]:
    for s in walk_stmts(fn.body):
        for e in stmt_exprs(s):
            for x in walk_expr(e):
                if isinstance(x, C.Call):
                    yield x


def local_types(fn: C.Function) -> dict[str, C.CType]:
    out = {p.name: p.ctype for p in fn.params if p.name}
    for s in walk_stmts(fn.body):
        if isinstance(s, C.Decl) and s.name:
            out[s.name] = s.ctype
    return out


def is_int(t: C.CType) -> bool:
    return not t.pointer and not t.struct and t.name in INT_TYPES


# names the extractor itself declares in every spec
OWN_NAMES = frozenset({
    "driver_probe", "driver_remove", "device_release", "rpm_resume_callback",
    "rpm_suspend_callback", "component_is_master", "component_master_parent", "component_device",
    "component_match", "master_ops_bind", "master_ops_unbind", "component_ops_bind",
    "component_ops_unbind", "sysfs_attr_add", "sysfs_attr_del", "sysfs_group_add",
    "sysfs_group_del", "attr_on", "devres_anon_ids", "pdev", "master_dev", "aggregate",
    "no_object", "ref_none", "tb", "nd", "ti", "rv", "r", "i", "w", "c", "m", "dev", "ok",
    "Dev", "Res", "Gid", "Ref", "Irq", "Work", "Attr"})
KEYWORDS = frozenset({
    "spec", "use", "enum", "record", "var", "const", "proc", "func", "actor", "pool", "spawn",
    "property", "invariant", "final", "reachable", "allow", "variant", "expect", "override",
    "if", "else", "for", "while", "in", "await", "assume", "assert", "as", "either", "or",
    "choose", "return", "break", "continue", "skip", "true", "false", "null", "any", "forall",
    "exists", "ite", "min", "max", "len", "contains", "bool", "list", "simplified",
    "simplification", "index_of", "last_index_of"})


@cache
def library_names() -> frozenset[str]:
    """Every name the bundled library declares (procedures, variables, constants, enum members,
    actors), read from specs/lib: a driver name equal to one is renamed."""
    from drvmc.checker.lang.loader import bundled_specs_dir

    names: set[str] = set()
    try:
        texts = [f.read_text(encoding="utf-8")
                 for f in sorted((bundled_specs_dir() / "lib").glob("*.drv"))]
    except (OSError, UnicodeDecodeError):
        texts = []
    for text in texts:
        text = re.sub(r"(#|//)[^\n]*", "", text)
        names.update(re.findall(r"^(?:proc|func|var|const|actor|property|enum|record|"
                                r"simplification)\s+(\w+)", text, flags=re.MULTILINE))
        for members in re.findall(r"\benum\s+\w+\s*\{([^}]*)\}", text):
            names.update(m.strip() for m in members.split(",") if m.strip())
    return frozenset(names)


def ident(name: str) -> str:
    """A C name made safe as a spec identifier: one that no keyword, library name or name of
    the extractor's own takes (those get a `c_` prefix)."""
    out = re.sub(r"\W", "_", name) or "x"
    if out[0].isdigit():
        out = "c_" + out
    if out in KEYWORDS or out in OWN_NAMES or out in library_names():
        out = "c_" + out
    return out


def fn_name(e: C.Expr | None) -> str:
    """The function a callback argument names (`foo`, `&foo`), or ''."""
    match e:
        case C.Ident(name=n) if n != "NULL":
            return n
        case C.Unary(op="&", operand=C.Ident(name=n)):
            return n
        case _:
            return ""


def last_field(e: C.Expr) -> str:
    """`&priv->work` → work; `priv->irq` → irq; `irq` → irq: the name identifying an item."""
    match e:
        case C.Unary(operand=inner):
            return last_field(inner)
        case C.Member(field=f):
            return f
        case C.Ident(name=n):
            return n
        case C.Index(base=b):
            return last_field(b)
        case C.Call(args=args) if args:
            return last_field(args[0])
        case _:
            return ""


def scan(unit: C.Unit, table: dict[str, Entry]) -> Symbols:
    sym = Symbols()
    fns = {f.name: f for f in unit.functions}
    structs = {s.name: {f.name: f.ctype for f in s.fields} for s in unit.structs}
    globals_ = {g.name: g for g in unit.globals}

    drivers = [g for g in unit.globals if g.type_name in DRIVER_TYPES]
    if drivers:
        d = drivers[0]
        sym.driver, sym.driver_type = d.name, d.type_name
        sym.other_drivers = tuple(g.name for g in drivers[1:])
        for e in d.entries:
            name = fn_name(e.value)
            if e.path == ("probe",) and name:
                sym.roles[name] = Role.probe
            elif e.path in (("remove",), ("remove_new",)) and name:
                sym.roles[name] = Role.remove
            elif e.path == ("driver", "pm"):
                _pm_ops(sym, globals_.get(last_field(e.value)), unit)
            elif e.path == ("driver", "dev_groups"):
                sym.dev_groups = _group_attrs(sym, last_field(e.value), unit, globals_)
    else:
        for f in unit.functions:
            if f.name.endswith("_probe") and Role.probe not in sym.roles.values():
                sym.roles[f.name] = Role.probe
            elif f.name.endswith("_remove") and Role.remove not in sym.roles.values():
                sym.roles[f.name] = Role.remove
        sym.notes.append("no driver structure found: probe/remove taken by name")
    for m in unit.macros:
        if m.name in ("DEFINE_RUNTIME_DEV_PM_OPS", "UNIVERSAL_DEV_PM_OPS") and len(m.args) >= 3:
            _rpm_roles(sym, m.args[1], m.args[2])
        _attr_macro(sym, m)

    # every call site: what it registers, what it allocates
    for f in unit.functions:
        types = local_types(f)
        for st in walk_stmts(f.body):
            for ex in stmt_exprs(st):
                _allocations(sym, f, st, ex, types, structs, table)
        for c in calls_in(f):
            entry = table.get(c.func)
            if entry is None:
                continue
            devm_call = entry.kind is Kind.call and (entry.proc.startswith("devm_")
                                                     or "dr" in entry.args)
            if (entry.kind is Kind.alloc and entry.devm) or devm_call:
                sym.devm_sites += 1
            if entry.proc.startswith("pm_runtime"):
                sym.uses_rpm = True
            _registration(sym, c, entry, globals_)
            for t in entry.args:
                kind, _, n = t.partition(":")
                if kind == "lock" and n.isdigit() and int(n) < len(c.args):
                    key = last_field(c.args[int(n)])
                    if key:
                        sym.locks.setdefault(key, "lk_" + ident(key))
    if any(r in (Role.rpm_suspend, Role.rpm_resume) for r in sym.roles.values()):
        sym.uses_rpm = True

    # helpers: driver functions reached from a role function
    todo = [n for n in sym.roles if n in fns]
    seen = set(todo)
    while todo:
        f = fns[todo.pop()]
        for c in calls_in(f):
            if c.func in fns and c.func not in seen and c.func not in table:
                seen.add(c.func)
                sym.roles.setdefault(c.func, Role.helper)
                todo.append(c.func)
    return sym


def _pm_ops(sym: Symbols, g: C.Global | None, unit: C.Unit) -> None:
    if g is None:
        return
    suspend = resume = ""
    for e in g.entries:
        if e.path == ("runtime_suspend",):
            suspend = fn_name(e.value)
        elif e.path == ("runtime_resume",):
            resume = fn_name(e.value)
        elif isinstance(e.value, C.Call) and e.value.func in ("SET_RUNTIME_PM_OPS",
                                                              "RUNTIME_PM_OPS"):
            args = e.value.args
            if len(args) >= 2:
                suspend, resume = fn_name(args[0]), fn_name(args[1])
    _rpm_roles(sym, suspend, resume)


def _rpm_roles(sym: Symbols, suspend: str, resume: str) -> None:
    if suspend and suspend != "NULL":
        sym.roles[suspend] = Role.rpm_suspend
    if resume and resume != "NULL":
        sym.roles[resume] = Role.rpm_resume


def _attr_macro(sym: Symbols, m: C.Macro) -> None:
    fns: tuple[str, ...] = ()
    if m.name == "DEVICE_ATTR_RO" and m.args:
        fns = (m.args[0] + "_show",)
    elif m.name == "DEVICE_ATTR_WO" and m.args:
        fns = (m.args[0] + "_store",)
    elif m.name == "DEVICE_ATTR_RW" and m.args:
        fns = (m.args[0] + "_show", m.args[0] + "_store")
    elif m.name == "DEVICE_ATTR" and len(m.args) >= 4:
        fns = tuple(a for a in m.args[2:4] if a != "NULL")
    elif m.name == "ATTRIBUTE_GROUPS" and m.args:
        return
    else:
        return
    member = "attr_" + ident(m.args[0])
    sym.attrs[m.args[0]] = member
    sym.attr_fns[member] = fns
    for f in fns:
        sym.roles[f] = Role.sysfs


def _group_attrs(sym: Symbols, name: str, unit: C.Unit,
                 globals_: dict[str, C.Global]) -> tuple[str, ...]:
    """The attributes of a group (`foo_group`) or groups list (`foo_groups`): their
    `dev_attr_X` names, found through ATTRIBUTE_GROUPS(foo) / `.attrs = foo_attrs`."""
    stem = re.sub(r"_groups?$", "", name)
    lists = [f"{stem}_attrs"]
    g = globals_.get(name)
    if g is not None:
        lists += [last_field(e.value) for e in g.entries if e.path == ("attrs",)]
    out: list[str] = []
    for lst in lists:
        arr = globals_.get(lst)
        if arr is None:
            continue
        for e in arr.array:
            for x in walk_expr(e):
                if isinstance(x, C.Ident) and x.name.startswith("dev_attr_"):
                    out.append(x.name.removeprefix("dev_attr_"))
    sym.groups[name] = tuple(out)
    return tuple(out)


def _registration(sym: Symbols, c: C.Call, entry: Entry,
                  globals_: dict[str, C.Global]) -> None:
    def arg(i: int) -> C.Expr | None:
        return c.args[i] if 0 <= i < len(c.args) else None

    match entry.registers:
        case Registers.irq:
            h, t = fn_name(arg(entry.handler_arg)), fn_name(arg(entry.thread_arg))
            key = last_field(arg(entry.irq_arg) or C.Ident("irq"))
            if key not in sym.irqs:
                sym.irqs[key] = "irq_" + ident(t or h or key)
            for f in (h, t):
                if f:
                    sym.roles.setdefault(f, Role.irq)
        case Registers.work | Registers.timer:
            key = last_field(arg(entry.work_arg) or C.Ident("work"))
            sym.works.setdefault(key, "w_" + ident(key))
            f = fn_name(arg(entry.fn_arg))
            if f:
                sym.roles.setdefault(f, Role.work)
        case Registers.action:
            f = fn_name(arg(entry.fn_arg))
            if f:
                sym.roles.setdefault(f, Role.action)
        case Registers.component:
            ops = last_field(arg(entry.ops_arg) or C.Ident("ops"))
            sym.comps.setdefault(ops, "comp_" + ident(ops))
            g = globals_.get(ops)
            for e in g.entries if g is not None else ():
                name = fn_name(e.value)
                if e.path == ("bind",) and name:
                    sym.roles[name] = Role.comp_bind
                elif e.path == ("unbind",) and name:
                    sym.roles[name] = Role.comp_unbind
        case Registers.nothing:
            pass


def _allocations(sym: Symbols, f: C.Function, s: C.Stmt, e: C.Expr,
                 types: dict[str, C.CType], structs: dict[str, dict[str, C.CType]],
                 table: dict[str, Entry]) -> None:
    target: C.Expr | None = None
    value: C.Expr | None = None
    if isinstance(s, C.Decl) and e is s.init:
        target, value = C.Ident(s.name), s.init
    elif isinstance(e, C.Assign) and e.op == "=":
        target, value = e.target, e.value
    if target is None or value is None:
        return
    if isinstance(value, C.Call):
        entry = table.get(value.func)
        if entry is None or entry.kind is not Kind.alloc:
            return
        res = res_for_target(sym, f, target, types, structs, create=True)
        if res:
            (sym.devm_res if entry.devm else sym.plain_res).add(res)
    elif isinstance(target, C.Member) and isinstance(value, C.Ident) \
            and (f.name, value.name) in sym.local_res:
        base_t = type_of(target.base, types, structs)
        if base_t is not None and base_t.struct:
            sym.field_res.setdefault((base_t.name, target.field),
                                     sym.local_res[(f.name, value.name)])


def res_for_target(sym: Symbols, f: C.Function, target: C.Expr, types: dict[str, C.CType],
                   structs: dict[str, dict[str, C.CType]], create: bool) -> str:
    """The Res member an allocation into `target` creates (or '' when it is not tracked)."""
    if isinstance(target, C.Ident):
        t = types.get(target.name)
        if t is not None and t.struct and t.pointer:
            if create:
                sym.struct_res.setdefault(t.name, ident(t.name))
            return sym.struct_res.get(t.name, "")
        key = (f.name, target.name)
        if create:
            sym.local_res.setdefault(key, "mem_" + ident(target.name))
        return sym.local_res.get(key, "")
    if isinstance(target, C.Member):
        bt = type_of(target.base, types, structs)
        if bt is not None and bt.struct:
            key2 = (bt.name, target.field)
            if create:
                sym.field_res.setdefault(key2, ident(f"{bt.name}_{target.field}"))
            return sym.field_res.get(key2, "")
    return ""


def type_of(e: C.Expr, types: dict[str, C.CType],
            structs: dict[str, dict[str, C.CType]]) -> C.CType | None:
    match e:
        case C.Ident(name=n):
            return types.get(n)
        case C.Member(base=b, field=fld):
            bt = type_of(b, types, structs)
            if bt is None or not bt.struct:
                return None
            return structs.get(bt.name, {}).get(fld)
        case C.Unary(op="*", operand=inner) | C.Index(base=inner):
            t = type_of(inner, types, structs)
            return C.CType(t.name, t.struct, False) if t is not None else None
        case _:
            return None
