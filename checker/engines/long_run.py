"""A long run of a model, found by walking its concrete transition system.

BMC and k-induction's base case ask the solver, after each new transition, whether a run of that
many steps exists at all: the question that ends the search ("every run ends within k steps")
when the answer is no. While runs go on the answer is yes, and finding that model of the whole
unrolling can be the most expensive question asked (asoc_wcd938x_bind_link_leak: 45 to 76 s each,
its bad-state questions under a second; S3: a quarter of its run). A few walks of the explicit
engine's machine find a run of some length L in milliseconds: runs of every length up to L exist
(its prefixes), so those questions need not be asked; from L + 1 on they are.

Only a yes is taken from the walk, never a no: a walk shorter than the longest run leaves more
questions to ask, and a walk longer than any run of the encoding (which would take two engines
to disagree) could only delay the solver's "no run of k steps", which still decides alone
whether the search ends: never a PROVEN the solver did not give.
"""

from __future__ import annotations

import itertools
import random

from drvmc.checker.engines.explicit import Machine
from drvmc.checker.errors import DrvmcError
from drvmc.checker.ir import nodes as I

WALKS = 16  # the first successor, the last, and seeded random choices for the rest


def long_run(model: I.Model, limit: int) -> int:
    """The length of the longest run found (at most `limit`), 0 when the machine cannot run
    the model (an engine limit): then every question is asked, as without the walks."""
    try:
        m = Machine(model)
        starts = list(itertools.islice(m.initial_states(), WALKS))
    except DrvmcError:
        return 0
    best = 0
    for w in range(WALKS):
        rng = random.Random(w)
        s = starts[w % len(starts)] if starts else None
        n = 0
        while s is not None and n < limit:
            try:
                _, succ = m.successors(s)
            except DrvmcError:
                return best
            if not succ:
                break
            i = 0 if w == 0 else len(succ) - 1 if w == 1 else rng.randrange(len(succ))
            s = succ[i][1].state
            n += 1
        best = max(best, n)
        if best >= limit:
            break
    return best
