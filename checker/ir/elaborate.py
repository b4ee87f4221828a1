"""AST → IR: name resolution, type checking, constant folding, variants, runtime-check sites.

`elaborate(program, variant)` builds the `Model` of one variant. Every problem found is collected
and reported together as one SpecError; nothing in a spec is ever evaluated as Python.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import assert_never

from drvmc.checker.errors import Diagnostics, Span, SpecError
from drvmc.checker.ir import nodes as I
from drvmc.checker.ir.lower import (
    OWN_CONTROL,
    Block,
    Exit,
    Jump,
    Label,
    Loop,
    contains,
    lower_actor,
)
from drvmc.checker.lang import ast as A
from drvmc.checker.lang import pretty
from drvmc.checker.lang.loader import Program
from drvmc.checker.nodeclass import node

MAX_INT_MAGNITUDE = 1 << 20
MAX_RANGE_SIZE = 1 << 12
MAX_LIST_CAP = 64
MAX_ACTOR_INSTANCES = 64
MAX_INLINE_DEPTH = 48
MAX_FUNC_DEPTH = 16  # nested `func` expansions: a recursion must reach its base case by then
DEFAULT_RECURSION_DEPTH = 4  # nested calls of recursive atomic procedures (RECURSION_DEPTH)
MAX_STATE_LEAVES = 4096  # scalar components of one type and of the whole state (scenarios: < 200)

BASE_VARIANT = "original"

_ERR = I.Lit(False, I.BOOL)


class _Poison(Exception):
    """Stops elaborating one expression after its error has been recorded."""


@dataclass
class _ProcInfo:
    decl: A.ProcDecl
    labelled: bool = False


@dataclass
class _Scope:
    """Lexical scope: name → value binding (temp or state variable, or constant)."""

    names: dict[str, I.Expr] = field(default_factory=dict)


@dataclass
class _Ctx:
    """Where statements are being elaborated."""

    actor: str | None  # actor instance name, when inside an actor body
    proc: str | None  # procedure being elaborated (atomic) or inlined
    result: I.Type | None
    ret_var: I.Expr | None  # inlined labelled procedure: where `return v` stores v
    exit_tag: str | None  # inlined labelled procedure: Block tag a `return` leaves
    inline_depth: int = 0
    call_prefix: str = ""  # an inlined call's labels: `proc.`, `proc#2.` (the call site)
    # an inlined call's state (parameters, locals, result): `proc.`, `proc@2.` (by nesting: the
    # call sites of one procedure in one actor are never live at once unless nested)
    state_prefix: str = ""
    loop: _Loop | None = None  # the innermost loop `break`/`continue` leave or repeat
    recursion: int = 0  # which copy of a recursive procedure is being elaborated
    dead: bool = False  # inside the branch of an `if` whose condition is the constant false
    inlined: tuple[str, ...] = ()  # the labelled procedures being inlined, outermost first


@node
class _Loop:
    """A `while` (break/continue are lowering jumps) or a `for` (they set these flags, and the
    rest of the iteration, or of the loop, is skipped)."""

    brk: I.VarRef | None = None
    cont: I.VarRef | None = None


class Elaborator:
    def __init__(self, program: Program, variant: str) -> None:
        self.program = program
        self.variant = variant
        self.diag = Diagnostics()
        self.consts: dict[str, I.Lit] = {}
        self.const_decls: dict[str, A.ConstDecl] = {}
        self._recursion_depth: int | None = None  # RECURSION_DEPTH, read once
        self.enums: dict[str, I.EnumType] = {}
        self.members: dict[str, I.Lit] = {}
        self.record_decls: dict[str, A.RecordDecl] = {}
        self.records: dict[str, I.RecordType] = {}
        self.var_decls: dict[str, A.VarDecl] = {}
        self.procs: dict[str, _ProcInfo] = {}
        self.actor_decls: dict[str, A.ActorDecl] = {}
        self.prop_decls: dict[str, A.PropertyDecl] = {}
        self.simplifications: dict[str, A.SimplificationDecl] = {}
        # `simplified` statements elaborated outside dead branches, by where they lie: an actor
        # (its own code or a procedure inlined into it) or an atomic procedure (copy name)
        self.simplified_in: dict[str, set[str]] = {}
        self.state_props: dict[str, A.StateProp] = {}
        self.variants: dict[str, A.VariantDecl] = {}
        self.expect_decls: list[A.ExpectDecl] = []
        self.allow_deadlock = False
        self.sites: list[I.Site] = []
        self.state_vars: dict[str, I.StateVar] = {}
        self.globals = _Scope()
        self._const_stack: list[str] = []
        self._inline_counter: dict[tuple[str, str], int] = {}
        self._site_vars: set[tuple[str, str, str]] = set()  # (actor, call site, name) declared
        self._labelled_calls = 0  # calls of labelled procedures met (`calls_labelled`)
        self._written: dict[str, set[str]] = {}  # per labelled procedure: `_written_names`
        self._block_counter = 0
        self._state_leaves = 0
        # Names whose declaration already had an error: uses of them fail silently, so one
        # mistake is reported once and every phase still reports its own errors (no cascades).
        self.poisoned: set[str] = set()
        self._func_stack: list[str] = []  # the `func`s being expanded, outermost first
        self._func_vars = 0  # fresh names for quantifier variables inside expanded funcs
        self._func_checking = False  # type-checking a func's body on its own (check_func)
        # signature → the enum of the procedures of that signature the spec uses as values
        self._callbacks: dict[str, I.EnumType] | None = None
        self.callback_members: dict[str, I.Lit] = {}  # such a procedure → its enum member
        self._pools: dict[str, list[_PoolInstance]] = {}
        self.recursive: dict[str, int] = {}  # an atomic procedure on a circle → its circle
        self.recursive_labelled: dict[str, int] = {}  # the same, for labelled procedures
        # library declarations the spec file re-declares (its own win), by name
        self.library_defaults: dict[str, A.Decl] = {}

    # ------------------------------------------------------------------ collection
    def collect(self) -> None:
        seen: dict[str, Span] = {}

        def define(name: str, span: Span, what: str) -> bool:
            if name in seen:
                hint = ""
                if span.file == self.program.main.path and seen[name].file != span.file:
                    hint = (" (a library declaration can be replaced only where the library "
                            "declares it `default`: choose another name)")
                self.diag.error("E101", f"{what} '{name}' is already defined at {seen[name]}"
                                + hint, span)
                return False
            seen[name] = span
            return True

        # A library file's constant, and its enum, record, variable, procedure or func declared
        # `default`, is a default: the spec file may declare the same kind of thing under the same
        # name, and its declaration is the one that counts. Anything else of the library's keeps
        # its name (E101), so a spec cannot replace kernel code by accident.
        # A `default` may also be replaced by a library file read after it (files come
        # dependencies first), such as probe.drv filling device.drv's deferred-probe hooks.
        main = self.program.main
        winners: dict[tuple[str, str], A.Decl] = {}
        replaced: set[int] = set()
        for f in self.program.files:
            for d in f.decls:
                kind = _default_kind(d)
                if not kind:
                    continue
                key = (kind, _decl_name(d))
                prev = winners.get(key)
                if prev is None:
                    winners[key] = d
                elif (isinstance(prev, A.ConstDecl) and prev.span.file != main.path
                      and f is main) or getattr(prev, "default", False):
                    replaced.add(id(prev))
                    self.library_defaults[key[1]] = prev
                    winners[key] = d
        for f in self.program.files:
            for d in f.decls:
                if id(d) in replaced:
                    continue
                match d:
                    case A.Use():
                        pass
                    case A.ConstDecl():
                        if define(d.name, d.span, "constant"):
                            self.const_decls[d.name] = d
                    case A.EnumDecl():
                        if define(d.name, d.span, "enum"):
                            et = I.EnumType(d.name, d.members)
                            self.enums[d.name] = et
                            for i, m in enumerate(d.members):
                                msp = d.member_spans[i] if i < len(d.member_spans) else d.span
                                if define(m, msp, "enum member"):
                                    self.members[m] = I.Lit(i, et, msp)
                    case A.RecordDecl():
                        if define(d.name, d.span, "record"):
                            self.record_decls[d.name] = d
                    case A.VarDecl():
                        if define(d.name, d.span, "variable"):
                            self.var_decls[d.name] = d
                    case A.ProcDecl():
                        if define(d.name, d.span, "procedure"):
                            self.procs[d.name] = _ProcInfo(d)
                    case A.ActorDecl():
                        if define(d.name, d.span, "actor"):
                            self.actor_decls[d.name] = d
                    case A.SimplificationDecl():
                        if define(d.name, d.span, "simplification"):
                            self.simplifications[d.name] = d
                    case A.PropertyDecl():
                        if define(d.name, d.span, "property"):
                            self.prop_decls[d.name] = d
                    case A.StateProp():
                        if define(d.name, d.span, "property"):
                            self.state_props[d.name] = d
                    case A.AllowDecl():
                        if d.what == "deadlock":
                            self.allow_deadlock = True
                        else:
                            self.diag.error("E103", f"unknown 'allow {d.what}' (only 'allow "
                                            "deadlock' exists)", d.span)
                    case A.VariantDecl():
                        if d.name == BASE_VARIANT:
                            self.diag.error("E140", f"'{BASE_VARIANT}' names the base spec; "
                                            "choose another variant name", d.span)
                        elif d.name in self.variants:
                            self.diag.error("E101", f"variant '{d.name}' is already defined at "
                                            f"{self.variants[d.name].span}", d.span)
                        else:
                            self.variants[d.name] = d
                    case A.ExpectDecl():
                        self.expect_decls.append(d)
        for b in I.Builtin:
            if b.value in seen:
                self.diag.error("E101", f"'{b.value}' is a built-in property name", seen[b.value])

    def apply_variant(self) -> None:
        if self.variant == BASE_VARIANT:
            return
        v = self.variants.get(self.variant)
        if v is None:
            raise SpecError([])  # caller checks names first; unreachable in practice
        chain = [v]  # the variant, then what it extends, outermost last
        while chain[-1].base is not None and chain[-1].base != BASE_VARIANT:
            b = chain[-1]
            base = self.variants.get(b.base or "")
            if base is None or base in chain:
                what = "unknown variant" if base is None else "itself (through a circle)"
                self.diag.error("E148", f"variant '{b.name}' extends {what} '{b.base}'",
                                b.span)
                return
            chain.append(base)
        for link in reversed(chain):
            self.apply_variant_items(link)

    def apply_variant_items(self, v: A.VariantDecl) -> None:
        for d in v.items:
            match d:
                case A.ConstDecl():
                    self._override(d.name, d.span, self.const_decls, "constant")
                    self.const_decls[d.name] = d
                case A.VarDecl():
                    # a fix may add state of its own (a lock, a flag): no override check
                    self.var_decls[d.name] = d
                case A.ProcDecl():
                    info = self.procs.get(d.name)
                    if info is not None and len(info.decl.params) != len(d.params):
                        self.diag.error("E141", f"override of '{d.name}' must keep its "
                                        f"{len(info.decl.params)} parameter(s)", d.span)
                    self.procs[d.name] = _ProcInfo(d)
                case A.ActorDecl():
                    self.actor_decls[d.name] = d
                case _:
                    self.diag.error("E142", "a variant may only declare constants, variables, "
                                    "procedures and actors", d.span)

    def check_default_signatures(self) -> None:
        """A spec file's procedure that replaces a library default keeps its signature: the
        library calls it, and a mismatch would be reported inside the library, far from the
        mistake."""
        for name, lib in self.library_defaults.items():
            own = self.procs.get(name)
            if not isinstance(lib, A.ProcDecl) or own is None:
                continue
            try:
                want = ([self.type(p.type) for p in lib.params],
                        self.type(lib.result) if lib.result is not None else None)
                got = ([self.type(p.type) for p in own.decl.params],
                       self.type(own.decl.result) if own.decl.result is not None else None)
            except _Poison:
                continue
            if want != got:
                params = ", ".join(f"{p.name}: {pretty.type_(p.type)}" for p in lib.params)
                result = f" -> {pretty.type_(lib.result)}" if lib.result is not None else ""
                self.diag.error("E141", f"'{name}' replaces the library's default at {lib.span} "
                                f"and must keep its signature: ({params}){result}",
                                own.decl.span)

    def _override(self, name: str, span: Span, table: Mapping[str, object], what: str) -> None:
        if name not in table:
            self.diag.error("E143", f"variant '{self.variant}' overrides unknown {what} '{name}'",
                            span)

    # ------------------------------------------------------------------ constants
    def const_value(self, name: str, span: Span) -> I.Lit:
        if name in self.consts:
            return self.consts[name]
        if name in self.poisoned:
            raise _Poison
        d = self.const_decls[name]
        if name in self._const_stack:
            self.diag.error("E115", f"constant '{name}' is defined in terms of itself", span)
            raise _Poison
        self._const_stack.append(name)
        try:
            e = self.expr(d.value, _Scope(), const=True)
        except _Poison:
            self.poisoned.add(name)
            raise
        finally:
            self._const_stack.pop()
        if not isinstance(e, I.Lit):
            self.diag.error("E115", f"constant '{name}' must have a constant value", d.value.span)
            self.poisoned.add(name)
            raise _Poison
        self.consts[name] = e
        return e

    def const_int(self, e: A.Expr, scope: _Scope | None = None) -> int:
        v = self.expr(e, scope or _Scope(), const=True)
        if not isinstance(v, I.Lit) or not isinstance(v.value, int) or isinstance(v.value, bool):
            self.diag.error("E115", "expected a constant integer", e.span)
            raise _Poison
        return v.value

    # ------------------------------------------------------------------ types
    def type(self, t: A.TypeExpr, stack: tuple[str, ...] = ()) -> I.Type:
        match t:
            case A.TBool():
                return I.BOOL
            case A.TRange():
                lo, hi = self.const_int(t.lo), self.const_int(t.hi)
                if lo > hi:
                    self.diag.error("E116", f"empty range {lo}..{hi}", t.span)
                    raise _Poison
                if max(abs(lo), abs(hi)) > MAX_INT_MAGNITUDE or hi - lo + 1 > MAX_RANGE_SIZE:
                    self.diag.error("E150", f"range {lo}..{hi} is too large (at most "
                                    f"{MAX_RANGE_SIZE} values within ±{MAX_INT_MAGNITUDE})", t.span)
                    raise _Poison
                return I.IntType(lo, hi)
            case A.TNamed():
                if t.name in self.enums:
                    return self.enums[t.name]
                if t.name in self.record_decls:
                    return self.record(t.name, t.span, stack)
                if t.name == "int":
                    self.diag.error("E104", "write integer types as ranges, e.g. 0..3", t.span)
                    raise _Poison
                self.diag.error("E100", f"unknown type '{t.name}'", t.span)
                raise _Poison
            case A.TNullable():
                if t.name in self.enums:
                    return self.enums[t.name].as_nullable()
                self.diag.error("E104", f"only enum handles may be nullable ('{t.name}?')", t.span)
                raise _Poison
            case A.TList():
                elem = self.type(t.elem, stack)
                cap = self.const_int(t.cap)
                if not 1 <= cap <= MAX_LIST_CAP:
                    self.diag.error("E150", f"list capacity must be 1..{MAX_LIST_CAP}, not {cap}",
                                    t.cap.span)
                    raise _Poison
                return self.sized(I.ListType(elem, cap), t.span)
            case A.TArray():
                elem = self.type(t.elem, stack)
                idx = self.type(t.index, stack)
                if (isinstance(idx, I.EnumType) and not idx.nullable) or isinstance(idx, I.IntType):
                    return self.sized(I.ArrayType(idx, elem), t.span)
                self.diag.error("E104", "arrays are indexed by an enum or a range", t.index.span)
                raise _Poison
            case A.TCallback():
                sig = _signature(tuple(self.type(p, stack) for p in t.params),
                                 self.type(t.result, stack) if t.result is not None else None)
                # a signature no procedure of which is used as a value: only null fills it
                et = self.callback_types().setdefault(sig, I.EnumType(sig, ()))
                if t.nullable:
                    return et.as_nullable()
                if not et.members:
                    self.diag.error("E104", f"no procedure of type {sig} is ever used as a value "
                                    f"(write its name where a {sig} is needed), so a {sig} "
                                    f"can only be null: declare it '{sig}?'", t.span)
                    raise _Poison
                return et

    def sized(self, t: I.Type, span: Span) -> I.Type:
        """Refuse types too big to encode (each scalar component is one solver variable)."""
        n = _leaves(t)
        if n > MAX_STATE_LEAVES:
            self.diag.error("E150", f"type {t} has {n} scalar components (limit "
                            f"{MAX_STATE_LEAVES})", span)
            raise _Poison
        return t

    def record(self, name: str, span: Span, stack: tuple[str, ...]) -> I.RecordType:
        if name in self.records:
            return self.records[name]
        if name in self.poisoned:
            raise _Poison
        if name in stack:
            self.diag.error("E104", f"record '{name}' contains itself", span)
            raise _Poison
        d = self.record_decls[name]
        fields: list[tuple[str, I.Type]] = []
        for f in d.fields:
            if any(f.name == n for n, _ in fields):
                self.diag.error("E101", f"field '{f.name}' is defined twice", f.span)
                continue
            try:
                fields.append((f.name, self.type(f.type, (*stack, name))))
            except _Poison:
                self.poisoned.add(name)
                raise
        rt = I.RecordType(name, tuple(fields))
        self.records[name] = rt
        return rt

    def default_value(self, t: I.Type, span: Span) -> I.Expr:
        match t:
            case I.BoolType():
                return I.Lit(False, t, span)
            case I.IntType():
                return I.Lit(t.default, t, span)
            case I.EnumType():
                return I.Lit(None if t.nullable else 0, t, span)
            case I.NullType():
                return I.Lit(None, t, span)
            case I.RecordType():
                return I.RecordLit(t, tuple(self.default_value(ft, span) for _, ft in t.fields),
                                   span)
            case I.ArrayType():
                return I.ArrayFill(t, self.default_value(t.elem, span), span)
            case I.ListType():
                return I.ListLit(t, (), span)

    def typed_value(self, e: A.Expr, t: I.Type, scope: _Scope, const: bool,
                    what: str) -> I.Expr:
        """`e` as a value of the declared type `t` (an initial value, an assignment's right
        side): an array given per element (`[k: v]`) is built for `t`; one element value
        fills an array; anything else is checked by coerce."""
        if isinstance(e, A.ArrayLit):
            if not isinstance(t, I.ArrayType):
                self.diag.error("E110", f"an array value [k: v] given for a {t} ({what})",
                                e.span)
                raise _Poison
            return self.array_lit(e, t, scope, const, what)
        raw = self.expr(e, scope, const)
        if isinstance(t, I.ArrayType) and not isinstance(_type_of(raw), I.ArrayType):
            # one element value fills every dimension; coerce it to the element type first
            # (coerce() returns a fill of the right type unchanged, so an uncoerced
            # `null`/`false` here would be encoded as a wrong value)
            raw = self.fill_array(t, raw, e.span, what)
        return self.coerce(raw, t, e.span, what)

    def array_lit(self, e: A.ArrayLit, t: I.ArrayType, scope: _Scope, const: bool,
                  what: str) -> I.ArrayLit:
        """`[k: v, ...]` for array type `t`: each key a constant of t's index, given once; the
        elements not given take the element type's default."""
        keys = I.index_values(t.index)
        given: dict[int, I.Expr] = {}
        for k, v in e.entries:
            kv = self.expr(k, scope, const=True)
            kt = _type_of(kv)
            ok = isinstance(kv, I.Lit) and kv.value is not None and (
                (isinstance(t.index, I.EnumType) and isinstance(kt, I.EnumType)
                and kt.name == t.index.name)
                or (isinstance(t.index, I.IntType) and isinstance(kt, I.IntType)))
            if not ok or not isinstance(kv, I.Lit) or kv.value not in keys:
                self.diag.error("E110", f"an element key must be a constant {t.index}, "
                                f"found {kt} ({what})", k.span)
                raise _Poison
            at = int(kv.value)
            if at in given:
                self.diag.error("E101", f"element {_member_name(kv)} is given twice ({what})",
                                k.span)
                raise _Poison
            given[at] = self.typed_value(v, t.elem, scope, const, what)
        items = tuple(given[i] if i in given else self.default_value(t.elem, e.span)
                      for i in keys)
        return I.ArrayLit(t, items, e.span)

    def fill_array(self, t: I.ArrayType, value: I.Expr, span: Span, what: str) -> I.ArrayFill:
        """An array of type `t` (nested arrays included) with every element `value`."""
        if isinstance(t.elem, I.ArrayType) and not isinstance(_type_of(value), I.ArrayType):
            return I.ArrayFill(t, self.fill_array(t.elem, value, span, what), span)
        return I.ArrayFill(t, self.coerce(value, t.elem, span, what), span)

    def all_values(self, t: I.Type, span: Span) -> tuple[I.Lit, ...]:
        match t:
            case I.BoolType():
                return (I.Lit(False, t, span), I.Lit(True, t, span))
            case I.IntType():
                return tuple(I.Lit(v, t, span) for v in range(t.lo, t.hi + 1))
            case I.EnumType():
                vals: list[I.Lit] = [I.Lit(i, t, span) for i in range(len(t.members))]
                return (*vals, I.Lit(None, t, span)) if t.nullable else tuple(vals)
            case _:
                self.diag.error("E104", f"'any' is for bool, range and enum variables, not {t}",
                                span)
                raise _Poison

    # ------------------------------------------------------------------ sites
    def calls_labelled(self, body: tuple[A.Stmt, ...], scope: _Scope, ctx: _Ctx) -> bool:
        """Whether `body` calls a labelled procedure (directly or through a callback that may
        hold one): a trial elaboration as dead code, where such calls are only counted, not
        inlined, and which leaves nothing behind (sites, temporaries, declarations). An error
        in the body is reported by the trial and stops here."""
        if ctx.actor is None:
            return False  # atomic code: a labelled call there is E124, reported as usual
        sites, errors, site_vars = len(self.sites), len(self.diag.items), set(self._site_vars)
        counter, calls = self._block_counter, self._labelled_calls
        try:
            self.block(body, scope, dataclasses.replace(ctx, dead=True))
        finally:
            del self.sites[sites:]
            self._site_vars, self._block_counter = site_vars, counter
        if len(self.diag.items) > errors:
            raise _Poison
        return self._labelled_calls > calls

    def unrolled_for(self, s: A.For, scope: _Scope, ctx: _Ctx, values: tuple[I.Lit, ...],
                     jumps: bool) -> list[object]:
        """A `for` whose body calls labelled procedures, unrolled: the body elaborated once per
        value, the loop variable a constant there (so a test on it selects the code, and a
        call made with it inlines only what that value reaches). The copies run one after
        another and share their locals' state."""
        if jumps:
            self.diag.error("E121", "a 'for' loop that calls labelled procedures may not use "
                            "break/continue (it is unrolled); use 'while'", s.span)
            raise _Poison
        out: list[object] = []
        site_vars = set(self._site_vars)
        for v in values:
            self._site_vars = set(site_vars)
            inner = _Scope(dict(scope.names))
            inner.names[s.var] = dataclasses.replace(v, span=s.span)
            body = self.block(s.body, inner, dataclasses.replace(ctx, loop=_Loop()))
            if any(contains(x, OWN_CONTROL) for x in body):
                self.diag.error("E121", "labels (or a 'while') inside a 'for' loop would be "
                                "copied per value; write the loop as a 'while'", s.span)
                raise _Poison
            out.extend(body)
        return out

    def site(self, prop: str, message: str, fatal: bool, span: Span) -> int:
        sid = len(self.sites) + 1
        self.sites.append(I.Site(sid, prop, message, fatal, span))
        return sid

    # ------------------------------------------------------------------ coercion
    def coerce(self, e: I.Expr, t: I.Type, span: Span, what: str) -> I.Expr:
        """Check that `e` may flow into type `t`; insert a runtime check where it may not fit."""
        src = _type_of(e)
        match t:
            case I.BoolType():
                if isinstance(src, I.BoolType):
                    return e
            case I.IntType():
                if isinstance(src, I.IntType):
                    if t.lo <= src.lo and src.hi <= t.hi:
                        return e
                    if isinstance(e, I.Lit):
                        self.diag.error("E110", f"{e.value} is outside {t} ({what})", span)
                        raise _Poison
                    sid = self.site(I.Builtin.OVERFLOW.value,
                                    f"value out of range {t} ({what})", True, span)
                    return I.Coerce(e, t, sid, span)
            case I.EnumType():
                if isinstance(src, I.NullType) and t.nullable:
                    return I.Lit(None, t, span)
                if isinstance(src, I.EnumType) and src.name == t.name:
                    if t.nullable or not src.nullable:
                        return e if src == t else _retype(e, t)
                    if isinstance(e, I.Lit) and e.value is None:
                        self.diag.error("E110", f"null is not a {t} ({what})", span)
                        raise _Poison
                    sid = self.site(I.Builtin.NULL_DEREF.value,
                                    f"NULL {src.name} handle dereferenced ({what})", True, span)
                    return I.Coerce(e, t, sid, span)
            case I.RecordType():
                if src == t:
                    return e
            case I.ArrayType():
                if src == t:
                    return e
                if isinstance(e, I.ArrayFill):
                    return I.ArrayFill(t, self.coerce(e.value, t.elem, span, what), span)
            case I.ListType():
                if src == t:
                    return e
                if isinstance(e, I.ListLit) and t.elem is not None:
                    if len(e.items) > t.cap:
                        self.diag.error("E110", f"{len(e.items)} items do not fit in {t}", span)
                        raise _Poison
                    return I.ListLit(t, tuple(self.coerce(x, t.elem, span, what)
                                              for x in e.items), e.span)
            case I.NullType():
                pass
        self.diag.error("E110", f"type mismatch: expected {t}, found {src} ({what})", span)
        raise _Poison

    # ------------------------------------------------------------------ expressions
    def lookup(self, name: str, scope: _Scope, span: Span, const: bool) -> I.Expr:
        if name in scope.names:
            return _respan(scope.names[name], span)
        if not const and name in self.globals.names:
            return _respan(self.globals.names[name], span)
        if name in self.const_decls:
            return _respan(self.const_value(name, span), span)
        if name in self.members:
            return _respan(self.members[name], span)
        if name in self.poisoned:
            raise _Poison
        if const and (name in self.globals.names or name in self.var_decls):
            self.diag.error("E115", f"'{name}' is a variable; a constant is needed here", span)
            raise _Poison
        if name in self.enums or name in self.record_decls:
            self.diag.error("E102", f"'{name}' is a type, not a value", span)
            raise _Poison
        if name in self.procs:  # a procedure as a value: a constant of its callback type
            self.callback_types()
            if name in self.callback_members:
                return _respan(self.callback_members[name], span)
        if name in self.procs:
            what = "function" if self.procs[name].decl.pure else "procedure"
            self.diag.error("E114", f"{what} '{name}' must be called: '{name}(...)'", span)
            raise _Poison
        self.diag.error("E100", f"undefined name '{name}'", span)
        raise _Poison

    def expr(self, e: A.Expr, scope: _Scope, const: bool = False) -> I.Expr:
        out = self._expr(e, scope, const)
        return _fold(out)

    def _expr(self, e: A.Expr, scope: _Scope, const: bool) -> I.Expr:
        match e:
            case A.IntLit():
                if abs(e.value) > MAX_INT_MAGNITUDE:
                    self.diag.error("E150", f"integer {e.value} is too large (limit "
                                    f"±{MAX_INT_MAGNITUDE})", e.span)
                    raise _Poison
                return I.Lit(e.value, I.IntType(e.value, e.value), e.span)
            case A.BoolLit():
                return I.Lit(e.value, I.BOOL, e.span)
            case A.NullLit():
                return I.Lit(None, I.NullType(), e.span)
            case A.Name():
                return self.lookup(e.name, scope, e.span, const)
            case A.FieldAccess():
                base = self.expr(e.base, scope, const)
                bt = _type_of(base)
                if not isinstance(bt, I.RecordType):
                    self.diag.error("E112", f"{bt} has no fields ('.{e.name}')", e.span)
                    raise _Poison
                ft = bt.field_type(e.name)
                if ft is None:
                    self.diag.error("E112", f"record {bt.name} has no field '{e.name}'", e.span)
                    raise _Poison
                if isinstance(base, I.RecordLit):
                    return base.values[[n for n, _ in bt.fields].index(e.name)]
                return I.FieldRef(base, e.name, ft, e.span)
            case A.Index():
                return self.index(e, scope, const)
            case A.Call():
                return self.builtin_call(e, scope, const)
            case A.Unary():
                v = self.expr(e.operand, scope, const)
                vt = _type_of(v)
                if e.op is A.UnOp.NOT:
                    self.expect_bool(v, e.operand.span)
                    return I.Unary(I.UnaryOp.NOT, v, I.BOOL, e.span)
                if not isinstance(vt, I.IntType):
                    self.diag.error("E110", f"'-' needs an integer, found {vt}", e.span)
                    raise _Poison
                return I.Unary(I.UnaryOp.NEG, v, I.IntType(-vt.hi, -vt.lo), e.span)
            case A.Binary():
                return self.binary(e, scope, const)
            case A.InSet():
                v = self.expr(e.elem, scope, const)
                return self.membership(v, e.set, scope, const, e.span)
            case A.Quantifier():
                vt, values = self.static_domain(e.domain, scope)
                body_scope = _Scope(dict(scope.names))
                var = e.var
                if self._func_stack:
                    # a func's arguments are substituted into its body: a quantifier there must
                    # not capture a variable of the same name in an argument
                    self._func_vars += 1
                    var = f"{e.var}@{self._func_vars}"
                body_scope.names[e.var] = I.VarRef(var, I.Scope.TEMP, vt, e.span)
                body = self.expr(e.body, body_scope, const)
                self.expect_bool(body, e.body.span)
                kind = I.QuantKind.FORALL if e.kind is A.Quant.FORALL else I.QuantKind.EXISTS
                return I.Quant(kind, var, vt, values, body, I.BOOL, e.span)
            case A.ListLit():
                items = tuple(self.expr(x, scope, const) for x in e.items)
                if not items:
                    return I.ListLit(I.ListType(None, 0), (), e.span)
                t0 = _type_of(items[0])
                joined: I.Type = t0
                for it in items[1:]:
                    jt = _join(joined, _type_of(it))
                    if jt is None:
                        self.diag.error("E110", "list items must have one type", it.span)
                        raise _Poison
                    joined = jt
                return I.ListLit(I.ListType(joined, len(items)), items, e.span)
            case A.ArrayLit():
                self.diag.error("E110", "an array value [k: v, ...] takes its type from where "
                                "it goes: write it as a variable's initial value or assign it "
                                "to an array", e.span)
                raise _Poison

    def expect_bool(self, v: I.Expr, span: Span) -> None:
        t = _type_of(v)
        if not isinstance(t, I.BoolType):
            self.diag.error("E110", f"expected a bool, found {t}", span)
            raise _Poison

    def index(self, e: A.Index, scope: _Scope, const: bool) -> I.Expr:
        base = self.expr(e.base, scope, const)
        idx = self.expr(e.index, scope, const)
        bt, it = _type_of(base), _type_of(idx)
        if isinstance(bt, I.ArrayType):
            match bt.index:
                case I.EnumType():
                    if not isinstance(it, I.EnumType | I.NullType) or (
                        isinstance(it, I.EnumType) and it.name != bt.index.name
                    ):
                        self.diag.error("E110", f"index must be a {bt.index}, found {it}",
                                        e.index.span)
                        raise _Poison
                    if isinstance(it, I.NullType):
                        self.diag.error("E110", "indexing with null", e.index.span)
                        raise _Poison
                    site = None
                    if it.nullable:
                        site = self.site(I.Builtin.NULL_DEREF.value,
                                         f"NULL {it.name} handle dereferenced", True, e.span)
                    return I.IndexRef(base, idx, bt.elem, site, e.span)
                case I.IntType():
                    if not isinstance(it, I.IntType):
                        self.diag.error("E110", f"index must be an integer, found {it}",
                                        e.index.span)
                        raise _Poison
                    site = None
                    if it.lo < bt.index.lo or it.hi > bt.index.hi:
                        site = self.site(I.Builtin.OUT_OF_BOUNDS.value,
                                         f"index out of bounds {bt.index}", True, e.span)
                    return I.IndexRef(base, idx, bt.elem, site, e.span)
        if isinstance(bt, I.ListType) and bt.elem is not None:
            if not isinstance(it, I.IntType):
                self.diag.error("E110", f"list index must be an integer, found {it}", e.index.span)
                raise _Poison
            site = self.site(I.Builtin.OUT_OF_BOUNDS.value, "list index out of bounds", True,
                             e.span)
            return I.IndexRef(base, idx, bt.elem, site, e.span)
        self.diag.error("E113", f"{bt} cannot be indexed", e.span)
        raise _Poison

    def binary(self, e: A.Binary, scope: _Scope, const: bool) -> I.Expr:
        a = self.expr(e.left, scope, const)
        b = self.expr(e.right, scope, const)
        ta, tb = _type_of(a), _type_of(b)
        op = I.BinaryOp(e.op.value)
        match op:
            case I.BinaryOp.AND | I.BinaryOp.OR | I.BinaryOp.IMPLIES:
                self.expect_bool(a, e.left.span)
                self.expect_bool(b, e.right.span)
                return I.Binary(op, a, b, I.BOOL, e.span)
            case I.BinaryOp.EQ | I.BinaryOp.NE:
                if _join(ta, tb) is None or isinstance(ta, I.ListType | I.ArrayType):
                    self.diag.error("E110", f"cannot compare {ta} with {tb}", e.span)
                    raise _Poison
                # a bare `null` takes the handle's type: the encoding's null of an enum E? is
                # not the untyped null's value, so `h == null` was always false before this
                if isinstance(ta, I.NullType) and isinstance(tb, I.EnumType):
                    a = I.Lit(None, tb.as_nullable(), a.span)
                elif isinstance(tb, I.NullType) and isinstance(ta, I.EnumType):
                    b = I.Lit(None, ta.as_nullable(), b.span)
                return I.Binary(op, a, b, I.BOOL, e.span)
            case I.BinaryOp.LT | I.BinaryOp.LE | I.BinaryOp.GT | I.BinaryOp.GE:
                if not (isinstance(ta, I.IntType) and isinstance(tb, I.IntType)):
                    self.diag.error("E110", f"'{op.value}' compares integers, not {ta} and {tb}",
                                    e.span)
                    raise _Poison
                return I.Binary(op, a, b, I.BOOL, e.span)
            case _:
                if not (isinstance(ta, I.IntType) and isinstance(tb, I.IntType)):
                    self.diag.error("E110", f"'{op.value}' needs integers, not {ta} and {tb}",
                                    e.span)
                    raise _Poison
                rt = _arith_type(op, ta, tb)
                if rt is None:
                    self.diag.error("E110", f"'{op.value}' needs a positive constant divisor",
                                    e.right.span)
                    raise _Poison
                if max(abs(rt.lo), abs(rt.hi)) > MAX_INT_MAGNITUDE:
                    self.diag.error("E150", f"result range {rt} is too large", e.span)
                    raise _Poison
                return I.Binary(op, a, b, rt, e.span)

    def membership(self, v: I.Expr, s: A.SetExpr, scope: _Scope, const: bool,
                   span: Span) -> I.Expr:
        match s:
            case A.SetRange():
                lo = self.expr(s.lo, scope, const)
                hi = self.expr(s.hi, scope, const)
                for x in (v, lo, hi):
                    if not isinstance(_type_of(x), I.IntType):
                        self.diag.error("E110", "a range contains integers", x.span)
                        raise _Poison
                return I.Binary(
                    I.BinaryOp.AND,
                    I.Binary(I.BinaryOp.LE, lo, v, I.BOOL, span),
                    I.Binary(I.BinaryOp.LE, v, hi, I.BOOL, span),
                    I.BOOL,
                    span,
                )
            case A.SetLit():
                parts: list[I.Expr] = []
                for item in s.items:
                    x = self.expr(item, scope, const)
                    if _join(_type_of(v), _type_of(x)) is None:
                        self.diag.error("E110", f"cannot compare {_type_of(v)} with "
                                        f"{_type_of(x)}", item.span)
                        raise _Poison
                    vt, xt = _type_of(v), _type_of(x)
                    if isinstance(xt, I.NullType) and isinstance(vt, I.EnumType):
                        x = I.Lit(None, vt.as_nullable(), x.span)  # see binary(): typed null
                    parts.append(I.Binary(I.BinaryOp.EQ, v, x, I.BOOL, item.span))
                out: I.Expr = I.Lit(False, I.BOOL, span)
                for p in reversed(parts):
                    out = p if isinstance(out, I.Lit) else I.Binary(I.BinaryOp.OR, p, out,
                                                                    I.BOOL, span)
                return out
            case A.SetNamed():
                if isinstance(s.expr, A.Name) and s.expr.name in self.enums:
                    et = self.enums[s.expr.name]
                    vt = _type_of(v)
                    if not isinstance(vt, I.EnumType) or vt.name != et.name:
                        self.diag.error("E110", f"{vt} is never a {et.name}", span)
                        raise _Poison
                    if vt.nullable:
                        return I.Binary(I.BinaryOp.NE, v, I.Lit(None, vt, span), I.BOOL, span)
                    return I.Lit(True, I.BOOL, span)
                lst = self.expr(s.expr, scope, const)
                lt = _type_of(lst)
                if isinstance(lt, I.ListType) and lt.elem is not None:
                    if _join(lt.elem, _type_of(v)) is None:
                        self.diag.error("E110", f"a {lt} never contains a {_type_of(v)}", span)
                        raise _Poison
                    return I.ListFn(I.ListQuery.CONTAINS, lst, v, I.BOOL, span)
                self.diag.error("E110", f"'in' needs a range, a set, an enum or a list, not {lt}",
                                s.span)
                raise _Poison

    def static_domain(self, s: A.SetExpr, scope: _Scope) -> tuple[I.Type, tuple[I.Lit, ...]]:
        match s:
            case A.SetRange():
                lo, hi = self.const_int(s.lo, scope), self.const_int(s.hi, scope)
                if hi - lo + 1 > MAX_RANGE_SIZE:
                    self.diag.error("E150", f"range {lo}..{hi} is too large", s.span)
                    raise _Poison
                if lo > hi:
                    return I.IntType(lo, lo), ()
                t = I.IntType(lo, hi)
                return t, tuple(I.Lit(i, t, s.span) for i in range(lo, hi + 1))
            case A.SetNamed():
                if isinstance(s.expr, A.Name) and s.expr.name in self.enums:
                    et = self.enums[s.expr.name]
                    return et, tuple(I.Lit(i, et, s.span) for i in range(len(et.members)))
                self.diag.error("E115", "a fixed set is needed here: a range, an enum or {a, b}",
                                s.span)
                raise _Poison
            case A.SetLit():
                vals: list[I.Lit] = []
                joined: I.Type | None = None
                for item in s.items:
                    x = self.expr(item, scope, const=True)
                    if not isinstance(x, I.Lit):
                        self.diag.error("E115", "set items must be constants here", item.span)
                        raise _Poison
                    joined = _type_of(x) if joined is None else _join(joined, _type_of(x))
                    if joined is None:
                        self.diag.error("E110", "set items must have one type", item.span)
                        raise _Poison
                    vals.append(x)
                if joined is None:
                    return I.BOOL, ()
                jt = joined
                return jt, tuple(I.Lit(v.value, jt, v.span) for v in vals)

    def builtin_call(self, e: A.Call, scope: _Scope, const: bool) -> I.Expr:
        """Built-in functions and record constructors; procedures are calls as statements."""
        if isinstance(e.func, A.Name):
            name = e.func.name
            if name in self.record_decls:
                return self.record_lit(name, e, scope, const)
            if name == "ite":
                self.arity(e, 3)
                c = self.expr(e.args[0].value, scope, const)
                self.expect_bool(c, e.args[0].span)
                a = self.expr(e.args[1].value, scope, const)
                b = self.expr(e.args[2].value, scope, const)
                jt = _join(_type_of(a), _type_of(b))
                if jt is None:
                    self.diag.error("E110", f"ite branches differ: {_type_of(a)} and "
                                    f"{_type_of(b)}", e.span)
                    raise _Poison
                return I.Ite(c, _retype(a, jt), _retype(b, jt), jt, e.span)
            if name in ("len", "contains", "index_of", "last_index_of"):
                q = I.ListQuery(name)
                self.arity(e, 1 if q is I.ListQuery.LEN else 2)
                lst = self.expr(e.args[0].value, scope, const)
                lt = _type_of(lst)
                if not isinstance(lt, I.ListType) or lt.elem is None:
                    self.diag.error("E110", f"{name}() needs a list, found {lt}", e.args[0].span)
                    raise _Poison
                if q is I.ListQuery.LEN:
                    return I.ListFn(q, lst, None, I.IntType(0, lt.cap), e.span)
                x = self.expr(e.args[1].value, scope, const)
                if _join(lt.elem, _type_of(x)) is None:
                    self.diag.error("E110", f"a {lt} never contains a {_type_of(x)}",
                                    e.args[1].span)
                    raise _Poison
                rt: I.Type = I.BOOL if q is I.ListQuery.CONTAINS else I.IntType(-1, lt.cap - 1)
                return I.ListFn(q, lst, x, rt, e.span)
            if name in ("min", "max"):
                self.arity(e, 2)
                a = self.expr(e.args[0].value, scope, const)
                b = self.expr(e.args[1].value, scope, const)
                ta, tb = _type_of(a), _type_of(b)
                if not (isinstance(ta, I.IntType) and isinstance(tb, I.IntType)):
                    self.diag.error("E110", f"{name}() needs integers", e.span)
                    raise _Poison
                op = I.BinaryOp.LE if name == "min" else I.BinaryOp.GE
                jt = I.IntType(min(ta.lo, tb.lo), max(ta.hi, tb.hi))
                return I.Ite(I.Binary(op, a, b, I.BOOL, e.span), a, b, jt, e.span)
            if name in self.procs and self.procs[name].decl.pure:
                return self.func_call(self.procs[name].decl, e, scope, const)
            if name in self.procs:
                self.diag.error("E114", f"procedure '{name}' must be called as a statement "
                                "(`x = f(...)` or `f(...)`); a side-effect-free one can be "
                                f"declared `func {name}(...) -> T` and used in expressions",
                                e.span)
                raise _Poison
            self.diag.error("E100", f"undefined function '{name}'", e.func.span)
            raise _Poison
        self.diag.error("E114", "list operations are statements, not values", e.span)
        raise _Poison

    # ------------------------------------------------------------------ pure functions
    def func_call(self, d: A.ProcDecl, e: A.Call, scope: _Scope, const: bool) -> I.Expr:
        """A call of a `func`: its body evaluated symbolically into one expression.

        Locals become `ite`s over the path that assigned them, each `return` a guarded
        alternative of the result, `for` loops are unrolled; no IR construct is added, so every
        engine and export handles functions as they handle any expression. An argument whose
        evaluation has a run-time check is evaluated whatever the body does with it, as in C.
        """
        if len(e.args) != len(d.params):
            self.diag.error("E111", f"{d.name}() takes {len(d.params)} argument(s), found "
                            f"{len(e.args)}", e.span)
            raise _Poison
        for a in e.args:
            if a.name is not None:
                self.diag.error("E111", "named arguments are for record constructors", a.span)
                raise _Poison
        if self._func_checking and d.name in self._func_stack:
            # type-checking a recursive func's body: the inner call's type is all it needs
            return self.default_value(self.type(d.result or A.TBool()), e.span)
        if len(self._func_stack) >= MAX_FUNC_DEPTH:
            chain = " → ".join((*self._func_stack[:3], "…", d.name))
            self.diag.error("E130", f"func calls nested more than {MAX_FUNC_DEPTH} deep "
                            f"({chain}): a recursive func must reach its base case through "
                            "constant arguments", e.span)
            raise _Poison
        fscope = _Scope()
        checked: list[I.Expr] = []
        for p, a in zip(d.params, e.args, strict=True):
            v = self.coerce(self.expr(a.value, scope, const), self.type(p.type), a.span,
                            f"argument {p.name} of {d.name}")
            fscope.names[p.name] = v
            if _has_check(v):
                checked.append(v)
        self._func_stack.append(d.name)
        try:
            out = self.func_body(d, fscope, const, e.span)
        finally:
            self._func_stack.pop()
        for v in checked:
            # `v == v` is evaluated first, with v's checks; both arms are the result
            out = I.Ite(I.Binary(I.BinaryOp.EQ, v, v, I.BOOL, e.span), out, out, _type_of(out),
                        e.span)
        return out

    def check_func(self, d: A.ProcDecl) -> None:
        """Type-check a func's body once, whether or not anything calls it."""
        scope = _Scope()
        for p in d.params:
            scope.names[p.name] = I.VarRef(p.name, I.Scope.TEMP, self.type(p.type), p.span)
        self._func_stack.append(d.name)
        self._func_checking = True
        try:
            self.func_body(d, scope, False, d.span)
        finally:
            self._func_stack.pop()
            self._func_checking = False

    def func_body(self, d: A.ProcDecl, scope: _Scope, const: bool, span: Span) -> I.Expr:
        assert d.result is not None  # the grammar requires `-> T` on a func
        rt = self.type(d.result)
        if not _always_returns(d.body):
            self.diag.error("E127", f"func '{d.name}' can reach its end without 'return': "
                            "every path must return a value", d.span)
            raise _Poison
        types = {p.name: self.type(p.type) for p in d.params}
        st = _FuncRun(dict(scope.names), types, _FALSE, [], rt)
        self.func_run(d.body, st, _TRUE, const)
        if not st.returns:  # every path returned before a call that did not unfold
            return self.default_value(rt, span)
        # every path returns (checked above), so the guards cover every case: the last
        # alternative needs none
        out = st.returns[-1][1]
        for g, v in reversed(st.returns[:-1]):
            out = v if _lit_bool(g) is True else I.Ite(g, v, out, rt, span)
        return out

    def func_run(self, stmts: tuple[A.Stmt, ...], st: _FuncRun, guard: I.Expr,
                 const: bool) -> None:
        for s in stmts:
            g = _and(guard, _not(st.done))  # on this path and not returned yet
            if _lit_bool(g) is False:
                return
            scope = _Scope(st.names)
            match s:
                case A.Skip():
                    pass
                case A.LocalDecl():
                    t = self.type(s.type)
                    if isinstance(s.init, A.AnyInit):
                        self.diag.error("E117", "a func is deterministic: 'any' needs a proc",
                                        s.span)
                        raise _Poison
                    init = (self.default_value(t, s.span) if s.init is None else
                            self.typed_value(s.init, t, scope, const,
                                             f"initial value of {s.name}"))
                    st.names[s.name] = init
                    st.types[s.name] = t
                case A.Assign():
                    if not (isinstance(s.target, A.Name) and s.target.name in st.types):
                        self.diag.error("E117", "a func may assign only its own locals and "
                                        "parameters (it must be free of side effects: "
                                        "declare a proc to change state)", s.target.span)
                        raise _Poison
                    name = s.target.name
                    new = (self.typed_value(s.value, st.types[name], scope, const, "assignment")
                           if isinstance(s.value, A.ArrayLit) else
                           self.coerce(self.expr(s.value, scope, const), st.types[name],
                                       s.value.span, "assignment"))
                    old = st.names[name]
                    st.names[name] = new if _lit_bool(g) is True else \
                        I.Ite(g, new, old, st.types[name], s.span)
                case A.If():
                    c = self.expr(s.cond, scope, const)
                    self.expect_bool(c, s.cond.span)
                    for branch, cond in ((s.then, c), (s.orelse, _not(c))):
                        outer = set(st.names)
                        self.func_run(branch, st, _and(guard, cond), const)
                        for n in set(st.names) - outer:  # the branch's own locals end with it
                            del st.names[n]
                            del st.types[n]
                case A.For():
                    _, values = self.static_domain(s.domain, scope)
                    saved = st.names.get(s.var)
                    for lit in values:
                        st.names[s.var] = lit
                        self.func_run(s.body, st, guard, const)
                    if saved is None:
                        st.names.pop(s.var, None)
                    else:
                        st.names[s.var] = saved
                case A.Return():
                    if s.value is None:
                        self.diag.error("E117", "a func returns a value: 'return e'", s.span)
                        raise _Poison
                    v = self.coerce(self.expr(s.value, scope, const), st.result, s.value.span,
                                    "returned value")
                    st.returns.append((g, v))
                    st.done = _or(st.done, guard)
                case _:
                    what = type(s).__name__.lower()
                    self.diag.error("E117", f"a func cannot contain '{what}': it must be free of "
                                    "side effects and deterministic (declare a proc instead)",
                                    s.span)
                    raise _Poison

    # ------------------------------------------------------------------ callbacks
    def callback_types(self) -> dict[str, I.EnumType]:
        """One enum per procedure signature: its members are the procedures of that signature
        the spec writes as values (`devm_add_action(dev, unmap, r)`), so a stored callback is a
        finite choice and a call through it a test of each member in turn."""
        if self._callbacks is not None:
            return self._callbacks
        self._callbacks = {}
        by_sig: dict[str, list[str]] = {}
        # procedures named anywhere but in the callee position of a call: used as values
        used = self.program.names_as_values & set(self.procs)
        for name in sorted(used):
            d = self.procs[name].decl
            if d.pure:
                continue
            try:
                sig = _signature(tuple(self.type(p.type) for p in d.params),
                                 self.type(d.result) if d.result is not None else None)
            except _Poison:
                continue
            by_sig.setdefault(sig, []).append(name)
        for sig, names in by_sig.items():
            et = I.EnumType(sig, tuple(names))
            self._callbacks[sig] = et
            for i, n in enumerate(names):
                self.callback_members[n] = I.Lit(i, et)
        return self._callbacks

    def is_proc_call(self, e: A.Call, scope: _Scope) -> bool:
        """Whether `e` calls a procedure (directly or through a callback), as opposed to a
        func, a built-in or a list operation."""
        if isinstance(e.func, A.Name) and e.func.name in self.procs:
            return not self.procs[e.func.name].decl.pure
        return self.callee_callback(e.func, scope) is not None

    def proc_call(self, e: A.Call, scope: _Scope, ctx: _Ctx, target: I.Expr | None,
                  span: Span) -> list[object]:
        """A call for which is_proc_call holds."""
        cb = self.callee_callback(e.func, scope)
        if cb is not None:
            return self.callback_call(cb, e, scope, ctx, target, span)
        return self.call(e, scope, ctx, target, span)

    def callee_callback(self, func: A.Expr, scope: _Scope) -> I.Expr | None:
        """The callback value a call goes through, or None for a direct call or a list
        operation."""
        if isinstance(func, A.Name) and (func.name in self.procs or
                                         (func.name not in scope.names and
                                         func.name not in self.globals.names)):
            return None
        if isinstance(func, A.FieldAccess) and func.name in _LIST_OPS:
            return None
        v = self.expr(func, scope)
        t = _type_of(v)
        if isinstance(t, I.EnumType) and t.name in self.callback_types():
            return v
        self.diag.error("E114", f"{t} cannot be called: only procedures and callbacks "
                        "(`proc(...)` values) can", func.span)
        raise _Poison

    def callback_call(self, cb: I.Expr, e: A.Call, scope: _Scope, ctx: _Ctx,
                      target: I.Expr | None, span: Span) -> list[object]:
        """A call through a callback: the member it holds is called (a null one is a null
        dereference)."""
        et = _type_of(cb)
        assert isinstance(et, I.EnumType)
        v = self.coerce(cb, et.strict(), e.func.span, "call through a callback")
        chain: list[object] = []
        for i in reversed(range(len(et.members))):
            body = self.call(A.Call(A.Name(et.members[i], e.func.span), e.args, e.span), scope,
                             ctx, target, span)
            test = I.Binary(I.BinaryOp.EQ, v, I.Lit(i, et.strict(), span), I.BOOL, span)
            chain = [I.If(test, tuple(body), tuple(chain), span)]  # type: ignore[arg-type]
        return chain

    def arity(self, e: A.Call, n: int) -> None:
        if len(e.args) != n:
            self.diag.error("E111", f"expected {n} argument(s), found {len(e.args)}", e.span)
            raise _Poison
        for a in e.args:
            if a.name is not None:
                self.diag.error("E111", "named arguments are for record constructors", a.span)
                raise _Poison

    def record_lit(self, name: str, e: A.Call, scope: _Scope, const: bool) -> I.Expr:
        rt = self.record(name, e.span, ())
        given: dict[str, I.Expr] = {}
        for i, a in enumerate(e.args):
            fname = a.name
            if fname is None:
                if i >= len(rt.fields):
                    self.diag.error("E111", f"record {name} has {len(rt.fields)} fields", a.span)
                    raise _Poison
                fname = rt.fields[i][0]
            ft = rt.field_type(fname)
            if ft is None:
                self.diag.error("E112", f"record {name} has no field '{fname}'", a.span)
                raise _Poison
            if fname in given:
                self.diag.error("E101", f"field '{fname}' given twice", a.span)
                raise _Poison
            given[fname] = self.coerce(self.expr(a.value, scope, const), ft, a.span,
                                       f"field {name}.{fname}")
        vals = tuple(given.get(n) or self.default_value(t, e.span) for n, t in rt.fields)
        return I.RecordLit(rt, vals, e.span)

    # ------------------------------------------------------------------ statements
    def block(self, stmts: tuple[A.Stmt, ...], scope: _Scope, ctx: _Ctx) -> list[object]:
        inner = _Scope(dict(scope.names))
        out: list[object] = []
        for s in stmts:
            with contextlib.suppress(_Poison):
                out.extend(self.stmt(s, inner, ctx))
        return out

    def stmt(self, s: A.Stmt, scope: _Scope, ctx: _Ctx) -> list[object]:
        match s:
            case A.LabelMark():
                if ctx.actor is None:
                    self.diag.error("E120", "labels belong in actors and labelled procedures",
                                    s.span)
                    raise _Poison
                return [Label(ctx.call_prefix + s.name, s.span)]
            case A.Skip():
                return []
            case A.Simplified():
                if s.name not in self.simplifications:
                    self.diag.error("E105", f"unknown simplification '{s.name}' (declare it with "
                                    "'simplification NAME \"what it hides\"')", s.span)
                    raise _Poison
                if not ctx.dead:
                    where = ctx.actor if ctx.actor is not None else _copy_name(
                        ctx.proc or "", ctx.recursion)
                    self.simplified_in.setdefault(where, set()).add(s.name)
                return []
            case A.Spawn():
                return self.spawn(s, scope)
            case A.Break() | A.Continue():
                brk = isinstance(s, A.Break)
                word = "break" if brk else "continue"
                if ctx.loop is None:
                    self.diag.error("E128", f"'{word}' outside a loop (of this procedure or "
                                    "actor)", s.span)
                    raise _Poison
                flag = ctx.loop.brk if brk else ctx.loop.cont
                if flag is None:  # a `while`: lowering jumps
                    return [Jump(brk, s.span)]
                return [I.Assign(flag, I.Lit(True, I.BOOL, s.span), s.span)]
            case A.LocalDecl() if isinstance(s.init, A.Call) and self.is_proc_call(s.init, scope):
                # `var x: T = p(...)`: the local, then the call assigning it
                decl = self.stmt(dataclasses.replace(s, init=None), scope, ctx)
                return decl + self.stmt(A.Assign(A.Name(s.name, s.span), s.init, s.span), scope,
                                        ctx)
            case A.LocalDecl():
                try:
                    t = self.type(s.type)
                except _Poison:
                    self.poisoned.add(s.name)
                    raise
                if s.name in scope.names:
                    self.diag.error("E101", f"'{s.name}' is already defined in this scope", s.span)
                    raise _Poison
                init: I.Expr | None
                if s.init is None:
                    init = self.default_value(t, s.span)
                elif isinstance(s.init, A.AnyInit):
                    init = None
                else:
                    init = self.typed_value(s.init, t, scope, False,
                                            f"initial value of {s.name}")
                if ctx.actor is not None:
                    # Actor and inlined-procedure locals persist across steps: state variables.
                    ref = self.site_state_var(ctx, s.name, t, s.span)
                    scope.names[s.name] = ref
                    if init is None:
                        return [I.Choose(ref, t, I.StaticDomain(self.all_values(t, s.span)),
                                         s.span)]
                    return [I.Assign(ref, init, s.span)]
                scope.names[s.name] = I.VarRef(s.name, I.Scope.TEMP, t, s.span)
                return [I.LocalDecl(s.name, t, init, s.span)]
            case A.Assign():
                if isinstance(s.value, A.Call) and isinstance(s.value.func, A.Name) and (
                    s.value.func.name in self.procs and not self.procs[s.value.func.name].decl.pure
                ):
                    target = self.lvalue(s.target, scope)
                    return self.call(s.value, scope, ctx, target, s.span)
                if isinstance(s.value, A.Call):
                    cb = self.callee_callback(s.value.func, scope)
                    if cb is not None:
                        target = self.lvalue(s.target, scope)
                        return self.callback_call(cb, s.value, scope, ctx, target, s.span)
                target = self.lvalue(s.target, scope)
                if isinstance(s.value, A.ArrayLit):
                    return [I.Assign(target, self.typed_value(
                        s.value, _type_of(target), scope, False, "assignment"), s.span)]
                value = self.expr(s.value, scope)
                return [I.Assign(target, self.coerce(value, _type_of(target), s.value.span,
                                                     "assignment"), s.span)]
            case A.ExprStmt():
                e = s.expr
                if isinstance(e, A.Call) and isinstance(e.func, A.Name) and (
                    e.func.name in self.procs
                ):
                    if self.procs[e.func.name].decl.pure:
                        self.diag.error("E114", f"'{e.func.name}' is a func: its value is "
                                        "unused (assign it, or make it a proc)", s.span)
                        raise _Poison
                    return self.call(e, scope, ctx, None, s.span)
                if isinstance(e, A.Call):
                    cb = self.callee_callback(e.func, scope)
                    if cb is not None:
                        return self.callback_call(cb, e, scope, ctx, None, s.span)
                if isinstance(e, A.Call) and isinstance(e.func, A.FieldAccess):
                    return [self.list_op(e, scope)]
                self.diag.error("E114", "this expression does nothing; a statement is needed",
                                s.span)
                raise _Poison
            case A.If():
                c = self.expr(s.cond, scope)
                self.expect_bool(c, s.cond.span)
                known = _lit_bool(c)
                then = self.block(s.then, scope, dataclasses.replace(
                    ctx, dead=ctx.dead or known is False))
                orelse = self.block(s.orelse, scope, dataclasses.replace(
                    ctx, dead=ctx.dead or known is True))
                return [I.If(c, tuple(then), tuple(orelse), s.span)]  # type: ignore[arg-type]
            case A.For():
                vt, values = self.static_domain(s.domain, scope)
                inner = _Scope(dict(scope.names))
                inner.names[s.var] = I.VarRef(s.var, I.Scope.TEMP, vt, s.span)
                self._block_counter += 1
                n = self._block_counter
                loop = _Loop(I.VarRef(f"$break{n}", I.Scope.TEMP, I.BOOL, s.span),
                             I.VarRef(f"$continue{n}", I.Scope.TEMP, I.BOOL, s.span))
                jumps = _jumps(s.body)
                if self.calls_labelled(s.body, inner, dataclasses.replace(ctx, loop=loop)):
                    return self.unrolled_for(s, scope, ctx, values, jumps)
                body = self.block(s.body, inner, dataclasses.replace(ctx, loop=loop))
                if any(contains(x) for x in body):
                    self.diag.error("E121", "labels (or a 'while') inside a 'for' loop would be "
                                    "copied per value; write the loop as a 'while'", s.span)
                    raise _Poison
                if not jumps:
                    return [I.For(s.var, vt, values, tuple(body), s.span)]  # type: ignore[arg-type]
                assert loop.brk is not None and loop.cont is not None
                flags = (loop.brk, loop.cont)
                false = I.Lit(False, I.BOOL, s.span)
                rest = tuple(_skip_after_jump(body, flags))
                it: list[I.Stmt] = [I.Assign(loop.cont, false, s.span),
                                    I.If(_not(loop.brk), rest, (), s.span)]  # type: ignore[arg-type]
                return [I.LocalDecl(loop.brk.name, I.BOOL, false, s.span),
                        I.LocalDecl(loop.cont.name, I.BOOL, false, s.span),
                        I.For(s.var, vt, values, tuple(it), s.span)]
            case A.While():
                c = self.expr(s.cond, scope)
                self.expect_bool(c, s.cond.span)
                body = self.block(s.body, scope, dataclasses.replace(ctx, loop=_Loop()))
                # dead code inlines no labelled call (`call`): its loops are checked live
                if not ctx.dead and not any(contains(x) for x in body):
                    self.diag.error("E122", "a 'while' loop needs a label inside (each iteration "
                                    "is at least one step); use 'for' for bounded loops", s.span)
                    raise _Poison
                return [Loop(c, tuple(body), s.span)]
            case A.Await():
                c = self.expr(s.cond, scope)
                self.expect_bool(c, s.cond.span)
                return [I.Await(c, s.span)]
            case A.Assume():
                c = self.expr(s.cond, scope)
                self.expect_bool(c, s.cond.span)
                return [I.Assume(c, s.span)]
            case A.Assert():
                c = self.expr(s.cond, scope)
                self.expect_bool(c, s.cond.span)
                prop = s.prop or "assertion"
                if s.prop is not None and s.prop not in self.prop_decls:
                    self.diag.error("E105", f"unknown property '{s.prop}' (declare it with "
                                    f"`property {s.prop} \"...\"`)", s.span)
                    raise _Poison
                msg = s.message or _source_text(self.program, s.cond.span) or "assertion"
                sid = self.site(prop, msg, False, s.span)
                return [I.Assert(c, sid, s.span)]
            case A.Either():
                branches = tuple(tuple(self.block(b, scope, ctx)) for b in s.branches)
                return [I.Either(branches, s.span)]  # type: ignore[arg-type]
            case A.Choose():
                return list(self.choose(s, scope, ctx))
            case A.Return():
                return self.ret(s, scope, ctx)

    def choose(self, s: A.Choose, scope: _Scope, ctx: _Ctx) -> list[I.Stmt]:
        domain: I.Domain
        if isinstance(s.domain, A.SetRange):
            lo = self.expr(s.domain.lo, scope)
            hi = self.expr(s.domain.hi, scope)
            if isinstance(lo, I.Lit) and isinstance(hi, I.Lit):
                vt, values = self.static_domain(s.domain, scope)
                domain = I.StaticDomain(values)
            else:
                lt, ht = _type_of(lo), _type_of(hi)
                if not (isinstance(lt, I.IntType) and isinstance(ht, I.IntType)):
                    self.diag.error("E110", "a range has integer bounds", s.domain.span)
                    raise _Poison
                vt = I.IntType(lt.lo, ht.hi) if lt.lo <= ht.hi else I.IntType(lt.lo, lt.lo)
                domain = I.RangeDomain(lo, hi)
        else:
            vt, values = self.static_domain(s.domain, scope)
            domain = I.StaticDomain(values)
        existing = scope.names.get(s.var) or self.globals.names.get(s.var)
        if existing is not None and isinstance(existing, I.VarRef):
            target: I.Expr = existing
            tt = _type_of(target)
            if isinstance(domain, I.StaticDomain):
                if isinstance(tt, I.IntType):
                    # a value the variable cannot hold is a spec error, as for any constant
                    # (the coercion of a literal does not check it)
                    bad = [v.value for v in domain.values if isinstance(v.value, int)
                           and not isinstance(v.value, bool) and not tt.lo <= v.value <= tt.hi]
                    if bad:
                        self.diag.error("E110", f"choose: {bad[0]} is out of range {tt.lo}.."
                                        f"{tt.hi} of '{s.var}'", s.domain.span)
                        raise _Poison
                domain = I.StaticDomain(tuple(
                    _as_lit(self.coerce(v, tt, s.span, "choose")) for v in domain.values))
            elif not isinstance(tt, I.IntType):
                self.diag.error("E110", f"cannot choose an integer into {tt}", s.span)
                raise _Poison
            elif isinstance(vt, I.IntType) and not (tt.lo <= vt.lo and vt.hi <= tt.hi):
                # a run-time range that can leave the variable's type: choose into a temporary
                # of the range's type, then assign it with the usual range check
                self._block_counter += 1
                tmp = I.VarRef(f"$choose{self._block_counter}", I.Scope.TEMP, vt, s.span)
                return [I.LocalDecl(tmp.name, vt, self.default_value(vt, s.span), s.span),
                        I.Choose(tmp, vt, domain, s.span),
                        I.Assign(target, self.coerce(tmp, tt, s.span, f"choose into {s.var}"),
                                 s.span)]
            return [I.Choose(target, tt, domain, s.span)]
        if ctx.actor is not None:
            ref = self.site_state_var(ctx, s.var, vt, s.span)
            scope.names[s.var] = ref
            return [I.Choose(ref, vt, domain, s.span)]
        ref = I.VarRef(s.var, I.Scope.TEMP, vt, s.span)
        scope.names[s.var] = ref
        return [I.Choose(ref, vt, domain, s.span)]

    def ret(self, s: A.Return, scope: _Scope, ctx: _Ctx) -> list[object]:
        if ctx.proc is None:
            self.diag.error("E123", "'return' outside a procedure", s.span)
            raise _Poison
        value: I.Expr | None = None
        if isinstance(s.value, A.Call) and ctx.result is not None and \
                self.is_proc_call(s.value, scope):
            # `return p(...)`: the call assigns the result, then the procedure returns it
            if ctx.exit_tag is not None and ctx.ret_var is not None:
                return [*self.proc_call(s.value, scope, ctx, ctx.ret_var, s.span),
                        Exit(ctx.exit_tag, s.span)]
            self._block_counter += 1
            tmp = I.VarRef(f"$ret{self._block_counter}", I.Scope.TEMP, ctx.result, s.span)
            return [I.LocalDecl(tmp.name, ctx.result, self.default_value(ctx.result, s.span),
                                s.span),
                    *self.proc_call(s.value, scope, ctx, tmp, s.span),
                    I.Return(tmp, s.span)]
        if s.value is not None:
            if ctx.result is None:
                self.diag.error("E110", f"procedure '{ctx.proc}' returns no value", s.span)
                raise _Poison
            value = self.coerce(self.expr(s.value, scope), ctx.result, s.value.span,
                                f"result of {ctx.proc}")
        elif ctx.result is not None:
            self.diag.error("E110", f"procedure '{ctx.proc}' must return a {ctx.result}", s.span)
            raise _Poison
        if ctx.exit_tag is not None:
            out: list[object] = []
            if value is not None and ctx.ret_var is not None:
                out.append(I.Assign(ctx.ret_var, value, s.span))
            out.append(Exit(ctx.exit_tag, s.span))
            return out
        return [I.Return(value, s.span)]

    def lvalue(self, e: A.Expr, scope: _Scope) -> I.Expr:
        v = self.expr(e, scope)
        root = v
        while isinstance(root, I.FieldRef | I.IndexRef):
            root = root.base
        if not isinstance(root, I.VarRef):
            self.diag.error("E106", "cannot assign to this expression", e.span)
            raise _Poison
        return v

    def list_op(self, e: A.Call, scope: _Scope) -> I.Stmt:
        assert isinstance(e.func, A.FieldAccess)
        name = e.func.name
        target = self.lvalue(e.func.base, scope)
        lt = _type_of(target)
        if not isinstance(lt, I.ListType) or lt.elem is None:
            self.diag.error("E114", f"'.{name}()' is a list operation; {lt} is not a list",
                            e.span)
            raise _Poison
        try:
            op = I.ListMut(name)
        except ValueError:
            self.diag.error("E100", f"lists have no operation '{name}' (append, remove_at, pop, "
                            "clear, truncate, remove_range)", e.func.span)
            raise _Poison from None
        want = {I.ListMut.APPEND: 1, I.ListMut.REMOVE_AT: 1, I.ListMut.TRUNCATE: 1,
                I.ListMut.REMOVE_RANGE: 2}.get(op, 0)
        self.arity(e, want)
        arg: I.Expr | None = None
        site: int | None = None
        if op in (I.ListMut.TRUNCATE, I.ListMut.REMOVE_RANGE):
            ints = [self.expr(a.value, scope) for a in e.args]
            for a, v in zip(e.args, ints, strict=True):
                if not isinstance(_type_of(v), I.IntType):
                    self.diag.error("E110", f"{name} needs integer positions", a.span)
                    raise _Poison
            site = self.site(I.Builtin.OUT_OF_BOUNDS.value, f"{name} outside the list", True,
                             e.span)
            return I.ListOp(op, target, ints[0], site, e.span, ints[1] if len(ints) > 1 else None)
        if op is I.ListMut.APPEND:
            arg = self.coerce(self.expr(e.args[0].value, scope), lt.elem, e.args[0].span,
                              "list item")
            site = self.site(I.Builtin.CAPACITY.value, f"list full (capacity {lt.cap})", True,
                             e.span)
        elif op is I.ListMut.REMOVE_AT:
            arg = self.expr(e.args[0].value, scope)
            if not isinstance(_type_of(arg), I.IntType):
                self.diag.error("E110", "remove_at needs an integer index", e.args[0].span)
                raise _Poison
            site = self.site(I.Builtin.OUT_OF_BOUNDS.value, "list index out of bounds", True,
                             e.span)
        elif op is I.ListMut.POP:
            site = self.site(I.Builtin.OUT_OF_BOUNDS.value, "pop from an empty list", True,
                             e.span)
        return I.ListOp(op, target, arg, site, e.span)

    def call(self, e: A.Call, scope: _Scope, ctx: _Ctx, target: I.Expr | None,
             span: Span) -> list[object]:
        assert isinstance(e.func, A.Name)
        if e.func.name in self.poisoned:
            raise _Poison
        info = self.procs[e.func.name]
        d = info.decl
        if len(e.args) != len(d.params):
            self.diag.error("E111", f"'{d.name}' takes {len(d.params)} argument(s), "
                            f"{len(e.args)} given", e.span)
            raise _Poison
        ptypes = [self.type(p.type) for p in d.params]
        args: list[I.Expr] = []
        for a, p, pt in zip(e.args, d.params, ptypes, strict=True):
            if a.name is not None and a.name != p.name:
                self.diag.error("E111", f"'{d.name}' has no parameter '{a.name}' here", a.span)
                raise _Poison
            args.append(self.coerce(self.expr(a.value, scope), pt, a.span,
                                    f"argument {p.name} of {d.name}"))
        result = self.type(d.result) if d.result is not None else None
        if target is not None and result is None:
            self.diag.error("E110", f"'{d.name}' returns no value", e.span)
            raise _Poison
        if not info.labelled:
            callee = d.name
            if d.name in self.recursive:
                same = ctx.proc is not None and self.recursive.get(ctx.proc) == \
                    self.recursive[d.name]
                depth = ctx.recursion + 1 if same else 0
                if depth > self.recursion_depth():
                    return self.recursion_cut(ctx.proc or "", d.name, target, result, span)
                callee = _copy_name(d.name, depth)
            if target is None:
                return [I.Call(callee, tuple(args), None, span)]
            assert result is not None
            self._block_counter += 1
            tmp = I.VarRef(f"$r{self._block_counter}", I.Scope.TEMP, result, span)
            return [
                I.LocalDecl(tmp.name, result, self.default_value(result, span), span),
                I.Call(callee, tuple(args), tmp, span),
                I.Assign(target, self.coerce(tmp, _type_of(target), span, f"result of {d.name}"),
                         span),
            ]
        self._labelled_calls += 1
        if ctx.actor is None:
            self.diag.error("E124", f"'{d.name}' has labels; it can only be called from an "
                            "actor or another labelled procedure", span)
            raise _Poison
        if ctx.dead:
            return []  # never runs: its arguments are checked, nothing is inlined
        if d.name in self.recursive_labelled and \
                ctx.inlined.count(d.name) > self.recursion_depth():
            return self.recursion_cut(ctx.inlined[-1], d.name, target, result, span)
        if ctx.inline_depth >= MAX_INLINE_DEPTH:
            self.diag.error("E130", f"labelled procedures nested deeper than {MAX_INLINE_DEPTH}",
                            span)
            raise _Poison
        key = (ctx.actor, d.name)
        n = self._inline_counter.get(key, 0) + 1
        self._inline_counter[key] = n
        prefix = f"{d.name}." if n == 1 else f"{d.name}#{n}."
        nested = ctx.inlined.count(d.name)
        sprefix = f"{d.name}." if nested == 0 else f"{d.name}@{nested + 1}."
        self._block_counter += 1
        tag = f"$ret{self._block_counter}"
        inner = _Scope()
        out: list[object] = [I.Trace(d.name, tuple(args), ctx.inline_depth, span)]
        sub = _Ctx(ctx.actor, d.name, result, None, tag, ctx.inline_depth + 1, prefix,
                   sprefix, inlined=(*ctx.inlined, d.name))
        written = self._written.get(d.name)
        if written is None:
            written = self._written[d.name] = _written_names(d.body)
        for p, pt, av in zip(d.params, ptypes, args, strict=True):
            if isinstance(av, I.Lit) and p.name not in written:
                # a constant argument the body never writes: the parameter is that constant
                # (no state, and a test on it selects the code, as a remove() dispatcher's)
                inner.names[p.name] = av
                continue
            ref = self.site_state_var(sub, p.name, pt, p.span)
            inner.names[p.name] = ref
            out.append(I.Assign(ref, av, span))
        ret_var: I.Expr | None = None
        if result is not None:
            ret_var = self.site_state_var(sub, "$result", result, span)
            sub = dataclasses.replace(sub, ret_var=ret_var)
        body = self.block(d.body, inner, sub)
        out.append(Block(tag, tuple(body), span))
        if target is not None and ret_var is not None:
            out.append(I.Assign(target, self.coerce(ret_var, _type_of(target), span,
                                                    f"result of {d.name}"), span))
        return out

    def recursion_cut(self, caller: str, callee: str, target: I.Expr | None,
                      result: I.Type | None, span: Span) -> list[object]:
        """A recursive call deeper than RECURSION_DEPTH: a model limit, reported (and sticky)
        where it is reached; the call is left out and its result is the type's default."""
        limit = self.recursion_depth()
        site = self.site(I.Builtin.CAPACITY.value, f"recursion deeper than {limit} calls "
                         f"({caller} → {callee}): raise RECURSION_DEPTH", False, span)
        cut: list[object] = [I.Assert(I.Lit(False, I.BOOL, span), site, span)]
        if target is not None and result is not None:
            cut.append(I.Assign(target, self.coerce(self.default_value(result, span),
                                                    _type_of(target), span,
                                                    f"result of {callee}"), span))
        return cut

    def site_state_var(self, ctx: _Ctx, name: str, t: I.Type, span: Span) -> I.VarRef:
        """The state variable of a local, parameter or result `name` of the actor or inlined
        call `ctx` is elaborating: declared once per call site (a second declaration is
        E101), shared by the call sites of one procedure at one nesting depth (`state_prefix`)."""
        assert ctx.actor is not None
        site = (ctx.actor, ctx.call_prefix, name)
        if site in self._site_vars:
            self.diag.error("E101", f"'{name}' is declared twice", span)
        self._site_vars.add(site)
        qual = f"{ctx.actor}.{ctx.state_prefix}{name}"
        have = self.state_vars.get(qual)
        if have is not None and have.type == t:
            return I.VarRef(qual, I.Scope.STATE, t, span)
        return self.new_state_var(qual, t, self.default_value(t, span), ctx.actor, span)

    def new_state_var(self, name: str, t: I.Type, init: I.Expr | None, owner: str | None,
                      span: Span) -> I.VarRef:
        if name in self.state_vars:
            self.diag.error("E101", f"'{name}' is declared twice", span)
        self.state_vars[name] = I.StateVar(name, t, init, owner, span)
        before = self._state_leaves
        self._state_leaves += _leaves(t)
        if before <= MAX_STATE_LEAVES < self._state_leaves:
            self.diag.error("E150", f"the state has more than {MAX_STATE_LEAVES} scalar "
                            f"components ('{name}' goes past the limit)", span)
        return I.VarRef(name, I.Scope.STATE, t, span)

    # ------------------------------------------------------------------ whole model
    def labelled_procs(self) -> None:
        """A procedure is labelled if it has labels or calls a labelled one. Procedures that call
        each other around a circle (directly or through callbacks) are *recursive*, unrolled to
        RECURSION_DEPTH nested calls: atomic ones as copies (`proc@2`), labelled ones by their
        inlining at each call site, which stops at that depth."""
        calls: dict[str, set[str]] = {}
        direct: dict[str, bool] = {}
        for name, info in self.procs.items():
            if info.decl.pure:
                continue
            callees: set[str] = set()
            has_label = False
            for s in _walk_stmts(info.decl.body):
                if isinstance(s, A.LabelMark):
                    has_label = True
                for c in _calls_in(s):
                    if c in self.procs and not self.procs[c].decl.pure:
                        callees.add(c)
                if _calls_through_value(s, set(self.procs) | set(self.record_decls)):
                    callees |= self.callback_targets(s, info.decl)
            calls[name] = callees
            direct[name] = has_label
        sccs = _sccs(calls)
        scc_of = {n: k for k, comp in enumerate(sccs) for n in comp}
        # Tarjan lists components callees first: labelled-ness flows back along the calls
        for k, comp in enumerate(sccs):
            lab = any(direct[n] for n in comp) or any(
                self.procs[c].labelled for n in comp for c in calls[n] if scc_of[c] != k)
            for n in comp:
                self.procs[n].labelled = lab
            cyclic = len(comp) > 1 or any(n in calls[n] for n in comp)
            if not cyclic:
                continue
            for n in comp:
                # atomic ones get a copy per depth; labelled ones are inlined per call site
                # anyway, up to the same depth
                (self.recursive_labelled if lab else self.recursive)[n] = k

    def callback_targets(self, s: A.Stmt, decl: A.ProcDecl) -> set[str]:
        """The procedures a call through a value in statement `s` of `decl` may reach: those of
        its callback type where the callee's declared type can be read off the declarations (a
        parameter, a local or a global, through fields and elements), else every procedure used
        as a value. Only for finding circles: a wider answer costs copies, never soundness."""
        every = set(self.callback_members)
        c = _stmt_call(s)
        if c is None:
            return every
        t_ast = self._declared_type(c.func, decl)
        if t_ast is None:
            return every
        try:
            t = self.type(t_ast)
        except _Poison:
            return every
        if not isinstance(t, I.EnumType) or t.name not in self.callback_types():
            return every
        return {n for n, m in self.callback_members.items()
                if isinstance(m.type, I.EnumType) and m.type.name == t.name}

    def _declared_type(self, e: A.Expr, decl: A.ProcDecl) -> A.TypeExpr | None:
        """The declared type of a name, field or element expression in `decl`, where the
        declarations alone say it (one declaration of a local name); None otherwise."""
        match e:
            case A.Name(name=n):
                found = [p.type for p in decl.params if p.name == n]
                found += [x.type for x in _walk_stmts(decl.body)
                          if isinstance(x, A.LocalDecl) and x.name == n]
                if not found and n in self.var_decls:
                    found = [self.var_decls[n].type]
                return found[0] if len(found) == 1 else None
            case A.FieldAccess(base=base, name=f):
                bt = self._declared_type(base, decl)
                if isinstance(bt, A.TNamed) and bt.name in self.record_decls:
                    for fd in self.record_decls[bt.name].fields:
                        if fd.name == f:
                            return fd.type
                return None
            case A.Index(base=base):
                bt = self._declared_type(base, decl)
                return bt.elem if isinstance(bt, A.TArray | A.TList) else None
            case _:
                return None

    def build(self) -> I.Model:
        self.collect()
        self.apply_variant()
        for name in list(self.const_decls):
            with contextlib.suppress(_Poison):
                self.const_value(name, self.const_decls[name].span)
        for name in list(self.record_decls):
            with contextlib.suppress(_Poison):
                self.record(name, self.record_decls[name].span, ())
        with contextlib.suppress(_Poison):
            self.callback_types()
        self.check_default_signatures()
        self.recursion_depth()  # reports a bad RECURSION_DEPTH even where nothing recurses
        self.labelled_procs()
        # global state variables
        for name, vd in self.var_decls.items():
            try:
                t = self.type(vd.type)
                init: I.Expr | None
                if vd.init is None:
                    init = self.default_value(t, vd.span)
                elif isinstance(vd.init, A.AnyInit):
                    init = None
                else:
                    init = self.typed_value(vd.init, t, _Scope(), True,
                                            f"initial value of {name}")
                self.globals.names[name] = self.new_state_var(name, t, init, None, vd.span)
            except _Poison:
                self.poisoned.add(name)
        procs: list[I.Proc] = []
        for name, info in self.procs.items():
            if info.decl.pure:
                with contextlib.suppress(_Poison):
                    self.check_func(info.decl)
                continue
            if info.labelled:
                continue
            try:
                copies = self.recursion_depth() if name in self.recursive else 0
                for depth in range(copies + 1):
                    procs.append(self.atomic_proc(info.decl, depth))
            except _Poison:
                self.poisoned.add(name)
        actors: list[I.Actor] = []
        for ad in self.actor_decls.values():
            with contextlib.suppress(_Poison):
                actors.extend(self.actor(ad))
        if not actors and not self.diag.items:
            self.diag.error("E125", "the spec has no actors", self.program.main.decls[0].span
                            if self.program.main.decls else Span(self.program.main.path, 1, 1,
                                                                 1, 2))
        if len(actors) > MAX_ACTOR_INSTANCES:
            self.diag.error("E150", f"{len(actors)} actor instances (limit "
                            f"{MAX_ACTOR_INSTANCES})", actors[-1].span)
        reached_sites, reached_procs = _reachable(procs, actors)
        props = self.properties(reached_sites)
        used = {n for where in (*reached_procs, *(a.name for a in actors))
                for n in self.simplified_in.get(where, set())}
        assumptions = tuple(
            I.Assumption(n, d.description, d.span)
            for n, d in sorted(self.simplifications.items()) if n in used)
        expects = self.expects(props)
        self.diag.raise_if_any()
        header = self.program.main.header
        vdecl = self.variants.get(self.variant)
        return I.Model(
            spec=header.name if header else _stem(self.program.main.path),
            description=header.description if header else "",
            file=self.program.main.path,
            variant=self.variant,
            variant_description=vdecl.description if vdecl else "the code as it is",
            vars=tuple(self.state_vars.values()),
            procs=tuple(procs),
            actors=tuple(actors),
            sites=tuple(self.sites),
            properties=props,
            expects=expects,
            files=tuple(f.path for f in self.program.files),
            assumptions=assumptions,
        )

    def recursion_depth(self) -> int:
        """How deep recursive atomic procedures are unrolled: `const RECURSION_DEPTH = n` in
        the spec, else 4 nested calls. Outside 1..MAX_INLINE_DEPTH it is E150 (and the default,
        so that elaboration goes on to report other errors)."""
        if self._recursion_depth is None:
            self._recursion_depth = DEFAULT_RECURSION_DEPTH
            decl = self.const_decls.get("RECURSION_DEPTH")
            if decl is not None:
                with contextlib.suppress(_Poison):
                    v = self.const_value("RECURSION_DEPTH", decl.span)
                    if isinstance(v.value, int) and not isinstance(v.value, bool) \
                            and 1 <= v.value <= MAX_INLINE_DEPTH:
                        self._recursion_depth = v.value
                    else:
                        self.diag.error("E150", f"RECURSION_DEPTH must be an integer from 1 to "
                                        f"{MAX_INLINE_DEPTH} (nested calls of a recursive "
                                        f"procedure), found {v.value}", decl.span)
        return self._recursion_depth

    def atomic_proc(self, d: A.ProcDecl, depth: int = 0) -> I.Proc:
        scope = _Scope()
        params: list[tuple[str, I.Type]] = []
        for p in d.params:
            t = self.type(p.type)
            params.append((p.name, t))
            scope.names[p.name] = I.VarRef(p.name, I.Scope.TEMP, t, p.span)
        result = self.type(d.result) if d.result is not None else None
        ctx = _Ctx(None, d.name, result, None, None, recursion=depth)
        body = self.block(d.body, scope, ctx)
        return I.Proc(_copy_name(d.name, depth), tuple(params), result, tuple(body),  # type: ignore[arg-type]
                      d.span)

    # ------------------------------------------------------------------ pools and spawn
    def pool(self, d: A.ActorDecl) -> list[_PoolInstance]:
        """The instances of a pool actor, each with its `busy` flag and its parameters as
        per-instance state (made once: a `spawn` may be elaborated before the pool itself)."""
        if d.name in self._pools:
            return self._pools[d.name]
        assert d.params is not None
        n = self.const_int(d.pool) if d.pool is not None else 1
        if not 1 <= n <= MAX_ACTOR_INSTANCES:
            self.diag.error("E150", f"pool size must be 1..{MAX_ACTOR_INSTANCES}, not {n}",
                            d.pool.span if d.pool is not None else d.span)
            raise _Poison
        out: list[_PoolInstance] = []
        for k in range(1, n + 1):
            inst = f"{d.name}[{k}]"
            busy = self.new_state_var(f"{inst}.$busy", I.BOOL, I.Lit(False, I.BOOL), inst, d.span)
            params = tuple(
                (p.name, self.new_state_var(f"{inst}.{p.name}", t, self.default_value(t, p.span),
                                            inst, p.span))
                for p in d.params for t in (self.type(p.type),))
            out.append(_PoolInstance(inst, k, busy, params))
        self._pools[d.name] = out
        return out

    def spawn(self, s: A.Spawn, scope: _Scope) -> list[object]:
        """`spawn name(args)`: the first dormant instance of the pool takes the arguments and
        starts; with none dormant, the pool is too small (`capacity`: a model limit)."""
        d = self.actor_decls.get(s.actor)
        if d is None or d.params is None:
            what = "no actor" if d is None else "not a pool actor"
            self.diag.error("E114", f"'{s.actor}' is {what}: declare `actor {s.actor}(p: T, ...) "
                            "pool N { ... }` to spawn it", s.span)
            raise _Poison
        if len(s.args) != len(d.params):
            self.diag.error("E111", f"'{s.actor}' takes {len(d.params)} argument(s), "
                            f"{len(s.args)} given", s.span)
            raise _Poison
        insts = self.pool(d)
        full = self.site(I.Builtin.CAPACITY.value, f"pool of {s.actor} full ({len(insts)}): "
                         f"raise its size ('pool {len(insts) + 1}')", False, s.span)
        chain: list[object] = [I.Assert(I.Lit(False, I.BOOL, s.span), full, s.span)]
        for pi in reversed(insts):
            body: list[object] = []
            for a, (pname, ref) in zip(s.args, pi.params, strict=True):
                body.append(I.Assign(ref, self.coerce(self.expr(a.value, scope), _type_of(ref),
                                                      a.span, f"argument {pname} of {s.actor}"),
                                     s.span))
            body.append(I.Assign(pi.busy, I.Lit(True, I.BOOL, s.span), s.span))
            chain = [I.If(_not(pi.busy), tuple(body), tuple(chain), s.span)]  # type: ignore[arg-type]
        return chain

    def actor(self, d: A.ActorDecl) -> list[I.Actor]:
        if d.params is not None:
            return self.pool_actor(d)
        instances: list[tuple[str, int | None, _Scope]] = []
        index_type: I.Type | None = None
        if d.index_var is not None and d.index_domain is not None:
            index_type, values = self.static_domain(d.index_domain, _Scope())
            if len(values) > MAX_ACTOR_INSTANCES:
                self.diag.error("E150", f"actor '{d.name}' has {len(values)} instances (limit "
                                f"{MAX_ACTOR_INSTANCES})", d.span)
                raise _Poison
            for v in values:
                sc = _Scope({d.index_var: v})
                label = _member_name(v)
                instances.append((f"{d.name}[{label}]", v.value if isinstance(v.value, int)
                                  and not isinstance(v.value, bool) else None, sc))
        else:
            instances.append((d.name, None, _Scope()))
        out: list[I.Actor] = []
        for inst, idx, sc in instances:
            ctx = _Ctx(inst, None, None, None, None)
            lead = 0
            while lead < len(d.body) and isinstance(d.body[lead], A.LocalDecl):
                self.actor_var(inst, d.body[lead], sc)  # type: ignore[arg-type]
                lead += 1
            body = self.block(d.body[lead:], sc, ctx)
            steps = lower_actor(inst, body, d.span, self.diag)
            if steps is not None:
                out.append(I.Actor(inst, d.name, idx, steps, d.span, index_type))
        return out

    def pool_actor(self, d: A.ActorDecl) -> list[I.Actor]:
        insts = self.pool(d)
        out: list[I.Actor] = []
        for pi in insts:
            sc = _Scope(dict(pi.params))
            ctx = _Ctx(pi.inst, None, None, None, None)
            lead = 0
            while lead < len(d.body) and isinstance(d.body[lead], A.LocalDecl):
                self.actor_var(pi.inst, d.body[lead], sc)  # type: ignore[arg-type]
                lead += 1
            body = self.block(d.body[lead:], sc, ctx)
            steps = lower_actor(pi.inst, body, d.span, self.diag)
            if steps is not None:
                out.append(I.Actor(pi.inst, d.name, pi.index, _pooled(steps, pi.busy), d.span,
                                   I.IntType(1, len(insts)), dormant=_not(pi.busy)))
        return out

    def actor_var(self, inst: str, v: A.LocalDecl, scope: _Scope) -> None:
        """A `var` before an actor's first label: per-instance state with an initial value."""
        t = self.type(v.type)
        init: I.Expr | None
        if v.init is None:
            init = self.default_value(t, v.span)
        elif isinstance(v.init, A.AnyInit):
            init = None
        else:
            init = self.typed_value(v.init, t, scope, True, f"initial value of {v.name}")
        scope.names[v.name] = self.new_state_var(f"{inst}.{v.name}", t, init, inst, v.span)

    def properties(self, reachable: set[int]) -> tuple[I.Property, ...]:
        props: list[I.Property] = []
        used = {s.prop for s in self.sites if s.id in reachable}
        named = {p for ex in self.expect_decls for p in ex.props}
        for name, pd in self.prop_decls.items():
            # a library declares every class; a spec reports those it can fail or names
            if name in used or name in named:
                props.append(I.Property(name, I.PropKind.ASSERT, pd.description, None, pd.span))
        if "assertion" in used:
            props.append(I.Property("assertion", I.PropKind.ASSERT, "assertions without a "
                                    "property name", None, Span("<builtin>", 0, 0, 0, 0)))
        descr = {
            I.Builtin.NULL_DEREF: "no NULL handle is dereferenced",
            I.Builtin.OUT_OF_BOUNDS: "no index outside an array or list",
            I.Builtin.OVERFLOW: "no value outside its declared range",
            I.Builtin.CAPACITY: "no list grows past its declared capacity",
        }
        for b in I.Builtin:
            if b.value in used:
                props.append(I.Property(b.value, I.PropKind.ASSERT, descr[b], None,
                                        Span("<builtin>", 0, 0, 0, 0)))
        kinds = {A.PropKind.INVARIANT: I.PropKind.INVARIANT, A.PropKind.FINAL: I.PropKind.FINAL,
                 A.PropKind.REACHABLE: I.PropKind.REACHABLE}
        for name, sp in self.state_props.items():
            try:
                e = self.expr(sp.expr, self.globals)
                self.expect_bool(e, sp.expr.span)
                text = sp.description or _source_text(self.program, sp.expr.span) or name
                props.append(I.Property(name, kinds[sp.kind], text, e, sp.span))
            except _Poison:
                pass
        if not self.allow_deadlock:
            props.append(I.Property("deadlock", I.PropKind.DEADLOCK,
                                    "some actor is not done and none can move", None,
                                    Span("<builtin>", 0, 0, 0, 0)))
        return tuple(props)

    def expects(self, props: tuple[I.Property, ...]) -> tuple[I.Expect, ...]:
        names = {p.name: p for p in props}
        out: list[I.Expect] = []
        seen: set[tuple[str, str | None]] = set()
        for ex in self.expect_decls:
            if ex.variant != BASE_VARIANT and ex.variant not in self.variants:
                self.diag.error("E144", f"expect names unknown variant '{ex.variant}'", ex.span)
                continue
            try:
                verdict = I.Verdict(ex.verdict)
            except ValueError:
                self.diag.error("E145", f"unknown verdict '{ex.verdict}' (VIOLATED, SAFE, PROVEN,"
                                " REACHABLE, UNREACHABLE)", ex.span)
                continue
            known = ({b.value for b in I.Builtin} | {"deadlock", "assertion"}
                     | set(self.prop_decls) | set(names))
            for prop in ex.props or (None,):
                if prop is not None and prop not in known:
                    self.diag.error("E146", f"expect names unknown property '{prop}'", ex.span)
                    continue
                if (ex.variant, prop) in seen:
                    what = "variant" if prop is None else f"variant and property ('{prop}')"
                    self.diag.error("E147", f"a second expect for the same {what}", ex.span)
                    continue
                seen.add((ex.variant, prop))
                if ex.variant == self.variant:
                    out.append(I.Expect(prop, verdict, ex.length, ex.span))
        return tuple(out)


