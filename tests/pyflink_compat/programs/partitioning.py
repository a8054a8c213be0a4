# ruff: noqa: I001, UP006, UP028, UP035 -- written the way PyFlink programs are (typing names, import layout)
"""Physical partitioning, as on Flink's "Operators" page: ``partition_custom`` with a Partitioner and with
lambdas, ``broadcast()``, ``rebalance``/``rescale``/``shuffle``, a MapFunction that reads its subtask index from
the RuntimeContext, and ``print(sink_identifier)`` at parallelism 3 (Flink prints ``identifier:subtask> value``).
"""
from yflink.common import Types
from yflink.datastream import MapFunction, Partitioner, RuntimeContext, StreamExecutionEnvironment


class ByValue(Partitioner):

    def partition(self, key, num_partitions: int) -> int:
        return key % num_partitions


class WhereAmI(MapFunction):

    def open(self, runtime_context: RuntimeContext):
        self.index = runtime_context.get_index_of_this_subtask()
        self.parallelism = runtime_context.get_number_of_parallel_subtasks()

    def map(self, value):
        return value, self.index, self.parallelism


env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(3)
numbers = env.from_collection([0, 1, 2, 3, 4, 5, 6], type_info=Types.INT())

numbers.partition_custom(ByValue(), lambda v: v).map(WhereAmI()).print()
numbers.partition_custom(lambda key, n: (key + 1) % n, lambda v: v).print("custom")
env.from_collection(["x", "y"], type_info=Types.STRING()).broadcast().map(WhereAmI()).print()
numbers.rebalance().map(lambda v: v * 10, Types.INT()) \
    .rescale().map(lambda v: v + 1, Types.INT()) \
    .shuffle().print()
env.execute()
