"""Check results as a SARIF 2.1.0 log, for code-scanning views and editors (`check --format sarif`).

One run of the tool `drvmc`; one *result* per violation, per result that is not what the spec's
`expect` lines ask (a mismatch) and per undecided (UNKNOWN) result:

- a violation (`VIOLATED`) is located at the failing assertion (the property's declaration for an
  invariant, a `final` or a deadlock), with the scenario step it fails in as a related location
  and the counterexample as a `codeFlow`: one `threadFlow` whose locations are the trace's steps
  in order (actor, label, calls, the state they change, each at its step's span). A violation the
  spec expects is still listed, at level `note`, suppressed in source by its `expect` line;
- a mismatch without a counterexample (`SAFE≤40`, expected `VIOLATED 3`; a vacuous proof; a
  target not reached) is located at the `expect` line, or at the property when the expectation is
  the default; a target reached against `expect ... UNREACHABLE` carries its witness as the
  `codeFlow`;
- an UNKNOWN result is of kind `open` (the tool could not tell), level `none`.

The rule of a result (`ruleId`) is its property class: the property's name, shared by every
`assert ... as NAME` site and every variant (`use_after_release`, `deadlock`, a `reachable`
target's name); `tool.driver.rules` lists every property checked, tagged with its kind. Columns
count Unicode code points (`columnKind`), as drvmc's spans do; a span's end is exclusive, as
SARIF's `endColumn`. Spec, usage and internal errors are the invocation's notifications.

The log is plain data (dicts and lists) for `json.dumps`; nothing here prints.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any, assert_never

from drvmc.checker.errors import ExitCode, Span
from drvmc.checker.ir import nodes as I
from drvmc.checker.verdict.records import Row, SpecReport
from drvmc.checker.verdict.results import Status, expectation_for
from drvmc.checker.verdict.trace import Loc, Trace, TraceStep, format_value
from drvmc.counterexamples.notes import members_of, step_leaves

SARIF_VERSION = "2.1.0"
# the schema's own id: the OASIS standard with its errata (tests/schemas/ holds a copy)
SARIF_SCHEMA = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
                "sarif-schema-2.1.0.json")
FINGERPRINT = "drvmc/v1"  # key of the partial fingerprint that identifies a result across runs

Json = dict[str, Any]


class Finding(Enum):
    """Why a row of the verdict table becomes a SARIF result."""

    VIOLATION = "violation"  # a counterexample: the property fails
    MISMATCH = "mismatch"  # not what `expect` asks, and not a violation
    UNKNOWN = "unknown"  # the engines could not tell


def finding_of(row: Row) -> Finding | None:
    """The kind of result a row is, or None when it is as expected (or was cut short by an
    interrupt: a bound reached before the interrupt claims nothing wrong)."""
    r = row.result
    if r.interrupted:
        return None
    if r.status is Status.VIOLATED:
        return Finding.VIOLATION
    if r.status is Status.UNKNOWN:
        return Finding.UNKNOWN
    return None if row.ok else Finding.MISMATCH


def sarif_log(reports: Sequence[SpecReport], version: str, exit_code: int,
              errors: Sequence[Mapping[str, Any]] = ()) -> Json:
    """The SARIF log of a run of `check` (or `compare`): its reports, the errors met on the way
    (the `errors` entries of the JSON document, docs/JSON.md) and the process's exit code."""
    rules = _rules(reports)
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = [_result(rep, row, f, index)
               for rep in reports for row in rep.rows
               if (f := finding_of(row)) is not None]
    invocation: Json = {"executionSuccessful": exit_code < ExitCode.SPEC_ERROR,
                        "exitCode": int(exit_code)}
    if exit_code == ExitCode.INTERRUPTED:
        invocation["exitCodeDescription"] = "interrupted: the results are partial"
    notes = [_notification(e) for e in errors]
    if notes:
        invocation["toolExecutionNotifications"] = notes
    driver: Json = {"name": "drvmc", "version": version, "semanticVersion": version,
                    "rules": rules}
    run: Json = {"tool": {"driver": driver}, "invocations": [invocation],
                 "columnKind": "unicodeCodePoints", "results": results}
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


# ------------------------------------------------------------------------------- rules


