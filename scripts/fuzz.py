"""Fuzzing drvmc's whole path: parse → elaborate → encode → check → render (text and JSON).

Inputs come from four sources: mutations of the real specs (specs/, specs/lib/, tests/) and of a
small built-in seed corpus, well-typed specs from a generator of our own, and text generated from
the grammar itself (hypothesis `from_lark`). The property: an input either checks, or fails as a
`SpecError` whose every diagnostic has a position, or as a `UsageError`; nothing else may escape
(no Python traceback ever reaches a user). An input that crashes is saved with its traceback.

    python3 scripts/fuzz.py --count 100000 --out /tmp/drvmc-fuzz     # long run
    python3 scripts/fuzz.py --count 2000 --mode generate --seed 7    # one source only

The same functions drive the bounded run in tests/test_fuzz.py.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import re
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from drvmc.checker.app.cli import format_table, format_traces, report_json  # noqa: E402
from drvmc.checker.app.driver import CheckOptions, check_spec  # noqa: E402
from drvmc.checker.errors import DrvmcError, SpecError, UsageError, render_diagnostic  # noqa: E402
from drvmc.checker.ir.elaborate import elaborate, variant_names  # noqa: E402
from drvmc.checker.lang.loader import load_program  # noqa: E402


class Outcome(Enum):
    CHECKED = "checked"  # went all the way through the engine and the renderers
    UNKNOWN = "unknown"  # checked, with at least one UNKNOWN verdict (a reason is required)
    SPEC_ERROR = "spec_error"  # SpecError, every diagnostic with a position
    USAGE_ERROR = "usage_error"  # UsageError (not UTF-8, bad option values)
    CRASH = "crash"  # anything else escaped: a bug
    NO_POSITION = "no_position"  # a SpecError diagnostic without a line: a bug
    SLOW = "slow"  # no answer within the watchdog's time: a hang without a message is a bug too
    FRONT_END = "front_end"  # parsed and elaborated cleanly; too big to run the engine on here


BAD = (Outcome.CRASH, Outcome.NO_POSITION, Outcome.SLOW)
WATCHDOG_S = 60.0


class _Watchdog(BaseException):
    """Raised by SIGALRM inside a run that takes too long (BaseException: run_one lets it by)."""


def run_guarded(data: str | bytes, workdir: Path, limit_s: float = WATCHDOG_S,
                engine: bool = True) -> Result:
    """run_one under a wall-clock watchdog (main thread only: it uses SIGALRM)."""

    def fire(signum: int, frame: object) -> None:
        raise _Watchdog

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    try:
        return run_one(data, workdir, engine=engine)
    except _Watchdog:
        return Result(Outcome.SLOW, f"no answer within {limit_s:.0f}s:\n"
                      + traceback.format_exc(limit=-6))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)

# Small checks: the point is the path, not the depth; an UNKNOWN is an acceptable answer.
FUZZ_OPTIONS = CheckOptions(depth=3, timeout_s=2.0, all_variants=True)
# Models larger than this (IR nodes over all variants) stop after elaboration: encoding a real
# scenario takes seconds, which would make a long run mostly re-encode the same few models.
ENGINE_BUDGET = 4000


def model_size(m: object) -> int:
    """IR nodes of a model's actors and procedures (spans excluded), counted without recursion."""
    import dataclasses

    todo: list[object] = [getattr(m, "actors", ()), getattr(m, "procs", ())]
    n = 0
    while todo:
        o = todo.pop()
        if isinstance(o, tuple):
            todo.extend(o)
        elif dataclasses.is_dataclass(o):
            n += 1
            todo.extend(getattr(o, f.name) for f in dataclasses.fields(o) if f.name != "span")
    return n


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    detail: str = ""