# ---------------------------------------------------------------------- helpers


@dataclass
class _FuncRun:
    """The symbolic state of a func's body: each name's current value, whether it returned."""

    names: dict[str, I.Expr]
    types: dict[str, I.Type]  # what each assignable name (parameter, local) was declared as
    done: I.Expr
    returns: list[tuple[I.Expr, I.Expr]]  # (the path on which it returned, the value)
    result: I.Type


_TRUE = I.Lit(True, I.BOOL)
_FALSE = I.Lit(False, I.BOOL)


def _lit_bool(e: I.Expr) -> bool | None:
    return bool(e.value) if isinstance(e, I.Lit) and isinstance(e.type, I.BoolType) else None


def _and(a: I.Expr, b: I.Expr) -> I.Expr:
    if _lit_bool(a) is False or _lit_bool(b) is False:
        return _FALSE
    if _lit_bool(a) is True:
        return b
    if _lit_bool(b) is True:
        return a
    return I.Binary(I.BinaryOp.AND, a, b, I.BOOL, a.span)


def _or(a: I.Expr, b: I.Expr) -> I.Expr:
    if _lit_bool(a) is True or _lit_bool(b) is True:
        return _TRUE
    if _lit_bool(a) is False:
        return b
    if _lit_bool(b) is False:
        return a
    return I.Binary(I.BinaryOp.OR, a, b, I.BOOL, a.span)


