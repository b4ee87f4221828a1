---- MODULE Race ----
(* drvmc export of spec toy (tests/engines/race.drv), variant original.
   a resource used after its release
   Run: java -Xss256m -cp tla2tools.jar tlc2.TLC -deadlock -workers 1 -config Race.cfg Race.tla
   (-Xss: TLC evaluates each step's LET chain recursively)
   Each drvmc property is one INVARIANT of the .cfg; a `reachable` target is
   reached when TLC reports its Unreached_ invariant violated (the trace is the
   witness). Integers are 4-bit two's complement; enum values are strings, null is "null". *)
EXTENDS Integers, Sequences

VARIABLES live, pc_probe, pc_unbind, halted, failed

vars == <<live, pc_probe, pc_unbind, halted, failed>>

DONE == "done"  \* the pc of an actor that has ended

(* check sites: failed[p] is the first one of class p that failed
   1: use_after_release at tests/engines/race.drv:6:22: iomap used after release
*)

Init ==
  /\ live = [k8 \in {"iomap"} |-> FALSE]
  /\ pc_probe = "map"
  /\ pc_unbind = "del"
  /\ halted = FALSE
  /\ failed = [k9 \in {"use_after_release"} |-> 0]

\* probe.map at tests/engines/race.drv:9
probe_map_paths ==
  LET l1 == [live EXCEPT !["iomap"] = TRUE]
  IN
    {[blocked |-> FALSE, discarded |-> FALSE, live |-> l1, pc_probe |-> "run"]}

probe_map ==
  /\ ~halted
  /\ pc_probe = "map"
  /\ \E o_ \in probe_map_paths :
       /\ live' = o_.live
       /\ pc_probe' = o_.pc_probe
       /\ UNCHANGED <<pc_unbind, halted, failed>>

probe_map_enabled == pc_probe = "map"

\* probe.run at tests/engines/race.drv:10
probe_run_paths ==
  LET l2 == ~live["iomap"]
      l3 == IF l2 THEN 1 ELSE 0
      l4 == [failed EXCEPT !["use_after_release"] = IF @ = 0 THEN l3 ELSE @]
  IN
    {[blocked |-> FALSE, discarded |-> FALSE, pc_probe |-> DONE, failed |-> l4]}

probe_run ==
  /\ ~halted
  /\ pc_probe = "run"
  /\ \E o_ \in probe_run_paths :
       /\ pc_probe' = o_.pc_probe
       /\ failed' = o_.failed
       /\ UNCHANGED <<live, pc_unbind, halted>>

probe_run_enabled == pc_probe = "run"

\* unbind.del at tests/engines/race.drv:13
unbind_del_paths ==
  LET l5 == ~live["iomap"]
      l6 == IF live["iomap"] THEN [live EXCEPT !["iomap"] = FALSE] ELSE live
      l7 == IF live["iomap"] THEN DONE ELSE pc_unbind
  IN
    {[blocked |-> l5, discarded |-> FALSE, live |-> l6, pc_unbind |-> l7]}

unbind_del ==
  /\ ~halted
  /\ pc_unbind = "del"
  /\ \E o_ \in unbind_del_paths :
       /\ ~o_.blocked
       /\ live' = o_.live
       /\ pc_unbind' = o_.pc_unbind
       /\ UNCHANGED <<pc_probe, halted, failed>>

unbind_del_enabled == pc_unbind = "del" /\ \E o_ \in unbind_del_paths : ~o_.blocked

AllDone == ((pc_probe = DONE) /\ (pc_unbind = DONE))

\* a run that ended (or halted) stutters: it is not a deadlock
Terminated == (halted \/ AllDone) /\ UNCHANGED vars

Next ==
  \/ probe_map
  \/ probe_run
  \/ unbind_del
  \/ Terminated

Spec == Init /\ [][Next]_vars

\* the drvmc properties, one INVARIANT each
\* use_after_release (assert): no use of a released resource
Safe_use_after_release == failed["use_after_release"] = 0

\* deadlock (deadlock): some actor is not done and none can move
NoDeadlock == (halted \/ AllDone \/ probe_map_enabled \/ probe_run_enabled \/ unbind_del_enabled)

====
