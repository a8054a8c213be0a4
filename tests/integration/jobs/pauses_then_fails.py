"""Keyed sums of 1..N that hold still while ``<control>/pause`` exists and fail once when ``<control>/fail`` appears
during the pause (the failing subtask removes ``pause``, so the restarted job runs through). While paused no
checkpoint can complete, so a test can change the retained checkpoints' files and know which is the newest.

argv: control-directory N
"""

import os
import sys
import time
from pathlib import Path

from yflink.common import Types, WatermarkStrategy
from yflink.datastream import StreamExecutionEnvironment
from yflink.datastream.connectors import NumberSequenceSource

control, n = Path(sys.argv[1]), int(sys.argv[2])


def gate(x: int) -> int:
    if x % 20 == 0:
        time.sleep(0.01)  # about 5 s per subtask for N = 20,000: time for several 200 ms checkpoints
    while (control / "pause").exists():
        if (control / "fail").exists():
            try:
                os.close(os.open(control / "failed", os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                pass
            else:
                (control / "pause").unlink()
                raise RuntimeError(f"planned failure at {x}")
        time.sleep(0.01)
    return x


env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(2)
(env.from_source(NumberSequenceSource(1, n), WatermarkStrategy.no_watermarks(), "Numbers").uid("numbers")
    .map(gate, output_type=Types.LONG()).uid("gate")
    .map(lambda x: (x % 10, x), output_type=Types.TUPLE([Types.INT(), Types.LONG()])).uid("pairs")
    .key_by(lambda p: p[0])
    .reduce(lambda a, b: (a[0], a[1] + b[1])).uid("sums")
    .print())
env.execute("pauses then fails")
