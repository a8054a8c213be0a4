"""Connected streams and the broadcast state pattern through the two-input operator test harness.

Semantics: Flink documentation, "Operators" (Connect, CoMap/CoFlatMap), "Process Function" (Low-level Joins
with CoProcessFunction / KeyedCoProcessFunction), "The Broadcast State Pattern", "Timely Stream Processing"
(a two-input operator's event time is the minimum of its inputs' event times), "Generating Watermarks" (Idleness)
and "Execution Mode (Batch/Streaming)" (Order of Processing: broadcast inputs first).
"""

from __future__ import annotations

from typing import Any

import pytest

from yflink.common import Types
from yflink.datastream import (
    BroadcastProcessFunction,
    CoFlatMapFunction,
    CoMapFunction,
    CoProcessFunction,
    KeyedBroadcastProcessFunction,
    KeyedCoProcessFunction,
    ListStateDescriptor,
    MapStateDescriptor,
    OutputTag,
    RuntimeContext,
    TimeDomain,
    ValueStateDescriptor,
)
from yflink.streaming.operators.broadcast import BroadcastProcessOperator, KeyedBroadcastProcessOperator
from yflink.streaming.operators.co import CoProcessOperator, CoStreamFlatMap, CoStreamMap, KeyedCoProcessOperator
from yflink.streaming.operators.timers import MAX_WATERMARK, MIN_WATERMARK
from yflink.streaming.operators.udf import UserFunctionError
from yflink.testing import TwoInputOperatorTestHarness as Harness

RULES = MapStateDescriptor("rules", Types.STRING(), Types.INT())
REJECTED = OutputTag("rejected")


class Tag(CoMapFunction):
    def map1(self, value: Any) -> Any:
        return "left", value

    def map2(self, value: Any) -> Any:
        return None if value < 0 else ("right", value)


def test_co_map_calls_map1_and_map2_and_keeps_timestamps() -> None:
    """Operators > CoMap: map1 for the first input, map2 for the second; outputs keep their timestamps (a None
    result is dropped, as in PyFlink)."""
    harness = Harness(CoStreamMap(Tag()))
    harness.process_elements1([1, 2], [10, 20])
    harness.process_elements2([3, -1, 4], [30, 31, 40])
    assert harness.get_output_with_timestamps() == [(("left", 1), 10), (("left", 2), 20), (("right", 3), 30),
                                                    (("right", 4), 40)]


def test_co_flat_map_shares_state_between_inputs() -> None:
    """Operators > CoFlatMap: one function instance serves both inputs, so they can share state."""
    class Words(CoFlatMapFunction):
        def __init__(self) -> None:
            self.stop: set[str] = set()

        def flat_map1(self, value: Any) -> Any:
            yield from (w for w in value.split() if w not in self.stop)

        def flat_map2(self, value: Any) -> Any:
            self.stop.add(value)
            return []

    harness = Harness(CoStreamFlatMap(Words()))
    harness.process_element2("the")
    harness.process_element1("the cat and the dog")
    assert harness.get_output() == ["cat", "and", "dog"]


def test_watermark_is_the_minimum_of_both_inputs() -> None:
    """Timely Stream Processing: an operator with two inputs advances its event time to the minimum of its inputs'
    watermarks and forwards it only when it advances."""
    harness = Harness(CoStreamMap(Tag()))
    harness.process_watermark1(10)
    assert harness.get_watermarks() == []
    harness.process_watermark2(5)
    harness.process_watermark2(15)
    harness.process_watermark1(20)
    assert harness.get_watermarks() == [5, 10, 15]


def test_idle_input_does_not_hold_back_the_watermark() -> None:
    """Generating Watermarks > Dealing With Idle Sources: an idle input is left out of the minimum; the operator is
    idle when both inputs are."""
    harness = Harness(CoStreamMap(Tag()))
    harness.process_watermark1(10)
    harness.process_watermark_status2(True)
    assert harness.get_watermarks() == [10]
    harness.process_watermark_status1(True)
    assert harness.get_events()[-1] == ("watermark_status", True)
    harness.process_watermark_status2(False)
    assert harness.get_events()[-1] == ("watermark_status", False)


