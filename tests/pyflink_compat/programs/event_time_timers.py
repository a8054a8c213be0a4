# ruff: noqa: I001, UP006, UP028, UP035 -- written the way PyFlink programs are (typing names, import layout)
"""Event-time timers in a KeyedProcessFunction, as in PyFlink's ``examples/datastream/event_time_timer.py`` and
Flink's "Process Function" page: a TimestampAssigner, ``for_bounded_out_of_orderness``, a timer 2 s after each
element, and ``on_timer`` yielding a typed tuple.

Each timer emits how many of its key's elements came in the 2 s after the one that set it. That depends on no
timing: with out-of-orderness at most 2 s, a timer at T fires only after every element at or before T arrived.
"""
from yflink.common import Duration, Types, WatermarkStrategy
from yflink.common.watermark_strategy import TimestampAssigner
from yflink.datastream import StreamExecutionEnvironment
from yflink.datastream.functions import KeyedProcessFunction, RuntimeContext
from yflink.datastream.state import ListStateDescriptor


class FollowersWithin2s(KeyedProcessFunction):

    def open(self, runtime_context: RuntimeContext):
        self.times = runtime_context.get_list_state(ListStateDescriptor("times", Types.LONG()))

    def process_element(self, value, ctx: 'KeyedProcessFunction.Context'):
        self.times.add(ctx.timestamp())
        ctx.timer_service().register_event_time_timer(ctx.timestamp() + 2000)

    def on_timer(self, timestamp: int, ctx: 'KeyedProcessFunction.OnTimerContext'):
        followers = sum(1 for t in self.times.get() if timestamp - 2000 < t <= timestamp)
        yield ctx.get_current_key(), ctx.timestamp(), followers


class FirstField(TimestampAssigner):

    def extract_timestamp(self, value, record_timestamp: int) -> int:
        return int(value[0])


env = StreamExecutionEnvironment.get_execution_environment()
ds = env.from_collection([(1000, "x"), (2500, "y"), (1500, "x"), (4000, "x"), (3000, "y"), (9000, "y"),
                          (7500, "x"), (8000, "x")])
ds.assign_timestamps_and_watermarks(
    WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_seconds(2))
    .with_timestamp_assigner(FirstField())) \
    .key_by(lambda value: value[1]) \
    .process(FollowersWithin2s(), output_type=Types.TUPLE([Types.STRING(), Types.LONG(), Types.INT()])) \
    .print()
env.execute()
