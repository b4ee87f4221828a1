"""Orchestration: specs in, per-variant per-property results out. No printing here."""

from __future__ import annotations

import functools
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from drvmc.checker.engines.bmc import run_bmc
from drvmc.checker.engines.explicit import ExplicitOptions, run_explicit
from drvmc.checker.engines.portfolio import AUTO_EXPLICIT_STATES
from drvmc.checker.engines.unroll import BmcOptions, Progress
from drvmc.checker.engines.vacuity import flag_assumptions, flag_vacuous
from drvmc.checker.errors import Interrupted, UsageError, interrupt_requested
from drvmc.checker.ir import nodes as I
from drvmc.checker.ir.elaborate import BASE_VARIANT, elaborate, variant_names
from drvmc.checker.lang.loader import ParseCache, Program, load_program
from drvmc.checker.verdict.records import Row, SpecReport
from drvmc.checker.verdict.results import (
    Result,
    Status,
    expect_text,
    expectation_for,
    matches,
    status_word,
)
from drvmc.checker.verdict.slicing import slice_trace
from drvmc.translators.z3_encoding import Encoding

MAX_DEPTH = 1000
# z3 takes its time-out in milliseconds as an unsigned 32-bit number: about 49 days
MAX_TIMEOUT_S = 1_000_000.0


@dataclass(frozen=True)
class CheckOptions:
    depth: int = 40
    timeout_s: float | None = None
    variants: tuple[str, ...] = ()  # empty: the base variant only
    all_variants: bool = False
    properties: tuple[str, ...] = ()  # empty: all
    lib_paths: tuple[Path, ...] = ()
    deadlock: bool = True
    engine: str = "bmc"
    memory_mb: int | None = None  # BMC: z3 counts it over all its solvers; None: no limit
    symmetry: bool = True  # explicit search up to symmetric enum-indexed families
    explicit_states: int = AUTO_EXPLICIT_STATES  # auto's explicit pass; 0: none
    fewest_switches: bool = True  # bmc: each counterexample re-chosen with the fewest switches


# The encoding is built on demand: the explicit engine never needs it, and building it is most of
# the cost of a small scenario.
EncodingFactory = Callable[[], Encoding]
Engine = Callable[[I.Model, EncodingFactory, list[I.Property], CheckOptions, Progress | None],
                  list[Result]]


@dataclass(frozen=True)
class VariantStart:
    """Told (through `check_spec`'s `on_variant`) as the engine starts on a variant: with the
    engine's `Progress` callback, all a progress display needs. Only the CLI draws it."""

    index: int  # 1-based, of `count` variants to check in this spec
    count: int
    variant: str
    properties: tuple[str, ...]  # the properties checked in it


def _bmc_engine(model: I.Model, enc: EncodingFactory, props: list[I.Property], opts: CheckOptions,
                progress: Progress | None) -> list[Result]:
    return run_bmc(model, enc(), props, BmcOptions(opts.depth, opts.timeout_s,
                                                 min_switches=opts.fewest_switches,
                                                 memory_mb=opts.memory_mb), progress)


def _explicit_engine(model: I.Model, enc: EncodingFactory, props: list[I.Property],
                     opts: CheckOptions, progress: Progress | None) -> list[Result]:
    return run_explicit(model, props, ExplicitOptions(opts.depth, symmetry=opts.symmetry),
                        progress)


def _kind_engine(model: I.Model, enc: EncodingFactory, props: list[I.Property], opts: CheckOptions,
                 progress: Progress | None) -> list[Result]:
    from drvmc.checker.engines.kind import KindOptions, run_kind

    return run_kind(model, enc(), props, KindOptions(opts.depth, opts.timeout_s), progress)


def _pdr_engine(model: I.Model, enc: EncodingFactory, props: list[I.Property], opts: CheckOptions,
                progress: Progress | None) -> list[Result]:
    from drvmc.checker.engines.pdr import PdrOptions, run_pdr

    return run_pdr(model, enc(), props, PdrOptions(opts.timeout_s, opts.depth), progress)


def _auto_engine(model: I.Model, enc: EncodingFactory, props: list[I.Property], opts: CheckOptions,
                 progress: Progress | None) -> list[Result]:
    from drvmc.checker.engines.portfolio import AutoOptions, run_auto

    return run_auto(model, enc, props, AutoOptions(opts.depth, opts.timeout_s,
                                                   explicit_states=opts.explicit_states,
                                                   symmetry=opts.symmetry), progress)


