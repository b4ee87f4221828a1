"""A write-up of one or more compared specs: Markdown (diagrams as SVG files beside it) or one
self-contained HTML page (diagrams inline).

Per spec: the header (name, description, the file's leading comment), the variants, the matrix
of properties by variants, what each fix does against the original, every counterexample with
its sequence diagrams and text trace, the proofs (with the inductive invariant when the engine
found one), the coverage witnesses, and how it was checked (engine, bound, time, tool versions).

Diagrams: HTML shows each counterexample's causal slice (dot.py, `narrow`) at its natural size
in a scrolling frame, the whole diagram behind a click, every inline SVG's ids prefixed with
the figure's name (Graphviz numbers `graph0`, `node1`, … afresh in each); Markdown links the
whole diagram's SVG file and draws the slice as a Mermaid block, which GitHub renders in place.

Output is deterministic apart from the time fields (wrapped in `class="time"` in HTML) so that
reports can be diffed; nothing here runs a solver.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from drvmc.checker.errors import DrvmcError
from drvmc.checker.fileio import check_output_path, write_text_atomic
from drvmc.checker.verdict.records import Comparison, FixComparison
from drvmc.checker.verdict.results import Result, Status
from drvmc.checker.verdict.trace import Trace, with_sources
from drvmc.counterexamples.comparison import cell_text, fix_lines, matrix, mismatch, unknowns
from drvmc.counterexamples.mermaid import render_mermaid
from drvmc.counterexamples.text import render_text

SvgRenderer = Callable[[Trace], str | None]


@dataclass(frozen=True)
class ToolInfo:
    drvmc: str
    z3: str
    engine: str
    depth: int
    timeout_s: float | None


@dataclass(frozen=True)
class Figure:
    """One counterexample or witness, with the file name its diagram gets in Markdown."""

    variant: str
    result: Result
    trace: Trace
    slug: str


def default_svg(trace: Trace, narrow: bool = False) -> str | None:
    """The Graphviz sequence diagram, or None when it cannot be drawn (no `dot`)."""
    try:
        from drvmc.counterexamples.dot import render_svg
    except ImportError:
        return None
    try:
        return render_svg(trace, narrow)
    except DrvmcError:
        return None


def narrow_svg(trace: Trace) -> str | None:
    """The causal slice's diagram (dot.py, `narrow`), or None as `default_svg`."""
    return default_svg(trace, narrow=True)


def header_comment(source: str) -> str:
    """The comment block that opens a spec file (before or right after its `spec` line)."""
    out: list[str] = []
    for line in source.splitlines():
        s = line.strip()
        if s.startswith(("#", "//")):
            out.append(s.lstrip("#/").strip())
        elif not out and (not s or s.startswith("spec ")):
            continue
        else:
            break
    return "\n".join(out).strip()


def _spec_comment(cmp: Comparison) -> str:
    prog = cmp.report.program
    if prog is None:
        return ""
    return header_comment(prog.sources.get(prog.main.path, ""))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"


def figures(cmp: Comparison, statuses: tuple[Status, ...]) -> list[Figure]:
    """The traces of the results with these statuses, with their source lines filled in."""
    prog = cmp.report.program
    out = []
    for r in cmp.report.rows:
        t = r.result.trace
        if r.result.status in statuses and t is not None:
            if prog is not None:
                t = with_sources(t, prog.sources)
            out.append(Figure(r.variant, r.result, t,
                              _slug(f"{cmp.report.spec}-{r.variant}-{r.result.prop}")))
    return out


def _invariant(r: Result) -> str | None:
    inv = getattr(r, "invariant", None)  # filled by the proof engines (k-induction, PDR)
    return inv if isinstance(inv, str) and inv else None


def _proofs(cmp: Comparison) -> list[tuple[str, Result]]:
    return [(r.variant, r.result) for r in cmp.report.rows
            if r.result.status in (Status.PROVEN, Status.UNREACHABLE)]


