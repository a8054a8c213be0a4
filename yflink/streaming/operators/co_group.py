"""The pieces of a window join / co-group, run by an ordinary window operator (Flink ``CoGroupedStreams``).

Flink builds ``a.join(b).where(ka).equal_to(kb).window(w).apply(f)`` from existing operators, and so does
yflink: each input is mapped to a :class:`TaggedUnion` (which input, the value; timestamps are kept), the two
are unioned and keyed by :class:`UnionKeySelector` (``ka`` or ``kb`` by tag), windowed with ``w`` and
evaluated by :class:`CoGroupWindowFunction`, which splits a window's elements by input again and calls the
CoGroupFunction; a join is a co-group whose function pairs every element of one side with every element of
the other (:class:`JoinCoGroupFunction`), so a window with elements of one side only produces nothing.

Source of the semantics: Flink ``CoGroupedStreams`` (``TaggedUnion``, ``UnionKeySelector``,
``CoGroupWindowFunction``), ``JoinedStreams`` (``JoinCoGroupFunction``, ``FlatJoinCoGroupFunction``) and the
documentation section "Joining" (Window Join).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from yflink.datastream.functions import KeySelector, MapFunction, RuntimeContext, WindowFunction
from yflink.datastream.two_input_functions import CoGroupFunction
from yflink.streaming.operators.udf import as_callable, close_function, open_function

__all__ = ["CoGroupWindowFunction", "JoinCoGroupFunction", "TaggedUnion", "Tagger", "UnionKeySelector"]


class TaggedUnion:
    """A value of input 1 or input 2 of a co-group."""

    __slots__ = ("input", "value")

    def __init__(self, input: int, value: Any) -> None:
        self.input = input
        self.value = value

    def __getstate__(self) -> tuple[int, Any]:
        return self.input, self.value

    def __setstate__(self, state: tuple[int, Any]) -> None:
        self.input, self.value = state

    def __repr__(self) -> str:
        return f"TaggedUnion({self.input}, {self.value!r})"


class Tagger(MapFunction):
    """Wraps each value of one input in a :class:`TaggedUnion`."""

    def __init__(self, input: int) -> None:
        self.input = input

    def map(self, value: Any) -> TaggedUnion:
        return TaggedUnion(self.input, value)


class UnionKeySelector(KeySelector):
    """The key of a tagged value: the first input's key selector or the second's."""

    def __init__(self, key_selector1: Any, key_selector2: Any) -> None:
        self.key_selector1 = key_selector1
        self.key_selector2 = key_selector2
        self._fns: Any = None

    def get_key(self, value: TaggedUnion) -> Any:
        fns = self._fns
        if fns is None:
            fns = self._fns = (as_callable(self.key_selector1, "get_key"), as_callable(self.key_selector2, "get_key"))
        return fns[0](value.value) if value.input == 1 else fns[1](value.value)

    def __getstate__(self) -> dict[str, Any]:
        return {"key_selector1": self.key_selector1, "key_selector2": self.key_selector2, "_fns": None}


class CoGroupWindowFunction(WindowFunction):
    """Splits a window's tagged elements by input and calls ``co_group(first, second)``."""

    def __init__(self, co_group_function: Any, operator_name: str = "CoGroup") -> None:
        self.co_group_function = co_group_function
        self.operator_name = operator_name

    def open(self, runtime_context: RuntimeContext) -> None:
        open_function(self.co_group_function, runtime_context, self.operator_name)
        self._co_group = as_callable(self.co_group_function, "co_group")

    def close(self) -> None:
        close_function(self.co_group_function, self.operator_name)

    def apply(self, key: Any, window: Any, inputs: Iterable[TaggedUnion]) -> Iterable[Any]:
        first: list[Any] = []
        second: list[Any] = []
        for tagged in inputs:
            (first if tagged.input == 1 else second).append(tagged.value)
        produced = self._co_group(first, second)
        return produced if produced is not None else ()


class JoinCoGroupFunction(CoGroupFunction):
    """A window join as a co-group: ``join(a, b)`` for every pair (``flat``: it yields zero or more outputs)."""

    def __init__(self, join_function: Any, flat: bool) -> None:
        self.join_function = join_function
        self.flat = flat

    def open(self, runtime_context: RuntimeContext) -> None:
        opener = getattr(self.join_function, "open", None)
        if callable(opener):
            opener(runtime_context)
        self._join = as_callable(self.join_function, "join")

    def close(self) -> None:
        closer = getattr(self.join_function, "close", None)
        if callable(closer):
            closer()

    def co_group(self, first: Iterable[Any], second: Iterable[Any]) -> Iterable[Any]:
        join = self._join
        second = list(second)
        for a in first:
            for b in second:
                if self.flat:
                    produced = join(a, b)
                    if produced is not None:
                        yield from produced
                else:
                    yield join(a, b)
