"""`drvmc lsp` in a real LSP session, the doc comments it shows, and the editor files.

Each session starts `python -m drvmc.checker lsp` as a subprocess and speaks JSON-RPC to it over
stdio through pygls' own client: initialize, didOpen, then the requests an editor sends. What
the server answers is compared with the CLI (`drvmc parse` on the same file) and with the library
source itself, so a test cannot pass by the server agreeing with itself.

Also here: the generated reference in docs/LIBRARY.md is up to date with specs/lib's comments,
and the VS Code extension's package.json and TextMate grammar are valid (the grammar tokenizes
a sample spec with a TextMate engine from PyPI).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types as T
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path, to_fs_path

from drvmc.lsp import reference
from drvmc.lsp.symbols import doc_above, kernel_function, library_index, symbols_of

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "specs" / "lib"
VSCODE = ROOT / "editors" / "vscode"
WAIT = 60.0  # a guard against a hung server, not a timing: answers come in well under a second

# A scenario with two errors elaboration finds (a wrong argument count, an undefined name).
BAD_SPEC = """\
spec lsp_bad "a spec with errors"
use lib/device
use lib/irq

enum Dev { pdev }
enum Res { buf, irq_dr }
enum Gid { anon1 }
var devres_anon_ids: list<Gid, 1> = [anon1]
enum Ref { ref_none }
enum Irq { irq0 }
const DEVRES_CAP = 3

proc driver_probe(dev: Dev) -> bool { return true }
proc driver_remove(dev: Dev) { skip }
proc device_release(dev: Dev) { skip }

actor drv {
  get:   get_device(pdev)
  put:   put_device(pdev, 3)
  oops:  undefined_thing = 1
}
"""

# A clean scenario that calls into the library (devm_request_irq, devres_add, put_device).
GOOD_SPEC = """\
spec lsp_good "a clean spec"
use lib/device
use lib/irq

enum Dev { pdev }
enum Res { buf, irq_dr }
enum Gid { anon1 }
var devres_anon_ids: list<Gid, 1> = [anon1]
enum Ref { ref_none }
enum Irq { irq0 }
const DEVRES_CAP = 3

proc driver_probe(dev: Dev) -> bool { return true }
proc driver_remove(dev: Dev) { skip }
proc device_release(dev: Dev) { skip }

proc my_handler(i: Irq) {
  resource_use(buf)
}

actor drv {
  probe:  var ret: -22..0 = 0
          ret = devm_request_irq(pdev, irq0, my_handler, irq_dr)
          devres_add(pdev, buf)
          driver_bound(pdev)
  unbind: device_release_driver(pdev)
}

