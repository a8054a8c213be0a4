"""Fails once in the middle, restarts from the latest checkpoint; the final sums must be exact.

argv: marker-file N
"""

import os
import sys
import time

from yflink.common import Types, WatermarkStrategy
from yflink.datastream import StreamExecutionEnvironment
from yflink.datastream.connectors import NumberSequenceSource

marker, n = sys.argv[1], int(sys.argv[2])


def fail_once(x: int) -> int:
    if x % 200 == 0:
        time.sleep(0.002)  # slow enough (about 1 s before the failure) for several 100 ms checkpoints first
    if x == n * 3 // 4 and not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError(f"planned failure at {x}")
    return x


env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(2)
(env.from_source(NumberSequenceSource(1, n), WatermarkStrategy.no_watermarks(), "Numbers")
    .map(fail_once, output_type=Types.LONG())
    .map(lambda x: (x % 10, x), output_type=Types.TUPLE([Types.INT(), Types.LONG()]))
    .key_by(lambda p: p[0])
    .reduce(lambda a, b: (a[0], a[1] + b[1]))
    .print())
env.execute("recovers")
