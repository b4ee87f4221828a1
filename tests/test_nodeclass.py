"""`node` classes behave exactly as `@dataclass(frozen=True)` ones, whatever touches them first."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from drvmc.checker.errors import NO_SPAN, Span
from drvmc.checker.nodeclass import node

ROOT = Path(__file__).resolve().parent.parent


def _pair() -> tuple[type, type]:
    """A fresh `node` class and the `@dataclass(frozen=True)` class of the same body."""

    def body() -> dict[str, object]:
        return {"__annotations__": {"a": "int", "b": "tuple[int, ...]", "span": "Span"},
                "b": (), "span": dataclasses.field(default=NO_SPAN, compare=False),
                "__module__": __name__}

    lazy = node(type("P", (), body()))
    eager = dataclasses.dataclass(frozen=True)(type("P", (), body()))
    return lazy, eager


def test_class_attributes_before_any_instance() -> None:
    lazy, eager = _pair()
    assert dataclasses.is_dataclass(lazy)
    assert [(f.name, f.default, f.compare) for f in dataclasses.fields(lazy)] == \
        [(f.name, f.default, f.compare) for f in dataclasses.fields(eager)]
    lazy, eager = _pair()
    assert lazy.__match_args__ == eager.__match_args__ == ("a", "b", "span")
    lazy, eager = _pair()
    assert str(inspect.signature(lazy)) == str(inspect.signature(eager))


def test_instances_are_frozen_dataclass_instances() -> None:
    lazy, eager = _pair()
    x, y = lazy(1, (2,)), lazy(1, (2,), Span("f", 1, 1, 1, 2))
    assert x == y and hash(x) == hash(y) == hash(eager(1, (2,)))
    assert repr(x).removeprefix("test_nodeclass.") == repr(eager(1, (2,))).removeprefix(
        "test_nodeclass.")
    with pytest.raises(dataclasses.FrozenInstanceError):
        x.a = 3  # type: ignore[attr-defined]
    assert dataclasses.replace(x, a=5) == lazy(5, (2,))
    match x:
        case lazy(a, b):  # type: ignore[misc]
            assert (a, b) == (1, (2,))
        case _:
            pytest.fail("positional class pattern did not match")
    for name in ("__node_pending__", "__setstate__", "__signature__"):
        assert name not in vars(lazy)
    for name in ("__init__", "__eq__", "__hash__", "__repr__", "__setattr__"):
        assert getattr(lazy, name).__qualname__.endswith(name)
        assert getattr(lazy, name).__code__.co_code == getattr(eager, name).__code__.co_code


def test_a_subclass_made_first_makes_its_base() -> None:
    lazy, _ = _pair()
    sub = type("Sub", (lazy,), {})
    s = sub(4)
    assert s == sub(4) and s.a == 4 and dataclasses.fields(lazy)[0].name == "a"


def test_first_instances_in_two_threads() -> None:
    lazy, _ = _pair()
    made: list[object] = []
    barrier = threading.Barrier(2)

    def make() -> None:
        barrier.wait()
        made.append(lazy(7))

    threads = [threading.Thread(target=make) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert made[0] == made[1] and hash(made[0]) == hash(made[1])


def test_unpickled_first_in_a_fresh_process() -> None:
    """Unpickling makes an instance without `__init__`: in a process where nothing has made the
    class yet, it must still compare and hash by value (not by identity)."""
    from drvmc.checker.lang import ast as A

    data = pickle.dumps(A.IntLit(5, Span("f.drv", 1, 2, 1, 3)))
    code = ("import pickle, sys\n"
            "from drvmc.checker.lang import ast as A\n"
            "assert '__node_pending__' in vars(A.IntLit)\n"
            "x = pickle.loads(sys.stdin.buffer.read())\n"
            "print(hash(x) == hash((5,)), x.span.line, x == A.IntLit(5))\n")
    out = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True,
                         cwd=ROOT, check=True).stdout.decode()
    assert out.split() == ["True", "1", "True"]


def test_a_class_with_its_own_init_is_refused() -> None:
    with pytest.raises(TypeError, match="cannot define __init__"):
        node(type("Q", (), {"__annotations__": {"a": "int"}, "__init__": lambda self: None}))


def test_a_signal_while_a_class_is_made_is_taken_later(tmp_path: Path) -> None:
    """The CLI's handler must not raise KeyboardInterrupt in the middle of making a class: the
    class would stay half-made (and broken) for the rest of the process. (In a script of its
    own: under pytest-xdist the test's own stack holds code run from a string, which the handler
    also waits out.)"""
    script = tmp_path / "probe.py"
    script.write_text(
        "import dataclasses, sys\n"
        "from drvmc.checker.app import cli\n"
        "from drvmc.checker.nodeclass import node\n"
        "seen = []\n"
        "make = dataclasses.dataclass\n"
        "def watching(*args, **kwargs):\n"
        "    seen.append(cli._unsafe_to_raise(sys._getframe()))\n"
        "    return make(*args, **kwargs)\n"
        "@node\n"
        "class P:\n"
        "    a: int\n"
        "dataclasses.dataclass = watching\n"
        "P(1)\n"
        "print(seen, cli._unsafe_to_raise(sys._getframe()))\n", encoding="utf-8")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, cwd=ROOT,
                         check=True, text=True).stdout
    assert out.split() == ["[True]", "False"]
