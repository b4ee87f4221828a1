"""Results changed: today's results against a saved `--format json` run (check or compare).

Like the kernel's litmus-test scripts, this is for CI: save the JSON of a run you trust, and later
runs list every result whose outcome moved. An outcome is the verdict (with the counterexample
length or the bound: `VIOLATED 3`, `SAFE≤40`, `PROVEN`) and the judgement against the spec's
`expect` lines, so editing an `expect` line shows up as a change too.

Only (spec, variant) pairs present in both runs are compared: checking a subset of specs or
variants today is not a change, while a property appearing or disappearing inside a compared
variant is. Specs are matched by spec name and file name, not by path, so a baseline saved from
another directory still applies. Time fields are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drvmc.checker.errors import UsageError
from drvmc.checker.verdict.records import SpecReport
from drvmc.checker.verdict.results import Status
from drvmc.counterexamples.comparison import status_text

Key = tuple[str, str, str, str]  # spec name, file name, variant, property


@dataclass(frozen=True)
class Outcome:
    verdict: str  # status_text: VIOLATED 3, SAFE≤40, ...
    expected: str
    as_expected: bool

    def __str__(self) -> str:
        judged = "as expected" if self.as_expected else "NOT as expected"
        return f"{self.verdict} (expect {self.expected}: {judged})"


@dataclass(frozen=True)
class ResultChange:
    spec: str
    file: str
    variant: str
    prop: str
    old: Outcome | None  # None: the result is new
    new: Outcome | None  # None: the result is gone

    def __str__(self) -> str:
        o, n = self.old, self.new
        if (o is not None and n is not None and o.verdict != n.verdict
                and (o.expected, o.as_expected) == (n.expected, n.as_expected)):
            return f"{self.spec} [{self.variant}] {self.prop}: {o.verdict} → {n.verdict}"
        old = "(none)" if o is None else str(o)
        new = "(none)" if n is None else str(n)
        return f"{self.spec} [{self.variant}] {self.prop}: {old} → {new}"


def _key(spec: str, file: str, variant: str, prop: str) -> Key:
    return (spec, Path(file).name, variant, prop)


def outcomes_from_reports(reports: Iterable[SpecReport]) -> dict[Key, Outcome]:
    out: dict[Key, Outcome] = {}
    for rep in reports:
        for r in rep.rows:
            out[_key(rep.spec, rep.path, r.variant, r.result.prop)] = Outcome(
                status_text(r.result.status, r.result.depth), r.expected, r.ok)
    return out


def outcomes_from_json(doc: Any, where: str) -> dict[Key, Outcome]:
    """The outcomes of a saved `drvmc check|compare --format json` document."""
    out: dict[Key, Outcome] = {}
    try:
        for spec in doc["specs"]:
            for r in spec["results"]:
                status = Status(r["status"])
                if status is Status.PROVEN and r.get("engine") == "static":
                    status = Status.NO_CHECK  # how drvmc < 0.2 wrote "nothing to check"
                depth = int(r["depth"])
                out[_key(str(spec["spec"]), str(spec["file"]), str(r["variant"]),
                         str(r["property"]))] = Outcome(status_text(status, depth),
                                                        _expected(str(r["expected"])),
                                                        bool(r["as_expected"]))
    except (KeyError, TypeError, ValueError) as e:
        raise UsageError(f"{where}: not the JSON of `drvmc check --format json` "
                         f"({type(e).__name__}: {e})") from None
    return out


def _expected(text: str) -> str:
    """An `expected` of an older document in today's verdict words (`safe` → `SAFE`, `reached`
    and `REACHABLE` → `REACHED`), so a saved baseline does not show every row as changed."""
    word, _, rest = text.partition(" ")
    word = {"safe": "SAFE", "reached": "REACHED", "REACHABLE": "REACHED"}.get(word, word)
    return f"{word} {rest}" if rest else word


def load_baseline(path: Path) -> dict[Key, Outcome]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"{path}: cannot read baseline ({e.strerror})") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: baseline is not UTF-8 text") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"{path}: baseline is not JSON ({e.msg} at line {e.lineno})") from None
    return outcomes_from_json(doc, str(path))


def changes(old: dict[Key, Outcome], new: dict[Key, Outcome]) -> list[ResultChange]:
    """Every compared result whose outcome differs, in today's order, then vanished ones."""
    compared = {k[:3] for k in old} & {k[:3] for k in new}
    out: list[ResultChange] = []
    for k, n in new.items():
        if k[:3] not in compared:
            continue
        o = old.get(k)
        if o != n:
            out.append(ResultChange(k[0], k[1], k[2], k[3], o, n))
    for k, o in old.items():
        if k[:3] in compared and k not in new:
            out.append(ResultChange(k[0], k[1], k[2], k[3], o, None))
    return out


def format_changes(found: list[ResultChange], baseline: Path) -> str:
    if not found:
        return f"No result changed (baseline {baseline})"
    lines = [f"Result changed ({len(found)}, against baseline {baseline}):"]
    lines.extend(f"  {c}" for c in found)
    return "\n".join(lines)
