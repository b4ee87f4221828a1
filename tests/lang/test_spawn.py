"""Pool actors and `spawn`: the instances, the dormant flag every engine reads, the misuses.

The semantics (dormant instances are finished, so they neither deadlock nor block `final`; a
finished instance can be spawned again; a full pool is `capacity`, a model limit) are in
tests/ir_coverage/spawn.drv, where every engine, SPIN and TLC agree with hand-derived verdicts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drvmc.checker.errors import SpecError
from drvmc.checker.ir import nodes as I
from drvmc.checker.ir import show
from drvmc.checker.lang import pretty
from drvmc.checker.lang.parser import parse_text
from tests.helpers import model_of

HEAD = """
enum Dev { d1, d2 }
var ran: bool[Dev] = false
actor work(dev: Dev) pool 2 {
  w: ran[dev] = true
}
"""


def test_a_pool_is_dormant_instances_that_return_to_their_first_step(tmp_path: Path) -> None:
    m = model_of(tmp_path, HEAD + "actor probe { p: spawn work(d2) }\n")
    w1, w2, probe = m.actors
    assert (w1.name, w2.name, w1.index, w2.index) == ("work[1]", "work[2]", 1, 2)
    assert w1.dormant is not None and show.expr(w1.dormant) == "!work[1].$busy"
    assert probe.dormant is None
    # waits to be spawned, runs, frees itself and goes back
    assert [ln.strip() for ln in show.stmts(w1.steps[0].body, 0)] == [
        "await work[1].$busy", "ran[work[1].dev] = true", "work[1].$busy = false", "goto w"]
    # the first free instance takes the arguments; none free: the capacity check fails
    text = "\n".join(show.stmts(probe.steps[0].body, 0))
    assert "if !work[1].$busy {\n  work[1].dev = d2\n  work[1].$busy = true\n}" in text
    assert "assert false !" in text
    (site,) = [s for s in m.sites if s.prop == I.Builtin.CAPACITY.value]
    assert "pool of work full (2)" in site.message and not site.fatal


@pytest.mark.parametrize(("body", "code", "says"), [
    ("actor probe { p: spawn probe() }", "E114", "not a pool actor"),
    ("actor probe { p: spawn nobody() }", "E114", "no actor"),
    ("actor probe { p: spawn work(d1, d2) }", "E111", "takes 1 argument"),
    ("actor w0(x: Dev) pool 0 { s: skip }\nactor probe { p: skip }", "E150", "pool size"),
])
def test_misuse(tmp_path: Path, body: str, code: str, says: str) -> None:
    with pytest.raises(SpecError) as ei:
        model_of(tmp_path, HEAD + body + "\n")
    d = ei.value.diagnostics[0]
    assert d.code == code and says in d.message, d


def test_pools_and_spawn_print_back() -> None:
    text = "actor work(dev: Dev, n: 0..3) pool 2 {\n w:\n  spawn work(d1, 2)\n}"
    assert pretty.spec(parse_text(text + "\n", "t.drv")).strip() == text