def test_co_process_context_time_and_side_output() -> None:
    """Process Function: a CoProcessFunction sees the element's timestamp and the current watermark; ctx.output emits
    to a side output; timers need keyed streams."""
    class Check(CoProcessFunction):
        def process_element1(self, value: Any, ctx: CoProcessFunction.Context) -> Any:
            yield value, ctx.timestamp(), ctx.timer_service().current_watermark()

        def process_element2(self, value: Any, ctx: CoProcessFunction.Context) -> Any:
            ctx.output(REJECTED, value)
            ctx.timer_service().register_event_time_timer(5)
            yield from ()

    harness = Harness(CoProcessOperator(Check()))
    harness.process_element1("a", 3)
    harness.process_watermark1(4)
    harness.process_watermark2(4)
    harness.process_element1("b", 7)
    assert harness.get_output() == [("a", 3, MIN_WATERMARK), ("b", 7, 4)]
    with pytest.raises(UserFunctionError, match="keyed"):
        harness.process_element2("x", 1)
    assert harness.get_side_output(REJECTED) == ["x"]


class Enrich(KeyedCoProcessFunction):
    """Orders (input 1) wait for the customer's name (input 2); unmatched orders time out at ts + 10."""

    def open(self, runtime_context: RuntimeContext) -> None:
        self.name = runtime_context.get_state(ValueStateDescriptor("name", Types.STRING()))
        self.pending = runtime_context.get_list_state(ListStateDescriptor("pending"))

    def process_element1(self, value: Any, ctx: KeyedCoProcessFunction.Context) -> Any:
        name = self.name.value()
        if name is not None:
            yield value[1], name
        else:
            self.pending.add(value[1])
            ctx.timer_service().register_event_time_timer(ctx.timestamp() + 10)  # type: ignore[operator]

    def process_element2(self, value: Any, ctx: KeyedCoProcessFunction.Context) -> Any:
        self.name.update(value[1])
        for order in self.pending.get():
            yield order, value[1]
        self.pending.clear()

    def on_timer(self, timestamp: int, ctx: KeyedCoProcessFunction.OnTimerContext) -> Any:
        assert ctx.time_domain() is TimeDomain.EVENT_TIME
        for order in self.pending.get():
            yield order, f"timeout of {ctx.get_current_key()} at {timestamp}"
        self.pending.clear()


def test_keyed_co_process_shares_keyed_state_and_timers() -> None:
    """Process Function > Low-level Joins: both inputs of keyed connected streams see the same keyed state of a key;
    timers fire per key when the combined watermark passes them."""
    harness = Harness(KeyedCoProcessOperator(Enrich(), lambda o: o[0], lambda c: c[0]))
    harness.process_elements1([("c1", "o1"), ("c2", "o2")], [1, 2])
    harness.process_elements2([("c1", "Ann")], [3])
    harness.process_elements1([("c1", "o3")], [4])
    harness.process_watermark1(20)
    assert harness.get_output() == [("o1", "Ann"), ("o3", "Ann")]
    harness.process_watermark2(20)
    assert harness.get_output()[-1] == ("o2", "timeout of c2 at 12")
    assert harness.get_output_with_timestamps()[-1][1] == 12


def test_keyed_co_process_in_batch_mode_groups_both_inputs_by_key() -> None:
    """Execution Mode (Batch) > Order of Processing: for keyed inputs all records of a key from both inputs are
    processed before the next key, in timestamp order; timers fire at the end of each key."""
    operator = KeyedCoProcessOperator(Enrich(), lambda o: o[0], lambda c: c[0])
    operator.batch_mode = True
    harness = Harness(operator)
    harness.process_elements1([("c1", "o1"), ("c2", "o2"), ("c1", "o3")], [1, 2, 9])
    harness.process_elements2([("c1", "Ann")], [5])
    harness.end_input()
    assert harness.get_output() == [("o1", "Ann"), ("o3", "Ann"), ("o2", "timeout of c2 at 12")]
    assert harness.get_watermarks() == [MAX_WATERMARK]


class Threshold(BroadcastProcessFunction):
    def process_element(self, value: Any, ctx: BroadcastProcessFunction.ReadOnlyContext) -> Any:
        limit = ctx.get_broadcast_state(RULES).get("limit")
        if limit is None or value <= limit:
            yield value
        else:
            yield REJECTED, value

    def process_broadcast_element(self, value: Any, ctx: BroadcastProcessFunction.Context) -> Any:
        ctx.get_broadcast_state(RULES).put(value[0], value[1])
        yield from ()


def test_broadcast_state_is_read_only_on_the_data_side() -> None:
    """The Broadcast State Pattern: the broadcast side writes the broadcast state, the other side reads it; a write
    from the non-broadcast side is refused."""
    harness = Harness(BroadcastProcessOperator(Threshold(), [RULES]))
    harness.process_elements1([5, 50])
    harness.process_element2(("limit", 10))
    harness.process_elements1([5, 50])
    assert harness.get_output() == [5, 50, 5]
    assert harness.get_side_output(REJECTED) == [50]

    class Writes(Threshold):
        def process_element(self, value: Any, ctx: BroadcastProcessFunction.ReadOnlyContext) -> Any:
            ctx.get_broadcast_state(RULES).put("limit", 0)  # type: ignore[attr-defined]
            yield value

    with pytest.raises(UserFunctionError, match="read-only"):
        Harness(BroadcastProcessOperator(Writes(), [RULES])).process_element1(1)


