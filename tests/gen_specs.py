"""A hypothesis strategy of small, well-typed spec texts, for differential testing of engines.

Each generated spec has 2-3 actors over a fixed set of globals: booleans, bounded counters
(refcount-like, with `get`/`put` asserts), a signed integer, a nullable handle indexing an array,
a bounded list, an int-indexed array, an array of records and a record (with fill,
per-element `[k: v]` or record initialisers). Steps are built from every statement of the
language: assignments (to array elements, record fields and list items too; whole arrays
given per element), `if`, `either`, `for` over ranges, enums and sets,
`choose` over static sets and run-time ranges, `await`, `assume`, asserts with and without a
property class, every list operation (`append`, `remove_at`, `pop`, `clear`, `truncate`,
`remove_range`, item writes), calls of atomic procedures (with locals declared with and without
an initialiser, `return` with and without a value) and of a labelled procedure (inlined with its
own steps; its local may be initialised by, and its result returned from, a call of the atomic
procedure: `var u: T = f(..)`, `return f(..)`), actor-local state, actor families over a range
or an enum, narrowing assignments (overflow) and handle coercions (null dereference), and
sometimes a labelled `while` loop.
Expressions use every operator, `ite`,
`min`/`max`, quantifiers, list queries and `in` over ranges, sets and lists. Every property kind
appears (assert classes, invariant, final, reachable, deadlock) and every built-in check can fail
(overflow, null dereference, list capacity and bounds, array bounds), so the engines are compared
on every kind of verdict. tests/test_gen_coverage.py checks that the IR the specs elaborate to
contains every statement, expression and operator kind. Two known engine problems are steered
around, each where it would arise: quantifiers never shadow a loop variable, parameter or local
(`_compound`), and properties never read a list past its end (`PROPERTY`).

The specs stay small enough to be explored exhaustively in well under a second.

`compare` runs some of BMC, k-induction, PDR (Spacer) and the explicit engine on one model and
compares every property pairwise (`compatible`); `compare_engines` is its short form for tests.
"""

from __future__ import annotations

import multiprocessing as mp
import re
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache

from hypothesis import strategies as st

from drvmc.checker.engines.bmc import run_bmc
from drvmc.checker.engines.explicit import ExplicitOptions, run_explicit
from drvmc.checker.engines.kind import KindOptions, run_kind
from drvmc.checker.engines.pdr import PdrOptions, run_pdr
from drvmc.checker.engines.unroll import BmcOptions
from drvmc.checker.errors import EngineError
from drvmc.checker.ir import nodes as I
from drvmc.checker.verdict.results import Result, Status
from drvmc.counterexamples.text import render_text
from drvmc.translators.z3_encoding import Encoding

BOOLS = ("b0", "b1", "b2")
COUNTERS = ("c0", "c1")  # 0..2
LIST = "q"  # list<0..2, 2 or 3>
HANDLE = "h"  # Obj? indexing `alive: bool[Obj]`
PROPS = ("refcount", "order")
LITS = ("0", "1", "2")

S = st.SearchStrategy


@dataclass(frozen=True)
class GenSpec:
    text: str
    depth: int


@dataclass(frozen=True)
class Env:
    """What a statement may use besides the globals: parameters, locals and loop variables, the
    procedures it may call, and where it stands (nesting, procedure body or actor step)."""

    ints: tuple[str, ...] = ()  # readable integers within 0..2 (parameters, loop variables)
    int_vars: tuple[str, ...] = COUNTERS  # assignable (and choosable) variables of type 0..2
    objs: tuple[str, ...] = ()  # readable non-null Obj values (loop variables)
    obj_vars: tuple[str, ...] = ()  # assignable variables of type Obj (actor locals)
    calls: tuple[str, ...] = ()  # atomic procedures: "f" (-> 0..2, one int), "g" (one Obj?)
    lcall: str | None = None  # a labelled procedure that may be called here (actor steps only)
    lresult: bool = False  # whether it returns a value
    nested: int = 0  # compound statements around this one
    past_end: bool = True  # whether list reads may fall past the end (see PROPERTY)

    def inner(self, **kw: object) -> Env:
        return replace(self, nested=self.nested + 1, **kw)  # type: ignore[arg-type]


