"""Window assigners and window types: which windows an element belongs to.

Semantics: Flink documentation, "Windows" > "Window Assigners" (Tumbling Windows, Sliding Windows, Session
Windows, Global Windows), and PyFlink ``pyflink.datastream.window`` (count window assigners).
"""

from __future__ import annotations

from typing import Any

import pytest

from yflink.common import Duration, Time
from yflink.datastream.window import (
    CountSlidingWindowAssigner,
    CountTumblingWindowAssigner,
    CountWindow,
    DynamicEventTimeSessionWindows,
    EventTimeSessionWindows,
    EventTimeTrigger,
    GlobalWindow,
    GlobalWindows,
    MergingWindowAssigner,
    NeverTrigger,
    ProcessingTimeSessionWindows,
    ProcessingTimeTrigger,
    SessionWindowTimeGapExtractor,
    SlidingEventTimeWindows,
    SlidingProcessingTimeWindows,
    TimeWindow,
    TumblingEventTimeWindows,
    TumblingProcessingTimeWindows,
    Window,
)
from yflink.datastream.window.windows import MAX_LONG_VALUE, MIN_LONG_VALUE

HOUR = 3_600_000


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def get_current_processing_time(self) -> int:
        return self.now


def test_tumbling_windows_start_at_multiples_of_the_size() -> None:
    """"Tumbling Windows": fixed size, no overlap; windows are aligned to the epoch."""
    assigner = TumblingEventTimeWindows.of(Time.seconds(5))
    assert assigner.assign_windows(None, 0, None) == [TimeWindow(0, 5000)]
    assert assigner.assign_windows(None, 4999, None) == [TimeWindow(0, 5000)]
    assert assigner.assign_windows(None, 5000, None) == [TimeWindow(5000, 10000)]
    assert assigner.assign_windows(None, -1, None) == [TimeWindow(-5000, 0)]
    assert assigner.is_event_time() and isinstance(assigner.get_default_trigger(None), EventTimeTrigger)


def test_tumbling_windows_with_offset_as_in_the_documentation() -> None:
    """"Tumbling Windows": daily windows in UTC+08:00 use ``of(Time.days(1), Time.hours(-8))``: they start at
    16:00 UTC; hourly windows with a 15 minute offset start at hh:15."""
    daily = TumblingEventTimeWindows.of(Time.days(1), Time.hours(-8))
    ts = 20 * HOUR  # 1970-01-01 20:00 UTC = 1970-01-02 04:00 UTC+8
    assert daily.assign_windows(None, ts, None) == [TimeWindow(16 * HOUR, 40 * HOUR)]
    hourly = TumblingEventTimeWindows.of(Duration.of_hours(1), Duration.of_minutes(15))
    assert hourly.assign_windows(None, HOUR + 10 * 60_000, None) == [TimeWindow(15 * 60_000, HOUR + 15 * 60_000)]


def test_window_parameters_are_checked() -> None:
    """PyFlink: tumbling windows need abs(offset) < size, sliding abs(offset) < slide, sessions a positive gap."""
    with pytest.raises(ValueError, match="abs\\(offset\\) < size"):
        TumblingEventTimeWindows.of(Time.seconds(1), Time.seconds(1))
    with pytest.raises(ValueError, match="abs\\(offset\\) < slide"):
        SlidingEventTimeWindows.of(Time.seconds(10), Time.seconds(5), Time.seconds(5))
    with pytest.raises(ValueError, match="0 < size"):
        EventTimeSessionWindows.with_gap(Time.milliseconds(0))
    with pytest.raises(TypeError, match="Duration or Time"):
        TumblingEventTimeWindows.of("5 s")