def _not(a: I.Expr) -> I.Expr:
    if isinstance(a, I.Unary) and a.op is I.UnaryOp.NOT:
        return a.operand
    v = _lit_bool(a)
    return I.Unary(I.UnaryOp.NOT, a, I.BOOL, a.span) if v is None else I.Lit(not v, I.BOOL)


@node
class _PoolInstance:
    inst: str  # `name[k]`
    index: int
    busy: I.VarRef  # spawned and not yet finished
    params: tuple[tuple[str, I.VarRef], ...]  # each parameter's per-instance state variable


def _pooled(steps: tuple[I.Step, ...], busy: I.VarRef) -> tuple[I.Step, ...]:
    """A pool instance's steps: the first waits until a spawn makes it busy; where the body
    ends, the instance is free again and goes back to its first step, dormant."""
    first = steps[0].label

    def redo(body: tuple[I.Stmt, ...]) -> tuple[I.Stmt, ...]:
        out: list[I.Stmt] = []
        for s in body:
            match s:
                case I.Goto(label=None):
                    out += [I.Assign(busy, I.Lit(False, I.BOOL, s.span), s.span),
                            I.Goto(first, s.span)]
                case I.If():
                    out.append(I.If(s.cond, redo(s.then), redo(s.orelse), s.span))
                case I.Either():
                    out.append(I.Either(tuple(redo(b) for b in s.branches), s.span))
                case I.For():
                    out.append(I.For(s.var, s.var_type, s.values, redo(s.body), s.span))
                case _:
                    out.append(s)
        return tuple(out)

    head = I.Await(busy, steps[0].span)
    return tuple(I.Step(st.label, ((head,) if k == 0 else ()) + redo(st.body), st.span)
                 for k, st in enumerate(steps))


