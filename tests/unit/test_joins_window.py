"""Joins and connected streams through the DataStream API, run in-process at parallelism 1 and 2 and in both
execution modes, against plain-Python computations of the same thing.

Semantics: Flink documentation, "Joining" (Window Join: tumbling and sliding, an element pairs with every element
of the other side with the same key in the same window, results carry the window's max timestamp; Interval Join),
"Operators" (Window CoGroup, Connect), "The Broadcast State Pattern" and "Execution Mode (Batch/Streaming)"
(bounded jobs give the same final results in both modes).
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from typing import Any

import pytest

from yflink.common import Duration, Types, WatermarkStrategy
from yflink.datastream import (
    CoGroupFunction,
    FlatJoinFunction,
    KeyedBroadcastProcessFunction,
    KeyedCoProcessFunction,
    MapStateDescriptor,
    ProcessJoinFunction,
    RuntimeContext,
    RuntimeExecutionMode,
    StreamExecutionEnvironment,
    ValueStateDescriptor,
)
from yflink.datastream.window import SlidingEventTimeWindows, TumblingEventTimeWindows
from yflink.testing.local_runner import LocalGraphRunner

RNG = random.Random(11)
LEFT = [(RNG.choice("abcd"), f"l{i}", RNG.randint(0, 99)) for i in range(80)]
RIGHT = [(RNG.choice("abce"), f"r{i}", RNG.randint(0, 99)) for i in range(80)]


def environment(parallelism: int, mode: RuntimeExecutionMode = RuntimeExecutionMode.STREAMING) \
        -> StreamExecutionEnvironment:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    env.set_runtime_mode(mode)
    return env


def timestamped(env: StreamExecutionEnvironment, rows: list[tuple[str, str, int]]) -> Any:
    strategy = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(200)) \
        .with_timestamp_assigner(lambda row, _: row[2])
    return env.from_collection(rows).assign_timestamps_and_watermarks(strategy)


def run(env: StreamExecutionEnvironment, stream: Any) -> list[Any]:
    return LocalGraphRunner(env.get_stream_graph()).run().values_of(stream)


def windows_of(ts: int, size: int, slide: int) -> list[int]:
    first = ts - ts % slide - size + slide
    return [start for start in range(first, ts + 1, slide) if start <= ts < start + size]


@pytest.mark.parametrize("parallelism", [1, 2])
@pytest.mark.parametrize(("size", "slide"), [(20, 20), (30, 10)])
def test_window_join_equals_nested_loops(parallelism: int, size: int, slide: int) -> None:
    """Joining > Window Join (Tumbling and Sliding Window Join): each pair of same-key elements sharing a window is
    joined once per shared window."""
    env = environment(parallelism)
    assigner = TumblingEventTimeWindows.of(Duration.of_millis(size)) if size == slide \
        else SlidingEventTimeWindows.of(Duration.of_millis(size), Duration.of_millis(slide))
    joined = timestamped(env, LEFT).join(timestamped(env, RIGHT)) \
        .where(lambda row: row[0]).equal_to(lambda row: row[0]).window(assigner) \
        .apply(lambda a, b: (a[1], b[1]))
    expected = Counter((a[1], b[1]) for a, b in itertools.product(LEFT, RIGHT) if a[0] == b[0]
                       for _ in set(windows_of(a[2], size, slide)) & set(windows_of(b[2], size, slide)))
    assert Counter(run(env, joined)) == expected
    assert sum(expected.values()) > 0


def test_flat_join_and_co_group() -> None:
    """Joining > Window Join (FlatJoinFunction) and Operators > Window CoGroup: the co-group function sees both
    sides of a key and window, also when one side is empty."""
    class Both(FlatJoinFunction):
        def join(self, first: Any, second: Any) -> Any:
            if first[2] < second[2]:
                yield first[1] + second[1]

    class Sizes(CoGroupFunction):
        def co_group(self, first: Any, second: Any) -> Any:
            first, second = list(first), list(second)
            yield (first or second)[0][0], len(first), len(second)

    env = environment(2)
    left, right = timestamped(env, LEFT), timestamped(env, RIGHT)
    flat = left.join(right).where(lambda r: r[0]).equal_to(lambda r: r[0]) \
        .window(TumblingEventTimeWindows.of(Duration.of_millis(50))).apply(Both())
    grouped = left.co_group(right).where(lambda r: r[0]).equal_to(lambda r: r[0]) \
        .window(TumblingEventTimeWindows.of(Duration.of_millis(50))).apply(Sizes())
    runner = LocalGraphRunner(env.get_stream_graph()).run()
    assert Counter(runner.values_of(flat)) == Counter(
        a[1] + b[1] for a, b in itertools.product(LEFT, RIGHT)
        if a[0] == b[0] and a[2] // 50 == b[2] // 50 and a[2] < b[2])
    expected: Counter[tuple[str, int, int]] = Counter()
    for key, window in {(r[0], r[2] // 50) for r in LEFT + RIGHT}:
        expected[(key, sum(1 for r in LEFT if (r[0], r[2] // 50) == (key, window)),
                  sum(1 for r in RIGHT if (r[0], r[2] // 50) == (key, window)))] += 1
    assert Counter(runner.values_of(grouped)) == expected


class Pair(ProcessJoinFunction):
    def process_element(self, left: Any, right: Any, ctx: ProcessJoinFunction.Context) -> Any:
        yield left[1], right[1], ctx.get_timestamp()


@pytest.mark.parametrize("mode", [RuntimeExecutionMode.STREAMING, RuntimeExecutionMode.BATCH])
@pytest.mark.parametrize("parallelism", [1, 2])
def test_interval_join_through_the_api(parallelism: int, mode: RuntimeExecutionMode) -> None:
    """Joining > Interval Join: key_by(...).interval_join(other.key_by(...)).between(lower, upper) with an exclusive
    upper bound; the same pairs in STREAMING and BATCH (Execution Mode)."""
    env = environment(parallelism, mode)
    joined = timestamped(env, LEFT).key_by(lambda r: r[0]) \
        .interval_join(timestamped(env, RIGHT).key_by(lambda r: r[0])) \
        .between(Duration.of_millis(-5), Duration.of_millis(3)).upper_bound_exclusive() \
        .process(Pair())
    expected = Counter((a[1], b[1], max(a[2], b[2])) for a, b in itertools.product(LEFT, RIGHT)
                       if a[0] == b[0] and a[2] - 5 <= b[2] < a[2] + 3)
    assert Counter(run(env, joined)) == expected
    assert sum(expected.values()) > 0


class Totals(KeyedCoProcessFunction):
    """Per key: the sum of the left values and of the right values, emitted at the end of event time."""

    def open(self, runtime_context: RuntimeContext) -> None:
        self.sums = runtime_context.get_state(ValueStateDescriptor("sums", Types.PICKLED_BYTE_ARRAY()))

    def _add(self, side: int, value: int, ctx: KeyedCoProcessFunction.Context) -> Any:
        sums = list(self.sums.value() or (0, 0))
        sums[side] += value
        self.sums.update(tuple(sums))
        ctx.timer_service().register_event_time_timer(1_000)
        return ()

    def process_element1(self, value: Any, ctx: KeyedCoProcessFunction.Context) -> Any:
        return self._add(0, value[2], ctx)

    def process_element2(self, value: Any, ctx: KeyedCoProcessFunction.Context) -> Any:
        return self._add(1, value[2], ctx)

    def on_timer(self, timestamp: int, ctx: KeyedCoProcessFunction.OnTimerContext) -> Any:
        left, right = self.sums.value() or (0, 0)
        yield ctx.get_current_key(), left, right


RULES = MapStateDescriptor("rules", Types.STRING(), Types.INT())


class Weighted(KeyedBroadcastProcessFunction):
    """Multiplies each value by its key's weight from the broadcast state (default 1)."""

    def process_element(self, value: Any, ctx: KeyedBroadcastProcessFunction.ReadOnlyContext) -> Any:
        weight = ctx.get_broadcast_state(RULES).get(ctx.get_current_key())
        yield value[0], value[2] * (1 if weight is None else weight)

    def process_broadcast_element(self, value: Any, ctx: KeyedBroadcastProcessFunction.Context) -> Any:
        ctx.get_broadcast_state(RULES).put(value[0], value[1])
        return ()