final irq_freed: !irq_requested[irq0]
"""


# ---- a session ------------------------------------------------------------------------------


class Session:
    """A pygls client talking to `drvmc lsp`, collecting the diagnostics it publishes."""

    def __init__(self) -> None:
        self.client = LanguageClient("drvmc-test", "1")
        self.published: dict[str, list[T.PublishDiagnosticsParams]] = {}
        self.arrived = asyncio.Event()

        @self.client.feature(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)  # type: ignore[untyped-decorator]
        def on_diagnostics(params: T.PublishDiagnosticsParams) -> None:
            self.published.setdefault(params.uri, []).append(params)
            self.arrived.set()

    async def diagnostics(self, uri: str, count: int = 1) -> list[T.Diagnostic]:
        """The diagnostics of the `count`-th publication for `uri`."""
        async def enough() -> None:
            while len(self.published.get(uri, [])) < count:
                self.arrived.clear()
                await self.arrived.wait()
        await asyncio.wait_for(enough(), WAIT)
        return list(self.published[uri][count - 1].diagnostics)

    def open(self, path: Path, text: str) -> str:
        uri: str | None = from_fs_path(str(path))
        assert uri is not None
        self.client.text_document_did_open(T.DidOpenTextDocumentParams(
            T.TextDocumentItem(uri=uri, language_id="drv", version=1, text=text)))
        return uri


def run_session(cwd: Path, steps: Callable[[Session], Awaitable[None]]) -> None:
    async def main() -> None:
        s = Session()
        await s.client.start_io(sys.executable, "-m", "drvmc.checker", "lsp", cwd=str(cwd))
        try:
            result = await asyncio.wait_for(s.client.initialize_async(T.InitializeParams(
                capabilities=T.ClientCapabilities(), root_uri=from_fs_path(str(cwd)))), WAIT)
            caps = result.capabilities
            assert caps.hover_provider and caps.definition_provider
            assert caps.completion_provider is not None
            s.client.initialized(T.InitializedParams())
            await steps(s)
            await asyncio.wait_for(s.client.shutdown_async(None), WAIT)
            s.client.exit(None)
        finally:
            await asyncio.wait_for(s.client.stop(), WAIT)  # type: ignore[no-untyped-call]
    asyncio.run(main())


def position_of(text: str, needle: str, offset: int = 0) -> T.Position:
    """The position `offset` characters into the first occurrence of `needle` in `text`."""
    at = text.index(needle) + offset
    line = text.count("\n", 0, at)
    return T.Position(line, at - (text.rfind("\n", 0, at) + 1))


def lib_line(file: str, needle: str) -> int:
    """The 0-based line of `needle` in specs/lib/FILE."""
    lines = (LIB / file).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines) if line.startswith(needle))


# ---- diagnostics ----------------------------------------------------------------------------


def cli_errors(spec: Path) -> set[tuple[str, int, int, int]]:
    """(code, 0-based line, 0-based column, caret width) of each error `drvmc parse` prints."""
    out = subprocess.run([sys.executable, "-m", "drvmc.checker", "parse", spec.name],
                         cwd=spec.parent, capture_output=True, text=True, check=False)
    assert out.returncode == 3, out.stderr
    found = re.findall(r"^\S+:(\d+):(\d+): error\[(\w+)\]: .*\n.*\n\s+\| *(\^+)$", out.stderr,
                       re.MULTILINE)
    assert found, out.stderr
    return {(code, int(line) - 1, int(col) - 1, len(carets))
            for line, col, code, carets in found}


def test_diagnostics_have_the_cli_codes_and_spans(tmp_path: Path) -> None:
    spec = tmp_path / "bad.drv"
    spec.write_text(BAD_SPEC, encoding="utf-8")
    expected = cli_errors(spec)
    # what the CLI says, read off the spec by hand: put_device's arguments, the undefined name
    put = position_of(BAD_SPEC, "put_device(pdev, 3)")
    oops = position_of(BAD_SPEC, "undefined_thing")
    assert ("E111", put.line, put.character, len("put_device(pdev, 3)")) in expected
    assert ("E100", oops.line, oops.character, len("undefined_thing")) in expected

    async def steps(s: Session) -> None:
        uri = s.open(spec, BAD_SPEC)
        got = await s.diagnostics(uri)
        assert {(d.code, d.range.start.line, d.range.start.character,
                 d.range.end.character - d.range.start.character) for d in got} == expected
        assert all(d.source == "drvmc" and d.severity == T.DiagnosticSeverity.Error
                   for d in got)
        messages = {d.code: d.message for d in got}
        assert messages["E111"] == "'put_device' takes 1 argument(s), 2 given"

    run_session(tmp_path, steps)


def test_a_syntax_error_while_typing_then_its_fix(tmp_path: Path) -> None:
    spec = tmp_path / "typing.drv"
    broken = GOOD_SPEC.replace("driver_bound(pdev)", "driver_bound(pdev")
    spec.write_text(broken, encoding="utf-8")
    (code, line, col, _), = cli_errors(spec)

    async def steps(s: Session) -> None:
        uri = s.open(spec, broken)
        (d,) = await s.diagnostics(uri)
        assert (d.code, d.range.start.line, d.range.start.character) == (code, line, col)
        assert code == "E010" and "unexpected" in d.message
        # the editor fixes it (unsaved): the next publication is empty
        s.client.text_document_did_change(T.DidChangeTextDocumentParams(
            T.VersionedTextDocumentIdentifier(uri=uri, version=2),
            [T.TextDocumentContentChangeWholeDocument(text=GOOD_SPEC)]))
        assert await s.diagnostics(uri, count=2) == []
        assert s.published[uri][1].version == 2

    run_session(tmp_path, steps)


# ---- hover, definition, completion ------------------------------------------------------------


def test_hover_on_a_library_call_shows_its_kernel_function_and_doc(tmp_path: Path) -> None:
    spec = tmp_path / "good.drv"
    spec.write_text(GOOD_SPEC, encoding="utf-8")
    # the doc comment, as written above the proc in the library
    irq = (LIB / "irq.drv").read_text(encoding="utf-8").splitlines()
    at = lib_line("irq.drv", "proc devm_request_threaded_irq(")
    first_doc_line = irq[at - 3].lstrip("# ")
    assert first_doc_line.startswith("devm_request_threaded_irq(")

    async def steps(s: Session) -> None:
        uri = s.open(spec, GOOD_SPEC)
        assert await s.diagnostics(uri) == []
        hover = await asyncio.wait_for(s.client.text_document_hover_async(T.HoverParams(
            T.TextDocumentIdentifier(uri), position_of(GOOD_SPEC, "devm_request_irq(", 3))),
            WAIT)
        assert hover is not None and isinstance(hover.contents, T.MarkupContent)
        text = hover.contents.value
        assert "proc devm_request_irq(dev: Dev?, i: Irq, handler: proc(Irq)?, dr: Res)" in text
        assert "**kernel function:** `devm_request_irq`\n" in text
        assert "irq.drv:" in text and "models kernel/irq/manage.c" in text
        assert "\n\ndevm_request_irq(dev, irq, handler, ...).\n\n" in text  # its doc comment
        assert hover.range == T.Range(position_of(GOOD_SPEC, "devm_request_irq("),
                                      position_of(GOOD_SPEC, "devm_request_irq(", 16))
        # a procedure documented by a longer comment: its first line is in the hover
        helper = GOOD_SPEC.replace("driver_bound(pdev)",
                                   "driver_bound(pdev)\n  x: devm_request_threaded_irq(pdev)")
        s.client.text_document_did_change(T.DidChangeTextDocumentParams(
            T.VersionedTextDocumentIdentifier(uri=uri, version=2),
            [T.TextDocumentContentChangeWholeDocument(text=helper)]))
        await s.diagnostics(uri, count=2)
        hover = await s.client.text_document_hover_async(T.HoverParams(
            T.TextDocumentIdentifier(uri), position_of(helper, "devm_request_threaded_irq")))
        assert hover is not None and isinstance(hover.contents, T.MarkupContent)
        words = " ".join(hover.contents.value.replace("\\", "").split())
        assert " ".join(first_doc_line.split()) in words

    run_session(tmp_path, steps)


def test_go_to_definition_across_use_and_in_the_spec(tmp_path: Path) -> None:
    spec = tmp_path / "good.drv"
    spec.write_text(GOOD_SPEC, encoding="utf-8")

    async def steps(s: Session) -> None:
        uri = s.open(spec, GOOD_SPEC)
        await s.diagnostics(uri)

        async def goto(needle: str) -> T.Location:
            loc = await asyncio.wait_for(s.client.text_document_definition_async(
                T.DefinitionParams(T.TextDocumentIdentifier(uri),
                                   position_of(GOOD_SPEC, needle, 1))), WAIT)
            assert isinstance(loc, T.Location), loc
            return loc

        # a call into the library: device_release_driver in specs/lib/device.drv
        loc = await goto("device_release_driver(pdev)")
        assert Path(to_fs_path(loc.uri) or "").resolve() == (LIB / "device.drv").resolve()
        line = lib_line("device.drv", "proc device_release_driver(")
        assert loc.range == T.Range(T.Position(line, 5), T.Position(line, 26))
        # through a file that `use`s another: devres_add is in devres.drv (device.drv uses it)
        loc = await goto("devres_add(pdev")
        assert Path(to_fs_path(loc.uri) or "").name == "devres.drv"
        assert loc.range.start == T.Position(lib_line("devres.drv", "proc devres_add("), 5)
        # a procedure of the spec itself, used as a value
        loc = await goto("my_handler, irq_dr")
        assert loc.uri == uri
        assert loc.range.start == position_of(GOOD_SPEC, "my_handler(i: Irq)")

    run_session(tmp_path, steps)


def test_go_to_definition_prefers_the_specs_replacement_of_a_library_default(
        tmp_path: Path) -> None:
    text = ("use lib/device\nenum Dev { pdev }\nproc driver_remove(dev: Dev) { skip }\n"
            "actor a { s: driver_remove(pdev) }\n")
    spec = tmp_path / "own.drv"
    spec.write_text(text, encoding="utf-8")

    async def steps(s: Session) -> None:
        uri = s.open(spec, text)
        await s.diagnostics(uri)
        loc = await asyncio.wait_for(s.client.text_document_definition_async(
            T.DefinitionParams(T.TextDocumentIdentifier(uri),
                               position_of(text, "driver_remove(pdev)", 1))), WAIT)
        # device.drv declares a default driver_remove; the spec's own replaces it
        assert isinstance(loc, T.Location) and loc.uri == uri, loc
        assert loc.range.start == T.Position(2, 5)

    run_session(tmp_path, steps)


def test_completion_lists_procedures_and_properties(tmp_path: Path) -> None:
    spec = tmp_path / "good.drv"
    spec.write_text(GOOD_SPEC, encoding="utf-8")

    async def steps(s: Session) -> None:
        uri = s.open(spec, GOOD_SPEC)
        await s.diagnostics(uri)

        async def complete(text: str, needle: str) -> dict[str, T.CompletionItem]:
            s.client.text_document_did_change(T.DidChangeTextDocumentParams(
                T.VersionedTextDocumentIdentifier(uri=uri, version=2),
                [T.TextDocumentContentChangeWholeDocument(text=text)]))
            got = await asyncio.wait_for(s.client.text_document_completion_async(
                T.CompletionParams(T.TextDocumentIdentifier(uri),
                                   position_of(text, needle, len(needle)))), WAIT)
            assert isinstance(got, T.CompletionList)
            return {i.label: i for i in got.items}

        # typing a call (the buffer does not parse: the last good analysis answers)
        typing = GOOD_SPEC.replace("driver_bound(pdev)", "driver_bound(pdev)\n  more: devm_re(")
        items = await complete(typing, "more: devm_re")
        assert {"devm_request_irq", "devm_request_threaded_irq", "put_device",
                "my_handler", "use_after_release", "irq_freed"} <= set(items)
        assert items["devm_request_irq"].kind == T.CompletionItemKind.Function
        assert items["devm_request_irq"].detail == \
            "proc devm_request_irq(dev: Dev?, i: Irq, handler: proc(Irq)?, dr: Res) -> -22..0"
        assert items["use_after_release"].kind == T.CompletionItemKind.Property
        # after `as`: property names only
        tagged = GOOD_SPEC.replace("resource_use(buf)", "assert true as use_af")
        items = await complete(tagged, "as use_af")
        assert "use_after_release" in items and "double_release" in items
        assert "devm_request_irq" not in items
        assert {i.kind for i in items.values()} == {T.CompletionItemKind.Property}

    run_session(tmp_path, steps)


def test_library_files_get_syntax_diagnostics_only(tmp_path: Path) -> None:
    # a library file alone refers to types only a scenario declares: no elaboration errors
    lib = tmp_path / "lib"
    shutil.copytree(LIB, lib)
    text = (lib / "irq.drv").read_text(encoding="utf-8")

    async def steps(s: Session) -> None:
        uri = s.open(lib / "irq.drv", text)
        assert await s.diagnostics(uri) == []

    run_session(tmp_path, steps)


def test_an_error_in_a_used_file_shows_on_the_use_line(tmp_path: Path) -> None:
    from drvmc.lsp.analysis import analyse

    (tmp_path / "helper.drv").write_text("proc h() {\n  x = 1\n}\n", encoding="utf-8")
    text = 'spec s "uses a broken helper"\nuse helper\nuse missing\n'
    spec = tmp_path / "main.drv"
    result = analyse(text, spec)  # unsaved: the file need not exist
    (missing,) = [f for f in result.findings if f.diagnostic.code == "E020"]
    assert missing.origin is None and missing.diagnostic.span.file == str(spec)
    assert (missing.diagnostic.span.line, missing.diagnostic.span.col) == (3, 1)
    # fix the missing use: the helper's own error is reported, on the first `use` line
    result = analyse(text.replace("use missing\n", ""), spec)
    (f,) = [f for f in result.findings if f.origin is not None]
    assert f.diagnostic.code == "E100" and (f.diagnostic.span.line, f.diagnostic.span.col) == (2, 1)
    assert f.origin is not None and Path(f.origin.file).name == "helper.drv"
    assert (f.origin.line, f.origin.col) == (2, 3)
    assert f.diagnostic.message == f"{f.origin}: undefined name 'x'"


# ---- the doc comments --------------------------------------------------------------------------


def test_doc_comments_and_kernel_functions() -> None:
    source = """\
