"""Symmetry between the instances of an actor family indexed by an enum (a scalarset).

`actor comp[c in Comp]` makes one instance per member of Comp. When the spec never tells two
members apart, every permutation of Comp maps runs to runs and each property to itself, so the
explicit engine needs to visit only one state per orbit (Ip and Dill's scalarsets in Murphi,
TLC's SYMMETRY sets). The spec treats Comp symmetrically when
- every family indexed by Comp has one instance per member, and the instances' steps and own
  variables are the same up to the instance's own member, which is the only member they name;
- nothing else (other actors, procedures, properties, initialisers) names a member of Comp
  (`null`, quantifiers and `choose` over the whole of Comp are fine);
- no `for` loop runs over Comp: its fixed order could tell members apart (which assertion of
  two fails first, say).
Nothing is assumed from the names; anything else leaves the enum out, and the search is exact.

A state's representative sorts the members by what each holds (its instances' pcs and own
variables, its elements of Comp-indexed arrays, the failed checks that are its own), then moves
the data along. Any member order is sound (the representative is in the state's orbit); sorting
makes states that differ only in member names meet. When no state variable holds a member of
Comp as a value ("plain"), two members with equal signatures are interchangeable, which the
engine uses to expand only one of them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from drvmc.checker.ir import nodes as I

CVal = bool | int | tuple["CVal", ...]
State = tuple[CVal, ...]
Perm = tuple[int, ...]  # perm[old member] = new member
# rebuild a value with the members moved: (value, order, perm), order[new] = old
Mover = Callable[[CVal, Perm, Perm], CVal]
# the part of a value that belongs to one member
Projector = Callable[[CVal, int], CVal]


class _NotSymmetric(Exception):
    pass


@dataclass(frozen=True)
class Group:
    """One symmetric enum and the state slots its permutations act on."""

    enum: str
    n: int
    actors: tuple[tuple[int, ...], ...]  # per family: the actor of each member's instance
    owned: tuple[tuple[tuple[int, Mover | None], ...], ...]  # per member: own variables
    shared: tuple[tuple[int, Mover, Projector | None], ...]  # other slots that mention the enum
    site_owner: dict[int, tuple[int, int]]  # a member's own check site -> (member, position)
    member_sites: tuple[tuple[int, ...], ...]  # per member: its own sites, by position
    viol: tuple[int, ...]  # the slots holding a property's first failed site
    plain: bool  # no state variable holds a member as a value: equal signatures commute
    # per family: the pc slot of each member's instance; per own variable: each member's slot
    pc_columns: tuple[tuple[int, ...], ...] = ()
    owned_columns: tuple[tuple[int, ...], ...] = ()
    identity: Perm = ()

    def signatures(self, s: State) -> list[tuple[CVal, ...]]:
        """What each member holds: its instances' pcs and own variables, its elements of the
        arrays indexed by the enum, which failed checks are its own (built column by column)."""
        n = self.n
        cols: list[Sequence[CVal]] = [[s[slot] for slot in fam] for fam in self.pc_columns]
        cols.extend([s[slot] for slot in col] for col in self.owned_columns)
        for slot, _, proj in self.shared:
            if proj is _whole:
                cols.append(_t(s[slot]))
            elif proj is not None:
                v = s[slot]
                cols.append([proj(v, k) for k in range(n)])
        if self.site_owner:
            for slot in self.viol:
                owner = self._owner(s[slot])
                col = [-1] * n
                if owner is not None:
                    col[owner[0]] = owner[1]
                cols.append(col)
        return list(zip(*cols, strict=True))

    def apply(self, s: State, perm: Perm) -> State:
        """s with member k's data moved to member perm[k]."""
        order = [0] * self.n
        for old, new in enumerate(perm):
            order[new] = old
        return self._move(s, tuple(order), perm)

    def _move(self, s: State, order: Perm, perm: Perm) -> State:
        out = list(s)
        get = itemgetter(*order)
        for col in self.pc_columns:
            for dst, v in zip(col, get([s[src] for src in col]), strict=True):
                out[dst] = v
        for j, o in enumerate(order):
            for (dst, mover), (src, _) in zip(self.owned[j], self.owned[o], strict=True):
                out[dst] = s[src] if mover is None else mover(s[src], order, perm)
        for slot, mover, _ in self.shared:
            out[slot] = get(_t(s[slot])) if mover is _reorder else mover(s[slot], order, perm)
        for slot in self.viol:
            owner = self._owner(s[slot])
            if owner is not None:
                out[slot] = self.member_sites[perm[owner[0]]][owner[1]]
        return tuple(out)

    def _owner(self, site: CVal) -> tuple[int, int] | None:
        return self.site_owner.get(site) if isinstance(site, int) else None

    def canon(self, s: State) -> tuple[State, Perm, Perm]:
        """(representative, perm taking s to it, each member's class leader in it)."""
        sigs = self.signatures(s)
        n = self.n
        order = tuple(sorted(range(n), key=sigs.__getitem__))
        leaders = list(range(n))
        if self.plain:
            for j in range(1, n):
                if sigs[order[j]] == sigs[order[j - 1]]:
                    leaders[j] = leaders[j - 1]
        if order == self.identity:
            return s, order, tuple(leaders)
        perm = [0] * n
        for new, old in enumerate(order):
            perm[old] = new
        return self._move(s, order, tuple(perm)), tuple(perm), tuple(leaders)

    def mover(self, t: I.Type) -> Mover | None:
        return _mover(t, self.enum)