GLOBAL = Env()
# Property expressions (invariant, final, reachable) read lists only where an item is: the Z3
# encoding leaves the slots past a list's initial length unconstrained in the initial state, so
# BMC, k-induction and PDR read any value there where the explicit engine, SPIN and TLC read the
# default (`var q: list<0..2, 2> = []` and `invariant inv: q[0] != 2`: VIOLATED at length 0 by
# the symbolic engines, PROVEN by the others). Found by this generator and reported, not fixed
# yet; in steps such a read fails its bounds check first, so steps still read past the end.
PROPERTY = Env(past_end=False)


def _f(template: str, **parts: S[str]) -> S[str]:
    """`template.format(...)` over drawn parts."""
    return st.fixed_dictionaries(parts).map(lambda d: template.format(**d))


def _paren(s: str) -> str:
    return s if re.fullmatch(r"[\w.\[\]]+", s) else f"({s})"


# ---------------------------------------------------------------------- expressions


@cache
def _small_int(env: Env) -> S[str]:
    """Integers whose type lies within 0..2 (no overflow when stored into a counter)."""
    return st.one_of(
        st.sampled_from(LITS),
        st.sampled_from(COUNTERS + env.ints + env.int_vars),
        st.sampled_from((f"len({LIST})", "ite(b0, 1, 0)", "arr[0]", "arr[1]", "slots[0].refs",
                         "slots[1].refs", "r.refs", "w / 2 + 1", "w % 2 + 1", "max(w, 0)",
                         "min(c0, c1)", "2 - c1", "c0 * c1 / 2")),
    )


@cache
def _index(env: Env) -> S[str]:
    """An index into `arr`/`slots` (0..1) or `q`: sometimes out of bounds."""
    return st.one_of(st.sampled_from(("0", "1")),
                     st.sampled_from(COUNTERS + env.ints + env.int_vars),
                     st.sampled_from((f"len({LIST}) - 1", "w", "c0 % 2")))


@cache
def _int_atom(env: Env) -> S[str]:
    return st.one_of(
        _small_int(env),
        _f("arr[{i}]", i=_index(env)),  # array bounds: out_of_bounds
        _f("slots[{i}].refs", i=_index(env)),
        *([_f(LIST + "[{i}]", i=_index(env))] if env.past_end else []),  # out_of_bounds
        _f("index_of(" + LIST + ", {k}) + 1", k=st.sampled_from(LITS)),
        _f("last_index_of(" + LIST + ", {k})", k=st.sampled_from(LITS)),
        _f("ite({b}, {x}, {y})", b=_bool_atom(env, quant=False), x=_small_int(env),
           y=_small_int(env)),
    )


@cache
def int_expr(env: Env = GLOBAL) -> S[str]:
    """An integer expression; compound ones may leave 0..2 (an overflow when stored). One side
    of `+ - *` is never a literal: a constant outside the target's range is a spec error."""
    a = _int_atom(env)
    var = a.filter(lambda x: x not in LITS)
    return st.one_of(
        a, a,
        _f("{a} {op} {b}", a=a.map(_paren), op=st.sampled_from(("+", "-", "*")),
           b=var.map(_paren)),
        _f("-{a}", a=st.sampled_from(("w", "c0", "c1"))),
        _f("min(2, {a})", a=a), _f("max({a}, {b})", a=a, b=a),
        _f("{a} / 2", a=a.map(_paren)), _f("{a} % 2", a=a.map(_paren)),
    )


@cache
def _bool_atom(env: Env = GLOBAL, quant: bool = True) -> S[str]:
    small = _small_int(env)
    objs = st.sampled_from(("o1", "o2", *env.objs))
    parts: list[S[str]] = [
        st.sampled_from(BOOLS),
        st.sampled_from(BOOLS).map(lambda b: f"!{b}"),
        _f("{a} {op} {b}", a=small, op=st.sampled_from(("==", "!=", "<", "<=", ">", ">=")),
           b=small),
        st.integers(0, 2).map(lambda k: f"contains({LIST}, {k})"),
        _f("{a} in " + LIST, a=small),
        st.sampled_from((f"len({LIST}) == 0", f"len({LIST}) > 1", f"{HANDLE} == null",
                         f"{HANDLE} != null", f"index_of({LIST}, 1) == 0",
                         f"last_index_of({LIST}, 1) == 1", "h in {o1, null}", "c0 in 1..2",
                         "w in -1..1", "alive[o1]", "alive[h]", "slots[0].owner == h",
                         "slots[1].owner != null", "r == Slot(owner = null, refs = 0)",
                         "r != slots[1]", "r.owner == o2")),
        _f("alive[{o}]", o=objs),
        _f("slots[{i}].owner == {o}", i=_index(env), o=objs),
    ]
    if quant:
        k = st.sampled_from(LITS)
        parts.append(st.one_of(
            st.just("(forall o in Obj: alive[o])"),
            st.just("(exists o in Obj: slots[0].owner == o && alive[o])"),
            _f("(forall i in 0..1: i >= len(" + LIST + ") || " + LIST + "[i] != {k})", k=k),
            *([_f("(exists i in 0..2: " + LIST + "[i] == {k})", k=k)]  # reads past the end
              if env.past_end else []),
            _f("(forall i in 0..1: arr[i] <= {k})", k=k),
            st.just("(exists x in {o2, o1}: alive[x] && h == x)"),
        ))
    return st.one_of(*parts)


