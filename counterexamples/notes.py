"""What a step did, in words: leaf-level changes, short notes and the objects a trace touches.

Shared by the text and diagram renderers. Everything here is generic: it reads the shape of the
values (lists, bools, handles, ints), never the names of a particular scenario.
"""

from __future__ import annotations

from drvmc.checker.verdict.trace import (
    CallRecord,
    Leaf,
    Trace,
    TraceStep,
    Value,
    format_value,
    leaves,
)

NULL_ARG = "NULL"  # how decode_trace shows a null handle passed as an argument


def members_of(trace: Trace) -> frozenset[str]:
    """Names that denote objects (enum members): the model's, or else those passed as arguments."""
    if trace.members:
        return frozenset(trace.members)
    return frozenset(a for s in trace.steps for c in s.calls for a in c.args if a != NULL_ARG)


def step_leaves(step: TraceStep, members: frozenset[str]) -> list[Leaf]:
    return [leaf for ch in step.changes for leaf in leaves(ch, members)]


def _removed(old: list[Value], new: list[Value]) -> list[Value]:
    rest = list(new)
    gone = []
    for x in old:
        if x in rest:
            rest.remove(x)
        else:
            gone.append(x)
    return gone


def _added(old: list[Value], new: list[Value]) -> list[Value]:
    return _removed(new, old)


def notes(step: TraceStep, members: frozenset[str]) -> list[str]:
    """Short notes of what the step changed, e.g. `released iomap`, `devres: added iomap`,
    `refs[gpu] 1 → 0`, `owner → NULL`.

    A member that leaves a list in the same step as a boolean indexed by it goes false (the
    devres-entry-plus-liveness pattern) is `released`; otherwise each leaf gets its own note.
    """
    lvs = step_leaves(step, members)
    cleared = {leaf.keys[-1] for leaf in lvs
               if leaf.keys and leaf.old is True and leaf.new is False}
    dropped = {x for leaf in lvs if isinstance(leaf.old, list) and isinstance(leaf.new, list)
               for x in _removed(leaf.old, leaf.new) if isinstance(x, str)}
    released = [m for m in _ordered(lvs) if m in cleared and m in dropped]
    out = ["released " + ", ".join(released)] if released else []
    for leaf in lvs:
        o, n = leaf.old, leaf.new
        if isinstance(o, list) and isinstance(n, list):
            gone = [x for x in _removed(o, n) if x not in released]
            new = _added(o, n)
            parts = []
            if gone:
                parts.append("dropped " + ", ".join(format_value(x) for x in gone))
            if new:
                parts.append("added " + ", ".join(format_value(x) for x in new))
            if not _removed(o, n) and not new and o != n:
                parts.append("reordered")
            if parts:
                out.append(f"{leaf.path}: " + "; ".join(parts))
        elif isinstance(o, bool) and isinstance(n, bool):
            if leaf.keys and leaf.keys[-1] in released:
                continue
            out.append(f"{leaf.path} {'set' if n else 'cleared'}")
        elif n is None:
            out.append(f"{leaf.path} → NULL")
        elif isinstance(o, int) and isinstance(n, int):
            out.append(f"{leaf.path} {o} → {n}")
        else:
            out.append(f"{leaf.path} = {format_value(n)}")
    return out


def _ordered(lvs: list[Leaf]) -> list[str]:
    seen: list[str] = []
    for leaf in lvs:
        for v in (*leaf.keys, *(leaf.old if isinstance(leaf.old, list) else ())):
            if isinstance(v, str) and v not in seen:
                seen.append(v)
    return seen


def call_target(call: CallRecord, members: frozenset[str]) -> str | None:
    """The object a call acts on: its first argument that is an object (not NULL)."""
    for a in call.args:
        if a != NULL_ARG and a in members:
            return a
    return None


def objects_of(trace: Trace) -> list[str]:
    """The objects the trace touches, in order of first appearance: call targets and arguments,
    then the members indexing changed state."""
    members = members_of(trace)
    seen: list[str] = []
    for s in trace.steps:
        for c in s.calls:
            for a in c.args:
                if a in members and a != NULL_ARG and a not in seen:
                    seen.append(a)
        for leaf in step_leaves(s, members):
            for k in leaf.keys:
                if k not in seen:
                    seen.append(k)
    return seen


def changed_words(step: TraceStep) -> frozenset[str]:
    """The words of the variables a step changed (`devres_next` → devres, next)."""
    return frozenset(w for c in step.changes for w in _words(c.var))


def relevant(call: CallRecord, changed: frozenset[str]) -> bool:
    """Whether a call's name shares a word with what the step changed."""
    return bool(_words(call.proc) & changed)


def _words(name: str) -> set[str]:
    return {w for w in name.lower().replace("[", "_").replace(".", "_").split("_") if len(w) > 2}


def shown_calls(step: TraceStep, limit: int,
                queries: frozenset[str] = frozenset()) -> tuple[list[int], int]:
    """Which of a step's calls to show: never nested look-ups (`queries`); when more than
    `limit` remain, the step's own calls (depth 0), then the nested calls that name what the
    step changed (`devres_release_group` when `devres` changed), then the shallowest.
    Indices in call order, and how many calls are left out."""
    calls = step.calls
    cands = [i for i, c in enumerate(calls) if c.depth == 0 or c.proc not in queries]
    if len(cands) <= limit:
        return cands, len(calls) - len(cands)
    changed = set().union(*(_words(c.var) for c in step.changes)) if step.changes else set()

    def rank(i: int) -> tuple[int, int, int]:
        c = calls[i]
        if c.depth == 0:
            return (0, 0, i)
        return (1 if _words(c.proc) & changed else 2, c.depth, i)

    keep = sorted(sorted(cands, key=rank)[:limit])
    return keep, len(calls) - len(keep)
