"""A comparison of patch variants as text (the matrix and, per fix, what it changes) and as the
`comparison` member of `drvmc compare --format json`."""

from __future__ import annotations

from typing import Any

from drvmc.checker.verdict.records import Change, Comparison, FixComparison, PropChange, Row
from drvmc.checker.verdict.results import Result, Status, short_text


def status_text(status: Status, depth: int) -> str:
    """A short verdict: VIOLATED 3, SAFE≤40, PROVEN, REACHED 2, NOT REACHED≤40, UNKNOWN, ...
    (`results.short_text`, the one spelling of the verdict words)."""
    return short_text(status, depth)


def cell_text(result: Result | None) -> str:
    """A matrix cell (see status_text); a dash where the variant has no such property."""
    return "—" if result is None else status_text(result.status, result.depth)


def mismatch(row: Row | None) -> bool:
    """A result its `expect` lines do not allow; an UNKNOWN is undecided, not a mismatch."""
    return row is not None and not row.ok and row.result.status is not Status.UNKNOWN


def matrix(cmp: Comparison) -> list[list[str]]:
    """Header row, then one row per property; '*' marks a result its `expect` does not allow."""
    rows = [["property", *cmp.report.variants]]
    for p in cmp.properties:
        line = [p]
        for v in cmp.report.variants:
            row = cmp.row(v, p)
            text = cell_text(row.result if row else None)
            line.append(text + (" *" if mismatch(row) else ""))
        rows.append(line)
    return rows


def unknowns(cmp: Comparison) -> list[str]:
    """`variant / property: UNKNOWN (reason)` for each result the engines could not decide."""
    return [f"{r.variant} / {r.result.prop}: {r.result.verdict_text()}" for r in cmp.report.rows
            if r.result.status is Status.UNKNOWN]


def table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [(indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True))).rstrip()
            for r in rows]


def format_comparison(cmp: Comparison) -> str:
    rep = cmp.report
    title = f"{rep.path}: {rep.spec}" + (f" — {rep.description}" if rep.description else "")
    lines = [title, *table(matrix(cmp))]
    if any(mismatch(r) for r in rep.rows):
        lines.append("  (* not what the spec's expect lines say)")
    lines.extend(f"  {u}" for u in unknowns(cmp))
    for fx in cmp.fixes:
        lines.append("")
        lines.append(f"fix {fx.variant}" + (f" — {fx.description}" if fx.description else ""))
        lines.extend(fix_lines(fx))
    return "\n".join(lines)


def _reached_by(c: PropChange) -> str:
    """Where a lost target is reached: the original's result, or another variant's."""
    if c.original is not None and c.original.status is Status.REACHABLE:
        return f"{cell_text(c.original)} in the original"
    return f"reached by {c.reached_by}"


def fix_lines(fx: FixComparison) -> list[str]:
    lines = []
    for rp in fx.replays:
        lines.append(f"  {rp.prop} ({rp.length} steps): {rp.summary()}")
    fixed = [c.prop for c in fx.of(Change.FIXED)]
    still = [f"{c.prop} ({cell_text(c.fix)})" for c in fx.of(Change.STILL_VIOLATED)]
    if fixed:
        lines.append(f"  fixes: {', '.join(fixed)}")
    if still:
        lines.append(f"  still violated: {', '.join(still)}")
    lost = [f"target {c.prop} ({_reached_by(c)}, {cell_text(c.fix)} here)"
            for c in fx.of(Change.LOST_TARGET)]
    lost += [f"{c.prop} ({cell_text(c.original)} → {cell_text(c.fix)})"
             for c in fx.of(Change.NEW_DEADLOCK)]
    lines.append("  takes away: " + (", ".join(lost) if lost else "nothing the spec checks"))
    new = [f"{c.prop} ({cell_text(c.original)} → {cell_text(c.fix)})"
           for c in fx.of(Change.NEW_VIOLATION)]
    lines.append("  new violations: " + (", ".join(new) if new else "none"))
    undecided = [c.prop for c in fx.of(Change.UNDECIDED)]
    if undecided:
        lines.append(f"  undecided (solver unknown): {', '.join(undecided)}")
    return lines


# ---------------------------------------------------------------------- JSON


def _result_ref(r: Result | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {"status": r.status.value, "depth": r.depth, "text": cell_text(r)}


def comparison_json(cmp: Comparison) -> dict[str, Any]:
    """The `comparison` member of a spec in `drvmc compare -f json` (docs/JSON.md)."""
    return {
        "original": cmp.original,
        "properties": list(cmp.properties),
        "matrix": [
            {"property": p,
             "cells": {v: _result_ref(cmp.report.result(v, p)) for v in cmp.report.variants}}
            for p in cmp.properties
        ],
        "fixes": [
            {
                "variant": fx.variant,
                "description": fx.description,
                "replays": [
                    {
                        "property": rp.prop,
                        "length": rp.length,
                        "status": rp.status.value,
                        "blocked": rp.blocked,
                        "followed": rp.followed,
                        "parted_at": rp.parted_at,
                        "actor": rp.actor or None,
                        "label": rp.label or None,
                        "fix_label": rp.fix_label or None,
                        "why": rp.why,
                        "differences": [{"var": d.var, "original": d.original, "fix": d.fix}
                                        for d in rp.differences],
                        "fix_steps": list(rp.fix_steps),
                        "summary": rp.summary(),
                    }
                    for rp in fx.replays
                ],
                "changes": [
                    {"property": c.prop, "change": c.change.value,
                     "original": _result_ref(c.original), "fix": _result_ref(c.fix),
                     "reached_by": c.reached_by or None}
                    for c in fx.changes if c.change is not Change.SAME
                ],
            }
            for fx in cmp.fixes
        ],
    }
