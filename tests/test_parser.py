"""Parser and pretty-printer: spans, syntax errors, round trips, and grammar-generated text."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.extra.lark import from_lark
from lark import Lark

from drvmc.checker.errors import SpecError
from drvmc.checker.lang import ast as A
from drvmc.checker.lang import pretty
from drvmc.checker.lang.parser import grammar_text, parse_text

ROOT = Path(__file__).resolve().parent.parent


def test_spans_point_at_the_source() -> None:
    f = parse_text("var x: bool = true\nactor a {\n  s: x = false\n}\n", "f.drv")
    actor = f.decls[1]
    assert isinstance(actor, A.ActorDecl)
    assign = actor.body[1]
    assert isinstance(assign, A.Assign)
    sp = assign.span
    assert (sp.file, sp.line, sp.col, sp.end_line, sp.end_col) == ("f.drv", 3, 6, 3, 15)


def test_precedence() -> None:
    f = parse_text("const X = 1 + 2 * 3 == 7 && !false || true => false\n", "f.drv")
    d = f.decls[0]
    assert isinstance(d, A.ConstDecl)
    e = d.value
    assert isinstance(e, A.Binary) and e.op is A.BinOp.IMPLIES
    assert isinstance(e.left, A.Binary) and e.left.op is A.BinOp.OR
    conj = e.left.left
    assert isinstance(conj, A.Binary) and conj.op is A.BinOp.AND
    eq = conj.left
    assert isinstance(eq, A.Binary) and eq.op is A.BinOp.EQ
    assert isinstance(eq.left, A.Binary) and eq.left.op is A.BinOp.ADD
    assert isinstance(eq.left.right, A.Binary) and eq.left.right.op is A.BinOp.MUL


@pytest.mark.parametrize(
    ("src", "line", "col", "fragment"),
    [
        ("actor a {\n  s: x = \n}\n", 3, 1, "unexpected '}'"),
        ("var x: bool = true true\n", 1, 20, "unexpected 'true'"),
        ("enum E { a, }}\n", 1, 14, "unexpected '}'"),
        ("var x: bool = $\n", 1, 15, "unexpected character '$'"),
        ("actor a {\n", 1, 10, "unexpected end of file"),
    ],
)
def test_syntax_errors_have_positions(src: str, line: int, col: int, fragment: str) -> None:
    with pytest.raises(SpecError) as ei:
        parse_text(src, "bad.drv")
    (d,) = ei.value.diagnostics
    assert (d.span.line, d.span.col) == (line, col)
    assert fragment in d.message


def _all_specs() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.drv") if ".git" not in p.parts)


@pytest.mark.parametrize("path", _all_specs(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pretty_printing_round_trips(path: Path) -> None:
    try:
        text = path.read_text(encoding="utf-8")
        ast = parse_text(text, "x.drv")
    except UnicodeDecodeError:
        pytest.skip("not UTF-8 (a regression input)")
    except SpecError:
        pytest.skip("a deliberately malformed spec")
    again = parse_text(pretty.spec(ast), "x.drv")
    assert again == ast


_LARK = Lark(grammar_text(), parser="lalr")


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(from_lark(_LARK, start="start"))
def test_grammar_generated_text_parses_and_round_trips(text: str) -> None:
    try:
        ast = parse_text(text, "gen.drv")
    except SpecError as e:
        # the generator ignores keyword reservation and limits: a clean, positioned error is fine
        assert e.diagnostics and all(d.span.line >= 1 for d in e.diagnostics)
        return
    assert parse_text(pretty.spec(ast), "gen.drv") == ast
