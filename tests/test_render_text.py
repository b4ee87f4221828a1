"""Kernel-log text traces: a whole golden, and the notes derived from state changes."""

from __future__ import annotations

import os

from drvmc.checker.verdict.trace import CallRecord, Change, Loc, TraceStep
from drvmc.counterexamples.notes import leaves, notes, objects_of
from drvmc.counterexamples.text import calls_text, render_text
from tests.render_helpers import RENDER, real_traces
from tests.test_dot import _relocate

M = frozenset({"hda", "gpu", "iomap", "grp"})


def test_text_golden() -> None:
    # `--full`: every call and every change, as drvmc has always printed them
    ts = real_traces("component_toy.drv")
    actual = "\n\n".join(render_text(_relocate(ts[p]), full=True) for p in sorted(ts)) + "\n"
    path = RENDER / "component_toy.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8")


def test_causal_text_golden() -> None:
    # the default: the summary, the causal chain per step on the slice, the rest folded
    ts = real_traces("component_toy.drv")
    actual = "\n\n".join(render_text(_relocate(ts[p])) for p in sorted(ts)) + "\n"
    path = RENDER / "component_toy.causal.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8")


def test_the_kernel_log_line() -> None:
    t = real_traces("component_toy.drv")["use_after_release"]
    line = render_text(t, full=True).splitlines()
    step3 = next(x for x in line if x.startswith("[ 3]"))
    assert step3.split()[:3] == ["[", "3]", "i915_unbind"]
    assert step3.endswith("del   component_del(gpu) → devres_release_group(hda, NULL): "
                          "released iomap; devres: dropped grp; group_open cleared; bound cleared")
    assert "       live[iomap]: true → false" in line
    assert line[-2].startswith("violated: use_after_release at ")
    assert line[-1] == ("    19 | proc touch(r: Res) { assert live[r] as use_after_release, "
                        "\"iomap used after release\" }")
    assert objects_of(t) == ["hda", "gpu", "iomap"]


def _step(*changes: Change) -> TraceStep:
    return TraceStep(1, "a", "l", Loc("f", 1, 1), (), {}, changes)


def test_notes_are_generic() -> None:
    assert notes(_step(Change("refs", {"gpu": 1, "hda": 2}, {"gpu": 0, "hda": 2})), M) == [
        "refs[gpu] 1 → 0"]
    assert notes(_step(Change("owner", "gpu", None)), M) == ["owner → NULL"]
    assert notes(_step(Change("dev", {"refs": 1}, {"refs": 2})), M) == ["dev.refs 1 → 2"]
    assert notes(_step(Change("l", ["grp", "iomap"], ["iomap", "grp"])), M) == ["l: reordered"]
    # a list losing a member whose liveness flag drops in the same step: released
    assert notes(_step(Change("live", {"iomap": True}, {"iomap": False}),
                       Change("devres", ["grp", "iomap"], ["grp"])), M) == ["released iomap"]
    # the flag alone is just cleared
    assert notes(_step(Change("live", {"iomap": True}, {"iomap": False})), M) == [
        "live[iomap] cleared"]
    # arrays of records split per slot, lists of members stay whole
    lv = leaves(Change("d", [{"k": 1}, {"k": 2}], [{"k": 1}, {"k": 3}]), M)
    assert [str(x) for x in lv] == ["d[1].k: 2 → 3"]


def test_calls_text_groups_nested_calls() -> None:
    calls = (CallRecord(0, "a", ("hda",)), CallRecord(1, "b", ()), CallRecord(2, "c", ("NULL",)),
             CallRecord(0, "d", ()))
    assert calls_text(calls) == "a(hda) → b(), c(NULL); d()"
    many = (CallRecord(0, "a", ()), *[CallRecord(1, f"n{i}", ()) for i in range(6)])
    assert calls_text(many) == "a() → n0(), n1(), n2(), n3(), … (+2)"


def test_calls_text_prefers_calls_naming_what_changed_and_hides_lookups() -> None:
    calls = (CallRecord(0, "component_del", ("gpu",)),
             *[CallRecord(1, f"helper{i}", ()) for i in range(5)],
             CallRecord(2, "devres_release_group", ("hda", "NULL")),
             CallRecord(1, "component_device", ("gpu",)))
    txt = calls_text(calls, frozenset({"component_device"}), frozenset({"devres"}))
    assert txt == ("component_del(gpu) → helper0(), helper1(), helper2(), "
                   "devres_release_group(hda, NULL), … (+2)")
