"""The `drvmc` command line. The only module that prints and exits.

Start-up order matters: the console script (`checker.cli:main`) imports this module and calls
`main()`, which installs the SIGINT/SIGTERM handlers before anything slow is imported. So this
module imports only the standard library and `checker.errors` at the top; typer, z3 and the
checker itself are imported inside the functions that need them, and the typer application is
built on first use (`app`, for `typer.testing.CliRunner`, is built by the module's `__getattr__`).
The commands' annotations stay strings until typer reads them (`from __future__ import
annotations`), by which time `_get_app` has bound `typer` in this module.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, assert_never

from drvmc.checker.app.collector import use_drvmc_thresholds
from drvmc.checker.errors import (
    DrvmcError,
    ExitCode,
    Interrupted,
    SpecError,
    UsageError,
    interrupt_requested,
    render_diagnostic,
    request_interrupt,
)

if TYPE_CHECKING:
    import types
    from collections.abc import Callable

    import rich.console
    import rich.progress
    import typer

    from drvmc.checker.app.baseline import Key, Outcome
    from drvmc.checker.app.distributed import Matrix
    from drvmc.checker.app.driver import CheckOptions, VariantStart
    from drvmc.checker.verdict.records import SpecReport
    from drvmc.checker.verdict.trace import Trace

# checker.portfolio.AUTO_EXPLICIT_STATES, repeated so that `--help` needs no engine imported
# (tests/test_cli_robustness.py checks that the two agree)
AUTO_EXPLICIT_STATES = 100_000


class Format(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"  # SARIF 2.1.0, for code scanning (counterexamples/sarif.py)
    junit = "junit"  # JUnit XML, for CI dashboards (counterexamples/junit.py)


# formats that are one document on stdout, whatever the exit code (no progress, no tables)
DOCUMENT_FORMATS = frozenset({Format.json, Format.sarif, Format.junit})


class EngineChoice(StrEnum):
    """`--engine`: the keys of `app.driver.ENGINES`, repeated so that `--help` needs no engine
    imported (tests/test_cli_conventions.py checks that the two agree)."""

    auto = "auto"
    bmc = "bmc"
    kind = "kind"
    pdr = "pdr"
    explicit = "explicit"


# ------------------------------------------------------------------------------- printing


def _echo(msg: str | bytes, err: bool = False, nl: bool = True) -> None:
    import typer

    typer.echo(msg, err=err, nl=nl)


def _err(msg: str) -> None:
    _echo(msg, err=True)


def _print_error(e: DrvmcError, sources: dict[str, str] | None = None) -> None:
    if isinstance(e, SpecError):
        for d in e.diagnostics:
            src = (sources or {}).get(d.span.file)
            if src is None:
                try:
                    src = Path(d.span.file).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError, ValueError):
                    src = None
            _err(render_diagnostic(d, src))
        n = len(e.diagnostics)
        _err(f"{n} error{'s' if n != 1 else ''}")
    elif isinstance(e, Interrupted):
        _say_interrupted("drvmc: interrupted")
    elif e.exit_code == ExitCode.INTERNAL:
        _print_internal(e)
    else:
        _err(f"drvmc: error: {e}")


def _print_internal(e: BaseException) -> None:
    _err(f"drvmc: internal error: {type(e).__name__}: {e}")
    _err("please report this with the spec that caused it")


def error_json(e: BaseException, file: str | None = None) -> list[dict[str, Any]]:
    """The `errors` entries of the JSON document for one error (one per spec diagnostic)."""
    if isinstance(e, SpecError):
        return [{"kind": "spec", "code": d.code, "message": d.message, "file": d.span.file,
                 "line": d.span.line, "col": d.span.col, "end_line": d.span.end_line,
                 "end_col": d.span.end_col, "notes": list(d.notes)}
                for d in e.diagnostics]
    if isinstance(e, DrvmcError) and e.exit_code == ExitCode.SPEC_ERROR:
        kind, message = "usage", str(e)
    else:
        kind, message = "internal", f"{type(e).__name__}: {e}"
    return [{"kind": kind, "code": None, "message": message, "file": file, "line": None,
             "col": None, "end_line": None, "end_col": None, "notes": []}]


class _Output:
    """What went out already: `main` prints a JSON document, or says "interrupted", only if no
    command did."""

    document_printed = False  # the JSON, SARIF or JUnit document
    interrupt_said = False


def _say_interrupted(message: str) -> None:
    _Output.interrupt_said = True
    _err(message)


def _print_json(doc: dict[str, Any]) -> None:
    _print_document(_dumps(doc))


def _print_document(text: str) -> None:
    _Output.document_printed = True
    _echo(text.rstrip("\n"))


def _dumps(doc: dict[str, Any]) -> str:
    import json

    return json.dumps(doc, indent=2)


def _on_terminal() -> bool:
    """Whether a progress display may be drawn: stdout and stderr are both a terminal."""
    return sys.stdout.isatty() and sys.stderr.isatty()


class _Progress:
    """What a check is doing, on a terminal (rich): the spec, the variant (i of n), its
    properties, the depth reached of the bound, the time spent and the solver calls (states, for
    the explicit search). Silent when not enabled.

    The data flows one way: the engines report `(variant, depth, elapsed, calls)` through the
    driver's `Progress` callback (`__call__`), the driver tells when a variant starts
    (`variant`); only this class draws, on stderr, and `clear` erases it before the results are
    printed. The auto engine's workers name themselves after the variant (`original kind`); its
    explicit pass, like the explicit engine, counts states, not solver calls.
    """

    def __init__(self, enabled: bool, spec: str, bound: int, engine: str = "auto",
                 console: rich.console.Console | None = None) -> None:
        self.spec = spec
        self.bound = bound
        self.engine = engine
        self.last = 0.0
        self.shown = False  # an engine's report is on the display (not only the variant)
        self.where = ""  # variant, and i/n when the driver said
        self.props = ""
        self._bar: rich.progress.Progress | None = None
        self._task: rich.progress.TaskID | None = None
        if enabled:
            self._start(console)

    def _start(self, console: rich.console.Console | None) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
        from rich.table import Column

        self._bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}", markup=False,
                       table_column=Column(no_wrap=True, overflow="ellipsis")),
            TextColumn("{task.fields[depth]}", markup=False),
            TimeElapsedColumn(),
            TextColumn("{task.fields[calls]}", markup=False),
            console=console or Console(stderr=True), transient=True,
            redirect_stdout=False, redirect_stderr=False, refresh_per_second=4)
        self._task = self._bar.add_task(f"{self.spec}  loading", depth="", calls="")
        self._bar.start()

    def variant(self, start: VariantStart) -> None:
        """A variant starts (the driver's `on_variant`)."""
        self.where = f"{start.variant} {start.index}/{start.count}"
        names = start.properties
        self.props = (", ".join(names) if len(names) <= 3
                      else f"{', '.join(names[:2])} +{len(names) - 2} more")
        self._show(self.where, "", "", force=True)

    def __call__(self, variant: str, depth: int, elapsed: float, calls: int) -> None:
        """The engine's report (`engines.unroll.Progress`)."""
        name, _, worker = variant.partition(" ")
        where = self.where if self.where.split(" ")[0] == name else name
        if worker:
            where += f" · {worker}"
        states = not worker and self.engine in (EngineChoice.explicit, EngineChoice.auto)
        # the first report of a variant is always drawn, the others at most ten times a second
        self._show(where, f"depth {depth} of {self.bound}",
                   f"{calls:,} {'states' if states else 'solver calls'}", force=not self.shown)

    def _show(self, where: str, depth: str, calls: str, force: bool = False) -> None:
        if self._bar is None or self._task is None:
            return
        now = time.monotonic()
        if not force and now - self.last < 0.1:
            return
        self.last = now
        self.shown = bool(depth)
        text = f"{self.spec} [{where}]" + (f"  {self.props}" if self.props else "")
        self._bar.update(self._task, description=text, depth=depth, calls=calls)
        self._bar.refresh()

    def clear(self) -> None:
        if self._bar is not None:
            self._bar.stop()  # transient: the display is erased
            self._bar = None


def format_table(report: SpecReport) -> str:
    from drvmc.checker.verdict.results import Status

    header = ("variant", "property", "result", "expected", "")
    rows = [(r.variant, r.result.prop, r.result.verdict_text(), r.expected,
             "interrupted" if r.result.interrupted else "ok" if r.ok
             else "unknown" if r.result.status is Status.UNKNOWN  # undecided, not a mismatch
             else "VACUOUS" if r.result.vacuous else "MISMATCH")
            for r in report.rows]
    widths = [max(len(h), *(len(x[i]) for x in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    lines = []
    title = f"{report.path}: {report.spec}"
    if report.description:
        title += f" — {report.description}"
    lines.append(title)
    lines.append("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
                 .rstrip())
    for x in rows:
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(x, widths, strict=True))
                     .rstrip())
    return "\n".join(lines)


def format_traces(report: SpecReport, full: bool = False) -> str:
    from drvmc.checker.verdict.results import Status
    from drvmc.counterexamples.text import render_text

    out: list[str] = []
    for r in report.rows:
        t = r.result.trace
        if t is None or r.result.status is not Status.VIOLATED:
            continue
        out.append(f"--- {r.variant} / {r.result.prop}: {r.result.verdict_text()} ---")
        out.append(render_text(_sourced(report, t), full=full))
        out.append("")
    return "\n".join(out)


def format_invariants(report: SpecReport) -> str:
    """The inductive invariants behind PROVEN/UNREACHABLE results, one lemma per line."""
    from drvmc.checker.verdict.results import Status

    out: list[str] = []
    for r in report.rows:
        inv = r.result.invariant
        if inv is None or r.result.status not in (Status.PROVEN, Status.UNREACHABLE):
            continue
        out.append(f"--- {r.variant} / {r.result.prop}: {r.result.verdict_text()}; "
                   "inductive invariant ---")
        out.extend("  " + line for line in inv.splitlines())
        out.append("")
    return "\n".join(out)


def _sourced(report: SpecReport, t: Trace) -> Trace:
    """The trace with its source lines, from the spec files the report read."""
    from drvmc.checker.verdict.trace import with_sources

    return with_sources(t, report.program.sources) if report.program else t


def report_json(report: SpecReport) -> dict[str, Any]:
    from drvmc.counterexamples.json_trace import trace_to_json

    results = []
    for r in report.rows:
        res: dict[str, Any] = {
            "variant": r.variant,
            "property": r.result.prop,
            "kind": r.result.kind.value,
            "status": r.result.status.value,
            "depth": r.result.depth,
            "engine": r.result.engine,
            "reason": r.result.reason,
            "invariant": r.result.invariant,
            "states": r.result.states,
            "vacuous": r.result.vacuous,
            "assumes": list(r.result.assumes),
            "expected": r.expected,
            "as_expected": r.ok,
            "trace": (trace_to_json(_sourced(report, r.result.trace)) if r.result.trace
                      else None),
        }
        if r.result.beyond:
            res["beyond_bound"] = r.result.beyond
        results.append(res)
    return {
        "file": report.path,
        "spec": report.spec,
        "description": report.description,
        "variants": report.variants,
        "results": results,
    }


def exit_code_for(reports: list[SpecReport]) -> ExitCode:
    from drvmc.checker.verdict.results import Status

    rows = [r for rep in reports for r in rep.rows]
    if any(r.result.status is Status.UNKNOWN for r in rows):
        return ExitCode.UNKNOWN
    if any(not r.ok for r in rows):
        return ExitCode.VIOLATION
    return ExitCode.OK


def _exit(code: int) -> NoReturn:
    import typer

    raise typer.Exit(int(code))


# ------------------------------------------------------------------------------- a run


class _Run:
    """What `check` or `compare` has to say at the end: the reports, the errors met on the way
    (each printed on stderr when it happens and kept for the JSON document), the exit code."""

    def __init__(self, fmt: Format, extra: dict[str, Any] | None = None) -> None:
        self.fmt = fmt
        self.extra = extra or {}
        self.reports: list[SpecReport] = []
        self.specs_json: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.error_code = ExitCode.OK

    def error(self, e: BaseException, file: str | None = None) -> None:
        if isinstance(e, DrvmcError):
            _print_error(e)
            code = e.exit_code
        else:
            _print_internal(e)
            code = ExitCode.INTERNAL
        self.errors.extend(error_json(e, file))
        self.error_code = max(self.error_code, code)

    def document(self, code: int, interrupted: bool = False) -> dict[str, Any]:
        doc: dict[str, Any] = {"drvmc": _version(), **self.extra, "exit_code": int(code)}
        if interrupted:
            doc["interrupted"] = True
        doc["specs"] = self.specs_json
        if self.errors:
            doc["errors"] = self.errors
        return doc

    def print_document(self, code: int, interrupted: bool = False,
                       timings: bool = True) -> None:
        """The one document of `--format json|sarif|junit` on stdout (nothing for text)."""
        match self.fmt:
            case Format.text:
                pass
            case Format.json:
                _print_json(self.document(code, interrupted))
            case Format.sarif | Format.junit:
                _print_document(_ci_document(self.fmt, self.reports, code, self.errors,
                                             timings))
            case _:
                assert_never(self.fmt)

    def stop(self, e: DrvmcError) -> NoReturn:
        """A problem with the command line found before any spec was checked."""
        self.error(e)
        self.print_document(self.error_code)
        _exit(self.error_code)

    def interrupted(self, partial: SpecReport | None, traces: bool) -> NoReturn:
        """Ctrl-C/SIGTERM: print what is known (in text, the specs done were printed already)."""
        if partial is not None:
            self.reports.append(partial)
            self.specs_json.append(report_json(partial))
        if self.fmt in DOCUMENT_FORMATS:
            self.print_document(ExitCode.INTERRUPTED, interrupted=True)
        elif partial is not None:
            _echo(format_table(partial))
            tr = format_traces(partial) if traces else ""
            if tr:
                _echo("")
                _echo(tr.rstrip("\n"))
            _echo("")
        _say_interrupted("drvmc: interrupted; results are partial: SAFE≤k means no violation in "
                         "runs of up to k steps, variants and specs not listed were not "
                         "checked")
        _exit(ExitCode.INTERRUPTED)


def _solvers_leave_signals_to_us() -> None:
    """z3 catches SIGINT itself while it searches and answers `unknown`, which an engine may
    take for an inconclusive answer and carry on (k-induction's step case did). Under `main`,
    the CLI's handlers take SIGINT and SIGTERM alike and cancel z3 themselves."""
    if _Signals.installed:
        import z3

        z3.set_param("ctrl_c", False)


# ------------------------------------------------------------------------------- commands


def check(
    specs: Annotated[list[Path], typer.Argument(
        metavar="SPEC", help="spec files or folders (every *.drv outside lib/)")],
    variant: Annotated[list[str] | None, typer.Option("--variant", "-v",
                                                      help="variant to check (repeatable)")]
    = None,
    all_variants: Annotated[bool, typer.Option("--all-variants", "-a",
                                               help="check every variant")] = False,
    depth: Annotated[int, typer.Option("--depth", "-k", help="BMC bound (steps)")] = 40,
    prop: Annotated[list[str] | None, typer.Option("--property", "-p",
                                                   help="property to check (repeatable)")] = None,
    timeout: Annotated[float | None, typer.Option("--timeout",
                                                  help="seconds per solver call")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.text,
    lib_path: Annotated[list[Path] | None, typer.Option("--lib-path",
                                                        help="extra folder for `use`")] = None,
    deadlock: Annotated[bool, typer.Option("--deadlock/--no-deadlock",
                                           help="check for deadlocks")] = True,
    traces: Annotated[bool, typer.Option("--traces/--no-traces",
                                         help="print counterexample traces")] = True,
    engine: Annotated[EngineChoice, typer.Option("--engine", "-e",
                                                 help="auto (explicit-state search of small "
                                                      "models, then k-induction and IC3 at "
                                                      "once), bmc (bounded), kind "
                                                      "(k-induction), pdr (IC3/Spacer), "
                                                      "explicit; see docs/ENGINES.md")]
    = EngineChoice.auto,
    baseline: Annotated[Path | None, typer.Option(
        "--baseline", help="a saved `-f json` run: list every result that changed (exit 1)")]
    = None,
    save_baseline: Annotated[Path | None, typer.Option(
        "--save-baseline", help="also write this run's JSON here, for --baseline")] = None,
    trace_dir: Annotated[Path | None, typer.Option(
        "--trace-dir", help="folder (created if missing) for each counterexample and "
                            "witness: <spec>.<variant>.<property>.{txt,itf.json,dot,svg}")]
    = None,
    timings: Annotated[bool, typer.Option(
        "--timings/--no-timings", help="end the text summary with the time taken (off: the "
                                       "output is byte-identical across runs)")] = True,
    memory: Annotated[int, typer.Option(
        "--memory",
        help="MB of memory for the solvers of a BMC check; past it the check is UNKNOWN")] = 4096,
    symmetry: Annotated[bool, typer.Option(
        "--symmetry/--no-symmetry", help="explicit search: one state per permutation of the "
                                         "instances of a symmetric enum-indexed family")] = True,
    explicit_states: Annotated[int, typer.Option(
        "--explicit-states", help="auto: states its explicit pass may visit before the "
                                  "symbolic engines take over (0: skip the pass)")]
    = AUTO_EXPLICIT_STATES,
    fewest_switches: Annotated[bool, typer.Option(
        "--fewest-switches/--any-switches",
        help="bmc: re-choose each counterexample with the fewest context switches (off: the "
             "solver's own, as short, found sooner)")] = True,
    full: Annotated[bool, typer.Option(
        "--full", help="traces list every call and change of every step, not the causal "
                       "slice first with the rest folded")] = False,
    workers: Annotated[int | None, typer.Option(
        "--workers", "-j", help="run the jobs (a variant of a spec each) on a local Dask cluster "
                                "of N processes, started only when the work is worth it "
                                "(docs/DISTRIBUTED.md)")] = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", metavar="ADDRESS", help="run the jobs on the Dask cluster whose scheduler "
                                               "is at ADDRESS (tcp://HOST:PORT)")] = None,
    job_timeout: Annotated[float | None, typer.Option(
        "--job-timeout", help="with --workers/--scheduler: a job still running after this many "
                              "seconds is UNKNOWN")] = None,
    dump_after: Annotated[str | None, typer.Option(
        "--dump-after", metavar="STAGE",
        help="stop after a stage of the pipeline and print what it hands on: parse, load, "
             "elaborate (the IR) or encode (Z3, SMT-LIB); see docs/ARCHITECTURE.md")] = None,
) -> None:
    """Check every property of each spec; print a verdict table and counterexamples."""
    if dump_after is not None:
        _dump(specs, dump_after, variant, all_variants, lib_path)
        return
    run = _Run(fmt)
    old: dict[Key, Outcome] | None = None
    try:
        from drvmc.checker.app.driver import (
            CheckOptions,
            check_options_error,
            check_spec,
            spec_targets,
        )
        from drvmc.checker.lang.loader import ParseCache

        _solvers_leave_signals_to_us()
        if variant and all_variants:
            run.stop(UsageError("--variant and --all-variants exclude each other"))
        if not 16 <= memory <= 1 << 30:
            run.stop(UsageError(f"--memory must be between 16 and {1 << 30} (MB), not {memory}"))
        if explicit_states < 0:
            run.stop(UsageError(f"--explicit-states must not be negative, not {explicit_states}"))
        opts = CheckOptions(depth=depth, timeout_s=timeout, variants=tuple(variant or ()),
                            all_variants=all_variants, properties=tuple(prop or ()),
                            lib_paths=tuple(lib_path or ()), deadlock=deadlock,
                            engine=engine.value,
                            memory_mb=memory, symmetry=symmetry,
                            explicit_states=explicit_states, fewest_switches=fewest_switches)
        old = _before_the_run(run, check_options_error(opts), baseline, save_baseline,
                              trace_dir)
        targets = spec_targets(specs)
        matrix = _matrix(run, targets, opts, workers, scheduler, job_timeout)
        parses = ParseCache()
        for i, (target, problem) in enumerate(targets):
            if problem is not None:
                run.error(problem, str(target))
                continue
            progress = _Progress(fmt is Format.text and _on_terminal() and matrix is None,
                                 str(target), depth, engine)
            try:
                rep = (check_spec(target, opts, progress, progress.variant, parses)
                       if matrix is None else matrix.report(i))
            except (Interrupted, KeyboardInterrupt):
                raise
            except Exception as e:  # reported per spec; the others go on
                _unless_interrupted(e)
                run.error(e, str(target))
                continue
            finally:
                progress.clear()
            if interrupt_requested() and matrix is None:
                run.interrupted(rep, traces)  # it ended, but an interrupt came: no files
            run.reports.append(rep)
            run.specs_json.append(report_json(rep))
            if trace_dir is not None:
                from drvmc.counterexamples.files import write_traces

                try:
                    write_traces([r.result.trace for r in rep.rows
                                  if r.result.trace is not None],
                                 trace_dir, rep.program.sources if rep.program else None)
                except DrvmcError as e:
                    run.error(e, str(target))
            if fmt is Format.text:
                _echo(format_table(rep))
                if traces:
                    tr = format_traces(rep, full)
                    if tr:
                        _echo("")
                        _echo(tr.rstrip("\n"))
                    invs = format_invariants(rep)
                    if invs:
                        _echo("")
                        _echo(invs.rstrip("\n"))
                _echo("")
        if interrupt_requested():
            raise KeyboardInterrupt  # an engine swallowed it: the results may be partial
    except Interrupted as e:
        from drvmc.checker.verdict.records import SpecReport

        run.interrupted(e.partial if isinstance(e.partial, SpecReport) else None, traces)
    except KeyboardInterrupt:
        run.interrupted(None, traces)
    _exit(_finish(run, old, baseline, save_baseline, timings))


def _matrix(run: _Run | None, targets: list[tuple[Path, UsageError | None]], opts: CheckOptions,
            workers: int | None, scheduler: str | None,
            job_timeout: float | None) -> Matrix | None:
    """`--workers`/`--scheduler`: every job of the run, spread over this process and a Dask
    cluster (app.distributed), before anything is printed; None: the serial run (no option, or
    one worker and no time-out: one process is enough). Dask is imported only here."""
    if scheduler is None and job_timeout is None and (workers is None or workers == 1):
        return None
    from drvmc.checker.app import job_times
    from drvmc.checker.app.distributed import ClusterOptions, cluster_options_error, run_matrix

    cluster = ClusterOptions(workers, scheduler, job_timeout, times_path=job_times.default_path())
    shown = _JobsProgress(_on_terminal() and (run is None or run.fmt is Format.text))
    try:
        problem = cluster_options_error(cluster)
        if problem is not None:
            raise problem
        return run_matrix(targets, opts, cluster, shown)
    except DrvmcError as e:
        if run is None or isinstance(e, Interrupted):
            raise
        run.stop(e)
    finally:
        shown.clear()


class _JobsProgress:
    """A distributed run's progress on a terminal: jobs done of the total (rich, on stderr)."""

    def __init__(self, enabled: bool) -> None:
        self._bar: rich.progress.Progress | None = None
        self._task: rich.progress.TaskID | None = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            self._bar = Progress("jobs", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                 console=Console(stderr=True), transient=True,
                                 redirect_stdout=False, redirect_stderr=False)
            self._task = self._bar.add_task("jobs", total=None)
            self._bar.start()

    def __call__(self, done: int, total: int) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done, total=total)

    def clear(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def _unless_interrupted(e: BaseException) -> None:
    """An error while an interrupt is pending is the interrupt (see `checker.errors`)."""
    if interrupt_requested():
        raise KeyboardInterrupt from e


def _before_the_run(run: _Run, problem: UsageError | None, baseline: Path | None,
                    save_baseline: Path | None,
                    trace_dir: Path | None = None) -> dict[Key, Outcome] | None:
    """Refuse a bad command line before any spec is checked: bad options, a baseline that
    cannot be read, outputs that cannot be written (so a long run does not end in an error)."""
    from drvmc.checker.fileio import check_output_dir, check_output_path

    try:
        if problem is not None:
            raise problem
        if save_baseline is not None:
            check_output_path(save_baseline, probe=True)
        if trace_dir is not None:
            check_output_dir(trace_dir)
        if baseline is not None:
            from drvmc.checker.app.baseline import load_baseline

            return load_baseline(baseline)
    except DrvmcError as e:
        run.stop(e)
    return None


def _finish(run: _Run, old: dict[Key, Outcome] | None, baseline: Path | None,
            save_baseline: Path | None, timings: bool = True) -> int:
    """The end of check and compare: exit code, baseline comparison, JSON or the summary."""
    from drvmc.checker.app.baseline import changes, format_changes, outcomes_from_reports
    from drvmc.checker.fileio import write_text_atomic

    code = exit_code_for(run.reports)
    changed_text = None
    if old is not None and baseline is not None:
        found = changes(old, outcomes_from_reports(run.reports))
        changed_text = format_changes(found, baseline)
        if found and code == ExitCode.OK:
            code = ExitCode.VIOLATION
    if save_baseline is not None:
        try:
            write_text_atomic(save_baseline,
                              _dumps(run.document(max(code, run.error_code))) + "\n")
        except DrvmcError as e:
            run.error(e)
    code = max(code, run.error_code)
    if run.fmt in DOCUMENT_FORMATS:
        run.print_document(code, timings=timings)
        if changed_text is not None:
            _err(changed_text)  # stdout stays one document
    else:
        if run.reports:
            _echo(_summary(run.reports, timings, len(run.errors)))
        if changed_text is not None:
            _echo(changed_text)
    return int(code)


def compare(
    specs: Annotated[list[Path], typer.Argument(metavar="SPEC",
                                                help="spec files or folders")],
    variants: Annotated[str | None, typer.Option(
        "--variants", help="comma-separated variants (the original is always included)")]
    = None,
    depth: Annotated[int, typer.Option("--depth", "-k", help="BMC bound (steps)")] = 40,
    timeout: Annotated[float | None, typer.Option("--timeout",
                                                  help="seconds per solver call")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.text,
    lib_path: Annotated[list[Path] | None, typer.Option("--lib-path",
                                                        help="extra folder for `use`")] = None,
    deadlock: Annotated[bool, typer.Option("--deadlock/--no-deadlock",
                                           help="check for deadlocks")] = True,
    engine: Annotated[EngineChoice, typer.Option(
        "--engine", "-e", help="as for check; replays of counterexamples always use BMC")]
    = EngineChoice.auto,
    baseline: Annotated[Path | None, typer.Option(
        "--baseline", help="a saved `-f json` run: list every result that changed (exit 1)")]
    = None,
    save_baseline: Annotated[Path | None, typer.Option(
        "--save-baseline", help="also write this run's JSON here, for --baseline")] = None,
    timings: Annotated[bool, typer.Option(
        "--timings/--no-timings", help="end the text summary with the time taken (off: the "
                                       "output is byte-identical across runs)")] = True,
    workers: Annotated[int | None, typer.Option(
        "--workers", "-j", help="run the jobs (a variant of a spec each) on a local Dask cluster "
                                "of N processes, started only when the work is worth it "
                                "(docs/DISTRIBUTED.md)")] = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", metavar="ADDRESS", help="run the jobs on the Dask cluster whose scheduler "
                                               "is at ADDRESS (tcp://HOST:PORT)")] = None,
    job_timeout: Annotated[float | None, typer.Option(
        "--job-timeout", help="with --workers/--scheduler: a job still running after this many "
                              "seconds is UNKNOWN")] = None,
) -> None:
    """Compare patch variants: a matrix of properties by variants; for each fix, where its runs
    part from the original's counterexamples, what it takes away and what it breaks."""
    run = _Run(fmt, {"z3": _z3_version()})
    old: dict[Key, Outcome] | None = None
    try:
        from drvmc.checker.app.compare import (
            CompareOptions,
            compare_report,
            compare_spec,
            compared_variants,
        )
        from drvmc.checker.app.driver import CheckOptions, check_options_error, spec_targets
        from drvmc.counterexamples.comparison import comparison_json, format_comparison

        _solvers_leave_signals_to_us()
        chosen = tuple(v.strip() for v in (variants or "").split(",") if v.strip())
        check_opts = CheckOptions(depth=depth, timeout_s=timeout, variants=chosen,
                                  lib_paths=tuple(lib_path or ()), deadlock=deadlock,
                                  engine=engine.value)
        opts = CompareOptions(check_opts)
        old = _before_the_run(run, check_options_error(check_opts), baseline, save_baseline)
        targets = spec_targets(specs)
        matrix = _matrix(run, targets, compared_variants(opts), workers, scheduler, job_timeout)
        for i, (target, problem) in enumerate(targets):
            if problem is not None:
                run.error(problem, str(target))
                continue
            progress = _Progress(fmt is Format.text and _on_terminal() and matrix is None,
                                 str(target), depth, engine)
            try:
                cmp = (compare_spec(target, opts, progress) if matrix is None
                       else compare_report(matrix.report(i), opts))
            except (Interrupted, KeyboardInterrupt):
                raise
            except Exception as e:  # reported per spec; the others go on
                _unless_interrupted(e)
                run.error(e, str(target))
                continue
            finally:
                progress.clear()
            if interrupt_requested() and matrix is None:
                run.interrupted(cmp.report, True)
            run.reports.append(cmp.report)
            run.specs_json.append({**report_json(cmp.report),
                                   "comparison": comparison_json(cmp)})
            if fmt is Format.text:
                _echo(format_comparison(cmp))
                _echo("")
        if interrupt_requested():
            raise KeyboardInterrupt
    except Interrupted as e:
        from drvmc.checker.verdict.records import SpecReport

        run.interrupted(e.partial if isinstance(e.partial, SpecReport) else None, True)
    except KeyboardInterrupt:
        run.interrupted(None, True)
    _exit(_finish(run, old, baseline, save_baseline, timings))


