"""A procedure called after its caller's `return` does not run: its asserts cannot fire."""

from __future__ import annotations

from pathlib import Path

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.verdict.results import Status

SPEC = """
spec retguard "callee after an early return"
property p "the callee ran"
var x: 0..3 = 0
var got: bool = true
proc inner() { assert false as p, "inner ran" }
proc outer() -> bool {
  if x == 0 {
    return false
  }
  inner()
  return true
}
actor a {
  s: got = outer()
}
reachable returned_false: !got
"""


def test_callee_after_return_does_not_run(tmp_path: Path) -> None:
    # before the fix the callee's frame started with returned = false and ignored the caller's,
    # so `inner`'s assert fired although `outer` had returned
    p = tmp_path / "retguard.drv"
    p.write_text(SPEC)
    rows = {r.result.prop: r.result for r in check_spec(p, CheckOptions()).rows}
    assert rows["p"].status is Status.PROVEN
    assert rows["returned_false"].status is Status.REACHABLE