def _copy_name(proc: str, depth: int) -> str:
    """The copy of a recursive procedure that runs at this depth of nested calls."""
    return proc if depth == 0 else f"{proc}@{depth}"


def _sccs(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan), each sorted, callees' components first."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp: list[str] = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


_LIST_OPS = frozenset(m.value for m in I.ListMut)


def _signature(params: tuple[I.Type, ...], result: I.Type | None) -> str:
    """The name of a callback type: `proc(Dev, Res)`, `proc(Dev) -> bool`."""
    sig = "proc(" + ", ".join(str(p) for p in params) + ")"
    return sig if result is None else f"{sig} -> {result}"


_BUILTIN_FUNCS = frozenset({"ite", "len", "contains", "index_of", "last_index_of", "min", "max"})


def _stmt_call(s: A.Stmt) -> A.Call | None:
    """The call a statement makes as a whole (`f(..)`, `x = f(..)`, `var x: T = f(..)`,
    `return f(..)`), which may be a procedure call, or None."""
    match s:
        case A.ExprStmt(expr=A.Call() as c) | A.Assign(value=A.Call() as c):
            return c
        case A.LocalDecl(init=A.Call() as c) | A.Return(value=A.Call() as c):
            return c
        case _:
            return None


def _calls_through_value(s: A.Stmt, named: set[str]) -> bool:
    """Whether a statement calls through a value (a callback) rather than a named procedure,
    a record constructor, a built-in or a list operation."""
    c = _stmt_call(s)
    if c is None:
        return False
    if isinstance(c.func, A.Name):
        return c.func.name not in named and c.func.name not in _BUILTIN_FUNCS
    return not (isinstance(c.func, A.FieldAccess) and c.func.name in _LIST_OPS)


