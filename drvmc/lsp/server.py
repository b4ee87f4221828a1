"""`drvmc lsp`: a language server for .drv files over stdio (pygls).

- diagnostics: what `drvmc parse` reports (analysis.py), on open and save at once and while
  typing after a short pause;
- hover on a name: its declaration, and for a procedure the kernel function it models and its
  doc comment (symbols.py: the text docs/LIBRARY.md's generated reference shows);
- go to definition, across `use` (a call into the library opens specs/lib/ at the procedure);
- completion of procedure, property and constant names (only properties after `as` and in an
  `expect` line).

Everything a request needs is in the server object; nothing is kept at module level.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from pathlib import Path

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from drvmc.checker.errors import Span
from drvmc.checker.lang.loader import bundled_specs_dir
from drvmc.lsp.analysis import Analysis, Finding, analyse
from drvmc.lsp.symbols import (
    CALLABLE,
    PROPERTIES,
    Index,
    Symbol,
    SymbolKind,
    doc_markdown,
    library_index,
)

# a pause in typing this long re-checks the buffer (elaborating a scenario takes ~0.3 s)
CHANGE_DELAY = 0.3

_WORD = re.compile(r"[A-Za-z_]\w*")
_PROPERTY_CONTEXT = re.compile(r"(\bas\s+|^\s*expect\s+\w+\s+)\w*$")

_COMPLETION_KIND = {
    SymbolKind.PROC: T.CompletionItemKind.Function,
    SymbolKind.FUNC: T.CompletionItemKind.Function,
    SymbolKind.PROPERTY: T.CompletionItemKind.Property,
    SymbolKind.STATE_PROPERTY: T.CompletionItemKind.Property,
    SymbolKind.CONST: T.CompletionItemKind.Constant,
}


class DrvmcServer(LanguageServer):
    def __init__(self, version: str, lib_paths: tuple[Path, ...]) -> None:
        super().__init__("drvmc", version, text_document_sync_kind=T.TextDocumentSyncKind.Full)
        self.lib_paths = lib_paths
        self.analyses: dict[str, Analysis] = {}  # uri -> the last analysis that parsed
        self.library: Index | None = None  # the bundled library, for a buffer never parsed

    # ---- analysis --------------------------------------------------------------------------

    def check(self, uri: str) -> None:
        doc = self.workspace.get_text_document(uri)
        path = Path(to_fs_path(uri) or "spec.drv")
        try:
            result = analyse(doc.source, path, self.lib_paths)
        except Exception as e:  # an internal error must not take the editor's server down
            self.window_log_message(T.LogMessageParams(
                T.MessageType.Error, f"drvmc: internal error: {type(e).__name__}: {e}"))
            internal = T.Diagnostic(
                T.Range(T.Position(0, 0), T.Position(0, 1)),
                f"drvmc: internal error: {type(e).__name__}: {e}", T.DiagnosticSeverity.Error,
                code="internal", source="drvmc")
            self.publish(uri, doc.version, [internal])
            return
        if result.index is not None:
            self.analyses[uri] = result
        self.publish(uri, doc.version, [self.diagnostic(f, doc.lines) for f in result.findings])

    def publish(self, uri: str, version: int | None, diagnostics: list[T.Diagnostic]) -> None:
        self.text_document_publish_diagnostics(
            T.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=diagnostics))

    def diagnostic(self, f: Finding, lines: Sequence[str]) -> T.Diagnostic:
        d = f.diagnostic
        message = "\n".join([d.message, *(f"note: {n}" for n in d.notes)])
        related = None
        if f.origin is not None:
            related = [T.DiagnosticRelatedInformation(
                T.Location(self.uri_of(f.origin.file, None), self.span_range(
                    f.origin, _lines_of_file(f.origin.file))), d.message)]
        return T.Diagnostic(self.span_range(d.span, lines), message, T.DiagnosticSeverity.Error,
                            code=d.code, source="drvmc", related_information=related)

    # ---- positions -------------------------------------------------------------------------

    def span_range(self, span: Span, lines: Sequence[str]) -> T.Range:
        """1-based code-point columns, end exclusive → the client's 0-based units."""
        codec = self.workspace.position_codec
        start = T.Position(max(span.line - 1, 0), max(span.col - 1, 0))
        end = T.Position(max(span.end_line - 1, 0), max(span.end_col - 1, 0))
        if (end.line, end.character) < (start.line, start.character):
            end = T.Position(start.line, start.character + 1)
        return codec.range_to_client_units(lines, T.Range(start, end))

    def uri_of(self, file: str, analysis: Analysis | None) -> str:
        if analysis is not None and file == analysis.main_file:
            return self.main_uri(analysis)
        return from_fs_path(str(Path(file).resolve())) or file

    def main_uri(self, analysis: Analysis) -> str:
        return next(u for u, a in self.analyses.items() if a is analysis)

    def word_at(self, uri: str, pos: T.Position) -> tuple[str, T.Range, bool] | None:
        """The name under the cursor, its range, and whether it is called (`name(`)."""
        doc = self.workspace.get_text_document(uri)
        lines = doc.lines
        if pos.line >= len(lines):
            return None
        line = lines[pos.line].rstrip("\r\n")
        at = self.workspace.position_codec.position_from_client_units(lines, pos).character
        for m in _WORD.finditer(line):
            if m.start() <= at <= m.end():
                called = line[m.end():].lstrip().startswith("(")
                rng = self.workspace.position_codec.range_to_client_units(
                    lines, T.Range(T.Position(pos.line, m.start()), T.Position(pos.line, m.end())))
                return m.group(), rng, called
        return None

    def index_for(self, uri: str) -> tuple[Index, Analysis | None]:
        analysis = self.analyses.get(uri)
        if analysis is not None and analysis.index is not None:
            return analysis.index, analysis
        if self.library is None:
            self.library = library_index(bundled_specs_dir() / "lib", skip_broken=True)
        return self.library, None

    def lookup(self, uri: str, pos: T.Position) -> tuple[Symbol, Index, Analysis | None,
                                                         T.Range] | None:
        word = self.word_at(uri, pos)
        if word is None:
            return None
        name, rng, called = word
        index, analysis = self.index_for(uri)
        sym = index.lookup(name, call=called)
        return (sym, index, analysis, rng) if sym is not None else None

    # ---- the answers -----------------------------------------------------------------------

    def hover(self, uri: str, pos: T.Position) -> T.Hover | None:
        found = self.lookup(uri, pos)
        if found is None:
            return None
        sym, _, analysis, rng = found
        return T.Hover(T.MarkupContent(T.MarkupKind.Markdown, hover_markdown(sym, analysis)),
                       rng)

    def definition(self, uri: str, pos: T.Position) -> T.Location | None:
        found = self.lookup(uri, pos)
        if found is None:
            return None
        sym, index, analysis, _ = found
        if analysis is not None and sym.file == analysis.main_file:
            target_uri, lines = uri, self.workspace.get_text_document(uri).lines
        else:
            target_uri = self.uri_of(sym.file, analysis)
            lines = index.sources.get(sym.file, "").splitlines()
        return T.Location(target_uri, self.span_range(sym.name_span, lines))

    def completion(self, uri: str, pos: T.Position) -> T.CompletionList:
        index, _ = self.index_for(uri)
        lines = self.workspace.get_text_document(uri).lines
        before = ""
        if pos.line < len(lines):
            at = self.workspace.position_codec.position_from_client_units(lines, pos).character
            before = lines[pos.line][:at]
        kinds = PROPERTIES if _PROPERTY_CONTEXT.search(before) else frozenset(_COMPLETION_KIND)
        items = [T.CompletionItem(
            s.name, kind=_COMPLETION_KIND[s.kind], detail=s.signature,
            documentation=T.MarkupContent(T.MarkupKind.Markdown, doc_markdown(s)) if s.doc
            else None) for s in index.of_kinds(kinds)]
        return T.CompletionList(is_incomplete=False, items=items)


