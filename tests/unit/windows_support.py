"""Helpers of the window tests: build a window operator through the DataStream API, run it in the harness."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional

from yflink.datastream import DataStream, KeyedStream, StreamExecutionEnvironment
from yflink.streaming.operators.window import WindowOperator
from yflink.testing import OneInputOperatorTestHarness as Harness


def keyed_stream(key: Callable[[Any], Any] = lambda e: e[0]) -> KeyedStream:
    """A keyed stream of ``(key, value)`` tuples; only the operators built on it are used."""
    env = StreamExecutionEnvironment.get_execution_environment()
    return env.from_collection([("a", 1)]).key_by(key)


def plain_stream() -> DataStream:
    env = StreamExecutionEnvironment.get_execution_environment()
    return env.from_collection([("a", 1)])


def operator_of(stream: DataStream) -> WindowOperator:
    operator = stream._transformation.operator  # type: ignore[attr-defined]
    assert isinstance(operator, WindowOperator)
    return operator


def harness(stream: DataStream, processing_time: Optional[int] = None) -> Harness:
    """An open harness around the window operator that produced ``stream``."""
    h = Harness(operator_of(stream))
    if processing_time is not None:
        h.set_processing_time(processing_time)
    h.open()
    return h


def feed(h: Harness, elements: list[tuple[Any, int]]) -> None:
    """``(value, timestamp)`` pairs, one batch."""
    h.process_elements([v for v, _ in elements], [t for _, t in elements])


def records(h: Harness) -> list[tuple[Any, Optional[int]]]:
    """``(value, timestamp)`` of every output so far."""
    return h.get_output_with_timestamps()


def take(h: Harness) -> list[Any]:
    """The outputs so far (then forgets them)."""
    out = h.get_output()
    h.clear_output()
    return out
