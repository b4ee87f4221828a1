"""The pipeline's named stages (`check --dump-after STAGE`, `parse --ir`): each prints what it
hands on, for the chosen variants; an unknown stage or variant is a usage error (exit 3)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from drvmc.checker.app.stages import Stage, dump
from drvmc.checker.ir import show
from drvmc.checker.ir.elaborate import elaborate
from drvmc.checker.lang.loader import load_program

ROOT = Path(__file__).resolve().parent.parent
RACE = ROOT / "tests" / "golden" / "race.drv"


def _drvmc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "drvmc.checker", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def test_every_stage_prints_its_output() -> None:
    parsed = dump(Stage.PARSE, RACE, ["original"])
    assert parsed == _drvmc("parse", str(RACE)).stdout  # what `drvmc parse` prints
    loaded = dump(Stage.LOAD, RACE, ["original"])
    # each file under its path as the loader read it (the spec here: it uses nothing)
    assert loaded.startswith("# ") and loaded.endswith(parsed)
    ir = dump(Stage.ELABORATE, RACE, ["original", "waits"])
    program = load_program(RACE)
    assert ir == show.model(elaborate(program, "original")) + "\n" + \
        show.model(elaborate(program, "waits"))
    enc = dump(Stage.ENCODE, RACE, ["original"])
    assert "; init" in enc and "; trans" in enc
    assert "; bad states of assert use_after_release" in enc


@pytest.mark.parametrize("stage", [s.value for s in Stage])
def test_dump_after_on_the_command_line(stage: str) -> None:
    p = _drvmc("check", str(RACE), "--dump-after", stage, "--all-variants")
    assert p.returncode == 0, p.stderr
    assert p.stdout == dump(Stage(stage), RACE, ["original", "waits"])


def test_parse_ir_prints_every_variant() -> None:
    p = _drvmc("parse", "--ir", str(RACE))
    assert p.returncode == 0
    assert "model race variant original" in p.stdout and "model race variant waits" in p.stdout


@pytest.mark.parametrize(("args", "says"), [
    (("--dump-after", "lower"), "no stage 'lower'"),
    (("--dump-after", "encode", "--variant", "nope"), "no variant nope"),
])
def test_bad_stage_or_variant_is_a_usage_error(args: tuple[str, ...], says: str) -> None:
    p = _drvmc("check", str(RACE), *args)
    assert p.returncode == 3 and says in p.stderr and "Traceback" not in p.stderr
