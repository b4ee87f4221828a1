"""The spec generator of the differential tests must exercise every kind the IR has.

300 specs are drawn from tests/gen_specs.py's strategy (derandomized), elaborated (an elaboration
error is a generator bug) and their IR walked generically, field by field. Every statement and
expression kind (the members of the unions `Stmt`, `Expr` and `Domain` in checker/ir/nodes.py),
every member of the operator and kind enums, every built-in check and both variable scopes must
occur at least once. The lists are computed from the IR's own definitions, so a kind added to the IR
fails here until the generator produces it (or it is named in `NOT_GENERATED` with the reason).
"""

from __future__ import annotations

import dataclasses
import enum
import typing
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from drvmc.checker.ir import nodes as I
from drvmc.checker.ir.elaborate import elaborate
from drvmc.checker.lang.loader import load_program
from tests.gen_specs import GenSpec, spec_text

SPECS = 300

# Kinds the IR defines that source text cannot produce, with the reason. Empty: every statement
# and expression kind can be written (Goto and Trace come from lowering and inlining: every step
# ends in a Goto, every call of a labelled procedure leaves a Trace).
NOT_GENERATED: dict[object, str] = {}

ENUMS: tuple[type[enum.Enum], ...] = (I.ListMut, I.ListQuery, I.BinaryOp, I.UnaryOp,
                                      I.QuantKind, I.PropKind, I.Scope)


def _required() -> list[object]:
    kinds: list[object] = [*typing.get_args(I.Stmt), *typing.get_args(I.Expr),
                           *typing.get_args(I.Domain)]
    for e in ENUMS:
        kinds.extend(e)
    return [k for k in kinds if k not in NOT_GENERATED]


# Forms of one kind that engines treat apart, each of which must occur too.
SHAPES: dict[str, tuple[type, typing.Callable[[typing.Any], bool]]] = {
    "local declared without initialiser (= any)": (I.LocalDecl, lambda s: s.init is None),
    "local declared with an initialiser": (I.LocalDecl, lambda s: s.init is not None),
    "return with a value": (I.Return, lambda s: s.value is not None),
    "return without a value": (I.Return, lambda s: s.value is None),
    "call with a result": (I.Call, lambda s: s.target is not None),
    "call without a result": (I.Call, lambda s: s.target is None),
    "choose into a temporary": (I.Choose, lambda s: getattr(s.target, "scope", None)
                                is I.Scope.TEMP),
    "narrowing coercion (a check site)": (I.Coerce, lambda e: e.site != 0),
    "widening coercion": (I.Coerce, lambda e: e.site == 0),
    "list item read": (I.IndexRef, lambda e: isinstance(e.base.type, I.ListType)),
    "int-indexed array read with a bounds check": (
        I.IndexRef, lambda e: isinstance(e.base.type, I.ArrayType)
        and isinstance(e.base.type.index, I.IntType) and e.site is not None),
    "enum-indexed array read with a null check": (
        I.IndexRef, lambda e: isinstance(e.base.type, I.ArrayType)
        and isinstance(e.base.type.index, I.EnumType) and e.site is not None),
    "field of an array element": (I.FieldRef, lambda e: isinstance(e.base, I.IndexRef)),
    "quantifier over an enum": (I.Quant, lambda e: isinstance(e.var_type, I.EnumType)),
    "quantifier over a range": (I.Quant, lambda e: isinstance(e.var_type, I.IntType)),
    "for over an enum": (I.For, lambda s: isinstance(s.var_type, I.EnumType)),
    "for over a range": (I.For, lambda s: isinstance(s.var_type, I.IntType)),
    "either with three branches": (I.Either, lambda s: len(s.branches) == 3),
    "state variable initialised to any value": (I.StateVar, lambda v: v.init is None),
    "actor-local state": (I.StateVar, lambda v: v.owner is not None),
    "remove_range": (I.ListOp, lambda s: s.arg2 is not None),
}


def _walk(x: object, seen: Counter[object]) -> None:
    """Count every IR node class, enum member and shape reachable from x."""
    if isinstance(x, enum.Enum):
        seen[x] += 1
    elif dataclasses.is_dataclass(x) and not isinstance(x, type):
        seen[type(x)] += 1
        for name, (kind, pred) in SHAPES.items():
            if isinstance(x, kind) and pred(x):
                seen[name] += 1
        for f in dataclasses.fields(x):
            _walk(getattr(x, f.name), seen)
    elif isinstance(x, tuple | list):
        for y in x:
            _walk(y, seen)
    elif isinstance(x, dict):
        for y in x.values():
            _walk(y, seen)


def _name(k: object) -> str:
    return k.__name__ if isinstance(k, type) else str(k)


@pytest.fixture(scope="module")
def coverage(tmp_path_factory: pytest.TempPathFactory) -> tuple[Counter[object], set[str], int]:
    seen: Counter[object] = Counter()
    builtins: set[str] = set()
    specs = 0
    d = tmp_path_factory.mktemp("cov")

    @settings(max_examples=SPECS, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(g=spec_text())
    def draw(g: GenSpec) -> None:
        nonlocal specs
        p = d / "gen.drv"
        p.write_text(g.text, encoding="utf-8")
        model = elaborate(load_program(p), "original")  # a DrvmcError is a generator bug
        specs += 1
        _walk(model, seen)
        builtins.update(s.prop for s in model.sites)

    draw()
    return seen, builtins, specs


def test_every_ir_kind_is_generated(coverage: tuple[Counter[object], set[str], int]) -> None:
    seen, _, specs = coverage
    assert specs >= SPECS
    missing = [_name(k) for k in _required() if seen[k] == 0]
    assert not missing, f"never generated in {specs} specs: {', '.join(missing)}"


def test_every_shape_is_generated(coverage: tuple[Counter[object], set[str], int]) -> None:
    seen, _, specs = coverage
    missing = [name for name in SHAPES if seen[name] == 0]
    assert not missing, f"never generated in {specs} specs: {', '.join(missing)}"


def test_every_builtin_check_can_fail(coverage: tuple[Counter[object], set[str], int]) -> None:
    _, builtins, _ = coverage
    missing = [b.value for b in I.Builtin if b.value not in builtins]
    assert not missing, f"no check site for {', '.join(missing)}"


def test_the_required_kinds_come_from_the_ir() -> None:
    # the walk above is only as good as this list: it must follow the IR's definitions
    req = {_name(k) for k in _required()}
    assert {"ListOp", "Goto", "Trace", "Return", "LocalDecl", "For", "Call", "Quant", "Coerce",
            "ArrayFill", "RecordLit", "ListLit", "FieldRef", "RangeDomain"} <= req
    assert {str(m) for m in I.ListMut} <= req
    assert all(k in req for k in map(_name, typing.get_args(I.Stmt)))
    assert set(NOT_GENERATED) <= {*typing.get_args(I.Stmt), *typing.get_args(I.Expr)}


def test_a_spec_is_small(tmp_path: Path) -> None:
    # the differential tests run hundreds of these: each must stay cheap to explore
    from drvmc.checker.engines.explicit import ExplicitOptions, run_explicit

    @settings(max_examples=30, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(g=spec_text())
    def one(g: GenSpec) -> None:
        p = tmp_path / "gen.drv"
        p.write_text(g.text, encoding="utf-8")
        model = elaborate(load_program(p), "original")
        rs = run_explicit(model, list(model.properties), ExplicitOptions(depth=1000))
        assert max(r.states for r in rs) < 20_000, g.text

    one()
