"""The `drvmc` command line. The only module that prints and exits."""

from __future__ import annotations

import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from drvmc.checker.app.driver import CheckOptions, check_spec, spec_files
from drvmc.checker.engines.portfolio import AUTO_EXPLICIT_STATES
from drvmc.checker.errors import (
    DrvmcError,
    ExitCode,
    Interrupted,
    SpecError,
    UsageError,
    render_diagnostic,
)
from drvmc.checker.lang import pretty
from drvmc.checker.lang.loader import read_source
from drvmc.checker.lang.parser import parse_text
from drvmc.checker.verdict.records import SpecReport
from drvmc.checker.verdict.results import Status
from drvmc.checker.verdict.trace import Trace, with_sources
from drvmc.counterexamples.text import render_text

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="drvmc: a model checker for Linux driver-core lifecycle bugs.")


class Format(StrEnum):
    text = "text"
    json = "json"


def _err(msg: str) -> None:
    typer.echo(msg, err=True)


def _print_error(e: DrvmcError, sources: dict[str, str] | None = None) -> None:
    if isinstance(e, SpecError):
        for d in e.diagnostics:
            src = (sources or {}).get(d.span.file)
            if src is None:
                try:
                    src = Path(d.span.file).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    src = None
            _err(render_diagnostic(d, src))
        n = len(e.diagnostics)
        _err(f"{n} error{'s' if n != 1 else ''}")
    else:
        _err(f"drvmc: error: {e}")


