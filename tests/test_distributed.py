"""`--workers` / `--scheduler` (issue 23): the jobs of a run on a Dask cluster.

A two-worker LocalCluster must give the serial run's reports, row for row; a worker that dies in
the middle of a job must turn exactly that job's rows into UNKNOWN with the reason, and leave
every other result as the serial run has it. Timings are not compared (they differ by nature).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drvmc.checker.app.cli import report_json
from drvmc.checker.app.distributed import (
    WORKER_DIED,
    ClusterOptions,
    cluster_options_error,
    run_matrix,
)
from drvmc.checker.app.driver import CheckOptions, check_spec, spec_targets

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "specs").glob("*.drv"))
# the explicit engine: every seed variant is decided in well under a second
OPTS = CheckOptions(engine="explicit")
DOOMED_VARIANT = "original"


def _no_times(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _no_times(v) for k, v in doc.items() if k not in ("seconds", "time")}
    if isinstance(doc, list):
        return [_no_times(x) for x in doc]
    return doc


@pytest.fixture(scope="module")
def serial() -> list[dict[str, Any]]:
    return [_no_times(report_json(check_spec(p, OPTS))) for p in SEEDS]


@pytest.fixture
def cluster() -> Iterator[Any]:
    import dask

    # as drvmc's own LocalCluster: a job that killed a worker is not retried on another
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        lc = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None, silence_logs=50)
        with distributed.Client(lc) as client:
            yield client
        lc.close()


def test_two_local_workers_give_the_serial_reports(serial: list[dict[str, Any]]) -> None:
    matrix = run_matrix(spec_targets(SEEDS), OPTS,
                        ClusterOptions(workers=2, cluster_only=True))
    assert matrix.cluster_used
    got = [_no_times(report_json(matrix.report(i))) for i in range(len(SEEDS))]
    assert got == serial


class _DieOn(distributed.WorkerPlugin):  # type: ignore[misc]
    """On every worker, and again on each one the nanny restarts after a death: the worker's
    next job for `variant` kills its process outright."""

    def __init__(self, variant: str) -> None:
        self.variant = variant

    def setup(self, worker: Any) -> None:
        import drvmc.checker.app.distributed as d

        original, variant = d.run_job, self.variant

        def run_job(program: Any, v: str, opts: Any) -> Any:
            if v == variant:
                os._exit(9)
            return original(program, v, opts)

        d.run_job = run_job  # type: ignore[assignment]


def test_a_dead_worker_makes_its_job_unknown_and_keeps_the_rest(
        serial: list[dict[str, Any]], cluster: Any) -> None:
    import cloudpickle  # type: ignore[import-untyped]

    # the plugin travels by value (the workers cannot import this test module)
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        cluster.register_plugin(_DieOn(DOOMED_VARIANT))
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    address = cluster.scheduler.address
    matrix = run_matrix(spec_targets(SEEDS), OPTS, ClusterOptions(scheduler=address))
    got = [_no_times(report_json(matrix.report(i))) for i in range(len(SEEDS))]
    assert len(got) == len(serial)
    lost = 0
    for mine, theirs in zip(got, serial, strict=True):
        assert len(mine["results"]) == len(theirs["results"])
        for a, b in zip(mine["results"], theirs["results"], strict=True):
            assert (a["variant"], a["property"]) == (b["variant"], b["property"])
            if a["variant"] == DOOMED_VARIANT:
                lost += 1
                assert a["status"] == "UNKNOWN"
                assert a["reason"] == WORKER_DIED
                assert a["trace"] is None
            else:
                assert a == b
    # every seed has an `original` variant, so the fault was injected in each of them
    assert lost == sum(1 for d in serial for r in d["results"] if r["variant"] == DOOMED_VARIANT)
    assert lost > 0


@pytest.mark.parametrize(("opts", "message"), [
    (ClusterOptions(workers=2, scheduler="tcp://x:1"), "exclude each other"),
    (ClusterOptions(workers=0), "between 1 and"),
    (ClusterOptions(scheduler="  "), "needs an address"),
    (ClusterOptions(workers=2, job_timeout_s=0.0), "above 0"),
    (ClusterOptions(job_timeout_s=5.0), "applies to --workers or --scheduler"),
])
def test_bad_cluster_options_are_refused(opts: ClusterOptions, message: str) -> None:
    err = cluster_options_error(opts)
    assert err is not None
    assert message in str(err)