def _engine_line(r: Result) -> str:
    text = f"engine {r.engine}, depth {r.depth}"
    if r.reason:
        text += f" — {r.reason}"
    return text


def _fix_title(fx: FixComparison) -> str:
    return fx.variant + (f" — {fx.description}" if fx.description else "")


# ---------------------------------------------------------------------- Markdown


def _md(text: str) -> str:
    """Escape what Markdown would read as markup inside running text or a table cell.

    `_` inside words is not emphasis in CommonMark, so identifiers stay readable; a leading or
    trailing one is escaped.
    """
    text = re.sub(r"([\\`*\[\]|<])", r"\\\1", text)
    return re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)


def render_markdown(cmps: list[Comparison], info: ToolInfo, images: dict[str, str],
                    total_seconds: float) -> str:
    """`images`: figure slug → the diagram's path relative to the report (drawn ones only)."""
    out = ["# drvmc report", ""]
    out.append(f"drvmc {info.drvmc}, z3 {info.z3}; engine {info.engine}, bound {info.depth} "
               f"steps" + (f", {info.timeout_s:g} s per solver call" if info.timeout_s else "")
               + f"; {len(cmps)} spec{'s' if len(cmps) != 1 else ''}, "
               f"time {total_seconds:.1f} s.")
    out.append("")
    for cmp in cmps:
        rep = cmp.report
        out.append(f"## {_md(rep.spec)}" + (f" — {_md(rep.description)}" if rep.description
                                            else ""))
        out.append("")
        out.append(f"File `{rep.path}`; checked in {cmp.seconds:.1f} s.")
        out.append("")
        comment = _spec_comment(cmp)
        if comment:
            out.extend("> " + _md(line) if line else ">" for line in comment.splitlines())
            out.append("")
        out.append("| variant | what it does |")
        out.append("|---|---|")
        for v in rep.variants:
            desc = rep.models[v].variant_description if v in rep.models else ""
            out.append(f"| {_md(v)} | {_md(desc) or '(the code as it is)'} |")
        out.append("")
        rows = matrix(cmp)
        out.append("| " + " | ".join(_md(c) for c in rows[0]) + " |")
        out.append("|" + "---|" * len(rows[0]))
        for row in rows[1:]:
            out.append("| " + " | ".join(_md(c) for c in row) + " |")
        out.append("")
        if any(mismatch(r) for r in rep.rows):
            out.append("\\* not what the spec's `expect` lines say.")
            out.append("")
        for u in unknowns(cmp):
            out.append(f"- {_md(u)}")
        if unknowns(cmp):
            out.append("")
        for fx in cmp.fixes:
            out.append(f"### Fix {_md(_fix_title(fx))}")
            out.append("")
            out.extend("- " + _md(line.strip()) for line in fix_lines(fx))
            out.append("")
        cex = figures(cmp, (Status.VIOLATED,))
        if cex:
            out.append("### Counterexamples")
            out.append("")
        for f in cex:
            out.append(f"#### {_md(f.variant)} / {_md(f.result.prop)}: "
                       f"{_md(f.result.verdict_text())}")
            out.append("")
            out.append(_md(f.trace.violation.message))
            out.append("")
            if f.slug in images:
                out.append(f"![sequence diagram: {_md(f.variant)} / {_md(f.result.prop)}]"
                           f"({images[f.slug]})")
                out.append("")
            if f.trace.causal is not None:
                # GitHub and GitLab draw it in place: the causal slice, no file needed
                out.extend(["The causal slice:", "", "```mermaid",
                            render_mermaid(f.trace, narrow=True).rstrip("\n"), "```", ""])
            out.extend(["```", render_text(f.trace), "```", ""])
        proofs = _proofs(cmp)
        if proofs:
            out.append("### Proofs")
            out.append("")
            for v, r in proofs:
                out.append(f"- {_md(v)} / {_md(r.prop)}: {_md(cell_text(r))} "
                           f"({_md(_engine_line(r))})")
                inv = _invariant(r)
                if inv:
                    out.extend(["", "  ```", *("  " + x for x in inv.splitlines()), "  ```"])
            out.append("")
        wit = figures(cmp, (Status.REACHABLE,))
        if wit:
            out.append("### Coverage witnesses")
            out.append("")
            for f in wit:
                out.append(f"- {_md(f.variant)} / {_md(f.result.prop)}: "
                           f"{_md(f.result.verdict_text())} — "
                           + _md(" → ".join(f"{s.actor} {s.label}" for s in f.trace.steps)))
            out.append("")
        out.append("### How it was checked")
        out.append("")
        out.append("| variant | property | result | engine | depth | time |")
        out.append("|---|---|---|---|---|---|")
        for run in rep.rows:
            res = run.result
            out.append(f"| {_md(run.variant)} | {_md(res.prop)} | {_md(cell_text(res))}"
                       f" | {_md(res.engine)} | {res.depth} | {res.seconds:.2f} s |")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# ---------------------------------------------------------------------- HTML

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222;
       padding: 0 1em; line-height: 1.4; }
