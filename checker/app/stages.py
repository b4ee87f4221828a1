"""The pipeline's named stages, and what each hands on, as text (`--dump-after STAGE`).

    parse      one file's text → AST                       (printed as normalized spec text)
    load       the AST and every file reached by `use`     (each file, dependencies first)
    elaborate  the program → the frozen IR of one variant  (checker/ir/show.py)
    encode     the IR → the Z3 transition system           (SMT-LIB: init, trans, bad states)

After these the engines answer (explicit search, or the Z3 engines on the encoding) and the
renderers draw; `drvmc check` runs the whole chain, `--dump-after` stops after one stage and
shows its output for each selected variant.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import assert_never

from drvmc.checker.ir import show
from drvmc.checker.ir.elaborate import elaborate
from drvmc.checker.lang import pretty
from drvmc.checker.lang.loader import load_program, read_source
from drvmc.checker.lang.parser import parse_text


class Stage(StrEnum):
    PARSE = "parse"
    LOAD = "load"
    ELABORATE = "elaborate"
    ENCODE = "encode"


def dump(stage: Stage, path: Path, variants: Sequence[str],
         lib_paths: tuple[Path, ...] = ()) -> str:
    """The output of `stage` for the spec at `path` (and, from `elaborate` on, each variant)."""
    match stage:
        case Stage.PARSE:
            return pretty.spec(parse_text(read_source(path), str(path)))
        case Stage.LOAD:
            program = load_program(path, lib_paths)
            parts = [f"# {f.path}\n{pretty.spec(f)}" for f in program.files]
            return "\n".join(parts)
        case Stage.ELABORATE:
            program = load_program(path, lib_paths)
            return "\n".join(show.model(elaborate(program, v)) for v in variants)
        case Stage.ENCODE:
            from drvmc.translators.z3_encoding import Encoding

            program = load_program(path, lib_paths)
            out = []
            for v in variants:
                model = elaborate(program, v)
                enc = Encoding(model)
                out.append(f"; {model.spec} variant {v}")
                out.append(f"; init\n{enc.init.sexpr()}")
                out.append(f"; trans (one step of one actor, `sel` says which)\n"
                           f"{enc.trans.sexpr()}")
                for p in model.properties:
                    out.append(f"; bad states of {p.kind.value} {p.name}\n{enc.bad(p).sexpr()}")
            return "\n".join(out) + "\n"
        case _:
            assert_never(stage)
