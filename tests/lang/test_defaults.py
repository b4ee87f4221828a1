"""Library defaults, `variant ... extends ...`, and procedure calls as initial and returned values.

A library file's constants, enums, records, variables, procedures and funcs are defaults: the
spec file may declare the same kind of thing under the same name, and its declaration is the one
every file sees. A variant may extend another variant, whose declarations apply first.
`var x: T = p(..)` and `return p(..)` call a procedure (or a callback) where an expression is
expected in the grammar; they elaborate to the call assigning a local, so no engine sees
anything new (tests/ir_coverage/defaults.drv holds the semantics every engine, SPIN and TLC agree
on). Here: what wins, what is refused, and where the error points.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drvmc.checker.errors import SpecError
from drvmc.checker.ir import nodes as I
from drvmc.checker.ir.elaborate import elaborate
from drvmc.checker.lang import pretty
from drvmc.checker.lang.loader import load_program
from drvmc.checker.lang.parser import parse_text
from tests.helpers import check, model_of

LIB = """\
const CAP = 2
default enum Res { res_unused }
record Box { n: 0..CAP }
var boxes: Box[Res] = Box(n = 0)
default proc on_release(r: Res) { skip }
default func weight(r: Res) -> 0..3 { return 1 }
proc release(r: Res) {
  boxes[r].n = weight(r)
  on_release(r)
}
"""


def _program(tmp_path: Path, main: str, lib: str = LIB) -> Path:
    (tmp_path / "mylib.drv").write_text(lib)
    p = tmp_path / "main.drv"
    p.write_text(main)
    return p


def _model(tmp_path: Path, main: str, lib: str = LIB, variant: str = "original") -> I.Model:
    return elaborate(load_program(_program(tmp_path, main, lib)), variant)


def _error(tmp_path: Path, main: str, lib: str = LIB) -> tuple[str, str, int, int, str]:
    with pytest.raises(SpecError) as ei:
        _model(tmp_path, main, lib)
    d = ei.value.diagnostics[0]
    return d.code, Path(d.span.file).name, d.span.line, d.span.col, d.message


def test_the_library_defaults_serve_a_spec_that_declares_nothing(tmp_path: Path) -> None:
    m = _model(tmp_path, "use mylib\nactor a { s: release(res_unused) }\n")
    assert m.var("boxes").type == I.ArrayType(
        I.EnumType("Res", ("res_unused",)), I.RecordType("Box", (("n", I.IntType(0, 2)),)))


def test_the_spec_files_declarations_replace_the_librarys(tmp_path: Path) -> None:
    m = _model(tmp_path, """use mylib
const CAP = 5
enum Res { iomap, irq }
var freed: bool = false
proc on_release(r: Res) { freed = true }
func weight(r: Res) -> 0..3 { return 3 }
actor a { s: release(irq) }
final released: freed && boxes[irq].n == 3
""")
    # the library's own code sees the spec's enum, constant, procedure and func
    assert m.var("boxes").type == I.ArrayType(
        I.EnumType("Res", ("iomap", "irq")), I.RecordType("Box", (("n", I.IntType(0, 5)),)))
    results = check(tmp_path, (tmp_path / "main.drv").read_text())
    assert results["released"].status.name == "PROVEN"


def test_a_replaced_procedure_keeps_the_librarys_signature(tmp_path: Path) -> None:
    got = _error(tmp_path, "use mylib\nproc on_release(r: Res, again: bool) { skip }\n"
                 "actor a { s: skip }\n")
    assert got[:4] == ("E141", "main.drv", 2, 1), got
    assert "mylib.drv:5:1" in got[4] and "(r: Res)" in got[4], got
    got = _error(tmp_path, "use mylib\nfunc weight(r: Res) -> bool { return true }\n"
                 "actor a { s: skip }\n")
    assert got[:4] == ("E141", "main.drv", 2, 1) and "-> 0..3" in got[4], got


def test_only_what_the_library_declares_default_can_be_replaced(tmp_path: Path) -> None:
    # `release` is the library's own code: a spec declaring one is a name clash, not a patch
    code, file, line, _, msg = _error(tmp_path, "use mylib\nproc release(r: Res) { skip }\n"
                                      "actor a { s: skip }\n")
    assert (code, file, line) == ("E101", "main.drv", 2), msg
    assert "declares it `default`" in msg, msg


def test_a_library_file_replaces_the_default_of_a_file_it_uses(tmp_path: Path) -> None:
    # as probe.drv fills device.drv's deferred-probe hooks
    (tmp_path / "hooks.drv").write_text("use mylib\nvar calls: 0..3 = 0\n"
                                        "proc on_release(r: Res) { calls = calls + 1 }\n")
    p = tmp_path / "main.drv"
    (tmp_path / "mylib.drv").write_text(LIB)
    p.write_text("use hooks\nactor a { s: release(res_unused) }\nfinal once: calls == 1\n")
    results = check(tmp_path, p.read_text())
    assert results["once"].status.name == "PROVEN", results["once"]


@pytest.mark.parametrize(("main", "lib2", "where"), [
    # the same name as another kind of declaration is no replacement
    ("use mylib\nvar on_release: bool = false\nactor a { s: skip }\n", None, ("main.drv", 2)),
    # two library files declaring one name: neither is the spec's, so which would win?
    ("use mylib\nuse other\nactor a { s: skip }\n", "const CAP = 3\n", ("other.drv", 1)),
    # twice in the spec file itself
    ("use mylib\nconst CAP = 3\nconst CAP = 4\nactor a { s: skip }\n", None, ("main.drv", 3)),
])
def test_what_is_still_defined_twice(tmp_path: Path, main: str, lib2: str | None,
                                     where: tuple[str, int]) -> None:
    if lib2 is not None:
        (tmp_path / "other.drv").write_text(lib2)
    code, file, line, _, msg = _error(tmp_path, main)
    assert (code, file, line) == ("E101", *where), msg


def test_a_variant_extends_another(tmp_path: Path) -> None:
    src = """const A = 1