class _Progress:
    """Depth, elapsed time and solver calls on a terminal; silent otherwise."""

    def __init__(self, enabled: bool, spec: str) -> None:
        self.enabled = enabled
        self.spec = spec
        self.last = 0.0
        self.shown = False

    def __call__(self, variant: str, depth: int, elapsed: float, calls: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        sys.stderr.write(f"\r\x1b[K{self.spec} [{variant}] depth {depth}  {elapsed:5.1f}s  "
                         f"{calls} solver calls")
        sys.stderr.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.shown = False


def format_table(report: SpecReport) -> str:
    header = ("variant", "property", "result", "expected", "")
    rows = [(r.variant, r.result.prop, r.result.verdict_text(), r.expected,
             "interrupted" if r.result.interrupted else "ok" if r.ok
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


def format_traces(report: SpecReport) -> str:
    out: list[str] = []
    for r in report.rows:
        t = r.result.trace
        if t is None or r.result.status is not Status.VIOLATED:
            continue
        out.append(f"--- {r.variant} / {r.result.prop}: {r.result.verdict_text()} ---")
        out.append(render_text(_sourced(report, t)))
        out.append("")
    return "\n".join(out)


def format_invariants(report: SpecReport) -> str:
    """The inductive invariants behind PROVEN/UNREACHABLE results, one lemma per line."""
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
    return with_sources(t, report.program.sources) if report.program else t


def report_json(report: SpecReport) -> dict[str, Any]:
    from drvmc.counterexamples.json_trace import trace_to_json

    return {
        "file": report.path,
        "spec": report.spec,
        "description": report.description,
        "variants": report.variants,
        "results": [
            {
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
                "expected": r.expected,
                "as_expected": r.ok,
                "trace": (trace_to_json(_sourced(report, r.result.trace)) if r.result.trace
                          else None),
            }
            for r in report.rows
        ],
    }


def exit_code_for(reports: list[SpecReport]) -> ExitCode:
    rows = [r for rep in reports for r in rep.rows]
    if any(r.result.status is Status.UNKNOWN for r in rows):
        return ExitCode.UNKNOWN
    if any(not r.ok for r in rows):
        return ExitCode.VIOLATION
    return ExitCode.OK


@app.command()
def check(
    specs: Annotated[list[Path], typer.Argument(help="spec files or folders (every *.drv "
                                                     "outside lib/)")],
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
    engine: Annotated[str, typer.Option("--engine", "-e",
                                        help="auto (explicit-state search of small models, "
                                             "then k-induction and IC3 at once), bmc (bounded), "
                                             "kind (k-induction), pdr (IC3/Spacer), explicit; "
                                             "see docs/ENGINES.md")] = "auto",
    baseline: Annotated[Path | None, typer.Option(
        "--baseline", help="a saved `-f json` run: list every result that changed (exit 1)")]
    = None,
    save_baseline: Annotated[Path | None, typer.Option(
        "--save-baseline", help="also write this run's JSON here, for --baseline")] = None,
    trace_dir: Annotated[Path | None, typer.Option(
        "--trace-dir", help="write each counterexample and witness here as "
                            "<spec>.<variant>.<property>.{txt,itf.json,dot,svg}")] = None,
    timings: Annotated[bool, typer.Option(
        "--timings/--no-timings", help="end the text summary with the time taken (off: the "
                                       "output is byte-identical across runs)")] = True,
    memory: Annotated[int, typer.Option(
        "--memory", help="MB of memory per solver; past it the check is UNKNOWN")] = 4096,
    symmetry: Annotated[bool, typer.Option(
        "--symmetry/--no-symmetry", help="explicit search: one state per permutation of the "
                                         "instances of a symmetric enum-indexed family")] = True,
    explicit_states: Annotated[int, typer.Option(
        "--explicit-states", help="auto: states its explicit pass may visit before the "
                                  "symbolic engines take over (0: skip the pass)")]
    = AUTO_EXPLICIT_STATES,
) -> None:
    """Check every property of each spec; print a verdict table and counterexamples."""
    if variant and all_variants:
        _err("drvmc: error: --variant and --all-variants exclude each other")
        raise typer.Exit(ExitCode.SPEC_ERROR)
    if memory < 16 or (timeout is not None and timeout <= 0) or explicit_states < 0:
        _err("drvmc: error: --memory must be at least 16 (MB), --timeout positive (s) and "
             "--explicit-states not negative")
        raise typer.Exit(ExitCode.SPEC_ERROR)
    opts = CheckOptions(depth=depth, timeout_s=timeout, variants=tuple(variant or ()),
                        all_variants=all_variants, properties=tuple(prop or ()),
                        lib_paths=tuple(lib_path or ()), deadlock=deadlock, engine=engine,
                        memory_mb=memory, symmetry=symmetry, explicit_states=explicit_states)
    reports: list[SpecReport] = []
    try:
        files = spec_files(specs)
        for f in files:
            progress = _Progress(fmt is Format.text and sys.stderr.isatty(), str(f))
            try:
                rep = check_spec(f, opts, progress)
            finally:
                progress.clear()
            reports.append(rep)
            if trace_dir is not None:
                from drvmc.counterexamples.files import write_traces

                write_traces([r.result.trace for r in rep.rows if r.result.trace is not None],
                             trace_dir, rep.program.sources if rep.program else None)
            if fmt is Format.text:
                typer.echo(format_table(rep))
                if traces:
                    tr = format_traces(rep)
                    if tr:
                        typer.echo("")
                        typer.echo(tr.rstrip("\n"))
                    invs = format_invariants(rep)
                    if invs:
                        typer.echo("")
                        typer.echo(invs.rstrip("\n"))
                typer.echo("")
    except Interrupted as e:
        partial = e.partial if isinstance(e.partial, SpecReport) else None
        _interrupted(reports, partial, fmt, traces)
        raise typer.Exit(ExitCode.INTERRUPTED) from None
    except KeyboardInterrupt:
        _interrupted(reports, None, fmt, traces)
        raise typer.Exit(ExitCode.INTERRUPTED) from None
    except DrvmcError as e:
        _print_error(e)
        raise typer.Exit(e.exit_code) from None
    specs_json = [report_json(r) for r in reports]
    raise typer.Exit(_finish(reports, specs_json, fmt, baseline, save_baseline, {}, timings))


def _interrupted(reports: list[SpecReport], partial: SpecReport | None, fmt: Format,
                 traces: bool) -> None:
    """Ctrl-C/SIGTERM: print what is known (the specs done were printed already in text)."""
    if fmt is Format.json:
        done = [*reports, *([partial] if partial else [])]
        typer.echo(json.dumps({"drvmc": _version(), "exit_code": int(ExitCode.INTERRUPTED),
                               "interrupted": True,
                               "specs": [report_json(r) for r in done]}, indent=2))
    elif partial is not None:
        typer.echo(format_table(partial))
        tr = format_traces(partial) if traces else ""
        if tr:
            typer.echo("")
            typer.echo(tr.rstrip("\n"))
        typer.echo("")
    _err("drvmc: interrupted; results are partial: SAFE≤k means no violation in runs of up to "
         "k steps, variants and specs not listed were not checked")


def _finish(reports: list[SpecReport], specs_json: list[dict[str, Any]], fmt: Format,
            baseline: Path | None, save_baseline: Path | None, extra: dict[str, Any],
            timings: bool = True) -> int:
    """The end of check and compare: exit code, baseline comparison, JSON or the summary."""
    from drvmc.checker.app.baseline import (
        changes,
        format_changes,
        load_baseline,
        outcomes_from_reports,
    )
    from drvmc.checker.fileio import write_text_atomic

    code = exit_code_for(reports)
    changed_text = None
    try:
        if baseline is not None:
            found = changes(load_baseline(baseline), outcomes_from_reports(reports))
            changed_text = format_changes(found, baseline)
            if found and code == ExitCode.OK:
                code = ExitCode.VIOLATION
        doc = json.dumps({"drvmc": _version(), **extra, "exit_code": int(code),
                          "specs": specs_json}, indent=2)
        if save_baseline is not None:
            write_text_atomic(save_baseline, doc + "\n")
    except DrvmcError as e:
        _print_error(e)
        return int(e.exit_code)
    if fmt is Format.json:
        typer.echo(doc)
        if changed_text is not None:
            _err(changed_text)  # stdout stays one JSON document
    else:
        typer.echo(_summary(reports, timings))
        if changed_text is not None:
            typer.echo(changed_text)
    return int(code)


@app.command()
def compare(
    specs: Annotated[list[Path], typer.Argument(help="spec files or folders")],
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
    engine: Annotated[str, typer.Option("--engine", "-e", help="as for check; replays of "
                                        "counterexamples always use BMC")] = "auto",
    baseline: Annotated[Path | None, typer.Option(
        "--baseline", help="a saved `-f json` run: list every result that changed (exit 1)")]
    = None,
    save_baseline: Annotated[Path | None, typer.Option(
        "--save-baseline", help="also write this run's JSON here, for --baseline")] = None,
) -> None:
    """Compare patch variants: a matrix of properties by variants; for each fix, where its runs
    part from the original's counterexamples, what it takes away and what it breaks."""
    from drvmc.checker.app.compare import CompareOptions, compare_spec
    from drvmc.counterexamples.comparison import comparison_json, format_comparison

    chosen = tuple(v.strip() for v in (variants or "").split(",") if v.strip())
    opts = CompareOptions(CheckOptions(depth=depth, timeout_s=timeout, variants=chosen,
                                       lib_paths=tuple(lib_path or ()), deadlock=deadlock,
                                       engine=engine))
    reports: list[SpecReport] = []
    specs_json: list[dict[str, Any]] = []
    try:
        for f in spec_files(specs):
            progress = _Progress(fmt is Format.text and sys.stderr.isatty(), str(f))
            try:
                cmp = compare_spec(f, opts, progress)
            finally:
                progress.clear()
            reports.append(cmp.report)
            specs_json.append({**report_json(cmp.report), "comparison": comparison_json(cmp)})
            if fmt is Format.text:
                typer.echo(format_comparison(cmp))
                typer.echo("")
    except DrvmcError as e:
        _print_error(e)
        raise typer.Exit(e.exit_code) from None
    raise typer.Exit(_finish(reports, specs_json, fmt, baseline, save_baseline,
                             {"z3": _z3_version()}))


@app.command()
def report(
    specs: Annotated[list[Path], typer.Argument(help="spec files or folders")],
    output: Annotated[Path, typer.Option("--output", "-o",
                                         help="report.md (diagrams in report_files/) or "
                                              "report.html (self-contained)")],
    depth: Annotated[int, typer.Option("--depth", "-k", help="BMC bound (steps)")] = 40,
    timeout: Annotated[float | None, typer.Option("--timeout",
                                                  help="seconds per solver call")] = None,
    lib_path: Annotated[list[Path] | None, typer.Option("--lib-path",
                                                        help="extra folder for `use`")] = None,
    engine: Annotated[str, typer.Option("--engine", "-e", help="as for check (auto or pdr "
                                        "give proofs with their invariants)")] = "auto",
) -> None:
    """Write a report for a write-up: per spec its summary, the variant matrix, what each fix
    does, every counterexample as a sequence diagram, the proofs and the coverage witnesses."""
    from drvmc.checker.app.compare import CompareOptions, compare_spec
    from drvmc.counterexamples.report import ToolInfo, write_report

    opts = CompareOptions(CheckOptions(depth=depth, timeout_s=timeout,
                                       lib_paths=tuple(lib_path or ()), engine=engine))
    start = time.monotonic()
    try:
        if output.suffix.lower() not in (".md", ".markdown", ".html", ".htm"):
            raise UsageError(f"{output}: the report must end in .md or .html")
        cmps = []
        for f in spec_files(specs):
            progress = _Progress(sys.stderr.isatty(), str(f))
            try:
                cmps.append(compare_spec(f, opts, progress))
            finally:
                progress.clear()
        info = ToolInfo(_version(), _z3_version(), opts.check.engine, depth, timeout)
        written = write_report(output, cmps, info, time.monotonic() - start)
    except DrvmcError as e:
        _print_error(e)
        raise typer.Exit(e.exit_code) from None
    reports = [c.report for c in cmps]
    typer.echo(f"wrote {written[-1]}" + (f" and {len(written) - 1} diagram(s)"
                                         if len(written) > 1 else ""))
    typer.echo(_summary(reports))
    raise typer.Exit(exit_code_for(reports))


def _z3_version() -> str:
    import z3

    return str(z3.get_version_string())


def _summary(reports: list[SpecReport], timings: bool = True) -> str:
    rows = [r for rep in reports for r in rep.rows]
    bad = sum(1 for r in rows if not r.ok)
    unknown = sum(1 for r in rows if r.result.status is Status.UNKNOWN)
    secs = sum(rep.seconds for rep in reports)
    text = f"{len(rows)} results, {len(rows) - bad} as expected, {bad} not"
    if unknown:
        text += f", {unknown} unknown"
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


@app.command()
def parse(spec: Annotated[Path, typer.Argument(help="spec file")]) -> None:
    """Validate a spec (syntax, names, types, every variant) and print it normalized."""
    from drvmc.checker.app.driver import CheckOptions as _Opts
    from drvmc.checker.ir.elaborate import elaborate, variant_names
    from drvmc.checker.lang.loader import load_program

    del _Opts
    try:
        text = read_source(spec)
        ast = parse_text(text, str(spec))
        program = load_program(spec)
        for v in variant_names(program):
            elaborate(program, v)
    except DrvmcError as e:
        _print_error(e)
        raise typer.Exit(e.exit_code) from None
    typer.echo(pretty.spec(ast), nl=False)


class ExportTarget(StrEnum):
    promela = "promela"
    tla = "tla"


@app.command()
def export(
    spec: Annotated[Path, typer.Argument(help="spec file")],
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
    from drvmc.checker.errors import UsageError
    from drvmc.checker.fileio import write_text_atomic
    from drvmc.checker.ir.elaborate import elaborate, variant_names
    from drvmc.checker.lang.loader import load_program
    from drvmc.translators.promela import export_promela
    from drvmc.translators.tla import export_tla, is_module_name

    unsupported: dict[str, str] = {}
    try:
        if to is ExportTarget.tla and not is_module_name(output.stem):
            # TLC wants the module named after its file
            raise UsageError(f"{output}: '{output.stem}' is not a TLA+ module name (letters, "
                             "digits and '_', with a letter, not a keyword): rename the output")
        if to is ExportTarget.tla and output.suffix != ".tla":
            raise UsageError(f"{output}: a TLA+ module must be written to a .tla file")
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
    except DrvmcError as e:
        _print_error(e)
        raise typer.Exit(e.exit_code) from None
    for name, why in unsupported.items():
        _err(f"drvmc: warning: {name} is not checked by this export: {why}")


class RenderFormat(StrEnum):
    svg = "svg"
    png = "png"
    dot = "dot"
    text = "text"


@app.command()
def render(
    trace: Annotated[Path, typer.Argument(help="a saved trace (TRACE.itf.json, see "
                                               "check --trace-dir)")],
    to: Annotated[RenderFormat, typer.Option("--to", "-t", help="output form")]
    = RenderFormat.svg,
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="write here instead of stdout")] = None,
) -> None:
    """Re-render a saved ITF trace as a sequence diagram (svg, png, dot) or as text."""
    from drvmc.counterexamples.files import RenderTo, load_trace, render_as, write_output

    try:
        data = render_as(load_trace(trace), RenderTo(to.value))
        if output is not None:
            write_output(output, data)
        elif to is RenderFormat.png and sys.stdout.isatty():
            _err("drvmc: error: PNG output needs -o FILE (or a pipe)")
            raise typer.Exit(ExitCode.SPEC_ERROR)
        else:
            typer.echo(data, nl=False)
    except DrvmcError as e:
        _print_error(e)
        raise typer.Exit(e.exit_code) from None


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("drvmc")
    except PackageNotFoundError:
        return "0+unknown"


@app.command("version")
def version_cmd() -> None:
    """Print drvmc's version and the z3 version it uses."""
    import z3

    typer.echo(f"drvmc {_version()} (z3 {z3.get_version_string()})")


def _sigterm_as_interrupt() -> None:
    """SIGTERM takes the Ctrl-C path (partial results, exit 130).

    While z3 searches, no Python signal handler can run (z3 handles SIGINT itself), so a
    watcher thread, woken through the signal wakeup fd, cancels the search; the handler then
    raises KeyboardInterrupt as soon as z3 returns.
    """
    import os
    import signal
    import threading
    import types

    if threading.current_thread() is not threading.main_thread():
        return

    def on_term(signum: int, frame: types.FrameType | None) -> None:
        # Inside z3's error callback (a ctypes callback) or a finaliser the exception would be
        # printed as "Exception ignored" with a traceback and lost: ask again once it is done.
        f = frame
        while f is not None:
            if f.f_code.co_name in ("z3_error_handler", "__del__"):
                again = threading.Timer(0.05, os.kill, (os.getpid(), signum))
                again.daemon = True
                again.start()
                return
            f = f.f_back
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    r, w = os.pipe()
    os.set_blocking(w, False)
    signal.set_wakeup_fd(w, warn_on_full_buffer=False)

    def watch() -> None:
        import time

        import z3

        while data := os.read(r, 64):
            if signal.SIGTERM in data or signal.SIGINT in data:
                # a search may start just after one interrupt: keep cancelling until the main
                # thread has taken the interrupt path and the process ends
                while True:
                    z3.main_ctx().interrupt()
                    time.sleep(0.1)

    threading.Thread(target=watch, name="drvmc-signals", daemon=True).start()


def main() -> None:
    import signal

    _sigterm_as_interrupt()
    try:
        app()
    except KeyboardInterrupt:
        _err("drvmc: interrupted")
        sys.exit(ExitCode.INTERRUPTED)
    except DrvmcError as e:
        _print_error(e)
        sys.exit(e.exit_code)
    except Exception as e:
        _err(f"drvmc: internal error: {type(e).__name__}: {e}")
        _err("please report this with the spec that caused it")
        sys.exit(ExitCode.INTERNAL)
    finally:
        # the answer is out: a second signal (or one re-sent from inside a z3 callback) must
        # not raise again while the interpreter shuts down
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    main()
