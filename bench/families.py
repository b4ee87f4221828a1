"""Scaling families: spec texts parameterised by N, written out for benchmarks.

`component(n, fix)` is the component-framework scenario (seed S4) at scale: one aggregate (the HDA
master) matching N components, each added and then deleted by its own driver (actor); the master's
driver maps N managed resources after registering and uses them. In the original the master's
devres group is opened with a NULL id and never closed, so the first component_del releases the
resources mapped after it (use after release); the fix opens it with id = master and closes it
after bind, so take-down releases only what bind allocated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def component(n: int, fix: bool) -> str:
    comps = ", ".join(f"c{i}" for i in range(1, n + 1))
    res = ", ".join(["bind_res", *(f"r{i}" for i in range(1, n + 1))])
    cap = n + 3  # the group's open and close markers, bind_res, r1..rN: bring-up happens once
    maps = "\n".join(f"  map{i}: devm_acquire(r{i})" for i in range(1, n + 1))
    return f"""spec component_family_{n} "component master devres group, {n} components"
# The master device's devres list as in specs/lib/devres.drv: entries fill slots in order (slot =
# position in the list, `devres_next` the tail) and a release empties slots, so nothing shifts
# and list order is slot order. Each resource is acquired at most once, so its entry is
# `slot_of[r]`; the one group's markers are `open_at` and `close_at`.
enum Comp {{ {comps} }}
enum Res {{ {res} }}
property use_after_release "no use of a released resource"
property double_release "no resource released twice"

const FIX = {"true" if fix else "false"}
const CAP = {cap}
var slot_of: -1..(CAP - 1)[Res] = -1
var live: bool[Res] = false
var devres_next: 0..CAP = 0
var open_at: -1..(CAP - 1) = -1
var close_at: -1..(CAP - 1) = -1
var added: bool[Comp] = false
var master_added: bool = false
var bound: bool = false

proc devm_acquire(r: Res) {{
  live[r] = true
  slot_of[r] = devres_next
  devres_next = devres_next + 1
}}

# devres_release_group(dev, id): a closed group up to its close marker, an open one (the
# original's NULL-id group) to the end of the list; its entries are released and removed.
proc devres_release_group() {{
  if open_at >= 0 {{
    var stop: 0..CAP = devres_next
    if close_at > open_at {{ stop = close_at }}
    for r in Res {{
      if slot_of[r] > open_at && slot_of[r] < stop {{
        assert live[r] as double_release, "resource released twice"
        live[r] = false
        slot_of[r] = -1
      }}
    }}
    open_at = -1
    close_at = -1
  }}
}}

proc try_to_bring_up_master() {{
  if master_added && !bound && (forall c in Comp: added[c]) {{
    open_at = devres_next                    # devres_open_group(hda, FIX ? master : NULL)
    devres_next = devres_next + 1
    devm_acquire(bind_res)
    if FIX {{                                 # devres_close_group(hda, master)
      close_at = devres_next
      devres_next = devres_next + 1
    }}
    bound = true
  }}
}}

proc take_down_master() {{
  if bound {{
    devres_release_group()
    bound = false
  }}
}}

proc touch(r: Res) {{ assert live[r] as use_after_release, "resource used after release" }}

actor hda {{
  add: master_added = true
       try_to_bring_up_master()
{maps}
  run: for r in Res {{ if r != bind_res {{ touch(r) }} }}
}}

actor comp[c in Comp] {{
  add: added[c] = true
       try_to_bring_up_master()
  del: added[c] = false
       take_down_master()
}}
"""


def component_asym(n: int, fix: bool) -> str:
    """The component family with its symmetry broken by one line, as issue 19 measured it: the
    first component's `del` step also counts itself, so no two components are interchangeable
    and the explicit engine's symmetry reduction has nothing to merge."""
    text = component(n, fix).replace(f'spec component_family_{n} "component master devres group',
                                     f'spec component_asym_{n} "asymmetric component family',
                                     1)
    text = text.replace("var bound: bool = false\n",
                        "var bound: bool = false\nvar first_dels: 0..1 = 0\n", 1)
    text = text.replace("  del: added[c] = false\n",
                        "  del: added[c] = false\n"
                        "       if c == c1 { first_dels = 1 }\n", 1)
    assert "first_dels = 1" in text and "var first_dels" in text
    return text