def report(
    specs: Annotated[list[Path], typer.Argument(metavar="SPEC",
                                                help="spec files or folders")],
    output: Annotated[Path, typer.Option("--output", "-o",
                                         help="report.md (diagrams in report_files/) or "
                                              "report.html (self-contained)")],
    depth: Annotated[int, typer.Option("--depth", "-k", help="BMC bound (steps)")] = 40,
    timeout: Annotated[float | None, typer.Option("--timeout",
                                                  help="seconds per solver call")] = None,
    lib_path: Annotated[list[Path] | None, typer.Option("--lib-path",
                                                        help="extra folder for `use`")] = None,
    engine: Annotated[EngineChoice, typer.Option(
        "--engine", "-e", help="as for check (auto or pdr give proofs with their invariants)")]
    = EngineChoice.auto,
    workers: Annotated[int | None, typer.Option(
        "--workers", "-j", help="run the jobs (a variant of a spec each) on a local Dask cluster "
                                "of N processes, started only when the work is worth it "
                                "(docs/DISTRIBUTED.md)")] = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", metavar="ADDRESS", help="run the jobs on the Dask cluster whose scheduler "
                                               "is at ADDRESS (tcp://HOST:PORT)")] = None,
    job_timeout: Annotated[float | None, typer.Option(
        "--job-timeout", help="with --workers/--scheduler: a job still running after this many "
                              "seconds is UNKNOWN")] = None,
) -> None:
    """Write a report for a write-up: per spec its summary, the variant matrix, what each fix
    does, every counterexample as a sequence diagram, the proofs and the coverage witnesses."""
    start = time.monotonic()
    try:
        from drvmc.checker.app.compare import (
            CompareOptions,
            compare_report,
            compare_spec,
            compared_variants,
        )
        from drvmc.checker.app.driver import CheckOptions, check_options_error, spec_files
        from drvmc.checker.fileio import check_output_path
        from drvmc.counterexamples.report import ToolInfo, write_report

        _solvers_leave_signals_to_us()
        opts = CompareOptions(CheckOptions(depth=depth, timeout_s=timeout,
                                           lib_paths=tuple(lib_path or ()),
                                           engine=engine.value))
        problem = check_options_error(opts.check)
        if problem is not None:
            raise problem
        if output.suffix.lower() not in (".md", ".markdown", ".html", ".htm"):
            raise UsageError(f"{output}: the report must end in .md or .html")
        check_output_path(output, probe=True)  # now, not after the work
        cmps = []
        files = spec_files(specs)
        matrix = _matrix(None, [(f, None) for f in files], compared_variants(opts), workers,
                         scheduler, job_timeout)
        for i, f in enumerate(files):
            if matrix is not None:
                cmps.append(compare_report(matrix.report(i), opts))
                continue
            progress = _Progress(_on_terminal(), str(f), depth, engine)
            try:
                cmps.append(compare_spec(f, opts, progress))
            finally:
                progress.clear()
        info = ToolInfo(_version(), _z3_version(), opts.check.engine, depth, timeout)
        try:
            written = write_report(output, cmps, info, time.monotonic() - start)
        except OSError as e:  # e.g. the diagrams' folder beside a Markdown report
            raise UsageError(f"{e.filename or output}: cannot write ({e.strerror})") from None
    except (KeyboardInterrupt, Interrupted):
        _say_interrupted("drvmc: interrupted; no report written")
        _exit(ExitCode.INTERRUPTED)
    except DrvmcError as e:
        _unless_interrupted(e)
        _print_error(e)
        _exit(e.exit_code)
    reports = [c.report for c in cmps]
    _echo(f"wrote {written[-1]}" + (f" and {len(written) - 1} diagram(s)"
                                    if len(written) > 1 else ""))
    _echo(_summary(reports))
    _exit(exit_code_for(reports))