def test_unregistered_broadcast_state_is_an_error() -> None:
    """The Broadcast State Pattern: broadcast state must be registered with broadcast(descriptor)."""
    other = MapStateDescriptor("other", Types.STRING(), Types.INT())

    class Reads(Threshold):
        def process_element(self, value: Any, ctx: BroadcastProcessFunction.ReadOnlyContext) -> Any:
            ctx.get_broadcast_state(other)
            yield value

    with pytest.raises(UserFunctionError, match="does not exist"):
        Harness(BroadcastProcessOperator(Reads(), [RULES])).process_element1(1)


def test_broadcast_state_survives_a_snapshot_into_more_instances() -> None:
    """The Broadcast State Pattern (Important Considerations): on restore and rescaling every task gets a copy of
    the broadcast state."""
    harness = Harness(BroadcastProcessOperator(Threshold(), [RULES]))
    harness.process_element2(("limit", 10))
    snapshot = harness.snapshot()
    for index in range(3):
        restored = Harness(BroadcastProcessOperator(Threshold(), [RULES]), parallelism=3, subtask_index=index)
        restored.initialize_state(snapshot)
        restored.process_elements1([1, 11])
        assert restored.get_output() == [1]


class PerUserLimit(KeyedBroadcastProcessFunction):
    """Counts per user; flags users over the broadcast limit; the broadcast side resets every user's count."""

    COUNT = ValueStateDescriptor("count", Types.INT())

    def open(self, runtime_context: RuntimeContext) -> None:
        self.count = runtime_context.get_state(self.COUNT)

    def process_element(self, value: Any, ctx: KeyedBroadcastProcessFunction.ReadOnlyContext) -> Any:
        count = (self.count.value() or 0) + 1
        self.count.update(count)
        limit = ctx.get_broadcast_state(RULES).get("limit")
        if limit is not None and count > limit:
            yield ctx.get_current_key(), count
        ctx.timer_service().register_event_time_timer(100)

    def process_broadcast_element(self, value: Any, ctx: KeyedBroadcastProcessFunction.Context) -> Any:
        ctx.get_broadcast_state(RULES).put("limit", value)
        ctx.apply_to_keyed_state(self.COUNT, lambda key, state: state.clear())
        yield "limit", value

    def on_timer(self, timestamp: int, ctx: KeyedBroadcastProcessFunction.OnTimerContext) -> Any:
        yield ctx.get_current_key(), "timer", ctx.get_broadcast_state(RULES).get("limit")


def test_keyed_broadcast_process_function() -> None:
    """The Broadcast State Pattern (KeyedBroadcastProcessFunction): keyed state and timers on the keyed side, read-only
    broadcast state there, and apply_to_keyed_state on the broadcast side."""
    harness = Harness(KeyedBroadcastProcessOperator(PerUserLimit(), [RULES], lambda v: v))
    harness.process_element2(1)
    harness.process_elements1(["u1", "u1", "u2"])
    harness.process_element2(2)
    harness.process_elements1(["u1", "u1", "u1"])
    harness.process_watermark1(100)
    harness.process_watermark2(100)
    assert harness.get_output() == [("limit", 1), ("u1", 2), ("limit", 2), ("u1", 3), ("u1", "timer", 2),
                                    ("u2", "timer", 2)]


def test_broadcast_input_first_in_batch_mode() -> None:
    """Execution Mode (Batch) > Order of Processing: broadcast inputs are processed before the other input."""
    operator = KeyedBroadcastProcessOperator(PerUserLimit(), [RULES], lambda v: v)
    operator.batch_mode = True
    harness = Harness(operator)
    harness.process_elements1(["u1", "u1"])
    harness.process_element2(1)
    harness.end_input()
    assert harness.get_output() == [("limit", 1), ("u1", 2), ("u1", "timer", 1)]


def test_no_timers_on_the_broadcast_side() -> None:
    """The Broadcast State Pattern: the broadcast side of a KeyedBroadcastProcessFunction has no current key, hence
    no timer service (Flink's Context offers none)."""
    class Timers(PerUserLimit):
        def process_broadcast_element(self, value: Any, ctx: KeyedBroadcastProcessFunction.Context) -> Any:
            ctx.timer_service()  # type: ignore[attr-defined]
            yield from ()

    with pytest.raises(UserFunctionError, match="no current key"):
        Harness(KeyedBroadcastProcessOperator(Timers(), [RULES], lambda v: v)).process_element2(1)
