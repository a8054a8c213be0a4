"""Numbers 1..N into the exactly-once FileSink; after the job FINISHED, main waits (up to 10 min) until the file
``marker`` exists, so a test can lose the application master between the job's end and the application's end.
argv: N output-dir marker"""

import os
import sys
import time

from yflink.common import Types, WatermarkStrategy
from yflink.common.serialization import Encoder
from yflink.datastream import StreamExecutionEnvironment
from yflink.datastream.connectors import FileSink, NumberSequenceSource

n, output, marker = int(sys.argv[1]), sys.argv[2], sys.argv[3]
env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(2)
(env.from_source(NumberSequenceSource(1, n), WatermarkStrategy.no_watermarks(), "Numbers")
    .map(lambda x: x, output_type=Types.LONG())
    .sink_to(FileSink.for_row_format(output, Encoder.simple_string_encoder()).build()))
result = env.execute("numbers then wait")
print(f"main: job {result.get_job_id()} finished", flush=True)
deadline = time.monotonic() + 600
while not os.path.exists(marker) and time.monotonic() < deadline:
    time.sleep(0.2)
