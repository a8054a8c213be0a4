"""Process functions with keyed state, timers, side outputs and snapshots, through the operator test harness.

Semantics: Flink documentation, "Process Function" (The KeyedProcessFunction, Timers: one timer per key and
timestamp, fault tolerance: timers are checkpointed), "Side Outputs", "Working with State" (Using Keyed
State, State TTL, Using Operator State / CheckpointedFunction) and "Execution Mode (Batch/Streaming)".
"""

from __future__ import annotations

from typing import Any

import pytest

from yflink.common import Duration, Types
from yflink.datastream import (
    KeyedProcessFunction,
    ListStateDescriptor,
    MapFunction,
    OutputTag,
    ProcessFunction,
    RuntimeContext,
    TimeDomain,
    ValueStateDescriptor,
)
from yflink.datastream.checkpointed_function import (
    CheckpointedFunction,
    FunctionInitializationContext,
    FunctionSnapshotContext,
)
from yflink.datastream.state import StateTtlConfig
from yflink.streaming.operators.process import KeyedProcessOperator, ProcessOperator
from yflink.streaming.operators.simple import StreamMap
from yflink.streaming.operators.timers import MAX_WATERMARK, MIN_WATERMARK
from yflink.streaming.operators.udf import UserFunctionError
from yflink.testing import OneInputOperatorTestHarness as Harness

LATE = OutputTag("late", Types.STRING())


class Sessionize(KeyedProcessFunction):
    """Counts per key; emits (key, count) 10 ms after the key's last element; late records to a side output."""

    def open(self, runtime_context: RuntimeContext) -> None:
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))
        self.timer = runtime_context.get_state(ValueStateDescriptor("timer", Types.LONG()))

    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Any:
        ts = ctx.timestamp()
        assert ts is not None
        if ts <= ctx.timer_service().current_watermark():
            ctx.output(LATE, f"{value[0]}@{ts}")  # type: ignore[attr-defined]
            return
        self.count.update((self.count.value() or 0) + 1)
        previous = self.timer.value()
        if previous is not None:
            ctx.timer_service().delete_event_time_timer(previous)
        self.timer.update(ts + 10)
        ctx.timer_service().register_event_time_timer(ts + 10)
        yield from ()

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Any:
        assert ctx.time_domain() is TimeDomain.EVENT_TIME and ctx.timestamp() == timestamp
        yield ctx.get_current_key(), self.count.value()
        self.count.clear()
        self.timer.clear()


def keyed(function: Any, **kwargs: Any) -> Harness:
    return Harness(KeyedProcessOperator(function, lambda v: v[0]), **kwargs)


def test_keyed_process_function_context_and_side_output() -> None:
    """Process Function (timers per key, watermark, timestamps) and Side Outputs (ctx.output): late records go to a
    side output, timers fire once per key and time on the watermark."""
    harness = keyed(Sessionize())
    harness.process_elements([("a", 1), ("b", 2), ("a", 5)], [1, 2, 5])
    harness.process_watermark(12)
    harness.process_elements([("b", 3)], [3])
    assert harness.get_output_with_timestamps() == [(("b", 1), 12)]
    assert harness.get_side_output(LATE) == ["b@3"]
    harness.process_watermark(15)
    assert harness.get_output()[-1] == ("a", 2)
    assert harness.get_watermarks() == [12, 15]


def test_pyflink_style_side_output_by_yielding_a_tag() -> None:
    """Side Outputs (PyFlink): a process function yields (output_tag, value) to emit to a side output."""
    class Split(ProcessFunction):
        def process_element(self, value: Any, ctx: ProcessFunction.Context) -> Any:
            yield value
            if value % 2:
                yield LATE, f"odd {value}"

    harness = Harness(ProcessOperator(Split()))
    harness.process_elements([1, 2, 3], [10, 20, 30])
    assert harness.get_output_with_timestamps() == [(1, 10), (2, 20), (3, 30)]
    assert [e for e in harness.get_events() if e[0] == "side"] == [("side", "late", "odd 1", 10),
                                                                   ("side", "late", "odd 3", 30)]


