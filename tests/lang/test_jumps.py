"""`break` and `continue`: in `for` loops (one step: flags skip the rest) and in `while` loops
(across steps: lowering jumps). Semantics every engine agrees on: tests/ir_coverage/jumps.drv."""

from __future__ import annotations

from pathlib import Path

import pytest

from drvmc.checker.errors import SpecError
from drvmc.checker.ir import nodes as I
from drvmc.checker.ir import show
from drvmc.checker.verdict.results import Result, Status, matches
from tests.helpers import model_of


@pytest.mark.parametrize("word", ["break", "continue"])
def test_outside_a_loop(tmp_path: Path, word: str) -> None:
    with pytest.raises(SpecError) as ei:
        model_of(tmp_path, f"var x: bool = false\nactor a {{ s: if x {{ {word} }} }}\n")
    (d,) = ei.value.diagnostics
    assert (d.code, d.span.line, d.span.col) == ("E128", 2, 21)


def test_a_for_break_skips_the_rest_of_the_loop(tmp_path: Path) -> None:
    m = model_of(tmp_path, """enum O { o1, o2 }
var hit: O? = null
actor a { s: for o in O {
    hit = o
    break
  }
}
""")
    assert [ln.strip() for ln in show.stmts(m.actors[0].steps[0].body, 0)] == [
        "var $$break1: bool = false", "var $$continue1: bool = false", "for $o in {o1, o2} {",
        "$$continue1 = false", "if !$$break1 {", "hit = ($o as O?)", "$$break1 = true", "}", "}",
        "goto done"]


def test_while_jumps_leave_no_trace_in_the_ir(tmp_path: Path) -> None:
    m = model_of(tmp_path, """var n: 0..3 = 0
actor a { s: while n < 3 {
    t: n = n + 1
       if n == 2 { break }
  }
}
""")
    steps = {st.label: st for st in m.actors[0].steps}
    # t: after the increment, either leave (n == 2) or test the loop condition again
    assert [ln.strip() for ln in show.stmts(steps["t"].body, 0)] == [
        "n = (n + 1 as 0..3)!1", "if n == 2 {", "goto done", "} else {", "if n < 3 {",
        "goto t", "} else {", "goto done", "}", "}"]


def test_a_reachable_expectation_checks_its_length() -> None:
    r = Result("t", I.PropKind.REACHABLE, Status.REACHABLE, 5, "explicit")
    assert matches(r, I.Expect("t", I.Verdict.REACHABLE, 5))
    assert not matches(r, I.Expect("t", I.Verdict.REACHABLE, 4))
    assert matches(r, I.Expect("t", I.Verdict.REACHABLE, None))
