"""Comparisons of two constants are folded while encoding, and folded to the right value."""

from __future__ import annotations

from pathlib import Path

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.verdict.results import Status

SPEC = """
spec fold "constant comparisons"
enum Dev { d0, d1, d2 }
const M = d1
var hit: 0..3 = 0
var neg: bool = false
proc route(d: Dev) -> 0..3 {
  if d == d0 { return 1 }
  if d == d2 { return 3 }
  return 2
}
actor t {
  s: hit = route(M)
     neg = (0 - 1) == -1 && !(d0 == d2) && d1 != d0
}
reachable routed_to_d1: hit == 2 && neg
invariant never_other_route: hit == 0 || hit == 2
"""


def test_constant_comparisons_fold_to_the_right_value(tmp_path: Path) -> None:
    p = tmp_path / "fold.drv"
    p.write_text(SPEC)
    rows = {r.result.prop: r.result for r in check_spec(p, CheckOptions()).rows}
    assert rows["routed_to_d1"].status is Status.REACHABLE
    assert rows["never_other_route"].status is Status.PROVEN
