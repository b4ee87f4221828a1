"""Turn a Z3 formula over the encoding's `cur` leaves back into spec-level text.

Spacer's invariants speak of bit-vectors (`Extract(0, 0, $pc0@cur) == 1`). Each lemma is a
clause; every literal that mentions one variable is replaced by the set of that variable's
values (from its type domain) that satisfy it, and printed with the spec's names: `live[iomap]`,
`pc(probe) = run`, enum members by name, `failed(use_after_release) = none`. A clause reads as an
implication: literals whose complement is smaller become its premises. Literals over several
variables are printed structurally with the same names.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import z3

from drvmc.checker.ir import nodes as I
from drvmc.translators.z3_encoding import Encoding, SArr, SList, SRec, SVal, const_ids

MAX_DOMAIN = 256  # larger integer ranges are printed structurally, not by value sets

Scalar = bool | int


@dataclass(frozen=True)
class Leaf:
    name: str  # spec-level name
    values: tuple[tuple[Scalar, str], ...] | None  # the type domain with display text
    is_bool: bool


def _scalar_leaves(v: SVal, t: I.Type) -> Iterator[tuple[z3.ExprRef, I.Type]]:
    """Leaves with their scalar types, in `leaves()` order."""
    match v, t:
        case SRec(), I.RecordType():
            for (_, fv), (_, ft) in zip(v.fields, t.fields, strict=True):
                yield from _scalar_leaves(fv, ft)
        case SArr(), I.ArrayType():
            for x in v.items:
                yield from _scalar_leaves(x, t.elem)
        case SList(), I.ListType():
            yield v.length, I.IntType(0, t.cap)
            assert t.elem is not None
            for x in v.items:
                yield from _scalar_leaves(x, t.elem)
        case _:
            assert isinstance(v, z3.ExprRef)
            yield v, t


def _display(raw: str) -> str:
    name = raw.replace("@cur", "")
    if name.endswith(".len"):
        return f"len({name[:-4]})"
    return name


def _domain(t: I.Type) -> tuple[tuple[Scalar, str], ...] | None:
    match t:
        case I.BoolType():
            return ((False, "false"), (True, "true"))
        case I.IntType():
            if t.hi - t.lo + 1 > MAX_DOMAIN:
                return None
            return tuple((x, str(x)) for x in range(t.lo, t.hi + 1))
        case I.EnumType():
            vals: list[tuple[Scalar, str]] = [(i, m) for i, m in enumerate(t.members)]
            if t.nullable:
                vals.append((len(t.members), "null"))
            return tuple(vals)
        case I.NullType():
            return ((0, "null"),)
        case _:
            return None


def leaf_table(enc: Encoding) -> dict[int, Leaf]:
    """Z3 id of each `cur` leaf → its spec-level name and value domain."""
    model = enc.model
    out: dict[int, Leaf] = {}
    for name, t in enc.var_types.items():
        v = enc.cur[name]
        if name.startswith("$pc"):
            ai = int(name[3:])
            leaf = v
            assert isinstance(leaf, z3.ExprRef)
            labels = enc.labels[ai]
            dom = (*((i, lab) for i, lab in enumerate(labels)), (len(labels), "done"))
            out[leaf.get_id()] = Leaf(f"pc({model.actors[ai].name})", dom, False)
            continue
        if name == "$halted":
            assert isinstance(v, z3.ExprRef)
            out[v.get_id()] = Leaf("halted", _domain(I.BOOL), True)
            continue
        if name.startswith("$viol:"):
            assert isinstance(v, z3.ExprRef)
            prop = name[len("$viol:"):]
            sites: list[tuple[Scalar, str]] = [(0, "none")]
            sites.extend((s.id, f"line {s.span.line}" if s.span.line else f"site {s.id}")
                         for s in model.sites if s.prop == prop)
            out[v.get_id()] = Leaf(f"failed({prop})", tuple(sites), False)
            continue
        for leaf, lt in _scalar_leaves(v, t):
            out[leaf.get_id()] = Leaf(_display(str(leaf)), _domain(lt), isinstance(lt, I.BoolType))
    return out


def _consts(e: z3.ExprRef, table: dict[int, Leaf]) -> set[int]:
    return {i for i in const_ids(e) if i in table}


def _flatten(e: z3.ExprRef, kind: int) -> list[z3.ExprRef]:
    if z3.is_app_of(e, kind):
        return [y for x in e.children() for y in _flatten(x, kind)]
    return [e]


def _clause_literals(e: z3.ExprRef) -> list[z3.ExprRef]:
    if z3.is_app_of(e, z3.Z3_OP_IMPLIES):
        a, b = e.children()
        return [z3.Not(a), *_clause_literals(b)]
    return _flatten(e, z3.Z3_OP_OR)


@dataclass(frozen=True)
class _Atom:
    leaf: Leaf
    allowed: tuple[Scalar, ...]  # values satisfying the literal(s), in domain order


def _atom_text(leaf: Leaf, allowed: tuple[Scalar, ...]) -> str:
    assert leaf.values is not None
    names = dict(leaf.values)
    if leaf.is_bool:
        return leaf.name if allowed == (True,) else f"!{leaf.name}"
    domain = [v for v, _ in leaf.values]
    rest = [v for v in domain if v not in allowed]
    if len(allowed) == 1:
        return f"{leaf.name} = {names[allowed[0]]}"
    if len(rest) == 1:
        return f"{leaf.name} != {names[rest[0]]}"
    ints = all(isinstance(v, int) and names[v] == str(v) for v in domain)
    if ints:
        lo, hi = min(allowed), max(allowed)
        if list(allowed) == [v for v in domain if lo <= v <= hi]:
            if lo == domain[0]:
                return f"{leaf.name} <= {hi}"
            if hi == domain[-1]:
                return f"{leaf.name} >= {lo}"
            return f"{lo} <= {leaf.name} <= {hi}"
    if len(allowed) <= len(rest):
        return f"{leaf.name} in {{{', '.join(names[v] for v in allowed)}}}"
    return f"{leaf.name} not in {{{', '.join(names[v] for v in rest)}}}"


def _value_term(leaf_expr: z3.ExprRef, v: Scalar) -> z3.ExprRef:
    if isinstance(v, bool):
        return z3.BoolVal(v)
    return z3.BitVecVal(v, leaf_expr.sort().size())


class Renderer:
    """Spec-level text for formulas over one encoding's `cur` leaves."""

    def __init__(self, enc: Encoding) -> None:
        self.enc = enc
        self.table = leaf_table(enc)
        self.exprs: dict[int, z3.ExprRef] = {x.get_id(): x for x in enc.cur_leaves}

    def lemmas(self, e: z3.ExprRef) -> list[str]:
        """One line per conjunct; conjuncts that only restate type domains are left out."""
        out: list[str] = []
        for c in _flatten(z3.simplify(e), z3.Z3_OP_AND):
            text = self.clause(c)
            if text is not None and text not in out:
                out.append(text)
        return out

    def clause(self, c: z3.ExprRef) -> str | None:
        """The clause as `premises => conclusions`; None when it holds for every typed value."""
        if z3.is_true(c):
            return None
        groups: dict[int, list[z3.ExprRef]] = {}
        others: list[z3.ExprRef] = []
        for lit in _clause_literals(c):
            ids = _consts(lit, self.table)
            if len(ids) == 1:
                (i,) = ids
                if self.table[i].values is not None:
                    groups.setdefault(i, []).append(lit)
                    continue
            others.append(lit)
        atoms: list[_Atom] = []
        for i, lits in groups.items():
            leaf = self.table[i]
            assert leaf.values is not None
            x = self.exprs[i]
            disj = z3.Or(*lits) if len(lits) > 1 else lits[0]
            allowed = tuple(v for v, _ in leaf.values
                            if z3.is_true(z3.simplify(z3.substitute(disj,
                                                                    (x, _value_term(x, v))))))
            if len(allowed) == len(leaf.values):
                return None  # this literal alone is true for every value of the type
            if allowed:
                atoms.append(_Atom(leaf, allowed))
        if len(atoms) == 1 and not others:
            return _atom_text(atoms[0].leaf, atoms[0].allowed)
        premises: list[str] = []
        conclusions: list[str] = []
        for a in atoms:
            assert a.leaf.values is not None
            rest = tuple(v for v, _ in a.leaf.values if v not in a.allowed)
            negative = (a.allowed == (False,)) if a.leaf.is_bool else len(rest) < len(a.allowed)
            if negative:
                premises.append(_atom_text(a.leaf, rest))
            else:
                conclusions.append(_atom_text(a.leaf, a.allowed))
        conclusions.extend(self.expr(o) for o in others)
        if not premises and not conclusions:
            return "false"
        if not premises:
            return " || ".join(conclusions)
        if not conclusions:
            return "!(" + " && ".join(premises) + ")"
        return " && ".join(premises) + " => " + " || ".join(conclusions)

    def expr(self, e: z3.ExprRef) -> str:
        """Structural printing with spec names, for literals over several variables."""
        if z3.is_const(e) and e.get_id() in self.table:
            return self.table[e.get_id()].name
        if z3.is_true(e):
            return "true"
        if z3.is_false(e):
            return "false"
        if z3.is_bv_value(e):
            return str(e.as_signed_long())
        kids = e.children()
        k = e.decl().kind() if z3.is_app(e) else None
        binops = {
            z3.Z3_OP_EQ: "==", z3.Z3_OP_ULEQ: "<=", z3.Z3_OP_SLEQ: "<=", z3.Z3_OP_ULT: "<",
            z3.Z3_OP_SLT: "<", z3.Z3_OP_UGEQ: ">=", z3.Z3_OP_SGEQ: ">=", z3.Z3_OP_UGT: ">",
            z3.Z3_OP_SGT: ">", z3.Z3_OP_BADD: "+", z3.Z3_OP_BSUB: "-", z3.Z3_OP_BMUL: "*",
            z3.Z3_OP_IMPLIES: "=>", z3.Z3_OP_IFF: "==",
        }
        if k == z3.Z3_OP_EQ and len(kids) == 2:
            named = self._named_value(kids[0], kids[1]) or self._named_value(kids[1], kids[0])
            if named is not None:
                return named
        if k in binops and len(kids) == 2:
            return f"({self.expr(kids[0])} {binops[k]} {self.expr(kids[1])})"
        if k == z3.Z3_OP_NOT:
            return f"!{self.expr(kids[0])}"
        if k == z3.Z3_OP_AND:
            return "(" + " && ".join(self.expr(x) for x in kids) + ")"
        if k == z3.Z3_OP_OR:
            return "(" + " || ".join(self.expr(x) for x in kids) + ")"
        if k == z3.Z3_OP_DISTINCT:
            return "distinct(" + ", ".join(self.expr(x) for x in kids) + ")"
        if k == z3.Z3_OP_ITE:
            return f"ite({', '.join(self.expr(x) for x in kids)})"
        if k == z3.Z3_OP_EXTRACT:
            hi, lo = e.params()
            return f"bits{hi}..{lo}({self.expr(kids[0])})"
        name = e.decl().name() if z3.is_app(e) else str(e)
        return f"{name}(" + ", ".join(self.expr(x) for x in kids) + ")" if kids else name

    def _named_value(self, var: z3.ExprRef, val: z3.ExprRef) -> str | None:
        if not (z3.is_const(var) and var.get_id() in self.table and z3.is_bv_value(val)):
            return None
        leaf = self.table[var.get_id()]
        if leaf.values is None:
            return None
        names = dict(leaf.values)
        v = val.as_long()
        return f"{leaf.name} = {names.get(v, str(v))}"


def render_invariant(enc: Encoding, inv: z3.ExprRef) -> str:
    """The invariant, one lemma per line (`true` when nothing beyond the types is needed)."""
    lines = Renderer(enc).lemmas(inv)
    return "\n".join(lines) if lines else "true"
