"""`&&`, `||`, `=>` and ite() evaluate their right side only where it matters (C's short circuit):
a NULL or out-of-range index guarded by the left side is not a violation."""

from __future__ import annotations

from pathlib import Path

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.verdict.results import Status

SPEC = """
spec shortcircuit "guarded dereferences"
enum Gid { a1, a2 }
var owner: Gid?[Gid] = null
var h: Gid? = null
var i: 0..3 = 3
var arr: bool[0..2] = false
var ok: bool = false
actor t {
  s: ok = (h != null && owner[h] == a1) || (h == null || owner[h] == a2)
     ok = ok && (i > 2 || arr[i]) && (h != null => owner[h] == null)
     ok = ok && ite(i < 3, arr[i], true)
}
actor u {
  bad: h = a1
       ok = owner[h] == null && h != null
}
reachable all_true: ok
"""

UNGUARDED = """
spec unguarded "an unguarded dereference is still caught"
enum Gid { a1, a2 }
var owner: Gid?[Gid] = null
var h: Gid? = null
var ok: bool = false
actor t {
  s: ok = h == null || owner[h] == a1
     ok = owner[h] == a1 && h != null
}
"""


def test_guarded_index_is_no_violation(tmp_path: Path) -> None:
    p = tmp_path / "sc.drv"
    p.write_text(SPEC)
    rows = {r.result.prop: r.result for r in check_spec(p, CheckOptions()).rows}
    assert rows["null_deref"].status is Status.PROVEN
    assert rows["out_of_bounds"].status is Status.PROVEN
    assert rows["all_true"].status is Status.REACHABLE


def test_unguarded_index_is_still_a_violation(tmp_path: Path) -> None:
    p = tmp_path / "ug.drv"
    p.write_text(UNGUARDED)
    rows = {r.result.prop: r.result for r in check_spec(p, CheckOptions()).rows}
    assert rows["null_deref"].status is Status.VIOLATED
    assert rows["null_deref"].depth == 1
