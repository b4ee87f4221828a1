"""Every IR construct is handled by every engine and export, or refused with a clear error.

The kinds are read from the IR's own definitions (the `Stmt`, `Expr` and `Domain` unions and the
enums of operators, list operations, quantifiers, properties and scopes), so a kind added to
checker/ir/nodes.py fails `test_corpus_covers_every_ir_kind` until a spec in tests/ir_coverage/
uses it, and from then on every engine and both exports must agree on that spec:

- the explicit engine (exhaustive, the reference here), BMC, k-induction and PDR must give
  compatible verdicts on every property of every variant (`tests.gen_specs.agree`);
- SPIN on the Promela export and TLC on the TLA+ export must find exactly the violations and
  witnesses the explicit engine finds, at the same lengths for TLC;
- a tool may instead refuse a construct, but only with `checker.errors.Unsupported`, which the
  CLI reports as an error (exit 4) and never as a verdict.

mypy's `exhaustive-match` check (pyproject.toml) keeps every `match` over these kinds complete;
this test checks that what each branch does is right. The corpus also holds the two reproducers
of issue 13 (truncate and remove_range taken for no-ops by the explicit engine and the Promela
export, which made the default engine prove a reachable violation safe).
"""

from __future__ import annotations

import dataclasses
import shutil
import typing
from collections.abc import Callable
from enum import Enum
from pathlib import Path

import pytest

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.engines.bmc import run_bmc
from drvmc.checker.engines.explicit import ExplicitOptions, run_explicit
from drvmc.checker.engines.kind import KindOptions, run_kind
from drvmc.checker.engines.pdr import PdrOptions, run_pdr
from drvmc.checker.engines.unroll import BmcOptions
from drvmc.checker.errors import Unsupported
from drvmc.checker.ir import nodes as I
from drvmc.checker.ir.elaborate import elaborate, variant_names
from drvmc.checker.lang.loader import load_program
from drvmc.checker.verdict.results import Result, Status
from drvmc.translators.z3_encoding import Encoding
from tests.gen_specs import disagreements
from tests.test_spin import spin_disagreements
from tests.test_tla import needs_tlc, tlc_disagreements

ROOT = Path(__file__).resolve().parent.parent
CORPUS = sorted((ROOT / "tests" / "ir_coverage").glob("*.drv"))
DEPTH = 25  # deeper than any run of the corpus, so BMC's bound is not what decides

ENUMS: tuple[type[Enum], ...] = (I.ListMut, I.ListQuery, I.BinaryOp, I.UnaryOp, I.QuantKind,
                                 I.PropKind, I.Scope)


# optional parts of an actor that change what the engines do with it
ACTOR_FEATURES = ("dormant",)


def ir_kinds() -> set[str]:
    """Every node class of the IR's statement, expression and domain unions, every member of
    its enums of operations, as `Class` and `Enum.MEMBER`, and the actor features."""
    out: set[str] = {f"Actor.{f}" for f in ACTOR_FEATURES}
    for union in (I.Stmt, I.Expr, I.Domain):
        out |= {c.__name__ for c in typing.get_args(union)}
    for e in ENUMS:
        out |= {f"{e.__name__}.{m.name}" for m in e}
    return out


def kinds_in(x: object, out: set[str] | None = None) -> set[str]:
    """The IR kinds that occur anywhere in `x` (a Model or any IR node), found generically."""
    out = set() if out is None else out
    if isinstance(x, Enum):
        out.add(f"{type(x).__name__}.{x.name}")
    elif dataclasses.is_dataclass(x) and not isinstance(x, type):
        out.add(type(x).__name__)
        if isinstance(x, I.Actor):
            out.update(f"Actor.{f}" for f in ACTOR_FEATURES if getattr(x, f) is not None)
        for f in dataclasses.fields(x):
            kinds_in(getattr(x, f.name), out)
    elif isinstance(x, tuple | list):
        for y in x:
            kinds_in(y, out)
    return out


def _cases() -> list[tuple[Path, str]]:
    return [(f, v) for f in CORPUS for v in variant_names(load_program(f))]


CASES = _cases()
IDS = [f"{f.stem}-{v}" for f, v in CASES]


def _model(spec: Path, variant: str) -> I.Model:
    return elaborate(load_program(spec), variant)


def test_every_optional_actor_field_is_a_feature() -> None:
    # a new optional field of Actor changes what engines do: it must be listed (and covered)
    optional = {f.name for f in dataclasses.fields(I.Actor) if f.default is None}
    assert optional - {"index_type"} == set(ACTOR_FEATURES)