def _rules(reports: Sequence[SpecReport]) -> list[Json]:
    """One rule per property name, in order of first appearance."""
    seen: dict[str, I.Property] = {}
    for rep in reports:
        for model in rep.models.values():
            for p in model.properties:
                seen.setdefault(p.name, p)
        for row in rep.rows:  # a property of a variant not in `models` (kept for safety)
            if row.result.prop not in seen:
                seen[row.result.prop] = I.Property(row.result.prop, row.result.kind, "", None)
    return [_rule(p) for p in seen.values()]


def _rule(p: I.Property) -> Json:
    kind = p.kind.value
    return {
        "id": p.name,
        "shortDescription": {"text": p.description or f"{kind} property {p.name}"},
        "fullDescription": {"text": f"{_kind_text(p.kind)}: {p.description or p.name}"},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["drvmc", kind], "kind": kind},
    }


def _kind_text(kind: I.PropKind) -> str:
    match kind:
        case I.PropKind.ASSERT:
            return "an assertion class (every `assert ... as` site of this name)"
        case I.PropKind.INVARIANT:
            return "an invariant (holds in every state)"
        case I.PropKind.FINAL:
            return "a final condition (holds when every actor is done)"
        case I.PropKind.REACHABLE:
            return "a reachable target (some run reaches it)"
        case I.PropKind.DEADLOCK:
            return "freedom from deadlock (some actor can always move until all are done)"
        case _:
            assert_never(kind)


# ------------------------------------------------------------------------------- results


def _result(rep: SpecReport, row: Row, finding: Finding, rules: Mapping[str, int]) -> Json:
    r = row.result
    model = rep.models.get(row.variant)
    expect = _expect(model, r.prop)
    trace = r.trace
    res: Json = {"ruleId": r.prop, "ruleIndex": rules[r.prop]}
    match finding:
        case Finding.VIOLATION:
            res["kind"] = "fail"
            res["level"] = "note" if row.ok else "error"
        case Finding.MISMATCH:
            res["kind"] = "fail"
            res["level"] = "error"
        case Finding.UNKNOWN:
            res["kind"] = "open"
            res["level"] = "none"
        case _:
            assert_never(finding)
    res["message"] = {"text": _message(row, finding)}
    primary = _primary(rep, row, finding, model, expect)
    res["locations"] = [primary] if primary else [_file_only(rep.path)]
    related: list[Json] = []
    if trace is not None and trace.steps:
        last = trace.steps[-1]
        role = "the step it fails in" if finding is Finding.VIOLATION else "the last step"
        loc = _location(rep, _step_span(model, last),
                        _step_text(last, role, members_of(trace)))
        if loc is not None:
            related.append(loc)
    if expect is not None and finding is not Finding.MISMATCH:
        loc = _location(rep, expect.span, f"expected: {row.expected}")
        if loc is not None:
            related.append(loc)
    elif finding is Finding.MISMATCH and expect is not None and model is not None:
        prop = _prop(model, r.prop)
        loc = _location(rep, prop.span if prop else None, f"property {r.prop}")
        if loc is not None:
            related.append(loc)
    for i, loc in enumerate(related, start=1):
        loc["id"] = i
    if related:
        res["relatedLocations"] = related
    if trace is not None:
        res["codeFlows"] = [_code_flow(rep, model, trace)]
    if finding is Finding.VIOLATION and row.ok:
        sup: Json = {"kind": "inSource", "status": "accepted",
                     "justification": f"the spec expects it: {row.expected}"}
        if expect is not None and (where := _location(rep, expect.span, None)) is not None:
            sup["location"] = where
        res["suppressions"] = [sup]
    res["partialFingerprints"] = {
        FINGERPRINT: f"{rep.spec}:{row.variant}:{r.prop}:{finding.value}"}
    props: Json = {"spec": rep.spec, "variant": row.variant, "status": r.status.value,
                   "verdict": r.verdict_text(), "expected": row.expected, "asExpected": row.ok,
                   "engine": r.engine, "depth": r.depth}
    if trace is not None:
        props["traceLength"] = trace.length
        props["contextSwitches"] = trace.context_switches()
    res["properties"] = props
    return res