ENGINES: dict[str, Engine] = {"bmc": _bmc_engine, "kind": _kind_engine, "pdr": _pdr_engine,
                              "auto": _auto_engine, "explicit": _explicit_engine}


def spec_targets(paths: list[Path]) -> list[tuple[Path, UsageError | None]]:
    """The spec files named on the command line, in order, each with the usage error that stops
    it, if any (so that the other specs are still checked and the error is reported in its
    place). A directory means every `*.drv` file below it but `lib/`, sorted; directories that
    happen to be named `*.drv` are walked, not read; a dangling symbolic link is an error."""
    out: list[tuple[Path, UsageError | None]] = []
    for p in paths:
        try:
            if p.is_dir():
                found: list[tuple[Path, UsageError | None]] = []
                for q in sorted(p.rglob("*.drv")):
                    if "lib" in q.relative_to(p).parts or q.is_dir():
                        continue
                    found.append((q, _dangling(q) if q.is_symlink() and not q.exists()
                                  else None))
                out.extend(found or [(p, UsageError(f"{p}: no spec files (*.drv outside lib/) "
                                                    "in this folder"))])
            elif p.exists():
                out.append((p, None))
            elif p.is_symlink():
                out.append((p, _dangling(p)))
            else:
                out.append((p, UsageError(f"{p}: no such file or directory")))
        except OSError as e:  # a name too long, a folder that cannot be listed, ...
            out.append((p, UsageError(f"{p}: cannot read ({e.strerror})")))
    return out


def _dangling(p: Path) -> UsageError:
    try:
        to = f" (to {os.readlink(p)}, which does not exist)"
    except OSError:
        to = ""
    return UsageError(f"{p}: dangling symbolic link{to}")


def spec_files(paths: list[Path]) -> list[Path]:
    """`spec_targets` for callers that stop at the first problem: it is raised."""
    out: list[Path] = []
    for path, problem in spec_targets(paths):
        if problem is not None:
            raise problem
        out.append(path)
    return out


def check_options_error(opts: CheckOptions) -> UsageError | None:
    """What is wrong with options that apply to every spec (checked once, before any spec)."""
    if not 0 <= opts.depth <= MAX_DEPTH:
        return UsageError(f"--depth must be between 0 and {MAX_DEPTH}, not {opts.depth}")
    if opts.engine not in ENGINES:
        return UsageError(f"unknown engine '{opts.engine}' (engines: {', '.join(ENGINES)})")
    t = opts.timeout_s
    if t is not None and not (math.isfinite(t) and 0 < t <= MAX_TIMEOUT_S):
        return UsageError(f"--timeout must be a number of seconds above 0 and at most "
                          f"{MAX_TIMEOUT_S:g}, not {t:g}")
    return None


@dataclass(frozen=True)
class SpecPlan:
    """A spec loaded and its variants chosen: all a job needs to check one variant (the program
    holds the text of the spec and of every library file it uses, so a job reads no file)."""

    path: Path
    program: Program
    chosen: tuple[str, ...]


def plan_spec(path: Path, opts: CheckOptions, parses: ParseCache | None = None) -> SpecPlan:
    """Load a spec and choose its variants (the cheap part of `check_spec`, before any engine);
    `parses` shares the library files' syntax trees between the specs of one run."""
    problem = check_options_error(opts)
    if problem is not None:
        raise problem
    program = load_program(path, opts.lib_paths, parses)
    names = variant_names(program)
    if opts.all_variants:
        chosen = names
    elif opts.variants:
        for v in opts.variants:
            if v not in names:
                raise UsageError(f"{path}: no variant '{v}' (variants: {', '.join(names)})")
        chosen = [v for v in names if v in opts.variants]
    else:
        chosen = [BASE_VARIANT]
    return SpecPlan(path, program, tuple(chosen))


def variant_properties(m: I.Model, opts: CheckOptions) -> list[I.Property]:
    """The properties of one variant the options ask to check."""
    return [p for p in m.properties
            if (not opts.properties or p.name in opts.properties)
            and (opts.deadlock or p.kind is not I.PropKind.DEADLOCK)]


