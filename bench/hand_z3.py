"""Hand-written Z3 models of the component family: the floor drvmc's symbolic engines are measured
against (issue 19).

The same transition system as `bench/families.py`'s `component(n, fix)` (and its asymmetric
twin), written directly against Z3 with Int and Bool variables, one step of one actor per
transition. Where drvmc keeps the master's devres list as slots (`slot_of`, `devres_next`, the
group's `open_at`/`close_at`, bit-vectors in its encoding), this model keeps one boolean per
resource, `in_group[r]`: whether r was acquired while the group was open (and, with the fix, not
yet closed), which is all a group release needs to know. The program counters are Ints; the
use-after-release assertion is a sticky `viol` flag, as drvmc's assertions are.

    python3 bench/hand_z3.py --n 4 --engine bmc            # the bug: VIOLATED at its depth
    python3 bench/hand_z3.py --n 4 --fix --engine bmc      # the fix: every run ends within k
    python3 bench/hand_z3.py --n 8 --fix --engine spacer   # the fix by a CHC proof

Prints one line: VIOLATED k, PROVEN k (BMC: no run is longer than k steps), PROVEN (Spacer),
or UNKNOWN with z3's reason.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import z3


@dataclass(frozen=True)
class State:
    """One copy of the state variables (suffix: the depth, or a CHC argument name)."""

    pc_hda: z3.ArithRef            # 0 add, 1..n map_i, n+1 run, n+2 done
    pc_comp: tuple[z3.ArithRef, ...]  # 0 add, 1 del, 2 done
    master_added: z3.BoolRef
    bound: z3.BoolRef
    added: tuple[z3.BoolRef, ...]
    live: tuple[z3.BoolRef, ...]   # bind_res, r1..rn
    in_group: tuple[z3.BoolRef, ...]
    open_: z3.BoolRef
    closed: z3.BoolRef
    first_dels: z3.BoolRef         # the asymmetric twin's counter (unused by the symmetric one)
    viol: z3.BoolRef

    def flat(self) -> list[z3.ExprRef]:
        return [self.pc_hda, *self.pc_comp, self.master_added, self.bound, *self.added,
                *self.live, *self.in_group, self.open_, self.closed, self.first_dels, self.viol]


def state(n: int, tag: str) -> State:
    return State(
        z3.Int(f"pc_hda{tag}"), tuple(z3.Int(f"pc_c{i}{tag}") for i in range(n)),
        z3.Bool(f"master_added{tag}"), z3.Bool(f"bound{tag}"),
        tuple(z3.Bool(f"added{i}{tag}") for i in range(n)),
        tuple(z3.Bool(f"live{i}{tag}") for i in range(n + 1)),
        tuple(z3.Bool(f"in_group{i}{tag}") for i in range(n + 1)),
        z3.Bool(f"open{tag}"), z3.Bool(f"closed{tag}"), z3.Bool(f"first_dels{tag}"),
        z3.Bool(f"viol{tag}"))


def init(s: State) -> z3.BoolRef:
    return z3.And(s.pc_hda == 0, *(p == 0 for p in s.pc_comp), z3.Not(s.master_added),
                  z3.Not(s.bound), *(z3.Not(a) for a in s.added), *(z3.Not(x) for x in s.live),
                  *(z3.Not(g) for g in s.in_group), z3.Not(s.open_), z3.Not(s.closed),
                  z3.Not(s.first_dels), z3.Not(s.viol))


class Step:
    """The next-state values of one transition, defaulting to 'unchanged'."""

    def __init__(self, s: State) -> None:
        self.v: dict[str, z3.ExprRef] = {}
        self.s = s

    def get(self, name: str, i: int | None = None) -> z3.ExprRef:
        key = name if i is None else f"{name}[{i}]"
        if key in self.v:
            return self.v[key]
        x = getattr(self.s, name)
        return x if i is None else x[i]

    def set(self, name: str, value: z3.ExprRef, i: int | None = None) -> None:
        self.v[name if i is None else f"{name}[{i}]"] = value

    def bring_up(self, n: int, fix: bool) -> None:
        """try_to_bring_up_master: all present and not bound → open the group, acquire
        bind_res in it, close it (fix), bound."""
        go = z3.And(self.get("master_added"), z3.Not(self.get("bound")),
                    *(self.get("added", i) for i in range(n)))
        self.set("open_", z3.Or(self.get("open_"), go))
        self.set("live", z3.Or(self.get("live", 0), go), 0)
        self.set("in_group", z3.Or(self.get("in_group", 0), go), 0)
        if fix:
            self.set("closed", z3.Or(self.get("closed"), go))
        self.set("bound", z3.Or(self.get("bound"), go))

    def take_down(self, n: int) -> None:
        """take_down_master: bound → release the group's resources, group gone, unbound."""
        b = self.get("bound")
        for r in range(n + 1):
            self.set("live", z3.And(self.get("live", r),
                                    z3.Not(z3.And(b, self.get("open_"), self.get("in_group", r)))),
                     r)
            self.set("in_group", z3.And(self.get("in_group", r), z3.Not(b)), r)
        self.set("open_", z3.And(self.get("open_"), z3.Not(b)))
        self.set("closed", z3.And(self.get("closed"), z3.Not(b)))
        self.set("bound", z3.BoolVal(False))

    def equal(self, t: State) -> z3.BoolRef:
        """t is this transition's next state."""
        s = self.s
        eqs = [t.pc_hda == self.get("pc_hda"), t.master_added == self.get("master_added"),
               t.bound == self.get("bound"), t.open_ == self.get("open_"),
               t.closed == self.get("closed"), t.first_dels == self.get("first_dels"),
               t.viol == self.get("viol")]
        eqs += [t.pc_comp[i] == self.get("pc_comp", i) for i in range(len(s.pc_comp))]
        eqs += [t.added[i] == self.get("added", i) for i in range(len(s.added))]
        eqs += [t.live[i] == self.get("live", i) for i in range(len(s.live))]
        eqs += [t.in_group[i] == self.get("in_group", i) for i in range(len(s.in_group))]
        return z3.And(*eqs)


