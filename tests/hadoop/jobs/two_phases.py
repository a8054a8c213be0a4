"""Application-mode job for the YARN tests: two jobs separated by an idle pause.

Phase 1 (parallelism 2) writes 1..N through the FileSink into ``output``; then the script sleeps ``pause_s``
(the TaskManager containers idle and are released); phase 2 (parallelism 1) prints ``phase2:<x>``.
It also prints where yflink and Python come from inside the application master.
argv: N output pause_s
"""

import sys
import time

import yflink
from yflink.common import Types, WatermarkStrategy
from yflink.common.serialization import Encoder
from yflink.datastream import StreamExecutionEnvironment
from yflink.datastream.connectors import FileSink, NumberSequenceSource

n, output, pause_s = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
print(f"yflink-from:{yflink.__file__}", flush=True)
print(f"python-from:{sys.executable}", flush=True)

env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(2)
(env.from_source(NumberSequenceSource(1, n), WatermarkStrategy.no_watermarks(), "Numbers")
    .map(lambda x: x, output_type=Types.LONG())
    .sink_to(FileSink.for_row_format(output, Encoder.simple_string_encoder()).build()))
env.execute("phase 1")
time.sleep(pause_s)
env.set_parallelism(1)
env.from_collection([1, 2, 3]).map(lambda x: f"phase2:{x * 10}").print()
env.execute("phase 2")
