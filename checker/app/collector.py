"""The cyclic garbage collector's thresholds in a process that runs drvmc's checks: the `drvmc`
command's own, and a Dask worker's while it runs a job (`--workers`, `--scheduler`).

Elaboration and the explicit search allocate millions of objects that live on (IR nodes, compiled
closures, visited states). With CPython's thresholds (700, 10, 10) the collector ran 3,400 times
on `check specs --all-variants` and walked the whole heap 17 times: 12.0 s of its 31.5 s CPU,
against 1.1-1.3 s with these (2026-12-07, measured with gc.callbacks; docs/PERFORMANCE.md). Little
of that heap is garbage: the young collections still find the cycles there are, and a full
collection still comes after 2,500 of them.
"""

from __future__ import annotations

import gc

GC_THRESHOLDS = (50_000, 50, 50)


def use_drvmc_thresholds() -> None:
    gc.set_threshold(*GC_THRESHOLDS)
