# ruff: noqa: I001, UP006, UP028, UP035 -- written the way PyFlink programs are (typing names, import layout)
"""Count windows, global windows, triggers, ``window_all`` and incremental aggregation, as on Flink's "Windows"
page and in PyFlink's ``count_windowing`` examples: ``count_window(3)`` with ``reduce``, ``count_window(3, 2)``
with a ``WindowFunction`` (PyFlink's sliding count windows: window i holds elements i*2 .. i*2+2 and fires when
full), ``GlobalWindows`` with ``PurgingTrigger.of(CountTrigger.of(2))``, a ``CountTrigger`` replacing a tumbling
window's event-time trigger, ``window_all(...).reduce``, and ``aggregate`` with a ``ProcessWindowFunction``.
"""
from typing import Iterable

from yflink.common import Time, Types, WatermarkStrategy
from yflink.common.watermark_strategy import TimestampAssigner
from yflink.datastream import ProcessWindowFunction, StreamExecutionEnvironment, WindowFunction
from yflink.datastream.functions import AggregateFunction
from yflink.datastream.window import (CountTrigger, CountWindow, GlobalWindows, PurgingTrigger, TimeWindow,
                                      TumblingEventTimeWindows)

EVENT = Types.TUPLE([Types.STRING(), Types.LONG(), Types.INT()])
LABELLED = Types.TUPLE([Types.STRING(), Types.STRING(), Types.INT()])


class SecondField(TimestampAssigner):

    def extract_timestamp(self, value, record_timestamp) -> int:
        return int(value[1])


class SumValues(WindowFunction[tuple, tuple, str, CountWindow]):

    def apply(self, key: str, window: CountWindow, inputs: Iterable[tuple]):
        return [("sliding-count", key, sum(e[2] for e in inputs))]


class Average(AggregateFunction):

    def create_accumulator(self):
        return 0, 0

    def add(self, value, accumulator):
        return accumulator[0] + value[2], accumulator[1] + 1

    def get_result(self, accumulator):
        return accumulator[0] / accumulator[1]

    def merge(self, acc_a, acc_b):
        return acc_a[0] + acc_b[0], acc_a[1] + acc_b[1]


class WithWindowStart(ProcessWindowFunction[float, tuple, str, TimeWindow]):

    def process(self, key: str, context: ProcessWindowFunction.Context, averages: Iterable[float]):
        for average in averages:
            yield key, context.window().start, average


env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(2)
events = env.from_collection([("k", t, t) for t in range(1, 8)] + [("j", 3, 10), ("j", 12, 20)], type_info=EVENT) \
    .assign_timestamps_and_watermarks(
        WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(SecondField())) \
    .set_parallelism(1)  # as the source: count windows need each key's elements in order
keyed = events.key_by(lambda e: e[0], key_type=Types.STRING())


def label(name):
    return lambda e: (name, e[0], e[2])


keyed.count_window(3).reduce(lambda a, b: (a[0], a[1], a[2] + b[2])) \
    .map(label("count"), output_type=LABELLED).print()
keyed.count_window(3, 2).apply(SumValues(), LABELLED).print()
keyed.window(GlobalWindows.create()).trigger(PurgingTrigger.of(CountTrigger.of(2))) \
    .reduce(lambda a, b: (a[0], a[1], a[2] + b[2])).map(label("global"), output_type=LABELLED).print()
keyed.window(TumblingEventTimeWindows.of(Time.milliseconds(10))).trigger(CountTrigger.of(2)) \
    .reduce(lambda a, b: (a[0], a[1], a[2] + b[2])).map(label("count-trigger"), output_type=LABELLED).print()
events.map(lambda e: e[2], output_type=Types.INT()) \
    .window_all(TumblingEventTimeWindows.of(Time.milliseconds(10))) \
    .reduce(lambda a, b: a + b).print()
keyed.window(TumblingEventTimeWindows.of(Time.milliseconds(10))) \
    .aggregate(Average(), WithWindowStart(), accumulator_type=Types.PICKLED_BYTE_ARRAY(),
               output_type=Types.PICKLED_BYTE_ARRAY()).print()
env.execute()
