"""PyFlink's JobClient savepoint API from inside a job script: execute_async, trigger_savepoint, then
stop_with_savepoint; prints ``savepoint <path>`` and ``stopped <path> <status>``. argv: N target-directory"""

import sys
import time

from yflink.common import JobStatus, Types, WatermarkStrategy
from yflink.datastream import StreamExecutionEnvironment
from yflink.datastream.connectors import DiscardingSink, NumberSequenceSource

n, target = int(sys.argv[1]), sys.argv[2]


def slow(x: int) -> int:
    time.sleep(0.001)
    return x


env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(2)
(env.from_source(NumberSequenceSource(1, n), WatermarkStrategy.no_watermarks(), "Numbers").uid("numbers")
    .map(slow, output_type=Types.LONG()).uid("slow")
    .key_by(lambda x: x % 10)
    .reduce(lambda a, b: a + b).uid("sums")
    .sink_to(DiscardingSink()))
client = env.execute_async("job client savepoints")
deadline = time.monotonic() + 60
while client.get_job_status().result() is not JobStatus.RUNNING:
    assert time.monotonic() < deadline, "the job never ran"
    time.sleep(0.05)
while True:  # tasks may still be starting: the savepoint is declined until every task runs
    try:
        print("savepoint", client.trigger_savepoint(target).result(), flush=True)
        break
    except Exception as exc:  # noqa: BLE001 - retried until the deadline, then shown
        if time.monotonic() > deadline or "Not all required tasks" not in str(exc):
            raise
        time.sleep(0.2)
stopped = client.stop_with_savepoint(False, target).result()
client.get_job_execution_result().result()
print("stopped", stopped, client.get_job_status().result().name, flush=True)
