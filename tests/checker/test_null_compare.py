"""Comparing a handle with a bare `null` (==, !=, `in {null, ...}`) uses the handle's null value."""

from __future__ import annotations

from pathlib import Path

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.verdict.results import Status

SPEC = """
spec nullcmp "typed null in comparisons"
enum Gid { a1, a2 }
var h: Gid? = null
var k: Gid? = a1
var ok: bool = false
actor t {
  s: ok = h == null && null == h && k != null && !(k == null) && h in {null, a2}
         && !(k in {null, a2})
}
reachable all_hold: ok
"""


def test_handle_equals_bare_null(tmp_path: Path) -> None:
    # before the fix a bare null was encoded as member 0's value, so `h == null` was false for
    # a null h (and true for h == a1): every comparison above came out wrong
    p = tmp_path / "nullcmp.drv"
    p.write_text(SPEC)
    rows = {r.result.prop: r.result for r in check_spec(p, CheckOptions()).rows}
    assert rows["all_hold"].status is Status.REACHABLE
