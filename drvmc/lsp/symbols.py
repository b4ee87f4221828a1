"""The declarations of spec files with their doc comments: what hover, go-to-definition and
completion show, and what the generated library reference lists.

The parser drops comments, so a declaration's doc comment is read from the source beside the
AST: the comment lines right above it (no blank line between), plus a trailing `# ...` on its
own line and the comment lines aligned under that. Section rulers (`# ---- devres ----`) belong
to no declaration. The library documents each procedure with a first line that names the kernel
function it models (`request_irq(irq, handler, 0, name, dev): ...`); that name is the procedure's
kernel function, and several procedures can share one comment
(`spin_lock_irqsave(lock, flags) / spin_lock_irq(lock): ...` documents both).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import assert_never

from drvmc.checker.errors import DrvmcError, Span
from drvmc.checker.lang import ast as A
from drvmc.checker.lang import pretty
from drvmc.checker.lang.loader import read_source
from drvmc.checker.lang.parser import parse_text


class SymbolKind(Enum):
    PROC = "proc"
    FUNC = "func"
    CONST = "const"
    PROPERTY = "property"  # `property NAME "..."`: a class of assertions
    STATE_PROPERTY = "state property"  # invariant / final / reachable
    SIMPLIFICATION = "simplification"
    ENUM = "enum"
    ENUM_MEMBER = "enum member"
    RECORD = "record"
    VAR = "var"
    ACTOR = "actor"


CALLABLE = frozenset({SymbolKind.PROC, SymbolKind.FUNC})
PROPERTIES = frozenset({SymbolKind.PROPERTY, SymbolKind.STATE_PROPERTY})


@dataclass(frozen=True)
class Symbol:
    kind: SymbolKind
    name: str
    file: str  # the file's path as the loader shows it (SpecFile.path)
    name_span: Span  # where the name is written in its declaration
    signature: str  # `proc name(a: T) -> R`, `const N = 3`, `property p "..."`
    doc: tuple[str, ...]  # the doc comment, one entry per line, `#` taken off ("" = blank)
    doc_from: str | None = None  # the declaration whose comment documents this one too
    kernel_function: str | None = None
    kernel_files: tuple[str, ...] = ()  # the kernel sources the file's header names
    variant: str | None = None  # declared inside `variant NAME { ... }`


# `kernel/irq/manage.c`, `include/linux/devm-helpers.h`: a path with a folder, ending .c or .h
_KERNEL_FILE = re.compile(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+\.[ch]\b")
_LEADING_CALL = re.compile(r"\s*([A-Za-z_]\w*)\(")


def _comment(line: str) -> str | None:
    s = line.strip()
    if s.startswith("#"):
        return s[1:].strip()
    if s.startswith("//"):
        return s[2:].strip()
    return None


def _is_ruler(text: str) -> bool:
    return text.startswith("---") or text.startswith("===")


def _word(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w]){re.escape(name)}(?![\w])")


def doc_above(lines: list[str], line: int) -> tuple[str, ...]:
    """The comment lines right above 1-based `line`, up to a blank line, code or a ruler."""
    out: list[str] = []
    i = line - 2
    while i >= 0:
        text = _comment(lines[i])
        if text is None or _is_ruler(text):
            break
        out.append(text)
        i -= 1
    out.reverse()
    while out and not out[0]:
        out.pop(0)
    return tuple(out)


def doc_trailing(lines: list[str], span: Span) -> tuple[str, ...]:
    """`const N = 3   # what N is`, and comment lines lined up under that `#`."""
    if not 0 < span.end_line <= len(lines):
        return ()
    rest = lines[span.end_line - 1][span.end_col - 1:]
    text = _comment(rest)
    if text is None:
        return ()
    out = [text]
    column = span.end_col - 1 + rest.index(rest.lstrip()[0])
    for following in lines[span.end_line:]:
        more = _comment(following)
        if more is None or len(following) - len(following.lstrip()) != column:
            break
        out.append(more)
    return tuple(out)


def kernel_function(name: str, doc: tuple[str, ...]) -> str | None:
    """The kernel function a procedure models, as its doc comment's first line names it:
    the procedure's own name if that line mentions it, else the call the line starts with;
    None for a model helper (a comment that starts any other way, or none)."""
    if not doc:
        return None
    first = doc[0]
    if _word(name).search(first):
        return name
    m = _LEADING_CALL.match(first)
    return m.group(1) if m else None


def kernel_files(source: str) -> tuple[str, ...]:
    """The kernel sources the file's opening comment names (before its first blank line)."""
    found: list[str] = []
    for line in source.splitlines():
        text = _comment(line)
        if not text:
            break
        found.extend(f for f in _KERNEL_FILE.findall(text) if f not in found)
    return tuple(found)


