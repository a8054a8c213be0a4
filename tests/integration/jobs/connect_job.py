"""A job with two-input operators: keyed co-process with timers, keyed broadcast state and an interval join.

Usage: ``yflink run connect_job.py PARALLELISM STREAMING|BATCH``. The data is generated from a fixed seed
(:func:`data`), so a test computes the expected output in plain Python. Output lines are tuples whose first
field names the part: ``("totals", key, left sum, right sum)``, ``("weighted", key, value)``,
``("pair", left id, right id, timestamp)``.
"""

from __future__ import annotations

import random
import sys
from typing import Any

from yflink.common import Duration, Types, WatermarkStrategy
from yflink.datastream import (
    KeyedBroadcastProcessFunction,
    KeyedCoProcessFunction,
    ListStateDescriptor,
    MapStateDescriptor,
    ProcessJoinFunction,
    RuntimeContext,
    RuntimeExecutionMode,
    StreamExecutionEnvironment,
    ValueStateDescriptor,
)

RULES = MapStateDescriptor("weights", Types.STRING(), Types.INT())
WAITING = ListStateDescriptor("waiting", Types.LONG())
WEIGHTS = [("a", 10), ("b", 100)]


def data() -> tuple[list[tuple[str, str, int]], list[tuple[str, str, int]]]:
    rng = random.Random(2024)
    left = [(rng.choice("abcd"), f"l{i}", rng.randint(0, 5_000)) for i in range(2_000)]
    right = [(rng.choice("abce"), f"r{i}", rng.randint(0, 5_000)) for i in range(2_000)]
    return left, right


class Totals(KeyedCoProcessFunction):
    """Per key, the sums of the left and of the right timestamps, emitted when event time ends."""

    def open(self, runtime_context: RuntimeContext) -> None:
        self.left = runtime_context.get_state(ValueStateDescriptor("left", Types.LONG()))
        self.right = runtime_context.get_state(ValueStateDescriptor("right", Types.LONG()))

    def process_element1(self, value: Any, ctx: KeyedCoProcessFunction.Context) -> Any:
        self.left.update((self.left.value() or 0) + value[2])
        ctx.timer_service().register_event_time_timer(10_000)
        return ()

    def process_element2(self, value: Any, ctx: KeyedCoProcessFunction.Context) -> Any:
        self.right.update((self.right.value() or 0) + value[2])
        ctx.timer_service().register_event_time_timer(10_000)
        return ()

    def on_timer(self, timestamp: int, ctx: KeyedCoProcessFunction.OnTimerContext) -> Any:
        yield "totals", ctx.get_current_key(), self.left.value() or 0, self.right.value() or 0


class Weighted(KeyedBroadcastProcessFunction):
    """Weights each left value by its key's broadcast weight; elements waiting for the weights are kept in keyed
    state and released when the weights arrive, so the result does not depend on arrival order."""

    def open(self, runtime_context: RuntimeContext) -> None:
        self.waiting = runtime_context.get_list_state(WAITING)

    def process_element(self, value: Any, ctx: KeyedBroadcastProcessFunction.ReadOnlyContext) -> Any:
        weights = ctx.get_broadcast_state(RULES)
        if weights.contains("ready"):
            yield "weighted", value[0], value[2] * (weights.get(value[0]) or 1)
        else:
            self.waiting.add(value[2])

    def process_broadcast_element(self, value: Any, ctx: KeyedBroadcastProcessFunction.Context) -> Any:
        state = ctx.get_broadcast_state(RULES)
        state.put(value[0], value[1])
        if value[0] == "ready":
            released: list[Any] = []

            def release(key: Any, waiting: Any) -> None:
                released.extend(("weighted", key, v * (state.get(key) or 1)) for v in waiting.get())
                waiting.clear()

            ctx.apply_to_keyed_state(WAITING, release)
            yield from released


class Pair(ProcessJoinFunction):
    def process_element(self, left: Any, right: Any, ctx: ProcessJoinFunction.Context) -> Any:
        yield "pair", left[1], right[1], ctx.get_timestamp()


def main() -> None:
    parallelism, mode = int(sys.argv[1]), sys.argv[2]
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    env.set_runtime_mode(RuntimeExecutionMode[mode])
    left_rows, right_rows = data()
    strategy = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(6_000)) \
        .with_timestamp_assigner(lambda row, _: row[2])
    left = env.from_collection(left_rows).assign_timestamps_and_watermarks(strategy)
    right = env.from_collection(right_rows).assign_timestamps_and_watermarks(strategy)

    left.connect(right).key_by(lambda r: r[0], lambda r: r[0]).process(Totals()).print()

    weights = env.from_collection(WEIGHTS + [("ready", 0)]).broadcast(RULES)
    left.key_by(lambda r: r[0]).connect(weights).process(Weighted()).print()

    left.key_by(lambda r: r[0]).interval_join(right.key_by(lambda r: r[0])) \
        .between(Duration.of_millis(-3), Duration.of_millis(2)).process(Pair()).print()
    env.execute(f"connect job ({mode})")


if __name__ == "__main__":
    main()