def _always_returns(body: tuple[A.Stmt, ...]) -> bool:
    """Every path through `body` ends in a `return` (an `if` needs both branches to)."""
    for s in body:
        if isinstance(s, A.Return):
            return True
        if isinstance(s, A.If) and _always_returns(s.then) and _always_returns(s.orelse):
            return True
    return False


def _has_check(e: I.Expr) -> bool:
    """Whether evaluating e makes a run-time check (a bounds, null or range check)."""
    if isinstance(e, I.IndexRef | I.Coerce) and e.site is not None:
        return True
    return any(_has_check(c) for c in I.expr_children(e))


def _type_of(e: I.Expr) -> I.Type:
    match e:
        case I.RecordLit() | I.ListLit() | I.ArrayLit() | I.ArrayFill():
            return e.type
        case _:
            return e.type


def _leaves(t: I.Type) -> int:
    match t:
        case I.RecordType():
            return sum(_leaves(ft) for _, ft in t.fields)
        case I.ArrayType():
            n = len(t.index.members) if isinstance(t.index, I.EnumType) else (
                t.index.hi - t.index.lo + 1 if isinstance(t.index, I.IntType) else 1)
            return n * _leaves(t.elem)
        case I.ListType():
            return 1 + t.cap * (_leaves(t.elem) if t.elem is not None else 0)
        case _:
            return 1