@cache
def bool_expr(env: Env = GLOBAL) -> S[str]:
    a = _bool_atom(env)
    return st.one_of(
        a,
        _f("({a} {op} {b})", a=a, op=st.sampled_from(("&&", "||", "=>")), b=a),
        _f("!({a} && {b})", a=a, b=a),
    )


# ---------------------------------------------------------------------- statements


@cache
def _handle_value(env: Env) -> S[str]:
    return st.sampled_from(("o1", "o2", "null", HANDLE, *env.objs))


@cache
def _simple_stmt(env: Env) -> S[str]:
    c = st.sampled_from(env.int_vars)
    b = st.sampled_from(BOOLS)
    i = _index(env)
    small = _small_int(env)
    ie = int_expr(env)
    be = bool_expr(env)
    k = st.sampled_from(LITS)
    parts: list[S[str]] = [
        # counters and booleans
        _f("{b} = {e}", b=b, e=be),
        c.map(lambda x: f"{x} = {x} + 1"),  # may overflow 0..2: a fatal built-in check
        c.map(lambda x: f'assert {x} > 0 as refcount, "put of a zero count"\n{x} = {x} - 1'),
        c.map(lambda x: f"if {x} > 0 {{ {x} = {x} - 1 }}"),
        _f("{c} = min(2, {e})", c=c, e=ie),
        _f("{c} = {e}", c=c, e=ie),  # a narrowing store: overflow
        _f('assert {e} as order, "out of order"', e=be),
        _f("assert {e}", e=be),  # the implicit `assertion` class
        _f("assume {e}", e=be),
        # the signed integer: -, /, %, *
        st.sampled_from(("w = -w", "w = c0 - c1", "w = w * 2", "w = max(w - 1, -2)",
                         "c0 = w / 2 + 1", "c1 = w % 2 + 1", "w = (w * c0) % 3")),
        # lists
        _f(LIST + ".append(min(2, {e}))", e=ie),  # capacity: may fail
        _f(LIST + ".append({e})", e=small),
        st.just(f"{LIST}.pop()"),  # pop on []: out_of_bounds
        st.just(f"if len({LIST}) > 0 {{ {LIST}.remove_at(0) }}"),
        _f(LIST + ".remove_at({i})", i=i),
        st.just(f"{LIST}.clear()"),
        _f(LIST + ".truncate({n})", n=st.one_of(k, i, st.just(f"len({LIST}) - 1"))),
        _f(LIST + ".remove_range({a}, {b})", a=st.one_of(st.sampled_from(("0", "1")), i),
           b=st.one_of(k, st.just(f"len({LIST})"), i)),
        _f(LIST + "[{i}] = {e}", i=i, e=small),
        _f("if {i} < len(" + LIST + ") {{ " + LIST + "[{i}] = {e} }}",
           i=st.sampled_from(("0", "1", *env.ints)), e=small),
        # handles, arrays, records
        _f(HANDLE + " = {o}", o=_handle_value(env)),
        st.just(f"alive[{HANDLE}] = true"),  # null dereference when h is null
        st.just(f"if {HANDLE} != null {{ alive[{HANDLE}] = false }}"),
        _f("alive[{o}] = {e}", o=st.sampled_from(("o1", "o2", *env.objs)), e=be),
        _f("arr[{i}] = {e}", i=i, e=small),
        _f("arr = [1: {e}]", e=small),  # per element; the other takes the default, 0
        _f("alive = [{o}: {e}]", o=st.sampled_from(("o1", "o2")), e=be),
        _f("slots[{i}].refs = {e}", i=i, e=ie),
        _f("slots[{i}].owner = {o}", i=i, o=_handle_value(env)),
        _f("r = Slot(owner = {o}, refs = {e})", o=_handle_value(env), e=small),
        _f("r = Slot(refs = {e})", e=small),
        _f("r.refs = {e}", e=small),
        _f("r.owner = {o}", o=_handle_value(env)),
        _f("slots[{i}] = r", i=i),
        _f("r = slots[{i}]", i=i),
        # choices over static sets
        c.map(lambda x: f"choose {x} in 0..2"),
        b.map(lambda x: f"choose {x} in {{true, false}}"),
        st.sampled_from(("choose h in {o1, o2, null}", "choose w in -2..2", "choose h in Obj",
                         "choose c1 in {2, 0}")),
        st.just("skip"),
    ]
    if env.obj_vars:
        parts.append(_f("{k} = {o}", k=st.sampled_from(env.obj_vars),
                        o=st.sampled_from(("o1", "o2", HANDLE, *env.objs))))  # null deref
    if "f" in env.calls:
        parts.append(_f("{c} = f({e})", c=c, e=ie))
        parts.append(_f("f({e})", e=small))
    if "g" in env.calls:
        parts.append(_f("g({o})", o=_handle_value(env)))
    return st.one_of(*parts)


