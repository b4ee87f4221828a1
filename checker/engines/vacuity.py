"""Vacuity: a proof means little when the runs it covers never do the real work.

Rule (docs/ENGINES.md): when a variant's `reachable` target is UNREACHABLE (no run reaches it)
or NOT REACHED≤k (no run of at most k steps does), every PROVEN or SAFE≤k result of that
variant's other properties is flagged `vacuous`, naming the targets. A flagged result counts as
a mismatch (exit code 1) unless the spec expects every one of those targets UNREACHABLE, in
which case the flag is still shown but the author has declared the consequence.
"""

from __future__ import annotations

from dataclasses import replace

from drvmc.checker.ir import nodes as I
from drvmc.checker.verdict.results import Result, Status, expectation_for

PROOFS = (Status.PROVEN, Status.SAFE)


def unreached_targets(results: list[Result]) -> list[Result]:
    return [r for r in results if r.kind is I.PropKind.REACHABLE
            and r.status in (Status.UNREACHABLE, Status.NOT_REACHED)]


def declared(model: I.Model, targets: list[Result]) -> bool:
    """Whether the spec expects every one of these targets UNREACHABLE."""
    for t in targets:
        e = expectation_for(model, t.prop)
        if e is None or e.verdict is not I.Verdict.UNREACHABLE:
            return False
    return True


def flag_vacuous(model: I.Model, results: list[Result]) -> tuple[list[Result], bool]:
    """Results with proofs flagged, and whether the flags are declared by `expect` lines."""
    targets = unreached_targets(results)
    if not targets:
        return results, True
    parts = []
    never = [t.prop for t in targets if t.status is Status.UNREACHABLE]
    if never:
        parts.append(f"target{'s' if len(never) > 1 else ''} {', '.join(never)} unreachable")
    for t in targets:
        if t.status is Status.NOT_REACHED:
            parts.append(f"target {t.prop} not reached≤{t.depth}")
    ok = declared(model, targets)
    text = "; ".join(parts) + (", as expected" if ok else "")
    out = [replace(r, vacuous=text) if r.kind is not I.PropKind.REACHABLE and r.status in PROOFS
           else r for r in results]
    return out, ok


def flag_assumptions(model: I.Model, results: list[Result]) -> list[Result]:
    """Proofs and bounds marked with the declared simplifications the model relies on. A
    simplification keeps a subset of the kernel's runs (docs/LIBRARY.md), so a violation or a
    reached target found under it is real; only the absence of one depends on it."""
    if not model.assumptions:
        return results
    names = tuple(a.name for a in model.assumptions)
    return [replace(r, assumes=names) if r.status in PROOFS or r.status in (
        Status.NOT_REACHED, Status.UNREACHABLE) else r for r in results]
