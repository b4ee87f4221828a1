"""One verdict vocabulary: check's table, compare's matrix, the report, baselines and JSON spell a
verdict with the same words, written once in docs/JSON.md ("Verdict words"). Nothing to check is
NO CHECK, not PROVEN; an UNKNOWN is UNKNOWN with its reason, never a mismatch."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
from typer.testing import CliRunner

from drvmc.checker.app.cli import app, format_table
from drvmc.checker.app.compare import CompareOptions, compare_spec
from drvmc.checker.app.driver import CheckOptions
from drvmc.checker.ir import nodes as I
from drvmc.checker.verdict.records import Comparison, Row, SpecReport
from drvmc.checker.verdict.results import Result, Status, short_text, status_word
from drvmc.counterexamples.comparison import format_comparison
from drvmc.counterexamples.report import ToolInfo, render_html, render_markdown

ROOT = Path(__file__).parent.parent
JSON_MD = ROOT / "docs" / "JSON.md"

ONLY_IN_THE_FIX = """\
spec nc "a check only the fix has"
property extra "the fix's own check"
var x: 0..3 = 0
actor a {
  s: x = 1
}
variant checked "adds a check" {
  actor a {
    s: x = 1
       assert x == 1 as extra, "x is one"
  }
}
"""


def test_every_status_has_its_word_in_docs_json() -> None:
    text = JSON_MD.read_text(encoding="utf-8")
    section = text.split("## Verdict words", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z_]+)` \| ([A-Z ]+) \| `([^`]+)`", section, flags=re.M)
    assert {s: (w, short) for s, w, short in rows} == {
        st.value: (status_word(st), short_text(st, 6 if st in (
            Status.VIOLATED, Status.REACHABLE) else 40 if st in (
            Status.SAFE, Status.NOT_REACHED) else 0)) for st in Status}


def test_short_forms() -> None:
    assert [short_text(s, 3) for s in Status] == [
        "VIOLATED 3", "SAFE≤3", "PROVEN", "REACHED 3", "NOT REACHED≤3", "UNREACHABLE", "UNKNOWN",
        "NO CHECK"]
    reached = Result("t", I.PropKind.REACHABLE, Status.REACHABLE, 2, "explicit")
    assert reached.verdict_text() == "REACHED at length 2"


def _report(tmp_path: Path) -> Path:
    spec = tmp_path / "nc.drv"
    spec.write_text(ONLY_IN_THE_FIX, encoding="utf-8")
    return spec


def test_nothing_to_check_is_no_check(tmp_path: Path) -> None:
    spec = _report(tmp_path)
    r = CliRunner().invoke(app, ["check", str(spec), "--all-variants", "-f", "json"])
    assert r.exit_code == 0, r.stdout
    doc = json.loads(r.stdout)
    schema = json.loads((ROOT / "docs/schema/drvmc-results.schema.json").read_text())
    jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
    res = {(x["variant"], x["property"]): x for x in doc["specs"][0]["results"]}
    extra = res[("original", "extra")]
    assert (extra["status"], extra["engine"], extra["expected"], extra["as_expected"]) == (
        "NO_CHECK", "static", "NO CHECK", True)
    assert res[("checked", "extra")]["status"] == "PROVEN"
    r = CliRunner().invoke(app, ["check", str(spec), "--all-variants", "--no-timings"])
    assert "  original  extra     NO CHECK (not in this variant)   NO CHECK  ok" in r.stdout
    assert "SAFE      ok" in r.stdout  # the default expectation's word
    cmp = compare_spec(spec, CompareOptions(CheckOptions(all_variants=True)))
    assert "  extra     NO CHECK  PROVEN" in format_comparison(cmp)
    html = render_html([cmp], ToolInfo("x", "z", "auto", 40, None), lambda t: None, 0.0)
    assert '<td class="NO_CHECK"' in html
    proofs = html.split("<h3>Proofs</h3>", 1)[1].split("</ul>", 1)[0]
    assert "original / extra" not in proofs and "checked / extra" in proofs


def _with_unknown(tmp_path: Path) -> Comparison:
    spec = _report(tmp_path)
    cmp = compare_spec(spec, CompareOptions(CheckOptions(all_variants=True)))
    rows = []
    for row in cmp.report.rows:
        if (row.variant, row.result.prop) == ("checked", "extra"):
            row = Row(row.variant, Result("extra", I.PropKind.ASSERT, Status.UNKNOWN, 7, "bmc",
                                          reason="timeout"), row.expected, False)
        rows.append(row)
    rep = SpecReport(cmp.report.path, cmp.report.spec, cmp.report.description,
                     cmp.report.variants, rows, cmp.report.models, cmp.report.program)
    return Comparison(rep, cmp.original, cmp.properties, cmp.fixes, 0.0)


def test_unknown_is_unknown_with_its_reason(tmp_path: Path) -> None:
    cmp = _with_unknown(tmp_path)
    table = format_table(cmp.report)
    assert "  checked   extra     UNKNOWN (timeout)" in table
    assert "MISMATCH" not in table and table.rstrip().endswith("unknown")
    text = format_comparison(cmp)
    assert "  extra     NO CHECK  UNKNOWN\n" in text and "*" not in text
    assert "  checked / extra: UNKNOWN (timeout)" in text
    html = render_html([cmp], ToolInfo("x", "z", "auto", 40, None), lambda t: None, 0.0)
    assert "mismatch" not in html.split("<style>")[1].split("</style>")[1]
    assert '<td class="UNKNOWN" title="expected SAFE; UNKNOWN (timeout)">UNKNOWN</td>' in html
    assert "checked / extra: UNKNOWN (timeout)" in html
    md = render_markdown([cmp], ToolInfo("x", "z", "auto", 40, None), {}, 0.0)
    assert "| extra | NO CHECK | UNKNOWN |" in md and "- checked / extra: UNKNOWN (timeout)" in md