# Locks — kernel/locking/mutex.c (Linux v6.x)

# ---- spinlocks ----
# spin_lock_irqsave(lock, flags) / spin_lock_irq(lock): IRQs off.
proc spin_lock_irqsave(l: Lock) { skip }

proc spin_lock_irq(l: Lock) { skip }

# The bookkeeping (a model helper).
proc note(l: Lock) { skip }

# __refcount_add(1): old 0 warns
proc refcount_add_value(r: Ref) { skip }
const MAX = 7          # model capacity
                       # of the counter
"""
    from drvmc.checker.lang.parser import parse_text

    syms = {s.name: s for s in symbols_of(parse_text(source, "x.drv"), source)}
    assert syms["spin_lock_irqsave"].doc == (
        "spin_lock_irqsave(lock, flags) / spin_lock_irq(lock): IRQs off.",)
    assert syms["spin_lock_irq"].doc_from == "spin_lock_irqsave"
    assert syms["spin_lock_irq"].kernel_function == "spin_lock_irq"
    assert syms["note"].kernel_function is None
    assert syms["refcount_add_value"].kernel_function == "__refcount_add"
    assert syms["MAX"].doc == ("model capacity", "of the counter")
    assert syms["MAX"].kernel_files == ("kernel/locking/mutex.c",)
    assert doc_above(source.splitlines(), 5) == syms["spin_lock_irqsave"].doc
    assert kernel_function("x", ()) is None


def test_every_library_proc_is_found_with_its_comment() -> None:
    index = library_index(LIB)
    procs = [s for s in index.symbols if s.kind.value in ("proc", "func")]
    written = sum(len(re.findall(r"^(default )?(proc|func) ", p.read_text(encoding="utf-8"), re.M))
                  for p in LIB.glob("*.drv"))
    assert len(procs) == written
    # most procedures name the kernel function they model in their comment's first line
    assert sum(s.kernel_function is not None for s in procs) > len(procs) // 2


# ---- the generated reference in docs/LIBRARY.md ------------------------------------------------


def test_the_library_reference_is_up_to_date() -> None:
    doc = (ROOT / "docs" / "LIBRARY.md").read_text(encoding="utf-8")
    assert doc.count(reference.BEGIN) == 1 and doc.count(reference.END) == 1
    stale = reference.updated(doc, reference.section(LIB)) != doc
    assert not stale, (
        "docs/LIBRARY.md's generated library reference is stale (a doc comment, signature, "
        "constant or property in specs/lib/ changed): regenerate it with "
        "`python scripts/gen_library_reference.py`")


def test_the_reference_lists_every_proc_with_its_comment() -> None:
    text = reference.section(LIB)
    assert "`proc devm_request_irq(dev: Dev?, i: Irq, handler: proc(Irq)?, dr: Res) -> -22..0`" \
        in text
    assert "`property use_after_release \"no use of a released resource, object or mapping\"`" \
        in text
    assert "`const IRQ_DEPTH_MAX = 3`" in text
    for s in library_index(LIB).symbols:
        if s.kind.value in ("proc", "func", "const", "property"):
            assert f"`{s.signature}`" in text, s.name


def test_regenerating_replaces_only_the_marked_section() -> None:
    doc = f"# Title\n\nprose\n\n{reference.BEGIN}\nold\n{reference.END}\n\nafter\n"
    new = reference.updated(doc, "new body\n")
    assert new == f"# Title\n\nprose\n\n{reference.BEGIN}\nnew body\n{reference.END}\n\nafter\n"
    with pytest.raises(ValueError, match="markers"):
        reference.updated("# no markers\n", "x")


def test_the_generator_script_checks_and_writes(tmp_path: Path) -> None:
    doc = tmp_path / "LIBRARY.md"
    doc.write_text(f"prose\n\n{reference.BEGIN}\nstale\n{reference.END}\n", encoding="utf-8")
    script = [sys.executable, str(ROOT / "scripts" / "gen_library_reference.py"), "--doc",
              str(doc)]
    stale = subprocess.run([*script, "--check"], capture_output=True, text=True, check=False)
    assert stale.returncode == 1 and "stale" in stale.stderr
    subprocess.run(script, capture_output=True, text=True, check=True)
    assert doc.read_text(encoding="utf-8").startswith(f"prose\n\n{reference.BEGIN}\n")
    fresh = subprocess.run([*script, "--check"], capture_output=True, text=True, check=False)
    assert fresh.returncode == 0, fresh.stderr


# ---- the VS Code extension and its grammar ----------------------------------------------------


def _grammar() -> dict[str, Any]:
    package = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    (entry,) = package["contributes"]["grammars"]
    grammar: dict[str, Any] = json.loads((VSCODE / entry["path"]).read_text(encoding="utf-8"))
    assert grammar["scopeName"] == entry["scopeName"] == "source.drv"
    return grammar


def test_the_extension_package_is_valid() -> None:
    package = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    for key in ("name", "version", "publisher", "engines", "main", "activationEvents",
                "contributes"):
        assert key in package, key
    assert "vscode-languageclient" in package["dependencies"]
    assert (VSCODE / package["main"]).is_file()
    (lang,) = package["contributes"]["languages"]
    assert lang["id"] == "drv" and ".drv" in lang["extensions"]
    json.loads((VSCODE / lang["configuration"]).read_text(encoding="utf-8"))
    assert f"onLanguage:{lang['id']}" in package["activationEvents"]
    extension = (VSCODE / package["main"]).read_text(encoding="utf-8")
    assert "vscode-languageclient/node" in extension and "'lsp'" in extension
    if shutil.which("node"):
        subprocess.run(["node", "--check", str(VSCODE / package["main"])], check=True)


def _patterns(node: Any) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("match", "begin", "end", "while") and isinstance(value, str):
                out.append(value)
            else:
                out.extend(_patterns(value))
    elif isinstance(node, list):
        for value in node:
            out.extend(_patterns(value))
    return out


def test_every_grammar_pattern_compiles() -> None:
    onig = pytest.importorskip("onigurumacffi")  # the regex engine of TextMate grammars
    patterns = _patterns(_grammar())
    assert len(patterns) > 10
    for p in patterns:
        onig.compile(p)


def test_the_grammar_tokenizes_a_spec() -> None:
    tm = pytest.importorskip("textmate_grammar.parsers.base")
    parser = tm.LanguageParser(_grammar())
    sample = ('spec s "a \\"quoted\\" spec"  # comment\n'
              "proc f(d: Dev?) -> bool { return d != null }\n"
              "actor a { go: assert f(x) as use_after_release, \"msg\" }\n"
              "expect original: VIOLATED 3\n")
    element = parser.parse_string(sample)
    assert element is not None
    scopes: dict[str, set[str]] = {}
    for _, text, names in element.flatten():
        scopes.setdefault(text, set()).update(names)

    def has(text: str, scope: str) -> bool:
        return any(n.startswith(scope) for n in scopes.get(text, ()))

    assert has("spec", "keyword.other")
    assert has("proc", "storage.type") or has("proc", "keyword")
    assert has("f", "entity.name.function")
    assert has("return", "keyword.control")
    assert has("null", "constant.language")
    assert has("assert", "keyword.control")
    assert has("VIOLATED", "constant.other")
    assert has("3", "constant.numeric")
    assert any(n.startswith("comment.line") for names in scopes.values() for n in names)
    assert any(n.startswith("string.quoted.double") for names in scopes.values() for n in names)
    assert any(n.startswith("constant.character.escape") for names in scopes.values()
               for n in names)