def _block(inner: S[str], max_size: int = 2) -> S[str]:
    return st.lists(inner, min_size=1, max_size=max_size).map(lambda xs: "\n".join(xs))


@cache
def _compound(env: Env) -> S[str]:
    inner = stmt(env.inner())
    block = _block(inner)
    parts = [
        _f("if {c} {{\n{a}\n}} else {{\n{b}\n}}", c=bool_expr(env), a=block, b=block),
        _f("if {c} {{\n{a}\n}}", c=bool_expr(env), a=block),
        _f("either {{\n{a}\n}} or {{\n{b}\n}}", a=block, b=block),
        _f("either {{\n{a}\n}} or {{\n{b}\n}} or {{\n{c}\n}}", a=block, b=block, c=block),
    ]
    if "j" not in env.ints and "ob" not in env.objs:  # no loop inside a loop
        # Loop variables are not named like the quantifiers' (i, o, x): a quantifier whose
        # variable shadows an enclosing `for` variable unbinds it in every engine and in the
        # Promela export ("unbound temporary", an internal error; found by this generator and
        # reported, not fixed yet), so every such spec would fail for the one known reason.
        ienv = env.inner(ints=(*env.ints, "j"))
        oenv = env.inner(objs=(*env.objs, "ob"))
        parts += [
            _f("for j in 0..1 {{\n{a}\n}}", a=_block(_simple_stmt(ienv))),
            _f("for ob in Obj {{\n{a}\n}}", a=_block(_simple_stmt(oenv))),
            _f("for ob in {{o2, o1}} {{\n{a}\n}}", a=_block(_simple_stmt(oenv))),
        ]
    return st.one_of(*parts)


@cache
def stmt(env: Env = GLOBAL) -> S[str]:
    s = _simple_stmt(env)
    if env.nested >= 2:
        return s
    return st.one_of(s, s, s, _compound(env))


@cache
def _lcall(env: Env) -> S[str]:
    assert env.lcall is not None
    call = _f(env.lcall + "({e})", e=_small_int(env))
    if env.lresult:
        return st.one_of(call, _f("{c} = {call}", c=st.sampled_from(env.int_vars), call=call))
    return call


@st.composite
def step_body(draw: st.DrawFn, max_size: int = 3, env: Env = GLOBAL) -> list[str]:
    """An optional `await` first, then statements. The encoding rejects an await that depends on
    a choice made earlier in its step, so awaits only ever open a step."""
    body = draw(st.lists(stmt(env), min_size=1, max_size=max_size))
    match draw(st.integers(0, 5)):
        case 0 | 1:
            body.insert(0, f"await {draw(bool_expr(env))}")
        case 2:
            # a range with a run-time bound: empty ranges block like an await (and, like one,
            # must not depend on an earlier choice of the step, so it opens the step)
            a = draw(st.sampled_from(env.int_vars))
            lo = draw(st.sampled_from(("1", "0", *COUNTERS)))
            hi = draw(st.sampled_from((*COUNTERS, "len(q)", "w + 1")))
            body.insert(0, f"choose {a} in {lo}..{hi}")
        case _:
            pass
    if env.lcall is not None and draw(st.integers(0, 2)) == 0:
        call = draw(_lcall(env))
        # inside a branch too: the statements after the branches are then a join that both
        # branches reach (lowered once, behind a flag), or one only (lowered in its place)
        match draw(st.integers(0, 4)):
            case 0:
                call = f"if {draw(bool_expr(env))} {{\n{call}\n}} else {{\n{draw(_lcall(env))}\n}}"
            case 1:
                call = f"either {{\n{call}\n}} or {{\n{draw(stmt(env.inner()))}\n}}"
            case 2 if "j" not in env.ints:
                # a `for` over labelled calls: unrolled, the loop variable a constant per copy
                call = f"for j in 0..1 {{\n{env.lcall}(j)\n}}"
            case _:
                pass
        body.insert(draw(st.integers(1, len(body))), call)
    return body


