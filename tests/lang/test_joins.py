"""Join points in lowering (checker/ir/lower.py): code that several paths of one step reach is
lowered once, behind a flag, instead of copied into each path. Semantics every engine, SPIN and
TLC agree on: tests/ir_coverage/joins.drv."""

from __future__ import annotations

from pathlib import Path

from drvmc.checker.ir import nodes as I
from drvmc.checker.ir import show
from tests.helpers import model_of

ROOT = Path(__file__).resolve().parents[2]

# a labelled procedure around a circle, with returns on both sides of the recursive call: each
# level's returns and end reach the caller's code after the call
CIRCLE = """enum Dev {{ a, b }}
const RECURSION_DEPTH = {depth}
var n: 0..7 = 0
var seen: bool[Dev] = false
proc del(d: Dev) {{
  lock: if seen[d] {{
          return
        }}
        seen[d] = true
        if n < 7 {{
          n = n + 1
        }}
        either {{
          del(d)
        }} or {{
          skip
        }}
        if n == 3 {{
          return
        }}
        seen[d] = false
}}
actor t {{
  s: del(a)
     n = 0
     seen[b] = true
}}
"""


def _size(body: tuple[I.Stmt, ...]) -> int:
    return len(show.stmts(body, 0))


def _actor_size(m: I.Model) -> int:
    return sum(_size(s.body) for a in m.actors for s in a.steps)


def test_a_labelled_circle_grows_with_its_depth_not_exponentially(tmp_path: Path) -> None:
    # copying the code after each return into each path doubled it per level (E122 past 20,000
    # statements a step); with joins each level adds about the same
    sizes = {d: _actor_size(model_of(tmp_path, CIRCLE.format(depth=d))) for d in (2, 4, 8)}
    assert sizes[8] < 3 * sizes[4] < 9 * sizes[2], sizes


def test_code_reached_from_returns_and_the_end_of_a_body_is_lowered_once(tmp_path: Path) -> None:
    m = model_of(tmp_path, (ROOT / "tests/ir_coverage/joins.drv").read_text())
    (t,) = [a for a in m.actors if a.name == "t"]
    steps = {s.label: show.stmts(s.body, 0) for s in t.steps}
    for label in ("s", "pick.b", "pick#2.b", "pick.c", "pick#2.c"):
        assert sum("after = " in ln for ln in steps[label]) == 1, (label, steps[label])
    # pick.b: the return and the end of the body both reach it: one flag, set on both paths
    flag = [ln.strip() for ln in steps["pick.b"] if ln.strip().startswith("var ")]
    assert len(flag) == 1 and "join" in flag[0] and flag[0].endswith(": bool = false"), flag
    name = flag[0].split()[1].rstrip(":")
    assert sum(ln.strip() == f"{name} = true" for ln in steps["pick.b"]) == 2
    assert sum(ln.strip() == f"if {name} {{" for ln in steps["pick.b"]) == 1
    # pick.c: one path only: the code in its place, no flag
    assert not any("join" in ln for ln in steps["pick.c"])


def test_short_code_after_a_branch_is_copied_not_flagged(tmp_path: Path) -> None:
    m = model_of(tmp_path, """var c: bool = false
var x: 0..3 = 0
proc lp() {
  l: x = 1
}
actor a {
  s: if c {
       lp()
     }
     x = 2
}
""")
    for st in m.actors[0].steps:
        assert not any("join" in ln for ln in show.stmts(st.body, 0)), st.label
