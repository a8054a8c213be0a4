"""Evictors: CountEvictor, TimeEvictor, DeltaEvictor, before and after the window function.

Semantics: Flink documentation, "Windows" > "Evictors" (evictBefore / evictAfter, the built-in evictors, and
"specifying an evictor prevents any pre-aggregation, as all the elements of a window have to be passed to the
evictor before applying the computation"); Flink ``CountEvictor``, ``TimeEvictor``, ``DeltaEvictor``.
"""

from __future__ import annotations

from typing import Any

from tests.unit.test_windows_functions import AverageAggregate
from tests.unit.windows_support import feed, harness, keyed_stream, take
from yflink.common import Time
from yflink.datastream.window import (
    CountEvictor,
    CountTrigger,
    DeltaEvictor,
    GlobalWindows,
    TimeEvictor,
    TimestampedValue,
    TumblingEventTimeWindows,
)

TWENTY = TumblingEventTimeWindows.of(Time.milliseconds(20))


def values(key: Any, window: Any, inputs: Any) -> Any:
    return [[v for _, v in inputs]]


def test_count_evictor_keeps_the_last_elements() -> None:
    """CountEvictor.of(3) with CountTrigger.of(2) on global windows (Flink's sliding count window): every second
    element the window fires with the last three elements."""
    h = harness(keyed_stream().window(GlobalWindows.create()).trigger(CountTrigger.of(2)).evictor(CountEvictor.of(3))
                .apply(values))
    h.process_elements([("a", i) for i in range(1, 7)])
    assert take(h) == [[1, 2], [2, 3, 4], [4, 5, 6]]
    assert [v[1] for v, _ in next(iter(h.operator._contents["a"].values()))] == [4, 5, 6]


def test_evict_after_lets_the_function_see_everything_first() -> None:
    """``do_evict_after``: the window function sees all elements; the eviction applies to what is kept.
    Flink documentation: "Windows" > "Evictors" (evictAfter)."""
    h = harness(keyed_stream().window(GlobalWindows.create()).trigger(CountTrigger.of(2))
                .evictor(CountEvictor.of(1, do_evict_after=True)).apply(values))
    h.process_elements([("a", i) for i in range(1, 6)])
    assert take(h) == [[1, 2], [2, 3, 4]]


def test_time_evictor_keeps_the_last_interval_of_event_time() -> None:
    """TimeEvictor.of(5 ms): keeps the elements whose timestamp is within 5 ms of the window's newest one.
    Flink documentation: "Windows" > "Evictors" (TimeEvictor)."""
    h = harness(keyed_stream().window(TWENTY).evictor(TimeEvictor.of(Time.milliseconds(5))).apply(values))
    feed(h, [(("a", 1), 1), (("a", 4), 4), (("a", 9), 9), (("a", 15), 15), (("a", 17), 17), (("b", 3), 3)])
    h.end_input()
    assert sorted(h.get_output()) == [[3], [15, 17]]
    evictor = TimeEvictor.of(5)
    untimed = [TimestampedValue("x"), TimestampedValue("y")]
    evictor.evict_before(untimed, 2, None, None)  # type: ignore[arg-type]
    assert [e.get_value() for e in untimed] == ["x", "y"]  # elements without timestamps are left alone


def test_delta_evictor() -> None:
    """DeltaEvictor.of(threshold, delta): evicts elements whose delta to the last element is >= threshold.
    Flink documentation: "Windows" > "Evictors" (DeltaEvictor)."""
    h = harness(keyed_stream().window(TWENTY).evictor(DeltaEvictor.of(3, lambda a, b: abs(a[1] - b[1])))
                .apply(values))
    feed(h, [(("a", 1), 1), (("a", 9), 2), (("a", 5), 3), (("a", 7), 4)])
    h.end_input()
    assert h.get_output() == [[9, 5, 7]]


def test_evictor_with_reduce_and_aggregate_computes_over_what_is_left() -> None:
    """With an evictor, reduce and aggregate run when the window fires, over the remaining elements; a window
    left empty by a reduce emits nothing. Flink documentation: "Windows" > "Evictors" (no pre-aggregation)."""
    reduce = lambda a, b: (a[0], a[1] + b[1])  # noqa: E731
    h = harness(keyed_stream().window(TWENTY).evictor(CountEvictor.of(2)).reduce(reduce))
    feed(h, [(("a", 1), 1), (("a", 2), 2), (("a", 4), 3)])
    h.end_input()
    assert h.get_output() == [("a", 6)]
    h = harness(keyed_stream().window(TWENTY).evictor(CountEvictor.of(2)).aggregate(AverageAggregate()))
    feed(h, [(("a", 1), 1), (("a", 2), 2), (("a", 4), 3)])
    h.end_input()
    assert h.get_output() == [3.0]
    h = harness(keyed_stream().window(TWENTY).evictor(CountEvictor.of(0)).reduce(reduce))
    feed(h, [(("a", 1), 1)])
    h.end_input()
    assert h.get_output() == []