def _z3_version() -> str:
    import z3

    return str(z3.get_version_string())


def _summary(reports: list[SpecReport], timings: bool = True, errors: int = 0) -> str:
    from drvmc.checker.verdict.results import Status

    rows = [r for rep in reports for r in rep.rows]
    unknown = sum(1 for r in rows if r.result.status is Status.UNKNOWN)
    bad = sum(1 for r in rows if not r.ok and r.result.status is not Status.UNKNOWN)
    secs = sum(rep.seconds for rep in reports)
    text = f"{len(rows)} results, {len(rows) - bad - unknown} as expected, {bad} not"
    if unknown:
        text += f", {unknown} unknown"
    if errors:
        text += f"; {errors} error{'s' if errors != 1 else ''} (see above)"
    if not timings:
        return text
    # the explicit engine's rate: states over time, per variant searched (results of one search
    # share it, each knowing how far the search had got)
    searched: dict[tuple[str, str], tuple[int, float]] = {}
    for rep in reports:
        for r in rep.rows:
            if r.result.engine == "explicit":
                n, t = searched.get((rep.path, r.variant), (0, 0.0))
                searched[(rep.path, r.variant)] = (max(n, r.result.states),
                                                   max(t, r.result.seconds))
    states = sum(n for n, _ in searched.values())
    spent = sum(t for _, t in searched.values())
    rate = f", explicit {states / spent:,.0f} states/s" if states and spent > 0 else ""
    return text + f" ({secs:.1f}s{rate})"


