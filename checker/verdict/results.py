"""What an engine says about one property of one variant, as plain data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from drvmc.checker.ir import nodes as I
from drvmc.checker.verdict.trace import Trace


class Status(Enum):
    VIOLATED = "VIOLATED"  # a counterexample (trace) exists
    SAFE = "SAFE"  # no violation up to `depth` steps
    PROVEN = "PROVEN"  # no violation in any run
    REACHABLE = "REACHABLE"  # a `reachable` target with its witness trace
    NOT_REACHED = "NOT_REACHED"  # a `reachable` target not reached up to `depth`
    UNREACHABLE = "UNREACHABLE"  # a `reachable` target reached by no run
    UNKNOWN = "UNKNOWN"  # the solver could not answer (time-out, resource limit)
    NO_CHECK = "NO_CHECK"  # the variant has no check of this kind: nothing to check, no proof


def status_word(status: Status) -> str:
    """The verdict's word in every text drvmc writes (docs/JSON.md, "Verdict words")."""
    match status:
        case Status.VIOLATED:
            return "VIOLATED"
        case Status.SAFE:
            return "SAFE"
        case Status.PROVEN:
            return "PROVEN"
        case Status.REACHABLE:
            return "REACHED"
        case Status.NOT_REACHED:
            return "NOT REACHED"
        case Status.UNREACHABLE:
            return "UNREACHABLE"
        case Status.UNKNOWN:
            return "UNKNOWN"
        case Status.NO_CHECK:
            return "NO CHECK"


def short_text(status: Status, depth: int) -> str:
    """A verdict in a few characters: VIOLATED 3, SAFE≤40, PROVEN, REACHED 2, NOT REACHED≤40,
    UNREACHABLE, UNKNOWN, NO CHECK (matrix cells, baselines, the expected column's words)."""
    word = status_word(status)
    match status:
        case Status.VIOLATED | Status.REACHABLE:
            return f"{word} {depth}"
        case Status.SAFE | Status.NOT_REACHED:
            return f"{word}≤{depth}"
        case Status.PROVEN | Status.UNREACHABLE | Status.UNKNOWN | Status.NO_CHECK:
            return word


@dataclass(frozen=True)
class Result:
    prop: str
    kind: I.PropKind
    status: Status
    depth: int  # VIOLATED/REACHABLE: trace length; SAFE/NOT_REACHED: bound; PROVEN: see engine
    engine: str
    reason: str = ""  # UNKNOWN: why; PROVEN: how; SAFE: a question the search left open
    trace: Trace | None = None
    seconds: float = 0.0
    interrupted: bool = False  # SAFE/NOT_REACHED/UNKNOWN because the check was interrupted
    invariant: str | None = None  # PROVEN/UNREACHABLE by pdr: the inductive invariant, spec names
    vacuous: str = ""  # PROVEN/SAFE while a `reachable` target is not reached: which and how
    states: int = 0  # explicit engine: states explored when the result was known
    # SAFE/NOT_REACHED: an unbounded engine (Spacer) found a bad state (the target) reachable,
    # but only beyond `depth` steps, so there is no trace; says which engine and what to do
    beyond: str = ""
    # a proof (or bound) that holds only under these declared simplifications of the library
    # (I.Model.assumptions): the model is coarser than the kernel on code this spec reaches
    assumes: tuple[str, ...] = ()

    def verdict_text(self) -> str:
        text = self._verdict_text()
        if self.assumes:
            text += f" (assumes: {', '.join(self.assumes)})"
        return f"{text} (vacuous: {self.vacuous})" if self.vacuous else text

    def _verdict_text(self) -> str:
        match self.status:
            case Status.VIOLATED:
                return f"VIOLATED at length {self.depth}"
            case Status.REACHABLE:
                return f"REACHED at length {self.depth}"
            case Status.SAFE:
                if self.beyond:
                    return f"SAFE≤{self.depth}, VIOLATED beyond the bound ({self.beyond})"
                return f"SAFE≤{self.depth}" + (" (interrupted)" if self.interrupted else "")
            case Status.NOT_REACHED:
                if self.beyond:
                    return f"NOT REACHED≤{self.depth}, REACHABLE beyond the bound ({self.beyond})"
                return f"NOT REACHED≤{self.depth}" + (" (interrupted)" if self.interrupted
                                                       else "")
            case Status.PROVEN:
                return f"PROVEN ({self.reason})" if self.reason else "PROVEN"
            case Status.UNREACHABLE:
                return f"UNREACHABLE ({self.reason})" if self.reason else "UNREACHABLE"
            case Status.UNKNOWN:
                return f"UNKNOWN ({self.reason})" if self.reason else "UNKNOWN"
            case Status.NO_CHECK:
                return f"NO CHECK ({self.reason})" if self.reason else "NO CHECK"


