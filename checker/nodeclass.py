"""`node`: a frozen dataclass whose generated methods are made when the class is first used.

CPython 3.11 makes each method of a dataclass by compiling its source text, six per frozen class:
about a millisecond a class, and the syntax tree and the IR have over a hundred, a third of the
CPU of `drvmc parse` on a small spec (issue 19). A spec uses a part of them. `node` runs
`dataclasses.dataclass(frozen=True)` on a class the first time anything can tell the difference:
its first instance (made by a call, or by unpickling in another process), or a look-up of a
dataclass attribute on the class itself (`dataclasses.fields(cls)`, `dataclasses.is_dataclass(cls)`,
`__match_args__`, `inspect.signature(cls)`). From then on the class is exactly what
`@dataclass(frozen=True)` makes: no placeholder stays behind.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any, TypeVar, dataclass_transform

_T = TypeVar("_T")

# the class attributes a dataclass has and a plain class does not, looked up on the class
_CLASS_ATTRIBUTES = ("__dataclass_fields__", "__dataclass_params__", "__match_args__",
                     "__signature__")
_MARK = "__node_pending__"
# what stands in for the dataclass until then; `__new__` cannot: once set on a class, CPython
# keeps calling it through the type's slot after it is deleted again
_PLACEHOLDERS = (_MARK, "__init__", "__setstate__", *_CLASS_ATTRIBUTES)
# two threads may make the first instance of one class at once; the methods are made once
_LOCK = threading.RLock()


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field,))
def node(cls: type[_T]) -> type[_T]:
    """Like `@dataclass(frozen=True)`, with the methods made on first use."""
    own = [n for n in _PLACEHOLDERS if n in cls.__dict__]
    if own:
        # the placeholders would replace them, and be deleted again with them
        raise TypeError(f"a @node class cannot define {', '.join(own)}: {cls.__qualname__}")
    type.__setattr__(cls, _MARK, True)
    type.__setattr__(cls, "__init__", _first_init)
    type.__setattr__(cls, "__setstate__", _first_setstate)
    for name in _CLASS_ATTRIBUTES:
        type.__setattr__(cls, name, _OnFirstLookUp(name))
    return cls


def realise(cls: type) -> None:
    """Make the dataclass methods of `cls` and of its bases now, where not made yet."""
    with _LOCK:
        for c in reversed(cls.__mro__):
            if c.__dict__.get(_MARK):
                for name in _PLACEHOLDERS:
                    type.__delattr__(c, name)
                dataclasses.dataclass(frozen=True)(c)


def _first_init(self: object, *args: Any, **kwargs: Any) -> None:
    realise(type(self))
    type(self).__init__(self, *args, **kwargs)


def _first_setstate(self: object, state: dict[str, Any]) -> None:
    # unpickling makes an instance without `__init__`, then sets its state here (pickle's own
    # way for a class without `__setstate__`, which a dataclass without slots is)
    realise(type(self))
    self.__dict__.update(state)


class _OnFirstLookUp:
    """Stands for a dataclass attribute until the class is made a dataclass."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, instance: object, owner: type) -> Any:
        realise(owner)
        if self.name == "__signature__":
            # a dataclass has none of its own: `inspect` reads `__init__` when this is None
            return None
        return getattr(owner, self.name)
