# ruff: noqa: I001, UP006, UP028, UP035 -- written the way PyFlink programs are (typing names, import layout)
"""Two inputs, as on Flink's "Operators" page (Connect, CoMap, CoFlatMap, Union) and "Process Function"
(KeyedCoProcessFunction): a CoMapFunction and a CoFlatMapFunction over connected streams of different types,
``union``, and a KeyedCoProcessFunction joining orders with customer names through keyed state (the result does
not depend on which input comes first).
"""
from yflink.common import Types
from yflink.datastream import StreamExecutionEnvironment
from yflink.datastream.functions import CoFlatMapFunction, CoMapFunction, KeyedCoProcessFunction, RuntimeContext
from yflink.datastream.state import ListStateDescriptor, ValueStateDescriptor


class Describe(CoMapFunction):

    def map1(self, value):
        return "int", value * 2

    def map2(self, value):
        return "str", value.upper()


class Explode(CoFlatMapFunction):

    def flat_map1(self, value):
        for i in range(value):
            yield i

    def flat_map2(self, value):
        yield from value


class EnrichOrders(KeyedCoProcessFunction):

    def open(self, runtime_context: RuntimeContext):
        self.name = runtime_context.get_state(ValueStateDescriptor("name", Types.STRING()))
        self.waiting = runtime_context.get_list_state(ListStateDescriptor("waiting", Types.INT()))

    def process_element1(self, order, ctx: 'KeyedCoProcessFunction.Context'):
        name = self.name.value()
        if name is None:
            self.waiting.add(order[1])
        else:
            yield name, order[1]

    def process_element2(self, customer, ctx: 'KeyedCoProcessFunction.Context'):
        self.name.update(customer[1])
        for amount in self.waiting.get():
            yield customer[1], amount
        self.waiting.clear()


env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(2)
numbers = env.from_collection([1, 3], type_info=Types.INT())
words = env.from_collection(["ab", "c"], type_info=Types.STRING())
numbers.connect(words).map(Describe()).print()
numbers.connect(words).flat_map(Explode(), Types.STRING()).print()
numbers.union(env.from_collection([7, 8], type_info=Types.INT())).map(lambda v: v + 100, Types.INT()).print()

orders = env.from_collection([(1, 30), (2, 5), (1, 12), (3, 99)])
customers = env.from_collection([(2, "Bea"), (1, "Ann")])
orders.connect(customers) \
    .key_by(lambda order: order[0], lambda customer: customer[0]) \
    .process(EnrichOrders(), Types.TUPLE([Types.STRING(), Types.INT()])) \
    .print()
env.execute()
