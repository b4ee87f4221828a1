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
    # a deadlock: every actor that is not done, with the label of the step it cannot take
    waiting: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Cause:
    """Why a step is on the causal slice: a call chain (outermost call first, the call that
    wrote last; a look-up that decided a branch on the way ends in `?`) and the leaves it wrote
    that the violation depends on. An empty chain: the step's own statements wrote them."""

    chain: tuple[str, ...]
    leaves: tuple[str, ...]


@dataclass(frozen=True)
class StepSlice:
    """One step on the causal slice: its causes, the indices of its calls on the slice (the
    chains' calls made in this step), and the `either`/`choose` outcomes it made there."""

    index: int
    causes: tuple[Cause, ...]
    calls: tuple[int, ...] = ()
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class CausalSlice:
    """From the violated property back through the values it read to the steps and calls that
    wrote them (checker/verdict/slicing.py): `reads`, the leaves the failing check reads;
    `failing`, the call chain to it in the last step; `steps`, the steps on the slice in order
    (the last one included); `summary`, one paragraph saying what happened."""

    reads: tuple[str, ...]
    failing: tuple[str, ...]
    steps: tuple[StepSlice, ...]
    summary: str = ""

    def step(self, index: int) -> StepSlice | None:
        for s in self.steps:
            if s.index == index:
                return s
        return None


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
    # the causal slice (checker/verdict/slicing.py), when it was computed: renderers show it
    # first and fold the rest
    causal: CausalSlice | None = None

    @property
    def length(self) -> int:
        return len(self.steps)

    def states(self) -> list[dict[str, Value]]:
        return [self.initial, *(s.state for s in self.steps)]

    def context_switches(self) -> int:
        return sum(1 for a, b in zip(self.steps, self.steps[1:], strict=False)
                   if a.actor != b.actor)


@dataclass(frozen=True)
class Leaf:
    """One changed leaf of a variable: `live[iomap]`, `dev.refs`, or a whole list `devres`."""

    path: str
    keys: tuple[str, ...]  # the enum members indexing the path (`live[iomap]` → ("iomap",))
    old: Value
    new: Value

    def __str__(self) -> str:
        return f"{self.path}: {format_value(self.old)} → {format_value(self.new)}"


def leaves(ch: Change, members: frozenset[str]) -> list[Leaf]:
    """Split a variable's change into its changed leaves; lists stay whole (their content reads
    better than per-slot changes)."""
    out: list[Leaf] = []

    def walk(path: str, keys: tuple[str, ...], old: Value, new: Value) -> None:
        if old == new and type(old) is type(new):
            return
        if isinstance(old, dict) and isinstance(new, dict) and old.keys() == new.keys():
            for k in new:
                sub = f"{path}[{k}]" if k in members else f"{path}.{k}"
                walk(sub, (*keys, k) if k in members else keys, old[k], new[k])
            return
        if (isinstance(old, list) and isinstance(new, list) and len(old) == len(new)
                and not _is_list_of_scalars(old, new)):
            for i, (a, b) in enumerate(zip(old, new, strict=True)):
                walk(f"{path}[{i}]", keys, a, b)
            return
        out.append(Leaf(path, keys, old, new))

    walk(ch.var, (), ch.old, ch.new)
    return out


def _is_list_of_scalars(old: list[Value], new: list[Value]) -> bool:
    # a list of members/ints reads best whole (`devres: [grp, iomap] → [grp]`); arrays of
    # records are split per slot
    return all(not isinstance(x, dict | list) for x in (*old, *new))


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