def _message(row: Row, finding: Finding) -> str:
    """What the result says; it never starts with the rule id (consumers strip that)."""
    r = row.result
    match finding:
        case Finding.VIOLATION:
            why = r.trace.violation.message if r.trace is not None else ""
            steps = f"{r.depth} step{'s' if r.depth != 1 else ''}"
            text = (f"{why}: " if why else "") + (
                f"{r.prop} is violated in variant {row.variant}, by a counterexample of {steps}")
            return text + (f", as expected ({row.expected})." if row.ok
                           else f"; expected {row.expected}.")
        case Finding.MISMATCH:
            return (f"Not as expected in variant {row.variant}: {r.prop} is {r.verdict_text()}; "
                    f"expected {row.expected}.")
        case Finding.UNKNOWN:
            return f"Undecided in variant {row.variant}: {r.prop} is {r.verdict_text()}."
        case _:
            assert_never(finding)


def _primary(rep: SpecReport, row: Row, finding: Finding, model: I.Model | None,
             expect: I.Expect | None) -> Json | None:
    """Where the result is: the failing assertion (or property) for a violation, the `expect`
    line (or the property) for a mismatch or an UNKNOWN; failing those, the last step."""
    r = row.result
    trace = r.trace
    prop = _prop(model, r.prop) if model is not None else None
    spans: list[tuple[Span | None, str]] = []
    match finding:
        case Finding.VIOLATION:
            if trace is not None:
                spans.append((_violation_span(model, trace), trace.violation.message))
            spans.append((prop.span if prop else None, f"property {r.prop}"))
            spans.append((expect.span if expect else None, f"expected: {row.expected}"))
        case Finding.MISMATCH | Finding.UNKNOWN:
            spans.append((expect.span if expect else None, f"expected: {row.expected}"))
            spans.append((prop.span if prop else None, f"property {r.prop}"))
        case _:
            assert_never(finding)
    if trace is not None and trace.steps:
        last = trace.steps[-1]
        spans.append((_step_span(model, last), _step_text(last, None, members_of(trace))))
    for span, text in spans:
        loc = _location(rep, span, text)
        if loc is not None:
            return loc
    return None


def _expect(model: I.Model | None, prop: str) -> I.Expect | None:
    """The `expect` line that speaks of `prop`, if the spec has one."""
    if model is None or _prop(model, prop) is None:
        return None
    return expectation_for(model, prop)


def _prop(model: I.Model | None, name: str) -> I.Property | None:
    if model is None:
        return None
    return next((p for p in model.properties if p.name == name), None)


def _violation_span(model: I.Model | None, trace: Trace) -> Span | None:
    """The full span of the failing check: the assertion site the trace names, or the
    property's declaration; a bare position when the model does not have it."""
    v = trace.violation
    if v.loc is None:
        return None
    if model is not None:
        for s in model.sites:
            if s.prop == v.prop and _at(s.span, v.loc):
                return s.span
        p = _prop(model, v.prop)
        if p is not None and _at(p.span, v.loc):
            return p.span
    return _bare(v.loc)


def _step_span(model: I.Model | None, step: TraceStep) -> Span:
    if model is not None:
        for a in model.actors:
            if a.name == step.actor:
                for s in a.steps:
                    if s.label == step.label and _at(s.span, step.loc):
                        return s.span
    return _bare(step.loc)


def _at(span: Span, loc: Loc) -> bool:
    return (span.file, span.line, span.col) == (loc.file, loc.line, loc.col)


def _bare(loc: Loc) -> Span:
    return Span(loc.file, loc.line, loc.col, 0, 0)


# ------------------------------------------------------------------------------- the trace


def _code_flow(rep: SpecReport, model: I.Model | None, trace: Trace) -> Json:
    what = "witness" if trace.violation.kind == "reachable" else "counterexample"
    members = members_of(trace)
    locations: list[Json] = []
    for s in trace.steps:
        text = _step_text(s, None, members)
        loc = _location(rep, _step_span(model, s), text) or {"message": {"text": text}}
        tfl: Json = {"location": loc, "executionOrder": s.index, "nestingLevel": 0}
        changed = step_leaves(s, members)
        if changed:  # the state after the step, of what it changed: `live[iomap]` = false
            tfl["state"] = {leaf.path: {"text": format_value(leaf.new)} for leaf in changed}
        tfl["properties"] = {"actor": s.actor, "label": s.label,
                             "calls": [{"depth": c.depth, "call": str(c)} for c in s.calls]}
        locations.append(tfl)
    switches = trace.context_switches()
    flow: Json = {
        "id": f"{trace.variant}/{trace.prop}",
        "message": {"text": f"{what} in variant {trace.variant}: {trace.length} step"
                            f"{'s' if trace.length != 1 else ''}, {switches} context switch"
                            f"{'es' if switches != 1 else ''}"},
        "initialState": {k: {"text": format_value(v)} for k, v in trace.initial.items()},
        "locations": locations,
    }
    return {"message": {"text": f"{what} for {trace.prop} in variant {trace.variant}"},
            "threadFlows": [flow]}