def _retype(e: I.Expr, t: I.Type) -> I.Expr:
    """Widen an expression's static type (an int range, a handle to nullable) without a check."""
    if _type_of(e) == t:
        return e
    match e:
        case I.Lit():
            return I.Lit(e.value, t, e.span)
        case I.Ite():
            return I.Ite(e.cond, _retype(e.then, t), _retype(e.orelse, t), t, e.span)
        case _:
            return I.Coerce(e, t, 0, e.span)  # site 0: a widening, never fails


def _join(a: I.Type, b: I.Type) -> I.Type | None:
    if a == b:
        return a
    match a, b:
        case I.IntType(), I.IntType():
            return I.IntType(min(a.lo, b.lo), max(a.hi, b.hi))
        case I.EnumType(), I.EnumType() if a.name == b.name:
            return a.as_nullable()
        case I.EnumType(), I.NullType():
            return a.as_nullable()
        case I.NullType(), I.EnumType():
            return b.as_nullable()
        case I.ListType(), I.ListType() if a.elem is None or b.elem is None:
            return b if a.elem is None else a
    return None


def _arith_type(op: I.BinaryOp, a: I.IntType, b: I.IntType) -> I.IntType | None:
    match op:
        case I.BinaryOp.ADD:
            return I.IntType(a.lo + b.lo, a.hi + b.hi)
        case I.BinaryOp.SUB:
            return I.IntType(a.lo - b.hi, a.hi - b.lo)
        case I.BinaryOp.MUL:
            ps = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi]
            return I.IntType(min(ps), max(ps))
        case I.BinaryOp.DIV:
            if b.lo != b.hi or b.lo <= 0:
                return None
            return I.IntType(_tdiv(a.lo, b.lo), _tdiv(a.hi, b.lo))
        case I.BinaryOp.MOD:
            if b.lo != b.hi or b.lo <= 0:
                return None
            if a.lo >= 0:
                return I.IntType(0, min(b.lo - 1, a.hi))
            return I.IntType(-(b.lo - 1), b.lo - 1)
        case (I.BinaryOp.EQ | I.BinaryOp.NE | I.BinaryOp.LT | I.BinaryOp.LE | I.BinaryOp.GT
              | I.BinaryOp.GE | I.BinaryOp.AND | I.BinaryOp.OR | I.BinaryOp.IMPLIES):
            return None  # not arithmetic
        case _:
            assert_never(op)


