"""Inlined labelled procedures: their state is shared by the call sites of one nesting depth, a
constant argument is a constant in the body, and a `for` over labelled calls is unrolled, each
copy elaborated with the loop variable a constant. Semantics every engine agrees on: the
generated specs of tests/test_differential.py and tests/ir_coverage/labelled_recursion.drv."""

from __future__ import annotations

from pathlib import Path

import pytest

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.errors import SpecError
from tests.helpers import model_of


def test_call_sites_share_state_unless_nested(tmp_path: Path) -> None:
    m = model_of(tmp_path, """const RECURSION_DEPTH = 2
var n: 0..3 = 0
proc lp(k: 0..3) {
  l: var seen: 0..3 = k
     if seen == 1 {
       lp(n + 1)
     }
     n = seen
}
actor a {
  s: lp(n)
  t: lp(n)
}
""")
    names = {v.name for v in m.vars}
    # the two call sites in `a` (s and t) are never live at once: one set of variables; the
    # call nested inside the first is live with it: a set of its own
    assert {"a.lp.k", "a.lp.seen", "a.lp@2.k", "a.lp@2.seen"} <= names
    assert not any("#" in n for n in names), sorted(names)
    labels = {st.label for st in m.actors[0].steps}
    assert {"lp.l", "lp#2.l", "lp#3.l"} <= labels  # steps stay one per call site


def test_a_for_over_labelled_calls_is_unrolled(tmp_path: Path) -> None:
    spec = tmp_path / "f.drv"
    spec.write_text("""spec f "for over labelled calls"
enum Dev { a, b }
property order "a first"
var n: 0..4 = 0
var seen: bool[Dev] = false
proc lp(d: Dev) {
  l1: seen[d] = true
  l2: n = n + 1
}
actor t {
  s: for d in Dev {
       if !seen[d] {
         lp(d)
       }
     }
}
actor u {
  r: assert !(seen[b] && !seen[a]) as order, "b before a"
}
final both: seen[a] && seen[b] && n == 2
expect original order, both: PROVEN
""")
    m = model_of(tmp_path, spec.read_text())
    labels = [st.label for st in m.actors[0].steps]
    assert labels == ["s", "lp.l1", "lp#2.l1", "lp.l2", "lp#2.l2"]
    # lp(d) with d a constant in each copy: the parameter is that constant, not state
    assert not any(v.name.startswith("t.lp") for v in m.vars), [v.name for v in m.vars]
    report = check_spec(spec, CheckOptions(engine="explicit"))
    assert all(r.ok for r in report.rows), [(r.result.prop, r.result.verdict_text())
                                            for r in report.rows]


@pytest.mark.parametrize("body", [
    "l: n = 1",                       # a label of its own: copies would repeat it
    "lp()\n       break",             # break next to a labelled call
    "while n < 2 {\n lp()\n }",      # a loop of steps inside
])
def test_a_for_keeps_its_own_labels_and_jumps_out(tmp_path: Path, body: str) -> None:
    with pytest.raises(SpecError) as ei:
        model_of(tmp_path, f"""var n: 0..3 = 0
proc lp() {{
  l1: n = 2
}}
actor t {{
  s: for j in 0..1 {{
       {body}
     }}
}}
""")
    assert [d.code for d in ei.value.diagnostics] == ["E121"]


def test_a_test_on_a_constant_argument_inlines_only_the_code_it_selects(tmp_path: Path) -> None:
    # a dispatcher over devices (as a driver's remove()): called with a constant device, only
    # that device's branch is inlined; the others are dead code and inline nothing
    m = model_of(tmp_path, """enum Dev { a, b }
var n: 0..3 = 0
proc heavy() {
  h1: n = 1
  h2: n = 2
}
proc light() {
  l1: n = 3
}
proc remove(d: Dev) {
  if d == a {
    heavy()
  } else {
    light()
  }
}
actor t {
  s: remove(b)
}
""")
    labels = [st.label for st in m.actors[0].steps]
    assert labels == ["s", "light.l1"]