def _dump(specs: list[Path], stage: str, variant: list[str] | None, all_variants: bool,
          lib_path: list[Path] | None) -> None:
    """`check --dump-after STAGE`: each spec's output of that stage, for the chosen variants."""
    try:
        from drvmc.checker.app.stages import Stage, dump
        from drvmc.checker.ir.elaborate import BASE_VARIANT, variant_names
        from drvmc.checker.lang.loader import load_program

        try:
            st = Stage(stage)
        except ValueError:
            raise UsageError(f"--dump-after: no stage '{stage}' (stages: "
                             f"{', '.join(s.value for s in Stage)})") from None
        for spec in specs:
            names = [BASE_VARIANT]
            if all_variants or variant:
                known = variant_names(load_program(spec, tuple(lib_path or ())))
                names = known if all_variants else list(variant or ())
                unknown = [v for v in names if v not in known]
                if unknown:
                    raise UsageError(f"{spec}: no variant {', '.join(unknown)} (variants: "
                                     f"{', '.join(known)})")
            _echo(dump(st, spec, names, tuple(lib_path or ())), nl=False)
    except KeyboardInterrupt:
        _say_interrupted("drvmc: interrupted")
        _exit(ExitCode.INTERRUPTED)
    except DrvmcError as e:
        _print_error(e)
        _exit(e.exit_code)