def _lines(body: Sequence[str], by: str) -> list[str]:
    return [by + ln for x in body for ln in x.split("\n")]


# ---------------------------------------------------------------------- procedures and actors


@st.composite
def _proc_f(draw: st.DrawFn, env: Env) -> str:
    """An atomic procedure with a result, a parameter, a local and an early return. No name of a
    parameter, local or loop variable is a quantifier's (i, o, x): see _compound."""
    penv = replace(env, ints=("v",), int_vars=(*COUNTERS, "t"), calls=(), lcall=None)
    # a compound initialiser may fold to a constant outside 0..2, which is a spec error: clamp it
    init = draw(st.one_of(st.just(""), st.just(" = any"),
                          int_expr(replace(penv, int_vars=COUNTERS)).map(
                              lambda e: f" = min(2, max(0, {e}))")))
    lines = ["proc f(v: 0..2) -> 0..2 {", f"  var t: 0..2{init}"]
    if draw(st.integers(0, 2)) == 0:
        lines.append(f"  choose t in {draw(st.sampled_from(('0..1', '{0, 2}')))}")
    lines += _lines(draw(st.lists(stmt(penv), min_size=1, max_size=2)), "  ")
    if draw(st.booleans()):
        lines.append(f"  var u: bool{draw(st.sampled_from(('', ' = any', ' = b1')))}")
        lines.append(f"  if u || {draw(bool_expr(penv))} {{ return {draw(int_expr(penv))} }}")
    else:
        lines.append(f"  if {draw(bool_expr(penv))} {{ return {draw(int_expr(penv))} }}")
    lines.append(f"  return {draw(st.sampled_from(('t', 'v', 'min(2, t + v)')))}")
    lines.append("}")
    return "\n".join(lines)


@st.composite
def _proc_g(draw: st.DrawFn, env: Env) -> str:
    """An atomic procedure without a result: an early `return`, then writes through a handle."""
    penv = replace(env, calls=(), lcall=None)
    lines = ["proc g(p: Obj?) {", "  if p == null { return }", f"  alive[p] = {draw(bool_expr())}"]
    lines += _lines(draw(st.lists(stmt(penv), min_size=0, max_size=2)), "  ")
    lines.append("}")
    return "\n".join(lines)


@st.composite
def _proc_lp(draw: st.DrawFn, env: Env, result: bool) -> str:
    """A labelled procedure: inlined at each call site with its own steps and state."""
    penv = replace(env, ints=("n",), int_vars=(*COUNTERS, "u"), lcall=None)
    # `var u: T = f(..)` and `return f(..)`: a procedure call as an initial or returned value
    inits: tuple[str, ...] = ("n", "0", "c1", *(("f(n)",) if "f" in env.calls else ()))
    lines = [f"proc lp(n: 0..2){' -> 0..2' if result else ''} {{",
             f"  var u: 0..2 = {draw(st.sampled_from(inits))}"]
    lines.append("  l1:")
    lines += _lines(draw(step_body(2, penv)), "    ")
    ret = " u" if result else ""
    lines.append(f"    if {draw(bool_expr(penv))} {{ return{ret} }}")
    if draw(st.booleans()):
        lines.append("  l2:")
        lines += _lines(draw(step_body(2, penv)), "    ")
    if result and "f" in env.calls and draw(st.booleans()):
        lines.append(f"    return f({draw(_small_int(penv))})")
    elif result:
        lines.append(f"    return {draw(int_expr(penv))}")
    lines.append("}")
    return "\n".join(lines)


