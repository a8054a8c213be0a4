"""Triggers: the built-in ones, custom ones with per-window state, and processing-time firing.

Semantics: Flink documentation, "Windows" > "Triggers" (Fire and Purge, Default Triggers of WindowAssigners,
Built-in and Custom Triggers), "Window Lifecycle", and "Execution Mode (Batch/Streaming)" > "Processing Time"
(pending processing-time timers fire at the end of input in BATCH mode only).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.windows_support import feed, harness, keyed_stream, records, take
from yflink.common import Time, Types
from yflink.datastream.state import ValueStateDescriptor
from yflink.datastream.window import (
    ContinuousEventTimeTrigger,
    ContinuousProcessingTimeTrigger,
    CountTrigger,
    EventTimeSessionWindows,
    EventTimeTrigger,
    GlobalWindows,
    ProcessingTimeTrigger,
    PurgingTrigger,
    TimeWindow,
    Trigger,
    TriggerResult,
    TumblingEventTimeWindows,
    TumblingProcessingTimeWindows,
)
from yflink.streaming.operators.window import WindowOperator
from yflink.streaming.operators.window_functions import REDUCE, WindowFunctionRunner

TEN = TumblingEventTimeWindows.of(Time.milliseconds(10))


def add(a: tuple[str, int], b: tuple[str, int]) -> tuple[str, int]:
    return a[0], a[1] + b[1]


def test_trigger_results() -> None:
    """TriggerResult: CONTINUE, FIRE, PURGE, FIRE_AND_PURGE as (fire, purge).
    Flink documentation: "Windows" > "Triggers"."""
    assert [(r.is_fire(), r.is_purge()) for r in TriggerResult] == \
        [(False, False), (True, True), (True, False), (False, True)]


def test_processing_time_windows_fire_on_the_operator_clock() -> None:
    """ProcessingTimeTrigger (the default of processing-time assigners) fires when processing time reaches the
    window's max timestamp; results carry it as timestamp.
    Flink documentation: "Windows" > "Triggers" > "Default Triggers of WindowAssigners"."""
    h = harness(keyed_stream().window(TumblingProcessingTimeWindows.of(Time.milliseconds(10))).reduce(add),
                processing_time=3)
    h.process_elements([("a", 1), ("b", 2)])
    h.set_processing_time(8)
    assert take(h) == []
    h.process_elements([("a", 3)])
    h.set_processing_time(9)
    assert records(h) == [(("a", 4), 9), (("b", 2), 9)]
    h.clear_output()
    h.process_elements([("a", 5)])  # window [10, 20) from now on
    h.set_processing_time(25)
    assert take(h) == [("a", 5)]


def test_pending_processing_time_windows_at_end_of_input() -> None:
    """In STREAMING mode pending processing-time timers do not fire when the input ends; in BATCH mode they do.
    Flink documentation: "Execution Mode (Batch/Streaming)" > "Processing Time"."""
    stream = keyed_stream().window(TumblingProcessingTimeWindows.of(Time.milliseconds(10))).reduce(add)
    h = harness(stream, processing_time=3)
    h.process_elements([("a", 1)])
    h.end_input()
    assert take(h) == []
    h = harness(stream, processing_time=3)
    h.operator.batch_mode = True
    h.process_elements([("a", 1)])
    h.end_input()
    assert take(h) == [("a", 1)]


def test_processing_timers_due_fire_before_a_batch() -> None:
    """Timers due by the current processing time fire before the next batch is processed (as Flink's timer
    thread would have fired them earlier)."""
    h = harness(keyed_stream().window(TumblingProcessingTimeWindows.of(Time.milliseconds(10))).reduce(add),
                processing_time=3)
    h.process_elements([("a", 1)])
    h.operator.processing_time.set(15)  # the clock moved; no callback yet
    h.process_elements([("a", 2)])
    assert records(h) == [(("a", 1), 9)]


def test_purging_trigger_drops_the_contents_after_firing() -> None:
    """"Fire and Purge": PurgingTrigger.of(EventTimeTrigger) fires and purges; with allowed lateness a late
    element then fires the window with only itself."""
    stream = keyed_stream().window(TEN).trigger(PurgingTrigger.of(EventTimeTrigger.create())).allowed_lateness(10) \
        .reduce(add)
    h = harness(stream)
    feed(h, [(("a", 1), 1), (("a", 2), 2)])
    h.process_watermark(9)
    feed(h, [(("a", 4), 3)])
    assert take(h) == [("a", 3), ("a", 4)]


def test_continuous_event_time_trigger_fires_early() -> None:
    """ContinuousEventTimeTrigger.of(interval): fires every interval of event time within the window (without
    purging) and at the window's end. Flink documentation: "Windows" > "Triggers" > "Built-in and Custom Triggers"."""
    h = harness(keyed_stream().window(TEN).trigger(ContinuousEventTimeTrigger.of(Time.milliseconds(3))).reduce(add))
    feed(h, [(("a", 1), 1), (("a", 2), 5)])
    h.process_watermark(2)
    assert take(h) == []
    h.process_watermark(3)
    assert take(h) == [("a", 3)]
    feed(h, [(("a", 4), 7)])
    h.process_watermark(6)
    assert take(h) == [("a", 7)]
    h.process_watermark(9)
    assert take(h) == [("a", 7)]
    h.process_watermark(100)
    assert take(h) == [] and h.operator._contents == {}


