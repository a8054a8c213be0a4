"""Numbers 1..N, slowly, keyed, into the exactly-once FileSink (for TaskManager-kill tests). argv: N output-dir"""

import sys
import time

from yflink.common import Types, WatermarkStrategy
from yflink.common.serialization import Encoder
from yflink.datastream import StreamExecutionEnvironment
from yflink.datastream.connectors import FileSink, NumberSequenceSource

n, output = int(sys.argv[1]), sys.argv[2]


def slow(x: int) -> int:
    if x % 20 == 0:
        time.sleep(0.002)  # about 3 s per subtask: time for checkpoints and a kill
    return x


env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(2)
(env.from_source(NumberSequenceSource(1, n), WatermarkStrategy.no_watermarks(), "Numbers")
    .map(slow, output_type=Types.LONG())
    .key_by(lambda x: x % 7)
    .map(lambda x: x, output_type=Types.LONG())
    .sink_to(FileSink.for_row_format(output, Encoder.simple_string_encoder()).build()))
env.execute("slow numbers")
