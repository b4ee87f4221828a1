"""Checking an editor's buffer with the CLI's own front end: the same diagnostics, codes and
spans as `drvmc parse` (and `drvmc check`, which stops at the same errors) print.

The loader reads the spec from disk, and the buffer may be unsaved, so the text is written to a
private temporary folder under its own file name and loaded from there, with the document's real
folder put first on the library path: a `use` then resolves exactly as it would beside the
saved file (that folder, the `--lib-path` folders, the bundled `specs/` and `specs/lib/`).
Spans in the copy are mapped back to the document.

A file without a `spec NAME` header is a library file (specs/lib/*.drv): it refers to types the
scenario declares, so it is only parsed and loaded, not elaborated.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from drvmc.checker.errors import Diagnostic, DrvmcError, Span, SpecError, UsageError
from drvmc.checker.ir.elaborate import elaborate, variant_names
from drvmc.checker.lang import ast as A
from drvmc.checker.lang.loader import Program, load_program, read_source
from drvmc.checker.lang.parser import parse_text
from drvmc.lsp.symbols import Index, index_of_files, symbols_of


@dataclass(frozen=True)
class Finding:
    """One diagnostic placed in the document. An error inside a used file is shown on the
    document's first `use` line, its message prefixed with where it is; `origin` keeps that
    place (its file as the loader shows it: relative to the working folder, or absolute)."""

    diagnostic: Diagnostic
    origin: Span | None = None


@dataclass(frozen=True)
class Analysis:
    findings: tuple[Finding, ...]
    # the declarations the document sees; None if it does not parse (keep the last good one)
    index: Index | None
    main_file: str  # the document's own file as symbols name it


def _same_file(shown: str, real: Path) -> bool:
    try:
        return Path(shown).resolve() == real.resolve()
    except (OSError, ValueError):
        return False


def analyse(text: str, path: Path, lib_paths: tuple[Path, ...] = ()) -> Analysis:
    """Parse, load and (for a scenario) elaborate every variant of the buffer `text` of the
    document at `path`."""
    with tempfile.TemporaryDirectory(prefix="drvmc-lsp-") as tmp:
        copy = Path(tmp) / (path.name if path.name.endswith(".drv") else "spec.drv")
        copy.write_text(text, encoding="utf-8")
        return _analyse_copy(copy, path, lib_paths)


def _analyse_copy(copy: Path, path: Path, lib_paths: tuple[Path, ...]) -> Analysis:
    shown = str(copy)
    errors: list[Diagnostic] = []
    try:
        source = read_source(copy)
        main = parse_text(source, shown)
    except SpecError as e:
        return Analysis(_place(list(e.diagnostics), copy, None, path), None, shown)
    except UsageError as e:
        return Analysis(_place([_usage(e, shown)], copy, None, path), None, shown)
    program: Program | None = None
    try:
        program = load_program(copy, (path.parent, *lib_paths))
    except SpecError as e:
        errors.extend(e.diagnostics)
    except UsageError as e:
        errors.append(_usage(e, shown))
    if program is None:
        index = Index(symbols_of(main, source), {shown: source})
        return Analysis(_place(errors, copy, main, path), index, shown)
    # the main file under the name the loader gave it (relative to the working folder)
    main_file = next((f.path for f in program.files if _same_file(f.path, copy)), shown)
    index = index_of_files(program.files, program.sources, program.main.path)
    if main.header is not None:
        for v in variant_names(program):
            try:
                elaborate(program, v)
            except SpecError as e:
                errors.extend(d for d in e.diagnostics if d not in errors)
            except DrvmcError as e:  # e.g. a limit the elaborator refuses without a span
                errors.append(Diagnostic("error", str(e), Span(shown, 1, 1, 1, 2)))
    return Analysis(_place(errors, copy, main, path), index, main_file)


def _usage(e: UsageError, shown: str) -> Diagnostic:
    # a usage error (an unreadable `use`d file) has no code and no place of its own in the CLI
    return Diagnostic("usage", str(e), Span(shown, 1, 1, 1, 2))


def _place(errors: list[Diagnostic], copy: Path, main: A.SpecFile | None,
           path: Path) -> tuple[Finding, ...]:
    uses = [d.span for d in main.decls if isinstance(d, A.Use)] if main is not None else []
    anchor = uses[0] if uses else Span(str(copy), 1, 1, 1, 2)
    out: list[Finding] = []
    for d in errors:
        if _same_file(d.span.file, copy):
            out.append(Finding(replace(d, span=replace(d.span, file=str(path)))))
        else:
            moved = replace(d, message=f"{d.span}: {d.message}",
                            span=replace(anchor, file=str(path)))
            out.append(Finding(moved, d.span))
    return tuple(out)