class _Locator:
    """Offsets ↔ 1-based line/column of one source text."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.starts = [0]
        for m in re.finditer("\n", source):
            self.starts.append(m.end())

    def offset(self, line: int, col: int) -> int:
        if not 0 < line <= len(self.starts):
            return len(self.source)
        return self.starts[line - 1] + col - 1

    def position(self, offset: int) -> tuple[int, int]:
        lo, hi = 0, len(self.starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, offset - self.starts[lo] + 1

    def name_span(self, name: str, decl: Span) -> Span:
        """Where `name` is first written from the start of `decl` on (after its keyword)."""
        start = self.offset(decl.line, decl.col)
        m = _word(name).search(self.source, start)
        if m is None:
            return decl
        line, col = self.position(m.start())
        return Span(decl.file, line, col, line, col + len(name))


def _signature(d: A.Decl) -> str:
    match d:
        case A.ProcDecl():
            params = ", ".join(f"{p.name}: {pretty.type_(p.type)}" for p in d.params)
            result = f" -> {pretty.type_(d.result)}" if d.result is not None else ""
            return f"{'func' if d.pure else 'proc'} {d.name}({params}){result}"
        case A.ActorDecl():
            return pretty.decl(d)[0].split(" {", 1)[0]
        case A.StateProp():
            desc = f' "{d.description}"' if d.description is not None else ""
            return f"{d.kind.value} {d.name}{desc}: {pretty.expr(d.expr)}"
        case A.VariantDecl() | A.Use() | A.AllowDecl() | A.ExpectDecl():
            return ""
        case (A.ConstDecl() | A.EnumDecl() | A.RecordDecl() | A.VarDecl() | A.PropertyDecl()
              | A.SimplificationDecl()):
            return pretty.decl(d)[0]
        case _:
            assert_never(d)


def _kind(d: A.Decl) -> SymbolKind | None:
    match d:
        case A.ProcDecl():
            return SymbolKind.FUNC if d.pure else SymbolKind.PROC
        case A.ConstDecl():
            return SymbolKind.CONST
        case A.PropertyDecl():
            return SymbolKind.PROPERTY
        case A.StateProp():
            return SymbolKind.STATE_PROPERTY
        case A.SimplificationDecl():
            return SymbolKind.SIMPLIFICATION
        case A.EnumDecl():
            return SymbolKind.ENUM
        case A.RecordDecl():
            return SymbolKind.RECORD
        case A.VarDecl():
            return SymbolKind.VAR
        case A.ActorDecl():
            return SymbolKind.ACTOR
        case A.VariantDecl() | A.Use() | A.AllowDecl() | A.ExpectDecl():
            return None
        case _:
            assert_never(d)


def _decls(spec: A.SpecFile) -> Iterator[tuple[A.Decl, str | None]]:
    for d in spec.decls:
        if isinstance(d, A.VariantDecl):
            yield from ((item, d.name) for item in d.items)
        else:
            yield d, None


def symbols_of(spec: A.SpecFile, source: str) -> tuple[Symbol, ...]:
    """Every named declaration of one parsed file, in source order."""
    lines = source.splitlines()
    where = _Locator(source)
    files = kernel_files(source)
    out: list[Symbol] = []
    for d, variant in _decls(spec):
        kind = _kind(d)
        if kind is None or not hasattr(d, "name"):
            continue
        name: str = d.name
        doc = doc_above(lines, d.span.line)
        if kind not in (SymbolKind.PROC, SymbolKind.FUNC, SymbolKind.ACTOR):
            doc = (*doc, *doc_trailing(lines, d.span))
        doc_from = None
        if not doc and kind in CALLABLE:
            # documented together with an earlier procedure whose comment names it
            for earlier in reversed(out):
                if earlier.kind in CALLABLE and earlier.doc and earlier.doc_from is None \
                        and _word(name).search(earlier.doc[0]):
                    doc, doc_from = earlier.doc, earlier.name
                    break
        out.append(Symbol(
            kind, name, spec.path, where.name_span(name, d.span), _signature(d), doc, doc_from,
            kernel_function(name, doc) if kind in CALLABLE else None, files, variant))
        if isinstance(d, A.EnumDecl):
            for member, span in zip(d.members, d.member_spans, strict=False):
                out.append(Symbol(SymbolKind.ENUM_MEMBER, member, spec.path, span,
                                  f"{member}: {d.name}", (), None, None, files, variant))
    return tuple(out)


class Index:
    """The declarations visible from one spec: its own and those of every file it uses."""

    def __init__(self, symbols: Iterable[Symbol], sources: dict[str, str],
                 main: str | None = None) -> None:
        self.symbols = tuple(symbols)
        self.sources = sources  # file (as in Symbol.file) -> its text
        self.main = main  # the spec file, whose declarations replace the library's defaults
        self._by_name: dict[str, list[Symbol]] = {}
        for s in self.symbols:
            self._by_name.setdefault(s.name, []).append(s)

    def lookup(self, name: str, call: bool = False) -> Symbol | None:
        """The declaration `name` refers to: a procedure if it is called, else (in this order)
        a property, constant, state variable, type or actor; the spec file's over a library
        default it replaces; the base spec's over a variant's."""
        found = self._by_name.get(name, [])
        if not found:
            return None
        order = list(SymbolKind)
        if call:
            order = [SymbolKind.PROC, SymbolKind.FUNC,
                     *(k for k in order if k not in CALLABLE)]
        return min(found, key=lambda s: (order.index(s.kind), s.file != self.main,
                                         s.variant is not None))

    def of_kinds(self, kinds: frozenset[SymbolKind]) -> list[Symbol]:
        """One declaration per name among `kinds` (the base spec's), sorted by name."""
        best: dict[str, Symbol] = {}
        for s in self.symbols:
            if s.kind in kinds and (s.name not in best or best[s.name].variant is not None):
                best[s.name] = s
        return [best[n] for n in sorted(best)]


def index_of_files(files: Iterable[A.SpecFile], sources: dict[str, str],
                   main: str | None = None) -> Index:
    symbols: list[Symbol] = []
    for f in files:
        symbols.extend(symbols_of(f, sources[f.path]))
    return Index(symbols, {f: sources[f] for f in sources}, main)


def library_files(lib_dir: Path) -> list[Path]:
    return sorted(lib_dir.glob("*.drv"))


def library_index(lib_dir: Path, skip_broken: bool = False) -> Index:
    """Every declaration of the library folder (each file parsed on its own). A file that
    does not read or parse raises, or with `skip_broken` is left out."""
    specs: list[A.SpecFile] = []
    sources: dict[str, str] = {}
    for path in library_files(lib_dir):
        shown = str(path)
        try:
            text = read_source(path)
            specs.append(parse_text(text, shown))
        except DrvmcError:
            if skip_broken:
                continue
            raise
        sources[shown] = text
    return index_of_files(specs, sources)


# ---- the doc comment as Markdown (hover and docs/LIBRARY.md show the same text) ----------

_CODE_SPAN = re.compile(r"(`[^`]*`)")


def _escape(text: str) -> str:
    """The comments are written as Markdown (`code`, *emphasis*); only what would turn into
    HTML or bold identifiers is escaped: `<`, and underscores that start a word
    (`__iommu_probe_device`). Code spans are left alone."""
    parts = _CODE_SPAN.split(text)
    for i in range(0, len(parts), 2):
        parts[i] = re.sub(r"(?<![\w\\])(_+)(?=\w)", lambda m: "\\_" * len(m.group(1)),
                          parts[i].replace("<", "\\<"))
    return "".join(parts)


def paragraphs(doc: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    current: list[str] = []
    for line in (*doc, ""):
        if line:
            current.append(line)
        elif current:
            out.append(" ".join(current))
            current = []
    return out


def doc_markdown(sym: Symbol) -> str:
    """The doc comment, its lines joined into paragraphs, as Markdown."""
    out = []
    for p in paragraphs(sym.doc):
        text = _escape(p)
        if re.match(r"[#>+-]|\d+[.)]", text):
            text = "\\" + text  # not a heading, quote or list item
        out.append(text)
    return "\n\n".join(out)
