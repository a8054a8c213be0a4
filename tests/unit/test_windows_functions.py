"""Window functions: reduce, aggregate, apply, process (with context), their all-window variants, count windows.

Semantics: Flink documentation, "Windows" > "Window Functions" (ReduceFunction, AggregateFunction,
ProcessWindowFunction, ProcessWindowFunction with Incremental Aggregation, Using per-window state in
ProcessWindowFunction, WindowFunction (Legacy)), "Keyed vs Non-Keyed Windows", "Working with window results";
PyFlink ``KeyedStream.count_window`` / ``WindowedStream`` / ``AllWindowedStream``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from tests.unit.windows_support import feed, harness, keyed_stream, operator_of, plain_stream, records, take
from yflink.common import Time, Types
from yflink.datastream import (
    AggregateFunction,
    OutputTag,
    ProcessAllWindowFunction,
    ProcessWindowFunction,
    ReduceFunction,
    TimeDomain,
    ValueStateDescriptor,
    WindowFunction,
)
from yflink.datastream.functions import AllWindowFunction
from yflink.datastream.window import (
    CountTrigger,
    CountWindow,
    GlobalWindows,
    PurgingTrigger,
    SlidingEventTimeWindows,
    TimeWindow,
    TumblingEventTimeWindows,
)
from yflink.streaming.operators.udf import UserFunctionError
from yflink.testing import OneInputOperatorTestHarness as Harness

FIVE_SECONDS = TumblingEventTimeWindows.of(Time.seconds(5))


class AverageAggregate(AggregateFunction):
    """The documentation's AggregateFunction: the average of the second field."""

    def create_accumulator(self) -> tuple[int, int]:
        return 0, 0

    def add(self, value: tuple[str, int], accumulator: tuple[int, int]) -> tuple[int, int]:
        return accumulator[0] + value[1], accumulator[1] + 1

    def get_result(self, accumulator: tuple[int, int]) -> float:
        return accumulator[0] / accumulator[1]

    def merge(self, a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
        return a[0] + b[0], a[1] + b[1]


class CountWithContext(ProcessWindowFunction):
    """The documentation's ProcessWindowFunction: counts the window's elements."""

    def process(self, key: str, context: ProcessWindowFunction.Context, elements: Iterable[Any]) -> Any:
        yield f"Window: {context.window()} count: {len(list(elements))}"


def test_reduce_keeps_one_value_per_key_and_window() -> None:
    """ReduceFunction: incremental; one result per key and window, timestamped with window.max_timestamp().
    Flink documentation: "Windows" > "Window Functions" > "ReduceFunction"."""
    stream = keyed_stream().window(FIVE_SECONDS).reduce(lambda a, b: (a[0], a[1] + b[1]))
    h = harness(stream)
    feed(h, [(("a", 1), 1000), (("b", 2), 2000), (("a", 3), 4999), (("a", 4), 5000)])
    assert h.operator._contents == {"a": {TimeWindow(0, 5000): ("a", 4), TimeWindow(5000, 10000): ("a", 4)},
                                    "b": {TimeWindow(0, 5000): ("b", 2)}}
    h.process_watermark(4999)
    assert records(h) == [(("a", 4), 4999), (("b", 2), 4999)]
    assert h.get_watermarks() == [4999]
    h.end_input()
    assert records(h)[2:] == [(("a", 4), 9999)]
    assert h.operator._contents == {} and not h.operator._timers.has_timers(TimeDomain.EVENT_TIME)


def test_reduce_function_object_and_window_function() -> None:
    """"ProcessWindowFunction with Incremental Aggregation": the documentation's smallest reading per window,
    emitted with the window start; and a (legacy) WindowFunction after a ReduceFunction."""

    class Smaller(ReduceFunction):
        def reduce(self, value1: Any, value2: Any) -> Any:
            return value1 if value1[1] <= value2[1] else value2

    class WithStart(ProcessWindowFunction):
        def process(self, key: str, context: ProcessWindowFunction.Context, elements: Iterable[Any]) -> Any:
            (minimum,) = list(elements)
            yield context.window().start, minimum

    h = harness(keyed_stream().window(FIVE_SECONDS).reduce(Smaller(), WithStart()))
    feed(h, [(("a", 5), 1), (("a", 2), 2), (("a", 9), 3), (("a", 1), 6000)])
    h.end_input()
    assert h.get_output() == [(0, ("a", 2)), (5000, ("a", 1))]

    class Tagged(WindowFunction):
        def apply(self, key: str, window: TimeWindow, inputs: Iterable[Any]) -> Any:
            return [(key, window.end, value) for value in inputs]

    h = harness(keyed_stream().window(FIVE_SECONDS).reduce(lambda a, b: (a[0], a[1] + b[1]), Tagged()))
    feed(h, [(("a", 5), 1), (("a", 2), 2)])
    h.end_input()
    assert h.get_output() == [("a", 5000, ("a", 7))]


def test_aggregate_average_as_in_the_documentation() -> None:
    """AggregateFunction: the average of the second field per key and window; with a ProcessWindowFunction
    the key comes along ("ProcessWindowFunction with Incremental Aggregation")."""
    h = harness(keyed_stream().window(FIVE_SECONDS).aggregate(AverageAggregate()))
    feed(h, [(("a", 1), 1), (("a", 2), 2), (("b", 10), 3), (("a", 6), 4)])
    h.end_input()
    assert sorted(h.get_output()) == [3.0, 10.0]

    class WithKey(ProcessWindowFunction):
        def process(self, key: str, context: ProcessWindowFunction.Context, averages: Iterable[float]) -> Any:
            yield key, next(iter(averages))

    h = harness(keyed_stream().window(FIVE_SECONDS).aggregate(
        AverageAggregate(), WithKey(), accumulator_type=Types.TUPLE([Types.LONG(), Types.LONG()]),
        output_type=Types.TUPLE([Types.STRING(), Types.DOUBLE()])))
    feed(h, [(("a", 1), 1), (("a", 2), 2), (("b", 10), 3)])
    h.end_input()
    assert sorted(h.get_output()) == [("a", 1.5), ("b", 10.0)]


def test_process_sees_all_elements_and_the_window() -> None:
    """ProcessWindowFunction: all elements of the window, in arrival order, and the window in the context.
    Flink documentation: "Windows" > "Window Functions" > "ProcessWindowFunction"."""
    h = harness(keyed_stream().window(FIVE_SECONDS).process(CountWithContext()))
    feed(h, [(("a", 1), 1), (("a", 2), 7000), (("a", 3), 2)])
    h.end_input()
    assert h.get_output() == ["Window: TimeWindow(start=0, end=5000) count: 2",
                              "Window: TimeWindow(start=5000, end=10000) count: 1"]


def test_apply_with_a_window_function_or_a_callable() -> None:
    """WindowFunction (legacy): ``apply(key, window, inputs)`` over all elements of the window.
    Flink documentation: "Windows" > "Window Functions" > "WindowFunction (Legacy)"."""

    class Sum(WindowFunction):
        def apply(self, key: str, window: TimeWindow, inputs: Iterable[Any]) -> Any:
            yield key, window.start, sum(v for _, v in inputs)

    h = harness(keyed_stream().window(FIVE_SECONDS).apply(Sum()))
    feed(h, [(("a", 1), 1), (("a", 2), 2), (("b", 3), 3)])
    h.end_input()
    assert sorted(h.get_output()) == [("a", 0, 3), ("b", 0, 3)]
    h = harness(keyed_stream().window(FIVE_SECONDS).apply(lambda key, window, inputs: [len(list(inputs))]))
    feed(h, [(("a", 1), 1), (("a", 2), 2)])
    h.end_input()
    assert h.get_output() == [2]


def test_process_context_time_state_and_side_output() -> None:
    """"Using per-window state in ProcessWindowFunction": window_state() is per key and window (and cleaned up in
    clear() when the window expires), global_state() per key; the context gives watermark and processing time;
    output(tag, value) emits to a side output with the window's max timestamp."""
    fired = OutputTag("fired", Types.STRING())

    class Firings(ProcessWindowFunction):
        def process(self, key: str, context: ProcessWindowFunction.Context, elements: Iterable[Any]) -> Any:
            per_window = context.window_state().get_state(ValueStateDescriptor("firings", Types.INT()))
            per_key = context.global_state().get_state(ValueStateDescriptor("total", Types.INT()))
            per_window.update((per_window.value() or 0) + 1)
            per_key.update((per_key.value() or 0) + 1)
            context.output(fired, f"{key}@{context.window().start}")
            yield (key, context.window().start, per_window.value(), per_key.value(), context.current_watermark(),
                   context.current_processing_time())

        def clear(self, context: ProcessWindowFunction.Context) -> None:
            context.window_state().get_state(ValueStateDescriptor("firings", Types.INT())).clear()

    stream = keyed_stream().window(FIVE_SECONDS).allowed_lateness(5000).process(Firings())
    h = harness(stream, processing_time=777)
    feed(h, [(("a", 1), 1)])
    h.process_watermark(5000)
    feed(h, [(("a", 2), 2)])  # late but within the allowed lateness: fires again
    feed(h, [(("a", 3), 6000)])
    h.process_watermark(12000)
    assert h.get_output() == [("a", 0, 1, 1, 5000, 777), ("a", 0, 2, 2, 5000, 777),
                              ("a", 5000, 1, 3, 12000, 777)]
    assert [e[1:] for e in h.get_events() if e[0] == "side"] == [("fired", "a@0", 4999), ("fired", "a@0", 4999),
                                                                 ("fired", "a@5000", 9999)]
    assert h.operator._window_states._tables["firings"] == {"a": {TimeWindow(5000, 10000): 1}}
    h.process_watermark(15000)
    assert h.operator._window_states._tables["firings"] == {}


def test_yielded_output_tag_pairs_go_to_side_outputs() -> None:
    """PyFlink's way to emit to a side output: a window function yields ``(output_tag, value)``
    (Flink documentation, "Side Outputs"; PyFlink routes such pairs to the tag's side output)."""
    small = OutputTag("small", Types.INT())

    class Split(ProcessWindowFunction):
        def process(self, key: str, context: ProcessWindowFunction.Context, elements: Iterable[Any]) -> Any:
            for _, v in elements:
                yield (small, v) if v < 10 else (key, v)

    h = harness(keyed_stream().window(FIVE_SECONDS).process(Split()))
    feed(h, [(("a", 1), 1), (("a", 20), 2), (("a", 3), 3)])
    h.end_input()
    assert records(h) == [(("a", 20), 4999)]
    assert [e[1:] for e in h.get_events() if e[0] == "side"] == [("small", 1, 4999), ("small", 3, 4999)]


def test_window_all_runs_on_one_subtask_with_all_window_functions() -> None:
    """"Keyed vs Non-Keyed Windows": window_all windows the whole stream with parallelism 1."""

    class Total(AllWindowFunction):
        def apply(self, window: TimeWindow, inputs: Iterable[Any]) -> Any:
            yield window.start, sum(v for _, v in inputs)

    class Count(ProcessAllWindowFunction):
        def process(self, context: ProcessAllWindowFunction.Context, elements: Iterable[Any]) -> Any:
            yield context.window().end, len(list(elements))

    stream = plain_stream().window_all(FIVE_SECONDS).apply(Total())
    assert stream._transformation.parallelism == 1
    with pytest.raises(Exception, match="non parallel"):
        stream.set_parallelism(2)
    h = harness(stream)
    feed(h, [(("a", 1), 1), (("b", 2), 2), (("c", 3), 6000)])
    h.end_input()
    assert h.get_output() == [(0, 3), (5000, 3)]
    h = harness(plain_stream().window_all(FIVE_SECONDS).process(Count()))
    feed(h, [(("a", 1), 1), (("b", 2), 2)])
    h.end_input()
    assert h.get_output() == [(5000, 2)]
    h = harness(plain_stream().window_all(FIVE_SECONDS).reduce(lambda a, b: ("all", a[1] + b[1])))
    feed(h, [(("a", 1), 1), (("b", 2), 2)])
    h.end_input()
    assert h.get_output() == [("all", 3)]
    h = harness(plain_stream().window_all(FIVE_SECONDS).aggregate(AverageAggregate()))
    feed(h, [(("a", 1), 1), (("b", 2), 2)])
    h.end_input()
    assert h.get_output() == [1.5]


def test_count_windows_as_in_pyflink() -> None:
    """PyFlink ``count_window(size)``: a window per ``size`` elements of a key; ``count_window(size, slide)``:
    windows of ``size`` elements every ``slide`` elements, each firing once it is full (count_window(2, 1) over
    six elements of one key fires five windows of two)."""
    h = harness(keyed_stream().count_window(3).reduce(lambda a, b: (a[0], a[1] + b[1])))
    h.process_elements([("a", 1), ("a", 2), ("b", 5), ("a", 3), ("a", 4)])
    assert take(h) == [("a", 6)]
    h.process_elements([("a", 5), ("a", 6)])
    assert take(h) == [("a", 15)]
    h.end_input()
    assert take(h) == []  # an incomplete count window never fires
    assert h.operator._contents == {"b": {CountWindow(0): ("b", 5)}}  # fired count windows leave no state

    class Count(WindowFunction):
        def apply(self, key: str, window: CountWindow, inputs: Iterable[Any]) -> Any:
            yield key, len(list(inputs))

    h = harness(keyed_stream().count_window(2, 1).apply(Count()))
    h.process_elements([("E", 3), ("E", 1), ("E", 4), ("E", 2), ("E", 6), ("E", 5)])
    h.end_input()
    assert h.get_output() == [("E", 2)] * 5
    h = harness(keyed_stream().count_window(3, 2).apply(lambda k, w, inputs: [[v for _, v in inputs]]))
    h.process_elements([("a", i) for i in range(7)])
    assert h.get_output() == [[0, 1, 2], [2, 3, 4], [4, 5, 6]]
    h = harness(plain_stream().count_window_all(2).apply(lambda w, inputs: [[v for _, v in inputs]]))
    h.process_elements([("a", 1), ("b", 2), ("c", 3)])
    assert h.get_output() == [[1, 2]]


def test_global_windows_with_a_count_trigger_keep_or_purge_contents() -> None:
    """"Fire and Purge": CountTrigger fires without purging (each firing sees everything so far);
    PurgingTrigger.of(CountTrigger) purges after each firing."""
    reduce = lambda a, b: (a[0], a[1] + b[1])  # noqa: E731
    h = harness(keyed_stream().window(GlobalWindows.create()).trigger(CountTrigger.of(2)).reduce(reduce))
    h.process_elements([("a", 1), ("a", 2), ("a", 3), ("a", 4)])
    assert take(h) == [("a", 3), ("a", 10)]
    h = harness(keyed_stream().window(GlobalWindows.create()).trigger(PurgingTrigger.of(CountTrigger.of(2)))
                .reduce(reduce))
    h.process_elements([("a", 1), ("a", 2), ("a", 3), ("a", 4), ("a", 5)])
    h.end_input()
    assert take(h) == [("a", 3), ("a", 7)]
    h = harness(keyed_stream().window(GlobalWindows.create()).reduce(reduce))
    h.process_elements([("a", 1), ("a", 2)])
    h.end_input()
    assert take(h) == []  # the default trigger of global windows never fires
    h = harness(keyed_stream().window(GlobalWindows.create_with_end_of_stream_trigger()).reduce(reduce))
    h.process_elements([("a", 1), ("a", 2)])
    h.end_input()
    assert take(h) == [("a", 3)]


def test_sliding_windows_reduce_each_window() -> None:
    """Sliding windows: an element counts in every window it belongs to (size 10 s, slide 5 s).
    Flink documentation: "Windows" > "Sliding Windows"."""
    stream = keyed_stream().window(SlidingEventTimeWindows.of(Time.seconds(10), Time.seconds(5))) \
        .reduce(lambda a, b: (a[0], a[1] + b[1]))
    h = harness(stream)
    feed(h, [(("a", 1), 1000), (("a", 10), 6000), (("a", 100), 12000)])
    h.end_input()
    assert records(h) == [(("a", 1), 4999), (("a", 11), 9999), (("a", 110), 14999), (("a", 100), 19999)]


def test_consecutive_windowed_operations() -> None:
    """"Working with window results" > "Consecutive windowed operations": results carry the window's
    max_timestamp, so a second window of the same size downstream puts each result in the matching window and
    fires it when the forwarded watermark passes."""
    first = harness(keyed_stream().window(FIVE_SECONDS).reduce(lambda a, b: (a[0], a[1] + b[1])))
    feed(first, [(("a", 1), 1000), (("b", 2), 2000), (("a", 3), 6000), (("b", 4), 9999)])
    first.process_watermark(9999)
    second = harness(plain_stream().window_all(FIVE_SECONDS).reduce(lambda a, b: ("top", max(a[1], b[1]))))
    for event in first.get_events():
        if event[0] == "record":
            second.process_element(event[1], event[2])
        else:
            second.process_watermark(event[1])
    assert records(second) == [(("top", 2), 4999), (("top", 4), 9999)]


def test_function_type_errors() -> None:
    """PyFlink's type checks on window functions."""
    windowed = keyed_stream().window(FIVE_SECONDS)
    with pytest.raises(TypeError, match="ReduceFunction"):
        windowed.reduce(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="AggregateFunction"):
        windowed.aggregate(lambda a, b: a)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="window_function should be"):
        windowed.reduce(lambda a, b: a, CountWithContext.process)
    with pytest.raises(TypeError, match="ProcessWindowFunction"):
        windowed.process(lambda k, c, e: e)
    with pytest.raises(TypeError, match="WindowAssigner"):
        keyed_stream().window(Time.seconds(5))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ProcessAllWindowFunction"):
        plain_stream().window_all(FIVE_SECONDS).process(CountWithContext())


