# ruff: noqa: I001, UP006, UP028, UP035 -- written the way PyFlink programs are (typing names, import layout)
"""Event-time windows on a keyed stream, as in PyFlink's windowing examples and Flink's "Windows" page:
tumbling (with and without an offset), sliding, and session windows with a static and a dynamic gap, evaluated by
a ``ProcessWindowFunction[tuple, tuple, str, TimeWindow]`` that reports each window's bounds, size and sum.
"""
from typing import Iterable

from yflink.common import Duration, Time, Types, WatermarkStrategy
from yflink.common.watermark_strategy import TimestampAssigner
from yflink.datastream import ProcessWindowFunction, StreamExecutionEnvironment
from yflink.datastream.window import (EventTimeSessionWindows, SessionWindowTimeGapExtractor,
                                      SlidingEventTimeWindows, TimeWindow, TumblingEventTimeWindows)

OUT = Types.TUPLE([Types.STRING(), Types.STRING(), Types.LONG(), Types.LONG(), Types.INT(), Types.INT()])


class SecondField(TimestampAssigner):

    def extract_timestamp(self, value, record_timestamp) -> int:
        return int(value[1])


class ValueAsGap(SessionWindowTimeGapExtractor):

    def extract(self, element: tuple) -> int:
        return element[2]


class Describe(ProcessWindowFunction[tuple, tuple, str, TimeWindow]):

    def __init__(self, label: str):
        self.label = label

    def process(self, key: str, context: ProcessWindowFunction.Context[TimeWindow],
                elements: Iterable[tuple]) -> Iterable[tuple]:
        values = [e[2] for e in elements]
        return [(self.label, key, context.window().start, context.window().end, len(values), sum(values))]


env = StreamExecutionEnvironment.get_execution_environment()
env.set_parallelism(2)
events = env.from_collection(
    [("a", 1, 1), ("b", 2, 10), ("a", 3, 2), ("a", 7, 3), ("a", 12, 4), ("a", 13, 5), ("b", 20, 20)],
    type_info=Types.TUPLE([Types.STRING(), Types.LONG(), Types.INT()])) \
    .assign_timestamps_and_watermarks(
        WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(SecondField()))
keyed = events.key_by(lambda e: e[0], key_type=Types.STRING())

keyed.window(TumblingEventTimeWindows.of(Time.milliseconds(5))).process(Describe("tumbling"), OUT).print()
keyed.window(TumblingEventTimeWindows.of(Time.milliseconds(5), Time.milliseconds(1))) \
    .process(Describe("offset"), OUT).print()
keyed.window(SlidingEventTimeWindows.of(Duration.of_millis(10), Duration.of_millis(5))) \
    .process(Describe("sliding"), OUT).print()
keyed.window(EventTimeSessionWindows.with_gap(Time.milliseconds(4))).process(Describe("session"), OUT).print()
keyed.window(EventTimeSessionWindows.with_dynamic_gap(ValueAsGap())).process(Describe("dynamic"), OUT).print()
env.execute()
