"""The mapping table: which library procedure models which C function (mapping.toml).

The table is data so that supporting another kernel function is an edit of a TOML file, not of
the extractor (docs/EXTRACT.md, "Extending the mapping"). A user's own table (`--mapping`) is
read the same way and its entries win.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from drvmc.checker.errors import UsageError


class Kind(StrEnum):
    call = "call"
    alloc = "alloc"
    free = "free"
    use = "use"
    ignore = "ignore"


class Result(StrEnum):
    none = "none"  # nothing to read: a C caller that tests it sees 0
    int = "int"  # -errno..1
    bool = "bool"
    bool_ok = "bool_ok"  # true = success (0 in C)


class Registers(StrEnum):
    nothing = ""
    irq = "irq"
    work = "work"
    timer = "timer"
    action = "action"
    component = "component"


@dataclass(frozen=True)
class Entry:
    c_name: str
    kind: Kind
    proc: str = ""
    args: tuple[str, ...] = ()
    result: Result = Result.none
    devm: bool = False
    arg: int = 0  # kind free: the released argument
    registers: Registers = Registers.nothing
    irq_arg: int = -1
    handler_arg: int = -1
    thread_arg: int = -1
    work_arg: int = -1
    fn_arg: int = -1
    data_arg: int = -1
    ops_arg: int = -1


_INT_KEYS = ("arg", "irq_arg", "handler_arg", "thread_arg", "work_arg", "fn_arg", "data_arg",
             "ops_arg")


def _entry(name: str, raw: object, where: str) -> Entry:
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: [{name}] must be a table")
    try:
        kind = Kind(raw.get("kind", ""))
        result = Result(raw.get("result", "none"))
        registers = Registers(raw.get("registers", ""))
    except ValueError as e:
        raise UsageError(f"{where}: [{name}]: {e}") from None
    args = raw.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise UsageError(f"{where}: [{name}]: args must be a list of strings")
    ints: dict[str, int] = {}
    for k in _INT_KEYS:
        v = raw.get(k, 0 if k == "arg" else -1)
        if not isinstance(v, int):
            raise UsageError(f"{where}: [{name}]: {k} must be an integer")
        ints[k] = v
    proc = raw.get("proc", "")
    if not isinstance(proc, str) or (kind is Kind.call and not proc):
        raise UsageError(f"{where}: [{name}]: a call needs `proc`, the library procedure")
    known = {"kind", "proc", "args", "result", "devm", "registers", *_INT_KEYS}
    extra = sorted(set(raw) - known)
    if extra:
        raise UsageError(f"{where}: [{name}]: unknown key {extra[0]!r}")
    return Entry(name, kind, proc, tuple(args), result, bool(raw.get("devm", False)),
                 ints["arg"], registers, ints["irq_arg"], ints["handler_arg"],
                 ints["thread_arg"], ints["work_arg"], ints["fn_arg"], ints["data_arg"],
                 ints["ops_arg"])


def _read(text: str, where: str) -> dict[str, Entry]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{where}: not a valid TOML file: {e}") from None
    return {name: _entry(name, raw, where) for name, raw in data.items()}


def load_mapping(extra: Path | None = None) -> dict[str, Entry]:
    """The bundled table, updated with `extra`'s entries."""
    text = (Path(__file__).resolve().parent / "mapping.toml").read_text(encoding="utf-8")
    table = _read(text, "mapping.toml")
    if extra is not None:
        try:
            own = extra.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(f"cannot read the mapping file {extra}: {e}") from None
        table.update(_read(own, str(extra)))
    return table
