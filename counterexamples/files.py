"""Saving and re-rendering traces: the files behind `drvmc check --trace-dir` and `drvmc render`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import assert_never

from drvmc.checker.errors import UsageError
from drvmc.checker.fileio import write_bytes_atomic, write_text_atomic
from drvmc.checker.verdict.trace import Trace, with_sources
from drvmc.counterexamples.dot import render_dot, render_pdf, render_png, render_svg
from drvmc.counterexamples.itf import dumps_itf, loads_itf
from drvmc.counterexamples.mermaid import render_mermaid
from drvmc.counterexamples.text import render_text, trace_header


class RenderTo(StrEnum):
    svg = "svg"
    png = "png"
    pdf = "pdf"
    dot = "dot"
    mermaid = "mermaid"
    text = "text"


def render_as(trace: Trace, to: RenderTo, narrow: bool = False) -> bytes:
    """`narrow`: diagrams of the causal slice only (sequence.py)."""
    match to:
        case RenderTo.svg:
            return render_svg(trace, narrow).encode("utf-8")
        case RenderTo.png:
            return render_png(trace, narrow)
        case RenderTo.pdf:
            return render_pdf(trace, narrow)
        case RenderTo.dot:
            return render_dot(trace, narrow).encode("utf-8")
        case RenderTo.mermaid:
            return render_mermaid(trace, narrow).encode("utf-8")
        case RenderTo.text:
            return (trace_header(trace) + "\n" + render_text(trace) + "\n").encode("utf-8")
        case _:
            assert_never(to)


def _safe(part: str) -> str:
    # names are identifiers, but instance actors and odd spec names must not make paths
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", part).strip(".") or "_"


def trace_stem(trace: Trace) -> str:
    return ".".join(_safe(p) for p in (trace.spec, trace.variant, trace.prop))


def write_traces(traces: Iterable[Trace], directory: Path,
                 sources: Mapping[str, str] | None = None) -> list[Path]:
    """Write `<spec>.<variant>.<property>.{txt,itf.json,dot,svg}` per trace; atomic writes."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory}: exists and is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"{directory}: cannot create ({e.strerror})") from None
    written: list[Path] = []
    for t in traces:
        if sources is not None:
            t = with_sources(t, sources)
        stem = directory / trace_stem(t)
        outputs = {
            ".txt": trace_header(t) + "\n" + render_text(t) + "\n",
            ".itf.json": dumps_itf(t),
            ".dot": render_dot(t),
            ".svg": render_svg(t),
        }
        for suffix, text in outputs.items():
            path = stem.with_name(stem.name + suffix)
            write_text_atomic(path, text)
            written.append(path)
    return written


def load_trace(path: Path) -> Trace:
    """A trace saved as ITF JSON (`UsageError` when unreadable or not a drvmc trace)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    except OSError as e:
        raise UsageError(f"{path}: cannot read ({e.strerror})") from None
    try:
        return loads_itf(text)
    except UsageError as e:
        raise UsageError(f"{path}: {e}") from None


def write_output(path: Path, data: bytes) -> None:
    write_bytes_atomic(path, data)