def run_one(data: str | bytes, workdir: Path, opts: CheckOptions = FUZZ_OPTIONS,
            engine: bool = True) -> Result:
    """Feed one spec text through drvmc in-process and classify what came out.

    With `engine` off, stop after loading and elaborating every variant (the stages hostile
    text reaches first; about ten times cheaper than encoding and checking)."""
    path = workdir / "fuzz.drv"
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    path.write_bytes(raw)
    try:
        program = load_program(path, opts.lib_paths)
        models = [elaborate(program, v) for v in variant_names(program)]
        if not engine or sum(model_size(m) for m in models) > ENGINE_BUDGET:
            return Result(Outcome.FRONT_END)
        rep = check_spec(path, opts)
        format_table(rep)
        format_traces(rep)
        json.dumps(report_json(rep))
        reasons = [r.result.reason for r in rep.rows if r.result.status.value == "UNKNOWN"]
        if any(not x for x in reasons):
            return Result(Outcome.CRASH, "UNKNOWN verdict without a reason")
        return Result(Outcome.UNKNOWN if reasons else Outcome.CHECKED)
    except SpecError as e:
        if not e.diagnostics:
            return Result(Outcome.NO_POSITION, "SpecError without diagnostics")
        for d in e.diagnostics:
            if d.span.line < 1 or d.span.col < 1:
                return Result(Outcome.NO_POSITION, f"{d.code} {d.message} at {d.span}")
            render_diagnostic(d, None)
        return Result(Outcome.SPEC_ERROR, e.diagnostics[0].code)
    except UsageError as e:
        return Result(Outcome.USAGE_ERROR, str(e))
    except DrvmcError as e:
        return Result(Outcome.CRASH, f"{type(e).__name__}: {e}")
    except RecursionError:
        return Result(Outcome.CRASH, traceback.format_exc(limit=-8))
    except Exception:
        return Result(Outcome.CRASH, traceback.format_exc(limit=-12))


# ---------------------------------------------------------------------------- seeds

SEED_SPECS: tuple[str, ...] = (
    '''spec toy "a resource used after its release"
enum Res { iomap }
property use_after_release "no use of a released resource"
var live: bool[Res] = false

proc touch(r: Res) { assert live[r] as use_after_release, "iomap used after release" }

actor probe {
  map: live[iomap] = true
  run: touch(iomap)
}
actor unbind {
  del: await live[iomap]
       live[iomap] = false
}
expect original use_after_release: VIOLATED
''',
    '''spec lists "devres list with records"
const N = 3
enum Dev { d0, d1 }
record Res { owner: Dev?, id: 0..N, live: bool }
var devres: list<Res, N> = []
var refs: 0..N[Dev] = 0
var bound: Dev? = null
property leak "every resource is released"
invariant refs_ok: forall d in Dev: refs[d] <= N
final no_leak: len(devres) == 0
reachable both: refs[d0] == 1 && refs[d1] == 1

proc acquire(d: Dev, i: 0..N) {
  devres.append(Res(owner = d, id = i, live = true))
  refs[d] = refs[d] + 1
}
proc release_all(d: Dev) -> 0..N {
  var n: 0..N = 0
  for i in 0..N-1 {
    if i < len(devres) && devres[i].owner == d { n = n + 1 }
  }
  return n
}
proc bind_dev(d: Dev) {
  b1: bound = d
  b2: acquire(d, 1)
}
actor probe[i in Dev] {
  var got: 0..N = 0
  start: bind_dev(i)
  more:  either { acquire(i, 2) } or { skip }
  done:  got = release_all(i)
         if got > 0 { devres.clear() }
}
actor remover {
  r1: await bound != null
      choose k in 0..2
      if k == 2 { devres.pop() } else { assume len(devres) > k }
  r2: while refs[d0] > 0 {
        r3: refs[d0] = refs[d0] - 1
      }
}
variant fix "release under the lock" {
  const N = 4
  proc acquire(d: Dev, i: 0..N) { refs[d] = min(refs[d] + 1, N) }
}
expect original: SAFE
expect fix refs_ok: PROVEN
''',
    '''spec counters
allow deadlock
var x: -3..3 = any
var flags: list<bool, 4> = [true, false]
enum Mode { idle, busy, gone }
var m: Mode = idle
var h: Mode? = null
actor a {
  s1: x = ite(x > 0, x - 1, x + 1) % 3
      m = busy
  s2: await m == gone || x * 2 / 2 == x
      if contains(flags, true) { flags.remove_at(index_of(flags, true)) }
      h = m
  s3: assert h != null && m in {idle, busy} => x in -1..1, "range"
      flags.append(exists i in 0..1: i == 0)
}
actor b {
  t1: m = gone
  t2: await last_index_of(flags, false) >= 0
      h = null
      m = h
}
''',
)


