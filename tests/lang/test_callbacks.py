"""Callbacks: `proc(T, ...) [-> R]` values, stored and called through.

A callback type is elaborated to an enum of the procedures of that signature that the spec
writes as values, and a call through one to a test of each member (a null one is a null
dereference), so no engine or export needs to know about them; tests/ir_coverage/callbacks.drv
holds the semantics every engine, SPIN and TLC agree on. Here: the types, and each misuse.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drvmc.checker.errors import SpecError
from drvmc.checker.ir import nodes as I
from drvmc.checker.lang import pretty
from drvmc.checker.lang.parser import parse_text
from tests.helpers import model_of

HEAD = """
enum Res { r1, r2 }
var live: bool[Res] = false
proc unmap(r: Res) { live[r] = false }
proc kfree(r: Res) { live[r] = false }
proc probe_ok(r: Res) -> bool { return true }
"""


def _error(tmp_path: Path, body: str) -> tuple[str, int, int, str]:
    with pytest.raises(SpecError) as ei:
        model_of(tmp_path, HEAD + body)
    d = ei.value.diagnostics[0]
    return d.code, d.span.line, d.span.col, d.message


def test_a_callback_type_holds_the_procedures_used_as_values(tmp_path: Path) -> None:
    m = model_of(tmp_path, HEAD + """
var act: proc(Res)? = null
var check: proc(Res) -> bool = probe_ok
actor a { s: act = kfree
             act(r1)
          t: act = unmap }
""")
    act, check = m.var("act").type, m.var("check").type
    # probe_ok has another signature; nothing writes a proc(Res) -> bool but probe_ok
    assert act == I.EnumType("proc(Res)", ("kfree", "unmap"), nullable=True)
    assert check == I.EnumType("proc(Res) -> bool", ("probe_ok",))


@pytest.mark.parametrize(("body", "code", "line", "col", "says"), [
    # a variable of another type is not callable
    ("var k: 0..3 = 0\nactor a { s: k(r1) }", "E114", 8, 14, "cannot be called"),
    # a non-null callback type nobody can fill
    ("var cb: proc(Res, Res) = null\nactor a { s: skip }", "E104", 7, 9, "declare it"),
    # another signature
    ("var cb: proc(Res)? = probe_ok\nactor a { s: skip }", "E110", 7, 22, ""),
])
def test_misuse(tmp_path: Path, body: str, code: str, line: int, col: int, says: str) -> None:
    got = _error(tmp_path, body)
    assert got[:3] == (code, line, col) and says in got[3], got


def test_recursion_through_a_callback_is_unrolled(tmp_path: Path) -> None:
    m = model_of(tmp_path, HEAD + """const RECURSION_DEPTH = 2
var cb: proc(Res)? = null
proc again(r: Res) { cb(r) }
actor a { s: cb = again
          t: cb(r1) }
""")
    # the actor's call is depth 0; again calls itself through cb at 1 and 2; a third is cut
    assert [p.name for p in m.procs if p.name.startswith("again")] == ["again", "again@1",
                                                                       "again@2"]
    (cut,) = [s for s in m.sites if "recursion deeper than 2" in s.message]
    assert cut.prop == I.Builtin.CAPACITY.value


def test_recursion_through_labelled_procedures_is_unrolled(tmp_path: Path) -> None:
    m = model_of(tmp_path, HEAD + """const RECURSION_DEPTH = 2
var cb: proc(Res)? = null
proc again(r: Res) {
  l: cb(r)
}
actor a { s: cb = again
          t: again(r1) }
""")
    # inlined at each call site: the actor's call, then two nested ones through cb; a fourth
    # is cut (capacity), with its own steps never made
    steps = [s.label for a in m.actors for s in a.steps]
    assert steps == ["s", "t", "again.l", "again#2.l", "again#3.l"], steps
    (cut,) = [s for s in m.sites if "recursion deeper than 2" in s.message]
    assert cut.prop == I.Builtin.CAPACITY.value


@pytest.mark.parametrize("text", ["var a: proc(Res)? = null", "var a: proc(Res, Dev) -> bool",
                                  "var a: list<proc(Res), 2> = []", "var a: proc()",
                                  "var a: (proc(Res) -> bool)? = null"])
def test_callback_types_print_back(text: str) -> None:
    spec = parse_text(text + "\n", "t.drv")
    assert pretty.spec(spec).strip() == text


def test_a_call_through_a_typed_callback_reaches_only_its_type(tmp_path: Path) -> None:
    # put_it calls through a proc(Res); again, a proc(Res) -> bool, calls put_it: no circle,
    # since no proc(Res) reaches again (before, every procedure used as a value was a callee)
    src = HEAD + """record Ops { put: proc(Res)? }
var ops: Ops[Res] = [r1: Ops(put = kfree)]
var check: proc(Res) -> bool = again
proc put_it(r: Res) {
  var f: proc(Res)? = ops[r].put
  if f != null {
    f(r)
  }
}
proc again(r: Res) -> bool {
  put_it(r)
  return true
}
actor a { s: var ok: bool = check(r1) }
"""
    m = model_of(tmp_path, src)
    assert not [p.name for p in m.procs if "@" in p.name]
    # through ops[r].put directly: the same
    m = model_of(tmp_path, src.replace("var f: proc(Res)? = ops[r].put\n  if f != null {\n"
                                       "    f(r)\n  }", "ops[r].put(r)"))
    assert not [p.name for p in m.procs if "@" in p.name]
    # where the declarations do not say the callee's type (a local declared in two blocks),
    # every procedure used as a value is a possible callee: the circle is unrolled
    m2 = model_of(tmp_path, src.replace(
        "  var f: proc(Res)? = ops[r].put\n  if f != null {\n    f(r)\n  }",
        "  if r == r1 {\n    var f: proc(Res)? = ops[r].put\n    f(r)\n  } else {\n"
        "    var f: proc(Res)? = null\n  }"))
    assert [p.name for p in m2.procs if p.name.startswith("put_it")] == [
        "put_it", "put_it@1", "put_it@2", "put_it@3", "put_it@4"]
