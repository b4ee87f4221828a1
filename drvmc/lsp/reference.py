"""The library reference at the end of docs/LIBRARY.md, generated from specs/lib's doc comments.

One entry per procedure, function, constant, property class and simplification: its file, its
signature and its doc comment, rendered by the same code as the language server's hover
(symbols.doc_markdown), so the two cannot drift. Only the text between the markers is
generated; the rest of LIBRARY.md is written by hand. `scripts/gen_library_reference.py`
rewrites it (or, with --check, says whether it is stale).
"""

from __future__ import annotations

from pathlib import Path

from drvmc.lsp.symbols import Symbol, SymbolKind, doc_markdown, library_files, symbols_of

BEGIN = "<!-- BEGIN GENERATED: library reference -->"
END = "<!-- END GENERATED: library reference -->"
COMMAND = "python scripts/gen_library_reference.py"

LISTED = (SymbolKind.PROC, SymbolKind.FUNC, SymbolKind.CONST, SymbolKind.PROPERTY,
          SymbolKind.SIMPLIFICATION)


def _entry(sym: Symbol) -> list[str]:
    head = f"- `{sym.signature}`"
    if sym.kind in (SymbolKind.PROC, SymbolKind.FUNC):
        head += (f" — kernel function `{sym.kernel_function}`" if sym.kernel_function
                 else " — model helper")
    out = [head]
    if sym.doc_from is not None:
        out += ["", f"  Documented with `{sym.doc_from}` above."]
    else:
        out += [line for p in doc_markdown(sym).split("\n\n") if p for line in ("", f"  {p}")]
    return out


def section(lib_dir: Path) -> str:
    """The generated text that goes between the markers (ending in a newline)."""
    from drvmc.checker.lang.loader import read_source
    from drvmc.checker.lang.parser import parse_text

    out = [
        "## Reference: every procedure, constant and property (generated)",
        "",
        "Generated from the doc comments in `specs/lib/*.drv`, the text `drvmc lsp` shows on",
        f"hover: edit the comments, not this section, then run `{COMMAND}`",
        "(a test fails while this section is stale). A procedure's *kernel function* is the one",
        "its comment's first line names; a *model helper* models no single kernel function.",
    ]
    for path in library_files(lib_dir):
        text = read_source(path)
        shown = f"specs/lib/{path.name}"
        symbols = [s for s in symbols_of(parse_text(text, shown), text)
                   if s.kind in LISTED and s.variant is None]
        if not symbols:
            continue
        out += ["", f"### `{shown}`"]
        if symbols[0].kernel_files:
            out += ["", "Kernel sources: " + ", ".join(f"`{f}`" for f in symbols[0].kernel_files)
                    + "."]
        out.append("")
        for s in symbols:
            out += _entry(s)
    return "\n".join(out) + "\n"


def updated(doc: str, body: str) -> str:
    """`doc` with the text between the markers replaced by `body`."""
    start = doc.find(BEGIN)
    end = doc.find(END)
    if start < 0 or end < start or doc.count(BEGIN) != 1 or doc.count(END) != 1:
        raise ValueError(f"expected one pair of markers {BEGIN} ... {END}")
    return doc[: start + len(BEGIN)] + "\n" + body + doc[end:]