def test_process_function_context_times() -> None:
    """Process Function: the context gives the element's timestamp, the current watermark and processing time."""
    class Times(ProcessFunction):
        def process_element(self, value: Any, ctx: ProcessFunction.Context) -> Any:
            service = ctx.timer_service()
            yield ctx.timestamp(), service.current_watermark(), service.current_processing_time()

    harness = Harness(ProcessOperator(Times()))
    harness.set_processing_time(500)
    harness.process_element("x")
    harness.process_watermark(7)
    harness.process_element("y", 9)
    assert harness.get_output() == [(None, MIN_WATERMARK, 500), (9, 7, 500)]


def test_processing_time_timers_under_a_controlled_clock() -> None:
    """Process Function > Timers: processing-time timers fire when processing time reaches them; on_timer sees the
    PROCESSING_TIME domain; deleted timers do not fire; outputs carry no timestamp."""
    class Reminder(KeyedProcessFunction):
        def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Any:
            now = ctx.timer_service().current_processing_time()
            ctx.timer_service().register_processing_time_timer(now + 100)
            if value[1] == "cancel":
                ctx.timer_service().delete_processing_time_timer(now + 100)
            yield from ()

        def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Any:
            yield ctx.get_current_key(), ctx.time_domain(), timestamp, ctx.timestamp()

    harness = keyed(Reminder())
    harness.set_processing_time(1_000)
    harness.process_elements([("a", "x"), ("b", "cancel")], [1, 2])
    harness.set_processing_time(1_099)
    assert harness.get_output() == []
    harness.set_processing_time(1_100)
    assert harness.get_output_with_timestamps() == [(("a", TimeDomain.PROCESSING_TIME, 1_100, 1_100), None)]
    assert harness.operator.next_processing_time() is None


def test_timers_and_keyed_state_survive_a_snapshot_and_rescale() -> None:
    """Process Function > Timers (fault tolerance: timers are checkpointed with keyed state) and Working with State
    (keyed state is redistributed by key group): state and timers restored into two subtasks fire as before."""
    harness = keyed(Sessionize(), max_parallelism=16)
    keys = [f"k{i}" for i in range(20)]
    harness.process_elements([(k, i) for i, k in enumerate(keys)], list(range(20)))
    snapshot = harness.snapshot()
    expected = {(k, 1) for k in keys}
    restored: set[Any] = set()
    for index in range(2):
        new = keyed(Sessionize(), max_parallelism=16, parallelism=2, subtask_index=index)
        new.initialize_state(snapshot)
        new.open()
        new.process_watermark(MAX_WATERMARK)
        restored |= set(new.get_output())
    assert restored == expected
    harness.process_watermark(MAX_WATERMARK)
    assert set(harness.get_output()) == expected


class Buffering(MapFunction, CheckpointedFunction):
    """Keeps every element in operator list state (Flink's BufferingSink example)."""

    def __init__(self) -> None:
        self.elements: list[Any] = []
        self.restored = False

    def initialize_state(self, context: FunctionInitializationContext) -> None:
        self.state = context.get_operator_state_store().get_list_state(ListStateDescriptor("buffer", Types.INT()))
        self.restored = context.is_restored()
        self.elements = list(self.state.get())

    def snapshot_state(self, context: FunctionSnapshotContext) -> None:
        self.state.update(self.elements)

    def map(self, value: Any) -> Any:
        self.elements.append(value)
        return self.restored, len(self.elements)


