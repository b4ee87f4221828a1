"""Writing output files safely: checked paths, atomic replacement (no partial files).

Every failure to write is a `UsageError` naming the path and the reason (exit 3), never an
`OSError` escaping as an internal error. The CLI checks its output paths with `probe=True` before
a long check starts, so a path that cannot be written is refused at once rather than after the
work is done.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import tempfile
from pathlib import Path

from drvmc.checker.errors import UsageError


def _parent(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def check_output_path(path: Path, probe: bool = False) -> Path:
    """Refuse outputs that would clobber a spec, a directory or a special file.

    With `probe`, also make sure a file can be created beside it (a temporary file is created and
    removed): a read-only folder, or one such as /proc that takes no new files, is refused now.
    """
    if path.suffix == ".drv":
        raise UsageError(f"{path}: refusing to overwrite a spec file")
    parent = _parent(path)
    try:
        if path.exists() and not path.is_file():
            raise UsageError(f"{path}: exists and is not a regular file")
        if not parent.is_dir():
            raise UsageError(f"{parent}: no such directory")
    except OSError as e:  # a name too long, a loop of symbolic links, ...
        raise UsageError(f"{path}: cannot write there ({e.strerror})") from None
    if probe:
        _probe(parent, path)
    return path


def check_output_dir(directory: Path) -> Path:
    """A folder to write files into (`--trace-dir`): an existing folder that takes new files, or
    one that can be created (with its parents) when the files are written."""
    try:
        if directory.exists() and not directory.is_dir():
            raise UsageError(f"{directory}: exists and is not a directory")
        existing = directory
        while not existing.exists():
            if existing.parent == existing:
                break
            existing = existing.parent
        if not existing.is_dir():
            raise UsageError(f"{directory}: cannot create it: {existing} is not a directory")
    except OSError as e:
        raise UsageError(f"{directory}: cannot write there ({e.strerror})") from None
    _probe(existing, directory)
    return directory


def _probe(folder: Path, target: Path) -> None:
    try:
        fd, tmp = tempfile.mkstemp(prefix=".drvmc-probe.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise UsageError(f"{target}: cannot write there: creating a file in {folder} failed "
                         f"({e.strerror})") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a file."""
    check_output_path(path)
    try:
        fd, tmp = _create_beside(path)
    except OSError as e:
        raise UsageError(f"{path}: cannot write there: creating a file in {_parent(path)} "
                         f"failed ({e.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise UsageError(f"{path}: cannot write ({e.strerror})") from None
        raise


def _create_beside(path: Path) -> tuple[int, str]:
    """A new, empty temporary file beside `path`, created with mode 0666 less the umask (what
    `open(path, "w")` would give), not `mkstemp`'s 0600: a report or trace is for sharing."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = os.path.join(_parent(path), f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(_parent(path)))


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))
