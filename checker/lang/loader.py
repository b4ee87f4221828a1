"""Reading a spec and the files it `use`s, through a documented search path only.

A `use a/b` resolves, in order, against: the using file's folder, each `--lib-path` folder, the
bundled `specs/` folder and the bundled `specs/lib/` folder. Paths may not climb out of those
folders (`..` and absolute paths are refused), so a spec can never make drvmc read arbitrary files.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from drvmc.checker.errors import Diagnostic, Span, SpecError, UsageError
from drvmc.checker.lang import ast as A
from drvmc.checker.lang.parser import MAX_SOURCE_BYTES, parse_text

MAX_FILES = 64


def bundled_specs_dir() -> Path:
    """`specs/` of the checkout, or `drvmc/specs/` of an installed copy: both sit two folders
    above this package (pyproject.toml installs the folder as `drvmc.specs`)."""
    return Path(__file__).resolve().parents[2] / "specs"


@dataclass(frozen=True)
class Program:
    """The main spec file and every file it uses, each once, dependencies first."""

    main: A.SpecFile
    files: tuple[A.SpecFile, ...]
    sources: dict[str, str]

    @functools.cached_property
    def names_as_values(self) -> frozenset[str]:
        """Every name the program's files use anywhere but as the callee of a call: a
        procedure named there is a value (a callback). Worked out once per program: every
        variant's elaboration asks, and the walk covers the library too."""
        found: set[str] = set()

        def walk(x: object) -> None:
            if isinstance(x, A.Call):
                if not isinstance(x.func, A.Name):
                    walk(x.func)
                for a in x.args:
                    walk(a)
            elif isinstance(x, A.Name):
                found.add(x.name)
            elif isinstance(x, tuple | list):
                for y in x:
                    walk(y)
            elif not isinstance(x, str | int | Span | type):
                # the syntax tree is frozen dataclasses; reading the field table off the class
                # is several times cheaper than dataclasses.fields() on every node
                for name in getattr(type(x), "__dataclass_fields__", ()):
                    walk(getattr(x, name))

        for f in self.files:
            walk(f.decls)
        return frozenset(found)


class ParseCache:
    """Files already parsed in this run, by displayed path and text: the library files every spec
    uses are parsed once per `drvmc check specs/`, not once per spec. Syntax trees are frozen, so
    sharing one between programs is safe; a file whose text changed is parsed again."""

    def __init__(self) -> None:
        self._trees: dict[tuple[str, str], A.SpecFile] = {}

    def parse(self, text: str, shown: str) -> A.SpecFile:
        key = (shown, text)
        tree = self._trees.get(key)
        if tree is None:
            tree = parse_text(text, shown)
            self._trees[key] = tree
        return tree


def read_source(path: Path) -> str:
    # Read at most one byte past the size limit: a huge file or a device (/dev/zero) is refused
    # without being read whole. A UTF-8 byte order mark is skipped; CRLF reads as LF.
    try:
        if path.is_symlink() and not path.exists():
            raise UsageError(f"{path}: dangling symbolic link (to {os.readlink(path)}, which "
                             "does not exist)")
        if path.exists() and not path.is_file() and not path.is_dir():
            raise UsageError(f"{path}: not a regular file")
        with path.open("rb") as f:
            raw = f.read(MAX_SOURCE_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory") from None
    except OSError as e:
        raise UsageError(f"{path}: cannot read ({e.strerror})") from None
    if len(raw) > MAX_SOURCE_BYTES:
        raise SpecError([Diagnostic("E001", f"spec file is larger than {MAX_SOURCE_BYTES} bytes",
                                    span_of_file(_display(path)))])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise SpecError([Diagnostic("E011", f"not UTF-8 text ({e.reason} at byte {e.start})",
                                    Span(_display(path), line, col, line, col + 1))]) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_program(path: Path, lib_paths: tuple[Path, ...] = (),
                 parses: ParseCache | None = None) -> Program:
    sources: dict[str, str] = {}
    ordered: list[A.SpecFile] = []
    seen: set[Path] = set()
    errors: list[Diagnostic] = []

    def load(p: Path) -> A.SpecFile:
        shown = _display(p)
        text = read_source(p)
        sources[shown] = text
        return parse_text(text, shown) if parses is None else parses.parse(text, shown)

    def visit(spec: A.SpecFile, real: Path, stack: tuple[Path, ...]) -> None:
        for d in spec.decls:
            if not isinstance(d, A.Use):
                continue
            target = _resolve_use(d, real.parent, lib_paths)
            if target is None:
                errors.append(Diagnostic("E020", f"cannot find spec '{d.path}' to use", d.span,
                                         ("searched: the spec's folder, --lib-path, specs/, "
                                          "specs/lib/",)))
                continue
            if target in stack or target in seen:
                continue
            if len(seen) >= MAX_FILES:
                errors.append(Diagnostic("E022", f"more than {MAX_FILES} spec files used",
                                         d.span))
                return
            seen.add(target)
            sub = load(target)
            visit(sub, target, (*stack, target))
            ordered.append(sub)

    real_main = path.resolve()
    seen.add(real_main)
    main = load(path)
    visit(main, real_main, (real_main,))
    if errors:
        raise SpecError(errors)
    ordered.append(main)
    return Program(main, tuple(ordered), sources)


def _resolve_use(d: A.Use, here: Path, lib_paths: tuple[Path, ...]) -> Path | None:
    rel = d.path if d.path.endswith(".drv") else d.path + ".drv"
    parts = Path(rel).parts
    if Path(rel).is_absolute() or ".." in parts or not parts:
        raise SpecError([Diagnostic("E021", f"'use {d.path}': paths must be relative and may "
                                    "not contain '..'", d.span)])
    if any(not c.isprintable() for c in rel) or len(rel) > 1024:
        raise SpecError([Diagnostic("E021", f"'use {d.path!r}': control characters or a path "
                                    "longer than 1024 characters", d.span)])
    roots = [here, *lib_paths, bundled_specs_dir(), bundled_specs_dir() / "lib"]
    refused: tuple[Path, Path, Path] | None = None  # (found, what it resolves to, its root)
    for root in roots:
        try:
            base = root.resolve()
            cand = (root / rel).resolve()
            if cand.is_file():
                if cand.is_relative_to(base):
                    return cand
                # a symlink may not lead out of its search folder either
                refused = refused or (root / rel, cand, base)
        except (OSError, ValueError):
            continue  # a name too long for the file system is a name not found
    if refused is not None:
        found, target, base = refused
        raise SpecError([Diagnostic("E021", f"'use {d.path}': refused: {found} resolves to "
                                    f"{target}, outside the folder it was found in ({base})",
                                    d.span, ("a symbolic link may not lead out of the search "
                                             "folder it is found in",))])
    return None


def span_of_file(path: str) -> Span:
    return Span(path, 1, 1, 1, 2)