def seed_corpus(root: Path = REPO) -> list[tuple[str, str]]:
    """(name, text) of every spec file in the repository, then the built-in seeds."""
    out: list[tuple[str, str]] = []
    for sub in ("specs", "tests"):
        base = root / sub
        if base.is_dir():
            for p in sorted(base.rglob("*.drv")):
                if "regressions" in p.parts:
                    continue  # already reproducers; large on purpose
                try:
                    out.append((str(p.relative_to(root)), p.read_text(encoding="utf-8")))
                except (OSError, UnicodeDecodeError):
                    continue
    out.extend((f"<seed{i}>", s) for i, s in enumerate(SEED_SPECS))
    return out


# ---------------------------------------------------------------------------- mutations

_TOKEN = re.compile(r'[A-Za-z_][A-Za-z0-9_]*|[0-9]+|"(?:[^"\\\n]|\\.)*"|\.\.|=>|&&|\|\||[=!<>]=|\S')
_ODD = ("\u00e9", "\u202e", "\u200b", "\U0001f600", "\ufeff", "\u0301", "\x00", "\t", "\r",
        "\x0b", "\x0c", "\u2028", "\u00a0", "\ufffd", "\\", '"', "\udcff")
_HUGE = ("99999999999999999999999999999999", "4294967296", "9223372036854775808", "1048577",
         "4097", "65", "0", "-1", "-9223372036854775809", "000000000000000000001",
         "1" * 5000)
_KEYWORDS = ("spec", "use", "const", "enum", "record", "var", "proc", "actor", "property",
             "invariant", "final", "reachable", "allow", "variant", "expect", "if", "else",
             "for", "while", "await", "assume", "assert", "either", "or", "choose", "return",
             "skip", "in", "as", "forall", "exists", "any", "true", "false", "null", "list",
             "bool", "ite", "len", "min", "max", "contains", "index_of", "deadlock",
             "original", "VIOLATED", "PROVEN", "SAFE")


def _tokens(text: str) -> list[re.Match[str]]:
    return list(_TOKEN.finditer(text))


def _splice(text: str, m: re.Match[str], new: str) -> str:
    return text[: m.start()] + new + text[m.end():]


def _deep(rng: random.Random, inner: str) -> str:
    n = rng.choice((50, 199, 201, 500, 1000))  # deeper is in tests/regressions
    match rng.randrange(6):
        case 0:
            return "(" * n + inner + ")" * n
        case 1:
            return "!" * n + inner
        case 2:
            return "- " * n + inner
        case 3:
            return "[" * n + inner + "]" * n
        case 4:
            return " + ".join([inner] * n)
        case _:
            return "if true { " * n + inner + " }" * n


def mutate(text: str, rng: random.Random, names: list[str]) -> str | bytes:
    """One to three random edits of a spec text."""
    out: str | bytes = text
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        if isinstance(out, bytes):
            break
        out = _mutate_once(out, rng, names)
    return out


