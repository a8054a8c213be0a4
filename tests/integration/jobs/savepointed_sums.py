"""Keyed running sums of 1..N, slowly, every operator with a uid: for savepoint, stop and restore at another
parallelism. argv: N (the parallelism comes from `yflink run -p`). Prints ``sums <key> <sum>`` per update."""

import sys
import time

from yflink.common import Types, WatermarkStrategy
from yflink.datastream import StreamExecutionEnvironment
from yflink.datastream.connectors import NumberSequenceSource

n = int(sys.argv[1])


def slow(x: int) -> int:
    time.sleep(0.001)  # about 1,000 records per second per subtask: time to savepoint and stop mid-way
    return x


env = StreamExecutionEnvironment.get_execution_environment()
(env.from_source(NumberSequenceSource(1, n), WatermarkStrategy.no_watermarks(), "Numbers").uid("numbers")
    .map(slow, output_type=Types.LONG()).uid("slow")
    .map(lambda x: (x % 10, x), output_type=Types.TUPLE([Types.INT(), Types.LONG()])).uid("pairs")
    .key_by(lambda p: p[0])
    .reduce(lambda a, b: (a[0], a[1] + b[1])).uid("sums")
    .map(lambda p: f"sums {p[0]} {p[1]}", output_type=Types.STRING()).uid("format")
    .print())
env.execute("savepointed sums")
