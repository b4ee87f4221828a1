"""Every limit has a documented default (docs/RELIABILITY.md) and a clean message when exceeded:
a spec error with a position (exit 3), a usage error, or an UNKNOWN with its reason (exit 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from drvmc.checker.app.driver import MAX_DEPTH, CheckOptions, check_spec
from drvmc.checker.errors import SpecError, UsageError
from drvmc.checker.ir import elaborate as E
from drvmc.checker.lang import loader, parser

REPO = Path(__file__).resolve().parent.parent

ACTOR = "actor a { s: skip }\n"


def _errors(tmp: Path, text: str, opts: CheckOptions | None = None) -> list[tuple[str, int, str]]:
    p = tmp / "limit.drv"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as ei:
        check_spec(p, opts or CheckOptions(depth=1))
    return [(d.code, d.span.line, d.message) for d in ei.value.diagnostics]


def _ok(tmp: Path, text: str) -> None:
    p = tmp / "ok.drv"
    p.write_text(text, encoding="utf-8")
    assert check_spec(p, CheckOptions(depth=1)).rows


def test_documented_defaults() -> None:
    # docs/RELIABILITY.md states these numbers; change both together
    assert parser.MAX_SOURCE_BYTES == 1_000_000
    assert parser.MAX_NESTING == 200
    assert loader.MAX_FILES == 64
    assert (E.MAX_INT_MAGNITUDE, E.MAX_RANGE_SIZE, E.MAX_LIST_CAP) == (1 << 20, 1 << 12, 64)
    assert (E.MAX_ACTOR_INSTANCES, E.MAX_INLINE_DEPTH, E.MAX_STATE_LEAVES) == (64, 48, 4096)
    assert MAX_DEPTH == 1000
    assert CheckOptions().memory_mb is None and CheckOptions().timeout_s is None


def test_file_size(tmp_path: Path) -> None:
    text = "# " + "x" * parser.MAX_SOURCE_BYTES + "\n" + ACTOR
    assert _errors(tmp_path, text) == [("E001", 1, "spec file is larger than 1000000 bytes")]


def test_nesting(tmp_path: Path) -> None:
    deep = "var x: bool\nactor a { s: x = " + "!" * 250 + "true }\n"
    errs = _errors(tmp_path, deep)
    assert [(c, ln) for c, ln, _ in errs] == [("E002", 2)]
    assert errs[0][2] == "spec is nested deeper than 200 levels"
    _ok(tmp_path, "var x: bool\nactor a { s: x = " + "!" * 150 + "true }\n")


def test_integer_and_range_limits(tmp_path: Path) -> None:
    errs = _errors(tmp_path, "var x: 0..1048577\nvar y: 0..5000\n" + ACTOR)
    assert errs == [
        ("E150", 1, "integer 1048577 is too large (limit ±1048576)"),
        ("E150", 2, "range 0..5000 is too large (at most 4096 values within ±1048576)"),
    ]
    _ok(tmp_path, "var x: -1048576..-1044481\nvar y: 0..4095\n" + ACTOR)


def test_list_capacity(tmp_path: Path) -> None:
    errs = _errors(tmp_path, "var l: list<bool, 65>\nvar m: list<bool, 0>\n" + ACTOR)
    assert errs == [("E150", 1, "list capacity must be 1..64, not 65"),
                    ("E150", 2, "list capacity must be 1..64, not 0")]
    _ok(tmp_path, "var l: list<bool, 64>\n" + ACTOR)


def test_actor_instances(tmp_path: Path) -> None:
    errs = _errors(tmp_path, "actor w[i in 1..65] { s: skip }\n")
    assert errs == [("E150", 1, "actor 'w' has 65 instances (limit 64)")]
    errs = _errors(tmp_path, "actor w[i in 1..40] { s: skip }\nactor v[i in 1..25] { s: skip }\n")
    assert [(c, m) for c, _, m in errs] == [("E150", "65 actor instances (limit 64)")]
    _ok(tmp_path, "actor w[i in 1..40] { s: skip }\nactor v[i in 1..24] { s: skip }\n")


def test_state_size(tmp_path: Path) -> None:
    errs = _errors(tmp_path, "var c: list<bool, 64>[0..63]\n" + ACTOR)
    assert errs == [("E150", 1, "type list<bool, 64>[0..63] has 4160 scalar components "
                                "(limit 4096)")]
    errs = _errors(tmp_path, "var f: bool[0..4000]\nvar b: 0..3[0..4000]\n" + ACTOR)
    assert errs == [("E150", 2, "the state has more than 4096 scalar components ('b' goes "
                                "past the limit)")]


def test_inline_depth(tmp_path: Path) -> None:
    procs = "".join(f"proc p{i}() {{ l{i}: p{i + 1}() }}\n" for i in range(49))
    text = procs + "proc p49() { l49: skip }\nactor a { s: p0() }\n"
    errs = _errors(tmp_path, text)
    # the 49th nested call, in p47 (line 48), is refused
    assert errs == [("E130", 48, "labelled procedures nested deeper than 48")]


def test_files_used(tmp_path: Path) -> None:
    for i in range(70):
        (tmp_path / f"f{i}.drv").write_text(f"use f{i + 1}\n", encoding="utf-8")
    (tmp_path / "f70.drv").write_text("", encoding="utf-8")
    main = tmp_path / "main.drv"
    main.write_text("use f0\n" + ACTOR, encoding="utf-8")
    with pytest.raises(SpecError) as ei:
        check_spec(main, CheckOptions(depth=1))
    assert [(d.code, d.message) for d in ei.value.diagnostics] == [
        ("E022", "more than 64 spec files used")]


def test_depth_bound(tmp_path: Path) -> None:
    p = tmp_path / "d.drv"
    p.write_text(ACTOR, encoding="utf-8")
    with pytest.raises(UsageError, match="--depth must be between 0 and 1000, not 1001"):
        check_spec(p, CheckOptions(depth=MAX_DEPTH + 1))


SLOW = """spec slow "eight workers, an open property"
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


