"""Execution modes for process functions and two-input operators: which mode a job runs in, and that a bounded job
gives the same final results in STREAMING and BATCH.

Semantics: Flink documentation, "Execution Mode (Batch/Streaming)": ``execution.runtime-mode`` STREAMING, BATCH or
AUTOMATIC (BATCH when every source is bounded); in BATCH rolling aggregations emit only final results, keyed input
is processed key by key with perfect watermarks, and the final results equal those of STREAMING.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from yflink.common import Types, WatermarkStrategy
from yflink.datastream import (
    CoMapFunction,
    KeyedProcessFunction,
    RuntimeContext,
    RuntimeExecutionMode,
    SourceFunction,
    StreamExecutionEnvironment,
    ValueStateDescriptor,
)
from yflink.datastream.connected_streams import ConnectedStreams
from yflink.testing.local_runner import LocalGraphRunner

RNG = random.Random(5)
EVENTS = [(RNG.choice("pqrs"), RNG.randint(1, 9), RNG.randint(0, 1_000)) for _ in range(300)]


class Session(KeyedProcessFunction):
    """Per key: sum of values in sessions closed 50 ms after the last event (event time)."""

    def open(self, runtime_context: RuntimeContext) -> None:
        self.total = runtime_context.get_state(ValueStateDescriptor("total", Types.LONG()))
        self.end = runtime_context.get_state(ValueStateDescriptor("end", Types.LONG()))

    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Any:
        self.total.update((self.total.value() or 0) + value[1])
        end = self.end.value()
        if end is not None:
            ctx.timer_service().delete_event_time_timer(end)
        new_end = max(end or 0, value[2] + 50)
        self.end.update(new_end)
        ctx.timer_service().register_event_time_timer(new_end)
        return ()

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Any:
        yield ctx.get_current_key(), timestamp, self.total.value()
        self.total.clear()
        self.end.clear()


class Label(CoMapFunction):
    def map1(self, value: Any) -> Any:
        return "1", value[0]

    def map2(self, value: Any) -> Any:
        return "2", value[0]


def pipeline(mode: RuntimeExecutionMode, parallelism: int) -> tuple[list[Any], list[Any], Any]:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    env.set_runtime_mode(mode)
    env.get_config().set_auto_watermark_interval(0)
    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(lambda e, _: e[2])
    events = env.from_collection(sorted(EVENTS, key=lambda e: e[2])).assign_timestamps_and_watermarks(strategy)
    sessions = events.key_by(lambda e: e[0]).process(Session())
    labels = ConnectedStreams(events, events).map(Label())
    graph = env.get_stream_graph()
    runner = LocalGraphRunner(graph).run()
    return runner.values_of(sessions), runner.values_of(labels), graph


def expected_sessions() -> Counter[tuple[str, int, int]]:
    """Sessions as the streaming job closes them: the source emits watermark ``ts - 1`` after each event, and a
    session's timer fires once the watermark reaches its end."""
    result: Counter[tuple[str, int, int]] = Counter()
    open_sessions: dict[str, tuple[int, int]] = {}  # key -> (end, total)
    watermark = -(1 << 63)
    for key, value, ts in sorted(EVENTS, key=lambda e: e[2]):
        for k, (end, total) in list(open_sessions.items()):
            if end <= watermark:
                result[(k, end, total)] += 1
                del open_sessions[k]
        end, total = open_sessions.get(key, (0, 0))
        open_sessions[key] = (max(end, ts + 50), total + value)
        watermark = ts - 1
    result.update((k, end, total) for k, (end, total) in open_sessions.items())
    return result


@pytest.mark.parametrize("parallelism", [1, 2])
def test_streaming_and_batch_give_the_same_final_results(parallelism: int) -> None:
    """Execution Mode: a bounded job of keyed process functions with event-time timers and a co-map gives the same
    final results in STREAMING and BATCH."""
    streaming = pipeline(RuntimeExecutionMode.STREAMING, parallelism)
    batch = pipeline(RuntimeExecutionMode.BATCH, parallelism)
    assert Counter(batch[1]) == Counter(streaming[1]) == Counter(
        [("1", e[0]) for e in EVENTS] + [("2", e[0]) for e in EVENTS])
    # BATCH fires each key's timers once at the end of the key: one session per key with everything
    assert Counter(batch[0]) == Counter(
        (k, max(e[2] for e in EVENTS if e[0] == k) + 50, sum(e[1] for e in EVENTS if e[0] == k))
        for k in {e[0] for e in EVENTS})
    # STREAMING without intermediate watermarks: the same, all timers fire at the end of input
    assert Counter(streaming[0]) == Counter(batch[0])


def test_watermarks_split_sessions_in_streaming_as_in_flink() -> None:
    """Process Function > Timers: with watermarks flowing, event-time timers fire as soon as event time passes them;
    the results then match a plain-Python sessionization of the sorted events."""
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.get_config().set_auto_watermark_interval(0)

    class Ordered(SourceFunction):
        def run(self, ctx: SourceFunction.SourceContext) -> None:
            for event in sorted(EVENTS, key=lambda e: e[2]):
                ctx.collect_with_timestamp(event, event[2])
                ctx.emit_watermark(event[2] - 1)

        def cancel(self) -> None:
            pass

    sessions = env.add_source(Ordered()).key_by(lambda e: e[0]).process(Session())
    assert Counter(LocalGraphRunner(env.get_stream_graph()).run().values_of(sessions)) == expected_sessions()


@pytest.mark.parametrize(("mode", "bounded", "batch"), [
    ("STREAMING", True, False), ("BATCH", True, True), ("AUTOMATIC", True, True), ("AUTOMATIC", False, False)])
def test_runtime_mode_reaches_the_operators(mode: str, bounded: bool, batch: bool) -> None:
    """Execution Mode > Configuring BATCH execution mode: AUTOMATIC means BATCH when every source is bounded."""
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_runtime_mode(RuntimeExecutionMode[mode])
    if bounded:
        source = env.from_collection([("a", 1, 1)])
    else:
        class Endless(SourceFunction):
            def run(self, ctx: SourceFunction.SourceContext) -> None:
                pass

            def cancel(self) -> None:
                pass

        source = env.add_source(Endless())
    source.key_by(lambda e: e[0]).process(Session())
    ConnectedStreams(source, source).map(Label())
    graph = env.get_stream_graph()
    flags = {n.name: n.operator.batch_mode for n in graph.nodes.values() if hasattr(n.operator, "batch_mode")}
    assert flags == {"KeyedProcess": batch, "Co-Map": batch}
