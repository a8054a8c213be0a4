"""Late elements: dropped, counted, sent to a side output, or (within the allowed lateness) firing again.

Semantics: Flink documentation, "Windows" > "Allowed Lateness" (Getting late data as a side output, Late
elements considerations), "Window Lifecycle" (a window is removed when the watermark passes its end plus the
allowed lateness), "Working with window results" > "Interaction of watermarks and windows".
"""

from __future__ import annotations

import pytest

from tests.unit.windows_support import feed, harness, keyed_stream, records, take
from yflink.common import Duration, Time, Types
from yflink.datastream import OutputTag, TimeDomain
from yflink.datastream.window import SlidingEventTimeWindows, TimeWindow, TumblingEventTimeWindows

TEN = TumblingEventTimeWindows.of(Time.milliseconds(10))
LATE = OutputTag("late-data", Types.TUPLE([Types.STRING(), Types.INT()]))


def add(a: tuple[str, int], b: tuple[str, int]) -> tuple[str, int]:
    return a[0], a[1] + b[1]


def test_late_elements_are_dropped_by_default() -> None:
    """By default the allowed lateness is 0: an element for a window the watermark has passed is dropped.
    Flink documentation: "Windows" > "Allowed Lateness"."""
    h = harness(keyed_stream().window(TEN).reduce(add))
    feed(h, [(("a", 1), 1)])
    h.process_watermark(9)
    feed(h, [(("a", 2), 5), (("a", 4), 12)])
    h.end_input()
    assert records(h) == [(("a", 1), 9), (("a", 4), 19)]
    assert h.operator.num_late_records_dropped == 1


def test_late_elements_go_to_the_side_output() -> None:
    """"Getting late data as a side output": ``side_output_late_data(tag)`` emits dropped elements, with their
    timestamps, to ``get_side_output(tag)``."""
    stream = keyed_stream().window(TEN).side_output_late_data(LATE).reduce(add)
    late = stream.get_side_output(LATE)
    assert late._transformation.tag_id == "late-data"
    h = harness(stream)
    feed(h, [(("a", 1), 1), (("b", 1), 15)])
    h.process_watermark(9)
    feed(h, [(("a", 2), 5), (("b", 3), 16)])
    h.end_input()
    assert [e for e in h.get_events() if e[0] == "side"] == [("side", "late-data", ("a", 2), 5)]
    assert sorted(h.get_output()) == [("a", 1), ("b", 4)]
    assert h.operator.num_late_records_dropped == 0


def test_allowed_lateness_fires_again_then_cleans_up() -> None:
    """"Allowed Lateness": elements after the watermark passed the window end but before end + lateness are
    added and fire the window again (each firing emits the updated result); once the watermark passes end +
    lateness the window state is removed and later elements are late."""
    stream = keyed_stream().window(TEN).allowed_lateness(Duration.of_millis(5)).side_output_late_data(LATE) \
        .reduce(add)
    h = harness(stream)
    feed(h, [(("a", 1), 1)])
    h.process_watermark(9)
    assert take(h) == [("a", 1)]
    assert h.operator._contents == {"a": {TimeWindow(0, 10): ("a", 1)}}  # kept for the allowed lateness
    feed(h, [(("a", 10), 3)])  # watermark 9 < 9 + 5: late, within lateness
    assert records(h) == [(("a", 11), 9)]
    h.clear_output()
    h.process_watermark(13)
    feed(h, [(("a", 100), 4)])
    assert take(h) == [("a", 111)]
    h.process_watermark(14)  # = max timestamp + lateness: cleanup
    assert h.operator._contents == {} and not h.operator._timers.has_timers(TimeDomain.EVENT_TIME)
    feed(h, [(("a", 1000), 2)])
    assert h.get_output() == [] and h.get_side_output(LATE) == [("a", 1000)]


def test_an_element_late_for_some_sliding_windows_still_counts_in_the_others() -> None:
    """An element goes to the side output only if it was added to no window: with sliding windows it can be late
    for the earlier windows and on time for the later ones.
    Flink documentation: "Windows" > "Allowed Lateness" > "Getting late data as a side output"."""
    stream = keyed_stream().window(SlidingEventTimeWindows.of(Time.milliseconds(10), Time.milliseconds(5))) \
        .side_output_late_data(LATE).reduce(add)
    h = harness(stream)
    h.process_watermark(10)
    feed(h, [(("a", 1), 8)])  # windows [0, 10) (late) and [5, 15) (on time)
    h.end_input()
    assert records(h) == [(("a", 1), 14)]
    assert h.get_side_output(LATE) == []
    assert h.operator.num_late_records_dropped == 0


def test_watermarks_pass_after_the_windows_they_fire() -> None:
    """"Interaction of watermarks and windows": results of windows a watermark fires are emitted before that
    watermark, so a downstream window sees them on time."""
    h = harness(keyed_stream().window(TEN).reduce(add))
    feed(h, [(("a", 1), 1), (("a", 2), 11)])
    h.process_watermark(25)
    assert h.get_events() == [("record", ("a", 1), 9), ("record", ("a", 2), 19), ("watermark", 25)]


def test_allowed_lateness_must_not_be_negative() -> None:
    """``allowed_lateness`` takes ms (PyFlink) or a Duration; negative values are rejected."""
    with pytest.raises(ValueError, match="negative"):
        keyed_stream().window(TEN).allowed_lateness(-1)


def test_batch_execution_has_no_late_elements() -> None:
    """"Execution Mode (Batch/Streaming)" > Event Time / Watermarks: in BATCH mode there are no watermarks before
    the end of input, so no element is late and every window fires at the end."""
    h = harness(keyed_stream().window(TEN).side_output_late_data(LATE).reduce(add))
    h.operator.batch_mode = True
    feed(h, [(("a", 1), 15)])
    h.process_watermark(100)  # ignored in BATCH mode
    feed(h, [(("a", 2), 5), (("a", 4), 12)])
    assert h.get_events() == []
    h.end_input()
    assert records(h) == [(("a", 2), 9), (("a", 5), 19)] and h.get_side_output(LATE) == []
