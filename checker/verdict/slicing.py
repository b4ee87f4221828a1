"""The causal slice of a counterexample: from the violated check back through the values it read
to the steps and calls that wrote them.

What a statement reads and writes comes from the IR (each procedure's own statements, the way
`ir/footprint.py` reads them, callees apart); which call made a write comes from the trace's call
records, which list every call a step made in order with its depth, so a per-actor call stack
gives each call its callers (a labelled procedure's frame may span steps). The slice is
leaf-precise (`res_state[iomap]`, `devres[hda][3].kind`) and focused on the objects the chain
passes as arguments: a procedure that reads `devres` and is called with `hda` depends on the
`devres[hda]...` leaves, not on every device's.

Rounds: the failing check's reads (round 0) are traced to their last writers; the reads of
those writers' call chains (round 1) to theirs; and so on up to `ROUNDS`. Look-ups (procedures
that write nothing and assert nothing) are folded, except where their result decides an `if`
of a caller on a chain; `either`/`choose` outcomes are recorded in the step that made them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from drvmc.checker.ir import nodes as I
from drvmc.checker.ir.footprint import add_expr_vars, expr_vars, root_var
from drvmc.checker.verdict.trace import (
    CallRecord,
    CausalSlice,
    Cause,
    Leaf,
    StepSlice,
    Trace,
    TraceStep,
    Value,
    format_value,
    leaves,
)

ROUNDS = 2  # the failing check's reads, then what their writers read
SUMMARY_WIDTH = 80
NULL_ARG = "NULL"


# ---------------------------------------------------------------------- the IR's facts


def _temps_read(e: I.Expr) -> Iterator[str]:
    if isinstance(e, I.VarRef) and e.scope is I.Scope.TEMP:
        yield e.name
    for c in I.expr_children(e):
        yield from _temps_read(c)


def _walk(body: tuple[I.Stmt, ...]) -> Iterator[I.Stmt]:
    """Every statement of a body, nested bodies included, callees not."""
    for s in body:
        yield s
        for b in I.stmt_bodies(s):
            yield from _walk(b)


@dataclass
class _Own:
    """What a procedure's (or a step's) own statements do."""

    reads: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)
    sites: set[int] = field(default_factory=set)
    # look-ups whose result an `if` of this body tests: proc name → True
    deciding: set[str] = field(default_factory=set)
    choices: list[I.Either | I.Choose] = field(default_factory=list)


def _own(body: tuple[I.Stmt, ...]) -> _Own:
    out = _Own()
    results: dict[str, str] = {}  # temp → the proc whose result it holds
    tested: set[str] = set()
    walked: set[int] = set()
    for s in _walk(body):
        for e in I.stmt_exprs(s):
            add_expr_vars(e, out.reads, walked)
        target = I.stmt_target(s)
        root = root_var(target) if target is not None else None
        if root is not None:
            out.writes.add(root)
        match s:
            case I.Assert():
                out.sites.add(s.site)
            case I.Call() if s.target is not None and isinstance(s.target, I.VarRef):
                results[s.target.name] = s.proc
            case I.If():
                tested.update(_temps_read(s.cond))
                tested.update(x for x in expr_vars(s.cond))
            case I.Either() | I.Choose():
                out.choices.append(s)
            case _:
                pass
    out.deciding = {p for t, p in results.items() if t in tested}
    return out


class _Facts:
    def __init__(self, model: I.Model) -> None:
        self.model = model
        self.procs = {p.name: p for p in model.procs}
        self._own: dict[str, _Own] = {}
        self._effects: dict[str, bool] = {}

    def own(self, proc: str) -> _Own:
        if proc not in self._own:
            p = self.procs.get(proc)
            self._own[proc] = _own(p.body) if p is not None else _Own()
        return self._own[proc]

    def is_lookup(self, proc: str) -> bool:
        """Writes no state and asserts nothing, itself or through its callees."""
        if proc not in self._effects:
            self._effects[proc] = True  # no recursion in specs
            p = self.procs.get(proc)
            if p is None:
                return True
            own = self.own(proc)
            callees = {s.proc for s in _walk(p.body) if isinstance(s, I.Call)}
            self._effects[proc] = bool(own.writes or own.sites) or any(
                not self.is_lookup(c) for c in callees)
        return not self._effects[proc]


# ---------------------------------------------------------------------- call stacks


Frame = tuple[int, int]  # (step index, call index in that step)


def _frames(trace: Trace, facts: _Facts) -> tuple[dict[Frame, tuple[Frame | None, ...]],
                                              dict[int, tuple[Frame | None, ...]]]:
    """Each call's callers, outermost first, and the calls still open at the end of each step.

    Two kinds of call records: an atomic procedure's (`facts.procs`), whose depth counts from the
    innermost open labelled procedure (or the step), and a labelled procedure's, inlined into
    the actor's steps, whose depth is absolute and whose frame stays open across steps until a
    call at its depth or above replaces it."""
    labelled: dict[str, list[Frame | None]] = {}
    out: dict[Frame, tuple[Frame | None, ...]] = {}
    at_end: dict[int, tuple[Frame | None, ...]] = {}
    for s in trace.steps:
        open_ = labelled.setdefault(s.actor, [])
        _close_returned(open_, s.label, trace)
        local: list[Frame | None] = []
        for i, c in enumerate(s.calls):
            if c.proc not in facts.procs:
                del open_[c.depth:]
                open_.extend([None] * (c.depth - len(open_)))
                out[(s.index, i)] = tuple(open_)
                open_.append((s.index, i))
                local = []
            else:
                del local[c.depth:]
                local.extend([None] * (c.depth - len(local)))
                out[(s.index, i)] = (*open_, *local)
                local.append((s.index, i))
        at_end[s.index] = tuple(open_)
    return out, at_end


def _close_returned(open_: list[Frame | None], label: str, trace: Trace) -> None:
    """Close the labelled procedures that returned before a step began. A step's label names
    the innermost labelled procedure it runs in (`proc.label`, `proc#2.label` for a second
    inlined call; a plain actor label: none), so every frame above that procedure's has
    returned — a return makes no call record of its own."""
    if "." not in label:
        open_.clear()
        return
    inner = label.split(".", 1)[0].split("#", 1)[0]
    for k in range(len(open_) - 1, -1, -1):
        f = open_[k]
        if f is not None and trace.steps[f[0] - 1].calls[f[1]].proc == inner:
            del open_[k + 1:]
            return


def _call_text(c: CallRecord) -> str:
    return str(c)


# ---------------------------------------------------------------------- the slice


@dataclass(frozen=True)
class _Want:
    """Leaves of these roots, keyed by one of `focus` (or by nothing), read before `before`."""

    roots: frozenset[str]
    focus: frozenset[str]
    before: int  # steps with index <= before may have written them


def slice_trace(model: I.Model, trace: Trace) -> Trace:
    """The trace with its causal slice (`Trace.causal`); unchanged when there is nothing to
    slice (no steps, a deadlock, a check whose reads are unknown)."""
    try:
        causal = causal_slice(model, trace)
    except (KeyError, ValueError, IndexError):  # a trace that does not fit its model
        causal = None
    return replace(trace, causal=causal) if causal is not None else trace


def _members(trace: Trace) -> frozenset[str]:
    if trace.members:
        return frozenset(trace.members)
    return frozenset(a for s in trace.steps for c in s.calls for a in c.args if a != NULL_ARG)


def causal_slice(model: I.Model, trace: Trace) -> CausalSlice | None:
    if not trace.steps:
        return None
    facts = _Facts(model)
    members = _members(trace)
    frames, at_end = _frames(trace, facts)
    last = trace.steps[-1]
    v = trace.violation

    # the failing check: what it reads, and the call chain to it in the last step
    reads: set[str] = set()
    failing: tuple[Frame | None, ...] = ()
    if v.kind == "assert":
        site = _sites(model, v.prop, v.loc.file if v.loc else "", v.loc.line if v.loc else 0)
        cond = _assert_cond(model, site, last.actor, last.label,
                            frozenset(ch.var for ch in last.changes))
        if cond is not None:
            reads = set(expr_vars(cond))
        for i in range(len(last.calls) - 1, -1, -1):
            if site & facts.own(last.calls[i].proc).sites:
                failing = (*frames[(last.index, i)], (last.index, i))
                break
        else:  # the check is inlined: inside the labelled calls still open
            failing = at_end.get(last.index, ())
        if cond is None and last.calls:
            # a built-in check (a NULL handle dereferenced, an index out of bounds) of no
            # `assert`: what the last call and the step read
            i = len(last.calls) - 1
            failing = (*frames[(last.index, i)], (last.index, i))
            reads = facts.own(last.calls[i].proc).reads
        if cond is None:
            reads = {x for x in reads | _step_own(model, trace, last.index).reads
                     if not _local(x)}
    elif v.kind in ("invariant", "final", "reachable"):
        prop = model.prop(v.prop)
        if prop.expr is None:
            return None
        reads = set(expr_vars(prop.expr))
    elif v.kind == "deadlock":
        return _deadlock_slice(model, trace, facts, members, frames, at_end)
    else:
        return None

    focus = _args(trace, failing) & members
    wants = [_Want(frozenset(reads), frozenset(focus), last.index)]
    found: dict[int, dict[tuple[Frame | None, ...], list[Leaf]]] = {}
    seen_leaf: set[tuple[str, int]] = set()
    read_leaves: list[str] = []
    for rnd in range(ROUNDS):
        nxt: list[_Want] = []
        for w in wants:
            for leaf, k in _last_writes(trace, members, w):
                if (leaf.path, k) in seen_leaf:
                    continue
                seen_leaf.add((leaf.path, k))
                if _local(leaf.path):
                    # a labelled procedure's local, computed by the step's inlined statements
                    # from the state before it: follow what they read, show nothing of it
                    glob = {x for x in _step_own(model, trace, k).reads if not _local(x)}
                    nxt.append(_Want(frozenset(glob), w.focus, k - 1))
                    continue
                if rnd == 0:
                    read_leaves.append(leaf.path)
                chain = _writer(trace, facts, frames, at_end, k, leaf)
                found.setdefault(k, {}).setdefault(chain, []).append(leaf)
                # what the chain read, about the objects it was called with, came from earlier
                r: set[str] = set()
                near = chain[-2:]  # the writer and its caller: what decided the write
                for f in near:
                    if f is None:
                        continue
                    proc = trace.steps[f[0] - 1].calls[f[1]].proc
                    r |= (facts.own(proc).reads if proc in facts.procs
                          else _step_own(model, trace, f[0]).reads)
                if not chain or chain[-1] is None:
                    r |= _step_own(model, trace, k).reads
                keys = (_args(trace, near) & members) or frozenset(leaf.keys)
                nxt.append(_Want(frozenset(x for x in r if not _local(x)), keys, k - 1))
        wants = nxt
        if not wants:
            break
    if not read_leaves:
        # the check reads values no step changed (the initial state): the slice is its step
        read_leaves = sorted(x for x in reads if not _local(x))

    steps: list[StepSlice] = []
    for k in sorted({*found, last.index}):
        causes = []
        calls: set[int] = set()
        for chain, lvs in found.get(k, {}).items():
            causes.append(Cause(_chain_text(trace, facts, frames, chain),
                                tuple(dict.fromkeys(x.path for x in lvs))))
            calls.update(f[1] for f in chain if f is not None and f[0] == k)
        if k == last.index:
            calls.update(f[1] for f in failing if f is not None and f[0] == k)
        on_chains: list[Frame | None] = [f for c in found.get(k, {}) for f in c]
        if k == last.index:
            on_chains.extend(failing)
        steps.append(StepSlice(k, tuple(causes), tuple(sorted(calls)),
                               _choices(model, trace, facts, k, on_chains)))
    failing_text = _chain_text(trace, facts, frames, failing) if failing else ()
    causal = CausalSlice(tuple(read_leaves), failing_text, tuple(steps))
    return replace(causal, summary=summary(trace, causal, members))


def _deadlock_slice(model: I.Model, trace: Trace, facts: _Facts, members: frozenset[str],
                    frames: dict[Frame, tuple[Frame | None, ...]],
                    at_end: dict[int, tuple[Frame | None, ...]]) -> CausalSlice | None:
    """Each waiting actor, what its step awaits (the state its `await`s read, its own and in the
    procedures it calls, about the objects it names), and the step that last set it: the actors
    that set what the others wait for show the circle (a lock held by the one waiting for the
    other's)."""
    v = trace.violation
    if not v.waiting:
        return None
    last = trace.steps[-1]
    final = last.state
    blocker: dict[str, str] = {}  # waiting actor → the actor whose step set what it waits for
    parts: list[str] = []
    found: dict[int, dict[tuple[Frame | None, ...], list[Leaf]]] = {}
    reads: list[str] = []
    for actor, label in v.waiting:
        step = _ir_step(model, actor, label)
        if step is None:
            continue
        roots: set[str] = set()
        focus: set[str] = set()
        for cond, objs in _awaits(facts, step.body, final):
            roots.update(x for x in expr_vars(cond) if not _local(x))
            focus |= objs | _members_in(cond, final)
        writes = _last_writes(trace, members, _Want(frozenset(roots), frozenset(focus),
                                                   last.index))
        text = f"{actor} waits at {label}"
        if writes:
            leaf, k = writes[-1]
            chain = _writer(trace, facts, frames, at_end, k, leaf)
            found.setdefault(k, {}).setdefault(chain, []).append(leaf)
            reads.append(leaf.path)
            by = _by(_chain_text(trace, facts, frames, chain))
            who = trace.steps[k - 1].actor
            blocker[actor] = who
            text += (f" for {leaf.path}, which became {_short(leaf.new)} at step {k} "
                     f"({who}){by}")
        elif roots:
            text += f" for {', '.join(sorted(roots)[:3])}, which no step changed"
        parts.append(text)
    summary_text = "deadlock: " + "; ".join(parts)
    cycle = _cycle(blocker)
    if len(cycle) == 2:
        summary_text += f". {cycle[0]} waits for what it set itself"
    elif cycle:
        summary_text += (". A circle: " + " → ".join(cycle)
                         + " (each waits for what the next one set)")
    steps = [StepSlice(k, tuple(Cause(_chain_text(trace, facts, frames, ch),
                                      tuple(dict.fromkeys(x.path for x in lvs)))
                                for ch, lvs in found[k].items()),
                       tuple(sorted({f[1] for ch in found[k] for f in ch
                                     if f is not None and f[0] == k})))
             for k in sorted(found)]
    if last.index not in found:
        steps.append(StepSlice(last.index, ()))
    text = "\n".join(textwrap.wrap(summary_text + ".", SUMMARY_WIDTH, break_on_hyphens=False,
                                   break_long_words=False))
    return CausalSlice(tuple(dict.fromkeys(reads)), (), tuple(steps), text)


def _ir_step(model: I.Model, actor: str, label: str) -> I.Step | None:
    for a in model.actors:
        if a.name == actor:
            for st in a.steps:
                if st.label == label:
                    return st
    return None


def _awaits(facts: _Facts, body: tuple[I.Stmt, ...], state: dict[str, Value]
            ) -> Iterator[tuple[I.Expr, frozenset[str]]]:
    """The `await` conditions of a step, with the objects named by the calls that lead to each
    (`device_lock(gpu)` → {gpu}); atomic callees included."""
    def walk(body: tuple[I.Stmt, ...], objs: frozenset[str], seen: frozenset[str]
             ) -> Iterator[tuple[I.Expr, frozenset[str]]]:
        for s in _walk(body):
            if isinstance(s, I.Await):
                yield s.cond, objs
            elif isinstance(s, I.Call) and s.proc in facts.procs and s.proc not in seen:
                named = frozenset(m for a in s.args for m in _members_in(a, state))
                yield from walk(facts.procs[s.proc].body, objs | named, seen | {s.proc})
    return walk(body, frozenset(), frozenset())


def _members_in(e: I.Expr, state: dict[str, Value]) -> set[str]:
    """The enum members an expression names: its literals, and the values of the state
    variables it reads (a pool instance's own parameter: `work_worker[1].w` = `w1`)."""
    out: set[str] = set()
    if isinstance(e, I.Lit) and isinstance(e.type, I.EnumType) and isinstance(e.value, int) \
            and not isinstance(e.value, bool) and 0 <= e.value < len(e.type.members):
        out.add(e.type.members[e.value])
    if isinstance(e, I.VarRef) and isinstance(state.get(e.name), str):
        out.add(state[e.name])
    for c in I.expr_children(e):
        out |= _members_in(c, state)
    return out


def _cycle(blocker: dict[str, str]) -> list[str]:
    """A circle of waiting actors, each blocked by the next (the first repeated at the end), or
    []."""
    for start in blocker:
        path = [start]
        while path[-1] in blocker and blocker[path[-1]] not in path:
            path.append(blocker[path[-1]])
        nxt = blocker.get(path[-1])
        if nxt is not None and nxt in path:
            circle = path[path.index(nxt):]
            return [*circle, nxt]
    return []


def _local(name: str) -> bool:
    """A labelled procedure's local inlined into an actor (`hda_probe.release_nodes#2.e`)."""
    return "." in name.split("[", 1)[0]


def _sites(model: I.Model, prop: str, file: str, line: int) -> frozenset[int]:
    """The sites of `prop` at that line (an inlined labelled procedure has one per copy)."""
    here = frozenset(s.id for s in model.sites
                     if s.prop == prop and s.span.file == file and s.span.line == line)
    return here or frozenset(s.id for s in model.sites if s.prop == prop)


def _assert_cond(model: I.Model, site: frozenset[int], actor: str, label: str,
                 changed: frozenset[str]) -> I.Expr | None:
    """The condition of the failing assertion: one of `site`, in the failing step's body
    first (a labelled procedure is inlined once per call, each copy with its own site and
    locals): the copy whose state the step changed most."""
    mine = [a for a in model.actors if a.name == actor]
    tiers = [[st.body for a in mine for st in a.steps if st.label == label],
             [st.body for a in mine for st in a.steps if st.label != label],
             [p.body for p in model.procs],
             [st.body for a in model.actors for st in a.steps]]
    for bodies in tiers:
        conds = [s.cond for b in bodies for s in _walk(b)
                 if isinstance(s, I.Assert) and s.site in site]
        if conds:
            return max(conds, key=lambda c: len(set(expr_vars(c)) & changed))
    return None


def _args(trace: Trace, chain: tuple[Frame | None, ...]) -> frozenset[str]:
    return frozenset(a for f in chain if f is not None
                     for a in trace.steps[f[0] - 1].calls[f[1]].args if a != NULL_ARG)


def _step_own(model: I.Model, trace: Trace, k: int) -> _Own:
    s = trace.steps[k - 1]
    for a in model.actors:
        if a.name == s.actor:
            for st in a.steps:
                if st.label == s.label:
                    return _own(tuple(x for x in st.body))
    return _Own()


def _last_writes(trace: Trace, members: frozenset[str], w: _Want) -> list[tuple[Leaf, int]]:
    """The leaves of `w` and the last step (≤ w.before) that changed each."""
    out: dict[str, tuple[Leaf, int]] = {}
    for s in trace.steps[: max(0, w.before)]:
        for ch in s.changes:
            if ch.var not in w.roots:
                continue
            for leaf in leaves(ch, members):
                if leaf.keys and w.focus and not set(leaf.keys) & w.focus:
                    continue
                out[leaf.path] = (leaf, s.index)
    return sorted(out.values(), key=lambda x: (x[1], x[0].path))


def _writer(trace: Trace, facts: _Facts, frames: dict[Frame, tuple[Frame | None, ...]],
            at_end: dict[int, tuple[Frame | None, ...]], k: int,
            leaf: Leaf) -> tuple[Frame | None, ...]:
    """The call chain that wrote `leaf` in step k: the last call whose own statements write its
    variable (one naming an object of the leaf preferred); () for the step's own statements."""
    step = trace.steps[k - 1]
    root = leaf.path.split("[", 1)[0].split(".", 1)[0]
    cands = [i for i, c in enumerate(step.calls) if root in facts.own(c.proc).writes]
    keyed = [i for i in cands if set(step.calls[i].args) & set(leaf.keys)]
    pick = (keyed or cands)[-1:] if (keyed or cands) else []
    if pick:
        i = pick[0]
        return (*frames[(k, i)], (k, i))
    # written by the step's own (inlined) statements: inside the labelled calls still open
    return at_end.get(k, ())


def _chain_text(trace: Trace, facts: _Facts, frames: dict[Frame, tuple[Frame | None, ...]],
                chain: tuple[Frame | None, ...]) -> tuple[str, ...]:
    """The chain's calls as text, each preceded by the look-ups its caller made before it whose
    result decides an `if` of the caller (written `lookup(args)?`)."""
    out: list[str] = []
    prev: Frame | None = None
    for f in chain:
        if f is None:
            out.append("…")
            prev = None
            continue
        step = trace.steps[f[0] - 1]
        call = step.calls[f[1]]
        if prev is not None:
            caller = trace.steps[prev[0] - 1].calls[prev[1]]
            deciding = facts.own(caller.proc).deciding
            if deciding and prev[0] == f[0]:
                for j in range(prev[1] + 1, f[1]):
                    c = step.calls[j]
                    if c.depth == call.depth and c.proc in deciding and facts.is_lookup(c.proc):
                        out.append(f"{c}?")
        out.append(_call_text(call))
        prev = f
    return tuple(out)


def _choices(model: I.Model, trace: Trace, facts: _Facts, k: int,
             chain: list[Frame | None]) -> tuple[str, ...]:
    """The `either`/`choose` outcomes step k made in its own statements or in the calls on a
    chain: the branch whose writes the step's changes show (`either at f:12 → branch 2 of 2`),
    the value a `choose` wrote to state (`choose at f:14 → mode = fast`)."""
    step = trace.steps[k - 1]
    changed = {ch.var: ch.new for ch in step.changes}
    owners = [_step_own(model, trace, k)]
    owners += [facts.own(step.calls[f[1]].proc) for f in chain if f is not None and f[0] == k]
    out: list[str] = []
    for own in owners:
        for s in own.choices:
            where = f"{s.span.file.rsplit('/', 1)[-1]}:{s.span.line}"
            match s:
                case I.Either():
                    hits = [i for i, b in enumerate(s.branches)
                            if _own(b).writes & changed.keys()]
                    if len(hits) > 1:  # tell them apart by the constants they assign
                        hits = [i for i in hits if _agrees(s.branches[i], step.state)]
                    if len(hits) == 1:
                        text = f"either at {where} → branch {hits[0] + 1} of {len(s.branches)}"
                    elif not hits and sum(1 for b in s.branches if not _own(b).writes) == 1:
                        i = next(i for i, b in enumerate(s.branches) if not _own(b).writes)
                        text = f"either at {where} → branch {i + 1} of {len(s.branches)}"
                    else:
                        continue
                case I.Choose():
                    root = root_var(s.target)
                    if root is None or root not in changed:
                        continue
                    text = f"choose at {where} → {root} = {_short(changed[root])}"
            if text not in out:
                out.append(text)
    return tuple(out)


def _agrees(body: tuple[I.Stmt, ...], state: dict[str, Value]) -> bool:
    """Whether every constant a branch assigns to a whole state variable is its value after
    the step (the branch could have been the one taken)."""
    for s in body:
        if (isinstance(s, I.Assign) and isinstance(s.target, I.VarRef)
                and s.target.scope is I.Scope.STATE and isinstance(s.value, I.Lit)
                and s.target.name in state):
            want = s.value.value
            got = state[s.target.name]
            if isinstance(got, bool) or isinstance(want, bool):
                if bool(got) != bool(want) or type(got) is not type(want):
                    return False
            elif isinstance(got, int) and got != want:
                return False
    return True


def _short(v: Value) -> str:
    t = format_value(v)
    return t if len(t) <= 30 else t[:29] + "…"


# ---------------------------------------------------------------------- the summary


def summary(trace: Trace, causal: CausalSlice, members: frozenset[str]) -> str:
    """One paragraph, wrapped at 80 columns: what the failing check read, which step and call
    chain last wrote it, and the other steps on the slice."""
    v = trace.violation
    last = trace.steps[-1]
    verb = "is reached" if v.kind == "reachable" else "fails"
    where = causal.failing[-1] if causal.failing else last.label
    text = f"{v.prop} {verb} at step {last.index} ({last.actor}, in {where})"
    writes = []
    for st in causal.steps:
        for c in st.causes:
            mine = [x for x in c.leaves if x in causal.reads]
            if not mine:
                continue
            step = trace.steps[st.index - 1]
            by = _by(c.chain)
            what = _what(step, mine, members)
            writes.append(f"{what} at step {st.index} ({step.actor}){by}")
    if writes:
        text += f". It reads {', '.join(causal.reads[:3])}"
        text += ("" if len(causal.reads) <= 3 else f" (+{len(causal.reads) - 3})")
        text += ": " + "; then ".join(writes[-2:])
    if not writes and causal.reads:
        shown = ", ".join(causal.reads[:3]) + ("" if len(causal.reads) <= 3 else ", …")
        text += f". It reads {shown}, which no step changed: the initial state's values"
    others = [st.index for st in causal.steps
              if st.index != last.index and not any(
                  set(c.leaves) & set(causal.reads) for c in st.causes)]
    if others:
        text += (". On the way: step" + ("s " if len(others) > 1 else " ")
                 + _and(str(i) for i in others) + " wrote what those calls read")
    text += "."
    return "\n".join(textwrap.wrap(text, SUMMARY_WIDTH, break_on_hyphens=False,
                                   break_long_words=False))


def _by(chain: tuple[str, ...]) -> str:
    calls = [c for c in chain if not c.endswith("?") and c != "…"]
    if not calls:
        return ""
    text = f" by {calls[-1]}"
    if len(calls) > 1:
        text += " called from " + " ← ".join(reversed(calls[-3:-1]))
    return text


def _what(step: TraceStep, paths: list[str], members: frozenset[str]) -> str:
    parts = [f"{leaf.path} became {_short(leaf.new)}" for ch in step.changes
             for leaf in leaves(ch, members) if leaf.path in paths]
    return "; ".join(parts[:2]) if parts else ", ".join(paths)


def _and(items: Iterator[str]) -> str:
    xs = list(items)
    return xs[0] if len(xs) == 1 else ", ".join(xs[:-1]) + " and " + xs[-1]
