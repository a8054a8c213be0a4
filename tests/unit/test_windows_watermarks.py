"""Watermark generation: strategies, periodic emission, idleness, the end of a bounded source.

Semantics: Flink documentation, "Generating Watermarks" (Introduction to Watermark Strategies, Using Watermark
Strategies, Dealing With Idle Sources, Writing WatermarkGenerators > periodic generators and
``pipeline.auto-watermark-interval``, Built-in Watermark Generators: Monotonously Increasing Timestamps, Fixed
Amount of Lateness) and "Timely Stream Processing" (a bounded input ends with a watermark at +infinity).
"""

from __future__ import annotations

from typing import Any, Optional

from yflink.common import Duration, TimestampAssigner, WatermarkStrategy
from yflink.datastream.connectors.collection import CollectionSource
from yflink.streaming.operators.sources import WatermarkingSourceOperator
from yflink.streaming.operators.timers import MAX_WATERMARK
from yflink.streaming.operators.watermarks import IdlenessTimer, TimestampsAndWatermarksOperator
from yflink.testing import OneInputOperatorTestHarness as Harness


def by_second_field(value: Any, record_timestamp: int) -> int:
    return int(value[1])


def twa(strategy: WatermarkStrategy, interval: int = 200, now: int = 0) -> Harness:
    h = Harness(TimestampsAndWatermarksOperator(strategy, interval))
    h.set_processing_time(now)
    h.open()
    return h


def test_monotonous_timestamps_watermark_trails_the_highest_timestamp_by_one() -> None:
    """"Monotonously Increasing Timestamps": the watermark is the highest timestamp seen minus 1 ms
    (Flink's ``AscendingTimestampsWatermarks`` is a bounded out-of-orderness of 0)."""
    h = twa(WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(by_second_field))
    h.process_elements([("a", 1000), ("b", 2000)])
    h.set_processing_time(200)
    assert h.get_output_with_timestamps() == [(("a", 1000), 1000), (("b", 2000), 2000)]
    assert h.get_watermarks() == [1999]


def test_bounded_out_of_orderness_and_periodic_emission() -> None:
    """"Fixed Amount of Lateness": watermark = highest timestamp - bound - 1; periodic generators emit every
    auto-watermark interval of processing time, and only a watermark that advanced."""

    class Assigner(TimestampAssigner):
        def extract_timestamp(self, value: Any, record_timestamp: int) -> int:
            return int(value[1])

    h = twa(WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_seconds(5)).with_timestamp_assigner(
        Assigner()), interval=200, now=1000)
    h.process_elements([("a", 10_000), ("b", 7_000)])
    h.set_processing_time(1199)
    assert h.get_watermarks() == []
    h.set_processing_time(1200)
    assert h.get_watermarks() == [4999]
    h.process_elements([("c", 9_000)])  # older than the highest: no progress
    h.set_processing_time(1400)
    assert h.get_watermarks() == [4999]
    h.process_elements([("d", 12_000)])
    h.set_processing_time(1550)  # not yet: the next emission is at 1600
    h.process_elements([("e", 12_500)])
    assert h.get_watermarks() == [4999]
    h.set_processing_time(1600)
    assert h.get_watermarks() == [4999, 7499]


def test_periodic_emission_is_also_checked_after_batches() -> None:
    """A batch that arrives after the interval has elapsed emits the periodic watermark right away.
    Flink documentation: "Generating Watermarks" > "Writing WatermarkGenerators" (periodic)."""
    h = twa(WatermarkStrategy.for_monotonous_timestamps(), interval=100, now=0)
    h.operator.processing_time.set(150)  # time passed, no callback
    h.process_elements(["x"], [50])
    assert h.get_watermarks() == [49]


def test_upstream_watermarks_are_replaced_and_the_end_of_time_forwarded() -> None:
    """TimestampsAndWatermarksOperator drops watermarks from upstream (it generates its own) except the final
    MAX_WATERMARK of a bounded input; upstream idleness is not forwarded; at the end of input a last periodic
    watermark is emitted. Flink documentation: "Generating Watermarks" > "Using Watermark Strategies"."""
    h = twa(WatermarkStrategy.for_monotonous_timestamps(), interval=0)
    h.process_elements(["x"], [50])
    h.process_watermark(1000)
    h.operator.process_watermark_status(True)
    h.end_input()
    h.process_watermark(MAX_WATERMARK)
    assert h.get_watermarks() == [49, MAX_WATERMARK]
    assert all(e[0] != "watermark_status" for e in h.get_events())


def test_no_watermarks_keeps_timestamps_only() -> None:
    """``no_watermarks()`` with an assigner: records get timestamps, no watermarks are generated.
    Flink documentation: "Generating Watermarks" > "Introduction to Watermark Strategies"."""
    h = twa(WatermarkStrategy.no_watermarks().with_timestamp_assigner(by_second_field))
    h.process_elements([("a", 5)])
    h.set_processing_time(10_000)
    h.end_input()
    assert h.get_output_with_timestamps() == [(("a", 5), 5)] and h.get_watermarks() == []


