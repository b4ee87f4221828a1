"""How long each job of a distributed run took last time, so the next run starts the longest first.

A run over a folder is only as short as its longest job, and only if that job starts early: one
started last keeps one worker busy while the others idle (docs/PERFORMANCE.md, "Distributed
runs": one BMC job of the corpus is over half the folder's time). How long a job will take cannot
be read off the model (the solver's effort decides, not the model's size), so a distributed run
records each job's wall time, keyed by what decides the work: the text of the spec and of every
library file it uses, the variant and the options that change the search. A job whose key has a
time goes in that order, longest first; a job never run (or whose spec changed) goes first of
all, in the run's order, as it may be long. The order changes nothing but the time taken:
results are reported in the serial order (app.distributed).

The file is a cache: `$DRVMC_CACHE_DIR/job-times.json` (default `$XDG_CACHE_HOME/drvmc`, else
`~/.cache/drvmc`). One that is missing, unreadable or malformed counts as empty, and one that
cannot be written leaves the run's results alone: the times only order the queue. It keeps the
MAX_ENTRIES most recently recorded jobs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from drvmc.checker.app.driver import CheckOptions
from drvmc.checker.lang.loader import Program

MAX_ENTRIES = 5000
FILE_NAME = "job-times.json"


def default_path() -> Path:
    base = os.environ.get("DRVMC_CACHE_DIR")
    if base:
        return Path(base) / FILE_NAME
    xdg = os.environ.get("XDG_CACHE_HOME")
    root = Path(xdg) if xdg else Path.home() / ".cache"
    return root / "drvmc" / FILE_NAME


def sources_digest(program: Program) -> str:
    """The texts of a spec and of every file it uses (not their paths: a checkout moved keeps
    its times), hashed once per spec whatever its number of variants."""
    h = hashlib.sha256()
    for name in sorted(program.sources):
        h.update(program.sources[name].encode())
        h.update(b"\0")
    return h.hexdigest()


def job_key(digest: str, variant: str, opts: CheckOptions) -> str:
    """What decides a job's work: its spec's texts (`sources_digest`), the variant, and the
    search options (not the output options)."""
    work = (digest, variant, opts.engine, opts.depth, opts.timeout_s, opts.properties,
            opts.deadlock, opts.memory_mb, opts.symmetry, opts.explicit_states)
    return hashlib.sha256(repr(work).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Entry:
    seconds: float
    recorded: float  # time.time() when it was recorded: the oldest go first past MAX_ENTRIES


def load(path: Path) -> dict[str, Entry]:
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(raw, dict):
        return {}
    out: dict[str, Entry] = {}
    for k, v in raw.items():
        if (isinstance(k, str) and isinstance(v, list) and len(v) == 2
                and all(isinstance(x, int | float) and math.isfinite(x) and x >= 0 for x in v)):
            out[k] = Entry(float(v[0]), float(v[1]))
    return out


def save(path: Path, known: Mapping[str, Entry], new: Mapping[str, float]) -> None:
    """`known` with `new` recorded now, the newest MAX_ENTRIES kept; written whole (a temporary
    file renamed over the old one, so a reader never sees half a file). Errors are ignored."""
    now = time.time()
    merged = dict(known)
    merged.update({k: Entry(s, now) for k, s in new.items()})
    kept = sorted(merged.items(), key=lambda kv: kv[1].recorded, reverse=True)[:MAX_ENTRIES]
    text = json.dumps({k: [round(e.seconds, 3), round(e.recorded, 1)] for k, e in kept},
                      sort_keys=True)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(text)
        tmp.replace(path)


def longest_first(keys: Sequence[str], known: Mapping[str, Entry]) -> list[int]:
    """The jobs' indices in the order to start them: never-run jobs first (in the given order),
    then by last time, longest first (ties in the given order)."""
    def cost(i: int) -> tuple[float, int]:
        e = known.get(keys[i])
        return (-math.inf if e is None else -e.seconds, i)

    return sorted(range(len(keys)), key=cost)
