"""`drvmc extract` end to end: a driver's C source (and proposed patches) → a checkable spec.

The flow: C text → tree-sitter tree → `cast` (cparse) → symbols and roles (scan) → procedure
bodies over the library's vocabulary (lower, driven by the mapping table) → one model per
version (model) → spec text with a variant per patch (emit). docs/EXTRACT.md describes what is
recognised and how it is abstracted.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from drvmc.checker.errors import UsageError

MAX_SOURCE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Extraction:
    spec: str  # the spec's text
    summary: str  # one line per version: what was modelled, what was not


def _read(path: Path, what: str) -> str:
    try:
        if path.stat().st_size > MAX_SOURCE_BYTES:
            raise UsageError(f"{path}: {what} larger than {MAX_SOURCE_BYTES} bytes")
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise UsageError(f"cannot read {what} {path}: {e.strerror or e}") from None


def extract(files: list[Path], patches: list[Path] | None = None,
            mapping: Path | None = None, name: str | None = None) -> Extraction:
    """Extract a spec from C files, with one variant per patch."""
    from drvmc.extract.cparse import parse_files
    from drvmc.extract.emit import Version, render, summary
    from drvmc.extract.mapping import load_mapping
    from drvmc.extract.model import build_model
    from drvmc.extract.patching import apply_patch, subject
    from drvmc.extract.scan import ident

    if not files:
        raise UsageError("extract: no C file given")
    table = load_mapping(mapping)
    # comments name a file by its base name, so the spec does not depend on where it was made
    display = [f.name for f in files]
    if len(set(display)) < len(display):
        display = [str(f) for f in files]
    sources = {d: _read(f, "C file") for d, f in zip(display, files, strict=True)}
    versions = [Version("original", "the source as given",
                        build_model(parse_files(list(sources.items())), table))]
    for k, p in enumerate(patches or [], start=1):
        text = _read(p, "patch")
        patched = apply_patch(sources, text, str(p))
        model = build_model(parse_files(list(patched.items())), table)
        versions.append(Version(f"fix_{k}", subject(text, p.name), model))
    spec_name = ident(name or files[0].stem)
    if spec_name[0].isdigit():
        spec_name = "drv_" + spec_name
    text = render(spec_name, display, versions)
    return Extraction(text, "\n".join(f"{v.name}: {summary(v.model.counts)}"
                                      for v in versions))


def write_spec(path: Path, text: str, inputs: list[Path]) -> None:
    """Write the spec atomically (a temporary file beside it, then a rename). An input file is
    never overwritten."""
    import os
    import tempfile

    try:
        target = path.resolve()
        if any(target == p.resolve() for p in inputs):
            raise UsageError(f"{path}: refusing to overwrite an input file")
        if path.exists() and not path.is_file():
            raise UsageError(f"{path}: exists and is not a regular file")
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.is_dir():
            raise UsageError(f"{parent}: no such directory")
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    except OSError as e:
        raise UsageError(f"{path}: cannot write there ({e.strerror or e})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise UsageError(f"{path}: cannot write ({e.strerror or e})") from None