const B = 1
var x: 0..20 = 0
proc step() { x = A + B }
actor a { s: step() }
variant va "A is 2" { const A = 2 }
variant vb extends va "and B is 3" { const B = 3 }
variant vc extends vb "and the step doubles" { proc step() { x = 2 * (A + B) } }
variant vd extends original "B is 5" { const B = 5 }
""" + "".join(f"reachable x{n}: x == {n}\n" for n in (2, 3, 5, 6, 10))
    want = {"original": 2, "va": 3, "vb": 5, "vc": 10, "vd": 6}
    for v, n in want.items():
        reached = {p for p, r in check(tmp_path, src, v).items() if r.status.name == "REACHABLE"}
        assert reached == {f"x{n}"}, (v, reached)


@pytest.mark.parametrize(("variants", "line", "says"), [
    ('variant va extends nowhere "x" { }\nexpect va: PROVEN\n', 3, "unknown variant 'nowhere'"),
    ('variant va extends vb "x" { }\nvariant vb extends va "y" { }\nexpect va: PROVEN\n', 4,
     "itself"),
])
def test_a_variant_extends_what_exists_without_a_circle(tmp_path: Path, variants: str, line: int,
                                                        says: str) -> None:
    src = "var x: bool = false\nactor a { s: x = true }\n" + variants
    with pytest.raises(SpecError) as ei:
        model_of(tmp_path, src, "va")
    d = ei.value.diagnostics[0]
    assert (d.code, d.span.line) == ("E148", line) and says in d.message, d


def test_extends_prints_back() -> None:
    text = 'variant vb extends va "more" {\n  const B = 3\n}'
    assert pretty.spec(parse_text(text + "\n", "t.drv")).strip() == text


def _actor(m: I.Model, name: str) -> I.Actor:
    (a,) = [a for a in m.actors if a.name == name]
    return a


CALLS = """enum Res { r1, r2 }
var live: bool[Res] = true
var seen: 0..3 = 0
proc take(r: Res) -> bool {
  var was: bool = live[r]
  live[r] = false
  return was
}
proc take_twice(r: Res) -> bool {
  var first: bool = take(r)
  return take(r)
}
proc slow_take(r: Res) -> bool {
  l1: seen = seen + 1
  l2: return take(r)
}
"""
VIA = "proc via(cb: proc(Res) -> bool, r: Res) -> bool { return cb(r) }\n"


def test_calls_as_initial_and_returned_values(tmp_path: Path) -> None:
    src = CALLS + VIA + """actor a {
  s: var got: bool = take_twice(r1)
     assert !got, "the second take finds r1 taken"
  t: var slow: bool = slow_take(r2)
     var again: bool = via(take, r2)
     assert slow && !again
}
"""
    m = model_of(tmp_path, src)
    # slow_take has labels: it is inlined (its steps are the actor's), `got` is actor state
    assert [s.label for s in _actor(m, "a").steps] == ["s", "t", "slow_take.l1", "slow_take.l2"]
    assert m.var("a.got").type == I.BOOL
    results = check(tmp_path, src)
    assert results["assertion"].status.name == "PROVEN", results["assertion"]


def test_a_labelled_procedure_reached_through_return_makes_its_caller_labelled(
        tmp_path: Path) -> None:
    src = CALLS + "proc outer(r: Res) -> bool { return slow_take(r) }\n" \
        "actor a { s: var x: bool = outer(r1) }\n"
    m = model_of(tmp_path, src)
    assert [s.label for s in _actor(m, "a").steps] == ["s", "slow_take.l1",
                                                     "slow_take.l2"]


@pytest.mark.parametrize(("body", "col", "says"), [
    ("proc none(r: Res) { skip }\nproc f(r: Res) -> bool { return none(r) }", 33,
     "'none' returns no value"),
    ("proc none(r: Res) { skip }\nactor a { s: var x: bool = none(r1) }", 28,
     "'none' returns no value"),
    ("proc f(r: Res) { return take(r) }", 18, "returns no value"),
])
def test_misuse(tmp_path: Path, body: str, col: int, says: str) -> None:
    with pytest.raises(SpecError) as ei:
        model_of(tmp_path, CALLS + body + "\nactor z { s: skip }\n")
    d = ei.value.diagnostics[0]
    assert (d.code, d.span.col) == ("E110", col) and says in d.message, d
