"""A job that never ends on its own: a slow counting source, keyed, at parallelism 4 (for failure tests)."""

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
            ctx.collect(i)
            i += 1
            time.sleep(0.001)

    def cancel(self) -> None:
        self.running = False


env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(4)
env.add_source(Counting(), "Counting").set_parallelism(1).key_by(lambda x: x % 8).map(lambda x: x * 2) \
    .sink_to(DiscardingSink())
env.execute("endless")
