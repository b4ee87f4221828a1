"""`expect VARIANT P1, P2, ...: VERDICT [LENGTH]`: one line for several properties of a variant."""

from __future__ import annotations

from pathlib import Path

import pytest

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.errors import SpecError
from drvmc.checker.lang import pretty
from drvmc.checker.lang.parser import parse_text
from tests.helpers import model_of, write_spec

SPEC = """var x: 0..3 = 0
var done: bool = false
actor a { s: x = x + 1
          t: done = true }
invariant small: x < 1
invariant tiny: x < 2
reachable finished: done
variant fix "x stays 0" { actor a { s: skip
                                    t: done = true } }
expect original small, tiny: VIOLATED
expect original finished, small2: REACHABLE
expect fix finished: REACHABLE
"""


def test_each_named_property_gets_the_verdict(tmp_path: Path) -> None:
    src = SPEC.replace(", small2", "")
    m = model_of(tmp_path, src)
    got = {e.prop: (e.verdict.value, e.length) for e in m.expects}
    assert got == {"small": ("VIOLATED", None), "tiny": ("VIOLATED", None),
                   "finished": ("REACHABLE", None)}


def test_the_check_reports_each_listed_property_against_its_expectation(tmp_path: Path) -> None:
    # `tiny` needs x = 2, which the original never reaches: the list's second name is checked on
    # its own and reported as not as expected, while `small` is
    src = SPEC.replace(", small2", "")
    rep = check_spec(write_spec(tmp_path, src), CheckOptions(all_variants=True))
    ok = {(r.variant, r.result.prop): r.ok for r in rep.rows}
    assert ok[("original", "small")] is True
    assert ok[("original", "tiny")] is False
    assert ok[("fix", "small")] is True and ok[("fix", "tiny")] is True


def test_an_unknown_name_in_the_list_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as e:
        model_of(tmp_path, SPEC)
    (d,) = e.value.diagnostics
    assert d.code == "E146" and "'small2'" in d.message and d.span.line == 11


def test_lists_print_back() -> None:
    text = pretty.spec(parse_text(SPEC, "t.drv"))
    assert "expect original small, tiny: VIOLATED" in text
    assert pretty.spec(parse_text(text, "t.drv")) == text