@st.composite
def actor(draw: st.DrawFn, name: str, env: Env = GLOBAL) -> str:
    """An actor, sometimes a family of two instances (index `m`, over a range or over Obj)."""
    match draw(st.integers(0, 15)):
        case 0:
            lines = [f"actor {name}[m in 0..1] {{"]
            env = replace(env, ints=(*env.ints, "m"))
        case 1:
            lines = [f"actor {name}[m in Obj] {{"]
            env = replace(env, objs=(*env.objs, "m"))
        case _:
            lines = [f"actor {name} {{"]
    if draw(st.booleans()):
        lines.append(f"  var t: 0..2 = {draw(st.sampled_from(LITS))}")
        env = replace(env, int_vars=(*env.int_vars, "t"))
    if draw(st.integers(0, 3)) == 0:
        lines.append("  var k: Obj = o1")
        env = replace(env, obj_vars=("k",), objs=(*env.objs, "k"))
    nsteps = draw(st.integers(1, 3))
    for i in range(nsteps):
        lines.append(f"  s{i}:")
        lines.extend(_lines(draw(step_body(env=env)), "    "))
    if draw(st.integers(0, 4)) == 0:
        c = draw(st.sampled_from(COUNTERS))
        body = draw(step_body(2, replace(env, lcall=None)))
        lines.append(f"  w: while {c} < 2 {{")
        lines.append("    w1:")
        lines.extend(_lines(body, "      "))
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines)


@st.composite
def spec_text(draw: st.DrawFn) -> GenSpec:
    nactors = draw(st.integers(2, 3))
    out = ['spec gen "generated"', "enum Obj { o1, o2 }",
           "record Slot { owner: Obj?, refs: 0..2 }",
           'property refcount "no put of a zero count"', 'property order "steps in order"']
    for b in BOOLS:
        init = draw(st.sampled_from(("false", "true", "any")))
        out.append(f"var {b}: bool = {init}")
    for c in COUNTERS:
        out.append(f"var {c}: 0..2 = {draw(st.integers(0, 2))}")
    out.append(f"var w: -2..2 = {draw(st.sampled_from(('0', '1', '-1', 'any')))}")
    cap = draw(st.integers(2, 3))
    init = draw(st.sampled_from(("[]", "[]", "[1]", "[0, 2]")))
    out.append(f"var {LIST}: list<0..2, {cap}> = {init}")
    out.append(f"var {HANDLE}: Obj? = {draw(st.sampled_from(('null', 'o1')))}")
    out.append("var alive: bool[Obj] = "
               + draw(st.sampled_from(("false", "true", "[o2: true]", "[o1: true, o2: false]"))))
    out.append("var arr: 0..2[0..1] = "
               + draw(st.sampled_from((*LITS, "[1: 2]", "[0: 1, 1: 2]"))))
    out.append("var slots: Slot[0..1] = "
               + draw(st.sampled_from(("Slot(owner = null, refs = 0)", "Slot(refs = 1)",
                                       "Slot(o2, 2)", "[1: Slot(owner = o1, refs = 1)]"))))
    out.append("var r: Slot" + draw(st.sampled_from(("", " = Slot(owner = o1)"))))
    env = GLOBAL
    calls: list[str] = []
    if draw(st.booleans()):
        out.append(draw(_proc_f(env)))
        calls.append("f")
    if draw(st.booleans()):
        out.append(draw(_proc_g(env)))
        calls.append("g")
    env = replace(env, calls=tuple(calls))
    if draw(st.integers(0, 2)) == 0:
        result = draw(st.booleans())
        out.append(draw(_proc_lp(env, result)))
        env = replace(env, lcall="lp", lresult=result)
    for i in range(nactors):
        out.append(draw(actor(f"a{i}", env)))
    out.append(f"invariant inv: {draw(bool_expr(PROPERTY))}")
    out.append(f"final fin: {draw(bool_expr(PROPERTY))}")
    out.append(f"reachable goal: {draw(bool_expr(PROPERTY))}")
    if draw(st.booleans()):
        out.append("allow deadlock")
    return GenSpec("\n".join(out) + "\n", 10)


__all__ = ["ENGINES", "Comparison", "EngineRun", "Env", "GenSpec", "agree", "bool_expr",
           "compare", "compare_engines", "describe", "int_expr", "run_engine", "spec_text",
           "step_body", "stmt"]


# ---------------------------------------------------------------------- comparing engines

ENGINES = ("bmc", "kind", "pdr", "explicit")
FOUND = (Status.VIOLATED, Status.REACHABLE)
HOLDS = (Status.PROVEN, Status.UNREACHABLE)
BOUNDED = (Status.SAFE, Status.NOT_REACHED)
# run_pdr's answer when Spacer reaches a bad state and BMC finds no trace within its bound
_PDR_BEYOND = re.compile(r"reachable \(pdr\), but no trace within (\d+) steps")


