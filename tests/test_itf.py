"""ITF (Apalache ADR-015) export: the tagged value encoding, and exact round trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings

from drvmc.checker.verdict.trace import Trace
from drvmc.counterexamples.itf import (
    ItfError,
    dumps_itf,
    from_itf_value,
    itf_to_trace,
    loads_itf,
    to_itf_value,
    trace_to_itf,
)
from tests.render_helpers import RENDER, real_traces, traces


@pytest.fixture(scope="module")
def toy() -> Trace:
    return real_traces("component_toy.drv")["use_after_release"]


def test_values_are_tagged() -> None:
    assert to_itf_value(5) == {"#bigint": "5"}
    assert to_itf_value(True) is True
    assert to_itf_value(None) == {"tag": "None", "value": {"#tup": []}}
    assert to_itf_value(["hda", 2]) == ["hda", {"#bigint": "2"}]
    assert to_itf_value({"iomap": False}) == {"iomap": False}
    # what other ITF writers emit decodes too
    assert from_itf_value({"#map": [["a", {"#bigint": "1"}]]}) == {"a": 1}
    assert from_itf_value({"#set": [1, 2]}) == [1, 2]
    assert from_itf_value(7) == 7
    # a record with fields tag/value is not mistaken for None
    assert from_itf_value({"tag": "None", "value": {"#bigint": "1"}}) == {"tag": "None",
                                                                         "value": 1}


def test_real_trace_shape(toy: Trace) -> None:
    d = json.loads(dumps_itf(toy))
    assert d["#meta"]["format"] == "ITF"
    assert [s["#meta"]["index"] for s in d["states"]] == list(range(toy.length + 1))
    assert d["vars"][:4] == ["live", "devres", "group_open", "bound"]
    for s in d["states"]:
        assert set(d["vars"]) == {k for k in s if k != "#meta"}
    s1 = d["states"][1]
    assert s1["drvmc::actor"] == "hda_probe" and s1["drvmc::label"] == "add"
    assert s1["mbt::actionTaken"] == "hda_probe.add"
    assert s1["drvmc::calls"][1] == {"depth": {"#bigint": "1"}, "proc": "devres_open_group",
                                     "args": ["NULL"]}
    assert s1["devres"] == ["grp"]
    assert d["states"][0]["mbt::actionTaken"] == "init"
    v = d["#meta"]["drvmc"]["violation"]
    assert v["message"] == "iomap used after release"
    assert v["source"].startswith("proc touch(r: Res)")


def test_real_trace_round_trips(toy: Trace) -> None:
    assert itf_to_trace(trace_to_itf(toy)) == toy
    assert loads_itf(dumps_itf(toy)) == toy
    assert dumps_itf(toy) == dumps_itf(loads_itf(dumps_itf(toy)))


@settings(max_examples=150, deadline=None)
@given(traces())
def test_generated_traces_round_trip(t: Trace) -> None:
    back = loads_itf(dumps_itf(t))
    assert back == t
    # == treats True as 1: compare the JSON text too, which tells them apart
    assert dumps_itf(back) == dumps_itf(t)


@pytest.mark.parametrize("text", ["", "[]", '{"states": []}', '{"#meta": {}, "states": [{}]}'])
def test_bad_input_is_a_clean_error(text: str) -> None:
    with pytest.raises(ItfError):
        loads_itf(text)


def test_cli_trace_dir_and_render(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from drvmc.checker.app.cli import app

    spec = RENDER / "component_toy.drv"
    out = tmp_path / "traces"
    r = CliRunner().invoke(app, ["check", str(spec), "--trace-dir", str(out)])
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in out.iterdir())
    stems = ["s4toy.original.mapped", "s4toy.original.use_after_release"]
    assert names == sorted(f"{s}.{x}" for s in stems for x in ("txt", "itf.json", "dot", "svg"))
    saved = out / "s4toy.original.use_after_release.itf.json"
    t = loads_itf(saved.read_text(encoding="utf-8"))
    assert t.violation.message == "iomap used after release" and t.length == 4
    for to in ("dot", "svg", "text"):
        r = CliRunner().invoke(app, ["render", str(saved), "--to", to])
        assert r.exit_code == 0, r.output
        ext = {"text": "txt"}.get(to, to)
        assert r.stdout == (out / f"s4toy.original.use_after_release.{ext}").read_text(
            encoding="utf-8")
    png = tmp_path / "x.png"
    r = CliRunner().invoke(app, ["render", str(saved), "--to", "png", "-o", str(png)])
    assert r.exit_code == 0 and png.read_bytes()[:4] == b"\x89PNG"
    bad = tmp_path / "bad.itf.json"
    bad.write_text('{"states": []}', encoding="utf-8")
    r = CliRunner().invoke(app, ["render", str(bad)])
    assert r.exit_code == 3 and "not an ITF trace written by drvmc" in r.stderr
