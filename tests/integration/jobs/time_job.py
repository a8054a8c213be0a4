"""Processing time and idle inputs on real processes, for tests/integration/test_windows_job.py.

Usage: ``time_job.py MARKER_DIR``. Prints:

* ``("proc", count)`` per 100 ms processing-time window of a source that emits 300 elements and then waits 600 ms
  before it ends: the last windows fire only through the task's processing-time callbacks (pending
  processing-time windows are dropped at the end of input, as in Flink);
* ``("event", window_start, count)`` per 100 ms event-time window of source A, and ``("late", value)`` for the
  one record of source B: B stays quiet until A's window at 800 has fired (A's window function then leaves a
  file in MARKER_DIR), which can only happen if B was marked idle (``with_idleness``); B's record (timestamp
  100) is then behind the watermark: late.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from typing import Any

from yflink.common import Duration, Types, WatermarkStrategy
from yflink.datastream import OutputTag, ProcessWindowFunction, SourceFunction, StreamExecutionEnvironment
from yflink.datastream.window import TumblingEventTimeWindows, TumblingProcessingTimeWindows

PROC_ELEMENTS = 300
A_EVENTS = 1000
LATE = OutputTag("late", Types.PICKLED_BYTE_ARRAY())


class Paced(SourceFunction):
    """300 elements, 1 ms apart, then 600 ms of silence."""

    def __init__(self) -> None:
        self.running = True

    def run(self, ctx: SourceFunction.SourceContext) -> None:
        for _ in range(PROC_ELEMENTS):
            if not self.running:
                return
            ctx.collect(("p", 1))
            time.sleep(0.001)
        time.sleep(0.6)

    def cancel(self) -> None:
        self.running = False


class SourceA(SourceFunction):
    """Events with timestamps 0..999, then stays open until B is done."""

    def __init__(self, marker_dir: str) -> None:
        self.marker_dir = marker_dir
        self.running = True

    def run(self, ctx: SourceFunction.SourceContext) -> None:
        for ts in range(A_EVENTS):
            ctx.collect(("a", ts))
        done = os.path.join(self.marker_dir, "b-done")
        deadline = time.monotonic() + 60
        while self.running and not os.path.exists(done) and time.monotonic() < deadline:
            time.sleep(0.01)

    def cancel(self) -> None:
        self.running = False


class SourceB(SourceFunction):
    """Quiet until A's windows fired (or 20 s passed), then one record with timestamp 100."""

    def __init__(self, marker_dir: str) -> None:
        self.marker_dir = marker_dir
        self.running = True

    def run(self, ctx: SourceFunction.SourceContext) -> None:
        fired = os.path.join(self.marker_dir, "a-fired")
        deadline = time.monotonic() + 20
        while self.running and not os.path.exists(fired) and time.monotonic() < deadline:
            time.sleep(0.01)
        ctx.collect(("b", 100))
        time.sleep(0.3)
        open(os.path.join(self.marker_dir, "b-done"), "w").close()

    def cancel(self) -> None:
        self.running = False


class CountAndMark(ProcessWindowFunction):
    def __init__(self, marker_dir: str) -> None:
        self.marker_dir = marker_dir

    def process(self, key: str, context: ProcessWindowFunction.Context, elements: Iterable[Any]) -> Any:
        start = context.window().start
        if start >= 800:
            open(os.path.join(self.marker_dir, "a-fired"), "w").close()
        yield "event", start, len(list(elements))


def main(marker_dir: str) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(1)
    env.get_config().set_auto_watermark_interval(50)

    env.add_source(Paced(), "paced") \
        .key_by(lambda e: e[0]) \
        .window(TumblingProcessingTimeWindows.of(Duration.of_millis(100))) \
        .reduce(lambda a, b: (a[0], a[1] + b[1])) \
        .map(lambda e: ("proc", e[1])) \
        .print()

    strategy = WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(lambda e, ts: e[1]) \
        .with_idleness(Duration.of_millis(200))
    a = env.add_source(SourceA(marker_dir), "a").assign_timestamps_and_watermarks(strategy)
    b = env.add_source(SourceB(marker_dir), "b").assign_timestamps_and_watermarks(strategy)
    windows = a.union(b).key_by(lambda e: "all") \
        .window(TumblingEventTimeWindows.of(Duration.of_millis(100))) \
        .side_output_late_data(LATE) \
        .process(CountAndMark(marker_dir))
    windows.print()
    windows.get_side_output(LATE).map(lambda e: ("late", e[1])).print()
    env.execute("time")


if __name__ == "__main__":
    main(sys.argv[1])
