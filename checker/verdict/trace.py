"""A counterexample or witness as plain data: no z3 or lark objects, JSON-friendly values.

Values are Python data: bool, int, str (an enum member), None (null), list (lists and int-indexed
arrays), dict (records, and enum-indexed arrays keyed by member name).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

Value = Any  # bool | int | str | None | list[Value] | dict[str, Value]


@dataclass(frozen=True)
class Loc:
    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" + (f":{self.col}" if self.col else "")


@dataclass(frozen=True)
class CallRecord:
    """A driver-core (procedure) call made during a step; depth 0 is called by the step itself."""

    depth: int
    proc: str
    args: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.proc}({', '.join(self.args)})"


@dataclass(frozen=True)
class Change:
    var: str
    old: Value
    new: Value


@dataclass(frozen=True)
class TraceStep:
    index: int  # 1-based; state `index` is the state after this step
    actor: str
    label: str
    loc: Loc
    calls: tuple[CallRecord, ...]
    state: dict[str, Value] = field(compare=True)
    changes: tuple[Change, ...] = ()
    source: str = ""  # the step's source line (stripped), when the source was at hand


@dataclass(frozen=True)
class Violation:
    prop: str
    kind: str  # assert, invariant, final, reachable, deadlock
    message: str
    loc: Loc | None
    source: str = ""  # the assertion's (or property's) source line, when at hand


@dataclass(frozen=True)
class Trace:
    spec: str
    variant: str
    prop: str
    kind: str
    initial: dict[str, Value]
    steps: tuple[TraceStep, ...]
    violation: Violation
    # every enum member of the model, when known: tells handles/indices (objects) apart from
    # record fields in the plain values; empty means "guess from the call arguments"
    members: tuple[str, ...] = ()
    # procedures that change no state and assert nothing (look-ups such as `component_device`):
    # renderers leave them out of nested calls; empty means "show every call"
    queries: tuple[str, ...] = ()

    @property
    def length(self) -> int:
        return len(self.steps)

    def states(self) -> list[dict[str, Value]]:
        return [self.initial, *(s.state for s in self.steps)]

    def context_switches(self) -> int:
        return sum(1 for a, b in zip(self.steps, self.steps[1:], strict=False)
                   if a.actor != b.actor)


def source_line(sources: Mapping[str, str], loc: Loc | None) -> str:
    """The stripped text of `loc`'s line, or "" when the file is not at hand."""
    if loc is None or loc.line <= 0:
        return ""
    text = sources.get(loc.file)
    if text is None:
        return ""
    lines = text.splitlines()
    return lines[loc.line - 1].strip() if loc.line <= len(lines) else ""


def with_sources(trace: Trace, sources: Mapping[str, str]) -> Trace:
    """The trace with each step's and the violation's source line filled in from `sources`."""
    steps = tuple(replace(s, source=s.source or source_line(sources, s.loc)) for s in trace.steps)
    v = trace.violation
    return replace(trace, steps=steps,
                   violation=replace(v, source=v.source or source_line(sources, v.loc)))


def diff_states(old: dict[str, Value], new: dict[str, Value]) -> tuple[Change, ...]:
    return tuple(Change(k, old.get(k), v) for k, v in new.items() if old.get(k) != v)


def format_value(v: Value) -> str:
    match v:
        case None:
            return "null"
        case bool():
            return "true" if v else "false"
        case int() | str():
            return str(v)
        case list():
            return "[" + ", ".join(format_value(x) for x in v) + "]"
        case dict():
            return "{" + ", ".join(f"{k}: {format_value(x)}" for k, x in v.items()) + "}"
        case _:
            return repr(v)
