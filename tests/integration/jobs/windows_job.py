"""Event-time windows on real processes, for tests/integration/test_windows_job.py.

Usage: ``windows_job.py PARALLELISM [STREAMING|BATCH]``. Prints tuples tagged by the part of the job that made them:

* ``("tumbling", key, window_start, sum)``: numbers 0..N-1 from a parallel NumberSequenceSource whose watermark
  strategy runs in the source (timestamp 3 * n), keyed by n % 5, summed per 1 s tumbling window (reduce with a
  ProcessWindowFunction);
* ``("sliding", key, window_start, count)``: out-of-order events (disorder under 50 ms) whose timestamps and
  watermarks come from ``assign_timestamps_and_watermarks``, counted per 300 ms window sliding by 100 ms
  (aggregate with a WindowFunction);
* ``("session", key, start, end, count, total)``: the same events in 40 ms-gap sessions (ProcessWindowFunction);
* ``("all", window_start, total)``: all events summed per 500 ms window (window_all).
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterable
from typing import Any

from yflink.common import Duration, WatermarkStrategy
from yflink.datastream import (
    AggregateFunction,
    ProcessWindowFunction,
    RuntimeExecutionMode,
    StreamExecutionEnvironment,
    WindowFunction,
)
from yflink.datastream.connectors.number_seq import NumberSequenceSource
from yflink.datastream.window import EventTimeSessionWindows, SlidingEventTimeWindows, TumblingEventTimeWindows

NUMBERS = 6000
EVENTS = 1500
KEYS = ("a", "b", "c")


def events(seed: int = 7) -> list[tuple[str, int, int]]:
    """``(key, value, timestamp)``: timestamps rise by 10 ms per event (200 ms more every 50 events) plus up to
    49 ms of jitter, so no event is more than 50 ms older than one before it."""
    rng = random.Random(seed)
    return [(rng.choice(KEYS), rng.randint(1, 100), 10 * i + 200 * (i // 50) + rng.randrange(50))
            for i in range(EVENTS)]


class WithWindowStart(ProcessWindowFunction):
    def process(self, key: str, context: ProcessWindowFunction.Context, elements: Iterable[Any]) -> Any:
        for _, total in elements:
            yield "tumbling", key, context.window().start, total


class Count(AggregateFunction):
    def create_accumulator(self) -> int:
        return 0

    def add(self, value: Any, accumulator: int) -> int:
        return accumulator + 1

    def get_result(self, accumulator: int) -> int:
        return accumulator

    def merge(self, acc_a: int, acc_b: int) -> int:
        return acc_a + acc_b


class CountPerWindow(WindowFunction):
    def apply(self, key: str, window: Any, inputs: Iterable[int]) -> Any:
        for count in inputs:
            yield "sliding", key, window.start, count


class SessionSummary(ProcessWindowFunction):
    def process(self, key: str, context: ProcessWindowFunction.Context, elements: Iterable[Any]) -> Any:
        values = [v for _, v, _ in elements]
        window = context.window()
        yield "session", key, window.start, window.end, len(values), sum(values)


def main(parallelism: int, mode: str) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_runtime_mode(RuntimeExecutionMode.BATCH if mode == "BATCH" else RuntimeExecutionMode.STREAMING)
    env.set_parallelism(parallelism)
    env.get_config().set_auto_watermark_interval(20)

    numbers = env.from_source(
        NumberSequenceSource(0, NUMBERS - 1),
        WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(lambda n, ts: 3 * n),
        "numbers")
    numbers.map(lambda n: (f"k{n % 5}", n)) \
        .key_by(lambda e: e[0]) \
        .window(TumblingEventTimeWindows.of(Duration.of_seconds(1))) \
        .reduce(lambda a, b: (a[0], a[1] + b[1]), WithWindowStart()) \
        .print()

    timed = env.from_collection(events()).assign_timestamps_and_watermarks(
        WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(50))
        .with_timestamp_assigner(lambda e, ts: e[2]))
    keyed = timed.key_by(lambda e: e[0])
    keyed.window(SlidingEventTimeWindows.of(Duration.of_millis(300), Duration.of_millis(100))) \
        .aggregate(Count(), CountPerWindow()) \
        .print()
    keyed.window(EventTimeSessionWindows.with_gap(Duration.of_millis(40))) \
        .process(SessionSummary()) \
        .print()
    timed.window_all(TumblingEventTimeWindows.of(Duration.of_millis(500))) \
        .reduce(lambda a, b: ("all", a[1] + b[1], a[2])) \
        .map(lambda e: ("all", e[2] - e[2] % 500, e[1])) \
        .print()
    env.execute("windows")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2, sys.argv[2] if len(sys.argv) > 2 else "STREAMING")