@pytest.mark.parametrize("mode", [RuntimeExecutionMode.STREAMING, RuntimeExecutionMode.BATCH])
@pytest.mark.parametrize("parallelism", [1, 2])
def test_connected_and_broadcast_streams_through_the_api(parallelism: int, mode: RuntimeExecutionMode) -> None:
    """Operators > Connect (keyed connected streams share keyed state, KeyedCoProcessFunction timers) and The
    Broadcast State Pattern; Execution Mode: the same final results in STREAMING and BATCH (broadcast side first in
    BATCH; in this STREAMING run the rules arrive before the data, as the local runner reads input 2 last)."""
    env = environment(parallelism, mode)
    left, right = timestamped(env, LEFT), timestamped(env, RIGHT)
    totals = left.connect(right).key_by(lambda r: r[0], lambda r: r[0]).process(Totals())
    rules = env.from_collection([("a", 10), ("b", 100)]).broadcast(RULES)
    weighted = left.key_by(lambda r: r[0]).connect(rules).process(Weighted())
    runner = LocalGraphRunner(env.get_stream_graph()).run()
    expected_totals = {(k, sum(r[2] for r in LEFT if r[0] == k), sum(r[2] for r in RIGHT if r[0] == k))
                       for k in {r[0] for r in LEFT + RIGHT}}
    assert set(runner.values_of(totals)) == expected_totals
    weights = {"a": 10, "b": 100}
    expected_weighted = Counter((r[0], r[2] * weights.get(r[0], 1)) for r in LEFT)
    if mode is RuntimeExecutionMode.BATCH:
        assert Counter(runner.values_of(weighted)) == expected_weighted
    else:  # streaming: data may pass before the rules; every element is there with some weight
        assert sum(Counter(runner.values_of(weighted)).values()) == len(LEFT)