def test_errors_in_user_code_name_the_function() -> None:
    """A failing window function fails the operator with the function's name and place in the message.
    Flink documentation: "Windows" > "Window Functions"; the task fails with the cause."""

    def bad_reduce(a: Any, b: Any) -> Any:
        raise ValueError("boom")

    h = harness(keyed_stream().window(FIVE_SECONDS).reduce(bad_reduce))
    with pytest.raises(UserFunctionError, match=r"bad_reduce.*test_windows_functions.py.*ValueError: boom"):
        feed(h, [(("a", 1), 1), (("a", 2), 2)])


def test_window_state_survives_a_snapshot() -> None:
    """Window contents and timers are keyed state: a snapshot taken mid-window restores into a new subtask
    that fires the window (Flink documentation, "Windows" > "Useful state size considerations", and
    "Checkpointing": timers are part of the state)."""
    stream = keyed_stream().window(FIVE_SECONDS).reduce(lambda a, b: (a[0], a[1] + b[1]))
    h = harness(stream)
    feed(h, [(("a", 1), 1), (("b", 2), 2)])
    snapshot = h.snapshot()
    restored = Harness(operator_of(stream))
    restored.initialize_state(snapshot)
    restored.open()
    feed(restored, [(("a", 3), 3)])
    restored.process_watermark(4999)
    assert sorted(restored.get_output()) == [("a", 4), ("b", 2)]
