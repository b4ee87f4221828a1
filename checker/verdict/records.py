"""What checking and comparing hand on: plain, engine-free records of results.

`SpecReport` (one spec's rows, variant by variant) comes out of `app.driver`, `Comparison` out of
`app.compare`; the renderers (counterexamples/) and the CLI read them, and nothing here knows how
they were computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from drvmc.checker.ir import nodes as I
from drvmc.checker.lang.loader import Program
from drvmc.checker.verdict.results import Result
from drvmc.checker.verdict.trace import Value, format_value


@dataclass(frozen=True)
class Row:
    variant: str
    result: Result
    expected: str
    ok: bool


@dataclass
class SpecReport:
    path: str
    spec: str
    description: str
    variants: list[str]
    rows: list[Row] = field(default_factory=list)
    models: dict[str, I.Model] = field(default_factory=dict)
    program: Program | None = None
    seconds: float = 0.0

    def row(self, variant: str, prop: str) -> Row | None:
        for r in self.rows:
            if r.variant == variant and r.result.prop == prop:
                return r
        return None

    def result(self, variant: str, prop: str) -> Result | None:
        r = self.row(variant, prop)
        return None if r is None else r.result


class ReplayStatus(Enum):
    BLOCKED = "blocked"  # the fix cannot follow the original's actor schedule
    AVOIDED = "avoided"  # it follows the whole schedule, and the violation does not happen
    REPRODUCED = "reproduced"  # the fix's run with the original's schedule is still bad
    UNKNOWN = "unknown"  # the solver could not tell


@dataclass(frozen=True)
class Difference:
    """A state variable that differs, just before the runs part (or at their end)."""

    var: str
    original: Value
    fix: Value

    def __str__(self) -> str:
        return f"{self.var} = {format_value(self.fix)} (original: {format_value(self.original)})"


@dataclass(frozen=True)
class Replay:
    """The original's counterexample for `prop`, replayed under one fix."""

    prop: str
    length: int  # of the original's counterexample
    status: ReplayStatus
    followed: int  # steps of the original's schedule the fix can follow
    actor: str = ""  # BLOCKED: the original's step the fix cannot take
    label: str = ""
    fix_label: str = ""  # BLOCKED: where that actor stands in the fix ("" when done/absent)
    why: str = ""  # BLOCKED: what stops it; UNKNOWN: the solver's reason
    differences: tuple[Difference, ...] = ()
    fix_steps: tuple[str, ...] = ()  # "actor label" of each step the fix's run took

    @property
    def parted_at(self) -> int | None:
        """1-based index of the original's step that the fix cannot take."""
        return self.followed + 1 if self.status is ReplayStatus.BLOCKED else None

    @property
    def blocked(self) -> bool | None:
        """Whether the fix stops this counterexample; None when the solver could not tell."""
        match self.status:
            case ReplayStatus.BLOCKED | ReplayStatus.AVOIDED:
                return True
            case ReplayStatus.REPRODUCED:
                return False
            case ReplayStatus.UNKNOWN:
                return None

    def summary(self) -> str:
        match self.status:
            case ReplayStatus.BLOCKED:
                text = f"blocked at step {self.parted_at}: {self.actor} {self.label} — {self.why}"
            case ReplayStatus.AVOIDED:
                text = (f"blocked without parting: the fix takes all {self.length} steps "
                        "and the violation does not happen")
            case ReplayStatus.REPRODUCED:
                text = (f"NOT blocked: the fix's run with the same {self.length} steps is still "
                        "bad: " + " → ".join(self.fix_steps))
            case ReplayStatus.UNKNOWN:
                return f"unknown after {self.followed} steps ({self.why})"
        if self.differences:
            when = "before it" if self.status is ReplayStatus.BLOCKED else "at the end"
            text += f"; {when}: " + ", ".join(str(d) for d in self.differences)
        return text


class Change(Enum):
    """How a property's result moves from the original to a fix."""

    FIXED = "fixed"  # violated in the original, safe or proven in the fix
    STILL_VIOLATED = "still violated"
    NEW_VIOLATION = "new violation"  # safe in the original, violated in the fix
    NEW_DEADLOCK = "new deadlock"
    LOST_TARGET = "lost target"  # reached in the original, not in the fix
    UNDECIDED = "undecided"  # a solver unknown on either side
    SAME = "same"


@dataclass(frozen=True)
class PropChange:
    prop: str
    change: Change
    original: Result | None
    fix: Result | None
    reached_by: str = ""  # LOST_TARGET: the variant that reaches it (the original if it does)


@dataclass(frozen=True)
class FixComparison:
    variant: str
    description: str
    replays: tuple[Replay, ...]
    changes: tuple[PropChange, ...]

    def of(self, change: Change) -> tuple[PropChange, ...]:
        return tuple(c for c in self.changes if c.change is change)


@dataclass(frozen=True)
class Comparison:
    report: SpecReport
    original: str
    properties: tuple[str, ...]
    fixes: tuple[FixComparison, ...]
    seconds: float

    def row(self, variant: str, prop: str) -> Row | None:
        return self.report.row(variant, prop)
