"""The command line under misuse (issue 13, items 3 to 6): every bad command line is exit 3 with
a clear message and no traceback, every unwritable output is refused before the work is done,
`--format json` prints one JSON document for every exit code, folders and symbolic links are
reported for what they are, and a violation beyond the bound is never a plain SAFE.

The command runs in a real process (`python -m checker.cli`, as `main()` runs it), since that is
where click's usage errors and the exit codes are decided.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.test_interrupt import wait_for_cpu

REPO = Path(__file__).resolve().parent.parent
SCHEMA = REPO / "docs/schema/drvmc-results.schema.json"

GOOD = """spec good "a clean spec"
var n: 0..3 = 0
actor a { s: n = 1 }
"""

# two writers: which one ran first is a question only the solver answers (a one-actor spec is
# all constants to BMC, which carries values forward, and needs no solver at all)
OPEN = """spec open "two writers"
var n: 0..3 = 0
actor a { s: n = 1 }
actor b { s: n = 2 }
invariant small: n < 3
"""

# no expect lines: VIOLATED is not as expected (exit 1)
BUGGY = """spec buggy "a bug at length 1"
var n: 0..3 = 0
actor a { s: n = 1
             assert n == 0, "n moved" }
"""

BAD = """spec bad "a type error on line 2"
var a: bool = 3
actor w { s: skip }
"""

# a counter that reaches 10 only after ten steps: with `-k 3` no trace exists within the bound,
# but Spacer finds the bad state reachable
DEEP = """spec deep "a counter that reaches 10 after ten steps"
property p "n reached 10"
var n: 0..15 = 0
actor a {
  s: while true {
       t: n = (n + 1) % 16
          assert n != 10 as p, "n reached 10"
     }
}
"""

# eight looping workers, one property never violated: BMC deepens to the bound (slow)
SLOW = """spec slow "stays open"
allow deadlock
var c: 0..15 = 0
var x: 0..15[0..7] = 0
# each x[i] stays within 0..15: true, but only the solver can tell (BMC carries values
# forward from the initial state, and a property that folds to true is never asked)
invariant calm: x[0] + x[1] < 31
actor w[i in 0..7] {
  s: while true {
       a: x[i] = (x[i] + c + 1) % 16
       b: c = (c + x[i] + i) % 16
     }
}
"""


def _spec(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def _drvmc(*args: str, cwd: Path = REPO, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    # this checkout's drvmc, whatever the working folder
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.run([sys.executable, "-m", "drvmc.checker.app.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _clean(p: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in p.stderr and "Exception ignored" not in p.stderr, p.stderr
    assert "internal error" not in p.stderr, p.stderr


def _schema() -> dict[str, Any]:
    s: dict[str, Any] = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(s)
    return s


def _valid(doc: Any) -> None:
    jsonschema.validate(doc, _schema(), cls=jsonschema.Draft202012Validator)


# ------------------------------------------------------------------ item 3: bad values, outputs


@pytest.mark.parametrize("engine", ["auto", "bmc", "kind"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "0", "1e300"])
def test_timeout_must_be_a_finite_positive_number(tmp_path: Path, engine: str,
                                                  value: str) -> None:
    good = _spec(tmp_path, "good.drv", GOOD)
    p = _drvmc("check", str(good), f"--timeout={value}", "-e", engine)
    _clean(p)
    assert p.returncode == 3, p.stdout + p.stderr
    assert p.stderr.startswith("drvmc: error: --timeout must be"), p.stderr
    assert p.stdout == ""  # refused before anything was checked


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
@pytest.mark.parametrize(("args", "path"), [
    (["export", "{good}", "--to", "promela", "-o", "/proc/x.pml"], "/proc/x.pml"),
    (["export", "{good}", "--to", "tla", "-o", "/proc/x.tla"], "/proc/x.tla"),
    (["report", "{good}", "-o", "/proc/r.md"], "/proc/r.md"),
    (["report", "{good}", "-o", "/proc/r.html"], "/proc/r.html"),
    (["check", "{good}", "--save-baseline", "/proc/b.json"], "/proc/b.json"),
    (["compare", "{good}", "--save-baseline", "/proc/b.json"], "/proc/b.json"),
    (["check", "{good}", "--trace-dir", "/proc/sys"], "/proc/sys"),
    (["check", "{good}", "--trace-dir", "/proc/new/traces"], "/proc/new/traces"),
], ids=["export-promela", "export-tla", "report-md", "report-html", "save-baseline",
        "compare-save-baseline", "trace-dir", "trace-dir-new"])
def test_unwritable_outputs_are_refused_before_the_work(tmp_path: Path, args: list[str],
                                                       path: str) -> None:
    good = _spec(tmp_path, "good.drv", GOOD)
    p = _drvmc(*[a.format(good=good) for a in args])
    _clean(p)
    assert p.returncode == 3, p.stdout + p.stderr
    assert p.stderr.startswith(f"drvmc: error: {path}: cannot write"), p.stderr
    assert "(" in p.stderr and ")" in p.stderr  # the reason, as the system gives it
    # refused before the check ran: no table, no summary, no "wrote"
    assert p.stdout == "", p.stdout


def test_unwritable_baseline_is_refused_before_a_slow_check(tmp_path: Path) -> None:
    slow = _spec(tmp_path, "slow.drv", SLOW)
    ro = tmp_path / "file-not-folder"
    ro.write_text("x", encoding="utf-8")
    start = time.monotonic()
    # a path below a regular file can never be written; the check (minutes at -k 500) must
    # not run first
    p = _drvmc("check", str(slow), "-k", "500", "-e", "bmc", "--save-baseline",
               str(ro / "b.json"), timeout=120)
    _clean(p)
    assert p.returncode == 3, p.stderr
    assert str(ro) in p.stderr
    assert time.monotonic() - start < 60
    assert p.stdout == ""


def test_write_failures_are_usage_errors_naming_the_path(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from drvmc.checker.errors import UsageError
    from drvmc.checker.fileio import write_text_atomic

    def full(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    target = tmp_path / "out.json"
    with pytest.raises(UsageError, match=r"out\.json: cannot write \(No space left on device\)"):
        write_text_atomic(target, "{}")
    assert list(tmp_path.iterdir()) == []  # the temporary file is gone too


# ------------------------------------------------------------------ item 4: click's usage errors


@pytest.mark.parametrize("args", [
    ["check", "{good}", "--bogus"],
    ["check", "{good}", "--depth", "abc"],
    ["check", "{good}", "--format", "yaml"],
    ["frobnicate"],
    ["check"],
    ["compare"],
    ["parse"],
    ["export", "{good}", "-o", "x.pml"],
    ["render", "t.itf.json", "--to", "gif"],
], ids=["unknown-flag", "depth-abc", "format-yaml", "unknown-command", "check-no-spec",
        "compare-no-spec", "parse-no-spec", "export-no-to", "render-bad-choice"])
def test_command_line_errors_exit_3_not_2(tmp_path: Path, args: list[str]) -> None:
    good = _spec(tmp_path, "good.drv", GOOD)
    p = _drvmc(*[a.format(good=good) for a in args], cwd=tmp_path)
    _clean(p)
    assert p.returncode == 3, p.stdout + p.stderr  # 2 is "solver unknown or time-out"
    lines = p.stderr.splitlines()
    assert lines[0].startswith("drvmc: error: "), p.stderr
    assert any(x.startswith("Usage: drvmc") for x in lines), p.stderr
    assert "╭" not in p.stderr  # plain text, no box drawing


def test_missing_spec_file_exits_3(tmp_path: Path) -> None:
    for cmd in (["check"], ["compare"], ["parse"]):
        p = _drvmc(*cmd, str(tmp_path / "missing.drv"))
        _clean(p)
        assert p.returncode == 3, (cmd, p.stderr)
        assert "missing.drv: no such file" in p.stderr


def test_help_and_version_still_exit_0() -> None:
    for args in (["--help"], ["check", "--help"], ["version"]):
        p = _drvmc(*args)
        _clean(p)
        assert p.returncode == 0, (args, p.stderr)
        assert p.stdout


def test_help_default_of_the_explicit_budget_is_the_engine_s() -> None:
    # the CLI repeats the constant so that --help needs no engine imported
    from drvmc.checker.app import cli
    from drvmc.checker.engines.portfolio import AUTO_EXPLICIT_STATES

    assert cli.AUTO_EXPLICIT_STATES == AUTO_EXPLICIT_STATES


# ------------------------------------------------------------------ item 5: JSON for every code


def _json(p: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert p.stdout.strip(), f"nothing on stdout (exit {p.returncode}): {p.stderr}"
    doc: dict[str, Any] = json.loads(p.stdout)  # exactly one document
    _valid(doc)
    assert doc["exit_code"] == p.returncode
    return doc


@pytest.mark.parametrize("order", ["good-bad", "bad-good"])
def test_json_keeps_the_good_specs_and_lists_the_errors(tmp_path: Path, order: str) -> None:
    good = _spec(tmp_path, "good.drv", GOOD)
    bad = _spec(tmp_path, "bad.drv", BAD)
    files = [good, bad] if order == "good-bad" else [bad, good]
    p = _drvmc("check", *map(str, files), "--format", "json", cwd=tmp_path)
    _clean(p)
    assert p.returncode == 3
    doc = _json(p)
    assert [s["spec"] for s in doc["specs"]] == ["good"]
    assert all(r["as_expected"] for r in doc["specs"][0]["results"])
    (err,) = doc["errors"]
    assert (err["kind"], err["code"], err["file"], err["line"], err["col"]) == (
        "spec", "E110", "bad.drv", 2, 15)
    assert "type mismatch" in err["message"]
    # the diagnostics still go to stderr for people
    assert "bad.drv:2:15: error[E110]" in p.stderr


def test_text_checks_the_other_specs_too(tmp_path: Path) -> None:
    good = _spec(tmp_path, "good.drv", GOOD)
    bad = _spec(tmp_path, "bad.drv", BAD)
    p = _drvmc("check", str(bad), str(good), "--no-timings", cwd=tmp_path)
    _clean(p)
    assert p.returncode == 3
    assert "good.drv: good" in p.stdout
    assert "1 results, 1 as expected, 0 not; 1 error (see above)" in p.stdout
    assert "bad.drv:2:15: error[E110]" in p.stderr


def _internal_error_run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """drvmc with a check that fails the way a bug would (an exception no one raised on
    purpose), through the real `main()`."""
    code = textwrap.dedent("""
        import sys
        import drvmc.checker.app.driver as d
        def broken(*a, **k):
            raise RuntimeError("a bug in an engine")
        d.check_spec = broken
        import drvmc.checker.app.cli as cli
        sys.argv = ["drvmc", *sys.argv[1:]]
        cli.main()
    """)
    return subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


@pytest.mark.parametrize("code", [0, 1, 2, 3, 4, 130])
def test_json_document_for_every_exit_code(tmp_path: Path, code: int) -> None:
    good = str(_spec(tmp_path, "good.drv", GOOD))
    match code:
        case 0:
            p = _drvmc("check", good, "-f", "json")
        case 1:
            p = _drvmc("check", str(_spec(tmp_path, "buggy.drv", BUGGY)), "-f", "json")
        case 2:
            # 16 MB per solver is less than z3 needs: every question gets UNKNOWN
            p = _drvmc("check", str(_spec(tmp_path, "open.drv", OPEN)), "-f", "json", "-e",
                       "bmc", "--memory", "16")
        case 3:
            p = _drvmc("check", good, "-f", "json", "--depth", "abc")
        case 4:
            p = _internal_error_run(tmp_path, "check", good, "-f", "json")
        case _:
            slow = _spec(tmp_path, "slow.drv", SLOW)
            proc = subprocess.Popen([sys.executable, "-m", "drvmc.checker.app.cli", "check", good,
                                     str(slow), "-k", "500", "-e", "bmc", "-f", "json"],
                                    cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
            assert wait_for_cpu(proc, 2.0)  # good is done; slow is deepening
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=120)
            p = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    if code != 4:
        _clean(p)
    assert p.returncode == code, p.stdout + p.stderr
    doc = _json(p)
    if code in (3, 4):
        kinds = {e["kind"] for e in doc["errors"]}
        assert kinds == ({"usage"} if code == 3 else {"internal"}), doc["errors"]
    if code == 4:
        assert "RuntimeError: a bug in an engine" in doc["errors"][0]["message"]
        assert doc["errors"][0]["file"] == good
        assert "drvmc: internal error: RuntimeError" in p.stderr
        assert "Traceback" not in p.stderr
    if code == 130:
        assert doc["interrupted"] is True
        assert [s["spec"] for s in doc["specs"]][:1] == ["good"]
    else:
        assert "interrupted" not in doc


def test_json_usage_errors_found_by_drvmc_itself(tmp_path: Path) -> None:
    good = str(_spec(tmp_path, "good.drv", GOOD))
    for args in (["--depth", "5000"], ["--engine", "nope"], ["--timeout", "nan"],
                 ["-v", "x", "-a"], ["--save-baseline", str(tmp_path / "no" / "b.json")]):
        p = _drvmc("check", good, "-f", "json", *args)
        _clean(p)
        assert p.returncode == 3, (args, p.stderr)
        doc = _json(p)
        assert doc["specs"] == [] and doc["errors"][0]["kind"] == "usage", args


def test_json_compare_with_an_error(tmp_path: Path) -> None:
    good = _spec(tmp_path, "good.drv", GOOD)
    p = _drvmc("compare", str(good), str(tmp_path / "missing.drv"), "-f", "json")
    _clean(p)
    assert p.returncode == 3
    doc = _json(p)
    assert [s["spec"] for s in doc["specs"]] == ["good"] and "z3" in doc
    (err,) = doc["errors"]
    assert err["kind"] == "usage" and err["file"] == str(tmp_path / "missing.drv")


def test_schema_requires_the_errors_of_a_failed_run() -> None:
    schema = _schema()
    for bad in ({"drvmc": "1", "exit_code": 3, "specs": []},
                {"drvmc": "1", "exit_code": 130, "specs": []},
                {"drvmc": "1", "exit_code": 0, "specs": [], "interrupted": True},
                {"drvmc": "1", "exit_code": 3, "specs": [], "errors": [
                    {"kind": "spec", "code": None, "message": "m", "file": None, "line": None,
                     "col": None, "end_line": None, "end_col": None, "notes": []}]}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema, cls=jsonschema.Draft202012Validator)


# ------------------------------------------------------------------ item 6: smaller things


def test_folder_skips_directories_named_drv(tmp_path: Path) -> None:
    folder = tmp_path / "specs"
    folder.mkdir()
    _spec(folder, "a.drv", GOOD)
    (folder / "x.drv").mkdir()
    _spec(folder / "x.drv", "inner.drv", GOOD)  # a spec inside it is still found
    p = _drvmc("check", str(folder), "--no-timings")
    _clean(p)
    assert p.returncode == 0, p.stderr
    assert "is a directory" not in p.stderr
    assert p.stdout.count(": good") == 2, p.stdout


def test_folder_reports_a_dangling_symlink_and_checks_the_rest(tmp_path: Path) -> None:
    folder = tmp_path / "specs"
    folder.mkdir()
    _spec(folder, "a.drv", GOOD)
    os.symlink(tmp_path / "gone.drv", folder / "y.drv")
    p = _drvmc("check", str(folder), "--no-timings")
    _clean(p)
    assert p.returncode == 3
    assert f"{folder / 'y.drv'}: dangling symbolic link (to {tmp_path / 'gone.drv'}" in p.stderr
    assert "is a directory" not in p.stderr
    assert "a.drv: good" in p.stdout  # the other spec was checked


def test_dangling_symlink_named_on_the_command_line(tmp_path: Path) -> None:
    os.symlink(tmp_path / "gone.drv", tmp_path / "y.drv")
    p = _drvmc("check", str(tmp_path / "y.drv"))
    _clean(p)
    assert p.returncode == 3
    assert "dangling symbolic link" in p.stderr


def test_use_of_a_symlink_out_of_the_tree_says_why(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = _spec(outside, "target.drv", "const X = 1\n")
    tree = tmp_path / "tree"
    tree.mkdir()
    os.symlink(target, tree / "link.drv")
    main = _spec(tree, "main.drv", "use link\n" + GOOD.split("\n", 1)[1])
    p = _drvmc("check", str(main))
    _clean(p)
    assert p.returncode == 3
    assert "error[E021]" in p.stderr and "cannot find" not in p.stderr, p.stderr
    assert str(target.resolve()) in p.stderr and "outside" in p.stderr, p.stderr


def test_trace_dir_is_created_when_missing_as_documented(tmp_path: Path) -> None:
    buggy = _spec(tmp_path, "buggy.drv", BUGGY)
    out = tmp_path / "new" / "traces"
    p = _drvmc("check", str(buggy), "--trace-dir", str(out))
    _clean(p)
    assert p.returncode == 1
    assert sorted(q.suffix for q in out.iterdir()) == [".dot", ".json", ".svg", ".txt"]
    # and the documentation says so, in the README and in --help
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    row = next(x for x in readme.splitlines() if "--trace-dir DIR" in x and x.startswith("|"))
    assert "created" in row, row
    assert "created if missing" in _drvmc("check", "--help").stdout.replace("\n", " ")
    rel = (REPO / "docs/RELIABILITY.md").read_text(encoding="utf-8")
    assert "`--trace-dir` folder is created" in rel


def test_auto_says_a_violation_exists_beyond_the_bound(tmp_path: Path) -> None:
    deep = _spec(tmp_path, "deep.drv", DEEP)
    # the explicit pass runs out of its budget; BMC finds nothing in 3 steps; Spacer reaches it
    args = ("check", str(deep), "-k", "3", "--explicit-states", "5", "--no-timings")
    p = _drvmc(*args)
    _clean(p)
    row = next(x for x in p.stdout.splitlines() if x.strip().startswith("original  p "))
    assert "SAFE≤3, VIOLATED beyond the bound (pdr" in row, row
    assert not row.rstrip().endswith("ok"), row  # never judged as expected
    assert p.returncode == 1, p.stdout
    doc = _json(_drvmc(*args, "-f", "json"))
    res = next(r for r in doc["specs"][0]["results"] if r["property"] == "p")
    assert (res["status"], res["depth"], res["as_expected"]) == ("SAFE", 3, False)
    assert "pdr reaches a bad state" in res["beyond_bound"]
    # with a bound past the bug, the same default engine gives the trace
    p = _drvmc("check", str(deep), "-k", "12", "--explicit-states", "5", "--no-traces")
    assert "VIOLATED at length 11" in p.stdout, p.stdout  # the loop entry is a step


def test_beyond_the_bound_matches_no_expectation() -> None:
    from drvmc.checker.ir import nodes as I
    from drvmc.checker.verdict.results import Result, Status, matches

    r = Result("p", I.PropKind.ASSERT, Status.SAFE, 3, "kind", beyond="pdr reaches a bad state")
    for verdict in I.Verdict:
        assert not matches(r, I.Expect("p", verdict, None)), verdict
    assert not matches(r, None)
    assert r.verdict_text().startswith("SAFE≤3, VIOLATED beyond the bound")
