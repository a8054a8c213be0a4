"""Fails once in the middle and restarts from the latest checkpoint, writing through the two-phase-commit
FileSink: the committed files must hold every number exactly once.

argv: marker-file N output-dir
"""

import os
import sys
import time

from yflink.common import Types, WatermarkStrategy
from yflink.common.serialization import Encoder
from yflink.datastream import StreamExecutionEnvironment
from yflink.datastream.connectors import FileSink, NumberSequenceSource

marker, n, output = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def fail_once(x: int) -> int:
    if x % 200 == 0:
        time.sleep(0.002)
    if x == n * 3 // 4 and not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError(f"planned failure at {x}")
    return x


env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(2)
(env.from_source(NumberSequenceSource(1, n), WatermarkStrategy.no_watermarks(), "Numbers")
    .map(fail_once, output_type=Types.LONG())
    .key_by(lambda x: x % 7)
    .map(lambda x: x, output_type=Types.LONG())
    .sink_to(FileSink.for_row_format(output, Encoder.simple_string_encoder()).build()))
env.execute("recovers to files")