def hover_markdown(sym: Symbol, analysis: Analysis | None) -> str:
    parts = [f"```drv\n{sym.signature}\n```"]
    if sym.kind in CALLABLE:
        if sym.kernel_function is not None:
            parts.append(f"**kernel function:** `{sym.kernel_function}`")
        else:
            parts.append("*a model helper: no kernel function of its own*")
    text = doc_markdown(sym)
    if text:
        parts.append(text)
    if sym.doc_from is not None:
        parts.append(f"*documented together with `{sym.doc_from}`*")
    shown = "this file" if analysis is not None and sym.file == analysis.main_file \
        else sym.file
    variant = f" (variant `{sym.variant}`)" if sym.variant else ""
    files = f" · its file models {', '.join(sym.kernel_files)}" if sym.kernel_files else ""
    parts.append(f"*{shown}:{sym.name_span.line}*{variant}{files}")
    return "\n\n".join(parts)


def _lines_of_file(file: str) -> list[str]:
    try:
        return Path(file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError, ValueError):
        return []


def make_server(version: str, lib_paths: tuple[Path, ...] = ()) -> DrvmcServer:
    server = DrvmcServer(version, lib_paths)
    pending: dict[str, int] = {}  # uri -> how many changes have come in

    @server.feature(T.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: DrvmcServer, params: T.DidOpenTextDocumentParams) -> None:
        ls.check(params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: DrvmcServer, params: T.DidSaveTextDocumentParams) -> None:
        ls.check(params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: DrvmcServer, params: T.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        pending[uri] = mine = pending.get(uri, 0) + 1
        await asyncio.sleep(CHANGE_DELAY)
        if pending.get(uri) == mine:  # no newer change came while waiting
            ls.check(uri)

    @server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: DrvmcServer, params: T.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.analyses.pop(uri, None)
        pending.pop(uri, None)
        ls.publish(uri, None, [])

    @server.feature(T.TEXT_DOCUMENT_HOVER)
    def hover(ls: DrvmcServer, params: T.HoverParams) -> T.Hover | None:
        return ls.hover(params.text_document.uri, params.position)

    @server.feature(T.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: DrvmcServer, params: T.DefinitionParams) -> T.Location | None:
        return ls.definition(params.text_document.uri, params.position)

    @server.feature(T.TEXT_DOCUMENT_COMPLETION)
    def completion(ls: DrvmcServer, params: T.CompletionParams) -> T.CompletionList:
        return ls.completion(params.text_document.uri, params.position)

    return server


def serve(version: str, lib_paths: tuple[Path, ...] = ()) -> None:
    """Answer an editor on stdin/stdout until it says `exit`."""
    make_server(version, lib_paths).start_io()
