"""A never-ending keyed job with two sources, for checkpoint tests: every map subtask aligns two channels."""

import time

from yflink.datastream import StreamExecutionEnvironment
from yflink.datastream.connectors import DiscardingSink
from yflink.datastream.functions import SourceFunction


class Counting(SourceFunction):
    def __init__(self) -> None:
        self.running = True

    def run(self, ctx) -> None:  # type: ignore[no-untyped-def]
        i = 0
        while self.running:
            ctx.collect((i % 16, 1))
            i += 1
            if i % 100 == 0:
                time.sleep(0.005)

    def cancel(self) -> None:
        self.running = False


env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(4)
env.add_source(Counting(), "Counting").set_parallelism(2).key_by(lambda x: x[0]).sum(1) \
    .sink_to(DiscardingSink())
env.execute("checkpointed")