def parse(spec: Annotated[Path, typer.Argument(metavar="SPEC", help="spec file")],
          ir: Annotated[bool, typer.Option(
              "--ir", help="print the elaborated model (the IR) of every variant instead: "
                           "state, procedures, actors with their steps, properties, checks")]
          = False) -> None:
    """Validate a spec (syntax, names, types, every variant) and print it normalized."""
    if ir:
        _dump([spec], "elaborate", None, True, None)
        return
    try:
        from drvmc.checker.ir.elaborate import elaborate, variant_names
        from drvmc.checker.lang import pretty
        from drvmc.checker.lang.loader import load_program

        program = load_program(spec)
        ast = program.main
        for v in variant_names(program):
            elaborate(program, v)
    except KeyboardInterrupt:
        _say_interrupted("drvmc: interrupted")
        _exit(ExitCode.INTERRUPTED)
    except DrvmcError as e:
        _print_error(e)
        _exit(e.exit_code)
    _echo(pretty.spec(ast), nl=False)


class ExportTarget(StrEnum):
    promela = "promela"
    tla = "tla"


def export(
    spec: Annotated[Path, typer.Argument(metavar="SPEC", help="spec file")],
    to: Annotated[ExportTarget, typer.Option("--to", help="target language")],
    output: Annotated[Path, typer.Option("--output", "-o", help="file to write (for tla: "
                                         "FILE.tla, and FILE.cfg beside it)")],
    variant: Annotated[str, typer.Option("--variant", "-v", help="variant")] = "original",
    prop: Annotated[str | None, typer.Option(
        "--property", "-p", help="the one property checked (promela: default the number in "
        "$DRVMC_PROPERTY when pan runs, the header lists them; tla: default every property is "
        "an INVARIANT of the .cfg)")] = None,
) -> None:
    """Write one variant of a spec as a model for another checker (SPIN, TLC)."""
    unsupported: dict[str, str] = {}
    try:
        from drvmc.checker.fileio import check_output_path, write_text_atomic
        from drvmc.checker.ir.elaborate import elaborate, variant_names
        from drvmc.checker.lang.loader import load_program
        from drvmc.translators.promela import export_promela
        from drvmc.translators.tla import export_tla, is_module_name

        if to is ExportTarget.tla and not is_module_name(output.stem):
            # TLC wants the module named after its file
            raise UsageError(f"{output}: '{output.stem}' is not a TLA+ module name (letters, "
                             "digits and '_', with a letter, not a keyword): rename the output")
        if to is ExportTarget.tla and output.suffix != ".tla":
            raise UsageError(f"{output}: a TLA+ module must be written to a .tla file")
        check_output_path(output, probe=True)
        if to is ExportTarget.tla:
            check_output_path(output.with_suffix(".cfg"))
        program = load_program(spec)
        if variant not in variant_names(program):
            raise UsageError(f"{spec}: no variant '{variant}' "
                             f"(variants: {', '.join(variant_names(program))})")
        model = elaborate(program, variant)
        if to is ExportTarget.tla:
            tx = export_tla(model, module=output.stem, only=prop)
            write_text_atomic(output, tx.text)
            write_text_atomic(output.with_suffix(".cfg"), tx.cfg)
            unsupported = tx.unsupported
        else:
            ex = export_promela(model, only=prop)
            write_text_atomic(output, ex.text)
            unsupported = ex.unsupported
    except KeyboardInterrupt:
        _say_interrupted("drvmc: interrupted")
        _exit(ExitCode.INTERRUPTED)
    except DrvmcError as e:
        _print_error(e)
        _exit(e.exit_code)
    for name, why in unsupported.items():
        _err(f"drvmc: warning: {name} is not checked by this export: {why}")


