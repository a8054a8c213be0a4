# ruff: noqa: I001, UP006, UP028, UP035 -- written the way PyFlink programs are (typing names, import layout)
"""Every kind of keyed state in one KeyedProcessFunction, as in Flink's "Working with State" (Python tabs):
ValueState (with a StateTtlConfig), ListState, MapState, ReducingState and AggregatingState, read and written
per element; the results are Python tuples without a declared type, printed with ``str()``.
"""
from yflink.common import Time, Types
from yflink.datastream import StreamExecutionEnvironment
from yflink.datastream.functions import AggregateFunction, KeyedProcessFunction, RuntimeContext
from yflink.datastream.state import (AggregatingStateDescriptor, ListStateDescriptor, MapStateDescriptor,
                                     ReducingStateDescriptor, StateTtlConfig, ValueStateDescriptor)


class Mean(AggregateFunction):

    def create_accumulator(self):
        return 0, 0

    def add(self, value, accumulator):
        return accumulator[0] + value, accumulator[1] + 1

    def get_result(self, accumulator):
        return accumulator[0] / accumulator[1]

    def merge(self, acc_a, acc_b):
        return acc_a[0] + acc_b[0], acc_a[1] + acc_b[1]


class Profile(KeyedProcessFunction):

    def open(self, runtime_context: RuntimeContext):
        ttl_config = StateTtlConfig \
            .new_builder(Time.hours(1)) \
            .set_update_type(StateTtlConfig.UpdateType.OnReadAndWrite) \
            .set_state_visibility(StateTtlConfig.StateVisibility.NeverReturnExpired) \
            .cleanup_full_snapshot() \
            .build()
        total = ValueStateDescriptor("total", Types.LONG())
        total.enable_time_to_live(ttl_config)
        self.total = runtime_context.get_state(total)
        self.recent = runtime_context.get_list_state(ListStateDescriptor("recent", Types.LONG()))
        self.parity = runtime_context.get_map_state(MapStateDescriptor("parity", Types.STRING(), Types.LONG()))
        self.largest = runtime_context.get_reducing_state(
            ReducingStateDescriptor("largest", lambda a, b: max(a, b), Types.LONG()))
        self.mean = runtime_context.get_aggregating_state(
            AggregatingStateDescriptor("mean", Mean(), Types.PICKLED_BYTE_ARRAY()))

    def process_element(self, value, ctx: 'KeyedProcessFunction.Context'):
        name, amount = value
        total = (self.total.value() or 0) + amount
        self.total.update(total)
        self.recent.add(amount)
        self.recent.update(list(self.recent.get())[-2:])  # keep the last two
        kind = "even" if amount % 2 == 0 else "odd"
        self.parity.put(kind, (self.parity.get(kind) if self.parity.contains(kind) else 0) + 1)
        self.largest.add(amount)
        self.mean.add(amount)
        yield name, total, list(self.recent.get()), sorted(self.parity.items()), self.largest.get(), self.mean.get()


env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(2)
env.from_collection([("ann", 3), ("bob", 4), ("ann", 6), ("bob", 1), ("ann", 5), ("cid", 2)]) \
    .key_by(lambda value: value[0]) \
    .process(Profile()) \
    .print()
env.execute("keyed state types")
