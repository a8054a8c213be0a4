"""Nexmark q1 in application mode: the query comes from ``nexmark_q1.py``, shipped with ``yarn.ship-files`` into
the containers' working directory (it is not installed there). Rows are written as ``repr`` lines.
argv: events output
"""

import sys

from nexmark_q1 import q1  # shipped by yarn.ship-files

from yflink.common import Types, WatermarkStrategy
from yflink.common.serialization import Encoder
from yflink.connectors.nexmark import NexmarkSource
from yflink.datastream import StreamExecutionEnvironment
from yflink.datastream.connectors import FileSink

events, output = int(sys.argv[1]), sys.argv[2]
env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(2)
source = NexmarkSource(events, seed=3, first_event_time_ms=1_700_000_000_000)
(q1(env.from_source(source, WatermarkStrategy.no_watermarks(), "Nexmark Source"))
    .map(repr, output_type=Types.STRING())
    .sink_to(FileSink.for_row_format(output, Encoder.simple_string_encoder()).build()))
env.execute("Nexmark q1")
