"""`--workers` / `--scheduler` (issue 23): the jobs of a run on a Dask cluster.

A two-worker LocalCluster must give the serial run's reports, row for row; a worker that dies in
the middle of a job must turn exactly that job's rows into UNKNOWN with the reason, and leave
every other result as the serial run has it. Timings are not compared (they differ by nature).
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from drvmc.checker.app.cli import report_json
from drvmc.checker.app.distributed import (
    WORKER_DIED,
    ClusterOptions,
    Job,
    cluster_options_error,
    run_matrix,
)
from drvmc.checker.app.driver import CheckOptions, check_spec, spec_targets
from drvmc.checker.errors import Interrupted

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


def test_a_job_on_a_worker_runs_with_drvmcs_collector_thresholds(cluster: Any) -> None:
    import gc

    from drvmc.checker.app.collector import GC_THRESHOLDS
    from drvmc.checker.app.distributed import Done, run_job
    from drvmc.checker.lang.loader import load_program

    before = set(cluster.run(gc.get_threshold).values())
    assert GC_THRESHOLDS not in before  # a worker starts with CPython's own
    program = load_program(SEEDS[0])
    done = cluster.submit(run_job, program, "original", OPTS, pure=False).result()
    assert isinstance(done, Done)
    assert GC_THRESHOLDS in set(cluster.run(gc.get_threshold).values())


def test_two_local_workers_give_the_serial_reports(serial: list[dict[str, Any]]) -> None:
    shown: list[tuple[int, int]] = []
    matrix = run_matrix(spec_targets(SEEDS), OPTS,
                        ClusterOptions(workers=2, cluster_only=True),
                        on_progress=lambda done, total: shown.append((done, total)))
    assert matrix.cluster_used
    got = [_no_times(report_json(matrix.report(i))) for i in range(len(SEEDS))]
    assert got == serial
    # progress counts jobs (one per spec and variant): from none to all, never backwards
    jobs = len(matrix.jobs())
    assert jobs == sum(len({r["variant"] for r in d["results"]}) for d in serial)
    assert shown[0] == (0, jobs) and shown[-1] == (jobs, jobs)
    assert all(a[0] < b[0] and a[1] == b[1] == jobs for a, b in itertools.pairwise(shown))


def test_ctrl_c_cancels_the_cluster_and_keeps_what_finished() -> None:
    """Ctrl-C (here raised from the progress callback, on the main thread, as the signal
    handler would) stops the run: the jobs in flight are cancelled, none is started after it,
    and every job that came back is reported as the serial run has it."""
    opts = replace(OPTS, all_variants=True)  # 20 jobs: far from done when the first is
    serial = [_no_times(report_json(check_spec(p, opts))) for p in SEEDS]

    def interrupt(done: int, _total: int) -> None:
        if done >= 1:
            raise KeyboardInterrupt

    matrix = run_matrix(spec_targets(SEEDS), opts,
                        ClusterOptions(workers=2, cluster_only=True), on_progress=interrupt)
    assert matrix.interrupted and matrix.cluster_used
    finished = set(matrix.outcomes)
    assert 1 <= len(finished) < len(matrix.jobs())
    seen = expected = 0
    for i, theirs in enumerate(serial):
        expected += sum(1 for r in theirs["results"] if Job(i, r["variant"]) in finished)
        try:
            report = matrix.report(i)
        except Interrupted as e:
            if e.partial is None:
                continue  # no job of this spec came back
            report = e.partial  # the last spec with results, partly done
        rows = {(r["variant"], r["property"]): r for r in theirs["results"]}
        for r in _no_times(report_json(report))["results"]:
            assert Job(i, r["variant"]) in finished
            assert r == rows[(r["variant"], r["property"])]
            seen += 1
    assert seen == expected > 0


class _OnVariant(distributed.WorkerPlugin):  # type: ignore[misc]
    """On every worker, and again on each one the nanny restarts: the worker's next job for
    `variant` kills its process outright (`hang=False`), or takes a minute first (`hang=True`;
    without a time-out the test then fails on its verdict rather than hanging)."""

    def __init__(self, variant: str, hang: bool = False) -> None:
        self.variant, self.hang = variant, hang

    def setup(self, worker: Any) -> None:
        import drvmc.checker.app.distributed as d

        original, variant, hang = d.run_job, self.variant, self.hang

        def run_job(program: Any, v: str, opts: Any) -> Any:
            if v == variant:
                if not hang:
                    os._exit(9)
                time.sleep(60)
            return original(program, v, opts)

        d.run_job = run_job  # type: ignore[assignment]


def _install(cluster: Any, plugin: _OnVariant) -> None:
    """Register `plugin` on every worker of `cluster`; it travels by value (the workers cannot
    import this test module)."""
    import cloudpickle  # type: ignore[import-untyped]

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        cluster.register_plugin(plugin)
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def test_a_dead_worker_makes_its_job_unknown_and_keeps_the_rest(
        serial: list[dict[str, Any]], cluster: Any) -> None:
    _install(cluster, _OnVariant(DOOMED_VARIANT))
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


def test_a_job_past_its_time_out_is_unknown_and_the_rest_are_intact(cluster: Any) -> None:
    _install(cluster, _OnVariant("v6_refcount_set", hang=True))
    # every variant of the first seed: `original` ends, `v6_refcount_set` hangs
    opts = replace(OPTS, all_variants=True)
    theirs = _no_times(report_json(check_spec(SEEDS[0], opts)))
    matrix = run_matrix(spec_targets(SEEDS[:1]), opts,
                        ClusterOptions(scheduler=cluster.scheduler.address, job_timeout_s=2.0))
    mine = _no_times(report_json(matrix.report(0)))
    assert len(mine["results"]) == len(theirs["results"])
    hung = 0
    for a, b in zip(mine["results"], theirs["results"], strict=True):
        assert (a["variant"], a["property"]) == (b["variant"], b["property"])
        if a["variant"] == "v6_refcount_set":
            hung += 1
            assert a["status"] == "UNKNOWN"
            assert a["reason"] == "job time-out: still running after 2s (--job-timeout)"
        else:
            assert a == b
    assert 0 < hung < len(mine["results"])


def _drvmc(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "drvmc.checker", *args], cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT),
                               "DRVMC_CACHE_DIR": str(cwd / "cache")}, capture_output=True,
                          text=True, timeout=180)


def test_the_cli_on_a_cluster_writes_what_the_serial_run_writes(tmp_path: Path) -> None:
    """`check`, `compare` and `report` with `--workers 2`: `--job-timeout` sends every job to
    the cluster (a time-out can be enforced only there), and the output is the serial run's,
    byte for byte, exit code included. (With no job times recorded, such a run used to wait for
    ever for the cluster to be worth starting.)"""
    seeds = [str(p) for p in SEEDS[:3]]
    cluster = ["--workers", "2", "--job-timeout", "600"]
    runs = {
        "check": ["check", *seeds, "--engine", "explicit", "--all-variants", "--no-timings"],
        "compare": ["compare", seeds[0], "--engine", "explicit", "--no-timings"],
    }
    for name, args in runs.items():
        serial, on_cluster = _drvmc(args, tmp_path), _drvmc([*args, *cluster], tmp_path)
        assert serial.stdout, (name, serial.stderr)
        assert (on_cluster.returncode, on_cluster.stdout) == (serial.returncode, serial.stdout), \
            name
    # the same name in two folders: the report names its diagrams' folder after itself
    serial_md, cluster_md = tmp_path / "a" / "report.md", tmp_path / "b" / "report.md"
    serial_md.parent.mkdir()
    cluster_md.parent.mkdir()
    base = ["report", seeds[0], "--engine", "explicit"]
    a = _drvmc([*base, "-o", str(serial_md)], tmp_path)
    b = _drvmc([*base, "-o", str(cluster_md), *cluster], tmp_path)
    assert a.returncode == b.returncode == 0, (a.stderr, b.stderr)
    assert _no_seconds(cluster_md.read_text()) == _no_seconds(serial_md.read_text())


def _no_seconds(text: str) -> str:
    return re.sub(r"\d+(\.\d+)? ?s\b", "<t>", text)


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
