"""An array initialised with one element value: every element, every dimension, coerced."""

from __future__ import annotations

from pathlib import Path

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.verdict.results import Status

SPEC = """
spec fill "array fills"
enum Dev { a, b }
var h: Dev?[Dev] = null
var link: bool[Dev][Dev] = false
var n: 0..3[Dev] = 1
var y: Dev = a
actor t {
  s: assert !link[a][b] && !link[b][a] && n[b] == 1, "fill"
     y = h[b]
}
"""


def test_null_filled_array_is_null(tmp_path: Path) -> None:
    # before the fix, `= null` filled the array with the first member (a): no NULL dereference
    p = tmp_path / "fill.drv"
    p.write_text(SPEC)
    rows = {r.result.prop: r.result for r in check_spec(p, CheckOptions()).rows}
    assert rows["null_deref"].status is Status.VIOLATED
    assert rows["null_deref"].depth == 1
    # the nested bool fill and the int fill hold the given values
    assert rows["assertion"].status is Status.PROVEN