def _step_text(s: TraceStep, role: str | None, members: frozenset[str]) -> str:
    """`[2] unbind del: devm_remove(iomap); live[iomap]: true → false`: the step's own calls
    and what it changed, leaf by leaf."""
    text = f"[{s.index}] {s.actor} {s.label}"
    calls = [str(c) for c in s.calls if c.depth == 0]
    if calls:
        text += ": " + "; ".join(calls)
    changed = step_leaves(s, members)
    if changed:
        text += ("; " if calls else " — ") + ", ".join(str(leaf) for leaf in changed)
    return f"{text} ({role})" if role else text


# ------------------------------------------------------------------------------- locations


def _location(rep: SpecReport, span: Span | None, message: str | None) -> Json | None:
    if span is None or span.line <= 0 or not span.file or span.file.startswith("<"):
        return None
    region: Json = {"startLine": span.line}
    if span.col > 0:
        region["startColumn"] = span.col
    if span.end_line >= span.line and span.end_line > 0:
        region["endLine"] = span.end_line
        if span.end_col > 0 and (span.end_line > span.line or span.end_col > span.col):
            region["endColumn"] = span.end_col
    snippet = _snippet(rep, span)
    if snippet:
        region["snippet"] = {"text": snippet}
    loc: Json = {"physicalLocation": {"artifactLocation": artifact_location(span.file),
                                      "region": region}}
    if message:
        loc["message"] = {"text": message}
    return loc


def _file_only(path: str) -> Json:
    return {"physicalLocation": {"artifactLocation": artifact_location(path)}}


def _snippet(rep: SpecReport, span: Span) -> str:
    """The text of the span, from the sources the check read ("" when not at hand)."""
    text = rep.program.sources.get(span.file) if rep.program else None
    if text is None:
        return ""
    lines = text.splitlines()
    if span.line > len(lines):
        return ""
    if span.end_line < span.line or span.end_col <= 0 or span.col <= 0:
        return lines[span.line - 1]
    if span.end_line == span.line:
        return lines[span.line - 1][span.col - 1:span.end_col - 1]
    part = [lines[span.line - 1][span.col - 1:]]
    part += lines[span.line:min(span.end_line - 1, len(lines))]
    if span.end_line <= len(lines):
        part.append(lines[span.end_line - 1][:span.end_col - 1])
    return "\n".join(part)


def artifact_location(path: str) -> Json:
    """A file as SARIF names it: a relative path stays relative (to the folder drvmc ran in,
    as every path drvmc prints), an absolute one becomes a `file:` URI."""
    if os.path.isabs(path):
        return {"uri": Path(path).as_uri()}
    return {"uri": urllib.parse.quote(path.replace(os.sep, "/"))}


# ------------------------------------------------------------------------------- errors


def _notification(e: Mapping[str, Any]) -> Json:
    note: Json = {"level": "error", "message": {"text": str(e.get("message", ""))}}
    code = e.get("code")
    if code:
        note["descriptor"] = {"id": str(code)}
    file, line = e.get("file"), e.get("line")
    if isinstance(file, str) and file and isinstance(line, int) and line > 0:
        col, end_line, end_col = e.get("col"), e.get("end_line"), e.get("end_col")
        region: Json = {"startLine": line}
        if isinstance(col, int) and col > 0:
            region["startColumn"] = col
        if isinstance(end_line, int) and end_line >= line:
            region["endLine"] = end_line
            if isinstance(end_col, int) and end_col > 0 and (end_line > line or (
                    isinstance(col, int) and end_col > col)):
                region["endColumn"] = end_col
        note["locations"] = [{"physicalLocation": {
            "artifactLocation": artifact_location(file), "region": region}}]
    elif isinstance(file, str) and file:
        note["locations"] = [_file_only(file)]
    note["properties"] = {"kind": str(e.get("kind", "internal"))}
    return note