def test_event_time_assigners_need_a_timestamp() -> None:
    """An element without timestamp (Long.MIN_VALUE) cannot go to an event-time window.
    Flink documentation: "Windows" > "Window Assigners"; "Generating Watermarks"."""
    for assigner in (TumblingEventTimeWindows.of(Time.seconds(1)), SlidingEventTimeWindows.of(10, 5),
                     EventTimeSessionWindows.with_gap(Time.seconds(1))):
        with pytest.raises(ValueError, match="assign_timestamps_and_watermarks"):
            assigner.assign_windows(None, MIN_LONG_VALUE, None)


def test_sliding_windows_hold_an_element_in_size_over_slide_windows() -> None:
    """"Sliding Windows": windows of 10 minutes that slide by 5 minutes: each element is in two windows;
    with an offset (abs(offset) < slide, as Flink checks) the windows shift; a slide that does not divide the
    size gives ceil(size/slide) windows."""
    minute = 60_000
    assigner = SlidingEventTimeWindows.of(Time.minutes(10), Time.minutes(5))
    assert assigner.assign_windows(None, 7 * minute, None) == [TimeWindow(5 * minute, 15 * minute),
                                                                TimeWindow(0, 10 * minute)]
    shifted = SlidingEventTimeWindows.of(Time.hours(12), Time.hours(1), Time.minutes(15))
    windows = shifted.assign_windows(None, 0, None)
    assert len(windows) == 12 and windows[0] == TimeWindow(-45 * minute, 11 * HOUR + 15 * minute)
    assert all(w.start <= 0 < w.end and w.start % HOUR == 15 * minute for w in windows)
    uneven = SlidingEventTimeWindows.of(10, 3)
    assert uneven.assign_windows(None, 10, None) == [TimeWindow(9, 19), TimeWindow(6, 16), TimeWindow(3, 13)]
    assert len(uneven.assign_windows(None, 9, None)) == 4


def test_processing_time_assigners_use_the_operator_clock() -> None:
    """Processing-time assigners ignore the element's timestamp and use the current processing time.
    Flink documentation: "Windows" > "Window Assigners" (processing-time variants)."""
    clock = Clock(12_345)
    assert TumblingProcessingTimeWindows.of(Time.seconds(10)).assign_windows(None, 0, clock) == \
        [TimeWindow(10_000, 20_000)]
    assert SlidingProcessingTimeWindows.of(Time.seconds(10), Time.seconds(5)).assign_windows(None, 0, clock) == \
        [TimeWindow(10_000, 20_000), TimeWindow(5_000, 15_000)]
    assert ProcessingTimeSessionWindows.with_gap(Time.seconds(1)).assign_windows(None, 0, clock) == \
        [TimeWindow(12_345, 13_345)]
    for assigner in (TumblingProcessingTimeWindows.of(Time.seconds(1)),
                     SlidingProcessingTimeWindows.of(Time.seconds(2), Time.seconds(1)),
                     ProcessingTimeSessionWindows.with_gap(Time.seconds(1))):
        assert not assigner.is_event_time()
        assert isinstance(assigner.get_default_trigger(None), ProcessingTimeTrigger)


def test_session_windows_open_a_gap_long_window_per_element_and_merge() -> None:
    """"Session Windows": each element starts [t, t + gap); overlapping or touching windows merge."""
    assigner = EventTimeSessionWindows.with_gap(Time.milliseconds(10))
    assert isinstance(assigner, MergingWindowAssigner)
    assert assigner.assign_windows(None, 3, None) == [TimeWindow(3, 13)]
    merges: list[tuple[list[TimeWindow], TimeWindow]] = []

    class Callback:
        def merge(self, to_be_merged: Any, merge_result: TimeWindow) -> None:
            merges.append((sorted(to_be_merged), merge_result))

    windows = [TimeWindow(0, 10), TimeWindow(30, 40), TimeWindow(10, 20), TimeWindow(5, 8), TimeWindow(50, 60)]
    assigner.merge_windows(windows, Callback())
    assert merges == [([TimeWindow(0, 10), TimeWindow(5, 8), TimeWindow(10, 20)], TimeWindow(0, 20))]


