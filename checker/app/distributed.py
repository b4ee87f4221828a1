"""Many specs at once: the jobs of a check run on Dask (`--workers N`, `--scheduler ADDRESS`).

A job is one variant of one spec: elaborate it and run the engine on its properties. That is the
grain at which work is shared (the engines build one encoding per variant and check every
property on it), and the one a slow variant cannot hold up a whole folder at. Everything else
stays here, in the process that prints: loading each spec (`plan_spec`: it reads the files), and
turning each job's raw results into rows (`add_rows`: vacuity, slicing, expectations), in the
order of the serial run, whatever finished first. So the tables, the JSON and the exit code are a
serial run's; only the time taken differs (see `--no-timings`).

A job carries the loaded program (the spec's text and every library file it uses, parsed), the
variant's name and the options: a worker needs drvmc installed, not a checkout.

Two lanes take jobs from one queue: this process itself, and the Dask cluster (of N - 1
workers beside this process for `--workers N`; N when every job goes to the cluster). The queue
starts the longest jobs first, by the times earlier runs recorded (app.job_times). A
LocalCluster costs seconds to start (processes, imports) and to stop, more than a small folder
takes to check, so it is started only once the jobs left are estimated to be worth it (`worth_a
_cluster`); a folder that is checked in a second never starts one. An existing cluster
(`--scheduler`) costs nothing to start: every job goes to it.

Faults never lose a result and never make one SAFE: a job whose worker dies (killed, out of
memory, a crash in the solver) and a job that runs past `--job-timeout` become UNKNOWN, with the
reason, for each of its variant's properties. At most one job per worker is in flight, so a
worker's death takes only the job it was running. Ctrl-C cancels the cluster's jobs; what had
finished is reported.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drvmc.checker.app import job_times
from drvmc.checker.app.collector import use_drvmc_thresholds
from drvmc.checker.app.driver import (
    CheckOptions,
    SpecPlan,
    add_rows,
    plan_spec,
    run_engine,
    start_report,
    variant_properties,
)
from drvmc.checker.errors import DrvmcError, Interrupted, UsageError, interrupt_requested
from drvmc.checker.ir import nodes as I
from drvmc.checker.ir.elaborate import elaborate
from drvmc.checker.lang.loader import ParseCache, Program
from drvmc.checker.verdict.records import SpecReport
from drvmc.checker.verdict.results import Result, Status

if TYPE_CHECKING:
    import distributed

# The local lane works alone this long before a cluster is considered at all, and a LocalCluster
# is started only when the work left looks longer than what one costs (measured on the project's
# 2-core machine under load: about 1 s to import distributed, 2.5 s to start two workers, 0.8 s
# to stop them; docs/PERFORMANCE.md, "Distributed runs").
GRACE_S = 1.0
CLUSTER_COST_S = 5.0
POLL_S = 0.1
CONNECT_TIMEOUT_S = 10.0
MAX_WORKERS = 1024

WORKER_DIED = "its worker died while running it (killed, out of memory, or crashed)"


@dataclass(frozen=True)
class ClusterOptions:
    workers: int | None = None  # start a LocalCluster of this many processes
    scheduler: str | None = None  # or send the jobs to the Dask scheduler at this address
    job_timeout_s: float | None = None  # a job still running after this is UNKNOWN
    # the times of earlier runs' jobs, to start the longest first (app.job_times); None: the
    # run's order, nothing recorded
    times_path: Path | None = None
    # tests: every job goes to the cluster, which is started at once
    cluster_only: bool = False


def cluster_options_error(c: ClusterOptions) -> UsageError | None:
    if c.workers is not None and c.scheduler is not None:
        return UsageError("--workers and --scheduler exclude each other")
    if c.workers is not None and not 1 <= c.workers <= MAX_WORKERS:
        return UsageError(f"--workers must be between 1 and {MAX_WORKERS}, not {c.workers}")
    if c.scheduler is not None and not c.scheduler.strip():
        return UsageError("--scheduler needs an address (tcp://HOST:PORT)")
    t = c.job_timeout_s
    if t is not None and not (math.isfinite(t) and t > 0):
        return UsageError(f"--job-timeout must be a number of seconds above 0, not {t:g}")
    if t is not None and c.workers is None and c.scheduler is None:
        return UsageError("--job-timeout applies to --workers or --scheduler runs only")
    return None


# ---------------------------------------------------------------------- jobs


@dataclass(frozen=True)
class Job:
    target: int  # index of the spec among the run's targets
    variant: str


@dataclass(frozen=True)
class Done:
    model: I.Model
    results: list[Result]
    seconds: float


@dataclass(frozen=True)
class Lost:
    """The job gave no results: its worker died, or it ran out of time."""

    reason: str


@dataclass(frozen=True)
class Failed:
    """The job raised (as the serial run would have, for its spec)."""

    error: BaseException


@dataclass(frozen=True)
class NotElaborated:
    """The variant does not elaborate: the error is raised again here, where it can be read
    whole (a SpecError's diagnostics do not survive pickling)."""


Outcome = Done | Lost | Failed


def run_job(program: Program, variant: str, opts: CheckOptions) -> Done | NotElaborated:
    """One job, in whichever process runs it (with drvmc's collector thresholds: a Dask
    worker starts with CPython's)."""
    use_drvmc_thresholds()
    start = time.monotonic()
    try:
        model = elaborate(program, variant)
    except DrvmcError:
        return NotElaborated()
    results = run_engine(model, opts)
    return Done(model, results, time.monotonic() - start)


# ---------------------------------------------------------------------- the matrix


@dataclass
class Matrix:
    """Every spec's outcome of a distributed run, handed to the CLI in the targets' order."""

    opts: CheckOptions
    plans: list[SpecPlan | BaseException | None]  # None: the target had a problem of its own
    outcomes: dict[Job, Outcome] = field(default_factory=dict)
    interrupted: bool = False
    cluster_used: bool = False

    def jobs(self) -> list[Job]:
        return [Job(i, v) for i, p in enumerate(self.plans) if isinstance(p, SpecPlan)
                for v in p.chosen]

    def report(self, i: int) -> SpecReport:
        """Spec `i`'s report, as `check_spec` would have made it; raises what it would have
        raised. After an interrupt, a spec not finished has the variants that were; the last
        spec with results raises `Interrupted` with it (the CLI's path for a partial report)."""
        plan = self.plans[i]
        if plan is None:
            raise AssertionError(f"target {i} had a problem: the CLI reports it")
        if isinstance(plan, BaseException):
            raise plan
        got = [(v, self.outcomes.get(Job(i, v))) for v in plan.chosen]
        for _, o in got:
            if isinstance(o, Failed):
                raise o.error
        done = [(v, o) for v, o in got if o is not None]
        models = {v: o.model if isinstance(o, Done) else elaborate(plan.program, v)
                  for v, o in done}
        if not done:
            if self.interrupted:
                raise Interrupted(None)
            raise AssertionError(f"target {i}: no job ran")
        report, all_props = start_report(replace(plan, chosen=tuple(models)), models, self.opts)
        for v, o in done:
            add_rows(report, all_props, self.opts, v, self._results(o, models[v]))
        report.seconds = sum(o.seconds for _, o in done if isinstance(o, Done))
        if len(done) < len(got) and i == self._last_with_results():
            raise Interrupted(report)
        return report

    def _results(self, o: Outcome, m: I.Model) -> list[Result]:
        match o:
            case Done():
                return o.results
            case Lost():
                return [Result(p.name, p.kind, Status.UNKNOWN, 0, self.opts.engine,
                               reason=o.reason) for p in variant_properties(m, self.opts)]
            case Failed():
                raise o.error

    def _last_with_results(self) -> int:
        return max((j.target for j in self.outcomes), default=-1)


def run_matrix(targets: list[tuple[Path, UsageError | None]], opts: CheckOptions,
               cluster: ClusterOptions,
               on_progress: Callable[[int, int], None] | None = None) -> Matrix:
    """Check every target's chosen variants, spreading the jobs over this process and a Dask
    cluster (see the module doc). Never raises for a spec: `Matrix.report` does, in order."""
    problem = cluster_options_error(cluster)
    if problem is not None:
        raise problem
    plans: list[SpecPlan | BaseException | None] = []
    parses = ParseCache()
    for path, bad in targets:
        if bad is not None:
            plans.append(None)
            continue
        try:
            plans.append(plan_spec(path, opts, parses))
        except (KeyboardInterrupt, Interrupted):
            raise
        except Exception as e:  # the spec's error, reported in its place
            if interrupt_requested():
                raise KeyboardInterrupt from e
            plans.append(e)
    matrix = Matrix(opts, plans)
    lanes = _Lanes(matrix, cluster, on_progress)
    try:
        lanes.run()
    finally:
        lanes.record_times()
    return matrix


class _Lanes:
    """The queue of jobs and the two lanes that take them (see the module doc). The main thread
    is the local lane and the only one that reports progress or takes Ctrl-C; the cluster lane
    runs in its own thread."""

    def __init__(self, matrix: Matrix, cluster: ClusterOptions,
                 on_progress: Callable[[int, int], None] | None) -> None:
        self.matrix = matrix
        self.cluster = cluster
        self.on_progress = on_progress
        self.jobs = matrix.jobs()
        self.keys: dict[Job, str] = {}
        if cluster.times_path is not None:
            digests = {j.target: job_times.sources_digest(self._plan(j).program)
                       for j in self.jobs}
            self.keys = {j: job_times.job_key(digests[j.target], j.variant, matrix.opts)
                         for j in self.jobs}
        self.known = job_times.load(cluster.times_path) if cluster.times_path else {}
        order = job_times.longest_first([self.keys.get(j, "") for j in self.jobs], self.known)
        self.queue: collections.deque[Job] = collections.deque(self.jobs[i] for i in order)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.start = time.monotonic()
        self.local_times: list[float] = []
        self.local_job: Job | None = None  # the local lane's current job
        self.local_since: float | None = None  # when it started
        self.cluster_error: BaseException | None = None
        self.shown = -1
        # every job goes to the cluster: a time-out can be enforced on a worker only (a job in
        # this process cannot be stopped)
        self.remote = (cluster.scheduler is not None or cluster.cluster_only
                       or cluster.job_timeout_s is not None)

    # -- shared

    def _plan(self, job: Job) -> SpecPlan:
        plan = self.matrix.plans[job.target]
        assert isinstance(plan, SpecPlan)
        return plan

    def record_times(self) -> None:
        """Every job that finished, its time recorded for the next run's order."""
        if self.cluster.times_path is None:
            return
        with self.lock:
            done = {self.keys[j]: o.seconds for j, o in self.matrix.outcomes.items()
                    if isinstance(o, Done) and j in self.keys}
        if done:
            job_times.save(self.cluster.times_path, self.known, done)

    def _take(self) -> Job | None:
        with self.lock:
            return self.queue.popleft() if self.queue and not self.stop.is_set() else None

    def _put(self, job: Job, outcome: Outcome) -> None:
        with self.lock:
            self.matrix.outcomes[job] = outcome

    def _progress(self) -> None:
        with self.lock:
            done = len(self.matrix.outcomes)
        if self.on_progress is not None and done != self.shown:
            self.shown = done
            self.on_progress(done, len(self.jobs))

    # -- the run

    def run(self) -> None:
        remote = self.remote
        # a bad address stops the run at once
        client = _connect(self.cluster.scheduler) if self.cluster.scheduler is not None else None
        lane = threading.Thread(target=self._cluster_lane, args=(client,), daemon=True,
                                name="drvmc-cluster")
        lane.start()
        try:
            self._progress()
            if not remote:
                self._local_lane()
            while lane.is_alive():
                lane.join(POLL_S)
                self._progress()
                if self.cluster_error is not None and not self.matrix.cluster_used:
                    self._local_lane()  # the cluster could not start: finish here
        except KeyboardInterrupt:
            self.matrix.interrupted = True
            self.stop.set()
            lane.join()
            return
        if self.cluster_error is not None and remote:
            raise UsageError(f"the Dask cluster failed: {self.cluster_error}")
        self._progress()

    def _local_lane(self) -> None:
        while (job := self._take()) is not None:
            plan = self._plan(job)
            with self.lock:
                self.local_job, self.local_since = job, time.monotonic()
            try:
                out = run_job(plan.program, job.variant, self.matrix.opts)
                outcome: Outcome = self._finish_locally(plan, job, out)
            except (KeyboardInterrupt, Interrupted) as e:
                # as the serial run: the variant's partial results are kept, then we stop
                self._put(job, self._interrupted(plan, job, e))
                raise KeyboardInterrupt from None
            except Exception as e:
                if interrupt_requested():
                    raise KeyboardInterrupt from e
                outcome = Failed(e)
            finally:
                with self.lock:
                    self.local_job, self.local_since = None, None
            self._put(job, outcome)
            self._progress()

    def _finish_locally(self, plan: SpecPlan, job: Job, out: Done | NotElaborated) -> Outcome:
        if isinstance(out, NotElaborated):
            elaborate(plan.program, job.variant)  # raises the error, whole
            raise AssertionError("elaborated the second time")
        self.local_times.append(out.seconds)
        return out

    def _interrupted(self, plan: SpecPlan, job: Job, e: BaseException) -> Outcome:
        model = elaborate(plan.program, job.variant)
        if isinstance(e, Interrupted) and isinstance(e.partial, list):
            return Done(model, e.partial, 0.0)
        return Done(model, [Result(p.name, p.kind, Status.UNKNOWN, 0, self.matrix.opts.engine,
                                   interrupted=True, reason="interrupted before it was checked")
                            for p in variant_properties(model, self.matrix.opts)], 0.0)

    def worth_a_cluster(self) -> bool:
        """Whether the jobs left look longer than a LocalCluster costs to start and stop."""
        if time.monotonic() - self.start < GRACE_S:
            return False
        return self.work_left() >= CLUSTER_COST_S

    def work_left(self) -> float:
        """Seconds of work left, as well as it can be told: a job's time recorded by an earlier
        run where there is one (the local lane's current job: what is left of it), else the
        mean of the jobs this run has finished here, or the current job's time so far if
        longer. Recorded times come first because the queue is longest first: the mean of its
        first jobs says little about the rest."""
        with self.lock:
            left = list(self.queue)
            current = self.local_job
            since = self.local_since
        ran = time.monotonic() - since if since is not None else 0.0
        mean = sum(self.local_times) / len(self.local_times) if self.local_times else 0.0
        guess = max(mean, ran)
        total = 0.0
        for job in left:
            e = self.known.get(self.keys.get(job, ""))
            total += e.seconds if e is not None else guess
        if current is not None:
            e = self.known.get(self.keys.get(current, ""))
            total += max(0.0, e.seconds - ran) if e is not None else 0.0
        return total

    # -- the cluster lane (its own thread)

    def _cluster_lane(self, client: distributed.Client | None) -> None:
        try:
            if client is None:
                # every job goes to the cluster when it must (`remote`): nothing else would
                # take them, so it is started at once (with `--job-timeout` and no recorded
                # times, waiting for it to be worth it waited for ever)
                if not self.remote:
                    while not self.stop.is_set() and not self.worth_a_cluster():
                        with self.lock:
                            if not self.queue:
                                return
                        time.sleep(POLL_S)
                    if self.stop.is_set():
                        return
                # unless every job goes to the cluster, this process is one of the N: it keeps
                # taking jobs beside the cluster's (N + 1 solvers on N cores slow each one down)
                n = self.cluster.workers or 2
                with _local_cluster(n if self.remote else max(1, n - 1)) as c:
                    self._feed(c)
            else:
                try:
                    self._feed(client)
                finally:
                    client.close()
        except Exception as e:  # the cluster could not start, or lost its scheduler
            self.cluster_error = e

    def _feed(self, client: distributed.Client) -> None:
        """Keep one job in flight per worker until the queue is empty and every job is back."""
        from distributed import as_completed

        self.matrix.cluster_used = True
        run_id = uuid.uuid4().hex[:8]
        slots = max(1, len(client.scheduler_info().get("workers", {})))
        flying: dict[distributed.Future[Any], tuple[Job, float]] = {}
        pending = as_completed()

        def submit() -> bool:
            job = self._take()
            if job is None:
                return False
            plan = self._plan(job)
            fut = client.submit(run_job, plan.program, job.variant, self.matrix.opts,
                                key=f"drvmc-{run_id}-{job.target}-{job.variant}", pure=False)
            flying[fut] = (job, time.monotonic())
            pending.add(fut)
            return True

        while len(flying) < slots and submit():
            pass
        while flying:
            if self.stop.is_set():
                client.cancel(list(flying))
                return
            for fut in _ready(pending):
                job, _ = flying.pop(fut)
                self._put(job, self._collect(fut, job))
                submit()
            self._time_out(client, flying)
            if not pending.is_empty() or flying:
                time.sleep(POLL_S / 2)

    def _collect(self, fut: distributed.Future[Any], job: Job) -> Outcome:
        from distributed import KilledWorker

        plan = self._plan(job)
        try:
            out = fut.result()
        except KilledWorker:
            return Lost(WORKER_DIED)
        except Exception as e:
            if _is_cancelled(e):
                return Lost(WORKER_DIED)
            return Failed(e)
        if isinstance(out, NotElaborated):
            try:
                elaborate(plan.program, job.variant)
            except Exception as e:
                return Failed(e)
            return Failed(AssertionError(f"{job.variant} elaborates here, not on the worker"))
        assert isinstance(out, Done)
        return out

    def _time_out(self, client: distributed.Client,
                  flying: dict[distributed.Future[Any], tuple[Job, float]]) -> None:
        limit = self.cluster.job_timeout_s
        if limit is None:
            return
        now = time.monotonic()
        late = [f for f, (_, t0) in flying.items() if now - t0 > limit]
        if not late:
            return
        where = {k: w for w, keys in client.processing().items() for k in keys}
        for fut in late:
            job, _ = flying.pop(fut)
            fut.cancel()
            self._put(job, Lost(f"job time-out: still running after {limit:g}s "
                                "(--job-timeout)"))
            worker = where.get(fut.key)
            if worker is not None:
                # the only way to stop a running task: restart its worker (with a nanny)
                with contextlib.suppress(Exception):
                    client.restart_workers([worker], timeout=30, raise_for_error=False)


def _ready(pending: Any) -> list[Any]:
    """The futures finished since the last look (without waiting)."""
    out: list[Any] = []
    if pending.has_ready():
        out.extend(pending.next_batch(block=False))
    return out


def _is_cancelled(e: BaseException) -> bool:
    return type(e).__name__ in ("CancelledError", "FutureCancelledError")


def _quiet_logs() -> contextlib.AbstractContextManager[None]:
    """Dask's own log lines (a worker lost, a restart) would interleave with the tables; the
    outcome is in the results."""

    @contextlib.contextmanager
    def quiet() -> Iterator[None]:
        log = logging.getLogger("distributed")
        old = log.level
        log.setLevel(logging.CRITICAL)
        try:
            yield
        finally:
            log.setLevel(old)

    return quiet()


@contextlib.contextmanager
def _local_cluster(workers: int) -> Iterator[distributed.Client]:
    import dask
    from distributed import Client, LocalCluster

    # one job per worker at a time (z3's main context is per process), none retried on another
    # worker after a death (the job that killed one worker would kill the next); workers that
    # may start processes of their own (the auto engine runs its provers side by side)
    with _quiet_logs(), dask.config.set({"distributed.scheduler.allowed-failures": 0,
                                         "distributed.worker.daemon": False}):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, worker_dashboard_address=None,
                               silence_logs=logging.CRITICAL)
        try:
            with Client(cluster) as client:
                yield client
        finally:
            cluster.close()


def _connect(address: str) -> distributed.Client:
    with _quiet_logs():
        try:
            from distributed import Client

            return Client(address, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as e:
            raise UsageError(f"--scheduler {address}: cannot connect ({e})") from None