class RenderFormat(StrEnum):
    svg = "svg"
    png = "png"
    pdf = "pdf"
    dot = "dot"
    mermaid = "mermaid"
    text = "text"


def render(
    trace: Annotated[Path, typer.Argument(help="a saved trace (TRACE.itf.json, see "
                                               "check --trace-dir)")],
    to: Annotated[RenderFormat, typer.Option("--to", "-t", help="output form")]
    = RenderFormat.svg,
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="write here instead of stdout")] = None,
    narrow: Annotated[bool, typer.Option(
        "--narrow", help="diagrams: only the causal slice's lifelines and calls, the other "
                         "steps folded (a paper column, a Markdown page)")] = False,
) -> None:
    """Re-render a saved ITF trace as a sequence diagram (svg, png, pdf, dot, mermaid) or as
    text."""
    try:
        from drvmc.counterexamples.files import RenderTo, load_trace, render_as, write_output

        if output is None and to in (RenderFormat.png, RenderFormat.pdf) and sys.stdout.isatty():
            raise UsageError(f"{to.value.upper()} output needs -o FILE (or a pipe)")
        if narrow and to is RenderFormat.text:
            raise UsageError("--narrow is for diagrams: the text is the causal view already")
        data = render_as(load_trace(trace), RenderTo(to.value), narrow)
        if output is not None:
            write_output(output, data)
        else:
            _echo(data, nl=False)
    except KeyboardInterrupt:
        _say_interrupted("drvmc: interrupted")
        _exit(ExitCode.INTERRUPTED)
    except DrvmcError as e:
        _print_error(e)
        _exit(e.exit_code)


