"""Session windows: merging, state and timers of merged windows, dynamic gaps, lateness.

Semantics: Flink documentation, "Windows" > "Session Windows" (sessions end after a gap without elements;
internally each element starts its own window and windows that overlap are merged, so merging windows need a
trigger and window function that can merge), "Triggers" (Trigger.can_merge / onMerge) and "Allowed Lateness"
(late elements can extend a session); Flink ``MergingWindowSet``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tests.unit.test_windows_functions import AverageAggregate
from tests.unit.windows_support import feed, harness, keyed_stream, records, take
from yflink.common import Time, Types
from yflink.datastream import OutputTag, ProcessWindowFunction, TimeDomain
from yflink.datastream.window import (
    CountTrigger,
    EventTimeSessionWindows,
    ProcessingTimeSessionWindows,
    SessionWindowTimeGapExtractor,
    TimeWindow,
)
from yflink.streaming.operators.merging_window_set import add_window
from yflink.streaming.operators.window import MERGING_WINDOW_SET

GAP = EventTimeSessionWindows.with_gap(Time.milliseconds(10))


def add(a: tuple[str, int], b: tuple[str, int]) -> tuple[str, int]:
    return a[0], a[1] + b[1]


class Session(ProcessWindowFunction):
    def process(self, key: str, context: ProcessWindowFunction.Context, elements: Iterable[Any]) -> Any:
        yield key, context.window(), sorted(v for _, v in elements)


def test_sessions_merge_when_a_new_element_bridges_them() -> None:
    """Each element opens [t, t + gap); overlapping (or touching) sessions of a key merge, and an element that
    fills the gap between two sessions merges them into one. Flink documentation: "Windows" > "Session Windows"."""
    h = harness(keyed_stream().window(GAP).reduce(add))
    feed(h, [(("a", 1), 1), (("a", 2), 20), (("a", 4), 8), (("b", 100), 3)])
    assert h.operator._mappings["a"] == {TimeWindow(1, 18): TimeWindow(1, 11), TimeWindow(20, 30): TimeWindow(20, 30)}
    assert h.operator._contents["a"] == {TimeWindow(1, 11): ("a", 5), TimeWindow(20, 30): ("a", 2)}
    feed(h, [(("a", 8), 18)])
    assert h.operator._mappings["a"] == {TimeWindow(1, 30): TimeWindow(1, 11)}
    assert h.operator._contents["a"] == {TimeWindow(1, 11): ("a", 15)}
    assert h.operator._timers.num_timers(TimeDomain.EVENT_TIME) == 2  # one per session: a [1, 30), b [3, 13)
    h.process_watermark(28)
    assert records(h) == [(("b", 100), 12)]
    h.process_watermark(29)
    assert records(h)[1:] == [(("a", 15), 29)]
    assert h.operator._contents == {} and h.operator.keyed_backend.table(MERGING_WINDOW_SET, "merging-window-set") \
        == {}


def test_process_and_aggregate_over_sessions() -> None:
    """Merging windows merge their contents: lists concatenate (ProcessWindowFunction sees every element and the
    merged window), aggregate accumulators merge with AggregateFunction.merge.
    Flink documentation: "Windows" > "Session Windows" (merging windows)."""
    h = harness(keyed_stream().window(GAP).process(Session()))
    feed(h, [(("a", 1), 0), (("a", 2), 30), (("a", 3), 15), (("a", 4), 6)])
    h.end_input()
    assert h.get_output() == [("a", TimeWindow(0, 25), [1, 3, 4]), ("a", TimeWindow(30, 40), [2])]
    h = harness(keyed_stream().window(GAP).aggregate(AverageAggregate()))
    feed(h, [(("a", 1), 0), (("a", 2), 8), (("a", 6), 16), (("a", 7), 50)])
    h.end_input()
    assert h.get_output() == [3.0, 7.0]


def test_trigger_state_merges_with_the_sessions() -> None:
    """CountTrigger on sessions: on_merge merges the counts of the merged windows, so the element that bridges
    two sessions of one element each completes a count of three.
    Flink documentation: "Windows" > "Triggers" (onMerge) with "Session Windows"."""
    h = harness(keyed_stream().window(EventTimeSessionWindows.with_gap(Time.milliseconds(5)))
                .trigger(CountTrigger.of(3)).reduce(add))
    feed(h, [(("a", 1), 0), (("a", 10), 10)])
    assert take(h) == []
    feed(h, [(("a", 100), 5)])
    assert take(h) == [("a", 111)]


def test_dynamic_gap_and_processing_time_sessions() -> None:
    """Sessions with a gap per element (``with_dynamic_gap``), and sessions in processing time.
    Flink documentation: "Windows" > "Session Windows" (dynamic gap)."""

    class GapOf(SessionWindowTimeGapExtractor):
        def extract(self, element: Any) -> int:
            return 20 if element[0] == "slow" else 5

    h = harness(keyed_stream().window(EventTimeSessionWindows.with_dynamic_gap(GapOf())).process(Session()))
    feed(h, [(("slow", 1), 0), (("slow", 2), 15), (("fast", 1), 0), (("fast", 2), 15)])
    h.end_input()
    assert sorted(h.get_output()) == [("fast", TimeWindow(0, 5), [1]), ("fast", TimeWindow(15, 20), [2]),
                                      ("slow", TimeWindow(0, 35), [1, 2])]
    h = harness(keyed_stream().window(ProcessingTimeSessionWindows.with_gap(Time.milliseconds(10))).reduce(add),
                processing_time=100)
    h.process_elements([("a", 1)])
    h.set_processing_time(105)
    h.process_elements([("a", 2)])
    h.set_processing_time(110)
    assert take(h) == []
    h.set_processing_time(114)
    assert records(h) == [(("a", 3), 114)]


def test_a_late_element_within_the_lateness_extends_a_fired_session() -> None:
    """"Allowed Lateness" with sessions: a late element may merge into a session that already fired; the merged
    session fires again when the watermark passes its new end. A late element that merges with no live session
    goes to the late side output."""
    late = OutputTag("late", Types.TUPLE([Types.STRING(), Types.INT()]))
    h = harness(keyed_stream().window(GAP).allowed_lateness(20).side_output_late_data(late).reduce(add))
    feed(h, [(("a", 1), 0)])
    h.process_watermark(9)
    assert take(h) == [("a", 1)]
    feed(h, [(("a", 2), 5)])
    assert take(h) == []
    h.process_watermark(14)
    assert take(h) == [("a", 3)]
    h.process_watermark(100)
    feed(h, [(("a", 4), 50)])
    assert h.get_side_output(late) == [("a", 4)] and h.get_output() == []


def test_merging_window_set_keeps_the_state_window_of_an_existing_window() -> None:
    """Flink ``MergingWindowSet.addWindow``: a merge keeps the state window of one merged window and reports the
    others' state windows for merging; a new window that merges nothing maps to itself."""
    mapping: dict[Any, Any] = {}
    merges: list[tuple[Any, ...]] = []

    def merge(result: Any, merged: list[Any], state_window: Any, merged_state: list[Any]) -> None:
        merges.append((result, sorted(merged), state_window, merged_state))

    assigner = EventTimeSessionWindows.with_gap(10)
    assert add_window(assigner, mapping, TimeWindow(0, 10), merge) == TimeWindow(0, 10)
    assert add_window(assigner, mapping, TimeWindow(20, 30), merge) == TimeWindow(20, 30)
    assert merges == [] and mapping == {TimeWindow(0, 10): TimeWindow(0, 10), TimeWindow(20, 30): TimeWindow(20, 30)}
    assert add_window(assigner, mapping, TimeWindow(10, 20), merge) == TimeWindow(0, 30)
    assert mapping == {TimeWindow(0, 30): TimeWindow(0, 10)}
    assert merges == [(TimeWindow(0, 30), [TimeWindow(0, 10), TimeWindow(20, 30)], TimeWindow(0, 10),
                       [TimeWindow(20, 30)])]
    merges.clear()
    assert add_window(assigner, mapping, TimeWindow(5, 15), merge) == TimeWindow(0, 30)  # inside: no new state
    assert merges == [] and mapping == {TimeWindow(0, 30): TimeWindow(0, 10)}
