"""`check --format junit` (issue 20, item 1): a test case per spec, variant and property that
validates against the Jenkins/Ant JUnit schema (tests/schemas/junit-10.xsd, from the Jenkins
xUnit plugin); the counts agree with the text table row for row; failures carry the text trace
exactly as `check` prints it; UNKNOWN is an error, never a pass.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.verdict.records import Row, SpecReport
from drvmc.checker.verdict.results import Result, Status
from drvmc.counterexamples.junit import junit_xml
from tests.test_cli_robustness import BAD, BUGGY, _clean, _drvmc, _spec
from tests.test_sarif import RACE, WRONG, _table_rows

REPO = Path(__file__).resolve().parent.parent
# the seed scenarios (the corpus under specs/corpus has tests of its own)
SEEDS = sorted(str(p.relative_to(REPO)) for p in (REPO / "specs").glob("*.drv"))
XSD = REPO / "tests/schemas/junit-10.xsd"


def _valid(text: str) -> ET.Element:
    xmlschema.XMLSchema(str(XSD)).validate(text)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text)


def _outcome(case: ET.Element) -> str:
    for tag in ("failure", "error", "skipped"):
        if case.find(tag) is not None:
            return tag
    return "passed"


@pytest.fixture(scope="module")
def seeds() -> tuple[str, str]:
    p = _drvmc("check", *SEEDS, "--all-variants", "--format", "junit")
    _clean(p)
    assert p.returncode == 0, p.stderr
    t = _drvmc("check", *SEEDS, "--all-variants", "--no-traces", "--no-timings")
    assert t.returncode == 0
    return p.stdout, t.stdout


def test_seed_junit_validates_and_counts_match_the_table(seeds: tuple[str, str]) -> None:
    xml, text = seeds
    root = _valid(xml)
    rows = _table_rows(text)
    cases = root.findall("testsuite/testcase")
    # one test case per row of the table, in its order: class SPEC.VARIANT, name PROPERTY
    assert [(c.get("classname", "").split(".")[1], c.get("name")) for c in cases] == [
        (v, p) for v, p, _, _ in rows]
    judged = {"ok": "passed", "MISMATCH": "failure", "VACUOUS": "failure", "unknown": "error",
              "interrupted": "skipped"}
    expected = [("skipped" if j == "ok" and res.startswith("NO CHECK") else judged[j])
                for _, _, res, j in rows]
    assert [_outcome(c) for c in cases] == expected
    assert root.get("tests") == str(len(rows)) and len(rows) >= 100
    assert root.get("failures") == str(expected.count("failure"))
    assert root.get("errors") == str(expected.count("error"))
    suites = root.findall("testsuite")
    # one suite per spec named, in the order named
    assert [s.get("name") for s in suites] == SEEDS
    for s in suites:
        assert int(s.get("tests", "")) == len(s.findall("testcase"))
        assert float(s.get("time", "")) >= 0
    # every counterexample is there, in drvmc's text form
    violated = sum(1 for _, _, res, _ in rows if res.startswith("VIOLATED"))
    outs = [c.findtext("system-out") or "" for c in cases]
    assert sum(1 for o in outs if "\nviolated: " in o) == violated


def test_failures_carry_the_text_trace(tmp_path: Path) -> None:
    wrong = _spec(tmp_path, "wrong.drv", WRONG)
    p = _drvmc("check", "wrong.drv", "--format", "junit", "--no-timings", cwd=tmp_path)
    _clean(p)
    assert p.returncode == 1
    root = _valid(p.stdout)
    t = _drvmc("check", "wrong.drv", "--no-timings", cwd=tmp_path)
    assert t.returncode == 1 and wrong.exists()
    cases = {c.get("name"): c for c in root.iter("testcase")}
    fail = cases["assertion"].find("failure")
    assert fail is not None and fail.text is not None
    assert fail.get("type") == "MISMATCH"
    assert fail.get("message") == "VIOLATED at length 1, expected PROVEN"
    # byte for byte the block `check` prints, from its heading to the blank line after it
    assert fail.text.startswith("--- original / assertion: VIOLATED at length 1 ---\n")
    assert "\nviolated: assertion at wrong.drv:5:14: n moved" in fail.text
    assert "\n" + fail.text + "\n\n" in t.stdout
    got = cases["got"].find("failure")  # the witness of a target expected unreachable
    assert got is not None and got.text is not None
    assert got.text.startswith("--- original / got: REACHED at length 2 ---\n")
    assert got.text.endswith("\nreached: got at wrong.drv:7:1: target got reached: hit\n"
                             "     7 | reachable got: hit")  # (`check` prints no witnesses)
    assert [_outcome(c) for c in root.iter("testcase")].count("failure") == int(
        root.get("failures", ""))
    # without timings, the document is the same on every run
    again = _drvmc("check", "wrong.drv", "--format", "junit", "--no-timings", cwd=tmp_path)
    assert again.stdout == p.stdout
    assert "time=" not in p.stdout


def test_unknown_is_an_error_and_errors_are_test_cases(tmp_path: Path) -> None:
    rep = check_spec(_spec(tmp_path, "t.drv", WRONG), CheckOptions(engine="explicit"))
    row = rep.rows[0]
    undecided = Result(row.result.prop, row.result.kind, Status.UNKNOWN, 7, "bmc",
                       reason="timeout", seconds=1.5)
    rep2 = SpecReport(rep.path, rep.spec, rep.description, rep.variants,
                      [Row(row.variant, undecided, row.expected, False), *rep.rows[1:]],
                      rep.models, rep.program, seconds=2.0)
    errors = [{"kind": "spec", "code": "E110", "message": "type mismatch", "file": "bad.drv",
               "line": 2, "col": 15, "end_line": 2, "end_col": 16, "notes": ["a note"]}]
    root = _valid(junit_xml([rep2], "9.9", errors))
    first = root.find("testsuite/testcase")
    assert first is not None
    err = first.find("error")
    assert err is not None and err.get("type") == "UNKNOWN"
    assert err.get("message") == "UNKNOWN (timeout)"
    assert first.get("time") == "1.500"
    suite, bad = root.findall("testsuite")
    assert suite.get("errors") == "1" and suite.get("time") == "2.000"
    assert bad.get("name") == "bad.drv" and bad.get("errors") == "1"
    case = bad.find("testcase")
    assert case is not None and case.get("name") == "spec error E110"
    assert case.findtext("error") == "bad.drv:2:15: error[E110]: type mismatch\n  note: a note"
    assert root.get("errors") == "2"
    assert root.get("tests") == str(len(rep2.rows) + 1)


def test_cli_spec_error_and_compare(tmp_path: Path) -> None:
    _spec(tmp_path, "bad.drv", BAD)
    _spec(tmp_path, "buggy.drv", BUGGY)
    p = _drvmc("check", "bad.drv", "buggy.drv", "-f", "junit", cwd=tmp_path)
    _clean(p)
    assert p.returncode == 3
    root = _valid(p.stdout)
    assert [s.get("name") for s in root.findall("testsuite")] == ["buggy.drv", "bad.drv"]
    assert root.get("failures") == "1" and root.get("errors") == "1"
    c = _drvmc("compare", RACE, "--format", "junit")
    _clean(c)
    assert c.returncode == 0
    croot = _valid(c.stdout)
    assert croot.get("failures") == "0" and int(croot.get("tests", "")) == 6
