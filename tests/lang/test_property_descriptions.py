"""Every property form takes a description: `invariant/final/reachable NAME "text": expr`."""

from __future__ import annotations

from pathlib import Path

from drvmc.checker.lang import pretty
from drvmc.checker.lang.parser import parse_text
from tests.helpers import model_of

SPEC = """var x: bool = false
actor a { s: x = true }
final set_x "the actor set x": x
invariant tautology: x || !x
reachable seen "x seen set": x
"""


def test_descriptions_reach_the_model_and_default_to_the_expression(tmp_path: Path) -> None:
    m = model_of(tmp_path, SPEC)
    got = {p.name: p.description for p in m.properties}
    assert got["set_x"] == "the actor set x"
    assert got["seen"] == "x seen set"
    assert got["tautology"] == "x || !x"


def test_descriptions_print_back() -> None:
    text = pretty.spec(parse_text(SPEC, "t.drv"))
    assert 'final set_x "the actor set x": x' in text
    assert "invariant tautology: x || !x" in text
    assert pretty.spec(parse_text(text, "t.drv")) == text