def test_continuous_processing_time_trigger() -> None:
    """ContinuousProcessingTimeTrigger.of(interval): fires every interval of processing time, aligned to
    multiples of the interval, while the window lives.
    Flink documentation: "Windows" > "Triggers" > "Built-in and Custom Triggers"."""
    stream = keyed_stream().window(GlobalWindows.create()) \
        .trigger(ContinuousProcessingTimeTrigger.of(Time.milliseconds(50))).reduce(add)
    h = harness(stream, processing_time=120)
    h.process_elements([("a", 1)])
    h.set_processing_time(149)
    assert take(h) == []
    h.set_processing_time(150)
    assert take(h) == [("a", 1)]
    h.process_elements([("a", 2)])
    h.set_processing_time(210)
    assert take(h) == [("a", 3)]
    h.set_processing_time(300)  # the timers at 250 (registered when 200 fired) and 300 are both due
    assert take(h) == [("a", 3), ("a", 3)]


class EarlyOrOnTime(Trigger[Any, TimeWindow]):
    """A custom trigger: fires at once for a value >= 100 (counting such firings in per-window state), and at
    the end of the window; merges like EventTimeTrigger."""

    early = ValueStateDescriptor("early-firings", Types.INT())

    def on_element(self, element: Any, timestamp: int, window: TimeWindow, ctx: Trigger.TriggerContext) \
            -> TriggerResult:
        ctx.register_event_time_timer(window.max_timestamp())
        if element[1] >= 100:
            state = ctx.get_partitioned_state(self.early)
            state.update((state.value() or 0) + 1)  # type: ignore[attr-defined]
            return TriggerResult.FIRE
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: TimeWindow, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.FIRE if time == window.max_timestamp() else TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: TimeWindow, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: TimeWindow, ctx: Trigger.OnMergeContext) -> None:
        ctx.register_event_time_timer(window.max_timestamp())

    def clear(self, window: TimeWindow, ctx: Trigger.TriggerContext) -> None:
        ctx.delete_event_time_timer(window.max_timestamp())
        ctx.get_partitioned_state(self.early).clear()


def test_custom_trigger_with_per_window_state() -> None:
    """"Built-in and Custom Triggers": a user trigger decides per element; its state is per key and window and
    is cleared with the window."""
    h = harness(keyed_stream().window(TEN).trigger(EarlyOrOnTime()).reduce(add))
    feed(h, [(("a", 1), 1), (("a", 100), 2), (("b", 5), 3), (("a", 200), 12)])
    assert records(h) == [(("a", 101), 9), (("a", 200), 19)]
    tables = h.operator._window_states._tables
    assert tables["early-firings"] == {"a": {TimeWindow(0, 10): 1, TimeWindow(10, 20): 1}}
    h.process_watermark(9)
    assert h.get_output()[2:] == [("a", 101), ("b", 5)]
    assert tables["early-firings"] == {"a": {TimeWindow(10, 20): 1}}


def test_merging_windows_need_a_trigger_that_can_merge() -> None:
    """"Session Windows" / Trigger.can_merge: a merging assigner with a trigger that cannot merge is refused."""

    class NoMerge(EarlyOrOnTime):
        def can_merge(self) -> bool:
            return False

    sessions = keyed_stream().window(EventTimeSessionWindows.with_gap(Time.milliseconds(5)))
    with pytest.raises(TypeError, match="does not support merging"):
        sessions.trigger(NoMerge())
    with pytest.raises(ValueError, match="does not support merging"):
        WindowOperator(EventTimeSessionWindows.with_gap(5), NoMerge(), WindowFunctionRunner(REDUCE, add, None),
                       lambda e: e[0])
    assert sessions.trigger(CountTrigger.of(2)) is sessions
    assert ProcessingTimeTrigger.create().can_merge()