@dataclass(frozen=True)
class Canon:
    state: State
    perms: tuple[Perm, ...]  # per group: where each member of the state canonicalised went
    leaders: tuple[Perm, ...]  # per group: each member's class leader in `state`


@dataclass(frozen=True)
class Symmetry:
    groups: tuple[Group, ...]
    # actor -> (group, family, member) for the actors of symmetric families
    where: dict[int, tuple[int, int, int]]
    # leader patterns seen -> their followers (a cache: few patterns recur in many states)
    _followers: dict[tuple[Perm, ...], frozenset[int]] = dataclasses.field(
        default_factory=dict, compare=False, repr=False)

    def names(self) -> str:
        return ", ".join(g.enum for g in self.groups)

    def canon(self, s: State) -> Canon:
        perms: list[Perm] = []
        leaders: list[Perm] = []
        for g in self.groups:
            s, perm, lead = g.canon(s)
            perms.append(perm)
            leaders.append(lead)
        return Canon(s, tuple(perms), tuple(leaders))

    def key(self, c: Canon, actor: int) -> int:
        """The actor of c.state standing for `actor` of the state canonicalised: its image,
        or the leader of the image's class of interchangeable actors."""
        w = self.where.get(actor)
        if w is None:
            return actor
        gi, fi, k = w
        fam = self.groups[gi].actors[fi]
        return fam[c.leaders[gi][c.perms[gi][k]]]

    def followers(self, c: Canon) -> frozenset[int]:
        """The actors of c.state that their class's leader stands for (not expanded)."""
        hit = self._followers.get(c.leaders)
        if hit is None:
            out: list[int] = []
            for g, lead in zip(self.groups, c.leaders, strict=True):
                for j, lj in enumerate(lead):
                    if lj != j:
                        out.extend(fam[j] for fam in g.actors)
            hit = self._followers[c.leaders] = frozenset(out)
        return hit

    def leader(self, c: Canon, actor: int) -> int:
        """The leader, in c.state, of actor's class (an actor of c.state)."""
        w = self.where.get(actor)
        if w is None:
            return actor
        gi, fi, k = w
        return self.groups[gi].actors[fi][c.leaders[gi][k]]

    def apply(self, s: State, perms: Sequence[Perm]) -> State:
        for g, p in zip(self.groups, perms, strict=True):
            s = g.apply(s, p)
        return s

    def actor(self, a: int, perms: Sequence[Perm]) -> int:
        """Where actor a goes under perms."""
        for g, p in zip(self.groups, perms, strict=True):
            for fam in g.actors:
                if a in fam:
                    return fam[p[fam.index(a)]]
        return a

    def value(self, v: CVal, t: I.Type, perms: Sequence[Perm]) -> CVal:
        """A value of type t with the members renamed (call arguments in traces)."""
        for g, p in zip(self.groups, perms, strict=True):
            mover = g.mover(t)
            if mover is not None:
                order = [0] * g.n
                for old, new in enumerate(p):
                    order[new] = old
                v = mover(v, tuple(order), p)
        return v


# ---- types ----


def _is_enum(t: I.Type, enum: str) -> bool:
    return isinstance(t, I.EnumType) and t.name == enum


def _holds_member(t: I.Type, enum: str) -> bool:
    """A value of t can be a member of enum, or one enum-indexed array sits inside another."""
    match t:
        case I.EnumType():
            return t.name == enum
        case I.ArrayType():
            # a type mentions the enum exactly when its values have something to move
            if _is_enum(t.index, enum) and _mover(t.elem, enum) is not None:
                return True
            return _holds_member(t.elem, enum)
        case I.RecordType():
            return any(_holds_member(ft, enum) for _, ft in t.fields)
        case I.ListType():
            return t.elem is not None and _holds_member(t.elem, enum)
        case _:
            return False


