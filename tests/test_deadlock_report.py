"""A deadlock names what each blocked actor waits for and who set it, so a lock cycle reads as one.

The engines record every actor that is not done with the step it cannot take (a pool instance
never spawned is not waiting and is left out); the causal slice follows each one's `await`s (its
own and those of the procedures it calls, about the objects they name) to the step that last set
the value, and names the circle when the setters are the waiting actors themselves. The explicit
engine and BMC must name the same waiting actors.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.verdict.results import Status
from drvmc.checker.verdict.trace import Trace
from drvmc.counterexamples.json_trace import trace_from_json, trace_to_json

ABBA = """spec abba "two paths take two mutexes in opposite orders"
use lib/lock
enum Lock { la, lb }
actor one {
  a: mutex_lock(la)
  b: mutex_lock(lb)
  c: mutex_unlock(lb)
     mutex_unlock(la)
}
actor two {
  a: mutex_lock(lb)
  b: mutex_lock(la)
  c: mutex_unlock(la)
     mutex_unlock(lb)
}
expect original deadlock: VIOLATED 2
"""

CANCEL = """spec cancel "remove() holds the driver mutex across cancel_work_sync; the work takes it"
use lib/lock
use lib/workqueue
enum Dev { d }
enum Lock { drv_mutex }
enum Work { poll, spare }
proc poll_fn(w: Work) {
  mutex_lock(drv_mutex)
  mutex_unlock(drv_mutex)
}
actor driver {
  probe:  INIT_WORK(poll, poll_fn)
          queue_work(poll)
  remove: mutex_lock(drv_mutex)
  cancel: cancel_work_sync(poll)
          mutex_unlock(drv_mutex)
}
expect original deadlock: VIOLATED 3
"""

SELF = """spec self "a path takes a mutex it already holds"
use lib/lock
enum Lock { m }
actor one {
  a: mutex_lock(m)
  b: mutex_lock(m)
}
expect original deadlock: VIOLATED 1
"""


def _deadlock(tmp_path: Path, src: str, engine: str) -> Trace:
    p = tmp_path / "s.drv"
    p.write_text(src)
    rep = check_spec(p, CheckOptions(engine=engine, depth=10))
    (r,) = [r.result for r in rep.rows if r.result.prop == "deadlock"]
    assert r.status is Status.VIOLATED and r.trace is not None, r
    return r.trace


@pytest.mark.parametrize("engine", ["explicit", "bmc"])
def test_a_lock_cycle_is_named(tmp_path: Path, engine: str) -> None:
    t = _deadlock(tmp_path, ABBA, engine)
    assert sorted(t.violation.waiting) == [("one", "b"), ("two", "b")]
    assert t.causal is not None
    text = " ".join(t.causal.summary.split())
    first = t.steps[0].actor  # whoever took its first lock first
    other = "two" if first == "one" else "one"
    assert f"{other} waits at b for lock_held[{'lb' if first == 'two' else 'la'}], which " \
        f"became true at step 1 ({first}) by mutex_lock(" in text, text
    assert "A circle: " in text and text.count(" → ") == 2, text
    assert t.causal.reads and {s.index for s in t.causal.steps} == {1, 2}


@pytest.mark.parametrize("engine", ["explicit", "bmc"])
def test_a_wait_for_a_work_item_that_waits_for_the_waiter(tmp_path: Path, engine: str) -> None:
    t = _deadlock(tmp_path, CANCEL, engine)
    # the second worker instance was never spawned: it waits for nothing
    assert sorted(t.violation.waiting) == [("driver", "cancel"), ("work_worker[1]", "run")]
    assert "work_worker[2]" not in t.violation.message
    assert t.causal is not None
    text = " ".join(t.causal.summary.split())
    assert "driver waits at cancel for wq_running[poll], which became true at step 3 " \
        "(work_worker[1])" in text, text
    assert "work_worker[1] waits at run for lock_held[drv_mutex], which became true at " \
        "step 2 (driver) by mutex_lock(drv_mutex)" in text, text
    assert "A circle: " in text, text


def test_a_path_waiting_for_itself(tmp_path: Path) -> None:
    t = _deadlock(tmp_path, SELF, "explicit")
    assert t.causal is not None
    text = " ".join(t.causal.summary.split())
    assert text.startswith("deadlock: one waits at b for lock_held[m], which became true at "
                           "step 1 (one) by mutex_lock(m). one waits for what it set itself"), text


def test_waiting_round_trips_through_json(tmp_path: Path) -> None:
    t = _deadlock(tmp_path, ABBA, "explicit")
    d = json.loads(json.dumps(trace_to_json(t)))
    assert sorted((w["actor"], w["label"]) for w in d["violation"]["waiting"]) == \
        [("one", "b"), ("two", "b")]
    assert trace_from_json(d).violation.waiting == t.violation.waiting
