"""Trace ↔ plain JSON (drvmc's own schema, used inside `--format json`)."""

from __future__ import annotations

from typing import Any

from drvmc.checker.verdict.trace import CallRecord, Change, Loc, Trace, TraceStep, Violation


def _loc(loc: Loc | None) -> dict[str, Any] | None:
    return None if loc is None else {"file": loc.file, "line": loc.line, "col": loc.col}


def trace_to_json(t: Trace) -> dict[str, Any]:
    return {
        "spec": t.spec,
        "variant": t.variant,
        "property": t.prop,
        "kind": t.kind,
        "length": t.length,
        "initial": t.initial,
        "steps": [
            {
                "index": s.index,
                "actor": s.actor,
                "label": s.label,
                "loc": _loc(s.loc),
                "calls": [{"depth": c.depth, "proc": c.proc, "args": list(c.args)}
                          for c in s.calls],
                "changes": [{"var": c.var, "old": c.old, "new": c.new} for c in s.changes],
                "state": s.state,
                "source": s.source,
            }
            for s in t.steps
        ],
        "violation": {
            "property": t.violation.prop,
            "kind": t.violation.kind,
            "message": t.violation.message,
            "loc": _loc(t.violation.loc),
            "source": t.violation.source,
        },
        "members": list(t.members),
        "queries": list(t.queries),
    }


def trace_from_json(d: dict[str, Any]) -> Trace:
    def loc(x: dict[str, Any] | None) -> Loc | None:
        return None if x is None else Loc(x["file"], x["line"], x["col"])

    steps = []
    for s in d["steps"]:
        sl = loc(s["loc"])
        assert sl is not None
        steps.append(TraceStep(
            s["index"], s["actor"], s["label"], sl,
            tuple(CallRecord(c["depth"], c["proc"], tuple(c["args"])) for c in s["calls"]),
            s["state"],
            tuple(Change(c["var"], c["old"], c["new"]) for c in s["changes"]),
            s.get("source", ""),
        ))
    v = d["violation"]
    return Trace(d["spec"], d["variant"], d["property"], d["kind"], d["initial"], tuple(steps),
                 Violation(v["property"], v["kind"], v["message"], loc(v["loc"]),
                           v.get("source", "")),
                 tuple(d.get("members", ())), tuple(d.get("queries", ())))
