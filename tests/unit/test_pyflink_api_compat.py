"""Small PyFlink API details that PyFlink programs rely on, found by running PyFlink's own examples
(``flink-python/pyflink/examples/datastream``) with their imports changed to yflink.

Source: PyFlink ``pyflink/datastream/functions.py`` (the window and broadcast functions are ``Generic``;
``IN``, ``OUT``, ``KEY``, ``W`` ... are importable type variables).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from yflink.datastream import ProcessWindowFunction, WindowFunction
from yflink.datastream.functions import (
    IN,
    KEY,
    OUT,
    AllWindowFunction,
    BroadcastProcessFunction,
    KeyedBroadcastProcessFunction,
    ProcessAllWindowFunction,
    W,
)
from yflink.datastream.window import CountWindow, TimeWindow


def test_window_functions_are_generic_as_in_pyflink() -> None:
    class Count(ProcessWindowFunction[tuple, tuple, str, TimeWindow]):
        def process(self, key: str, context: ProcessWindowFunction.Context[TimeWindow],
                    elements: Iterable[tuple]) -> Iterable[tuple]:
            return [(key, context.window().start, len(list(elements)))]

    class Sum(WindowFunction[tuple, tuple, str, CountWindow]):
        def apply(self, key: str, window: CountWindow, inputs: Iterable[tuple]) -> Iterable[tuple]:
            return [(key, sum(i[0] for i in inputs))]

    class PassThrough(AllWindowFunction[IN, IN, W]):
        def apply(self, window: Any, inputs: Iterable[Any]) -> Iterable[Any]:
            yield from inputs

    assert isinstance(Count(), ProcessWindowFunction)
    assert list(Sum().apply("a", CountWindow(0), [(1,), (2,)])) == [("a", 3)]
    assert list(PassThrough().apply(None, [1, 2])) == [1, 2]
    assert ProcessAllWindowFunction[int, int, TimeWindow].Context[TimeWindow] is not None
    assert BroadcastProcessFunction[int, str, OUT] is not None
    assert KeyedBroadcastProcessFunction[KEY, int, str, OUT] is not None
