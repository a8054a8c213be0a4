# ruff: noqa: I001, UP006, UP028, UP035 -- written the way PyFlink programs are (typing names, import layout)
"""The broadcast state pattern, as on Flink's "The Broadcast State Pattern" page (Python tabs): rules are
broadcast with a MapStateDescriptor; a KeyedBroadcastProcessFunction (keyed side with MapState) and a
BroadcastProcessFunction read them through ``get_broadcast_state(...)``. BATCH execution processes the broadcast
input first (Flink "Execution Mode"), so every element sees every rule and the output is deterministic.
"""
from yflink.common import Types
from yflink.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
from yflink.datastream.functions import BroadcastProcessFunction, KeyedBroadcastProcessFunction, RuntimeContext
from yflink.datastream.state import MapStateDescriptor

RULES = MapStateDescriptor("rules", Types.STRING(), Types.PICKLED_BYTE_ARRAY())


class AboveLimit(KeyedBroadcastProcessFunction):
    """Emits a reading when its sensor's running total first passes its kind's limit."""

    def __init__(self):
        self.totals_desc = MapStateDescriptor("totals", Types.STRING(), Types.INT())
        self.totals = None

    def open(self, runtime_context: RuntimeContext):
        self.totals = runtime_context.get_map_state(self.totals_desc)

    def process_broadcast_element(self, value, ctx: KeyedBroadcastProcessFunction.Context):
        ctx.get_broadcast_state(RULES).put(value[0], value[1])

    def process_element(self, value, ctx: KeyedBroadcastProcessFunction.ReadOnlyContext):
        sensor, kind, amount = value
        rules = ctx.get_broadcast_state(RULES)
        if not rules.contains(kind):
            return
        before = self.totals.get("sum") if self.totals.contains("sum") else 0
        self.totals.put("sum", before + amount)
        if before <= rules.get(kind) < before + amount:
            yield "limit", ctx.get_current_key(), kind, before + amount


class Tag(BroadcastProcessFunction):

    def process_broadcast_element(self, value, ctx: BroadcastProcessFunction.Context):
        ctx.get_broadcast_state(RULES).put(value[0], value[1])

    def process_element(self, value, ctx: BroadcastProcessFunction.ReadOnlyContext):
        kinds = sorted(kind for kind, _ in ctx.get_broadcast_state(RULES).items())
        yield "known" if value[1] in kinds else "unknown", value[0], kinds


env = StreamExecutionEnvironment.get_execution_environment()
env.set_runtime_mode(RuntimeExecutionMode.BATCH)
env.set_parallelism(2)
rules = env.from_collection([("temp", 50), ("load", 10)]).broadcast(RULES)
readings = env.from_collection([("s1", "temp", 30), ("s2", "load", 4), ("s1", "temp", 25), ("s2", "load", 7),
                                ("s3", "wind", 80), ("s1", "temp", 1)])
readings.key_by(lambda r: r[0]).connect(rules).process(AboveLimit()).print()
readings.connect(rules).process(Tag()).print()
env.execute()
