"""Graphviz sequence diagrams of a trace (DOT text; SVG and PNG through the `dot` program)."""

from __future__ import annotations

import shutil
import subprocess

from checker.errors import UsageError
from counterexamples.trace import Trace


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render_dot(trace: Trace) -> str:
    actors: list[str] = []
    for s in trace.steps:
        if s.actor not in actors:
            actors.append(s.actor)
    lines = ["digraph trace {", "  rankdir=TB;", "  node [shape=box];"]
    for a in actors:
        lines.append(f"  {_q('actor:' + a)} [label={_q(a)}];")
    prev = None
    for s in trace.steps:
        node = f"step{s.index}"
        txt = f"[{s.index}] {s.actor} {s.label}\n" + "\n".join(str(c) for c in s.calls)
        lines.append(f"  {node} [label={_q(txt)}];")
        lines.append(f"  {_q('actor:' + s.actor)} -> {node} [style=dotted];")
        if prev:
            lines.append(f"  {prev} -> {node};")
        prev = node
    v = trace.violation
    lines.append(f"  violation [label={_q(v.prop + ': ' + v.message)}, color=red, fontcolor=red];")
    if prev:
        lines.append(f"  {prev} -> violation [color=red];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _run_dot(dot_text: str, fmt: str) -> bytes:
    exe = shutil.which("dot")
    if exe is None:
        raise UsageError("the Graphviz `dot` program is not installed (apt-get install graphviz)")
    proc = subprocess.run([exe, f"-T{fmt}"], input=dot_text.encode("utf-8"),
                          capture_output=True, check=False, timeout=120)
    if proc.returncode != 0:
        raise UsageError(f"dot -T{fmt} failed: {proc.stderr.decode('utf-8', 'replace').strip()}")
    return proc.stdout


def render_svg(trace: Trace) -> str:
    return _run_dot(render_dot(trace), "svg").decode("utf-8")


def render_png(trace: Trace) -> bytes:
    return _run_dot(render_dot(trace), "png")
