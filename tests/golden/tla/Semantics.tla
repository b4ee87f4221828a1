---- MODULE Semantics ----
(* drvmc export of spec semantics (tests/engines/semantics.drv), variant original.
   engine corner cases: faults halt, asserts stick, late awaits and assumes
   Run: java -Xss256m -cp tla2tools.jar tlc2.TLC -deadlock -workers 1 -config Semantics.cfg Semantics.tla
   (-Xss: TLC evaluates each step's LET chain recursively)
   Each drvmc property is one INVARIANT of the .cfg; a `reachable` target is
   reached when TLC reports its Unreached_ invariant violated (the trace is the
   witness). Integers are 5-bit two's complement; enum values are strings, null is "null". *)
EXTENDS Integers, Sequences

VARIABLES slots, q, h, n, flag, done_loop, producer_got, consumer_i, pc_producer, pc_consumer, halted, failed

vars == <<slots, q, h, n, flag, done_loop, producer_got, consumer_i, pc_producer, pc_consumer, halted, failed>>

DONE == "done"  \* the pc of an actor that has ended

Wrap(v_) == ((v_ + 16) % 32) - 16  \* 5-bit two's complement
RemoveAt(l_, i_) == SubSeq(l_, 1, i_) \o SubSeq(l_, i_ + 2, Len(l_))

(* check sites: failed[p] is the first one of class p that failed
   1: overflow (fatal) at tests/engines/semantics.drv:15:19: value out of range 0..2 (assignment)
   2: refcount at tests/engines/semantics.drv:20:3: put of a zero count
   3: overflow (fatal) at tests/engines/semantics.drv:21:42: value out of range 0..2 (assignment)
   4: capacity (fatal) at tests/engines/semantics.drv:27:6: list full (capacity 2)
   5: capacity (fatal) at tests/engines/semantics.drv:29:15: list full (capacity 2)
   6: overflow (fatal) at tests/engines/semantics.drv:29:39: value out of range 0..3 (assignment)
   7: order at tests/engines/semantics.drv:30:6: queue too long
   8: out_of_bounds (fatal) at tests/engines/semantics.drv:41:6: list index out of bounds
   9: overflow (fatal) at tests/engines/semantics.drv:45:15: value out of range 0..3 (assignment)
*)

Init ==
  /\ slots = [k94 \in 0..1 |-> [owner |-> "null", refs |-> 0]]
  /\ q = <<>>
  /\ h = "null"
  /\ n = 0
  /\ flag = FALSE
  /\ done_loop = FALSE
  /\ producer_got = 0
  /\ consumer_i = 0
  /\ pc_producer = "a"
  /\ pc_consumer = "x"
  /\ halted = FALSE
  /\ failed = [k95 \in {"overflow", "refcount", "capacity", "order", "out_of_bounds"} |-> 0]

\* producer.a at tests/engines/semantics.drv:26
producer_a_paths ==
  LET l1 == Wrap(slots[0].refs + 1)
      l2 == (l1 < 0 \/ l1 > 2)
      l3 == IF l2 THEN 1 ELSE 0
      l4 == ~(l1 < 0 \/ l1 > 2)
      l5 == IF l4 THEN [slots EXCEPT ![0] = [slots[0] EXCEPT !.refs = l1]] ELSE slots
      l6 == IF l4 THEN l5[0].refs ELSE 0
      l7 == IF l4 THEN l6 ELSE 0
      l8 == IF l4 THEN l7 ELSE producer_got
      l9 == (l4 /\ (Len(q) = 2))
      l10 == IF l9 THEN 4 ELSE 0
      l11 == (l2 \/ l9)
      l12 == (l4 /\ (~(Len(q) = 2)))
      l13 == IF l12 THEN Append(q, "o1") ELSE q
      l14 == IF l12 THEN "o2" ELSE h
      l15 == IF l12 THEN "b" ELSE pc_producer
      l16 == [failed EXCEPT !["overflow"] = IF @ = 0 THEN l3 ELSE @, !["capacity"] = IF @ = 0 THEN l10 ELSE @]
  IN
    {[blocked |-> FALSE, discarded |-> FALSE, slots |-> l5, q |-> l13, h |-> l14, producer_got |-> l8, pc_producer |-> l15, halted |-> l11, failed |-> l16]}

producer_a ==
  /\ ~halted
  /\ pc_producer = "a"
  /\ \E o_ \in producer_a_paths :
       /\ slots' = o_.slots
       /\ q' = o_.q
       /\ h' = o_.h
       /\ producer_got' = o_.producer_got
       /\ pc_producer' = o_.pc_producer
       /\ halted' = o_.halted
       /\ failed' = o_.failed
       /\ UNCHANGED <<n, flag, done_loop, consumer_i, pc_consumer>>

producer_a_enabled == pc_producer = "a"

\* producer.b at tests/engines/semantics.drv:29
producer_b_paths ==
  UNION {
    LET l18 == c17 = 1
        l19 == (l18 /\ (Len(q) = 2))
        l20 == IF l19 THEN 5 ELSE 0
        l21 == (l18 /\ (~(Len(q) = 2)))
        l22 == IF l21 THEN Append(q, "o2") ELSE q
        l23 == c17 = 2
        l24 == Wrap(n + 1)
        l25 == (l23 /\ (l24 < 0 \/ l24 > 3))
        l26 == IF l25 THEN 6 ELSE 0
        l27 == (l19 \/ l25)
        l28 == (l23 /\ (~(l24 < 0 \/ l24 > 3)))
        l29 == IF l28 THEN l24 ELSE n
        l30 == (l21 \/ l28)
        l31 == (l30 /\ (~(Len(l22) =< 2)))
        l32 == IF l31 THEN 7 ELSE 0
        l33 == IF l30 THEN "c" ELSE pc_producer
        l34 == [failed EXCEPT !["capacity"] = IF @ = 0 THEN l20 ELSE @, !["overflow"] = IF @ = 0 THEN l26 ELSE @, !["order"] = IF @ = 0 THEN l32 ELSE @]
    IN
      {[blocked |-> FALSE, discarded |-> FALSE, q |-> l22, n |-> l29, pc_producer |-> l33, halted |-> l27, failed |-> l34]}
    : c17 \in 1..2 }

producer_b ==
  /\ ~halted
  /\ pc_producer = "b"
  /\ \E o_ \in producer_b_paths :
       /\ q' = o_.q
       /\ n' = o_.n
       /\ pc_producer' = o_.pc_producer
       /\ halted' = o_.halted
       /\ failed' = o_.failed
       /\ UNCHANGED <<slots, h, flag, done_loop, producer_got, consumer_i, pc_consumer>>

producer_b_enabled == pc_producer = "b"

\* producer.c at tests/engines/semantics.drv:31
producer_c_paths ==
  LET l35 == ~(n < 3)
      l36 == (n < 3)
      l37 == IF l36 THEN [slots EXCEPT ![1] = [slots[1] EXCEPT !.owner = h]] ELSE slots
      l38 == IF l36 THEN DONE ELSE pc_producer
  IN
    {[blocked |-> l35, discarded |-> FALSE, slots |-> l37, flag |-> TRUE, pc_producer |-> l38]}

producer_c ==
  /\ ~halted
  /\ pc_producer = "c"
  /\ \E o_ \in producer_c_paths :
       /\ ~o_.blocked
       /\ slots' = o_.slots
       /\ flag' = o_.flag
       /\ pc_producer' = o_.pc_producer
       /\ UNCHANGED <<q, h, n, done_loop, producer_got, consumer_i, pc_consumer, halted, failed>>

producer_c_enabled == pc_producer = "c" /\ \E o_ \in producer_c_paths : ~o_.blocked

\* consumer.x at tests/engines/semantics.drv:37
consumer_x_paths ==
  LET l39 == ~(Len(q) > 0)
      l40 == (Len(q) > 0)
      l41 == IF l40 THEN 0 ELSE consumer_i
  IN
    UNION {
      LET l43 == IF l40 THEN c42 ELSE l41
          l44 == (l40 /\ (~(l43 < Len(q))))
          l45 == (l40 /\ (l43 < 0 \/ l43 >= Len(q)))
          l46 == IF l45 THEN 8 ELSE 0
          l47 == (l40 /\ (~(l43 < 0 \/ l43 >= Len(q))))
          l48 == IF l47 THEN RemoveAt(q, l43) ELSE q
          l49 == IF l47 THEN "y" ELSE pc_consumer
          l50 == [failed EXCEPT !["out_of_bounds"] = IF @ = 0 THEN l46 ELSE @]
      IN
        {[blocked |-> l39, discarded |-> l44, q |-> l48, consumer_i |-> l43, pc_consumer |-> l49, halted |-> l45, failed |-> l50]}
      : c42 \in IF l40 THEN {0, 1} ELSE {0} }

consumer_x ==
  /\ ~halted
  /\ pc_consumer = "x"
  /\ \E o_ \in consumer_x_paths :
       /\ ~o_.blocked
       /\ ~o_.discarded
       /\ q' = o_.q
       /\ consumer_i' = o_.consumer_i
       /\ pc_consumer' = o_.pc_consumer
       /\ halted' = o_.halted
       /\ failed' = o_.failed
       /\ UNCHANGED <<slots, h, n, flag, done_loop, producer_got, pc_producer>>

consumer_x_enabled == pc_consumer = "x" /\ \E o_ \in consumer_x_paths : ~o_.blocked

\* consumer.y at tests/engines/semantics.drv:42
consumer_y_paths ==
  LET l51 == ~(slots[0].refs > 0)
      l52 == IF l51 THEN 2 ELSE 0
      l53 == (slots[0].refs > 0)
      l54 == Wrap(slots[0].refs - 1)
      l55 == (l53 /\ (l54 < 0 \/ l54 > 2))
      l56 == IF l55 THEN 3 ELSE 0
      l57 == (l53 /\ (~(l54 < 0 \/ l54 > 2)))
      l58 == IF l57 THEN [slots EXCEPT ![0] = [slots[0] EXCEPT !.refs = l54]] ELSE slots
      l59 == ~l53
      l60 == (l57 \/ l59)
      l61 == (l60 /\ (~(l58[0].refs > 0)))
      l62 == IF l52 = 0 /\ l61 THEN 2 ELSE l52
      l63 == (l58[0].refs > 0)
      l64 == (l60 /\ l63)
      l65 == Wrap(l58[0].refs - 1)
      l66 == (l64 /\ (l65 < 0 \/ l65 > 2))
      l67 == IF l56 = 0 /\ l66 THEN 3 ELSE l56
      l68 == (l55 \/ l66)
      l69 == (l64 /\ (~(l65 < 0 \/ l65 > 2)))
      l70 == IF l69 THEN [l58 EXCEPT ![0] = [l58[0] EXCEPT !.refs = l65]] ELSE l58
      l71 == (l60 /\ (~l63))
      l72 == (l69 \/ l71)
      l73 == IF l72 THEN "z" ELSE pc_consumer
      l74 == [failed EXCEPT !["refcount"] = IF @ = 0 THEN l62 ELSE @, !["overflow"] = IF @ = 0 THEN l67 ELSE @]
  IN
    {[blocked |-> FALSE, discarded |-> FALSE, slots |-> l70, pc_consumer |-> l73, halted |-> l68, failed |-> l74]}

consumer_y ==
  /\ ~halted
  /\ pc_consumer = "y"
  /\ \E o_ \in consumer_y_paths :
       /\ slots' = o_.slots
       /\ pc_consumer' = o_.pc_consumer
       /\ halted' = o_.halted
       /\ failed' = o_.failed
       /\ UNCHANGED <<q, h, n, flag, done_loop, producer_got, consumer_i, pc_producer>>

consumer_y_enabled == pc_consumer = "y"

\* consumer.z at tests/engines/semantics.drv:44
consumer_z_paths ==
  LET l75 == (n < 2)
      l76 == IF l75 THEN "w" ELSE pc_consumer
      l77 == ~l75
      l78 == IF l77 THEN TRUE ELSE done_loop
      l79 == IF l77 THEN DONE ELSE l76
      l80 == (l75 \/ l77)
  IN
    {[blocked |-> FALSE, discarded |-> FALSE, done_loop |-> l78, pc_consumer |-> l79]}

consumer_z ==
  /\ ~halted
  /\ pc_consumer = "z"
  /\ \E o_ \in consumer_z_paths :
       /\ done_loop' = o_.done_loop
       /\ pc_consumer' = o_.pc_consumer
       /\ UNCHANGED <<slots, q, h, n, flag, producer_got, consumer_i, pc_producer, halted, failed>>

consumer_z_enabled == pc_consumer = "z"

\* consumer.w at tests/engines/semantics.drv:45
consumer_w_paths ==
  LET l81 == Wrap(n + 1)
      l82 == (l81 < 0 \/ l81 > 3)
      l83 == IF l82 THEN 9 ELSE 0
      l84 == ~(l81 < 0 \/ l81 > 3)
      l85 == IF l84 THEN l81 ELSE n
      l86 == (l85 < 2)
      l87 == (l84 /\ l86)
      l88 == IF l87 THEN "w" ELSE pc_consumer
      l89 == (l84 /\ (~l86))
      l90 == IF l89 THEN TRUE ELSE done_loop
      l91 == IF l89 THEN DONE ELSE l88
      l92 == (l87 \/ l89)
      l93 == [failed EXCEPT !["overflow"] = IF @ = 0 THEN l83 ELSE @]
  IN
    {[blocked |-> FALSE, discarded |-> FALSE, n |-> l85, done_loop |-> l90, pc_consumer |-> l91, halted |-> l82, failed |-> l93]}

consumer_w ==
  /\ ~halted
  /\ pc_consumer = "w"
  /\ \E o_ \in consumer_w_paths :
       /\ n' = o_.n
       /\ done_loop' = o_.done_loop
       /\ pc_consumer' = o_.pc_consumer
       /\ halted' = o_.halted
       /\ failed' = o_.failed
       /\ UNCHANGED <<slots, q, h, flag, producer_got, consumer_i, pc_producer>>

consumer_w_enabled == pc_consumer = "w"

AllDone == ((pc_producer = DONE) /\ (pc_consumer = DONE))

\* a run that ended (or halted) stutters: it is not a deadlock
Terminated == (halted \/ AllDone) /\ UNCHANGED vars

Next ==
  \/ producer_a
  \/ producer_b
  \/ producer_c
  \/ consumer_x
  \/ consumer_y
  \/ consumer_z
  \/ consumer_w
  \/ Terminated

Spec == Init /\ [][Next]_vars

\* the drvmc properties, one INVARIANT each
\* order (assert): steps in order
Safe_order == failed["order"] = 0

\* refcount (assert): no put of a zero count
Safe_refcount == failed["refcount"] = 0

\* out_of_bounds (assert): no index outside an array or list
Safe_out_of_bounds == failed["out_of_bounds"] = 0

\* overflow (assert): no value outside its declared range
Safe_overflow == failed["overflow"] = 0

\* capacity (assert): no list grows past its declared capacity
Safe_capacity == failed["capacity"] = 0

\* owner_set (invariant): slots[1].owner == null || slots[1].owner == o2
Inv_owner_set == halted \/ ((slots[1].owner = "null") \/ (slots[1].owner = "o2"))

\* all_put (final): slots[0].refs == 0
Final_all_put == (~halted /\ AllDone) => (slots[0].refs = 0)

\* both_done (reachable): done_loop && flag
Unreached_both_done == halted \/ ~(done_loop /\ flag)

\* deadlock (deadlock): some actor is not done and none can move
NoDeadlock == (halted \/ AllDone \/ producer_a_enabled \/ producer_b_enabled \/ producer_c_enabled \/ consumer_x_enabled \/ consumer_y_enabled \/ consumer_z_enabled \/ consumer_w_enabled)

====
