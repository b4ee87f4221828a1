"""`func`: side-effect-free functions called inside expressions (properties included).

A func's body is evaluated symbolically at elaboration into one IR expression, so no engine or
export needs to know about funcs; tests/ir_coverage/funcs.drv holds the semantics every engine,
SPIN and TLC must agree on. Here: the misuses, each with its code and the place it points at,
and the shape of what elaboration makes of a call.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drvmc.checker.errors import SpecError
from drvmc.checker.ir import nodes as I
from drvmc.checker.ir import show
from tests.helpers import model_of

HEAD = """
enum Obj { o1, o2 }
var alive: bool[Obj] = true
var k: 0..3 = 0
"""
ACTOR = "\nactor a { s: k = 0 }\n"


def _errors(tmp_path: Path, body: str) -> list[tuple[str, int, int]]:
    with pytest.raises(SpecError) as ei:
        model_of(tmp_path, HEAD + body + ACTOR)
    return [(d.code, d.span.line, d.span.col) for d in ei.value.diagnostics]


@pytest.mark.parametrize(("body", "code", "line", "col"), [
    # writing state is a side effect
    ("func f(x: Obj) -> bool {\n  alive[x] = false\n  return true\n}", "E117", 6, 3),
    # blocking, choosing, asserting, calling a proc: not deterministic or not pure
    ("func f() -> bool {\n  await k > 0\n  return true\n}", "E117", 6, 3),
    ("func f() -> 0..3 {\n  choose k in 0..3\n  return k\n}", "E117", 6, 3),
    ("func f() -> bool {\n  var b: bool = any\n  return b\n}", "E117", 6, 3),
    ("func f() -> bool {\n  assert k == 0\n  return true\n}", "E117", 6, 3),
    # a path without return
    ("func f() -> bool {\n  if k > 0 { return true }\n}", "E127", 5, 1),
    ("func f() -> bool {\n  return\n}", "E117", 6, 3),
    # recursion that does not end on constants
    ("func f(n: 0..3) -> 0..3 {\n  if n == 0 { return 0 }\n  return f(n - 1)\n}\n"
     "invariant i: f(k) == 0", "E130", 7, 10),
])
def test_misuse_is_an_error_at_its_place(tmp_path: Path, body: str, code: str, line: int,
                                         col: int) -> None:
    assert (code, line, col) in _errors(tmp_path, body)


def test_a_func_called_as_a_statement_is_an_unused_value(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as ei:
        model_of(tmp_path, HEAD + "func f() -> bool { return true }\nactor a { s: f() }\n")
    (d,) = ei.value.diagnostics
    assert d.code == "E114" and "its value is unused" in d.message


def test_a_proc_in_an_expression_suggests_func(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as ei:
        model_of(tmp_path, HEAD + "proc g() -> bool { return true }\ninvariant i: g()" + ACTOR)
    (d,) = ei.value.diagnostics
    assert d.code == "E114" and "func g(...)" in d.message


def test_a_call_becomes_one_expression_with_the_paths_that_return(tmp_path: Path) -> None:
    m = model_of(tmp_path, HEAD + """
func first_dead() -> Obj? {
  for o in Obj {
    if !alive[o] { return o }
  }
  return null
}
invariant i: first_dead() == null
""" + ACTOR)
    (inv,) = [p for p in m.properties if p.name == "i"]
    assert inv.expr is not None
    # returns in order, each on its path; the last needs no test (every path returns)
    assert show.expr(inv.expr) == ("ite(!alive[o1], o1, ite(!alive[o2] && alive[o1], o2, null))"
                                   " == null")
    assert not any(isinstance(p, I.Proc) and p.name == "first_dead" for p in m.procs)


def test_recursion_on_constants_unfolds(tmp_path: Path) -> None:
    m = model_of(tmp_path, HEAD + """
func fact(n: 0..4) -> 1..24 {
  if n <= 1 { return 1 }
  return n * fact(n - 1)
}
const F = fact(4)
invariant i: k < F
""" + ACTOR)
    (inv,) = [p for p in m.properties if p.name == "i"]
    assert inv.expr is not None and show.expr(inv.expr) == "k < 24"
