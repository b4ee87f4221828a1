"""The command line by convention (issue 20, item 3): `drvmc --version`, typer's shell completion
(scripts generated, installed, and answering a real bash completion), `--engine` as a choice,
and the progress display: drawn with rich on a terminal only, fed one way (the engines and the
driver report through callbacks, only the CLI draws).
"""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from drvmc.checker.app import cli
from drvmc.checker.app.collector import GC_THRESHOLDS
from drvmc.checker.app.driver import ENGINES, CheckOptions, VariantStart, check_spec
from tests.test_cli_robustness import _clean, _drvmc
from tests.test_sarif import RACE

REPO = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------- --version


def test_version_option_prints_the_version() -> None:
    from importlib.metadata import version

    p = _drvmc("--version")
    _clean(p)
    assert p.returncode == 0
    assert re.fullmatch(r"drvmc (\S+) \(z3 \d+\.\d+\.\d+\S*\)\n", p.stdout), p.stdout
    assert p.stdout.split()[1] == version("drvmc")
    assert p.stdout == _drvmc("version").stdout  # the command stays, and says the same
    assert "--version" in _drvmc("--help").stdout


def test_a_drvmc_process_runs_with_its_own_collector_thresholds() -> None:
    # CPython's (700, 10, 10) spent 40% of `check specs --all-variants` in the collector
    code = ("import gc, sys\nfrom drvmc.checker.app import cli\nsys.argv = ['drvmc', 'version']\n"
            "try:\n    cli.main()\nexcept SystemExit:\n    pass\nprint(gc.get_threshold())\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       cwd=REPO)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[-1] == str(GC_THRESHOLDS)
    assert GC_THRESHOLDS[0] > 700


# ------------------------------------------------------------------------------- completion


# typer's own switch for tests: `--show-completion SHELL` and `--install-completion SHELL` take
# the shell as a value instead of detecting it from the parent processes
EXPLICIT_SHELL = {"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}


def _wrapper(tmp: Path) -> dict[str, str]:
    """A `drvmc` on PATH that runs this checkout, as an installed console script would."""
    bindir = tmp / "bin"
    bindir.mkdir()
    exe = bindir / "drvmc"
    exe.write_text(f"#!/bin/sh\nPYTHONPATH={REPO} exec {sys.executable} -m drvmc.checker "
                   '"$@"\n', encoding="utf-8")
    exe.chmod(0o755)
    return {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(tmp)}


def _complete(env: dict[str, str], script: str, words: list[str]) -> list[str]:
    """What bash offers for the last of `words`, through the generated script."""
    quoted = " ".join(f"'{w}'" for w in words)
    cmd = (f"source {script}\nCOMP_WORDS=({quoted})\nCOMP_CWORD={len(words) - 1}\n"
           "_drvmc_completion drvmc\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
    p = subprocess.run(["bash", "--norc", "-c", cmd], env=env, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout.split()


def test_bash_completion_script_generates_and_completes(tmp_path: Path) -> None:
    env = _wrapper(tmp_path)
    # as a user types it in bash: the shell is detected (`; true` keeps bash the parent)
    p = subprocess.run(["bash", "--norc", "-c", "drvmc --show-completion; true"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    named = subprocess.run(["drvmc", "--show-completion", "bash"], env={**env, **EXPLICIT_SHELL},
                           capture_output=True, text=True, timeout=120)
    assert named.stdout == p.stdout
    assert "_DRVMC_COMPLETE=complete_bash" in p.stdout
    assert "complete -o default -F _drvmc_completion drvmc" in p.stdout
    script = tmp_path / "drvmc.bash"
    script.write_text(p.stdout, encoding="utf-8")
    assert _complete(env, str(script), ["drvmc", "che"]) == ["check"]
    assert _complete(env, str(script), ["drvmc", "check", "--engine", ""]) == [
        "auto", "bmc", "kind", "pdr", "explicit"]
    assert _complete(env, str(script), ["drvmc", "check", "--format", ""]) == [
        "text", "json", "sarif", "junit"]
    assert "--all-variants" in _complete(env, str(script), ["drvmc", "check", "--all"])


@pytest.mark.parametrize("shell", ["zsh", "fish", "powershell"])
def test_other_shells_scripts_generate(shell: str, tmp_path: Path) -> None:
    env = {**_wrapper(tmp_path), **EXPLICIT_SHELL}
    p = subprocess.run(["drvmc", "--show-completion", shell], env=env, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "_DRVMC_COMPLETE" in p.stdout and f"complete_{shell}" in p.stdout
    assert "drvmc" in p.stdout


def test_install_completion_writes_the_script_and_sources_it(tmp_path: Path) -> None:
    env = _wrapper(tmp_path)
    p = subprocess.run(["drvmc", "--install-completion", "bash"], env={**env, **EXPLICIT_SHELL},
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    installed = tmp_path / ".bash_completions/drvmc.sh"
    assert f"source '{installed}'" in (tmp_path / ".bashrc").read_text(encoding="utf-8")
    assert _complete(env, str(installed), ["drvmc", "ver"]) == ["version"]


# ------------------------------------------------------------------------------- --engine


def test_engine_choices_are_the_driver_s_engines() -> None:
    assert sorted(e.value for e in cli.EngineChoice) == sorted(ENGINES)


def test_engine_is_a_choice_listed_in_help_and_checked() -> None:
    for cmd in ("check", "compare", "report"):
        h = _drvmc(cmd, "--help")
        assert h.returncode == 0
        assert "<auto|bmc|kind|pdr|explicit>" in h.stdout, h.stdout  # COLUMNS=200: one line
    p = _drvmc("check", RACE, "--engine", "z3")
    _clean(p)
    assert p.returncode == 3  # a bad command line, as documented (not click's 2)
    assert p.stderr.startswith("drvmc: error: Invalid value for '--engine'"), p.stderr
    assert "'auto', 'bmc', 'kind', 'pdr', 'explicit'" in p.stderr
    assert p.stdout == ""
    ok = _drvmc("check", RACE, "-e", "explicit", "--no-timings")
    assert ok.returncode == 0 and "PROVEN (explicit" in ok.stdout


# ------------------------------------------------------------------------------- progress


def _drawn(*events: tuple[str, int, float, int], engine: str = "auto",
           start: VariantStart | None = None) -> str:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=200, color_system=None)
    prog = cli._Progress(True, "specs/x.drv", 40, engine, console=console)
    if start is not None:
        prog.variant(start)
    for e in events:
        prog.last = 0.0  # not throttled
        prog(*e)
    prog.clear()
    return out.getvalue()


def test_progress_shows_variant_property_depth_time_and_calls() -> None:
    text = _drawn(("original", 3, 1.2, 42), engine="bmc",
                  start=VariantStart(1, 2, "original", ("use_after_release", "deadlock")))
    last = text.split("\r")[-2]  # the last frame before the display is erased
    assert "specs/x.drv [original 1/2]  use_after_release, deadlock" in last
    assert "depth 3 of 40" in last and "42 solver calls" in last
    assert re.search(r"\d:\d\d:\d\d", last)  # elapsed
    assert text.endswith("\x1b[2K")  # transient: erased before the results are printed


def test_progress_names_the_worker_and_counts_states_for_the_explicit_search() -> None:
    start = VariantStart(2, 3, "fix", ("a", "b", "c", "d"))
    text = _drawn(("fix kind", 5, 0.5, 7), start=start)
    assert "[fix 2/3 · kind]  a, b +2 more" in text and "7 solver calls" in text
    assert "1,234 states" in _drawn(("fix", 9, 0.5, 1234), start=start)


def test_disabled_progress_draws_nothing() -> None:
    out = io.StringIO()
    prog = cli._Progress(False, "x.drv", 40, console=Console(file=out, force_terminal=True))
    prog.variant(VariantStart(1, 1, "original", ("p",)))
    prog("original", 1, 0.1, 1)
    prog.clear()
    assert out.getvalue() == ""


def test_the_driver_tells_each_variant_before_the_engine_reports(tmp_path: Path) -> None:
    events: list[object] = []
    rep = check_spec(REPO / RACE, CheckOptions(all_variants=True, engine="bmc", depth=5),
                     lambda v, k, t, n: events.append((v, k)), events.append)
    starts = [e for e in events if isinstance(e, VariantStart)]
    assert starts == [VariantStart(1, 2, "original", ("use_after_release", "ran", "deadlock")),
                      VariantStart(2, 2, "waits", ("use_after_release", "ran", "deadlock"))]
    assert events[0] == starts[0]
    second = events.index(starts[1])
    assert all(e[0] == "original" for e in events[1:second] if isinstance(e, tuple))
    assert any(isinstance(e, tuple) and e[0] == "waits" for e in events[second:])
    assert len(rep.rows) == 6


def _in_pty(args: list[str], stderr_pty: bool = True, timeout: float = 120) -> tuple[str, str]:
    """Run drvmc with stdout on a pseudo-terminal (and stderr too, or piped)."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "160",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    p = subprocess.Popen([sys.executable, "-m", "drvmc.checker", *args], cwd=REPO,
                         stdin=subprocess.DEVNULL, stdout=slave,
                         stderr=slave if stderr_pty else subprocess.PIPE, env=env)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            out += data
        elif p.poll() is not None:
            break
    err = p.stderr.read().decode() if p.stderr else ""
    p.wait(timeout=30)
    os.close(master)
    assert p.returncode in (0, 1), (p.returncode, out, err)
    return out.decode("utf-8", "replace"), err


def test_progress_is_drawn_on_a_terminal_and_erased() -> None:
    out, _ = _in_pty(["check", RACE, "--all-variants", "-e", "bmc", "--no-traces"])
    assert "tests/golden/race.drv [original 1/2]" in out
    assert "depth " in out and " of 40" in out
    # erased: after the last frame comes the table, with nothing of the display left on it
    tail = out[out.rindex("\x1b[2K"):]
    assert "tests/golden/race.drv: race" in tail and "[original 1/2]" not in tail


@pytest.mark.parametrize("fmt", ["json", "sarif", "junit"])
def test_no_progress_with_a_document_format(fmt: str) -> None:
    out, _ = _in_pty(["check", RACE, "--all-variants", "-e", "bmc", "--format", fmt])
    assert "\x1b[" not in out and "depth " not in out


def test_no_progress_when_stderr_or_stdout_is_not_a_terminal() -> None:
    out, err = _in_pty(["check", RACE, "--all-variants", "-e", "bmc"], stderr_pty=False)
    assert err == "" and "\x1b[" not in out
    assert "tests/golden/race.drv: race" in out
    p = _drvmc("check", RACE, "--all-variants", "-e", "bmc")  # both piped
    assert p.stderr == "" and "\x1b[" not in p.stdout


def test_a_folder_means_every_spec_below_it_but_lib(tmp_path: Path) -> None:
    from drvmc.checker.app.driver import spec_targets

    for name in ["b.drv", "a.drv", "sub/c.drv", "lib/x.drv", "sub/lib/y.drv", "notes.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / "dir.drv").mkdir()
    got = spec_targets([tmp_path, tmp_path / "missing.drv"])
    assert [(q.relative_to(tmp_path).as_posix(), e is None) for q, e in got] == [
        ("a.drv", True), ("b.drv", True), ("sub/c.drv", True), ("missing.drv", False)]
    (empty := tmp_path / "empty").mkdir()
    (_, err), = spec_targets([empty])
    assert err is not None and "no spec files" in str(err)
