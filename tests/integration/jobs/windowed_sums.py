"""Event-time tumbling windows over 1..N, slowly, every operator with a uid: for stop-with-savepoint with and
without --drain. Number x has event time 10 * x ms, so a 1 s window holds 100 numbers; keyed by x % 3.
argv: N. Prints ``window <key> <window start ms> <sum>`` per fired window."""

import sys
import time
from collections.abc import Iterable
from typing import Any

from yflink.common import Duration, Types, WatermarkStrategy
from yflink.datastream import ProcessWindowFunction, StreamExecutionEnvironment
from yflink.datastream.connectors import NumberSequenceSource
from yflink.datastream.window import TumblingEventTimeWindows

n = int(sys.argv[1])


def slow(x: int) -> int:
    time.sleep(0.001)  # about 1,000 numbers (10 windows of event time) per second
    return x


class WithWindowStart(ProcessWindowFunction):
    def process(self, key: int, context: ProcessWindowFunction.Context, elements: Iterable[Any]) -> Any:
        for _, total in elements:
            yield f"window {key} {context.window().start} {total}"


env = StreamExecutionEnvironment.get_execution_environment()
env.get_config().set_auto_watermark_interval(20)
(env.from_source(NumberSequenceSource(1, n), WatermarkStrategy.for_monotonous_timestamps()
                 .with_timestamp_assigner(lambda x, ts: 10 * x), "Numbers").uid("numbers").set_parallelism(1)
    .map(slow, output_type=Types.LONG()).uid("slow").set_parallelism(1)
    .map(lambda x: (x % 3, x), output_type=Types.TUPLE([Types.INT(), Types.LONG()])).uid("pairs")
    .key_by(lambda p: p[0])
    .window(TumblingEventTimeWindows.of(Duration.of_seconds(1)))
    .reduce(lambda a, b: (a[0], a[1] + b[1]), WithWindowStart(), output_type=Types.STRING()).uid("windows")
    .print())
env.execute("windowed sums")
