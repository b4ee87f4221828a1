"""Trace ↔ ITF, the Informal Trace Format of Apalache and Quint (Apalache ADR-015).

The spec's state variables become ITF variables with tagged values: ints are `{"#bigint": "5"}`,
lists and int-indexed arrays JSON arrays, records and enum-indexed arrays JSON objects, enum
members strings, and a null handle Quint's `None` variant `{"tag": "None", "value": {"#tup": []}}`.
What happened in each step is kept in extra variables that ITF viewers show beside the state:
`drvmc::step`, `drvmc::actor`, `drvmc::label`, `drvmc::calls`, and Quint's `mbt::actionTaken`
(`actor.label`, `init` for state 0). The rest (locations, source lines, the per-step changes and
the violation) lives in `#meta`, as plain JSON, so `itf_to_trace(trace_to_itf(t)) == t`.
"""

from __future__ import annotations

import json
from typing import Any

from drvmc.checker.errors import UsageError
from drvmc.checker.verdict.trace import CallRecord, Change, Loc, Trace, TraceStep, Value, Violation
from drvmc.counterexamples.json_trace import causal_from_json, causal_to_json

FORMAT_URL = "https://apalache-mc.org/docs/adr/015adr-trace.html"
STEP, ACTOR, LABEL, CALLS, ACTION = ("drvmc::step", "drvmc::actor", "drvmc::label",
                                     "drvmc::calls", "mbt::actionTaken")
EXTRA_VARS = (STEP, ACTOR, LABEL, CALLS, ACTION)
NONE_VARIANT: dict[str, Any] = {"tag": "None", "value": {"#tup": []}}


class ItfError(UsageError):
    """A file that is not an ITF trace written by drvmc."""


# ---------------------------------------------------------------------- values


def to_itf_value(v: Value) -> Any:
    match v:
        case None:
            return dict(NONE_VARIANT)
        case bool():  # before int: bool is an int in Python
            return v
        case int():
            return {"#bigint": str(v)}
        case str():
            return v
        case list():
            return [to_itf_value(x) for x in v]
        case dict():
            return {str(k): to_itf_value(x) for k, x in v.items()}
        case _:
            raise TypeError(f"not a trace value: {v!r}")


def from_itf_value(x: Any) -> Value:
    match x:
        case bool() | str():
            return x
        case int():  # small ints may be plain JSON numbers (ADR-015)
            return x
        case list():
            return [from_itf_value(y) for y in x]
        case {"#bigint": str(n)}:
            try:
                return int(n)
            except ValueError:
                raise ItfError(f"bad #bigint {n!r}") from None
        case {"#tup": list(ys)} | {"#set": list(ys)}:
            return [from_itf_value(y) for y in ys]
        case {"#map": list(pairs)}:
            out: dict[str, Value] = {}
            for p in pairs:
                if not (isinstance(p, list) and len(p) == 2):
                    raise ItfError("#map entries must be [key, value] pairs")
                out[str(from_itf_value(p[0]))] = from_itf_value(p[1])
            return out
        case {"tag": "None", "value": {"#tup": []}} if len(x) == 2:
            return None
        case {"#unserializable": str(s)}:
            raise ItfError(f"unserializable value in trace: {s}")
        case dict():
            return {k: from_itf_value(y) for k, y in x.items()}
        case _:
            raise ItfError(f"not an ITF value: {x!r}")


# ---------------------------------------------------------------------- traces


def _loc(loc: Loc | None) -> dict[str, Any] | None:
    return None if loc is None else {"file": loc.file, "line": loc.line, "col": loc.col}


def _unloc(x: Any) -> Loc | None:
    if x is None:
        return None
    try:
        return Loc(str(x["file"]), int(x["line"]), int(x["col"]))
    except (KeyError, TypeError, ValueError):
        raise ItfError(f"bad location {x!r}") from None


