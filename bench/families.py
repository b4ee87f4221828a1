"""Scaling families: spec texts parameterised by N, written out for benchmarks.

`component(n, fix)` is the component-framework scenario (seed S4) at scale: one aggregate (the HDA
master) matching N components, each added and then deleted by its own driver (actor); the master's
driver maps N managed resources after registering and uses them. In the original the master's
devres group is opened with a NULL id and never closed, so the first component_del releases the
resources mapped after it (use after release); the fix opens it with id = master and closes it
after bind, so take-down releases only what bind allocated.
"""

from __future__ import annotations


def component(n: int, fix: bool) -> str:
    comps = ", ".join(f"c{i}" for i in range(1, n + 1))
    res = ", ".join(["bind_res", *(f"r{i}" for i in range(1, n + 1))])
    cap = n + 4
    maps = "\n".join(f"  map{i}: devm_acquire(r{i})" for i in range(1, n + 1))
    return f"""spec component_family_{n} "component master devres group, {n} components"
enum Comp {{ {comps} }}
enum Res {{ {res} }}
enum Kind {{ RES, OPEN, CLOSE }}
enum Grp {{ g_master, g_anon }}
record Entry {{ kind: Kind, res: Res?, grp: Grp? }}
property use_after_release "no use of a released resource"
property double_release "no resource released twice"

const FIX = {"true" if fix else "false"}
var devres: list<Entry, {cap}> = []
var live: bool[Res] = false
var added: bool[Comp] = false
var master_added: bool = false
var bound: bool = false

proc devm_acquire(r: Res) {{
  live[r] = true
  devres.append(Entry(kind = RES, res = r))
}}

# devres_release_group(hda, id): a closed group up to its close marker, an open one to the end;
# entries are released newest first, then removed from the list in one go.
proc devres_release_group(id: Grp) {{
  var open_at: -1..{cap - 1} = last_index_of(devres, Entry(kind = OPEN, grp = id))
  var close_at: -1..{cap - 1} = last_index_of(devres, Entry(kind = CLOSE, grp = id))
  var stop: 0..{cap} = len(devres)
  if close_at > open_at {{ stop = close_at + 1 }}
  if open_at >= 0 {{
    for k in 0..{cap - 1} {{
      if {cap - 1} - k >= open_at && {cap - 1} - k < stop {{
        var e: Entry = devres[{cap - 1} - k]
        if e.kind == RES {{
          assert live[e.res] as double_release, "resource released twice"
          live[e.res] = false
        }}
      }}
    }}
    devres.remove_range(open_at, stop)
  }}
}}

proc try_to_bring_up_master() {{
  if master_added && !bound && (forall c in Comp: added[c]) {{
    if FIX {{ devres.append(Entry(kind = OPEN, grp = g_master)) }}
    else {{ devres.append(Entry(kind = OPEN, grp = g_anon)) }}
    devm_acquire(bind_res)
    if FIX {{ devres.append(Entry(kind = CLOSE, grp = g_master)) }}
    bound = true
  }}
}}

proc take_down_master() {{
  if bound {{
    if FIX {{ devres_release_group(g_master) }} else {{ devres_release_group(g_anon) }}
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