def matches(result: Result, expect: I.Expect | None) -> bool:
    """Whether a result is what the spec's `expect` lines (or the default) ask for.

    Without an expect line: assertion, invariant, final and deadlock properties must not be
    violated (SAFE≤k or PROVEN), `reachable` targets must be reached.

    A bounded result with a violation (target) known to be reachable beyond the bound matches no
    expectation: not safety or UNREACHABLE, which it refutes, nor VIOLATED or REACHABLE, which
    need a trace (and its length) to be confirmed.
    """
    st = result.status
    if result.beyond:
        return False
    if st is Status.NO_CHECK:
        return expect is None  # nothing can fail; an expectation of it cannot be met
    if expect is None:
        if result.kind is I.PropKind.REACHABLE:
            return st is Status.REACHABLE
        return st in (Status.SAFE, Status.PROVEN)
    match expect.verdict:
        case I.Verdict.VIOLATED:
            return st is Status.VIOLATED and (expect.length is None or
                                              expect.length == result.depth)
        case I.Verdict.SAFE:
            return st in (Status.SAFE, Status.PROVEN)
        case I.Verdict.PROVEN:
            return st is Status.PROVEN
        case I.Verdict.REACHABLE:
            return st is Status.REACHABLE and (expect.length is None or
                                               expect.length == result.depth)
        case I.Verdict.UNREACHABLE:
            return st in (Status.UNREACHABLE, Status.NOT_REACHED)


def expectation_for(model: I.Model, prop: str) -> I.Expect | None:
    general: I.Expect | None = None
    for e in model.expects:
        if e.prop == prop:
            return e
        if e.prop is None:
            general = e
    if general is not None:
        p = model.prop(prop)
        # `expect v: PROVEN` speaks of the safety properties; targets keep their default.
        if p.kind is I.PropKind.REACHABLE and general.verdict not in (
            I.Verdict.REACHABLE, I.Verdict.UNREACHABLE):
            return None
    return general


def expect_word(verdict: I.Verdict) -> str:
    """An `expect` line's verdict in the verdict words (SAFE: SAFE≤k or PROVEN; UNREACHABLE:
    NOT REACHED≤k or UNREACHABLE)."""
    match verdict:
        case I.Verdict.VIOLATED:
            return status_word(Status.VIOLATED)
        case I.Verdict.SAFE:
            return status_word(Status.SAFE)
        case I.Verdict.PROVEN:
            return status_word(Status.PROVEN)
        case I.Verdict.REACHABLE:
            return status_word(Status.REACHABLE)
        case I.Verdict.UNREACHABLE:
            return status_word(Status.UNREACHABLE)


def expect_text(model: I.Model, prop: str) -> str:
    """What the spec asks of `prop`, in the verdict words: `VIOLATED 6`, `SAFE`, `PROVEN`,
    `REACHED`, ...; without an `expect` line, SAFE (REACHED for a `reachable` target)."""
    e = expectation_for(model, prop)
    if e is None:
        return status_word(Status.REACHABLE if model.prop(prop).kind is I.PropKind.REACHABLE
                           else Status.SAFE)
    return expect_word(e.verdict) + (f" {e.length}" if e.length is not None else "")
