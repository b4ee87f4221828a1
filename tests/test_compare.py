"""`drvmc compare`: the matrix, counterexample replays under each fix, lost targets, new
violations, and the JSON document (validated against docs/schema/drvmc-results.schema.json).

Regenerate the golden output after an intended change with
`UPDATE_GOLDEN=1 python3 -m pytest tests/test_compare.py` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from drvmc.checker.app.cli import app
from drvmc.checker.app.compare import CompareOptions, compare_spec
from drvmc.checker.app.driver import CheckOptions
from drvmc.checker.verdict.records import Change, ReplayStatus
from tests.helpers import mask_times

ROOT = Path(__file__).parent.parent
FIX = Path("tests/fixtures/compare")
SCHEMA = ROOT / "docs/schema/drvmc-results.schema.json"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # spec paths in outputs are shown relative to the working folder


def _golden(actual: str, name: str) -> None:
    path = ROOT / FIX / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8")


def test_compare_text_golden() -> None:
    r = CliRunner().invoke(app, ["compare", str(FIX / "uaf.drv")])
    _golden(mask_times(r.stdout) + f"[exit {r.exit_code}]\n", "uaf.compare.out")


def test_s0_guard_loses_the_target_and_v6_parts_early() -> None:
    cmp = compare_spec(FIX / "s0_resume.drv", CompareOptions())
    fixes = {f.variant: f for f in cmp.fixes}
    assert cmp.report.variants == ["original", "guard", "v6", "stall"]

    guard = fixes["guard"]
    assert [c.prop for c in guard.of(Change.FIXED)] == ["null_deref"]
    lost = guard.of(Change.LOST_TARGET)
    assert [(c.prop, c.reached_by) for c in lost] == [("port_configured", "v6")]
    (rp,) = guard.replays
    # the guard follows the whole schedule; the resume runs but configures nothing
    assert (rp.status, rp.followed, rp.blocked) == (ReplayStatus.AVOIDED, 3, True)

    (rp,) = fixes["v6"].replays
    assert rp.status is ReplayStatus.BLOCKED
    assert (rp.parted_at, rp.actor, rp.label) == (2, "larb_probe", "add")
    assert "larb_probe has already finished" in rp.why
    assert rp.fix_steps == ("larb_probe add",)
    assert fixes["v6"].of(Change.LOST_TARGET) == ()

    stall = fixes["stall"]
    (rp,) = stall.replays
    assert (rp.status, rp.parted_at, rp.why) == (
        ReplayStatus.BLOCKED, 3, "aggregate waits at probe (s0_resume.drv:56)")
    assert [c.prop for c in stall.of(Change.NEW_DEADLOCK)] == ["deadlock"]
    assert [c.prop for c in stall.of(Change.LOST_TARGET)] == ["port_configured"]


def test_replay_reproduced_with_renamed_steps_and_new_violation() -> None:
    cmp = compare_spec(FIX / "uaf.drv", CompareOptions(CheckOptions(
        variants=("renamed", "twice", "skip"))))
    assert cmp.report.variants == ["original", "skip", "twice", "renamed"]
    fixes = {f.variant: f for f in cmp.fixes}
    (rp,) = fixes["renamed"].replays
    assert rp.status is ReplayStatus.REPRODUCED and rp.blocked is False
    assert rp.fix_steps == ("probe setup", "unbind del", "probe go")
    new = fixes["twice"].of(Change.NEW_VIOLATION)
    assert [(c.prop, c.fix and c.fix.depth) for c in new] == [("double_release", 4)]
    lost = fixes["skip"].of(Change.LOST_TARGET)
    assert [(c.prop, c.reached_by) for c in lost] == [("touched", "original")]


def test_unknown_variant_is_a_usage_error() -> None:
    r = CliRunner().invoke(app, ["compare", str(FIX / "uaf.drv"), "--variants", "nope"])
    assert r.exit_code == 3
    assert "no variant 'nope'" in r.stderr


def _schema() -> dict[str, Any]:
    s: dict[str, Any] = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(s)
    return s


def test_json_output_matches_the_schema() -> None:
    schema = _schema()
    r = CliRunner().invoke(app, ["compare", str(FIX), "-f", "json"])
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
    assert [s["spec"] for s in doc["specs"]] == ["baseline_fixture", "s0_resume", "uaf"]
    s0 = doc["specs"][1]["comparison"]
    v6 = next(f for f in s0["fixes"] if f["variant"] == "v6")
    assert v6["replays"][0]["parted_at"] == 2
    chk = CliRunner().invoke(app, ["check", str(FIX / "uaf.drv"), "-a", "-f", "json"])
    jsonschema.validate(json.loads(chk.stdout), schema, cls=jsonschema.Draft202012Validator)


def test_schema_rejects_what_it_should() -> None:
    schema = _schema()
    r = CliRunner().invoke(app, ["compare", str(FIX / "s0_resume.drv"), "-f", "json"])
    doc = json.loads(r.stdout)
    bad = json.loads(json.dumps(doc))
    bad["specs"][0]["results"][0]["status"] = "MAYBE"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema, cls=jsonschema.Draft202012Validator)
    bad = json.loads(json.dumps(doc))
    violated = next(x for x in bad["specs"][0]["results"] if x["status"] == "VIOLATED")
    violated["trace"] = None  # a violation must come with its counterexample
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema, cls=jsonschema.Draft202012Validator)


class _UnknownSolver:
    """A solver that answers every check with `unknown` (a time-out), to test soundness."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def add(self, *a: Any) -> None:
        self.inner.add(*a)

    def check(self) -> Any:
        import z3

        return z3.unknown

    def reason_unknown(self) -> str:
        return "timeout"


