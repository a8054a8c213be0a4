"""A processing-time timer must fire while the input is idle."""
import time

from yflink.datastream import KeyedProcessFunction, StreamExecutionEnvironment
from yflink.datastream.functions import SourceFunction


class Slow(SourceFunction):
    def run(self, ctx):
        ctx.collect(("a", 1))
        time.sleep(1.0)   # idle input: the timer must fire meanwhile
    def cancel(self): pass

class F(KeyedProcessFunction):
    def process_element(self, value, ctx):
        ctx.timer_service().register_processing_time_timer(ctx.timer_service().current_processing_time() + 200)
        self.t0 = time.time()
    def on_timer(self, timestamp, ctx):
        yield f"fired after {time.time() - self.t0:.1f}s"

env = StreamExecutionEnvironment.get_execution_environment()
env.add_source(Slow()).key_by(lambda x: x[0]).process(F()).print()
env.execute()
