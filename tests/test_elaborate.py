"""Name resolution, typing, constant folding, variants and lowering into steps."""

from __future__ import annotations

from pathlib import Path

import pytest

from drvmc.checker.errors import SpecError
from drvmc.checker.ir import nodes as I
from tests.helpers import model_of


def _codes(tmp_path: Path, src: str) -> list[tuple[str, int]]:
    with pytest.raises(SpecError) as ei:
        model_of(tmp_path, src)
    return [(d.code, d.span.line) for d in ei.value.diagnostics]


def test_expression_ranges_are_exact(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
    var a: 0..3 = 0
    var b: -2..1 = 0
    var c: -20..20 = 0
    actor x { s: c = a * b - a + 7 / 2 }
    """)
    assign = m.actors[0].steps[0].body[0]
    assert isinstance(assign, I.Assign)
    # a*b in -6..3, minus a in -9..3, plus 3 in -6..6: fits -20..20 without a check
    assert assign.value.type == I.IntType(-6, 6)
    assert not any(s.prop == "overflow" for s in m.sites)


def test_constants_fold_and_variants_override_them(tmp_path: Path) -> None:
    src = """
    const N = 1 + 2
    var x: 0..N = N
    actor a[i in 1..N - 1] { s: skip }
    variant big "more workers" { const N = 4 }
    """
    assert [a.name for a in model_of(tmp_path, src).actors] == ["a[1]", "a[2]"]
    big = model_of(tmp_path, src, "big")
    assert [a.name for a in big.actors] == ["a[1]", "a[2]", "a[3]"]
    assert big.var("x").type == I.IntType(0, 4)


def test_nullable_handle_flowing_into_non_null_is_a_dereference(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
    enum Dev { d0 }
    var h: Dev? = null
    proc use(d: Dev) { skip }
    actor a { s: use(h) }
    """)
    assert [s.prop for s in m.sites] == ["null_deref"]


def test_actor_locals_and_inlined_procedures_become_state(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
    proc lp(n: 0..3) {
      one: var t: 0..3 = n
      two: skip
    }
    actor w[i in 1..2] {
      var mine: bool = true
      s: lp(i)
    }
    """)
    names = [v.name for v in m.vars]
    # lp's parameter n is the instance's index, a constant: it is no state (see test_inlining)
    assert names == ["w[1].mine", "w[1].lp.t", "w[2].mine", "w[2].lp.t"]
    assert [s.label for s in m.actors[0].steps] == ["s", "lp.one", "lp.two"]
    assert m.var("w[1].mine").owner == "w[1]"


def test_steps_end_with_explicit_gotos(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
    var c: bool = false
    actor a {
      s: if c {
      t:   skip
         }
      u: skip
    }
    """)
    steps = {s.label: s for s in m.actors[0].steps}
    first = steps["s"].body[0]
    assert isinstance(first, I.If)
    assert first.then == (I.Goto("t"),)
    assert first.orelse == (I.Goto("u"),)
    assert steps["u"].body == (I.Goto(None),)


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("actor a { s: x = 1 }", [("E100", 1)]),
        ("var x: bool = true\nvar x: bool = false\nactor a { s: skip }", [("E101", 2)]),
        ("var x: 0..3 = 5\nactor a { s: skip }", [("E110", 1)]),
        ("var x: 3..1 = 3\nactor a { s: skip }", [("E116", 1)]),
        ("var l: list<bool, 1000>\nactor a { s: skip }", [("E150", 1)]),
        ("var k: 0..3 = 0\nfunc f(x: 0..3) -> 0..3 { return f(x) }\n"
         "actor a { s: k = 1 }\ninvariant i: f(k) == 0", [("E130", 2)]),
        ("actor a { s: while true { skip } }", [("E122", 1)]),
        ("actor a { s: for i in 0..1 { t: skip } }", [("E121", 1)]),
        ("actor a { s: return }", [("E123", 1)]),
        ("actor a { s: skip  s: skip }", [("E120", 1)]),
        ("var y: bool = true\nactor a { s: y = 1 + true }", [("E110", 2)]),
        ("actor a { s: assert true as nope }", [("E105", 1)]),
    ],
)
def test_errors_have_codes_and_lines(tmp_path: Path, src: str,
                                     expected: list[tuple[str, int]]) -> None:
    assert _codes(tmp_path, src) == expected


def test_all_errors_of_a_phase_are_reported_together(tmp_path: Path) -> None:
    codes = _codes(tmp_path, """actor a {
      s: x = 1
      t: y = true
    }
    actor b { u: z = false }
    """)
    assert codes == [("E100", 2), ("E100", 3), ("E100", 5)]


def test_choose_beyond_the_variables_type(tmp_path: Path) -> None:
    """Found by the long differential run (seed 7001, specs 912/913): `choose c in lo..hi` into
    a variable whose type is narrower stored the out-of-range value unchecked (the Z3 engines
    then disagreed with the explicit one on the next step). A static range is a spec error; a
    run-time range assigns through the usual range check (overflow)."""
    from drvmc.checker.app.driver import CheckOptions, check_spec
    from drvmc.checker.verdict.results import Status
    static = tmp_path / "static.drv"
    static.write_text("var c: 0..2 = 0\nactor a {\n  s: choose c in 1..3\n}\n")
    with pytest.raises(SpecError) as e:
        model_of(tmp_path, static.read_text())
    assert e.value.diagnostics[0].code == "E110" and "3 is out of range 0..2" in str(e.value)
    dyn = tmp_path / "dyn.drv"
    dyn.write_text("var c: 0..2 = 0\nvar w: 1..3 = 3\nactor a {\n  s: choose c in 1..w\n}\n")
    for engine in ("explicit", "bmc", "kind"):
        rep = check_spec(dyn, CheckOptions(engine=engine, depth=4))
        r = next(x.result for x in rep.rows if x.result.prop == "overflow")
        assert r.status is Status.VIOLATED and r.depth == 1, (engine, r.verdict_text())