def trace_to_itf(t: Trace) -> dict[str, Any]:
    v = t.violation
    names: list[str] = []
    for st in t.states():
        names.extend(k for k in st if k not in names)
    states: list[dict[str, Any]] = [{
        "#meta": {"index": 0},
        **{k: to_itf_value(x) for k, x in t.initial.items()},
        STEP: {"#bigint": "0"}, ACTOR: "", LABEL: "", CALLS: [], ACTION: "init",
    }]
    for i, s in enumerate(t.steps, start=1):
        meta: dict[str, Any] = {
            "index": i, "loc": _loc(s.loc),
            "changes": [{"var": c.var, "old": c.old, "new": c.new} for c in s.changes],
        }
        if s.source:
            meta["source"] = s.source
        states.append({
            "#meta": meta,
            **{k: to_itf_value(x) for k, x in s.state.items()},
            STEP: {"#bigint": str(s.index)},
            ACTOR: s.actor,
            LABEL: s.label,
            CALLS: [{"depth": {"#bigint": str(c.depth)}, "proc": c.proc, "args": list(c.args)}
                    for c in s.calls],
            ACTION: f"{s.actor}.{s.label}",
        })
    kind = "witness" if v.kind == "reachable" else "counterexample"
    return {
        "#meta": {
            "format": "ITF",
            "format-description": FORMAT_URL,
            "source": v.loc.file if v.loc else t.spec,
            "description": f"drvmc {kind}: {t.spec} [{t.variant}] {t.prop}: {v.message}",
            "drvmc": {
                "spec": t.spec, "variant": t.variant, "property": t.prop, "kind": t.kind,
                "members": list(t.members),
                "queries": list(t.queries),
                "causal": causal_to_json(t.causal),
                "violation": {"property": v.prop, "kind": v.kind, "message": v.message,
                              "loc": _loc(v.loc), "source": v.source},
            },
        },
        "vars": [*names, *EXTRA_VARS],
        "states": states,
    }


def _state(st: dict[str, Any]) -> dict[str, Value]:
    return {k: from_itf_value(x) for k, x in st.items()
            if k != "#meta" and k not in EXTRA_VARS}


def itf_to_trace(d: Any) -> Trace:
    """A Trace from an ITF trace that drvmc wrote (`ItfError` for anything else)."""
    try:
        meta = d["#meta"]["drvmc"]
        states = d["states"]
        if not isinstance(states, list) or not states:
            raise ItfError("an ITF trace needs at least one state")
        steps = []
        for i, st in enumerate(states[1:], start=1):
            sm = st["#meta"]
            loc = _unloc(sm["loc"])
            if loc is None:
                raise ItfError(f"state {i}: no step location")
            index = from_itf_value(st[STEP])
            if not isinstance(index, int):
                raise ItfError(f"state {i}: bad {STEP}")
            calls = []
            for c in st[CALLS]:
                depth = from_itf_value(c["depth"])
                if not isinstance(depth, int):
                    raise ItfError(f"state {i}: bad call depth")
                calls.append(CallRecord(depth, str(c["proc"]), tuple(str(a) for a in c["args"])))
            steps.append(TraceStep(
                index, str(st[ACTOR]), str(st[LABEL]), loc, tuple(calls), _state(st),
                tuple(Change(str(c["var"]), c["old"], c["new"]) for c in sm["changes"]),
                str(sm.get("source", "")),
            ))
        v = meta["violation"]
        return Trace(
            str(meta["spec"]), str(meta["variant"]), str(meta["property"]), str(meta["kind"]),
            _state(states[0]), tuple(steps),
            Violation(str(v["property"]), str(v["kind"]), str(v["message"]), _unloc(v["loc"]),
                      str(v.get("source", ""))),
            tuple(str(m) for m in meta.get("members", [])),
            tuple(str(q) for q in meta.get("queries", [])),
            causal_from_json(meta.get("causal")),
        )
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        raise ItfError(f"not an ITF trace written by drvmc (missing or bad {e})") from None


def dumps_itf(t: Trace) -> str:
    """The ITF JSON text: deterministic (insertion order, fixed indentation)."""
    return json.dumps(trace_to_itf(t), indent=2, ensure_ascii=False) + "\n"


def loads_itf(text: str) -> Trace:
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise ItfError(f"not JSON: {e}") from None
    return itf_to_trace(d)