def _claim(r: Result) -> tuple[str, int]:
    """What a result says about a property: ("found", length), ("holds", 0), ("bounded", k):
    nothing within k steps, ("beyond", k): found by Spacer, but longer than k steps, or
    ("unknown", 0)."""
    if r.status in FOUND:
        return "found", r.depth
    if r.status in HOLDS:
        return "holds", 0
    if r.status in BOUNDED:
        return "bounded", r.depth
    m = _PDR_BEYOND.search(r.reason)
    if m is not None:
        return "beyond", int(m.group(1))
    return "unknown", 0


def compatible(a: Result, b: Result) -> bool:
    """Whether two results on one property can both be right; UNKNOWN is compatible with all.

    Violations and witnesses must match in status and length (every engine finds shortest
    ones); a proof must not meet a violation; a bounded SAFE≤k is compatible with a proof, and
    with a violation longer than k steps.
    """
    (ca, na), (cb, nb) = _claim(a), _claim(b)
    if ca == "unknown" or cb == "unknown":
        return True
    if (ca, cb) == ("found", "found"):
        return a.status is b.status and na == nb
    if (ca, cb) == ("holds", "holds"):
        return a.status is b.status
    if {ca, cb} in ({"found", "holds"}, {"beyond", "holds"}):
        return False
    if ca == "found" and cb in ("bounded", "beyond"):
        return na > nb
    if cb == "found" and ca in ("bounded", "beyond"):
        return nb > na
    return True  # bounded or beyond on either side, holds or bounded on the other


def agree(a: Result, b: Result) -> bool:
    """Compatible, and neither is UNKNOWN."""
    return a.status is not Status.UNKNOWN and b.status is not Status.UNKNOWN and compatible(a, b)


def describe(r: Result) -> str:
    lines = [f"  {r.engine}: {r.verdict_text()}"]
    if r.trace is not None:
        lines.extend("    " + ln for ln in render_text(r.trace).splitlines())
    return "\n".join(lines)


def disagreements(ref: list[Result], got: list[Result], engine: str) -> list[str]:
    """Where `engine`'s results differ from the reference's, property by property (a missing
    result is a difference; agree() takes a bound SAFE≤k beside a proof)."""
    by_prop = {r.prop: r for r in got}
    bad: list[str] = []
    for r in ref:
        other = by_prop.get(r.prop)
        if other is None:
            bad.append(f"{engine} gave no result for {r.prop}")
        elif not agree(r, other):
            bad.append(f"{r.prop}:\n{describe(r)}\n{describe(other)}")
    return bad


@dataclass
class EngineRun:
    engine: str
    results: list[Result] | None  # None: the engine raised (`error`)
    error: str = ""
    wall: float = 0.0
    cpu: float = 0.0