def extract_cmd(
    sources: Annotated[list[Path], typer.Argument(metavar="DRIVER.c",
                                                  help="the driver's C files")],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="write the spec here (SPEC.drv) instead of stdout")] = None,
    patch: Annotated[list[Path] | None, typer.Option(
        "--patch", help="a proposed fix (unified diff): one variant each")] = None,
    mapping: Annotated[Path | None, typer.Option(
        "--mapping", help="a TOML table of C functions → library procedures, added to the "
                          "bundled one (docs/EXTRACT.md)")] = None,
) -> None:
    """Extract a spec from a driver's C source (tree-sitter), a variant per --patch."""
    try:
        # tree-sitter is imported only here, inside the extractor
        from drvmc.extract.pipeline import extract, write_spec

        result = extract(list(sources), list(patch or []), mapping)
        if output is not None:
            write_spec(output, result.spec, [*sources, *(patch or [])])
            _err(result.summary)
        else:
            _echo(result.spec, nl=False)
    except KeyboardInterrupt:
        _say_interrupted("drvmc: interrupted")
        _exit(ExitCode.INTERRUPTED)
    except DrvmcError as e:
        _print_error(e)
        _exit(e.exit_code)


def lsp(
    lib_path: Annotated[list[Path] | None, typer.Option(
        "--lib-path", help="also resolve `use` here (as check --lib-path)")] = None,
    stdio: Annotated[bool, typer.Option(
        "--stdio", help="talk over stdin/stdout: the only transport, so this is the "
                        "default; accepted because editors pass it")] = False,
) -> None:
    """Run the language server for .drv files (diagnostics, hover, go to definition,
    completion) over stdio; editors/vscode/ starts it."""
    try:
        # pygls loads only here: every other command starts without it
        from drvmc.lsp.server import serve
    except ImportError as e:
        raise UsageError(f"drvmc lsp needs pygls ({e}): pip install 'pygls>=2'") from None
    serve(_version(), tuple(lib_path or ()))


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("drvmc")
    except PackageNotFoundError:
        return "0+unknown"


def version_cmd() -> None:
    """Print drvmc's version and the z3 version it uses."""
    _echo(f"drvmc {_version()} (z3 {_z3_version()})")


def _version_option(value: bool) -> None:
    if value:
        version_cmd()
        _exit(ExitCode.OK)


def _root(
    version: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_version_option,
        help="Print drvmc's version and the z3 version it uses, and exit.")] = False,
) -> None:
    """drvmc: a model checker for Linux driver-core lifecycle bugs."""


# ------------------------------------------------------------------------------- the app


class _App:
    built: typer.Typer | None = None


def _commands() -> tuple[tuple[str, Callable[..., Any]], ...]:
    return (("check", check), ("compare", compare), ("report", report), ("parse", parse),
            ("export", export), ("render", render), ("lsp", lsp), ("extract", extract_cmd),
            ("version", version_cmd))


def _get_app(only: str | None = None) -> typer.Typer:
    """The typer application, built on first use (see the module docstring). With `only`, an
    application of that one command: typer reads every command's signature to build the group
    (a third of `drvmc parse`'s start-up beyond the imports), and a run needs only its own."""
    if only is None and _App.built is not None:
        return _App.built
    import typer as typer_module

    # the commands' annotations (strings until typer evaluates them) name `typer`
    globals()["typer"] = typer_module
    a = typer_module.Typer(add_completion=True, no_args_is_help=True,
                           help="drvmc: a model checker for Linux driver-core lifecycle bugs.")
    a.callback()(_root)
    for name, fn in _commands():
        if only in (None, name):
            a.command(name)(fn)
    if only is None:
        _App.built = a
    return a


def __getattr__(name: str) -> Any:
    if name == "app":
        return _get_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ------------------------------------------------------------------------------- signals


class _Signals:
    installed = False
    raised = False  # a KeyboardInterrupt was raised for a signal
    more = 0  # signals since then


# Frames in which a raised exception would be printed ("Exception ignored in ...") and lost, or
# wrapped into another (ctypes' ArgumentError): a signal that lands in one is taken again later.
# So is one that lands in the constructor of a z3 object: the object, half-built, would fail in
# its finaliser ("Exception ignored in: <function AstRef.__del__>", or a reference count dropped
# that was never taken); and one in code that `exec` runs from a string (dataclasses and
# namedtuple make their methods so, while modules load): CPython then marks the interrupt as
# unhandled and, however it was handled, the process ends killed by SIGINT (exit -2). So is one
# in the making of a `@node` class (nodeclass.realise, on the class's first use): a class left
# half-made would stay broken for the rest of the process. Anywhere
# else, z3's Python code included, the exception is raised at once, so that an engine never
# sees the search it cancelled as a plain `unknown`.
_NO_RAISE_IN = frozenset({"z3_error_handler", "__del__", "from_param"})


def _unsafe_to_raise(frame: types.FrameType | None) -> bool:
    core = sys.modules.get("z3.z3")
    where = getattr(core, "__file__", None)
    z3_dir = os.path.dirname(where) + os.sep if where else None
    making = getattr(getattr(sys.modules.get("drvmc.checker.nodeclass"), "realise", None),
                     "__code__", None)
    f = frame
    while f is not None:
        code = f.f_code
        if code.co_name in _NO_RAISE_IN or code.co_filename == "<string>" or code is making or (
                code.co_name == "__init__" and z3_dir is not None
                and code.co_filename.startswith(z3_dir)):
            return True
        f = f.f_back
    return False


def _on_signal(signum: int, frame: types.FrameType | None) -> None:
    request_interrupt()
    if _Signals.raised:
        # the interrupt path is running; a third signal means "now"
        _Signals.more += 1
        if _Signals.more >= 2:
            os.write(2, b"\ndrvmc: interrupted again: stopping at once, results are lost\n")
            os._exit(ExitCode.INTERRUPTED)
        return
    if _unsafe_to_raise(frame):
        again = threading.Timer(0.05, os.kill, (os.getpid(), signum))
        again.daemon = True
        again.start()
        return
    _Signals.raised = True
    raise KeyboardInterrupt


def _cancel_z3() -> None:
    """Cancel the search of z3's main context, if z3 is loaded and has one (never creating it:
    the main thread may be doing that)."""
    core = sys.modules.get("z3.z3")
    ctx = getattr(core, "_main_ctx", None) if core is not None else None
    if ctx is None:
        return
    with contextlib.suppress(Exception):  # z3 half-imported or shutting down: nothing to stop
        ctx.interrupt()


