# ruff: noqa: I001, UP006, UP028, UP035 -- written the way PyFlink programs are (typing names, import layout)
"""A user-defined WindowAssigner and Trigger, as on PyFlink's "Windows" page: ``WindowAssigner[tuple, TimeWindow]``
with ``assign_windows``/``get_default_trigger``/``get_window_serializer`` (a ``TypeSerializer[TimeWindow]``)/
``is_event_time``, and two ``Trigger[tuple, TimeWindow]``s: one that registers an event-time timer at the window's
end and fires-and-purges there, and one (the documentation's) that registers nothing and still fires, because
the window operator's cleanup timer at the window's end calls ``on_event_time``.
"""
from typing import Collection, Iterable, Tuple

from yflink.common import Types, WatermarkStrategy
from yflink.common.serializer import TypeSerializer
from yflink.common.watermark_strategy import TimestampAssigner
from yflink.datastream import ProcessWindowFunction, StreamExecutionEnvironment, Trigger, WindowAssigner
from yflink.datastream.window import TimeWindow, TimeWindowSerializer, TriggerResult


class FireAtEnd(Trigger[Tuple, TimeWindow]):

    def on_element(self, element: Tuple, timestamp: int, window: TimeWindow,
                   ctx: 'Trigger.TriggerContext') -> TriggerResult:
        ctx.register_event_time_timer(window.max_timestamp())
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: TimeWindow, ctx: 'Trigger.TriggerContext') -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: TimeWindow, ctx: 'Trigger.TriggerContext') -> TriggerResult:
        return TriggerResult.FIRE_AND_PURGE if time == window.max_timestamp() else TriggerResult.CONTINUE

    def on_merge(self, window: TimeWindow, ctx: 'Trigger.OnMergeContext') -> None:
        pass

    def clear(self, window: TimeWindow, ctx: 'Trigger.TriggerContext') -> None:
        ctx.delete_event_time_timer(window.max_timestamp())


class FireOnCleanup(FireAtEnd):

    def on_element(self, element: Tuple, timestamp: int, window: TimeWindow,
                   ctx: 'Trigger.TriggerContext') -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: TimeWindow, ctx: 'Trigger.TriggerContext') -> TriggerResult:
        return TriggerResult.FIRE_AND_PURGE if time >= window.max_timestamp() else TriggerResult.CONTINUE

    def clear(self, window: TimeWindow, ctx: 'Trigger.TriggerContext') -> None:
        pass


class Buckets(WindowAssigner[Tuple, TimeWindow]):
    """Tumbling windows of ``size`` ms shifted by ``offset`` ms."""

    def __init__(self, size: int, offset: int, trigger: Trigger):
        self._size = size
        self._offset = offset
        self._trigger = trigger

    def assign_windows(self, element: Tuple, timestamp: int,
                       context: WindowAssigner.WindowAssignerContext) -> Collection[TimeWindow]:
        start = TimeWindow.get_window_start_with_offset(timestamp, self._offset, self._size)
        return [TimeWindow(start, start + self._size)]

    def get_default_trigger(self, env) -> Trigger[Tuple, TimeWindow]:
        return self._trigger

    def get_window_serializer(self) -> TypeSerializer[TimeWindow]:
        return TimeWindowSerializer()

    def is_event_time(self) -> bool:
        return True


class Total(ProcessWindowFunction[Tuple, Tuple, str, TimeWindow]):

    def process(self, key: str, context: ProcessWindowFunction.Context,
                elements: Iterable[Tuple]) -> Iterable[tuple]:
        return [(key, context.window().start, sum(e[0] for e in elements))]


class FirstField(TimestampAssigner):

    def extract_timestamp(self, value, record_timestamp) -> int:
        return value[0]


env = StreamExecutionEnvironment.get_execution_environment()
data = env.from_collection([(1, 'hi'), (2, 'hello'), (3, 'hi'), (4, 'hello'), (5, 'hi'), (6, 'hello')],
                           type_info=Types.TUPLE([Types.INT(), Types.STRING()])) \
    .assign_timestamps_and_watermarks(
        WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(FirstField()))
out = Types.TUPLE([Types.STRING(), Types.LONG(), Types.INT()])
data.key_by(lambda x: x[1], key_type=Types.STRING()) \
    .window(Buckets(5, 0, FireAtEnd())).process(Total(), out).print()
data.key_by(lambda x: x[1], key_type=Types.STRING()) \
    .window(Buckets(4, 1, FireOnCleanup())).process(Total(), out).print()
env.execute()