def _mover(t: I.Type, enum: str) -> Mover | None:
    match t:
        case I.EnumType() if t.name == enum:
            n = len(t.members)

            def rename(v: CVal, order: Perm, perm: Perm) -> CVal:
                return perm[v] if isinstance(v, int) and 0 <= v < n else v
            return rename
        case I.ArrayType():
            elem = _mover(t.elem, enum)
            if elem is None:
                return _reorder if _is_enum(t.index, enum) else None
            inner: Mover = elem
            if _is_enum(t.index, enum):
                return lambda v, order, perm: tuple(inner(_t(v)[i], order, perm) for i in order)
            return lambda v, order, perm: tuple(inner(x, order, perm) for x in _t(v))
        case I.RecordType():
            fields = [_mover(ft, enum) for _, ft in t.fields]
            if all(f is None for f in fields):
                return None
            return lambda v, order, perm: tuple(
                x if f is None else f(x, order, perm) for f, x in zip(fields, _t(v), strict=True))
        case I.ListType() if t.elem is not None:
            item = _mover(t.elem, enum)
            if item is None:
                return None
            each: Mover = item
            return lambda v, order, perm: tuple(each(x, order, perm) for x in _t(v))
        case _:
            return None


def _projector(t: I.Type, enum: str) -> Projector | None:
    match t:
        case I.ArrayType():
            if _is_enum(t.index, enum):
                return _whole
            elem = _projector(t.elem, enum)
            if elem is None:
                return None
            inner: Projector = elem
            return lambda v, k: tuple(inner(x, k) for x in _t(v))
        case I.RecordType():
            fields = [(i, p) for i, (_, ft) in enumerate(t.fields)
                      if (p := _projector(ft, enum)) is not None]
            if not fields:
                return None
            return lambda v, k: tuple(p(_t(v)[i], k) for i, p in fields)
        case I.ListType() if t.elem is not None:
            item = _projector(t.elem, enum)
            if item is None:
                return None
            each: Projector = item
            return lambda v, k: tuple(each(x, k) for x in _t(v))
        case _:
            return None


def _t(v: CVal) -> tuple[CVal, ...]:
    assert isinstance(v, tuple)
    return v


def _reorder(v: CVal, order: Perm, perm: Perm) -> CVal:
    """The mover of an array indexed by the enum, of elements that do not mention it."""
    return tuple(_t(v)[i] for i in order)


def _whole(v: CVal, k: int) -> CVal:
    """The projector of an array indexed by the enum itself: the array is the column."""
    return _t(v)[k]


# ---- detection ----


class _Normaliser:
    """Rewrites IR so two instances' steps compare equal when they differ only in their own
    member, their own variables' names and their own check sites' numbers; raises
    _NotSymmetric on anything that tells members apart."""

    def __init__(self, enum: I.EnumType, member: int | None, owner: str | None,
                 private: frozenset[str] = frozenset()) -> None:
        self.enum = enum
        self.member = member
        self.prefix = None if owner is None else owner + "."
        self.private = private  # the instances' own variables, which no one else may name
        self.sites: list[int] = []

    def full(self, values: tuple[I.Lit, ...]) -> bool:
        names = {v.value for v in values if v.value is not None}
        return names == set(range(len(self.enum.members)))

    def norm(self, x: Any) -> Any:
        match x:
            case I.Lit() if _is_enum(x.type, self.enum.name) and x.value is not None:
                if x.value != self.member:
                    raise _NotSymmetric
                return dataclasses.replace(x, value=-1)
            case I.VarRef() if (self.prefix is not None and x.scope is I.Scope.STATE
                                and x.name.startswith(self.prefix)):
                return dataclasses.replace(x, name=x.name[len(self.prefix):])
            case I.VarRef() if x.scope is I.Scope.STATE and x.name in self.private:
                raise _NotSymmetric
            case I.For() if _is_enum(x.var_type, self.enum.name):
                raise _NotSymmetric
            case I.Quant() if _is_enum(x.var_type, self.enum.name):
                if not self.full(x.values):
                    raise _NotSymmetric
                return dataclasses.replace(x, body=self.norm(x.body))
            case I.Choose() if (isinstance(x.domain, I.StaticDomain)
                                and _is_enum(x.type, self.enum.name)):
                if not self.full(x.domain.values):
                    raise _NotSymmetric
                return dataclasses.replace(x, target=self.norm(x.target))
            case tuple():
                return tuple(self.norm(y) for y in x)
            case _ if dataclasses.is_dataclass(x) and not isinstance(x, type):
                changes: dict[str, Any] = {}
                for f in dataclasses.fields(x):
                    if not f.compare:
                        continue
                    v = getattr(x, f.name)
                    if f.name == "site" and isinstance(v, int) and v:
                        self.sites.append(v)
                        changes[f.name] = len(self.sites)
                    elif isinstance(v, tuple) or dataclasses.is_dataclass(v):
                        changes[f.name] = self.norm(v)
                return dataclasses.replace(x, **changes) if changes else x
            case _:
                return x


