"""Spec text from the models of the original source and of each patched version.

Declarations are the union over all versions (enums cannot differ between variants); the
original's procedures and actors form the base spec; a variant re-declares those whose text
differs in its version and adds the ones only it has. Properties come from the library; the
extractor adds `final` leak checks for what the driver allocates or requests itself and a
`reachable` target for the end of each actor and for each callback, so a proof in which a
handler never runs is flagged as vacuous.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from drvmc.extract.lower import Counts
from drvmc.extract.model import DEV, MASTER, MASTER_DEV, Model


@dataclass(frozen=True)
class Version:
    name: str  # "original", "fix_1", ...
    subject: str
    model: Model


def _union(models: list[Model], attr: str) -> list[str]:
    out: list[str] = []
    for m in models:
        for x in getattr(m, attr):
            if x not in out:
                out.append(x)
    return out


def summary(c: Counts) -> str:
    parts = [f"{c.steps} steps, {c.modelled} modelled operations"]
    if c.not_modelled:
        calls = ", ".join(f"{n}() x{k}" if k > 1 else f"{n}()"
                          for n, k in sorted(c.not_modelled.items()))
        parts.append(f"{sum(c.not_modelled.values())} calls not modelled ({calls})")
    else:
        parts.append("0 calls not modelled")
    if c.ignored:
        parts.append(f"{sum(c.ignored.values())} calls ignored (no lifecycle effect)")
    parts.append(f"{c.abstracted} conditions or results abstracted to a choice")
    if c.loops:
        parts.append(f"{c.loops} loops abstracted")
    if c.skipped:
        parts.append(f"{c.skipped} statements not handled")
    return "; ".join(parts)


def _wrap(text: str, prefix: str = "#   ", width: int = 98) -> list[str]:
    out: list[str] = []
    line = ""
    for word in text.split(" "):
        if line and len(prefix) + len(line) + 1 + len(word) > width:
            out.append(prefix + line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        out.append(prefix + line)
    return out


def _quote(s: str) -> str:
    return s.replace("\\", "/").replace('"', "'")


def render(spec_name: str, files: list[str], versions: list[Version]) -> str:
    base = versions[0].model
    models = [v.model for v in versions]
    out: list[str] = [f'spec {spec_name} "{_quote(base.driver)}: extracted from '
                      f'{_quote(", ".join(files))} by drvmc extract"']
    out.append(f"# Extracted by `drvmc extract` from {', '.join(files)}; no hand edits.")
    for v in versions:
        out += _wrap(f"{v.name}: {summary(v.model.counts)}.", "# ")
        for f, line, text in v.model.skipped:
            out += _wrap(f"unreadable C skipped at {f}:{line}: {text}", "#   ")
        for n in v.model.notes:
            out += _wrap(n, "#   ")
    out.append("# Each step names its C line; `# not modelled:` marks what the model leaves out.")
    out.append("")
    out += [f"use lib/{u}" for u in _union(models, "uses")]
    out.append("")

    comps = _union(models, "comps")
    devs = [DEV] + ([MASTER_DEV] if comps else [])
    res = _union(models, "res") or ["no_object"]
    out.append(f"enum Dev {{ {', '.join(devs)} }}")
    out.append(f"enum Res {{ {', '.join(res)} }}")
    anon = ["anon1", "anon2", "anon3", "anon4"] if comps else ["anon1"]
    gids = ([MASTER, *comps] if comps else []) + anon
    out.append(f"enum Gid {{ {', '.join(gids)} }}")
    out.append(f"var devres_anon_ids: list<Gid, {len(anon)}> = [{', '.join(anon)}]")
    out.append("enum Ref { ref_none }")
    irqs = _union(models, "irqs")
    works = _union(models, "works")
    if irqs:
        out.append(f"enum Irq {{ {', '.join(irqs)} }}")
    locks = _union(models, "locks")
    if locks:
        out.append(f"enum Lock {{ {', '.join(locks)} }}")
    if works:
        out.append(f"enum Work {{ {', '.join(works)} }}")
        if len(works) > 2:
            out.append(f"const WQ_WORKERS = {len(works)}")
    cap = max(m.devm_sites for m in models) + (4 if comps else 0) + 1
    out.append(f"const DEVRES_CAP = {cap}")
    if comps:
        out.append("const COMPONENT_FIX = true  # component.c since v5.16")
    out.append("")

    attrs = _union(models, "attrs")
    groups = [g for m in models for g, _ in m.groups]
    if attrs or groups:
        members = list(dict.fromkeys(attrs + groups))
        out.append("# sysfs attribute files: a userspace actor may read or write one while it "
                   "exists")
        out.append(f"enum Attr {{ {', '.join(members)} }}")
        out.append("var attr_on: bool[Attr] = false")
        out.append("proc sysfs_attr_add(a: Attr) { attr_on[a] = true }")
        out.append("proc sysfs_attr_del(a: Attr) { attr_on[a] = false }")
        out.append("proc sysfs_group_add(a: Attr) { attr_on[a] = true }")
        out.append("proc sysfs_group_del(a: Attr) { attr_on[a] = false }")
        out.append("")
    for p in _union(models, "ptr_vars"):
        out.append(f"var {p}: Res? = null  # the pointer field {p.removeprefix('ptr_')}")
    for f in _union(models, "flags"):
        out.append(f"var {f}: bool = false")
    out.append("")

    for _, text in base.procs:
        out.append(text)
        out.append("")
    for _, text in base.actors:
        out.append(text)
        out.append("")

    for r in _union(models, "plain_res"):
        out.append(f'final {r}_freed "{r}, allocated by the driver, is freed on every path": '
                   f"res_state[{r}] != res_live")
    for i in irqs:
        out.append(f'final {i}_freed "the IRQ action of {i} is freed on every path": '
                   f"!irq_requested[{i}]")
    for f in _union(models, "flags"):
        if f.endswith("_done"):
            who = f.removesuffix("_done")
            out.append(f'reachable {who}_ends "actor {who} runs to its last step": {f}')
        elif f.startswith("ran_"):
            h = f.removeprefix("ran_")
            out.append(f'reachable {h}_runs "{h} runs": {f}')
    out.append("")

    base_procs = dict(base.procs)
    base_actors = dict(base.actors)
    for v in versions[1:]:
        body: list[str] = []
        for name, text in v.model.procs:
            if base_procs.get(name) != text:
                body.append(text)
        for name, text in v.model.actors:
            if base_actors.get(name) != text:
                body.append(text)
        out.append(f'variant {v.name} "{_quote(v.subject)}" {{')
        if not body:
            out.append("  # the patch changes nothing the model sees")
        for text in body:
            out += ["  " + ln if ln else "" for ln in text.splitlines()]
        out.append("}")
        out.append("")
    text = "\n".join(out).rstrip() + "\n"
    return re.sub(r"\n{3,}", "\n\n", text)