def test_solver_unknown_is_never_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    import drvmc.checker.app.compare as C

    real = C.make_solver
    calls: list[int] = []

    def solver(opts: Any) -> Any:
        calls.append(1)
        return _UnknownSolver(real(opts))

    cmp0 = compare_spec(FIX / "uaf.drv", CompareOptions(CheckOptions(variants=("wait",))))
    trace = cmp0.row("original", "use_after_release").result.trace  # type: ignore[union-attr]
    assert trace is not None
    monkeypatch.setattr(C, "make_solver", solver)
    model = cmp0.report.models["wait"]
    rp = C.replay(trace, model, C.Encoding(model), C.BmcOptions(40, 0.001))
    assert calls == [1]
    assert (rp.status, rp.blocked, rp.parted_at) == (ReplayStatus.UNKNOWN, None, None)
    assert rp.summary() == "unknown after 0 steps (solver: timeout)"


def test_unknown_results_are_undecided_not_fixed() -> None:
    from drvmc.checker.app.compare import _change
    from drvmc.checker.ir import nodes as I
    from drvmc.checker.verdict.results import Result, Status

    v = Result("p", I.PropKind.ASSERT, Status.VIOLATED, 3, "bmc")
    u = Result("p", I.PropKind.ASSERT, Status.UNKNOWN, 7, "bmc", reason="timeout")
    s = Result("p", I.PropKind.ASSERT, Status.SAFE, 40, "bmc")
    assert _change("p", v, u).change is Change.UNDECIDED
    assert _change("p", v, s).change is Change.FIXED
    assert _change("p", s, v).change is Change.NEW_VIOLATION


def test_replay_keeps_the_originals_choices() -> None:
    # the original's probe takes the second branch of an `either` (deferred = true); both fixes
    # can do the same, so neither reports `deferred = false (original: true)`
    cmp = compare_spec(Path("tests/fixtures/replay/choice.drv"), CompareOptions())
    fixes = {f.variant: f.replays[0] for f in cmp.fixes}
    assert fixes["waits"].status is ReplayStatus.BLOCKED and fixes["waits"].parted_at == 2
    assert fixes["guard"].status is ReplayStatus.AVOIDED
    for v in ("waits", "guard"):
        assert [d.var for d in fixes[v].differences] == [], fixes[v].summary()


def test_replay_gives_up_pins_the_fix_cannot_keep() -> None:
    # `never` does not defer: the pin on `deferred` is given up, the run goes on, and the
    # difference is the fix's own
    cmp = compare_spec(Path("tests/fixtures/replay/choice.drv"),
                       CompareOptions(CheckOptions(variants=("never",))))
    (rp,) = cmp.fixes[0].replays
    assert rp.status is ReplayStatus.AVOIDED
    assert [str(d) for d in rp.differences] == ["deferred = false (original: true)"]


def test_compare_no_timings_is_byte_identical() -> None:
    runs = [CliRunner().invoke(app, ["compare", str(FIX / "uaf.drv"), "--no-timings"])
            for _ in range(2)]
    assert runs[0].stdout == runs[1].stdout
    assert runs[0].stdout.rstrip().endswith(" not")  # the summary without "(1.2s ...)"