def test_kind_walk_sees_operations_inside_statements() -> None:
    # the walk must reach enum members nested in statements, or a missing list operation
    # would look covered
    op = I.ListOp(I.ListMut.TRUNCATE, I.VarRef("l", I.Scope.STATE, I.ListType(I.BOOL, 2)),
                  I.Lit(0, I.IntType(0, 2)), None)
    assert {"ListOp", "ListMut.TRUNCATE", "VarRef", "Scope.STATE", "Lit"} <= kinds_in(op)


def test_corpus_covers_every_ir_kind() -> None:
    seen: set[str] = set()
    for spec, variant in CASES:
        kinds_in(_model(spec, variant), seen)
    missing = sorted(ir_kinds() - seen)
    assert not missing, (f"no spec in tests/ir_coverage/ uses {missing}: add one, so every "
                         "engine and export is checked on it")


def _run_or_refuse(name: str, run: Callable[[], list[Result]]) -> list[Result] | None:
    """A tool's results, or None when it refused the model with the documented error."""
    try:
        return run()
    except Unsupported as e:
        assert str(e), f"{name} refused the model without saying why"
        return None


@pytest.mark.parametrize(("spec", "variant"), CASES, ids=IDS)
def test_engines_agree_with_the_exhaustive_search(spec: Path, variant: str) -> None:
    model = _model(spec, variant)
    props = list(model.properties)
    ref = run_explicit(model, props, ExplicitOptions(depth=1000))
    for r in ref:
        assert r.status in (Status.VIOLATED, Status.REACHABLE, Status.PROVEN,
                            Status.UNREACHABLE), f"explicit left {r.prop} open: {r.verdict_text()}"
    runs: dict[str, Callable[[], list[Result]]] = {
        "bmc": lambda: run_bmc(model, Encoding(model), props, BmcOptions(depth=DEPTH)),
        "kind": lambda: run_kind(model, Encoding(model), props, KindOptions(depth=DEPTH)),
        "pdr": lambda: run_pdr(model, Encoding(model), props, PdrOptions(depth=DEPTH)),
    }
    bad: list[str] = []
    for name, run in runs.items():
        got = _run_or_refuse(name, run)
        if got is None:
            continue
        bad.extend(disagreements(ref, got, name))
    assert not bad, "\n".join(bad)


needs_spin = pytest.mark.skipif(shutil.which("spin") is None or shutil.which("gcc") is None,
                                reason="SPIN and gcc are needed (scripts/setup.sh installs them)")


@needs_spin
@pytest.mark.parametrize(("spec", "variant"), CASES, ids=IDS)
def test_spin_agrees(spec: Path, variant: str, tmp_path: Path) -> None:
    assert spin_disagreements(_model(spec, variant), tmp_path) == []


@needs_tlc
@pytest.mark.parametrize(("spec", "variant"), CASES, ids=IDS)
def test_tlc_agrees(spec: Path, variant: str, tmp_path: Path) -> None:
    assert tlc_disagreements(_model(spec, variant), tmp_path) == []


@pytest.mark.parametrize("spec", [f for f in CORPUS if "\nexpect " in f.read_text()],
                         ids=lambda f: f.stem)
def test_hand_derived_expect_lines_hold(spec: Path) -> None:
    report = check_spec(spec, CheckOptions(engine="explicit", all_variants=True, depth=1000))
    wrong = [f"{r.variant} {r.result.prop}: {r.result.verdict_text()}, expected {r.expected}"
             for r in report.rows if not r.ok]
    assert not wrong, wrong


def test_reproducers_of_issue_13_get_the_hand_derived_verdicts() -> None:
    # truncate(0) empties [true, true]: the assert at step 2 fails; remove_range(0, 1) leaves
    # one item: the assert holds on the only run. Every engine, not only the default one.
    cases = {"truncate_repro.drv": (Status.VIOLATED, 2), "remove_range_repro.drv":
             (Status.PROVEN, None)}
    for file, (status, depth) in cases.items():
        model = _model(ROOT / "tests" / "ir_coverage" / file, "original")
        p = [model.prop("p")]
        for r in (run_explicit(model, p, ExplicitOptions(depth=10))[0],
                  run_bmc(model, Encoding(model), p, BmcOptions(depth=10))[0],
                  run_kind(model, Encoding(model), p, KindOptions(depth=10))[0],
                  run_pdr(model, Encoding(model), p, PdrOptions(depth=10))[0]):
            assert r.status is status, (file, r.engine, r.verdict_text())
            if depth is not None:
                assert r.depth == depth, (file, r.engine, r.verdict_text())
