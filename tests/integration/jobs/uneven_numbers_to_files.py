"""Numbers 1..N into the exactly-once FileSink through forward edges (source -> map -> sink chained, parallelism
2), where source subtask 0 reads its half at full speed and subtask 1 is paced until a marker file exists: subtask
0 reaches the end of its input and finishes long before subtask 1 (for tests that fail the job while part of it
has finished: Flink's "checkpoints after tasks finish", FLIP-147).

argv: N output-dir rate-per-subtask-1 fast-marker
"""

import os
import sys
import time

from yflink.common import Types, WatermarkStrategy
from yflink.common.serialization import Encoder
from yflink.datastream import StreamExecutionEnvironment
from yflink.datastream.connectors import FileSink, NumberSequenceSource
from yflink.datastream.connectors.number_seq import NumberSequenceReader

n, output, rate, fast_marker = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4]


class UnevenReader(NumberSequenceReader):
    """Subtask 0 at full speed; subtask 1 at most ``rate`` numbers/s until ``fast_marker`` exists."""

    def open(self, task_info) -> None:  # type: ignore[no-untyped-def]
        super().open(task_info)
        self.paced = task_info.subtask_index == 1
        self.emitted, self.since, self.checked_at = 0, time.monotonic(), 0.0

    def restore_state(self, state) -> None:  # type: ignore[no-untyped-def]
        super().restore_state(state)
        self.emitted, self.since = 0, time.monotonic()

    def poll_batch(self, max_records: int):  # type: ignore[no-untyped-def]
        now = time.monotonic()
        if self.paced and now - self.checked_at > 0.1:
            self.checked_at = now
            self.paced = not os.path.exists(fast_marker)
        if self.paced:
            due = int((now - self.since) * rate) - self.emitted
            if due <= 0:
                return [], None
            max_records = min(max_records, due)
        polled = super().poll_batch(max_records)
        if polled is not None:
            self.emitted += len(polled[0])
        return polled


class UnevenNumbers(NumberSequenceSource):
    def create_reader(self) -> UnevenReader:
        return UnevenReader(self.start, self.end)


env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(2)
(env.from_source(UnevenNumbers(1, n), WatermarkStrategy.no_watermarks(), "Numbers")
    .map(lambda x: x, output_type=Types.LONG())
    .sink_to(FileSink.for_row_format(output, Encoder.simple_string_encoder()).build()))
env.execute("uneven numbers")
