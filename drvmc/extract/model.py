"""One version of a driver (the source as given, or with a patch applied) → its spec pieces.

`build_model` runs both passes (scan, lower) and assembles what the spec needs: the names to
declare (devices, resources, IRQs, work items, components, attributes, flags), the procedures
and actors as text, the properties the extractor adds. The pieces of several versions are
merged by `render` (declarations: union; procedures and actors: the original, then each
variant's differences).
"""

from __future__ import annotations

from dataclasses import dataclass

from drvmc.extract import cast as C
from drvmc.extract.lower import Counts, Lowerer
from drvmc.extract.mapping import Entry
from drvmc.extract.scan import Role, ident, scan

DEV = "pdev"
MASTER_DEV = "master_dev"
MASTER = "aggregate"


@dataclass(frozen=True)
class Model:
    driver: str
    res: tuple[str, ...]
    plain_res: tuple[str, ...]  # kzalloc'd: checked for leaks
    irqs: tuple[str, ...]
    works: tuple[str, ...]
    comps: tuple[str, ...]
    attrs: tuple[str, ...]
    locks: tuple[str, ...]
    groups: tuple[tuple[str, tuple[str, ...]], ...]  # group member → its attribute members
    ptr_vars: tuple[str, ...]
    flags: tuple[str, ...]  # bool variables: ran_<fn>, <actor>_done
    uses: tuple[str, ...]
    devm_sites: int
    rpm: bool
    procs: tuple[tuple[str, str], ...]  # name → text
    actors: tuple[tuple[str, str], ...]
    handlers: tuple[str, ...]  # procedures that get a `reachable ..._runs` target
    counts: Counts
    notes: tuple[str, ...]
    skipped: tuple[tuple[str, int, str], ...]


def _proc_text(header: str, body: tuple[str, ...]) -> str:
    if not body:
        return f"{header} {{ skip }}"
    return header + " {\n" + "\n".join("  " + ln for ln in body) + "\n}"