h1 { border-bottom: 2px solid #444; }
h2 { border-bottom: 1px solid #aaa; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.7em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.VIOLATED { background: #f8d0d0; color: #800; font-weight: bold; }
td.PROVEN { background: #cfeccf; color: #060; font-weight: bold; }
td.SAFE { background: #e6f4e6; color: #060; }
td.REACHABLE { background: #dde8f8; color: #024; }
td.NOT_REACHED, td.UNREACHABLE { background: #fbe9c6; color: #740; font-weight: bold; }
td.UNKNOWN { background: #ddd; color: #444; font-style: italic; }
td.NO_CHECK { background: #fff; color: #777; }
td.mismatch { outline: 3px solid #c00; outline-offset: -3px; }
blockquote { border-left: 4px solid #ccc; margin: 0.5em 0; padding: 0.2em 1em; color: #444;
             white-space: pre-wrap; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
figure.diagram { margin: 0.5em 0; overflow: auto; max-height: 90vh; border: 1px solid #ddd; }
figure.diagram svg { display: block; max-width: none; }
figure.diagram figcaption { font-size: 0.9em; color: #555; padding: 0.2em 0.5em; }
.meta { color: #555; font-size: 0.9em; }
ul.fix li.lost { color: #940; font-weight: bold; }
ul.fix li.new { color: #a00; font-weight: bold; }
"""


def _h(text: str) -> str:
    return html.escape(text, quote=True)


def _inline_svg(svg: str, prefix: str) -> str:
    """Graphviz's SVG without its XML prolog, DOCTYPE and comments, to sit inside HTML, its
    ids (and the references to them) prefixed: every diagram numbers `graph0`, `node1`, … and
    one page must not hold an id twice. Graphviz writes attribute values quoted and escaped,
    so ` id="` and `#…` references occur only as attributes."""
    start = svg.find("<svg")
    body = svg[start:] if start >= 0 else svg
    body = re.sub(r"<!--.*?-->", "", body, flags=re.DOTALL).strip()
    body = re.sub(r'(\sid=")([^"]*")', rf"\g<1>{prefix}\g<2>", body)
    body = re.sub(r'(\s(?:xlink:)?href="#)([^"]*")', rf"\g<1>{prefix}\g<2>", body)
    return re.sub(r"url\(#([^)]*)\)", rf"url(#{prefix}\1)", body)


def _figure(svg: str, prefix: str, caption: str) -> str:
    return (f'<figure class="diagram">{_inline_svg(svg, prefix)}'
            f"<figcaption>{_h(caption)}</figcaption></figure>")


def _fix_item_class(line: str) -> str:
    s = line.strip()
    if s.startswith("takes away:") and not s.endswith("nothing the spec checks"):
        return ' class="lost"'
    if (s.startswith("new violations:") and not s.endswith("none")) or (
            s.startswith("still violated:") or "NOT blocked" in s):
        return ' class="new"'
    return ""


def render_html(cmps: list[Comparison], info: ToolInfo, svg: SvgRenderer,
                total_seconds: float, narrow: SvgRenderer | None = None) -> str:
    """`svg` draws a counterexample whole, `narrow` (when given) its causal slice only."""
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           "<title>drvmc report</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
           "<h1>drvmc report</h1>"]
    timeout = f", {info.timeout_s:g} s per solver call" if info.timeout_s else ""
    out.append(f'<p class="meta">drvmc {_h(info.drvmc)}, z3 {_h(info.z3)}; engine '
               f"{_h(info.engine)}, bound {info.depth} steps{_h(timeout)}; {len(cmps)} spec"
               f"{'s' if len(cmps) != 1 else ''}; time "
               f'<span class="time">{total_seconds:.1f} s</span>.</p>')
    if len(cmps) > 1:
        out.append("<ul>")
        for cmp in cmps:
            out.append(f'<li><a href="#{_h(_slug(cmp.report.spec))}">{_h(cmp.report.spec)}</a>'
                       f" — {_h(cmp.report.description)}</li>")
        out.append("</ul>")
    for cmp in cmps:
        out.extend(_html_spec(cmp, svg, narrow))
    out.extend(["</body>", "</html>"])
    return "\n".join(out) + "\n"


def _html_spec(cmp: Comparison, svg: SvgRenderer, narrow: SvgRenderer | None) -> list[str]:
    rep = cmp.report
    out = [f'<section class="spec" id="{_h(_slug(rep.spec))}">',
           f"<h2>{_h(rep.spec)}" + (f" — {_h(rep.description)}" if rep.description else "")
           + "</h2>",
           f'<p class="meta">File <code>{_h(rep.path)}</code>; checked in '
           f'<span class="time">{cmp.seconds:.1f} s</span>.</p>']
    comment = _spec_comment(cmp)
    if comment:
        out.append(f"<blockquote>{_h(comment)}</blockquote>")
    out.append('<table class="variants"><tr><th>variant</th><th>what it does</th></tr>')
    for v in rep.variants:
        desc = rep.models[v].variant_description if v in rep.models else ""
        out.append(f"<tr><td>{_h(v)}</td><td>{_h(desc) or '(the code as it is)'}</td></tr>")
    out.append("</table>")
    out.append('<table class="matrix"><tr><th>property</th>'
               + "".join(f"<th>{_h(v)}</th>" for v in rep.variants) + "</tr>")
    for p in cmp.properties:
        cells = [f"<th>{_h(p)}</th>"]
        for v in rep.variants:
            row = cmp.row(v, p)
            if row is None:
                cells.append("<td>—</td>")
                continue
            bad = mismatch(row)
            cls = row.result.status.value + (" mismatch" if bad else "")
            mark = " *" if bad else ""
            title = f"expected {row.expected}; {row.result.verdict_text()}"
            cells.append(f'<td class="{_h(cls)}" title="{_h(title)}">'
                         f"{_h(cell_text(row.result))}{mark}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    if any(mismatch(r) for r in rep.rows):
        out.append("<p class=\"meta\">* not what the spec's <code>expect</code> lines say.</p>")
    for u in unknowns(cmp):
        out.append(f'<p class="meta unknown">{_h(u)}</p>')
    for fx in cmp.fixes:
        out.append(f"<h3>Fix {_h(_fix_title(fx))}</h3>")
        out.append('<ul class="fix">')
        for line in fix_lines(fx):
            out.append(f"<li{_fix_item_class(line)}>{_h(line.strip())}</li>")
        out.append("</ul>")
    cex = figures(cmp, (Status.VIOLATED,))
    if cex:
        out.append("<h3>Counterexamples</h3>")
    for f in cex:
        out.append(f'<h4 id="{_h(f.slug)}">{_h(f.variant)} / {_h(f.result.prop)}: '
                   f"{_h(f.result.verdict_text())}</h4>")
        out.append(f"<p>{_h(f.trace.violation.message)}</p>")
        drawing = svg(f.trace)
        slice_drawing = narrow(f.trace) if narrow is not None and f.trace.causal else None
        if drawing and slice_drawing:
            # the causal slice at its natural size first; every lifeline one click away
            out.append(_figure(slice_drawing, f"{f.slug}--slice-",
                               "the causal slice (drvmc render --narrow)"))
            out.append("<details><summary>full diagram: every lifeline and call</summary>"
                       + _figure(drawing, f"{f.slug}--full-", "every lifeline and call")
                       + "</details>")
        elif drawing:
            out.append(_figure(drawing, f"{f.slug}--full-", "every lifeline and call"))
        else:
            out.append('<p class="meta">(no diagram: Graphviz is not available)</p>')
        out.append(f"<details><summary>text trace</summary><pre>{_h(render_text(f.trace))}"
                   "</pre></details>")
    proofs = _proofs(cmp)
    if proofs:
        out.append("<h3>Proofs</h3><ul>")
        for v, r in proofs:
            item = f"<li>{_h(v)} / {_h(r.prop)}: <b>{_h(cell_text(r))}</b> " \
                   f"({_h(_engine_line(r))})"
            inv = _invariant(r)
            if inv:
                item += f"<pre>{_h(inv)}</pre>"
            out.append(item + "</li>")
        out.append("</ul>")
    wit = figures(cmp, (Status.REACHABLE,))
    if wit:
        out.append("<h3>Coverage witnesses</h3><ul>")
        for f in wit:
            path = " → ".join(f"{s.actor} {s.label}" for s in f.trace.steps)
            out.append(f"<li>{_h(f.variant)} / {_h(f.result.prop)}: "
                       f"{_h(f.result.verdict_text())} — {_h(path)}</li>")
        out.append("</ul>")
    out.append("<h3>How it was checked</h3>")
    out.append('<table class="runs"><tr><th>variant</th><th>property</th><th>result</th>'
               "<th>engine</th><th>depth</th><th>time</th></tr>")
    for row in rep.rows:
        res = row.result
        out.append(f"<tr><td>{_h(row.variant)}</td><td>{_h(res.prop)}</td>"
                   f"<td>{_h(res.verdict_text())}</td><td>{_h(res.engine)}</td>"
                   f'<td>{res.depth}</td><td class="time">{res.seconds:.2f} s</td></tr>')
    out.append("</table>")
    out.append("</section>")
    return out


# ---------------------------------------------------------------------- files


def write_report(out: Path, cmps: list[Comparison], info: ToolInfo, total_seconds: float,
                 svg: SvgRenderer = default_svg,
                 narrow: SvgRenderer | None = narrow_svg) -> list[Path]:
    """Write `out` (.md or .html) atomically; Markdown gets its diagrams in `<stem>_files/`.

    Returns every file written, the report last.
    """
    from drvmc.checker.errors import UsageError

    check_output_path(out)
    written: list[Path] = []
    match out.suffix.lower():
        case ".html" | ".htm":
            write_text_atomic(out, render_html(cmps, info, svg, total_seconds, narrow))
        case ".md" | ".markdown":
            folder = out.parent / f"{out.stem}_files"
            drawings = {}
            for cmp in cmps:
                for f in figures(cmp, (Status.VIOLATED,)):
                    d = svg(f.trace)
                    if d is not None:
                        drawings[f.slug] = d
            if drawings:
                if folder.exists() and not folder.is_dir():
                    raise UsageError(f"{folder}: exists and is not a directory")
                folder.mkdir(exist_ok=True)
                for slug, d in sorted(drawings.items()):
                    write_text_atomic(folder / f"{slug}.svg", d)
                    written.append(folder / f"{slug}.svg")
            images = {slug: f"{folder.name}/{slug}.svg" for slug in drawings}
            text = render_markdown(cmps, info, images, total_seconds)
            write_text_atomic(out, text)
        case _:
            raise UsageError(f"{out}: the report must end in .md or .html")
    written.append(out)
    return written