def _tdiv(x: int, y: int) -> int:
    q = abs(x) // abs(y)
    return q if (x >= 0) == (y > 0) else -q


def _fold(e: I.Expr) -> I.Expr:
    """Fold operators over literals, so constants and ranges can be computed at elaboration."""
    match e:
        case I.Unary(op=op, operand=I.Lit(value=v)) if v is not None:
            if op is I.UnaryOp.NOT:
                return I.Lit(not v, e.type, e.span)
            return I.Lit(-int(v), I.IntType(-int(v), -int(v)), e.span)
        case I.Binary(op=op, left=I.Lit(value=a), right=I.Lit(value=b)):
            r = _eval_binary(op, a, b)
            if r is None:
                return e
            if isinstance(r, bool):
                return I.Lit(r, I.BOOL, e.span)
            return I.Lit(r, I.IntType(r, r), e.span)
        case I.Binary(op=I.BinaryOp.AND, left=I.Lit(value=True)):
            return e.right
        case I.Binary(op=I.BinaryOp.AND, right=I.Lit(value=True)):
            return e.left
        # a constant left operand decides && || => without evaluating the right one (as C's
        # short-circuit does), so no run-time check in the right operand is lost
        case I.Binary(op=I.BinaryOp.AND, left=I.Lit(value=False)):
            return I.Lit(False, I.BOOL, e.span)
        case I.Binary(op=I.BinaryOp.OR, left=I.Lit(value=True)):
            return I.Lit(True, I.BOOL, e.span)
        case I.Binary(op=I.BinaryOp.OR, left=I.Lit(value=False)):
            return e.right
        case I.Binary(op=I.BinaryOp.IMPLIES, left=I.Lit(value=False)):
            return I.Lit(True, I.BOOL, e.span)
        case I.Binary(op=I.BinaryOp.IMPLIES, left=I.Lit(value=True)):
            return e.right
        case I.Quant(values=()):
            return I.Lit(e.kind is I.QuantKind.FORALL, I.BOOL, e.span)
        case I.Quant(body=I.Lit(value=bool(v))):
            return I.Lit(v, I.BOOL, e.span)
        case _:
            return e