def test_idle_input_is_marked_idle_and_active_again() -> None:
    """"Dealing With Idle Sources": with ``with_idleness(timeout)`` an input without records for longer than the
    timeout is marked idle (it then does not hold back the watermark downstream); its next advancing watermark
    marks it active again."""
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_idleness(Duration.of_millis(500))
    h = twa(strategy, interval=100, now=0)
    h.process_elements(["x"], [10])
    for now in range(100, 700, 100):
        h.set_processing_time(now)
    assert [e for e in h.get_events() if e[0] != "record"] == [("watermark", 9)]
    h.set_processing_time(700)  # no records since the probe at 200: idle once more than 500 ms passed
    h.set_processing_time(800)
    assert h.get_events()[-1] == ("watermark_status", True)
    assert h.operator.idle
    h.process_elements(["y"], [20])
    h.set_processing_time(900)
    assert h.get_events()[-2:] == [("watermark_status", False), ("watermark", 19)]


def test_idleness_timer() -> None:
    """Flink ``IdlenessTimer``: idle only after a whole timeout without activity, measured from the first check
    that saw none."""
    now = [0]
    timer = IdlenessTimer(100, lambda: now[0])
    assert not timer.check_if_idle()  # starts the inactivity period
    now[0] = 100
    assert not timer.check_if_idle()
    now[0] = 101
    assert timer.check_if_idle()
    timer.activity()
    assert not timer.check_if_idle()


def test_with_methods_return_new_strategies() -> None:
    """PyFlink's WatermarkStrategy methods return new strategies: a base strategy can be refined twice."""
    base = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(20))
    a = base.with_timestamp_assigner(lambda v, ts: 1)
    b = base.with_idleness(Duration.of_seconds(1))
    assert base.get_timestamp_assigner() is None and base.idle_timeout_ms is None
    assert a.get_timestamp_assigner() is not None and a.idle_timeout_ms is None
    assert b.get_timestamp_assigner() is None and b.idle_timeout_ms == 1000
    assert a.max_out_of_orderness_ms == b.max_out_of_orderness_ms == 20


class GappySource:
    """A bounded source: ``plan`` items are lists of records, or None for a poll that finds nothing."""

    def __init__(self, plan: list[Optional[list[int]]]) -> None:
        self.plan = plan

    def is_bounded(self) -> bool:
        return True

    def create_reader(self) -> Any:
        plan = list(self.plan)

        class Reader:
            def open(self, task_info: Any) -> None:
                pass

            def poll_batch(self, max_records: int) -> Any:
                if not plan:
                    return None
                item = plan.pop(0)
                return ([], None) if item is None else (item, None)

            def close(self) -> None:
                pass

        return Reader()


def test_bounded_source_ends_with_its_last_periodic_watermark() -> None:
    """A source with a watermark strategy emits periodic watermarks while it reads, and at its end a last
    periodic watermark (the task then emits MAX_WATERMARK: tests/integration/test_windows_job.py).
    Flink documentation: "Generating Watermarks" > "Using Watermark Strategies" (in the source)."""
    strategy = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(3)) \
        .with_timestamp_assigner(lambda v, ts: v)
    h = Harness(WatermarkingSourceOperator(CollectionSource([5, 9, 7]), strategy, 1000))
    h.set_processing_time(0)
    h.run_source()
    assert h.get_output_with_timestamps() == [(5, 5), (9, 9), (7, 7)]
    assert h.get_watermarks() == [5]
    assert h.operator.next_processing_time() == 1000


def test_source_polls_drive_periodic_watermarks_and_idleness() -> None:
    """The source task polls continuously; polls that find nothing still run the periodic emission, so a quiet
    source is marked idle after the timeout.
    Flink documentation: "Generating Watermarks" > "Dealing With Idle Sources"."""
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(lambda v, ts: v) \
        .with_idleness(Duration.of_millis(150))
    operator = WatermarkingSourceOperator(GappySource([[10, 20], None, None, None, None, [30]]), strategy, 100)
    h = Harness(operator)
    h.set_processing_time(0)
    h.open()
    clock = h.operator.processing_time
    for now in (0, 100, 200, 300, 400, 500):
        clock.set(now)
        assert h.operator.emit_next(10) is not None
    clock.set(600)
    assert h.operator.emit_next(10) is None
    assert [e for e in h.get_events() if e[0] != "record"] == [
        ("watermark", 19), ("watermark_status", True), ("watermark_status", False), ("watermark", 29)]


def test_batch_execution_generates_no_watermarks() -> None:
    """"Execution Mode (Batch/Streaming)": BATCH execution generates no watermarks (Flink's NoWatermarksGenerator);
    timestamps are still assigned and the final MAX_WATERMARK still passes."""
    operator = TimestampsAndWatermarksOperator(
        WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(by_second_field), 100)
    operator.batch_mode = True
    h = Harness(operator)
    h.set_processing_time(0)
    h.open()
    h.process_elements([("a", 5)])
    h.set_processing_time(1000)
    h.end_input()
    h.process_watermark(MAX_WATERMARK)
    assert h.get_output_with_timestamps() == [(("a", 5), 5)] and h.get_watermarks() == [MAX_WATERMARK]
