"""Event-time tumbling windows over 1..N (timestamp 10 * x ms), slowly, for `yflink stop --drain`: draining emits
MAX_WATERMARK, so every window fires, the partial last ones too. Prints ``window <key> <start> <count>``.
argv: N"""

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
    time.sleep(0.001)
    return x


class WithStart(ProcessWindowFunction):
    def process(self, key: int, context: ProcessWindowFunction.Context, elements: Iterable[Any]) -> Any:
        for _, count in elements:
            yield f"window {key} {context.window().start} {count}"


env = StreamExecutionEnvironment.get_execution_environment()
env.get_config().set_auto_watermark_interval(20)
(env.from_source(NumberSequenceSource(1, n),
                 WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(lambda x, ts: 10 * x),
                 "Numbers").uid("numbers")
    .map(slow, output_type=Types.LONG()).uid("slow")
    .map(lambda x: (x % 2, 1), output_type=Types.TUPLE([Types.INT(), Types.LONG()])).uid("ones")
    .key_by(lambda p: p[0])
    .window(TumblingEventTimeWindows.of(Duration.of_seconds(1)))
    .reduce(lambda a, b: (a[0], a[1] + b[1]), WithStart()).uid("windows")
    .print())
env.execute("drained windows")
