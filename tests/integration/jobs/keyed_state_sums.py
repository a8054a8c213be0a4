"""Keyed running sums in ValueState, MapState and ListState of a KeyedProcessFunction (every operator with a uid),
for state-backend tests: checkpoints with a planned failure, or savepoints moved between backends.

argv: N marker-file delay-ms. With a marker file that does not exist yet, the job fails once at 3/4 of the input
(and creates the file); "-" never fails. Each record sleeps delay-ms (0: none). Prints ``sums <key> <sum> <count>
<evens> <last>`` per record.
"""

import os
import sys
import time

from yflink.common import Types, WatermarkStrategy
from yflink.datastream import (
    KeyedProcessFunction,
    ListStateDescriptor,
    MapStateDescriptor,
    RuntimeContext,
    StreamExecutionEnvironment,
    ValueStateDescriptor,
)
from yflink.datastream.connectors import NumberSequenceSource

n, marker, delay_ms = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])


def pace(x: int) -> int:
    if delay_ms:
        time.sleep(delay_ms / 1000)
    elif x % 200 == 0:
        time.sleep(0.002)  # about 1 s before the failure: time for several 100 ms checkpoints
    if marker != "-" and x == n * 3 // 4 and not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError(f"planned failure at {x}")
    return x


class Sums(KeyedProcessFunction):
    def open(self, runtime_context: RuntimeContext) -> None:
        self.total = runtime_context.get_state(ValueStateDescriptor("total", Types.LONG()))
        self.by_parity = runtime_context.get_map_state(MapStateDescriptor("by-parity", Types.STRING(), Types.LONG()))
        self.recent = runtime_context.get_list_state(ListStateDescriptor("recent", Types.LONG()))

    def process_element(self, value, ctx):  # type: ignore[no-untyped-def]
        key, x = value
        self.total.update((self.total.value() or 0) + x)
        parity = "even" if x % 2 == 0 else "odd"
        self.by_parity.put(parity, (self.by_parity.get(parity) or 0) + 1)
        recent = list(self.recent.get())[-2:] + [x]
        self.recent.update(recent)
        count = sum(self.by_parity.values())
        yield f"sums {key} {self.total.value()} {count} {self.by_parity.get('even') or 0} {recent[-1]}"


env = StreamExecutionEnvironment.get_execution_environment()
(env.from_source(NumberSequenceSource(1, n), WatermarkStrategy.no_watermarks(), "Numbers").uid("numbers")
    .map(pace, output_type=Types.LONG()).uid("pace")
    .map(lambda x: (x % 10, x), output_type=Types.TUPLE([Types.INT(), Types.LONG()])).uid("pairs")
    .key_by(lambda p: p[0])
    .process(Sums(), output_type=Types.STRING()).uid("sums")
    .print())
env.execute("keyed state sums")
