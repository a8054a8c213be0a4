"""A keyed running count over a paced number sequence, into the exactly-once FileSink (for the randomized
TaskManager-kill tests in test_chaos.py).

Every number x of 1..N leaves as the line ``"x k c"``: k = x % KEYS, c = how many numbers of key k the keyed
function has counted so far (ValueState). Whatever order the two source subtasks interleave in, the lines of key k
carry the counts 1..n_k exactly once each, so a failure-free run's output is known in plain Python; a lost or
replayed record, or a count restored wrongly, shows up as a missing or duplicate line.

The source emits at most RATE numbers per second per subtask until the file ``fast-marker`` exists, then as fast
as it can, so a test decides when the job may end. It paces without blocking (a reader with nothing due returns an
empty batch, as Flink's rate-limited ``DataGeneratorSource`` waits without holding the task thread): a sleeping
user function would stall every task of its slot worker, barriers included.

argv: N output-dir [rate-per-subtask [fast-marker]]   (defaults: 1000 numbers/s, no marker = always paced)
"""

import os
import sys
import time

from yflink.common import Types, WatermarkStrategy
from yflink.common.serialization import Encoder
from yflink.datastream import StreamExecutionEnvironment
from yflink.datastream.connectors import FileSink, NumberSequenceSource
from yflink.datastream.connectors.number_seq import NumberSequenceReader
from yflink.datastream.functions import KeyedProcessFunction, RuntimeContext
from yflink.datastream.state import ValueStateDescriptor

KEYS = 13
n, output = int(sys.argv[1]), sys.argv[2]
rate = float(sys.argv[3]) if len(sys.argv) > 3 else 1000.0
fast_marker = sys.argv[4] if len(sys.argv) > 4 else None


class PacedReader(NumberSequenceReader):
    """A NumberSequenceReader that emits at most ``rate`` numbers/s until ``fast_marker`` exists."""

    def __init__(self, start: int, end: int) -> None:
        super().__init__(start, end)
        self.fast = False
        self.checked_at = 0.0

    def _pace_from_here(self) -> None:
        self.emitted, self.paced_since = 0, time.monotonic()

    def open(self, task_info) -> None:  # type: ignore[no-untyped-def]
        super().open(task_info)
        self._pace_from_here()

    def restore_state(self, state) -> None:  # type: ignore[no-untyped-def]
        super().restore_state(state)
        self._pace_from_here()  # a restored reader paces from its restored position, not from the start

    def poll_batch(self, max_records: int):  # type: ignore[no-untyped-def]
        now = time.monotonic()
        if not self.fast and fast_marker and now - self.checked_at > 0.1:
            self.checked_at = now
            self.fast = os.path.exists(fast_marker)
        if not self.fast:
            due = int((now - self.paced_since) * rate) - self.emitted
            if due <= 0:
                return [], None
            max_records = min(max_records, due)
        polled = super().poll_batch(max_records)
        if polled is not None:
            self.emitted += len(polled[0])
        return polled


class PacedNumbers(NumberSequenceSource):
    def create_reader(self) -> PacedReader:
        return PacedReader(self.start, self.end)


class RunningCount(KeyedProcessFunction):
    def open(self, runtime_context: RuntimeContext) -> None:
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))

    def process_element(self, value, ctx):  # type: ignore[no-untyped-def]
        c = (self.count.value() or 0) + 1
        self.count.update(c)
        yield f"{value} {value % KEYS} {c}"


env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(2)
(env.from_source(PacedNumbers(1, n), WatermarkStrategy.no_watermarks(), "Numbers")
    .key_by(lambda x: x % KEYS)
    .process(RunningCount(), output_type=Types.STRING())
    .uid("running-count")
    .sink_to(FileSink.for_row_format(output, Encoder.simple_string_encoder()).build()))
env.execute("chaos counts")