def test_checkpointed_function_list_state_is_split_on_rescale() -> None:
    """Working with State > Using Operator State: CheckpointedFunction.initialize_state runs before the first record
    (restored or not); list state is redistributed in even splits when the parallelism changes."""
    old = []
    for index in range(2):
        harness = Harness(StreamMap(Buffering()), parallelism=2, subtask_index=index)
        harness.process_elements([index * 10 + i for i in range(3)])
        assert harness.get_output()[0] == (False, 1)
        old.append(harness.snapshot(checkpoint_id=1))
    outputs = []
    for index in range(3):
        harness = Harness(StreamMap(Buffering()), parallelism=3, subtask_index=index)
        harness.initialize_state(old)
        harness.process_element(99)
        outputs.append(harness.get_output()[0])
        assert harness.operator.function.elements[:-1] == [[0, 1], [2, 10], [11, 12]][index]
    assert outputs == [(True, 3), (True, 3), (True, 3)]


def test_value_state_ttl_in_a_keyed_function() -> None:
    """Working with State > State TTL: with a TTL the value of a key expires after its last write (processing time,
    here a clock set by the harness)."""
    class Last(KeyedProcessFunction):
        def open(self, runtime_context: RuntimeContext) -> None:
            descriptor = ValueStateDescriptor("last", Types.STRING())
            descriptor.enable_time_to_live(StateTtlConfig.new_builder(Duration.of_millis(100)).build())
            self.last = runtime_context.get_state(descriptor)

        def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Any:
            yield self.last.value()
            self.last.update(value[1])

    harness = keyed(Last())
    harness.set_processing_time(0)
    harness.process_elements([("a", "x"), ("a", "y")])
    harness.set_processing_time(99)
    harness.process_element(("a", "z"))
    harness.set_processing_time(199)
    harness.process_element(("a", "w"))
    assert harness.get_output() == [None, "x", "y", None]


def test_batch_mode_processes_key_by_key_in_timestamp_order() -> None:
    """Execution Mode (Batch) > Order of Processing and Event Time: keyed input is processed key by key in timestamp
    order with perfect watermarks; all of a key's timers fire at the end of the key, then its state is dropped."""
    class Trace(KeyedProcessFunction):
        def open(self, runtime_context: RuntimeContext) -> None:
            self.seen = runtime_context.get_list_state(ListStateDescriptor("seen", Types.INT()))

        def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Any:
            self.seen.add(value[1])
            ctx.timer_service().register_event_time_timer(1_000)
            ctx.timer_service().register_processing_time_timer(5)
            yield ctx.get_current_key(), value[1], ctx.timer_service().current_watermark()

        def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Any:
            ctx.timer_service().register_event_time_timer(timestamp + 1)  # quiesced: ignored
            yield ctx.get_current_key(), ctx.time_domain().name, list(self.seen.get())

    operator = KeyedProcessOperator(Trace(), lambda v: v[0])
    operator.batch_mode = True
    harness = Harness(operator)
    harness.process_elements([("a", 3), ("b", 1), ("a", 1), ("a", 2)], [3, 1, 1, 2])
    harness.process_watermark(100)
    assert harness.get_events() == []
    harness.end_input()
    assert harness.get_output() == [
        ("a", 1, MIN_WATERMARK), ("a", 2, MIN_WATERMARK), ("a", 3, MIN_WATERMARK),
        ("a", "EVENT_TIME", [1, 2, 3]), ("a", "PROCESSING_TIME", [1, 2, 3]),
        ("b", 1, MIN_WATERMARK), ("b", "EVENT_TIME", [1]), ("b", "PROCESSING_TIME", [1])]
    assert harness.get_watermarks() == [MAX_WATERMARK]
    assert all(not table for table in harness.keyed_backend.tables().values())


def test_errors_in_on_timer_name_the_function() -> None:
    """Process Function: an exception in on_timer fails the task with the function named."""
    class Broken(KeyedProcessFunction):
        def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Any:
            ctx.timer_service().register_event_time_timer(1)
            yield from ()

        def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Any:
            raise ValueError("boom")

    harness = keyed(Broken())
    harness.process_element(("a", 1), 0)
    with pytest.raises(UserFunctionError, match="on_timer.*boom"):
        harness.process_watermark(5)