def run_engine(m: I.Model, opts: CheckOptions, progress: Progress | None = None) -> list[Result]:
    """The chosen engine on one variant's properties: the expensive part, one job of a matrix.

    Each variant starts on a fresh z3 context: which of the shortest counterexamples the solver
    finds depends on what its context has seen, and a variant's results must not depend on the
    variants that ran before it in the same process (app.distributed runs them anywhere, in any
    order). Nothing built in the old context is used again (the terms live in each engine's
    encoding); the old context is freed with its last term."""
    import z3

    z3.z3._main_ctx = None  # z3 has no public way to start over; main_ctx() makes a new one
    return ENGINES[opts.engine](m, functools.partial(Encoding, m), variant_properties(m, opts),
                                opts, progress)


def start_report(plan: SpecPlan, models: dict[str, I.Model],
                 opts: CheckOptions) -> tuple[SpecReport, list[str]]:
    """The empty report of a spec, and every property name its variants have (in order)."""
    base = next(iter(models.values()))
    report = SpecReport(str(plan.program.main.path), base.spec, base.description,
                        list(plan.chosen), models=models, program=plan.program)
    all_props: list[str] = []
    for m in models.values():
        for p in m.properties:
            if p.name not in all_props:
                all_props.append(p.name)
    for want in opts.properties:
        if want not in all_props:
            raise UsageError(f"{plan.path}: no property '{want}' "
                             f"(properties: {', '.join(all_props)})")
    return report, all_props


def add_rows(report: SpecReport, all_props: list[str], opts: CheckOptions, v: str,
             raw: list[Result]) -> None:
    """One variant's rows from its engine's results: vacuity, slicing, assumptions, expectations
    (the same whichever process ran the engine)."""
    models = report.models
    m = models[v]
    flagged, vacuity_declared = flag_vacuous(m, raw)
    flagged = [replace(r, trace=slice_trace(m, r.trace)) if r.trace is not None else r
               for r in flagged]
    flagged = flag_assumptions(m, flagged)
    results = {r.prop: r for r in flagged}
    for name in all_props:
        if opts.properties and name not in opts.properties:
            continue
        if name in results:
            r = results[name]
        elif any(p.name == name for p in m.properties):
            continue  # filtered out (e.g. --no-deadlock)
        else:
            # the variant has no check of this kind at all: nothing can fail
            kind = next(mm.prop(name).kind for mm in models.values()
                        if any(p.name == name for p in mm.properties))
            if kind is I.PropKind.DEADLOCK and not opts.deadlock:
                continue
            r = Result(name, kind, Status.NO_CHECK, 0, "static",
                       reason="not in this variant")
        exp = expectation_for(m, name) if any(p.name == name for p in m.properties) else None
        report.rows.append(Row(v, r, expect_text(m, name) if exp or any(
            p.name == name for p in m.properties) else status_word(Status.NO_CHECK),
            matches(r, exp) and (not r.vacuous or vacuity_declared)))


def check_spec(path: Path, opts: CheckOptions, progress: Progress | None = None,
               on_variant: Callable[[VariantStart], None] | None = None,
               parses: ParseCache | None = None) -> SpecReport:
    start = time.monotonic()
    plan = plan_spec(path, opts, parses)
    models = {v: elaborate(plan.program, v) for v in plan.chosen}
    report, all_props = start_report(plan, models, opts)
    interrupted = False
    for i, (v, m) in enumerate(models.items(), start=1):
        props = variant_properties(m, opts)
        if on_variant is not None:
            on_variant(VariantStart(i, len(models), v, tuple(p.name for p in props)))
        try:
            raw = run_engine(m, opts, progress)
        except (KeyboardInterrupt, Exception) as e:
            # Ctrl-C/SIGTERM: report what is known (this variant's partial results, the variants
            # done before it), then stop. Any other error is the interrupt too when one is
            # pending: a KeyboardInterrupt raised inside a ctypes call comes out as
            # ctypes.ArgumentError, a cancelled solver as the engine's own failure.
            if not isinstance(e, KeyboardInterrupt | Interrupted) and not interrupt_requested():
                raise
            interrupted = True
            raw = e.partial if isinstance(e, Interrupted) and isinstance(e.partial, list) else [
                Result(p.name, p.kind, Status.UNKNOWN, 0, opts.engine, interrupted=True,
                       reason="interrupted before it was checked") for p in props]
        add_rows(report, all_props, opts, v, raw)
        if interrupted:
            report.seconds = time.monotonic() - start
            raise Interrupted(report)
    report.seconds = time.monotonic() - start
    return report
