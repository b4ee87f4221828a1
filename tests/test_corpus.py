"""The corpus of real lifecycle bugs (specs/corpus/): every variant gets its expected verdicts,
and each scenario is written with the stock library only — it defines no procedure but the
driver's own callbacks, so none of it models the kernel.

A procedure of a corpus file is a driver callback when the library calls it without defining
it (driver_probe, driver_remove, device_release, rpm_suspend_callback, the component ops, ...)
or when the file passes it by name as a callback value (an IRQ handler, a devm action, a work
function). Anything else — a helper that re-implements a kernel function, or driver code
factored into a procedure — belongs in specs/lib/ or inline in the callback.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.lang import ast as A
from drvmc.checker.lang.loader import load_program

ROOT = Path(__file__).resolve().parent.parent
CORPUS = sorted((ROOT / "specs" / "corpus").glob("*.drv"))
LIB = sorted((ROOT / "specs" / "lib").glob("*.drv"))


def _procs(path: Path) -> set[str]:
    return {d.name for d in load_program(path).main.decls if isinstance(d, A.ProcDecl)}


def _library_callbacks() -> set[str]:
    """Procedures the library calls but leaves to the scenario: those it does not define, and
    those it declares `default proc` (a default a driver replaces, such as `driver_remove`)."""
    defined: set[str] = set()
    defaults: set[str] = set()
    text = ""
    for p in LIB:
        src = p.read_text(encoding="utf-8")
        text += "\n".join(ln.split("#", 1)[0] for ln in src.splitlines()) + "\n"
        defined |= set(re.findall(r"^\s*(?:proc|func)\s+(\w+)\s*\(", src, re.M))
        defaults |= set(re.findall(r"^\s*default\s+proc\s+(\w+)\s*\(", src, re.M))
    called = set(re.findall(r"\b([a-z_]\w*)\s*\(", text))
    keywords = {"if", "while", "for", "proc", "func", "spawn", "len", "min", "max", "assert",
                "await", "return", "forall", "exists", "Devres", "Refcount", "Slot"}
    return (called - defined - keywords) | defaults


def _passed_by_name(src: str, name: str) -> bool:
    body = "\n".join(ln.split("#", 1)[0] for ln in src.splitlines())
    # an argument (`f(x, name)`) or a record field (`FileOps(open = name, ...)`)
    return re.search(rf"(?:[,(]|\w\s*=)\s*{name}\s*[,)]", body) is not None


def test_the_library_leaves_the_driver_callbacks_to_the_scenario() -> None:
    got = _library_callbacks()
    assert {"driver_probe", "driver_remove", "device_release", "rpm_suspend_callback",
            "master_ops_bind"} <= got
    assert "devres_release_all" not in got and "resource_use" not in got
    assert {"rpm_resume_callback", "iommu_ops_device_group"} <= got  # defaults a driver replaces


@pytest.mark.parametrize("spec", CORPUS, ids=[p.stem for p in CORPUS])
def test_corpus_scenario_defines_only_driver_callbacks(spec: Path) -> None:
    allowed = _library_callbacks()
    src = spec.read_text(encoding="utf-8")
    extra = sorted(n for n in _procs(spec) if n not in allowed and not _passed_by_name(src, n))
    assert not extra, f"{spec.name} defines procedures that are not driver callbacks: {extra}"


@pytest.mark.parametrize("spec", CORPUS, ids=[p.stem for p in CORPUS])
def test_corpus_scenario_gets_its_expected_verdicts(spec: Path) -> None:
    rep = check_spec(spec, CheckOptions(engine="auto", all_variants=True))
    bad = [f"{r.variant}/{r.result.prop}: {r.result.verdict_text()} (expected {r.expected})"
           for r in rep.rows if not r.ok]
    assert not bad, "\n".join(bad)
    assert len(rep.variants) >= 2, "a bug and its fix"


def test_corpus_headers_cite_the_fix() -> None:
    for spec in CORPUS:
        head = spec.read_text(encoding="utf-8").split("\nuse ", 1)[0]
        assert re.search(r"\b[0-9a-f]{12,40}\b", head), f"{spec.name}: no commit id in the header"