def iommu_workers(n: int, fix: bool) -> str:
    """Seed S2 at scale: N async probe workers run __iommu_probe_device() on one device. Without
    the global probe lock two of them share dev->iommu and both free it on their failure path."""
    ws = ", ".join(f"w{i}" for i in range(1, n + 1))
    return f"""spec iommu_workers_{n} "async iommu probe, {n} workers"
enum W {{ {ws} }}
property double_free "dev->iommu is freed once"
const LOCKED = {"true" if fix else "false"}
var dev_iommu: bool = false      # the pointer is set
var iommu_live: bool = false     # the object it points to is allocated
var lock_held: bool = false
var probed: 0..{n} = 0

actor worker[w in W] {{
  lock:  if LOCKED {{
           await !lock_held
           lock_held = true
         }}
  get:   if !dev_iommu {{
           dev_iommu = true
           iommu_live = true
         }}
  probe: probed = probed + 1
  free:  assert dev_iommu && iommu_live as double_free, "dev_iommu_free() of freed/NULL iommu"
         iommu_live = false
         dev_iommu = false
  unlock: if LOCKED {{ lock_held = false }}
}}
"""


def dsi(n: int, fix: bool) -> str:
    """Seed S3 at scale: a DSI host with N peripherals whose devm actions sit on their own (i2c)
    devices. The host unbinds first and frees every DSI device; each peripheral's devres then
    detaches and unregisters its freed device. The fix: peripherals hold a reference and the
    host-side unregister is idempotent."""
    ps = ", ".join(f"p{i}" for i in range(1, n + 1))
    return f"""spec dsi_{n} "MIPI-DSI host with {n} devm peripherals"
enum P {{ {ps} }}
property use_after_release "no use of a freed DSI device"
allow deadlock  # a bridge whose host went away before its probe never binds
const FIX = {"true" if fix else "false"}
var registered: bool[P] = false
var attached: bool[P] = false
var refs: 0..2[P] = 0
var freed: bool[P] = false

proc put_device(p: P) {{
  refs[p] = refs[p] - 1
  if refs[p] == 0 {{ freed[p] = true }}
}}

proc mipi_dsi_detach(p: P) {{
  assert !freed[p] as use_after_release, "detach of a freed DSI device"
  if attached[p] {{ attached[p] = false }}
}}

proc mipi_dsi_device_unregister(p: P) {{
  assert !freed[p] as use_after_release, "unregister of a freed DSI device"
  if registered[p] {{
    registered[p] = false
    put_device(p)
  }} else {{
    if FIX {{ put_device(p) }}
  }}
}}

actor host {{
  reg:   for p in P {{
           registered[p] = true
           refs[p] = 1
         }}
  unreg: for p in P {{
           if attached[p] {{ mipi_dsi_detach(p) }}
           if registered[p] {{
             registered[p] = false
             put_device(p)
           }}
         }}
}}

actor bridge[p in P] {{
  probe:  await registered[p]
          if FIX {{ refs[p] = refs[p] + 1 }}
          attached[p] = true
  remove: mipi_dsi_detach(p)
          mipi_dsi_device_unregister(p)
}}
"""


@dataclass(frozen=True)
class Family:
    text: Callable[[int, bool], str]
    prop: str


FAMILIES: dict[str, Family] = {
    "component": Family(component, "use_after_release"),
    "component_asym": Family(component_asym, "use_after_release"),
    "iommu": Family(iommu_workers, "double_free"),
    "dsi": Family(dsi, "use_after_release"),
}
