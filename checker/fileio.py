"""Writing output files safely: checked paths, atomic replacement (no partial files)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from drvmc.checker.errors import UsageError


def check_output_path(path: Path) -> Path:
    """Refuse outputs that would clobber a spec, a directory or a special file."""
    if path.suffix == ".drv":
        raise UsageError(f"{path}: refusing to overwrite a spec file")
    if path.exists() and not path.is_file():
        raise UsageError(f"{path}: exists and is not a regular file")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{parent}: no such directory")
    return path


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a file."""
    check_output_path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))
