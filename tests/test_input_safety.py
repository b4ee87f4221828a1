"""Specs are data, never code: nothing evaluates them as Python, `use` reads only through the
documented search path, and output paths are checked before anything is written."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from drvmc.checker.app.driver import CheckOptions, check_spec
from drvmc.checker.errors import SpecError, UsageError
from drvmc.checker.fileio import check_output_path, write_text_atomic
from drvmc.checker.lang.loader import load_program

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("checker", "translators", "counterexamples")

# Calls that could turn text into code or objects. None of them belongs in drvmc.
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "execfile", "input"}
FORBIDDEN_MODULES = {"pickle", "marshal", "shelve", "importlib", "runpy", "code", "codeop",
                     "dill", "yaml"}
ACTOR = "actor a { s: skip }\n"


def _sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py"))


def test_no_code_evaluation_in_the_packages() -> None:
    found: list[str] = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
                    node.func.id in FORBIDDEN_CALLS):
                found.append(f"{path}:{node.lineno}: {node.func.id}()")
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [
                    f"{node.module}.{a.name}" for a in node.names]
                for n in names:
                    if n.split(".")[0] in FORBIDDEN_MODULES:
                        # importlib.resources/metadata read package data, never spec text
                        if n.startswith(("importlib.resources", "importlib.metadata")):
                            continue
                        found.append(f"{path}:{node.lineno}: import {n}")
            if isinstance(node, ast.keyword) and node.arg == "shell" and not (
                    isinstance(node.value, ast.Constant) and node.value.value is False):
                found.append(f"{path}:{node.lineno}: shell=")
    assert not found, "\n".join(found)


def test_python_in_a_spec_is_a_syntax_error(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    p = tmp_path / "evil.drv"
    p.write_text(f'spec x "{{__import__("os").system("touch {marker}")}}"\n'
                 f'const N = __import__("os").system("touch {marker}")\n' + ACTOR,
                 encoding="utf-8")
    with pytest.raises(SpecError) as ei:
        check_spec(p, CheckOptions(depth=1))
    assert [d.code for d in ei.value.diagnostics] == ["E010"]
    assert not marker.exists()


# ---------------------------------------------------------------------- use


def _use(tmp: Path, line: str, lib_paths: tuple[Path, ...] = ()) -> list[str]:
    main = tmp / "main.drv"
    main.write_text(line + "\n" + ACTOR, encoding="utf-8")
    try:
        prog = load_program(main, lib_paths)
    except SpecError as e:
        return [d.code for d in e.diagnostics]
    return sorted(Path(f.path).name for f in prog.files)


@pytest.mark.parametrize("line", ["use ../secret", 'use "../secret"', 'use "/etc/passwd"',
                                  'use "lib/../../secret"', 'use "a\\u0000b"'])
def test_use_refuses_paths_out_of_the_search_path(tmp_path: Path, line: str) -> None:
    (tmp_path / "secret.drv").write_text("const S = 1\n", encoding="utf-8")
    sub = tmp_path / "sub"
    sub.mkdir()
    codes = _use(sub, line)
    # refused by the grammar (a bare path is names and slashes), by the path check, or not found
    assert codes in (["E010"], ["E021"], ["E020"]), codes


def test_use_search_order(tmp_path: Path) -> None:
    # the spec's own folder first, then --lib-path, then the bundled specs/ and specs/lib/
    lib = tmp_path / "extra"
    lib.mkdir()
    (tmp_path / "here.drv").write_text("const H = 1\n", encoding="utf-8")
    (lib / "there.drv").write_text("const T = 1\n", encoding="utf-8")
    assert _use(tmp_path, "use here") == ["here.drv", "main.drv"]
    assert _use(tmp_path, "use there") == ["E020"]
    assert _use(tmp_path, "use there", (lib,)) == ["main.drv", "there.drv"]
    bundled = sorted(p.stem for p in (REPO / "specs" / "lib").glob("*.drv"))
    if bundled:  # the driver-core library resolves from anywhere, with or without lib/
        name = bundled[0]
        assert f"{name}.drv" in _use(tmp_path, f"use lib/{name}")
        assert f"{name}.drv" in _use(tmp_path, f"use {name}")


def test_use_symlink_out_of_the_folder_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "target.drv").write_text("const X = 1\n", encoding="utf-8")
    spec_dir = tmp_path / "specdir"
    spec_dir.mkdir()
    os.symlink(outside / "target.drv", spec_dir / "link.drv")
    # refused, and said so (E021 naming where the link leads), not "cannot find" (E020)
    assert _use(spec_dir, "use link") == ["E021"]
    main = spec_dir / "main.drv"
    with pytest.raises(SpecError) as ei:
        load_program(main)
    (d,) = ei.value.diagnostics
    assert str((outside / "target.drv").resolve()) in d.message and "outside" in d.message


def test_use_cycles_and_repeats_read_each_file_once(tmp_path: Path) -> None:
    (tmp_path / "a.drv").write_text("use b\nconst A = 1\n", encoding="utf-8")
    (tmp_path / "b.drv").write_text("use a\nuse main\nconst B = 1\n", encoding="utf-8")
    assert _use(tmp_path, "use a\nuse b\nuse a") == ["a.drv", "b.drv", "main.drv"]


# ---------------------------------------------------------------------- outputs


def test_output_paths_are_checked(tmp_path: Path) -> None:
    spec = tmp_path / "x.drv"
    spec.write_text(ACTOR, encoding="utf-8")
    with pytest.raises(UsageError, match="refusing to overwrite a spec file"):
        write_text_atomic(spec, "oops")
    assert spec.read_text(encoding="utf-8") == ACTOR
    with pytest.raises(UsageError, match="is not a regular file"):
        check_output_path(tmp_path)
    with pytest.raises(UsageError, match="no such directory"):
        check_output_path(tmp_path / "missing" / "out.json")
    with pytest.raises(UsageError, match="is not a regular file"):
        check_output_path(Path("/dev/null"))


def test_cli_refuses_to_write_over_a_spec(tmp_path: Path) -> None:
    spec = tmp_path / "x.drv"
    spec.write_text(ACTOR, encoding="utf-8")
    before = spec.read_bytes()
    p = subprocess.run([sys.executable, "-m", "drvmc.checker", "check", str(spec), "-k", "1",
                        "--save-baseline", str(spec)], cwd=REPO, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 3, p.stderr
    assert "refusing to overwrite a spec file" in p.stderr
    assert spec.read_bytes() == before


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/null"])
def test_special_files_are_not_read_as_specs(target: str) -> None:
    p = subprocess.run([sys.executable, "-m", "drvmc.checker", "check", target, "-k", "1"],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert p.returncode == 3
    assert "Traceback" not in p.stderr and p.stderr.startswith("drvmc: error: ")