def test_dynamic_session_gap_comes_from_the_element() -> None:
    """"Session Windows" with a dynamic gap: a SessionWindowTimeGapExtractor gives each element's gap."""

    class Gap(SessionWindowTimeGapExtractor):
        def extract(self, element: Any) -> int:
            return int(element[1])

    assigner = EventTimeSessionWindows.with_dynamic_gap(Gap())
    assert isinstance(assigner, DynamicEventTimeSessionWindows)
    assert assigner.assign_windows(("a", 7), 100, None) == [TimeWindow(100, 107)]
    with pytest.raises(ValueError, match="0 < gap"):
        assigner.assign_windows(("a", 0), 100, None)
    from_callable = ProcessingTimeSessionWindows.with_dynamic_gap(lambda e: 5)
    assert from_callable.assign_windows(None, 0, Clock(20)) == [TimeWindow(20, 25)]


def test_count_assigners_number_elements_per_key() -> None:
    """PyFlink ``CountTumblingWindowAssigner``: the n-th element goes to window n // size;
    ``CountSlidingWindowAssigner``: to every window i with i * slide <= n < i * slide + size."""

    class State:
        def __init__(self) -> None:
            self.v: Any = None

        def value(self) -> Any:
            return self.v

        def update(self, v: Any) -> None:
            self.v = v

    class Context:
        def __init__(self) -> None:
            self.state = State()

        def get_runtime_context(self) -> Any:
            return self

        def get_state(self, descriptor: Any) -> State:
            return self.state

    tumbling, ctx = CountTumblingWindowAssigner.of(3), Context()
    assert [tumbling.assign_windows(None, 0, ctx) for _ in range(7)] == \
        [[CountWindow(0)]] * 3 + [[CountWindow(1)]] * 3 + [[CountWindow(2)]]
    sliding, ctx = CountSlidingWindowAssigner.of(3, 2), Context()
    assert [sliding.assign_windows(None, 0, ctx) for _ in range(6)] == [
        [CountWindow(0)], [CountWindow(0)], [CountWindow(1), CountWindow(0)], [CountWindow(1)],
        [CountWindow(2), CountWindow(1)], [CountWindow(2)]]


def test_global_windows() -> None:
    """"Global Windows": one window for all elements; its default trigger never fires."""
    assigner = GlobalWindows.create()
    assert assigner.assign_windows("x", 5, None) == [GlobalWindow.get()]
    assert isinstance(assigner.get_default_trigger(None), NeverTrigger)
    assert GlobalWindow() == GlobalWindow.get() and repr(GlobalWindow()) == "GlobalWindow"
    assert GlobalWindow().max_timestamp() == MAX_LONG_VALUE


def test_window_types() -> None:
    """TimeWindow is [start, end): max_timestamp is end - 1; windows are values (equal, hashable, ordered).
    Flink documentation: "Windows" > "Window Lifecycle" (a window ends at its end timestamp)."""
    w = TimeWindow(0, 10)
    assert w.max_timestamp() == 9 and isinstance(w, Window)
    assert w == TimeWindow(0, 10) and hash(w) == hash(TimeWindow(0, 10)) and w != TimeWindow(0, 11)
    assert sorted([TimeWindow(5, 6), TimeWindow(0, 11), TimeWindow(0, 10)]) == \
        [TimeWindow(0, 10), TimeWindow(0, 11), TimeWindow(5, 6)]
    assert w.intersects(TimeWindow(10, 20)) and not w.intersects(TimeWindow(11, 20))
    assert w.cover(TimeWindow(15, 20)) == TimeWindow(0, 20)
    assert repr(w) == "TimeWindow(start=0, end=10)" and repr(CountWindow(3)) == "CountWindow(id=3)"
    assert CountWindow(3).max_timestamp() == MAX_LONG_VALUE
    assert TimeWindow.get_window_start_with_offset(17, 2, 5) == 17
