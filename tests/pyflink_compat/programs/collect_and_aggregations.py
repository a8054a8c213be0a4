# ruff: noqa: I001, UP006, UP028, UP035 -- written the way PyFlink programs are (typing names, import layout)
"""Sources, collecting to the client and rolling aggregations, as in PyFlink's "Intro to the DataStream API" and
"Operators": ``from_sequence``, ``from_source(NumberSequenceSource(...), ..., type_info=...)``,
``execute_and_collect()`` as a context manager and with ``limit``, and ``sum``/``min``/``max_by``/``min_by`` on a
KeyedStream of typed tuples (Flink's rolling aggregations: one result per element; ``min`` replaces only the
field, ``min_by``/``max_by`` keep the whole element, the first one on ties).
"""
from yflink.common import Types, WatermarkStrategy
from yflink.datastream import StreamExecutionEnvironment
from yflink.datastream.connectors.number_seq import NumberSequenceSource

env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(2)

with env.from_sequence(1, 5).map(lambda v: v * v, Types.LONG()).execute_and_collect() as results:
    print("squares", sorted(results))

numbers = env.from_source(source=NumberSequenceSource(1, 10),
                          watermark_strategy=WatermarkStrategy.for_monotonous_timestamps(),
                          source_name="numbers", type_info=Types.LONG())
print("collected", len(numbers.execute_and_collect(limit=4)))

env.set_parallelism(1)
rows = env.from_collection([("a", 3, "x"), ("a", 1, "y"), ("a", 2, "z"), ("b", 5, "w")],
                           type_info=Types.TUPLE([Types.STRING(), Types.INT(), Types.STRING()]))
keyed = rows.key_by(lambda r: r[0])
keyed.sum(1).map(lambda r: ("sum",) + tuple(r)).print()
keyed.min(1).map(lambda r: ("min",) + tuple(r)).print()
keyed.max_by(1).map(lambda r: ("max_by",) + tuple(r)).print()
keyed.min_by(1).map(lambda r: ("min_by",) + tuple(r)).print()
env.execute()