def _eval_binary(op: I.BinaryOp, a: bool | int | None, b: bool | int | None) -> bool | int | None:
    match op:
        case I.BinaryOp.EQ:
            return a == b
        case I.BinaryOp.NE:
            return a != b
        case I.BinaryOp.AND:
            return bool(a) and bool(b)
        case I.BinaryOp.OR:
            return bool(a) or bool(b)
        case I.BinaryOp.IMPLIES:
            return (not a) or bool(b)
        case _ if not isinstance(a, int) or not isinstance(b, int):
            return None
        case I.BinaryOp.ADD:
            return a + b
        case I.BinaryOp.SUB:
            return a - b
        case I.BinaryOp.MUL:
            return a * b
        case I.BinaryOp.DIV:
            return _tdiv(a, b) if b > 0 else None
        case I.BinaryOp.MOD:
            return a - b * _tdiv(a, b) if b > 0 else None
        case I.BinaryOp.LT:
            return a < b
        case I.BinaryOp.LE:
            return a <= b
        case I.BinaryOp.GT:
            return a > b
        case I.BinaryOp.GE:
            return a >= b
        case _:
            assert_never(op)


def _respan(e: I.Expr, span: Span) -> I.Expr:
    match e:
        case I.Lit():
            return I.Lit(e.value, e.type, span)
        case I.VarRef():
            return I.VarRef(e.name, e.scope, e.type, span)
        case _:
            return e


def _as_lit(e: I.Expr) -> I.Lit:
    assert isinstance(e, I.Lit)
    return e


def _member_name(v: I.Lit) -> str:
    if isinstance(v.type, I.EnumType) and isinstance(v.value, int):
        return v.type.members[v.value]
    return str(v.value).lower() if isinstance(v.value, bool) else str(v.value)


def _stem(path: str) -> str:
    base = path.rsplit("/", 1)[-1]
    return base[:-4] if base.endswith(".drv") else base


def _source_text(program: Program, span: Span) -> str | None:
    src = program.sources.get(span.file)
    if src is None or span.line < 1:
        return None
    lines = src.splitlines()
    if span.line != span.end_line or span.line > len(lines):
        return None
    return lines[span.line - 1][span.col - 1 : span.end_col - 1].strip() or None


def _jumps(body: tuple[A.Stmt, ...]) -> bool:
    """Whether a loop body has a `break` or `continue` of its own (not of a nested loop)."""
    for s in body:
        match s:
            case A.Break() | A.Continue():
                return True
            case A.If() if _jumps(s.then) or _jumps(s.orelse):
                return True
            case A.Either() if any(_jumps(b) for b in s.branches):
                return True
            case _:
                pass
    return False


def _sets(s: object, flags: tuple[I.VarRef, ...]) -> bool:
    match s:
        case I.Assign(target=I.VarRef() as t) if t in flags:
            return True
        case I.If():
            return any(_sets(x, flags) for x in (*s.then, *s.orelse))
        case I.Either():
            return any(_sets(x, flags) for b in s.branches for x in b)
        case _:
            return False


def _skip_after_jump(body: list[object], flags: tuple[I.VarRef, ...]) -> list[object]:
    """A `for` body where a statement may break or continue: what follows runs only if it
    did not (nested branches likewise)."""
    out: list[object] = []
    for i, s in enumerate(body):
        match s:
            case I.If():
                s = I.If(s.cond, tuple(_skip_after_jump(list(s.then), flags)),  # type: ignore[arg-type]
                         tuple(_skip_after_jump(list(s.orelse), flags)), s.span)  # type: ignore[arg-type]
            case I.Either():
                s = I.Either(tuple(tuple(_skip_after_jump(list(b), flags))  # type: ignore[arg-type]
                                   for b in s.branches), s.span)
            case _:
                pass
        out.append(s)
        if _sets(s, flags):
            rest = _skip_after_jump(body[i + 1:], flags)
            if rest:
                go_on = _not(_or(flags[0], flags[1]))
                out.append(I.If(go_on, tuple(rest), (), flags[0].span))  # type: ignore[arg-type]
            return out
    return out


def _root_name(e: A.Expr) -> str:
    """The variable an lvalue (`a[i].f`) writes into; "" when it is not rooted at a name."""
    while isinstance(e, A.Index | A.FieldAccess):
        e = e.base
    return e.name if isinstance(e, A.Name) else ""


def _written_names(body: tuple[A.Stmt, ...]) -> set[str]:
    """The names a procedure body assigns, chooses into or declares (at any depth), by the
    name at the root of each target."""
    out: set[str] = set()

    def walk(x: object) -> None:
        match x:
            case A.Assign():
                out.add(_root_name(x.target))
            case A.Choose():
                out.add(x.var)
            case A.LocalDecl():
                out.add(x.name)
            case A.ExprStmt() if isinstance(x.expr, A.Call) and \
                    isinstance(x.expr.func, A.FieldAccess):
                out.add(_root_name(x.expr.func.base))  # a list operation: l.append(...)
            case _:
                pass
        if isinstance(x, tuple):
            for y in x:
                walk(y)
        elif dataclasses.is_dataclass(x) and not isinstance(x, type) and \
                not isinstance(x, Span):
            for f in dataclasses.fields(x):
                walk(getattr(x, f.name))

    walk(body)
    return out


def _reachable(procs: list[I.Proc], actors: list[I.Actor]) -> tuple[set[int], set[str]]:
    """Check sites in the actors' steps and in the procedures they can call (a library's
    other checks can never fail in this spec, so their properties are not reported), and those
    procedures."""
    by_name = {p.name: p for p in procs}
    sites: set[int] = set()
    seen: set[str] = set()
    # the IR shares sub-trees (inlined bodies, folded constants): each node is looked at once,
    # by identity (walking every path was 57% of checking the wcd938x corpus file)
    walked: set[int] = set()

    def ex(e: I.Expr) -> None:
        if id(e) in walked:
            return
        walked.add(id(e))
        if isinstance(e, I.IndexRef | I.Coerce) and e.site:
            sites.add(e.site)
        for c in I.expr_children(e):
            ex(c)

    def st(body: tuple[I.Stmt, ...]) -> None:
        if id(body) in walked:
            return
        walked.add(id(body))
        for s in body:
            if isinstance(s, I.Assert | I.ListOp) and s.site:
                sites.add(s.site)
            for e in I.stmt_exprs(s):
                ex(e)
            if isinstance(s, I.Call) and s.proc not in seen and s.proc in by_name:
                seen.add(s.proc)
                st(by_name[s.proc].body)
            for b in I.stmt_bodies(s):
                st(b)

    for actor in actors:
        for step in actor.steps:
            st(step.body)
    return sites, seen


def _walk_stmts(stmts: tuple[A.Stmt, ...]) -> Iterator[A.Stmt]:
    for s in stmts:
        yield s
        match s:
            case A.If():
                yield from _walk_stmts(s.then)
                yield from _walk_stmts(s.orelse)
            case A.For() | A.While():
                yield from _walk_stmts(s.body)
            case A.Either():
                for b in s.branches:
                    yield from _walk_stmts(b)
            case _:
                pass  # no nested statements


def _calls_in(s: A.Stmt) -> list[str]:
    c = _stmt_call(s)
    return [c.func.name] if c is not None and isinstance(c.func, A.Name) else []


def _default_kind(d: A.Decl) -> str:
    """The kind of declaration a spec file may re-declare over a library default, or ''."""
    match d:
        case A.ConstDecl():
            return "constant"
        case A.EnumDecl():
            return "enum"
        case A.RecordDecl():
            return "record"
        case A.VarDecl():
            return "variable"
        case A.ProcDecl():
            return "func" if d.pure else "procedure"
        case _:
            return ""


def _decl_name(d: A.Decl) -> str:
    assert isinstance(d, A.ConstDecl | A.EnumDecl | A.RecordDecl | A.VarDecl | A.ProcDecl)
    return d.name


def elaborate(program: Program, variant: str = BASE_VARIANT) -> I.Model:
    return Elaborator(program, variant).build()


def variant_names(program: Program) -> list[str]:
    """The base variant and every declared variant, in declaration order."""
    names = [BASE_VARIANT]
    for f in program.files:
        for d in f.decls:
            if isinstance(d, A.VariantDecl) and d.name not in names:
                names.append(d.name)
    return names