def _install_signal_handlers() -> None:
    """SIGINT and SIGTERM take the interrupt path (partial results, exit 130).

    Installed first thing in `main`, before anything slow is imported, so a signal during
    start-up is an interrupt too. While z3 searches, no Python signal handler can run, so a
    watcher thread, woken through the signal wakeup fd, cancels the search; the handler then
    raises KeyboardInterrupt as soon as z3 returns. (z3's own SIGINT handling is switched off
    once z3 is loaded, by `_solvers_leave_signals_to_us`, so both signals take this path.)
    """
    if threading.current_thread() is not threading.main_thread():
        return
    r, w = os.pipe()
    os.set_blocking(w, False)

    def watch() -> None:
        while data := os.read(r, 64):
            if signal.SIGTERM in data or signal.SIGINT in data:
                # a search may start just after one interrupt: keep cancelling until the main
                # thread has taken the interrupt path and the process ends
                while True:
                    _cancel_z3()
                    time.sleep(0.1)

    # the watcher first, the handlers last: once a handler can raise, everything is in place
    threading.Thread(target=watch, name="drvmc-signals", daemon=True).start()
    signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    _Signals.installed = True
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)


# ------------------------------------------------------------------------------- main


def _document_format(argv: list[str]) -> Format | None:
    """The document format (json, sarif, junit) a command line that could not be parsed asked
    for with `check`/`compare --format` (then the usage error goes to stdout in it too)."""
    words = [a for a in argv if not a.startswith("-")]
    if not words or words[0] not in ("check", "compare"):
        return None
    for i, a in enumerate(argv):
        value = None
        if a in ("--format", "-f") and i + 1 < len(argv):
            value = argv[i + 1]
        elif a.startswith("--format="):
            value = a[len("--format="):]
        elif a.startswith("-f") and len(a) > 2 and not a.startswith("--"):
            value = a[2:]
        if value is not None and value in DOCUMENT_FORMATS:
            return Format(value)
    return None


def _ci_document(fmt: Format, reports: list[SpecReport], code: int,
                 errors: list[dict[str, Any]], timings: bool = True) -> str:
    """The SARIF log or the JUnit XML of a run (counterexamples/sarif.py, junit.py)."""
    match fmt:
        case Format.sarif:
            from drvmc.counterexamples.sarif import sarif_log

            return _dumps(sarif_log(reports, _version(), code, errors))
        case Format.junit:
            from drvmc.counterexamples.junit import junit_xml

            return junit_xml(reports, _version(), errors, timings)
        case Format.text | Format.json:
            raise AssertionError(f"not a CI format: {fmt}")
        case _:
            assert_never(fmt)


def _error_document(argv: list[str], code: int, e: BaseException | None) -> None:
    fmt = _document_format(argv)
    if _Output.document_printed or fmt is None:
        return
    if fmt is not Format.json:
        errors = error_json(e) if e is not None else []
        _print_document(_ci_document(fmt, [], code, errors))
        return
    doc: dict[str, Any] = {"drvmc": _version(), "exit_code": int(code)}
    if code == ExitCode.INTERRUPTED:
        doc["interrupted"] = True
    doc["specs"] = []
    if e is not None:
        doc["errors"] = error_json(e)
    _print_json(doc)


def _usage_error(e: Exception, argv: list[str]) -> int:
    """Click's usage errors (unknown option or command, a bad or missing value) are a bad
    command line: exit 3, as documented, not click's 2 (which drvmc uses for UNKNOWN)."""
    ctx = getattr(e, "ctx", None)
    if type(e).__name__ == "NoArgsIsHelpError" and ctx is not None:
        _echo(ctx.get_help(), err=True)  # `drvmc` alone: the help is the message
        return int(ExitCode.SPEC_ERROR)
    fmt = getattr(e, "format_message", None)
    message = fmt() if callable(fmt) else str(e)
    _err(f"drvmc: error: {message}")
    if ctx is not None:
        _err(ctx.get_usage())
        _err(f"Try '{ctx.command_path} --help' for help.")
    _error_document(argv, ExitCode.SPEC_ERROR, UsageError(message))
    return int(ExitCode.SPEC_ERROR)


def _run(argv: list[str]) -> int:
    import typer

    # click's exceptions -- UsageError, BadParameter, NoSuchOption, MissingParameter, ... -- all
    # derive from ClickException (of typer's own copy of click, in recent typer versions)
    click_exception = next(c for c in typer.BadParameter.__mro__
                           if c.__name__ == "ClickException")
    try:
        only = argv[0] if argv and argv[0] in dict(_commands()) else None
        rv = _get_app(only)(args=argv, prog_name="drvmc", standalone_mode=False)
    except typer.Abort:
        rv = int(ExitCode.INTERRUPTED)
    except Exception as e:
        if isinstance(e, click_exception):
            return _usage_error(e, argv)
        raise
    return rv if isinstance(rv, int) else 0


def _main(argv: list[str]) -> int:
    try:
        code = _run(argv)
        if code == ExitCode.INTERRUPTED and not _Output.interrupt_said:
            # typer took a KeyboardInterrupt before a command could (parsing the command line)
            _say_interrupted("drvmc: interrupted")
            _error_document(argv, code, None)
        return code
    except KeyboardInterrupt:
        # before a command could take it (while starting up)
        _say_interrupted("drvmc: interrupted")
        _error_document(argv, ExitCode.INTERRUPTED, None)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # the reader went away (`drvmc check ... | head`): nothing more can be said
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - flushed at exit, never closed
        return 1
    except DrvmcError as e:
        _print_error(e)
        _error_document(argv, e.exit_code, e)
        return int(e.exit_code)
    except Exception as e:
        if interrupt_requested():
            _say_interrupted("drvmc: interrupted")
            _error_document(argv, ExitCode.INTERRUPTED, None)
            return int(ExitCode.INTERRUPTED)
        _print_internal(e)
        _error_document(argv, ExitCode.INTERNAL, e)
        return int(ExitCode.INTERNAL)


def main() -> None:
    code: int = ExitCode.INTERNAL
    use_drvmc_thresholds()  # checker/app/collector.py: 40% of a long check went to the collector
    try:
        _install_signal_handlers()  # first: a signal during start-up is an interrupt too
        code = _main(sys.argv[1:])
    except KeyboardInterrupt:
        # while the handlers were being installed, or an error was being reported (at most one
        # is ever raised by a signal: see _on_signal)
        code = ExitCode.INTERRUPTED
        if not _Output.interrupt_said:
            with contextlib.suppress(Exception):
                _say_interrupted("drvmc: interrupted")
    finally:
        # the answer is out: a second signal (or one re-sent from inside a z3 callback) must
        # not raise again while the interpreter shuts down
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if _Signals.raised:
        # After an interrupt, end now: the interpreter's shutdown would finalise the objects an
        # interrupted z3 call left behind, and would turn the exit code into a death by SIGINT
        # if the KeyboardInterrupt ever passed through code run by `exec` (CPython remembers
        # that, however the exception was handled). Everything the user sees is written out.
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(int(code))
    sys.exit(int(code))


if __name__ == "__main__":
    main()
