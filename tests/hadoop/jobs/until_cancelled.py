"""A job that runs until it is cancelled: a slow counting source, parallelism 2 (for the YARN session test)."""

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
            time.sleep(0.01)

    def cancel(self) -> None:
        self.running = False


env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(2)
env.add_source(Counting(), "Counting").key_by(lambda x: x % 4).map(lambda x: x * 2).sink_to(DiscardingSink())
env.execute("until cancelled")