def _families(model: I.Model) -> list[I.EnumType]:
    """The enums actor families are indexed by, each family covering every member."""
    out: dict[str, I.EnumType] = {}
    for a in model.actors:
        t = a.index_type
        if isinstance(t, I.EnumType):
            out.setdefault(t.name, t.strict())
    return list(out.values())


def _group(model: I.Model, enum: I.EnumType, var_slot: dict[str, int], pc0: int,
           viol: tuple[int, ...]) -> Group | None:
    n = len(enum.members)
    families: dict[str, list[int]] = {}
    for ai, a in enumerate(model.actors):
        families.setdefault(a.family, []).append(ai)
    fams: list[tuple[int, ...]] = []
    for fam, members in families.items():
        names = [model.actors[ai].name for ai in members]
        if names == [f"{fam}[{m}]" for m in enum.members]:
            fams.append(tuple(members))
    if not fams or n < 2:
        return None
    in_family = {ai for f in fams for ai in f}
    instance_names = {model.actors[ai].name for ai in in_family}
    private = frozenset(v.name for v in model.vars if v.owner in instance_names)
    try:
        outside = _Normaliser(enum, None, None, private)
        for ai, a in enumerate(model.actors):
            if ai not in in_family:
                outside.norm(a.steps)
        outside.norm(model.procs)
        outside.norm(tuple(p.expr for p in model.properties))
        for v in model.vars:
            if v.owner is None or all(model.actors[ai].name != v.owner for ai in in_family):
                outside.norm(v.init)
        member_sites: list[tuple[int, ...]] = []
        owned: list[list[tuple[str, I.StateVar]]] = []
        first: list[Any] = []
        for k in range(n):
            sites: list[int] = []
            mine: list[tuple[str, I.StateVar]] = []
            shapes: list[Any] = []
            for members_of in fams:
                inst = model.actors[members_of[k]]
                nz = _Normaliser(enum, k, inst.name)
                shapes.append(nz.norm(inst.steps))
                own = sorted((v.name[len(inst.name) + 1:], v) for v in model.vars
                             if v.owner == inst.name)
                for name, v in own:
                    shapes.append((name, v.type, nz.norm(v.init)))
                    mine.append((name, v))
                sites.extend(nz.sites)
            if k == 0:
                first = shapes
            elif shapes != first:
                raise _NotSymmetric
            member_sites.append(tuple(sites))
            owned.append(mine)
    except _NotSymmetric:
        return None
    sites_of = {s.id: s for s in model.sites}
    for k in range(1, n):
        for x, y in zip(member_sites[0], member_sites[k], strict=True):
            if (sites_of[x].prop, sites_of[x].fatal) != (sites_of[y].prop, sites_of[y].fatal):
                return None
    owned_vars = {v.name for mine in owned for _, v in mine}
    shared: list[tuple[int, Mover, Projector | None]] = []
    plain = True
    for v in model.vars:
        if _holds_member(v.type, enum.name):
            plain = False
        mover = _mover(v.type, enum.name)
        if v.name in owned_vars or mover is None:
            continue
        shared.append((var_slot[v.name], mover, _projector(v.type, enum.name)))
    site_owner = {sid: (k, i) for k, sites in enumerate(member_sites)
                  for i, sid in enumerate(sites) if any(
                      sid not in other for j, other in enumerate(member_sites) if j != k)}
    own_slots = tuple(tuple((var_slot[v.name], _mover(v.type, enum.name)) for _, v in mine)
                      for mine in owned)
    return Group(
        enum=enum.name, n=n, actors=tuple(fams),
        owned=own_slots, shared=tuple(shared), site_owner=site_owner,
        member_sites=tuple(member_sites), viol=viol, plain=plain,
        pc_columns=tuple(tuple(pc0 + a for a in fam) for fam in fams),
        owned_columns=tuple(zip(*(tuple(slot for slot, _ in own) for own in own_slots),
                                strict=True)),
        identity=tuple(range(n)))


def find_symmetry(model: I.Model, var_slot: dict[str, int], pc0: int,
                  viol: tuple[int, ...]) -> Symmetry | None:
    """The enums the model treats symmetrically (see the module docstring), or None."""
    groups = [g for e in _families(model)
              if (g := _group(model, e, var_slot, pc0, viol)) is not None]
    if not groups:
        return None
    where = {a: (gi, fi, k) for gi, g in enumerate(groups) for fi, fam in enumerate(g.actors)
             for k, a in enumerate(fam)}
    return Symmetry(tuple(groups), where)


__all__ = ["Canon", "Group", "Symmetry", "find_symmetry"]
