"""`drvmc extract`: driver C source and a proposed patch → a spec that is checked unedited.

Each fixture in tests/fixtures/extract/ is a small driver with one lifecycle bug (NAME.c) and the
patch that fixes it (NAME.patch). Its extracted spec must be VIOLATED on the property the bug
breaks in the original, and every property of the patched variant must hold (PROVEN or SAFE),
with every `reachable` target reached, so no proof is vacuous. Two specs are compared whole
against golden files; malformed C, bad patches and bad mapping files give clean errors or a
spec that still loads, never a traceback.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from drvmc.checker.app.cli import app
from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.errors import DrvmcError, UsageError
from drvmc.checker.ir.elaborate import elaborate, variant_names
from drvmc.checker.lang.loader import load_program
from drvmc.extract.patching import PatchError, apply_patch, subject
from drvmc.extract.pipeline import extract

FIX = Path(__file__).resolve().parent / "fixtures" / "extract"

# fixture → the property its bug violates in the original
BUGS = {
    "component_missing_del": "use_after_release",
    "devm_action_order": "use_after_release",
    "devm_double_free": "double_release",
    "devm_irq_order": "use_after_release",
    "goto_unwind_leak": "qux_priv_cmd_freed",
    "irq_requeues_work": "use_after_release",
    "mutex_in_hardirq": "sleep_in_atomic",
    "pci_devm_irq_remove": "use_after_release",
    "pointer_cleared_early": "null_deref",
    "remove_lock_cancel_deadlock": "deadlock",
    "rpm_put_async": "use_after_release",
    "spi_irq_error_path": "use_after_release",
    "sysfs_attr_order": "use_after_release",
    "threaded_irq_remove": "use_after_release",
    "timer_outlives_remove": "use_after_release",
    "work_outlives_remove": "use_after_release",
}


def test_every_fixture_has_a_patch_and_an_expected_property() -> None:
    sources = sorted(p.stem for p in FIX.glob("*.c"))
    assert sources == sorted(BUGS)
    assert all((FIX / f"{n}.patch").is_file() for n in sources)
    assert len(sources) >= 12


@pytest.mark.parametrize("name", sorted(BUGS))
def test_buggy_source_violated_and_patch_proven(name: str, tmp_path: Path) -> None:
    result = extract([FIX / f"{name}.c"], [FIX / f"{name}.patch"])
    spec = tmp_path / f"{name}.drv"
    spec.write_text(result.spec, encoding="utf-8")
    report = check_spec(spec, CheckOptions(engine="auto", all_variants=True))
    rows = {(r.variant, r.result.prop): r.result.verdict_text() for r in report.rows}
    assert rows[("original", BUGS[name])].startswith("VIOLATED"), rows
    fixed = {p: v for (var, p), v in rows.items() if var == "fix_1"}
    assert fixed, "no fix_1 variant"
    wrong = {p: v for p, v in fixed.items()
             if not v.startswith(("PROVEN", "SAFE", "REACHED", "NO CHECK"))}
    assert not wrong, wrong
    # the fix's reachable targets: the driver runs to its end, each callback runs
    assert any(p.endswith("_ends") for p in fixed)


@pytest.mark.parametrize("name", ["devm_irq_order", "goto_unwind_leak"])
def test_golden_spec(name: str) -> None:
    """The whole spec, as `drvmc extract NAME.c --patch NAME.patch` writes it."""
    result = extract([FIX / f"{name}.c"], [FIX / f"{name}.patch"])
    assert result.spec == (FIX / "golden" / f"{name}.drv").read_text(encoding="utf-8")


def test_every_step_names_its_source_line() -> None:
    spec = extract([FIX / "irq_requeues_work.c"]).spec
    labels = [ln.strip() for ln in spec.splitlines() if re.match(r"\s+l\d+(_\d+)?:", ln)]
    assert labels
    for ln in labels:
        assert re.fullmatch(r"l(\d+)(_\d+)?:  # irq_requeues_work\.c:\1: .+", ln), ln


def test_unmodelled_calls_are_kept_and_counted() -> None:
    spec = extract([FIX / "goto_unwind_leak.c"]).spec
    assert "# not modelled: qux_hw_init() (goto_unwind_leak.c:33)" in spec
    assert "# not modelled: platform_get_irq() (goto_unwind_leak.c:28)" in spec
    header = " ".join(ln.lstrip("# ") for ln in spec.splitlines()[:6])
    assert "2 calls not modelled (platform_get_irq(), qux_hw_init())" in header
    # its result decides the error path: either way
    assert "either { ret = 0 } or { ret = -5 }" in spec


def test_goto_error_path_is_the_unwinding_ladder() -> None:
    spec = extract([FIX / "goto_unwind_leak.c"]).spec
    probe = spec[spec.index("proc driver_probe"):spec.index("proc driver_remove")]
    # `goto err_out` skips the kfree; `goto err_free` reaches it
    out_branch = probe[probe.index("goto err_out"):probe.index("l37:")]
    assert "resource_release" not in out_branch
    free_branch = probe[probe.index("goto err_free"):]
    assert "resource_release(ptr_qux_priv_cmd)" in free_branch.split("return")[0]


def test_roles_found_from_the_driver_structures() -> None:
    spec = extract([FIX / "rpm_put_async.c"]).spec
    # the driver's dev_pm_ops → the library's table, which its default dispatchers call through
    assert ("[pdev: DevPmOps(runtime_suspend = codec_runtime_suspend, "
            "runtime_resume = codec_runtime_resume)]") in spec
    assert "use lib/runtime_pm" in spec
    comp = extract([FIX / "component_missing_del.c"]).spec
    assert "ok = panel_bind(c, m)" in comp and "panel_unbind(c, m)" in comp
    sysfs = extract([FIX / "sysfs_attr_order.c"]).spec
    assert "actor user_level" in sysfs and "level_show()" in sysfs
    timer = extract([FIX / "timer_outlives_remove.c"]).spec
    assert "timer_setup(w_poll, baz_poll)" in timer and "proc baz_poll(w: Work)" in timer


def test_patch_with_stale_context_names_the_hunk(tmp_path: Path) -> None:
    text = (FIX / "devm_double_free.patch").read_text(encoding="utf-8")
    stale = tmp_path / "stale.patch"
    stale.write_text(text.replace("kfree(priv->lines);", "kfree(priv->other);"), "utf-8")
    with pytest.raises(PatchError) as ei:
        extract([FIX / "devm_double_free.c"], [stale])
    assert "hunk #1 (@@ -26,7 +26,6 @@)" in str(ei.value)
    assert "does not apply" in str(ei.value)


def test_patch_for_another_file_and_non_patch_are_errors(tmp_path: Path) -> None:
    with pytest.raises(PatchError, match="not one of the source files"):
        extract([FIX / "devm_double_free.c"], [FIX / "goto_unwind_leak.patch"])
    junk = tmp_path / "junk.patch"
    junk.write_text("this is not a diff\n", "utf-8")
    with pytest.raises(PatchError, match="no file changes"):
        extract([FIX / "devm_double_free.c"], [junk])


def test_patch_applies_with_an_offset() -> None:
    src = {"x.c": "a\nb\nc\nd\ne\n"}
    patch = "--- a/x.c\n+++ b/x.c\n@@ -1,2 +1,2 @@\n c\n-d\n+D\n"
    assert apply_patch(src, patch, "p")["x.c"] == "a\nb\nc\nD\ne\n"
    assert src["x.c"] == "a\nb\nc\nd\ne\n"  # the input is not changed


def test_subject_line() -> None:
    assert subject("Subject: [PATCH v2 1/3] foo: fix\n", "p") == "foo: fix"
    assert subject("--- a/x\n+++ b/x\n", "fallback") == "fallback"


def test_user_mapping_extends_the_table(tmp_path: Path) -> None:
    src = tmp_path / "m.c"
    src.write_text("struct m_priv { int x; };\n"
                   "static int m_probe(struct platform_device *pdev)\n{\n"
                   "\tstruct m_priv *p = my_alloc(pdev, sizeof(*p));\n\treturn 0;\n}\n"
                   "static struct platform_driver m_driver = { .probe = m_probe };\n", "utf-8")
    assert "# not modelled: my_alloc()" in extract([src]).spec
    table = tmp_path / "mine.toml"
    table.write_text('[my_alloc]\nkind = "alloc"\ndevm = true\n', "utf-8")
    spec = extract([src], mapping=table).spec
    assert "devres_add(dev, m_priv)" in spec
    table.write_text('[my_alloc]\nkind = "teleport"\n', "utf-8")
    with pytest.raises(UsageError, match="my_alloc"):
        extract([src], mapping=table)


def _loads(spec_text: str, tmp_path: Path) -> None:
    path = tmp_path / "out.drv"
    path.write_text(spec_text, encoding="utf-8")
    program = load_program(path)
    for v in variant_names(program):
        elaborate(program, v)


@pytest.mark.parametrize("text", [
    "",
    "\x00\xff\xfe garbage \x01",
    "/* unterminated comment",
    "static int foo_probe(struct platform_device *pdev) { if ( { goto ; } return",
    "int f(void) { return " + "(" * 5000 + "1" + ")" * 5000 + "; }",
    "int g(void) { " + "if (x) { " * 300 + "}" * 300 + " }",
    "static struct platform_driver d = { .probe = nowhere, .remove = nothing };",
    "int p(void) { err: goto err; }\nstatic struct platform_driver d = { .probe = p };",
])
def test_malformed_c_gives_a_loadable_spec(text: str, tmp_path: Path) -> None:
    src = tmp_path / "bad.c"
    src.write_bytes(text.encode("utf-8", "surrogateescape"))
    _loads(extract([src]).spec, tmp_path)


def test_unreadable_part_is_reported_and_the_rest_extracted(tmp_path: Path) -> None:
    text = (FIX / "devm_irq_order.c").read_text(encoding="utf-8")
    broken = text.replace("static int foo_probe", "%%% )( garbage ;;\nstatic int foo_probe")
    src = tmp_path / "broken.c"
    src.write_text(broken, "utf-8")
    spec = extract([src]).spec
    assert "#   unreadable C skipped at broken.c:20: %%% )(" in spec
    assert "ret = devm_request_irq(dev, irq_foo_irq, foo_irq, irq_foo_irq_dr)" in spec
    _loads(spec, tmp_path)


_SOURCES = sorted(FIX.glob("*.c"))
_TOKENS = ["{", "}", "(", ")", ";", "goto out;", "if (", "return", "->", "*", "&", "else",
           "#define X", "struct foo_priv *", "kfree(", "out:", "while (1)", "\"", "'", "/*",
           "devm_request_irq(", "NULL", ","]


def _mutate_and_extract(seed: int) -> None:
    """A fixture with random deletions and stray tokens: a clean error or a spec that loads."""
    import tempfile

    rnd = random.Random(seed)
    text = rnd.choice(_SOURCES).read_text(encoding="utf-8")
    for _ in range(rnd.randint(1, 6)):
        i = rnd.randrange(len(text) + 1)
        if rnd.random() < 0.5:
            text = text[:i] + text[i + rnd.randint(1, 40):]
        else:
            text = text[:i] + rnd.choice(_TOKENS) + text[i:]
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "m.c"
        src.write_text(text, "utf-8")
        try:
            spec = extract([src]).spec
        except DrvmcError:
            return
        _loads(spec, Path(d))


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_mutated_drivers_never_crash(seed: int) -> None:
    _mutate_and_extract(seed)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_mutated_drivers_never_crash_long(seed: int) -> None:
    _mutate_and_extract(seed)


def test_cli_writes_the_spec_and_reports_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "spec.drv"
    r = runner.invoke(app, ["extract", str(FIX / "devm_double_free.c"), "--patch",
                            str(FIX / "devm_double_free.patch"), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert out.read_text(encoding="utf-8") == extract(
        [FIX / "devm_double_free.c"], [FIX / "devm_double_free.patch"]).spec
    r = runner.invoke(app, ["extract", str(tmp_path / "missing.c")])
    assert r.exit_code == 3
    assert "cannot read C file" in r.output
    assert "Traceback" not in r.output
    r = runner.invoke(app, ["extract", str(FIX / "devm_double_free.c"), "-o",
                            str(FIX / "devm_double_free.c")])
    assert r.exit_code == 3
    assert "refusing to overwrite an input file" in r.output