def trans(s: State, t: State, n: int, fix: bool, asym: bool) -> z3.BoolRef:
    """Some enabled step of some actor takes s to t."""
    options: list[z3.BoolRef] = []
    st = Step(s)                                   # hda.add
    st.set("master_added", z3.BoolVal(True))
    st.bring_up(n, fix)
    st.set("pc_hda", z3.IntVal(1))
    options.append(z3.And(s.pc_hda == 0, st.equal(t)))
    for i in range(1, n + 1):                      # hda.map_i: devm_acquire(r_i)
        st = Step(s)
        st.set("live", z3.BoolVal(True), i)
        st.set("in_group", z3.And(s.open_, z3.Not(s.closed)), i)
        st.set("pc_hda", z3.IntVal(i + 1))
        options.append(z3.And(s.pc_hda == i, st.equal(t)))
    st = Step(s)                                   # hda.run: touch r1..rn
    st.set("viol", z3.Or(s.viol, *(z3.Not(s.live[i]) for i in range(1, n + 1))))
    st.set("pc_hda", z3.IntVal(n + 2))
    options.append(z3.And(s.pc_hda == n + 1, st.equal(t)))
    for c in range(n):
        st = Step(s)                               # comp[c].add
        st.set("added", z3.BoolVal(True), c)
        st.bring_up(n, fix)
        st.set("pc_comp", z3.IntVal(1), c)
        options.append(z3.And(s.pc_comp[c] == 0, st.equal(t)))
        st = Step(s)                               # comp[c].del
        st.set("added", z3.BoolVal(False), c)
        if asym and c == 0:
            st.set("first_dels", z3.BoolVal(True))
        st.take_down(n)
        st.set("pc_comp", z3.IntVal(2), c)
        options.append(z3.And(s.pc_comp[c] == 1, st.equal(t)))
    return z3.Or(*options)


def bmc(n: int, fix: bool, asym: bool, max_depth: int) -> str:
    """Deepen until the bug shows at depth k, or no run has k+1 steps (every run ended)."""
    solver = z3.Solver()
    states = [state(n, "@0")]
    solver.add(init(states[0]))
    for k in range(max_depth + 1):
        r = solver.check(states[k].viol)
        if r == z3.sat:
            return f"VIOLATED {k}"
        if r == z3.unknown:
            return f"UNKNOWN {solver.reason_unknown()}"
        states.append(state(n, f"@{k + 1}"))
        solver.add(trans(states[k], states[k + 1], n, fix, asym))
        r = solver.check()
        if r == z3.unsat:
            return f"PROVEN {k}"
        if r == z3.unknown:
            return f"UNKNOWN {solver.reason_unknown()}"
    return f"SAFE {max_depth}"


def spacer(n: int, fix: bool, asym: bool) -> str:
    """Inv(init); Inv(s) ∧ T(s, t) → Inv(t); Inv(s) ∧ viol(s) → false."""
    s, t = state(n, ""), state(n, "'")
    sorts = [x.sort() for x in s.flat()]
    inv = z3.Function("Inv", *sorts, z3.BoolSort())
    fp = z3.Fixedpoint()
    fp.set(engine="spacer")
    for x in [*s.flat(), *t.flat()]:
        fp.declare_var(x)
    fp.register_relation(inv)
    fp.rule(inv(*s.flat()), init(s))
    fp.rule(inv(*t.flat()), [inv(*s.flat()), trans(s, t, n, fix, asym)])
    r = fp.query(z3.And(inv(*s.flat()), s.viol))
    if r == z3.unsat:
        return "PROVEN"
    if r == z3.sat:
        return "VIOLATED"
    return f"UNKNOWN {fp.reason_unknown()}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--fix", action="store_true")
    ap.add_argument("--asym", action="store_true", help="the asymmetric twin")
    ap.add_argument("--engine", choices=["bmc", "spacer"], default="bmc")
    ap.add_argument("--depth", type=int, default=400)
    args = ap.parse_args()
    if args.engine == "bmc":
        print(bmc(args.n, args.fix, args.asym, args.depth))
    else:
        print(spacer(args.n, args.fix, args.asym))


if __name__ == "__main__":
    main()
