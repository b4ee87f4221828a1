"""Trace ↔ plain JSON (drvmc's own schema, used inside `--format json`)."""

from __future__ import annotations

from typing import Any

from drvmc.checker.verdict.trace import (
    CallRecord,
    CausalSlice,
    Cause,
    Change,
    Loc,
    StepSlice,
    Trace,
    TraceStep,
    Violation,
)


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
            **({"waiting": [{"actor": a, "label": lab} for a, lab in t.violation.waiting]}
               if t.violation.waiting else {}),
        },
        "members": list(t.members),
        "queries": list(t.queries),
        "causal": causal_to_json(t.causal),
    }


def causal_to_json(c: CausalSlice | None) -> dict[str, Any] | None:
    """The causal slice (docs/JSON.md, *causal*), or None."""
    if c is None:
        return None
    return {
        "summary": c.summary,
        "reads": list(c.reads),
        "failing": list(c.failing),
        "steps": [{"index": s.index, "calls": list(s.calls), "choices": list(s.choices),
                   "causes": [{"chain": list(x.chain), "leaves": list(x.leaves)}
                              for x in s.causes]}
                  for s in c.steps],
    }


def causal_from_json(d: Any) -> CausalSlice | None:
    if not isinstance(d, dict):
        return None
    return CausalSlice(
        tuple(str(x) for x in d["reads"]), tuple(str(x) for x in d["failing"]),
        tuple(StepSlice(int(s["index"]),
                        tuple(Cause(tuple(str(x) for x in c["chain"]),
                                    tuple(str(x) for x in c["leaves"])) for c in s["causes"]),
                        tuple(int(i) for i in s["calls"]), tuple(str(x) for x in s["choices"]))
              for s in d["steps"]),
        str(d.get("summary", "")))


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
                           v.get("source", ""),
                           tuple((w["actor"], w["label"]) for w in v.get("waiting", ()))),
                 tuple(d.get("members", ())), tuple(d.get("queries", ())),
                 causal_from_json(d.get("causal")))