def _cli(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    p = tmp / "slow.drv"
    p.write_text(SLOW, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "drvmc.checker", "check", str(p), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=300)


def test_solver_memory_limit_is_unknown_with_reason(tmp_path: Path) -> None:
    # z3 alone needs more than 16 MB: every check stops at the limit, from the first, at depth 2
    # (before it, x is still all zeros, its initial value, and calm needs no question: a
    # worker's first step enters its loop)
    p = _cli(tmp_path, "--memory", "16", "-k", "5", "--no-timings", "-e", "bmc")
    assert p.returncode == 2, p.stderr
    assert "UNKNOWN (solver: memory limit of 16 MB reached at depth 2)" in p.stdout
    assert "Traceback" not in p.stderr


def test_solver_timeout_is_unknown_never_safe(tmp_path: Path) -> None:
    p = _cli(tmp_path, "--timeout", "0.001", "-k", "200", "--no-timings", "-e", "bmc")
    assert p.returncode == 2, p.stdout + p.stderr
    row = next(ln for ln in p.stdout.splitlines() if " calm " in ln)
    # the result column (the expected column after it says SAFE)
    result = row.split(" calm ", 1)[1].strip().split("  ")[0]
    assert result.startswith("UNKNOWN (solver: ") and "SAFE" not in result
    assert "PROVEN" not in result and row.rstrip().endswith("unknown")


@pytest.mark.parametrize("args", [["--memory", "8"], ["--timeout", "0"], ["--depth", "1001"]])
def test_bad_limit_options(tmp_path: Path, args: list[str]) -> None:
    p = _cli(tmp_path, *args)
    assert p.returncode == 3
    assert p.stderr.startswith("drvmc: error: ") and "Traceback" not in p.stderr
