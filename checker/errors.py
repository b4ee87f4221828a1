"""The one exception tree of drvmc. Library code raises; only the CLI prints and exits."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


@dataclass(frozen=True)
class Span:
    """A region of a source file, 1-based lines and columns, end exclusive."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


NO_SPAN = Span("<builtin>", 0, 0, 0, 0)


class ExitCode(IntEnum):
    """Exit codes of the CLI, documented in the README."""

    OK = 0
    VIOLATION = 1
    UNKNOWN = 2
    SPEC_ERROR = 3
    INTERNAL = 4
    INTERRUPTED = 130


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    span: Span
    notes: tuple[str, ...] = field(default=())


class DrvmcError(Exception):
    """Root of every error drvmc raises on purpose."""

    exit_code: ExitCode = ExitCode.INTERNAL


class SpecError(DrvmcError):
    """One or more problems in the user's spec, each with a position."""

    exit_code = ExitCode.SPEC_ERROR

    def __init__(self, diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__("; ".join(f"{d.span}: {d.message}" for d in self.diagnostics))


class UsageError(DrvmcError):
    """A bad command line: unknown variant or property, a missing file, a bound too large."""

    exit_code = ExitCode.SPEC_ERROR


class Interrupted(DrvmcError):
    """Ctrl-C or SIGTERM during a check; `partial` holds what was known when it came (an engine's
    list of Results, or the driver's SpecReport)."""

    exit_code = ExitCode.INTERRUPTED

    def __init__(self, partial: object) -> None:
        self.partial = partial
        super().__init__("interrupted")


class _InterruptFlag:
    """Whether SIGINT or SIGTERM has arrived in this process.

    Set by the CLI's signal handlers (the only place a signal is taken) before they raise
    KeyboardInterrupt. That exception can surface as something else -- ctypes turns one raised
    while it converts an argument into `ctypes.ArgumentError`, a cancelled solver makes an engine
    fail in its own way -- so the driver and the CLI read any error that comes while the flag is
    set as the interrupt, never as an internal error.
    """

    requested = False


def request_interrupt() -> None:
    _InterruptFlag.requested = True


def interrupt_requested() -> bool:
    return _InterruptFlag.requested


def clear_interrupt() -> None:
    """For tests: forget an interrupt (a process that took one ends, so nothing else clears it)."""
    _InterruptFlag.requested = False


class EngineError(DrvmcError):
    """An engine could not answer (not a verdict): internal inconsistency."""

    exit_code = ExitCode.INTERNAL


class Unsupported(EngineError):
    """An engine or an export refuses a construct it does not handle: said, never skipped.

    The message names the construct and the tool; the CLI reports it as an error (exit 4),
    never as a verdict. tests/test_ir_coverage.py accepts this and only this in place of an
    answer."""


class Diagnostics:
    """Collects the diagnostics of one phase so they are reported together."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def error(self, code: str, message: str, span: Span) -> None:
        self.items.append(Diagnostic(code, message, span))

    def raise_if_any(self) -> None:
        if self.items:
            ordered = sorted(self.items, key=lambda d: (d.span.file, d.span.line, d.span.col))
            raise SpecError(ordered)


def render_diagnostic(d: Diagnostic, source: str | None) -> str:
    """`file:line:col: error[CODE]: message`, then the source line and a caret under the span."""
    out = [f"{d.span}: error[{d.code}]: {d.message}"]
    if source is not None and d.span.line > 0:
        lines = source.splitlines()
        if d.span.line <= len(lines):
            text = lines[d.span.line - 1].expandtabs(1)
            out.append(f"  {d.span.line:>4} | {text}")
            width = 1
            if d.span.end_line == d.span.line and d.span.end_col > d.span.col:
                width = d.span.end_col - d.span.col
            out.append("       | " + " " * (d.span.col - 1) + "^" * width)
    out.extend(f"  note: {n}" for n in d.notes)
    return "\n".join(out)
