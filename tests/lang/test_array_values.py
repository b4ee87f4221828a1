"""Arrays given element by element: `[key: value, ...]`.

The value takes its type from where it goes (an initial value, an assignment's right side) and
elaborates to one IR node with every element in index order (the ones not given: the element
type's default), so each engine and export sees a complete array; tests/ir_coverage/
array_values.drv holds the semantics every engine, SPIN and TLC agree on. Here: the IR it gives,
the printed forms, and each misuse.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drvmc.checker.errors import SpecError
from drvmc.checker.ir import nodes as I
from drvmc.checker.ir.show import model as show
from drvmc.checker.lang import pretty
from drvmc.checker.lang.parser import parse_text
from tests.helpers import model_of

HEAD = """
enum Dev { a, b, c }
"""


def _error(tmp_path: Path, body: str) -> tuple[str, int, int, str]:
    with pytest.raises(SpecError) as ei:
        model_of(tmp_path, HEAD + body)
    d = ei.value.diagnostics[0]
    return d.code, d.span.line, d.span.col, d.message


def _items(e: I.Expr) -> list[object]:
    assert isinstance(e, I.ArrayLit)
    return [x.value if isinstance(x, I.Lit) else _items(x) for x in e.items]


def test_the_elements_not_given_take_the_default(tmp_path: Path) -> None:
    m = model_of(tmp_path, HEAD + """
var parent: Dev?[Dev] = [c: a]
var level: 1..3[0..2] = [2: 3, 0: 2]
var links: bool[Dev][Dev] = [b: [c: true]]
actor t { s: skip }
""")
    # enum members by position; null where nothing is given; a range's low end
    assert _items(m.var("parent").init) == [None, None, 0]
    assert _items(m.var("level").init) == [2, 1, 3]
    links = m.var("links").init
    assert isinstance(links, I.ArrayLit)
    assert isinstance(links.items[0], I.ArrayFill) and _items(links.items[1]) == [False, False,
                                                                                 True]


def test_a_nested_array_may_be_filled_with_one_value(tmp_path: Path) -> None:
    m = model_of(tmp_path, HEAD + "var links: bool[Dev][Dev] = [a: true]\nactor t { s: skip }")
    row = m.var("links").init
    assert isinstance(row, I.ArrayLit) and isinstance(row.items[0], I.ArrayFill)
    assert row.items[0].value == I.Lit(True, I.BOOL, row.items[0].value.span)


def test_assigned_it_writes_every_element(tmp_path: Path) -> None:
    m = model_of(tmp_path, HEAD + """
var on: bool[Dev] = true
actor t { s: on = [b: true] }
""")
    text = show(m)
    assert "on = [a: false, b: true, c: false]" in text


def test_printed_as_written(tmp_path: Path) -> None:
    src = ("spec s\nenum Dev { a, b }\nvar on: bool[Dev] = [b: true, a: false]\n"
           "actor t { s: skip }\n")
    assert "var on: bool[Dev] = [b: true, a: false]" in pretty.spec(parse_text(src, "s.drv"))


@pytest.mark.parametrize(("body", "code", "line", "col", "says"), [
    # a key of another type, or outside the index
    ("var on: bool[Dev] = [1: true]\nactor t { s: skip }", "E110", 3, 22, "constant Dev"),
    ("var lv: 0..3[0..2] = [3: 1]\nactor t { s: skip }", "E110", 3, 23, "constant 0..2"),
    # a key that is not a constant
    ("var k: Dev = a\nvar on: bool[Dev] = [k: true]\nactor t { s: skip }", "E115", 4, 22,
     "constant is needed"),
    # given twice
    ("var on: bool[Dev] = [a: true, a: false]\nactor t { s: skip }", "E101", 3, 31,
     "given twice"),
    # an element of the wrong type
    ("var on: bool[Dev] = [a: 2]\nactor t { s: skip }", "E110", 3, 25, ""),
    # for something that is not an array
    ("var n: 0..2 = [a: 1]\nactor t { s: skip }", "E110", 3, 15, "given for a 0..2"),
    # where no type says what it is
    ("var on: bool[Dev] = false\nactor t { s: assert [a: true] == on }", "E110", 4, 21,
     "takes its type from where it goes"),
])
def test_misuse(tmp_path: Path, body: str, code: str, line: int, col: int, says: str) -> None:
    got = _error(tmp_path, body)
    assert got[:3] == (code, line, col) and says in got[3], got