def run_engine(model: I.Model, engine: str, depth: int, *, explicit_depth: int = 1000,
               pdr_depth: int = 20, pdr_timeout: float = 10.0,
               pdr_hard_limit: float | None = None, pdr_budget: float = 120.0) -> EngineRun:
    """One engine on every property of `model`.

    The explicit engine explores the whole state space (`explicit_depth` bounds the run length
    only), so its verdicts are conclusive on generated specs. BMC and k-induction stop at
    `depth`. PDR gets no BMC hunt first (Spacer itself must find violations; BMC up to
    `pdr_depth` steps then confirms them with a trace) and `pdr_timeout` seconds per query.
    Spacer overruns its time-out by minutes on some of these specs, so PDR runs in a child
    process that is killed when no answer comes for `pdr_hard_limit` seconds (default two
    time-outs and 5 s); the property then is UNKNOWN, and the others are asked one by one
    within `pdr_budget` seconds for the whole spec.
    """
    props = list(model.properties)
    w0, c0, k0 = time.monotonic(), time.process_time(), _children_cpu()
    try:
        match engine:
            case "bmc":
                rs = run_bmc(model, Encoding(model), props, BmcOptions(depth=depth))
            case "kind":
                rs = run_kind(model, Encoding(model), props, KindOptions(depth=depth))
            case "pdr":
                hard = pdr_hard_limit if pdr_hard_limit is not None else 2 * pdr_timeout + 5
                rs = _pdr_bounded(model, props,
                                  PdrOptions(pdr_timeout, pdr_depth, confirm=True, hunt_depth=0),
                                  hard, pdr_budget)
            case "explicit":
                rs = run_explicit(model, props, ExplicitOptions(depth=explicit_depth))
            case _:
                raise ValueError(f"no engine {engine}")
        error = ""
    except Exception as e:  # an engine crash on a well-typed spec is a finding, not a skip
        rs, error = None, f"{type(e).__name__}: {e}"
    cpu = time.process_time() - c0 + _children_cpu() - k0
    return EngineRun(engine, rs, error, time.monotonic() - w0, cpu)


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _pdr_bounded(model: I.Model, props: list[I.Property], opts: PdrOptions,
                 hard_s: float, budget_s: float) -> list[Result]:
    """run_pdr in a forked child, its results streamed back; a child silent for `hard_s`
    seconds is killed and the properties it had not answered are asked one at a time, until
    `budget_s` seconds are spent in all."""
    got: dict[str, Result] = {}
    end = time.monotonic() + budget_s

    def attempt(ps: list[I.Property]) -> bool:
        ctx = mp.get_context("fork")
        rd, wr = ctx.Pipe(duplex=False)

        def child() -> None:
            rd.close()
            try:
                rs = run_pdr(model, Encoding(model), ps, opts, None, wr.send)
                for r in rs:
                    wr.send(r)
                wr.send(None)
            except Exception as e:
                wr.send(f"{type(e).__name__}: {e}")

        proc = ctx.Process(target=child, daemon=True)
        proc.start()
        wr.close()
        try:
            while rd.poll(max(0.0, min(hard_s, end - time.monotonic()))):
                try:
                    msg = rd.recv()
                except EOFError:  # the child died
                    return False
                if msg is None:
                    return True
                if isinstance(msg, str):
                    raise EngineError(msg)
                got.setdefault(msg.prop, msg)
            return False
        finally:
            rd.close()
            if proc.is_alive():
                proc.kill()
            proc.join()

    if not attempt(props):
        for p in props:
            if p.name in got:
                continue
            if time.monotonic() >= end:
                why = f"pdr: not asked, the {budget_s:g} s given to PDR per spec were spent"
            elif attempt([p]):
                continue
            else:
                why = (f"pdr: no answer within {hard_s:g} s (killed: Spacer overran its "
                       f"{opts.timeout_s:g} s time-out)")
            got[p.name] = Result(p.name, p.kind, Status.UNKNOWN, 0, "pdr", reason=why)
    return [got[p.name] for p in props]


@dataclass
class Comparison:
    runs: dict[str, EngineRun]
    problems: list[str] = field(default_factory=list)  # disagreements and engine errors
    unknown: list[str] = field(default_factory=list)  # "engine property: reason"
    culprits: set[str] = field(default_factory=set)  # engines in a disagreement, or that raised

    def verdicts(self) -> dict[str, list[Status]]:
        return {e: [r.status for r in run.results or []] for e, run in self.runs.items()}


def compare(model: I.Model, depth: int, engines: Sequence[str] = ENGINES,
            run: Callable[..., EngineRun] = run_engine, **opts: object) -> Comparison:
    """Run `engines` on every property of `model` and compare them pairwise.

    A disagreement is a pair of incompatible results (`compatible`) or an engine that raised;
    UNKNOWN results are listed in `unknown`, not counted as agreement.
    """
    runs = {e: run(model, e, depth, **opts) for e in engines}
    out = Comparison(runs)
    ok = {e: r.results for e, r in runs.items() if r.results is not None}
    for e, r in runs.items():
        if r.results is None:
            out.problems.append(f"{e} raised {r.error}")
            out.culprits.add(e)
    for k, p in enumerate(model.properties):
        mine = [(e, rs[k]) for e, rs in ok.items()]
        for e, r in mine:
            if r.status is Status.UNKNOWN:
                out.unknown.append(f"{e} {p.name}: {r.reason}")
        bad = [(ea, eb) for i, (ea, a) in enumerate(mine) for eb, b in mine[i + 1:]
               if not compatible(a, b)]
        if bad:
            out.culprits.update(e for pair in bad for e in pair)
            pairs = ", ".join(f"{a} vs {b}" for a, b in bad)
            out.problems.append(f"property {p.name} ({pairs}):\n"
                                + "\n".join(describe(r) for _, r in mine))
    return out


def compare_engines(model: I.Model, depth: int,
                    engines: Sequence[str] = ("bmc", "explicit")) -> list[str]:
    """Run `engines` (default BMC and the explicit engine) on every property; one message per
    disagreement, and one per UNKNOWN (none is expected without time-outs)."""
    c = compare(model, depth, engines)
    return c.problems + [f"UNKNOWN from {u}" for u in c.unknown]
