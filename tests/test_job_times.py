"""The times of earlier distributed runs' jobs (checker/app/job_times.py), which order the next
run's queue longest first (issue 23). The order changes only the time taken:
tests/test_distributed.py compares a cluster's reports with the serial run's."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from drvmc.checker.app import job_times
from drvmc.checker.app.distributed import ClusterOptions, Done, Matrix, _Lanes, run_matrix
from drvmc.checker.app.driver import CheckOptions, plan_spec, spec_targets
from drvmc.checker.lang.loader import Program

ROOT = Path(__file__).resolve().parent.parent
OPTS = CheckOptions(engine="explicit")
TWO = sorted((ROOT / "specs").glob("*.drv"))[:2]


def _program(text: str) -> Program:
    return Program(main=None, files=(), sources={"a.drv": text, "lib/x.drv": "lib"})  # type: ignore[arg-type]


def test_never_run_jobs_go_first_then_the_longest() -> None:
    known = {"b": job_times.Entry(5.0, 0), "c": job_times.Entry(50.0, 0),
             "e": job_times.Entry(5.0, 0)}
    assert job_times.longest_first(["a", "b", "c", "d", "e"], known) == [0, 3, 2, 1, 4]


def _key(text: str, variant: str, opts: CheckOptions) -> str:
    return job_times.job_key(job_times.sources_digest(_program(text)), variant, opts)


def test_the_key_follows_the_texts_the_variant_and_the_search_not_the_paths() -> None:
    k = _key("x", "original", OPTS)
    assert _key("x", "original", OPTS) == k
    assert _key("y", "original", OPTS) != k
    assert _key("x", "fixed", OPTS) != k
    assert _key("x", "original", replace(OPTS, engine="bmc")) != k
    assert _key("x", "original", replace(OPTS, depth=7)) != k
    moved = replace(OPTS, lib_paths=(Path("/elsewhere"),), all_variants=True)
    assert _key("x", "original", moved) == k


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]", '{"k": "x"}', '{"k": [1, -2]}',
                                  '{"k": [1]}', '{"k": [NaN, 1]}'])
def test_a_bad_file_counts_as_empty(tmp_path: Path, text: str) -> None:
    p = tmp_path / "t.json"
    p.write_text(text)
    assert job_times.load(p) == {}
    assert job_times.load(tmp_path / "missing.json") == {}


def test_saved_times_are_loaded_and_the_oldest_dropped(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(job_times, "MAX_ENTRIES", 3)
    p = tmp_path / "sub" / "t.json"
    old = {k: job_times.Entry(1.0, float(i)) for i, k in enumerate(["o1", "o2", "o3"])}
    job_times.save(p, old, {"new": 7.25})
    got = job_times.load(p)
    assert set(got) == {"o2", "o3", "new"} and got["new"].seconds == 7.25
    assert [f.name for f in p.parent.iterdir()] == ["t.json"]  # no temporary left behind


def test_an_unwritable_cache_leaves_the_run_alone(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    job_times.save(blocker / "t.json", {}, {"k": 1.0})  # its parent is a file: no error
    assert blocker.read_text() == ""


def test_a_run_records_every_job_and_the_next_one_starts_the_longest(tmp_path: Path) -> None:
    times = tmp_path / "times.json"
    opts = replace(OPTS, all_variants=True)
    cluster = ClusterOptions(workers=2, times_path=times)
    # no cluster is started: the local lane finishes these in well under GRACE_S
    matrix = run_matrix(spec_targets(TWO), opts, cluster)
    jobs = matrix.jobs()
    assert len(jobs) >= 3 and all(isinstance(o, Done) for o in matrix.outcomes.values())
    recorded = json.loads(times.read_text())
    keys = [job_times.job_key(job_times.sources_digest(plan_spec(TWO[j.target], opts).program),
                              j.variant, opts) for j in jobs]
    assert set(recorded) == set(keys)
    # pretend the last job was the longest, and the first one is new: the queue starts with
    # the new one, then the longest
    recorded[keys[-1]] = [1000.0, 1.0]
    del recorded[keys[0]]
    times.write_text(json.dumps(recorded))
    plans = [plan_spec(p, opts) for p in TWO]
    lanes = _Lanes(Matrix(opts, list(plans)), cluster, None)
    assert list(lanes.queue)[:2] == [jobs[0], jobs[-1]]
    assert sorted(lanes.queue, key=jobs.index) == jobs


def test_the_work_left_is_read_from_recorded_times_before_the_mean(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A longest-first queue's first job says little of the rest: with the default engine, a
    long first job times the twenty jobs left started a cluster for 4 s of work."""
    opts = replace(OPTS, all_variants=True)
    times = tmp_path / "times.json"
    cluster = ClusterOptions(workers=2, times_path=times)
    plans = [plan_spec(p, opts) for p in TWO]
    jobs = Matrix(opts, list(plans)).jobs()
    n = len(jobs)
    assert n >= 3
    monkeypatch.setattr("drvmc.checker.app.distributed.time.monotonic", lambda: 100.5)

    def lanes_with(recorded: dict[int, float]) -> _Lanes:
        keys = _Lanes(Matrix(opts, list(plans)), cluster, None).keys
        times.unlink(missing_ok=True)
        job_times.save(times, {}, {keys[jobs[i]]: s for i, s in recorded.items()})
        lanes = _Lanes(Matrix(opts, list(plans)), cluster, None)
        # the local lane finished jobs[0] in 3 s and has been 0.5 s on jobs[1]
        lanes.queue.clear()
        lanes.queue.extend(jobs[2:])
        lanes.local_times.append(3.0)
        lanes.local_job, lanes.local_since, lanes.start = jobs[1], 100.0, 0.0
        return lanes

    # nothing recorded: each job left is guessed at the mean, 3 s
    lanes = lanes_with({})
    assert lanes.work_left() == pytest.approx(3.0 * (n - 2))
    assert lanes.worth_a_cluster() == (3.0 * (n - 2) >= 5.0)
    # everything recorded, and short: no cluster, whatever the first job took
    lanes = lanes_with({i: 0.25 for i in range(n)})
    assert lanes.work_left() == pytest.approx(0.25 * (n - 2))  # the current one: past its time
    assert not lanes.worth_a_cluster()
    # the current job was long last time: what is left of it counts
    lanes = lanes_with({**{i: 0.25 for i in range(n)}, 1: 8.0})
    assert lanes.work_left() == pytest.approx(7.5 + 0.25 * (n - 2))
    assert lanes.worth_a_cluster()