def _mutate_once(text: str, rng: random.Random, names: list[str]) -> str | bytes:
    lines = text.split("\n")
    toks = _tokens(text)
    op = rng.randrange(22)
    if not toks:
        op = 21
    match op:
        case 0:  # delete a line
            if lines:
                del lines[rng.randrange(len(lines))]
            return "\n".join(lines)
        case 1:  # duplicate a line
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])
            return "\n".join(lines)
        case 2:  # swap two lines
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            return "\n".join(lines)
        case 3:  # swap two tokens
            a, b = sorted(rng.sample(range(len(toks)), 2)) if len(toks) > 1 else (0, 0)
            ta, tb = toks[a], toks[b]
            if a == b:
                return text
            return (text[: ta.start()] + tb.group() + text[ta.end(): tb.start()] + ta.group()
                    + text[tb.end():])
        case 4:  # delete a token
            return _splice(text, rng.choice(toks), "")
        case 5:  # duplicate a token
            m = rng.choice(toks)
            return _splice(text, m, m.group() + " " + m.group())
        case 6:  # a huge or edge number
            nums = [m for m in toks if m.group().isdigit()] or toks
            return _splice(text, rng.choice(nums), rng.choice(_HUGE))
        case 7 | 8:  # deep nesting around a name or number
            cands = [m for m in toks if m.group()[0].isalnum()] or toks
            return _splice(text, rng.choice(cands), _deep(rng, rng.choice(cands).group()))
        case 9:  # odd unicode / control characters at a random place
            i = rng.randrange(len(text) + 1)
            return text[:i] + rng.choice(_ODD) + text[i:]
        case 10:  # CRLF line ends
            return text.replace("\n", "\r\n")
        case 11:  # byte order mark
            return "\ufeff" + text
        case 12:  # a very long line (a name, a string, a comment)
            kind = rng.randrange(3)
            n = rng.choice((1000, 70000, 400000))
            filler = ["x" * n, '"' + "y" * n + '"', "# " + "z" * n][kind]
            i = rng.randrange(len(lines))
            lines.insert(i, filler)
            return "\n".join(lines)
        case 13:  # a name replaced by another name of the same file (type confusion)
            cands = [m for m in toks if m.group()[0].isalpha() or m.group()[0] == "_"]
            if cands and names:
                return _splice(text, rng.choice(cands), rng.choice(names))
            return text
        case 14:  # a keyword inserted at a token boundary
            m = rng.choice(toks)
            return text[: m.start()] + rng.choice(_KEYWORDS) + " " + text[m.start():]
        case 15:  # truncation
            return text[: rng.randrange(len(text) + 1)]
        case 16:  # invalid UTF-8 bytes
            raw = text.encode("utf-8", "surrogatepass")
            i = rng.randrange(len(raw) + 1)
            return raw[:i] + rng.choice((b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80")) + raw[i:]
        case 17:  # a token replaced by punctuation
            return _splice(text, rng.choice(toks), rng.choice(
                ("{", "}", "(", ")", "[", "]", ":", ",", "..", "=", "?", "->", ".", "/", "%")))
        case 18:  # a block duplicated (declarations twice, labels twice)
            i = rng.randrange(len(lines))
            j = min(len(lines), i + rng.randrange(1, 8))
            return "\n".join(lines[:j] + lines[i:j] + lines[j:])
        case 19:  # a number changed by a little (capacities, ranges off by one)
            nums = [m for m in toks if m.group().isdigit()]
            if not nums:
                return text
            m = rng.choice(nums)
            return _splice(text, m, str(max(0, int(m.group()[:6]) + rng.choice((-2, -1, 1, 2)))))
        case 20:  # a `use` of something odd
            target = rng.choice(("../etc/passwd", "/etc/passwd", "lib/../../x", "nope",
                                 '"a b"', "lib", "fuzz", '""', '"/tmp"', "lib/devres"))
            return f"use {target}\n" + text
        case _:  # random printable junk
            i = rng.randrange(len(text) + 1)
            junk = "".join(rng.choice("{}()[]:;,.=<>!&|+-*/%?@$^~`'\"\\#aZ_09 \n")
                           for _ in range(rng.randrange(1, 12)))
            return text[:i] + junk + text[i:]


# ---------------------------------------------------------------------------- well-typed specs


@dataclass
class _Gen:
    """A small generator of well-typed specs (most of them check; the rest fail cleanly)."""

    rng: random.Random
    enums: dict[str, list[str]] = field(default_factory=dict)
    ints: list[tuple[str, int, int]] = field(default_factory=list)
    bools: list[str] = field(default_factory=list)
    handles: list[tuple[str, str]] = field(default_factory=list)  # name, enum
    arrays: list[tuple[str, str]] = field(default_factory=list)  # bool[enum]
    lists: list[tuple[str, int]] = field(default_factory=list)  # list<0..3, cap>
    props: list[str] = field(default_factory=list)

    def int_expr(self, d: int = 0) -> str:
        r = self.rng.randrange(7 if d < 3 else 2)
        if r == 0 or not self.ints:
            return str(self.rng.randrange(0, 4))
        if r == 1:
            return self.rng.choice(self.ints)[0]
        if r == 2:
            return f"({self.int_expr(d + 1)} {self.rng.choice('+-*')} {self.int_expr(d + 1)})"
        if r == 3:
            return f"({self.int_expr(d + 1)} {self.rng.choice('/%')} {self.rng.randrange(1, 4)})"
        if r == 4:
            return f"{self.rng.choice(('min', 'max'))}({self.int_expr(d + 1)}, " \
                   f"{self.int_expr(d + 1)})"
        if r == 5 and self.lists:
            return f"len({self.rng.choice(self.lists)[0]})"
        return f"ite({self.bool_expr(d + 1)}, {self.int_expr(d + 1)}, {self.int_expr(d + 1)})"

    def bool_expr(self, d: int = 0) -> str:
        r = self.rng.randrange(9 if d < 3 else 3)
        if r == 0 or (r == 1 and not self.bools):
            return self.rng.choice(("true", "false"))
        if r == 1:
            return self.rng.choice(self.bools)
        if r == 2:
            return f"{self.int_expr(d + 1)} {self.rng.choice(('==', '!=', '<', '<=', '>', '>='))}" \
                   f" {self.int_expr(d + 1)}"
        if r == 3:
            return f"({self.bool_expr(d + 1)} {self.rng.choice(('&&', '||', '=>'))} " \
                   f"{self.bool_expr(d + 1)})"
        if r == 4:
            return f"!{self.bool_expr(d + 1)}"
        if r == 5 and self.handles:
            h, _ = self.rng.choice(self.handles)
            return f"{h} {self.rng.choice(('==', '!='))} null"
        if r == 6 and self.arrays:
            a, e = self.rng.choice(self.arrays)
            return f"{a}[{self.rng.choice(self.enums[e])}]"
        if r == 7 and self.arrays:
            a, e = self.rng.choice(self.arrays)
            q = self.rng.choice(("forall", "exists"))
            return f"({q} x in {e}: {a}[x])"
        if r == 8 and self.lists:
            lst, _ = self.rng.choice(self.lists)
            return f"contains({lst}, {self.rng.randrange(0, 4)})"
        return f"{self.int_expr(d + 1)} in 0..{self.rng.randrange(0, 4)}"

    def stmt(self, d: int) -> str:
        r = self.rng.randrange(12 if d < 2 else 8)
        if r == 0 and self.ints:
            v, lo, hi = self.rng.choice(self.ints)
            return f"{v} = {self.int_expr()}"
        if r == 1 and self.bools:
            return f"{self.rng.choice(self.bools)} = {self.bool_expr()}"
        if r == 2 and self.arrays:
            a, e = self.rng.choice(self.arrays)
            return f"{a}[{self.rng.choice(self.enums[e])}] = {self.bool_expr()}"
        if r == 3 and self.handles:
            h, e = self.rng.choice(self.handles)
            return f"{h} = {self.rng.choice([*self.enums[e], 'null'])}"
        if r == 4 and self.lists:
            lst, _ = self.rng.choice(self.lists)
            return self.rng.choice((f"{lst}.append({self.rng.randrange(0, 4)})", f"{lst}.pop()",
                                    f"{lst}.clear()", f"{lst}.remove_at({self.int_expr()})"))
        if r == 5:
            msg = self.rng.choice(("", ', "boom"'))
            tag = f" as {self.rng.choice(self.props)}" if self.props and self.rng.random() < .6 \
                else ""
            return f"assert {self.bool_expr()}{tag}{msg}"
        if r == 6:
            return self.rng.choice((f"await {self.bool_expr()}", f"assume {self.bool_expr()}",
                                    "skip"))
        if r == 7 and self.ints:
            v, lo, hi = self.rng.choice(self.ints)
            return f"choose {v} in {lo}..{hi}"
        if r == 8:
            return f"if {self.bool_expr()} {{ {self.stmt(d + 1)} }} else {{ {self.stmt(d + 1)} }}"
        if r == 9:
            return f"either {{ {self.stmt(d + 1)} }} or {{ {self.stmt(d + 1)} }}"
        if r == 10 and self.arrays:
            a, e = self.rng.choice(self.arrays)
            return f"for x in {e} {{ {a}[x] = {self.rng.choice(('true', 'false'))} }}"
        if r == 11 and self.ints:
            return "p0()" if self.rng.random() < .5 else "lp()"
        return "skip"

    def spec(self) -> str:
        rng = self.rng
        out = [f'spec gen{rng.randrange(1000)} "generated"']
        for i in range(rng.randrange(1, 3)):
            members = [f"e{i}m{j}" for j in range(rng.randrange(1, 4))]
            self.enums[f"E{i}"] = members
            out.append(f"enum E{i} {{ {', '.join(members)} }}")
        for i in range(rng.randrange(0, 3)):
            lo = rng.randrange(-2, 2)
            hi = lo + rng.randrange(0, 6)
            self.ints.append((f"i{i}", lo, hi))
            init = rng.choice(("", f" = {lo}", " = any"))
            out.append(f"var i{i}: {lo}..{hi}{init}")
        for i in range(rng.randrange(0, 3)):
            self.bools.append(f"b{i}")
            out.append(f"var b{i}: bool{rng.choice(('', ' = true', ' = any'))}")
        for i in range(rng.randrange(0, 2)):
            e = rng.choice(list(self.enums))
            self.handles.append((f"h{i}", e))
            out.append(f"var h{i}: {e}? = null")
        for i in range(rng.randrange(0, 2)):
            e = rng.choice(list(self.enums))
            self.arrays.append((f"a{i}", e))
            out.append(f"var a{i}: bool[{e}] = {rng.choice(('true', 'false'))}")
        for i in range(rng.randrange(0, 2)):
            cap = rng.randrange(1, 4)
            self.lists.append((f"l{i}", cap))
            out.append(f"var l{i}: list<0..3, {cap}> = []")
        for i in range(rng.randrange(0, 2)):
            self.props.append(f"p_{i}")
            out.append(f'property p_{i} "generated property"')
        if self.ints:
            out.append(f"proc p0() {{ {self.stmt(2)} }}")
            out.append(f"proc lp() {{ l1: {self.stmt(2)}\n l2: {self.stmt(2)} }}")
        for a in range(rng.randrange(1, 4)):
            idx = f"[k in 1..{rng.randrange(1, 3)}]" if rng.random() < .3 else ""
            body = []
            for s in range(rng.randrange(1, 4)):
                stmts = "\n    ".join(self.stmt(0) for _ in range(rng.randrange(1, 3)))
                body.append(f"  s{s}: {stmts}")
            out.append(f"actor act{a}{idx} {{\n" + "\n".join(body) + "\n}")
        if rng.random() < .5:
            out.append(f"invariant inv: {self.bool_expr()}")
        if rng.random() < .3:
            out.append(f"final fin: {self.bool_expr()}")
        if rng.random() < .3:
            out.append(f"reachable tgt: {self.bool_expr()}")
        if rng.random() < .3:
            out.append("allow deadlock")
        if rng.random() < .3 and self.ints:
            out.append(f'variant v1 "a patch" {{ proc p0() {{ {self.stmt(2)} }} }}')
            out.append(f"expect v1: {rng.choice(('SAFE', 'PROVEN', 'VIOLATED'))}")
        return "\n".join(out) + "\n"


def generate(rng: random.Random) -> str:
    return _Gen(rng).spec()


# ---------------------------------------------------------------------------- driving


def inputs(mode: str, rng: random.Random, corpus: list[tuple[str, str]]) -> Iterator[
        tuple[str, str | bytes]]:
    """An endless stream of (source kind, input)."""
    names_of = [sorted({m.group() for m in _tokens(t) if m.group()[0].isalpha()})
                for _, t in corpus]
    # big files (scenarios that `use` the library) cost far more per input: pick them less
    weights = [1.0 / (1.0 + len(t) / 2000 + 3 * t.count("\nuse ")) for _, t in corpus]
    while True:
        kind = mode if mode != "mixed" else rng.choice(("mutate", "mutate", "generate",
                                                        "mutate-generated", "mutate-generated"))
        match kind:
            case "mutate":
                i = rng.choices(range(len(corpus)), weights)[0]
                yield kind, mutate(corpus[i][1], rng, names_of[i])
            case "generate":
                yield kind, generate(rng)
            case _:
                text = generate(rng)
                names = sorted({m.group() for m in _tokens(text) if m.group()[0].isalpha()})
                yield kind, mutate(text, rng, names)


@dataclass
class Stats:
    tried: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (saved file, detail)

    def add(self, kind: str, r: Result) -> None:
        self.tried += 1
        self.by_outcome[r.outcome.value] = self.by_outcome.get(r.outcome.value, 0) + 1
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1


@contextlib.contextmanager
def _cached_parses() -> Iterator[None]:
    """Within a run, parse each unchanged `use`d library file once (ASTs are immutable): the
    mutated spec is parsed afresh every time, the same 40 kB of library is not."""
    import functools

    from drvmc.checker.lang import loader

    original = loader.parse_text
    loader.parse_text = functools.lru_cache(maxsize=256)(original)
    try:
        yield
    finally:
        loader.parse_text = original


def run(count: int, seed: int, mode: str, out: Path | None, report_every: int = 1000,
        on_failure: Callable[[str | bytes, Result], None] | None = None,
        deadline: float | None = None, engine: bool = True) -> Stats:
    with _cached_parses():
        return _run(count, seed, mode, out, report_every, on_failure, deadline, engine)


def _run(count: int, seed: int, mode: str, out: Path | None, report_every: int,
         on_failure: Callable[[str | bytes, Result], None] | None,
         deadline: float | None, engine: bool) -> Stats:
    rng = random.Random(seed)
    corpus = seed_corpus()
    stats = Stats()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="drvmc-fuzz-") as tmp:
        work = Path(tmp)
        stream = inputs(mode, rng, corpus)
        while stats.tried < count:
            if deadline is not None and time.monotonic() > deadline:
                break
            kind, data = next(stream)
            r = run_guarded(data, work, engine=engine)
            stats.add(kind, r)
            if r.outcome in BAD:
                saved = ""
                if out is not None:
                    out.mkdir(parents=True, exist_ok=True)
                    n = len(stats.failures)
                    p = out / f"crash_{seed}_{n:04d}.drv"
                    p.write_bytes(data if isinstance(data, bytes) else
                                  data.encode("utf-8", "surrogatepass"))
                    (out / f"crash_{seed}_{n:04d}.txt").write_text(r.detail, encoding="utf-8")
                    saved = str(p)
                stats.failures.append((saved, r.detail))
                if on_failure is not None:
                    on_failure(data, r)
            if report_every and stats.tried % report_every == 0:
                rate = stats.tried / max(1e-9, time.monotonic() - started)
                print(f"{stats.tried} inputs, {len(stats.failures)} failures, {rate:.1f}/s, "
                      f"{stats.by_outcome}", flush=True)
    return stats


def run_grammar(count: int, seed: int, out: Path | None) -> Stats:
    """Text drawn from the grammar itself (hypothesis `from_lark`), fed through the same path."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hseed
    from hypothesis.extra.lark import from_lark

    from drvmc.checker.lang.parser import _parser

    stats = Stats()
    with tempfile.TemporaryDirectory(prefix="drvmc-fuzz-") as tmp:
        work = Path(tmp)

        @hseed(seed)
        @settings(max_examples=count, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(from_lark(_parser()))
        def one(text: str) -> None:
            r = run_one(text, work)
            stats.add("grammar", r)
            if r.outcome in BAD:
                saved = ""
                if out is not None:
                    out.mkdir(parents=True, exist_ok=True)
                    p = out / f"crash_grammar_{seed}_{len(stats.failures):04d}.drv"
                    p.write_text(text, encoding="utf-8")
                    saved = str(p)
                stats.failures.append((saved, r.detail))

        one()
    return stats


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mode", choices=("mixed", "mutate", "generate", "mutate-generated",
                                       "grammar"), default="mixed")
    ap.add_argument("--out", type=Path, default=None, help="folder for crashing inputs")
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    ap.add_argument("--report-every", type=int, default=1000, help="progress line interval")
    ap.add_argument("--front-end-only", action="store_true",
                    help="stop after parsing and elaborating (no encoding or checking)")
    args = ap.parse_args()
    started = time.monotonic()
    if args.mode == "grammar":
        stats = run_grammar(args.count, args.seed, args.out)
    else:
        stats = run(args.count, args.seed, args.mode, args.out, args.report_every,
                    engine=not args.front_end_only)
    secs = time.monotonic() - started
    print(f"inputs tried: {stats.tried}")
    print(f"failures (tracebacks or positionless errors): {len(stats.failures)}")
    print(f"outcomes: {json.dumps(stats.by_outcome, sort_keys=True)}")
    print(f"sources: {json.dumps(stats.by_kind, sort_keys=True)}")
    print(f"seconds: {secs:.0f}")
    for saved, detail in stats.failures[:20]:
        print(f"--- {saved}\n{detail}")
    if args.json is not None:
        figures = {"tried": stats.tried, "failures": len(stats.failures),
                   "outcomes": stats.by_outcome, "sources": stats.by_kind,
                   "seconds": round(secs), "seed": args.seed, "mode": args.mode,
                   "engine": not args.front_end_only}
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n",
                             encoding="utf-8")
    return 1 if stats.failures else 0


if __name__ == "__main__":
    sys.exit(main())
