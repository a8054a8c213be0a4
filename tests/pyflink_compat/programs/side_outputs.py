# ruff: noqa: I001, UP006, UP028, UP035 -- written the way PyFlink programs are (typing names, import layout)
"""Side outputs, as on Flink's "Side Outputs" page (Python tab): ``OutputTag(name, type)``, a ProcessFunction
and a KeyedProcessFunction that ``yield output_tag, value``, a ProcessWindowFunction doing the same, and
``get_side_output``.
"""
from typing import Iterable

from yflink.common import Time, Types, WatermarkStrategy
from yflink.common.watermark_strategy import TimestampAssigner
from yflink.datastream import (KeyedProcessFunction, OutputTag, ProcessFunction, ProcessWindowFunction,
                               StreamExecutionEnvironment)
from yflink.datastream.window import TumblingEventTimeWindows

evens = OutputTag("evens", Types.STRING())
big = OutputTag("big", Types.TUPLE([Types.INT(), Types.INT()]))
singles = OutputTag("singles", Types.STRING())


class SplitEvens(ProcessFunction):

    def process_element(self, value: int, ctx: ProcessFunction.Context):
        if value % 2 == 0:
            yield evens, "even-" + str(value)
        else:
            yield value


class FlagBig(KeyedProcessFunction):

    def process_element(self, value, ctx: 'KeyedProcessFunction.Context'):
        if value > 4:
            yield big, (ctx.get_current_key(), value)
        yield value * 10


class Windowed(ProcessWindowFunction):

    def process(self, key, context: ProcessWindowFunction.Context, elements: Iterable[int]):
        values = list(elements)
        if len(values) == 1:
            yield singles, "alone: " + str(values[0])
        else:
            yield sum(values)


class Itself(TimestampAssigner):

    def extract_timestamp(self, value, record_timestamp) -> int:
        return value


env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(2)
numbers = env.from_collection([1, 2, 3, 4, 5, 6], type_info=Types.INT())

odds = numbers.process(SplitEvens(), Types.INT())
odds.print()
odds.get_side_output(evens).print()

tens = numbers.key_by(lambda v: v % 2, key_type=Types.INT()).process(FlagBig(), Types.INT())
tens.print()
tens.get_side_output(big).print()

sums = numbers.assign_timestamps_and_watermarks(
    WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(Itself())) \
    .key_by(lambda v: v % 2, key_type=Types.INT()) \
    .window(TumblingEventTimeWindows.of(Time.milliseconds(4))) \
    .process(Windowed(), Types.INT())
sums.print()
sums.get_side_output(singles).print()
env.execute()