def build_model(unit: C.Unit, table: dict[str, Entry]) -> Model:
    sym = scan(unit, table)
    counts = Counts()
    low = Lowerer(unit, sym, table, counts)
    fns = {f.name: f for f in unit.functions}
    procs: list[tuple[str, str]] = []
    handlers: list[str] = []
    roles = dict(sorted(sym.roles.items(), key=lambda kv: (fns[kv[0]].file, fns[kv[0]].line)
                        if kv[0] in fns else ("", 0)))
    missing = [n for n in roles if n not in fns]
    names = {Role.probe: "driver_probe", Role.remove: "driver_remove"}
    binds: list[str] = []
    unbinds: list[str] = []
    rpm: dict[Role, str] = {}
    for name, role in roles.items():
        if name not in fns:
            continue
        pname = names.get(role, ident(name))
        lo = low.function(fns[name], role, pname)
        procs.append((pname, _proc_text(lo.header, lo.body)))
        if role in (Role.irq, Role.work, Role.sysfs, Role.action, Role.comp_bind,
                    Role.comp_unbind, Role.rpm_suspend, Role.rpm_resume):
            handlers.append(pname)
        if role is Role.comp_bind:
            binds.append(pname)
        elif role is Role.comp_unbind:
            unbinds.append(pname)
        elif role in (Role.rpm_suspend, Role.rpm_resume):
            rpm[role] = pname
    for what, pname in (("probe", "driver_probe"), ("remove", "driver_remove")):
        if pname not in dict(procs):
            ret = " -> bool { return true }" if what == "probe" else " { skip }"
            procs.append((pname, f"proc {pname}(dev: Dev){ret}  # no {what} callback found"))
    procs.append(("device_release", "proc device_release(dev: Dev) { skip }"))

    # runtime PM: the driver's dev_pm_ops, as the library takes them (runtime_pm.drv)
    if sym.uses_rpm and rpm:
        ops = ", ".join(f"{field} = {rpm[role]}" for role, field in
                        ((Role.rpm_suspend, "runtime_suspend"), (Role.rpm_resume, "runtime_resume"))
                        if role in rpm)
        procs.append(("dev_pm_ops",
                      f"var dev_pm_ops: DevPmOps[Dev] =\n  [{DEV}: DevPmOps({ops})]"))

    comps = tuple(sym.comps.values())
    if comps:
        procs += _component_procs(comps, binds, unbinds)

    actors: list[tuple[str, str]] = []
    drv = ident(sym.driver or "driver")
    attrs_after = "".join(f"\n           sysfs_attr_add({sym.attrs[a]})" for a in sym.dev_groups
                          if a in sym.attrs)
    attrs_before = "".join(f"sysfs_attr_del({sym.attrs[a]})\n          " for a in sym.dev_groups
                           if a in sym.attrs)
    added = f"\n          if r == 0 {{{attrs_after}\n          }}" if attrs_after else ""
    actors.append((drv, f"actor {drv} {{\n"
                        f"  probe:  var r: -517..0 = 0\n"
                        f"          r = really_probe({DEV}){added}\n"
                        f"  unbind: {attrs_before}device_release_driver({DEV})\n"
                        f"          {drv}_done = true\n}}"))
    flags = [f"{drv}_done"]
    if comps:
        actors.append((f"{MASTER}_driver", f"actor {MASTER}_driver {{\n"
                               f"  add: var ok: bool = false\n"
                               f"       ok = component_master_add_with_match({MASTER_DEV}, "
                               f"{MASTER})\n"
                               f"  del: component_master_del({MASTER_DEV}, {MASTER})\n"
                               f"       {MASTER}_driver_done = true\n}}"))
        flags.append(f"{MASTER}_driver_done")
    for attr, fns_ in sym.attr_fns.items():
        present = [ident(f) for f in fns_ if f in fns]
        if not present:
            continue
        gates = [f"attr_on[{attr}]"] + [
            f"attr_on[grp_{ident(g)}]" for g, members in sym.groups.items()
            if attr.removeprefix("attr_") in members]
        branches = "".join(f"either {{\n            await {' || '.join(gates)}\n"
                           f"            {f}()\n          }} or " for f in present)
        user = f"user_{attr.removeprefix('attr_')}"
        actors.append((user, f"actor {user} {{\n"
                             f"  access: {branches}{{\n            skip\n          }}\n"
                             f"          {user}_done = true\n}}"))
        flags.append(f"{user}_done")
    flags += [f"ran_{h}" for h in handlers]

    res = sorted({*sym.struct_res.values(), *sym.field_res.values(), *sym.local_res.values(),
                  *low.drs})
    uses = ["device"]
    if sym.irqs:
        uses.append("irq")
    if sym.works:
        uses.append("workqueue")
    if sym.uses_rpm:
        uses.append("runtime_pm")
    if comps:
        uses.append("component")
    if sym.locks:
        uses.append("lock")
    notes = list(sym.notes)
    notes += [f"{n}: named as a callback but not defined in the source" for n in missing]
    if sym.other_drivers:
        notes.append("further driver structures not modelled: " + ", ".join(sym.other_drivers))
    groups = tuple((f"grp_{ident(g)}", tuple(sym.attrs[a] for a in members if a in sym.attrs))
                   for g, members in sym.groups.items())
    return Model(drv, tuple(res), tuple(sorted(sym.plain_res)), tuple(sym.irqs.values()),
                 tuple(sym.works.values()), comps, tuple(sym.attrs.values()),
                 tuple(sym.locks.values()), groups,
                 tuple(sorted(set(low.ptr_vars.values()))), tuple(flags), tuple(uses),
                 sym.devm_sites, sym.uses_rpm, tuple(procs), tuple(actors), tuple(handlers),
                 counts, tuple(notes), unit.skipped)


def _component_procs(comps: tuple[str, ...], binds: list[str],
                     unbinds: list[str]) -> list[tuple[str, str]]:
    """The match: one aggregate (master) device matching every component of the driver (the
    library records the devices at component_add / component_master_add_with_match), and the
    driver's component ops behind the library's dispatchers."""
    match = " || ".join(f"c == {c}" for c in comps)
    out = [
        ("component_match", f"proc component_match(m: Gid, c: Gid) -> bool {{ return m == "
                            f"{MASTER} && ({match}) }}"),
        ("master_ops_bind", "proc master_ops_bind(m: Gid) -> bool {\n  var ok: bool = false\n"
                            "  ok = component_bind_all(m)\n  return ok\n}"),
        ("master_ops_unbind", "proc master_ops_unbind(m: Gid) { component_unbind_all(m) }"),
    ]
    if binds:
        out.append(("component_ops_bind", "proc component_ops_bind(c: Gid, m: Gid) -> bool {\n"
                                          "  var ok: bool = false\n"
                                          f"  ok = {binds[0]}(c, m)\n  return ok\n}}"))
    else:
        out.append(("component_ops_bind",
                    "proc component_ops_bind(c: Gid, m: Gid) -> bool { return true }"))
    if unbinds:
        out.append(("component_ops_unbind", "proc component_ops_unbind(c: Gid, m: Gid) { "
                                            f"{unbinds[0]}(c, m) }}"))
    else:
        out.append(("component_ops_unbind", "proc component_ops_unbind(c: Gid, m: Gid) { skip }"))
    return out
