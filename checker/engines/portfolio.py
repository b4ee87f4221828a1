"""`--engine auto` (the default): the cheapest engine that answers, then bug finding and proving
at once, first conclusive answer per property wins.

First the explicit-state engine explores the model up to a budget of states (`explicit_states`,
deterministic, unlike a time budget), whatever `--depth` says: the seed scenarios have at most
85 states each, and exhausting them proves every open property and gives the shortest
counterexamples with the fewest switches, without building the Z3 encoding at all. What it leaves
open (the budget ran out) goes to the symbolic portfolio below, which `--depth` bounds.

Z3 contexts are not thread-safe and the encoding lives in the default context, so the engines run
in forked worker processes, each with its own copy of the encoding:
- `kind`: k-induction, whose base case is BMC (shortest counterexamples with traces);
- `pdr`: Spacer, with confirmation of reachable bad states left to `kind`'s base case.
Each worker streams a property's result as soon as it is conclusive (VIOLATED or REACHABLE with
a trace, PROVEN or UNREACHABLE). When every property has a conclusive answer the remaining
workers are terminated. Two conclusive answers that disagree (a proof and a counterexample for
the same property) are an internal error. Without a conclusive answer the best bounded one is
kept (SAFE≤k / NOT REACHED≤k from the base case), then UNKNOWN with every engine's reason. When
Spacer found the bad state reachable but the base case no trace within `--depth` steps, the
bounded answer says so (`SAFE≤40, VIOLATED beyond the bound (...)`, `Result.beyond`): it is
never judged as expected, since a violation exists.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import queue as queue_mod
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from drvmc.checker.engines.explicit import ExplicitOptions, run_explicit
from drvmc.checker.engines.kind import KindOptions, run_kind
from drvmc.checker.engines.pdr import PdrOptions, run_pdr
from drvmc.checker.engines.unroll import Progress
from drvmc.checker.errors import EngineError, Interrupted
from drvmc.checker.ir import nodes as I
from drvmc.checker.verdict.results import Result, Status
from drvmc.translators.z3_encoding import Encoding

CONCLUSIVE = (Status.VIOLATED, Status.REACHABLE, Status.PROVEN, Status.UNREACHABLE)
FOUND = (Status.VIOLATED, Status.REACHABLE)
HOLDS = (Status.PROVEN, Status.UNREACHABLE)
# how `run_pdr(confirm=False)` answers when Spacer reaches a bad state (the trace is left to BMC)
PDR_REACHABLE = "reachable (pdr)"
# Spacer gets this long per property when `--timeout` is not given, so `auto` always ends.
AUTO_PDR_TIMEOUT_S = 120.0
# States the explicit pre-pass may visit (4,500-7,000 states/s here, so at most about 20 s): every
# seed scenario fits (85 states at most), and so do the scaling families up to the component
# family's fix at N = 32 (39,203 states up to symmetry) and the DSI fix at N = 8 (72,098), which
# the symbolic engines do not prove in minutes. A model past the budget pays that time before
# the symbolic engines start.
AUTO_EXPLICIT_STATES = 100_000
EXPLICIT_NO_DEPTH_BOUND = 1 << 30


@dataclass(frozen=True)
class AutoOptions:
    depth: int = 40
    timeout_s: float | None = None
    engines: tuple[str, ...] = ("kind", "pdr")
    explicit_states: int = AUTO_EXPLICIT_STATES  # 0: no explicit pre-pass
    symmetry: bool = True


Msg = tuple[str, str, Any]  # (kind of message, engine, payload)


def _worker(engine: str, model: I.Model, enc: Encoding, props: list[I.Property],
            opts: AutoOptions, out: Any) -> None:
    # Ctrl-C reaches the whole process group: the parent handles it and terminates the workers.
    # The parent's own SIGTERM handler (the CLI's) must not run here: terminate() just ends us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with contextlib.suppress(ValueError):  # not the main thread: no wakeup fd was inherited
        # the CLI's wakeup pipe is shared with the parent, whose watcher would cancel its z3
        signal.set_wakeup_fd(-1)

    def send_result(r: Result) -> None:
        out.put(("result", engine, r))

    def send_progress(variant: str, k: int, elapsed: float, calls: int) -> None:
        out.put(("progress", engine, (k, elapsed, calls)))

    try:
        match engine:
            case "kind" | "bmc":
                rs = run_kind(model, enc, props, KindOptions(opts.depth, opts.timeout_s,
                                                             step_case=engine == "kind"),
                              send_progress, send_result)
            case "pdr":
                t = opts.timeout_s if opts.timeout_s is not None else AUTO_PDR_TIMEOUT_S
                rs = run_pdr(model, enc, props,
                             PdrOptions(t, opts.depth, confirm=False, hunt_depth=0),
                             send_progress, send_result)
            case _:
                raise EngineError(f"no engine {engine} in the portfolio")
        out.put(("done", engine, rs))
    except Interrupted as e:
        # z3 took a terminal's Ctrl-C (sent to the whole group) for itself: what is known so
        # far, inconclusive; the parent has the same signal and stops the run as interrupted
        partial = e.partial if isinstance(e.partial, list) else []
        out.put(("done", engine, partial))
    except Exception as e:  # reported to the parent, which raises EngineError
        out.put(("error", engine, f"{type(e).__name__}: {e}\n{traceback.format_exc()}"))


def _better_bounded(a: Result | None, b: Result) -> Result:
    """Among inconclusive answers: a bounded one (SAFE≤k) beats UNKNOWN; deeper beats shallower."""
    if a is None:
        return b
    rank = {Status.SAFE: 2, Status.NOT_REACHED: 2, Status.UNKNOWN: 1}
    ra, rb = rank.get(a.status, 0), rank.get(b.status, 0)
    if rb > ra or (rb == ra and b.depth > a.depth):
        return b
    return a


def contradiction(a: Result, b: Result) -> bool:
    return (a.status in FOUND and b.status in HOLDS) or (a.status in HOLDS and b.status in FOUND)


def run_auto(model: I.Model, make_enc: Callable[[], Encoding], props: list[I.Property],
             opts: AutoOptions, progress: Progress | None = None) -> list[Result]:
    done: dict[str, Result] = {}
    if opts.explicit_states > 0:
        # bounded by states, not by --depth: within the budget the search is complete, so its
        # answers are conclusive (a counterexample longer than --depth is still a real one)
        explicit = ExplicitOptions(EXPLICIT_NO_DEPTH_BOUND, opts.explicit_states,
                                   symmetry=opts.symmetry)
        for r in run_explicit(model, props, explicit, progress):
            if r.status in CONCLUSIVE:
                done[r.prop] = r
    rest = [p for p in props if p.name not in done]
    if rest:
        for r in _run_symbolic(model, make_enc(), rest, opts, progress):
            done[r.prop] = r
    return [done[p.name] for p in props]


def _run_symbolic(model: I.Model, enc: Encoding, props: list[I.Property], opts: AutoOptions,
                  progress: Progress | None) -> list[Result]:
    start = time.monotonic()
    ctx = mp.get_context("fork")
    out: Any = ctx.Queue()
    workers = {e: ctx.Process(target=_worker, args=(e, model, enc, props, opts, out),
                              daemon=True, name=f"drvmc-{e}")
               for e in opts.engines}
    final: dict[str, Result] = {}
    fallback: dict[str, Result | None] = {p.name: None for p in props}
    reasons: dict[str, list[str]] = {p.name: [] for p in props}
    reached: set[str] = set()  # Spacer reaches a bad state; no trace yet
    running = set(workers)
    try:
        for w in workers.values():
            w.start()
        while running and len(final) < len(props):
            try:
                kind, engine, payload = out.get(timeout=0.5)
            except queue_mod.Empty:
                for e in list(running):
                    if not workers[e].is_alive() and out.empty():
                        running.discard(e)
                        for p in props:
                            reasons[p.name].append(f"{e} worker stopped "
                                                   f"(exit code {workers[e].exitcode})")
                continue
            match kind:
                case "progress":
                    if progress is not None:
                        k, _, calls = payload
                        progress(f"{model.variant} {engine}", k, time.monotonic() - start, calls)
                case "result":
                    _take(final, fallback, reasons, payload, reached)
                case "done":
                    running.discard(engine)
                    for r in payload:
                        _take(final, fallback, reasons, r, reached)
                case "error":
                    raise EngineError(f"{engine} engine failed on variant {model.variant}: "
                                      f"{payload}")
                case _:
                    raise EngineError(f"{engine} engine sent an unknown message {kind!r}")
    finally:
        for w in workers.values():
            if w.is_alive():
                w.terminate()
        for w in workers.values():
            w.join(timeout=5)
            if w.is_alive():  # a worker stuck in native code: the process must still end
                w.kill()
                w.join()
        out.close()
    elapsed = time.monotonic() - start
    results: list[Result] = []
    for p in props:
        if p.name in final:
            results.append(replace(final[p.name], seconds=elapsed))
            continue
        fb = fallback[p.name]
        if fb is None or fb.status is Status.UNKNOWN:
            why = "; ".join(reasons[p.name]) or "no engine answered"
            results.append(Result(p.name, p.kind, Status.UNKNOWN, fb.depth if fb else 0, "auto",
                                  reason=why, seconds=elapsed))
        elif p.name in reached:
            # SAFE≤k / NOT REACHED≤k is true, but a plain one would read as good news
            what = "the target" if p.kind is I.PropKind.REACHABLE else "a bad state"
            results.append(replace(fb, seconds=elapsed, beyond=(
                f"pdr reaches {what}; no trace within {fb.depth} steps: raise --depth")))
        else:
            results.append(replace(fb, seconds=elapsed))
    return results


def _take(final: dict[str, Result], fallback: dict[str, Result | None],
          reasons: dict[str, list[str]], r: Result, reached: set[str] | None = None) -> None:
    """Fold one engine's answer in; `reached` collects the properties whose bad state Spacer
    reaches (without a trace)."""
    if reached is None:
        reached = set()
    if r.engine == "pdr" and r.status is Status.UNKNOWN and r.reason.startswith(PDR_REACHABLE):
        reached.add(r.prop)
    old = final.get(r.prop)
    if r.prop in reached and (r.status in HOLDS or (old is not None and old.status in HOLDS)):
        proof = r if r.status in HOLDS else old
        assert proof is not None
        raise EngineError(f"engines disagree on {r.prop}: pdr reaches a bad state, "
                          f"{proof.engine} says {proof.verdict_text()}")
    if r.status in CONCLUSIVE:
        if old is not None and contradiction(old, r):
            raise EngineError(f"engines disagree on {r.prop}: {old.engine} says "
                              f"{old.verdict_text()}, {r.engine} says {r.verdict_text()}")
        if old is None:
            final[r.prop] = r
        return
    fallback[r.prop] = _better_bounded(fallback[r.prop], r)
    if r.reason:
        reasons[r.prop].append(f"{r.engine}: {r.reason}")
