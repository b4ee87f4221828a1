"""Check results as JUnit XML, for CI dashboards (`check --format junit`).

A `<testsuites>` document; per spec file a `<testsuite>`; per row of the verdict table (a
spec's variant and property) a `<testcase>` named after the property, of class `SPEC.VARIANT`.
The row's judgement in the text table decides the test case's outcome, so the counts agree with
the table:

| table | JUnit |
|---|---|
| `ok` | passed (a NO CHECK row — nothing to check in this variant — is `<skipped>`) |
| `MISMATCH`, `VACUOUS` | `<failure>`: the text trace when there is one, else the table's line |
| `unknown` | `<error>` (undecided: never passed) |
| `interrupted` | `<skipped>` |

Every counterexample or witness is in the test case's text in drvmc's text form (`<failure>` for a
failure, `<system-out>` otherwise). Spec, usage and internal errors are test cases with an
`<error>` in a suite of their file (or of `drvmc`). Times are in seconds; without `timings`
(`--no-timings`) none is written, so the document is byte-identical across runs.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any, assert_never

from drvmc.checker.verdict.records import Row, SpecReport
from drvmc.checker.verdict.results import Status
from drvmc.checker.verdict.trace import Trace, with_sources
from drvmc.counterexamples.text import render_text


class Outcome(Enum):
    """A test case's outcome, from the row's judgement in the verdict table."""

    PASSED = "passed"  # ok
    FAILURE = "failure"  # MISMATCH or VACUOUS
    ERROR = "error"  # unknown
    SKIPPED = "skipped"  # interrupted, or ok with nothing to check (NO CHECK)


def outcome_of(row: Row) -> Outcome:
    """In the order of the table's judgement column (cli.format_table)."""
    r = row.result
    if r.interrupted:
        return Outcome.SKIPPED
    if row.ok:
        return Outcome.SKIPPED if r.status is Status.NO_CHECK else Outcome.PASSED
    if r.status is Status.UNKNOWN:
        return Outcome.ERROR
    return Outcome.FAILURE


def judgement(row: Row) -> str:
    """The table's word for the row: ok, MISMATCH, VACUOUS, unknown, interrupted."""
    r = row.result
    if r.interrupted:
        return "interrupted"
    if row.ok:
        return "ok"
    if r.status is Status.UNKNOWN:
        return "unknown"
    return "VACUOUS" if r.vacuous else "MISMATCH"


def junit_xml(reports: Sequence[SpecReport], version: str,
              errors: Sequence[Mapping[str, Any]] = (), timings: bool = True) -> str:
    """The JUnit XML document of a run: its reports and the errors met on the way (the `errors`
    entries of the JSON document, docs/JSON.md)."""
    root = ET.Element("testsuites", name="drvmc")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    seconds = 0.0
    for rep in reports:
        suite = _suite(rep, version, timings)
        root.append(suite)
        for k in totals:
            totals[k] += int(suite.get(k, "0"))
        seconds += rep.seconds
    if errors:
        suites: dict[str, ET.Element] = {}
        for e in errors:
            where = str(e.get("file") or "drvmc")
            if where not in suites:
                suites[where] = ET.Element("testsuite", name=where, tests="0", failures="0",
                                           errors="0", skipped="0")
                root.append(suites[where])
            s = suites[where]
            s.append(_error_case(e, where))
            for k in ("tests", "errors"):
                s.set(k, str(int(s.get(k, "0")) + 1))
                totals[k] += 1
    for k, v in totals.items():
        root.set(k, str(v))
    if timings:
        root.set("time", _secs(seconds))
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(rep: SpecReport, version: str, timings: bool) -> ET.Element:
    suite = ET.Element("testsuite", name=rep.path)
    counts = dict.fromkeys(Outcome, 0)
    props = ET.SubElement(suite, "properties")
    for name, value in (("spec", rep.spec), ("description", rep.description),
                        ("variants", ", ".join(rep.variants)), ("drvmc", version)):
        ET.SubElement(props, "property", name=name, value=_clean(value))
    for row in rep.rows:
        outcome = outcome_of(row)
        counts[outcome] += 1
        suite.append(_case(rep, row, outcome, timings))
    suite.set("tests", str(len(rep.rows)))
    suite.set("failures", str(counts[Outcome.FAILURE]))
    suite.set("errors", str(counts[Outcome.ERROR]))
    suite.set("skipped", str(counts[Outcome.SKIPPED]))
    if timings:
        suite.set("time", _secs(rep.seconds))
    suite.set("file", rep.path)
    return suite


def _case(rep: SpecReport, row: Row, outcome: Outcome, timings: bool) -> ET.Element:
    r = row.result
    case = ET.Element("testcase", name=r.prop, classname=f"{rep.spec}.{row.variant}")
    if timings:
        case.set("time", _secs(r.seconds))
    line = (f"{row.variant} / {r.prop}: {r.verdict_text()}; expected {row.expected}: "
            f"{judgement(row)}")
    trace = _trace_text(rep, row)
    match outcome:
        case Outcome.PASSED:
            pass
        case Outcome.FAILURE:
            ET.SubElement(case, "failure", type=judgement(row), message=_clean(
                f"{r.verdict_text()}, expected {row.expected}")).text = _clean(trace or line)
        case Outcome.ERROR:
            ET.SubElement(case, "error", type="UNKNOWN",
                          message=_clean(r.verdict_text())).text = _clean(line)
        case Outcome.SKIPPED:
            ET.SubElement(case, "skipped", message=_clean(r.verdict_text()))
        case _:
            assert_never(outcome)
    if trace and outcome is not Outcome.FAILURE:
        ET.SubElement(case, "system-out").text = _clean(trace)
    return case


def _trace_text(rep: SpecReport, row: Row) -> str:
    """The row's trace as `check` prints it, with its heading line; "" without one."""
    t = row.result.trace
    if t is None:
        return ""
    return (f"--- {row.variant} / {row.result.prop}: {row.result.verdict_text()} ---\n"
            + render_text(_sourced(rep, t)))


def _sourced(rep: SpecReport, t: Trace) -> Trace:
    return with_sources(t, rep.program.sources) if rep.program else t


def _error_case(e: Mapping[str, Any], where: str) -> ET.Element:
    kind = str(e.get("kind", "internal"))
    code = e.get("code")
    name = f"{kind} error" + (f" {code}" if code else "")
    case = ET.Element("testcase", name=name, classname=where)
    pos = where
    if isinstance(e.get("line"), int):
        pos += f":{e['line']}" + (f":{e['col']}" if isinstance(e.get("col"), int) else "")
    message = str(e.get("message", ""))
    text = f"{pos}: error" + (f"[{code}]" if code else "") + f": {message}"
    notes = e.get("notes") or []
    text += "".join(f"\n  note: {n}" for n in notes)
    ET.SubElement(case, "error", type=kind, message=_clean(message)).text = _clean(text)
    return case


def _secs(s: float) -> str:
    return f"{max(s, 0.0):.3f}"


# characters XML 1.0 cannot carry, even escaped
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)
