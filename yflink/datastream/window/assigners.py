"""Window assigners: which windows an element belongs to (PyFlink ``WindowAssigner`` and its implementations).

* Tumbling windows of ``size`` (optionally shifted by ``offset``): ``[start, start + size)`` with
  ``start = t - (t - offset + size) % size``; sliding windows of ``size`` every ``slide``: the
  ``ceil(size / slide)`` windows that contain ``t``, latest first.
* Session windows: each element opens ``[t, t + gap)``; overlapping (or touching) sessions of a key merge
  (``MergingWindowAssigner.merge_windows``). ``with_dynamic_gap`` takes the gap from the element.
* Event-time assigners use the element's timestamp; processing-time assigners the operator's clock.
* Count windows (``KeyedStream.count_window``): the n-th element of a key goes to ``CountWindow(n // size)``
  (tumbling), or to every window of ``size`` elements starting at a multiple of ``slide`` that holds it.
* ``GlobalWindows``: one window for everything; its default trigger never fires.

Durations are Duration or Time objects (anything with ``to_milliseconds()``) or ints in ms.

Source of the semantics: Flink ``TumblingEventTimeWindows``, ``SlidingEventTimeWindows``,
``EventTimeSessionWindows``, ``DynamicEventTimeSessionWindows``, their processing-time twins,
``GlobalWindows``; PyFlink ``CountTumblingWindowAssigner``/``CountSlidingWindowAssigner``; the documentation
section "Windows" (Window Assigners).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Collection, Iterable
from typing import Any, Generic, TypeVar, Union

from yflink.datastream.functions import RuntimeContext
from yflink.datastream.state import ValueStateDescriptor
from yflink.datastream.window.triggers import (
    CountTrigger,
    EventTimeTrigger,
    NeverTrigger,
    ProcessingTimeTrigger,
    Trigger,
    TriggerResult,
)
from yflink.datastream.window.windows import (
    MIN_LONG_VALUE,
    CountWindow,
    CountWindowSerializer,
    GlobalWindow,
    GlobalWindowSerializer,
    TimeWindow,
    TimeWindowSerializer,
)

__all__ = [
    "CountSlidingWindowAssigner",
    "CountTumblingWindowAssigner",
    "DynamicEventTimeSessionWindows",
    "DynamicProcessingTimeSessionWindows",
    "EndOfStreamTrigger",
    "EventTimeSessionWindows",
    "GlobalWindows",
    "MergingWindowAssigner",
    "ProcessingTimeSessionWindows",
    "SessionWindowTimeGapExtractor",
    "SlidingEventTimeWindows",
    "SlidingProcessingTimeWindows",
    "TumblingEventTimeWindows",
    "TumblingProcessingTimeWindows",
    "WindowAssigner",
]

T = TypeVar("T")
W = TypeVar("W")
W2 = TypeVar("W2")

_NO_TIMESTAMP = ("Record has Java Long.MIN_VALUE timestamp (= no timestamp marker). Is the time characteristic "
                 "set to 'ProcessingTime', or did you forget to call "
                 "'data_stream.assign_timestamps_and_watermarks(...)'?")


def to_millis(value: Any, what: str) -> int:
    """``value`` in ms: a Duration/Time (``to_milliseconds()``) or an int.

    Raises:
        TypeError: ``value`` is neither.
    """
    to_ms = getattr(value, "to_milliseconds", None)
    if callable(to_ms):
        return int(to_ms())
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError(f"{what} must be a Duration or Time (or ms as an int), got {type(value).__name__}")


class WindowAssigner(abc.ABC, Generic[T, W]):
    """Assigns zero or more windows to each element (PyFlink ``WindowAssigner``)."""

    class WindowAssignerContext(abc.ABC):
        """What an assigner may ask the operator."""

        @abc.abstractmethod
        def get_current_processing_time(self) -> int:
            """The operator's current processing time, ms."""

        @abc.abstractmethod
        def get_runtime_context(self) -> RuntimeContext:
            """The operator's RuntimeContext (keyed state of the current key)."""

    @abc.abstractmethod
    def assign_windows(self, element: T, timestamp: int,
                       context: WindowAssigner.WindowAssignerContext) -> Collection[W]:
        """The windows of ``element``; ``timestamp`` is its timestamp (Java's Long.MIN_VALUE when none)."""

    @abc.abstractmethod
    def get_default_trigger(self, env: Any) -> Trigger[T, W]:
        """The trigger used unless ``WindowedStream.trigger`` sets another."""

    def get_window_serializer(self) -> Any:
        """Kept for PyFlink compatibility; yflink pickles windows."""
        return None

    @abc.abstractmethod
    def is_event_time(self) -> bool:
        """True when windows follow event time (lateness and cleanup by watermark), False for processing time."""


class MergingWindowAssigner(WindowAssigner[T, W]):
    """An assigner whose windows can merge (sessions)."""

    class MergeCallback(abc.ABC, Generic[W2]):
        @abc.abstractmethod
        def merge(self, to_be_merged: Iterable[W2], merge_result: W2) -> None:
            """``to_be_merged`` become ``merge_result``."""

    @abc.abstractmethod
    def merge_windows(self, windows: Iterable[W], callback: MergingWindowAssigner.MergeCallback[W]) -> None:
        """Call ``callback.merge`` for every group of ``windows`` that merges."""


class SessionWindowTimeGapExtractor(abc.ABC):
    """Gives the session gap of an element, for ``with_dynamic_gap``."""

    @abc.abstractmethod
    def extract(self, element: Any) -> int:
        """The session gap in ms (must be positive)."""


class _CallableGapExtractor(SessionWindowTimeGapExtractor):
    def __init__(self, func: Callable[[Any], int]) -> None:
        self._func = func

    def extract(self, element: Any) -> int:
        return self._func(element)


def _gap_extractor(extractor: Union[SessionWindowTimeGapExtractor, Callable[[Any], int]]) \
        -> SessionWindowTimeGapExtractor:
    if isinstance(extractor, SessionWindowTimeGapExtractor):
        return extractor
    if callable(extractor):
        return _CallableGapExtractor(extractor)
    raise TypeError("with_dynamic_gap needs a SessionWindowTimeGapExtractor or a callable element -> gap ms")


# --- time windows ----------------------------------------------------------------------------------------
class _TumblingWindows(WindowAssigner[Any, TimeWindow]):
    def __init__(self, size: int, offset: int = 0) -> None:
        if size <= 0 or abs(offset) >= size:
            raise ValueError(f"{type(self).__name__} parameters must satisfy abs(offset) < size")
        self._size = size
        self._offset = offset

    @property
    def size(self) -> int:
        return self._size

    @property
    def offset(self) -> int:
        return self._offset

    def get_window_serializer(self) -> Any:
        return TimeWindowSerializer()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._size}, {self._offset})"


class TumblingEventTimeWindows(_TumblingWindows):
    """Non-overlapping windows of a fixed size, by element timestamp."""

    @staticmethod
    def of(size: Any, offset: Any = None) -> TumblingEventTimeWindows:
        """Windows of ``size``, starts shifted by ``offset`` (e.g. ``Time.hours(-8)`` for days in UTC+08:00)."""
        return TumblingEventTimeWindows(to_millis(size, "size"), 0 if offset is None else to_millis(offset, "offset"))

    def assign_windows(self, element: Any, timestamp: int, context: Any) -> list[TimeWindow]:
        if timestamp <= MIN_LONG_VALUE:
            raise ValueError(_NO_TIMESTAMP)
        start = timestamp - (timestamp - self._offset + self._size) % self._size
        return [TimeWindow(start, start + self._size)]

    def get_default_trigger(self, env: Any = None) -> Trigger[Any, TimeWindow]:
        return EventTimeTrigger()

    def is_event_time(self) -> bool:
        return True


class TumblingProcessingTimeWindows(_TumblingWindows):
    """Non-overlapping windows of a fixed size, by the operator's processing time."""

    @staticmethod
    def of(size: Any, offset: Any = None) -> TumblingProcessingTimeWindows:
        return TumblingProcessingTimeWindows(to_millis(size, "size"),
                                             0 if offset is None else to_millis(offset, "offset"))

    def assign_windows(self, element: Any, timestamp: int, context: Any) -> list[TimeWindow]:
        now = context.get_current_processing_time()
        start = now - (now - self._offset + self._size) % self._size
        return [TimeWindow(start, start + self._size)]

    def get_default_trigger(self, env: Any = None) -> Trigger[Any, TimeWindow]:
        return ProcessingTimeTrigger()

    def is_event_time(self) -> bool:
        return False


class _SlidingWindows(WindowAssigner[Any, TimeWindow]):
    def __init__(self, size: int, slide: int, offset: int = 0) -> None:
        if size <= 0 or slide <= 0 or abs(offset) >= slide:
            raise ValueError(f"{type(self).__name__} parameters must satisfy abs(offset) < slide and size > 0")
        self._size = size
        self._slide = slide
        self._offset = offset

    @property
    def size(self) -> int:
        return self._size

    @property
    def slide(self) -> int:
        return self._slide

    @property
    def offset(self) -> int:
        return self._offset

    def _windows(self, t: int) -> list[TimeWindow]:
        size, slide = self._size, self._slide
        last_start = t - (t - self._offset + slide) % slide
        return [TimeWindow(start, start + size) for start in range(last_start, t - size, -slide)]

    def get_window_serializer(self) -> Any:
        return TimeWindowSerializer()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._size}, {self._slide}, {self._offset})"


class SlidingEventTimeWindows(_SlidingWindows):
    """Windows of ``size`` starting every ``slide``, by element timestamp (an element is in several)."""

    @staticmethod
    def of(size: Any, slide: Any, offset: Any = None) -> SlidingEventTimeWindows:
        return SlidingEventTimeWindows(to_millis(size, "size"), to_millis(slide, "slide"),
                                       0 if offset is None else to_millis(offset, "offset"))

    def assign_windows(self, element: Any, timestamp: int, context: Any) -> list[TimeWindow]:
        if timestamp <= MIN_LONG_VALUE:
            raise ValueError(_NO_TIMESTAMP)
        return self._windows(timestamp)

    def get_default_trigger(self, env: Any = None) -> Trigger[Any, TimeWindow]:
        return EventTimeTrigger()

    def is_event_time(self) -> bool:
        return True


class SlidingProcessingTimeWindows(_SlidingWindows):
    """Windows of ``size`` starting every ``slide``, by the operator's processing time."""

    @staticmethod
    def of(size: Any, slide: Any, offset: Any = None) -> SlidingProcessingTimeWindows:
        return SlidingProcessingTimeWindows(to_millis(size, "size"), to_millis(slide, "slide"),
                                            0 if offset is None else to_millis(offset, "offset"))

    def assign_windows(self, element: Any, timestamp: int, context: Any) -> list[TimeWindow]:
        return self._windows(context.get_current_processing_time())

    def get_default_trigger(self, env: Any = None) -> Trigger[Any, TimeWindow]:
        return ProcessingTimeTrigger()

    def is_event_time(self) -> bool:
        return False


class _SessionWindows(MergingWindowAssigner[Any, TimeWindow]):
    def merge_windows(self, windows: Iterable[TimeWindow], callback: Any) -> None:
        TimeWindow.merge_windows(windows, callback)

    def get_window_serializer(self) -> Any:
        return TimeWindowSerializer()


class EventTimeSessionWindows(_SessionWindows):
    """Sessions by element timestamp: a key's session ends after ``gap`` without elements."""

    def __init__(self, session_gap: int) -> None:
        if session_gap <= 0:
            raise ValueError("EventTimeSessionWindows parameters must satisfy 0 < size")
        self._session_gap = session_gap

    @staticmethod
    def with_gap(size: Any) -> EventTimeSessionWindows:
        return EventTimeSessionWindows(to_millis(size, "gap"))

    @staticmethod
    def with_dynamic_gap(extractor: Union[SessionWindowTimeGapExtractor, Callable[[Any], int]]) \
            -> DynamicEventTimeSessionWindows:
        return DynamicEventTimeSessionWindows(extractor)

    def assign_windows(self, element: Any, timestamp: int, context: Any) -> list[TimeWindow]:
        if timestamp <= MIN_LONG_VALUE:
            raise ValueError(_NO_TIMESTAMP)
        return [TimeWindow(timestamp, timestamp + self._session_gap)]

    def get_default_trigger(self, env: Any = None) -> Trigger[Any, TimeWindow]:
        return EventTimeTrigger()

    def is_event_time(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"EventTimeSessionWindows({self._session_gap})"


class ProcessingTimeSessionWindows(_SessionWindows):
    """Sessions by processing time: a key's session ends after ``gap`` without elements."""

    def __init__(self, session_gap: int) -> None:
        if session_gap <= 0:
            raise ValueError("ProcessingTimeSessionWindows parameters must satisfy 0 < size")
        self._session_gap = session_gap

    @staticmethod
    def with_gap(size: Any) -> ProcessingTimeSessionWindows:
        return ProcessingTimeSessionWindows(to_millis(size, "gap"))

    @staticmethod
    def with_dynamic_gap(extractor: Union[SessionWindowTimeGapExtractor, Callable[[Any], int]]) \
            -> DynamicProcessingTimeSessionWindows:
        return DynamicProcessingTimeSessionWindows(extractor)

    def assign_windows(self, element: Any, timestamp: int, context: Any) -> list[TimeWindow]:
        now = context.get_current_processing_time()
        return [TimeWindow(now, now + self._session_gap)]

    def get_default_trigger(self, env: Any = None) -> Trigger[Any, TimeWindow]:
        return ProcessingTimeTrigger()

    def is_event_time(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"ProcessingTimeSessionWindows({self._session_gap})"


class DynamicEventTimeSessionWindows(_SessionWindows):
    """Event-time sessions whose gap ``extractor.extract(element)`` (ms) gives per element."""

    def __init__(self, session_window_time_gap_extractor: Any) -> None:
        self._extractor = _gap_extractor(session_window_time_gap_extractor)

    @staticmethod
    def with_dynamic_gap(extractor: Any) -> DynamicEventTimeSessionWindows:
        return DynamicEventTimeSessionWindows(extractor)

    def assign_windows(self, element: Any, timestamp: int, context: Any) -> list[TimeWindow]:
        if timestamp <= MIN_LONG_VALUE:
            raise ValueError(_NO_TIMESTAMP)
        gap = self._extractor.extract(element)
        if gap <= 0:
            raise ValueError("Dynamic session time gap must satisfy 0 < gap")
        return [TimeWindow(timestamp, timestamp + gap)]

    def get_default_trigger(self, env: Any = None) -> Trigger[Any, TimeWindow]:
        return EventTimeTrigger()

    def is_event_time(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "DynamicEventTimeSessionWindows()"


class DynamicProcessingTimeSessionWindows(_SessionWindows):
    """Processing-time sessions whose gap ``extractor.extract(element)`` (ms) gives per element."""

    def __init__(self, session_window_time_gap_extractor: Any) -> None:
        self._extractor = _gap_extractor(session_window_time_gap_extractor)

    @staticmethod
    def with_dynamic_gap(extractor: Any) -> DynamicProcessingTimeSessionWindows:
        return DynamicProcessingTimeSessionWindows(extractor)

    def assign_windows(self, element: Any, timestamp: int, context: Any) -> list[TimeWindow]:
        now = context.get_current_processing_time()
        gap = self._extractor.extract(element)
        if gap <= 0:
            raise ValueError("Dynamic session time gap must satisfy 0 < gap")
        return [TimeWindow(now, now + gap)]

    def get_default_trigger(self, env: Any = None) -> Trigger[Any, TimeWindow]:
        return ProcessingTimeTrigger()

    def is_event_time(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "DynamicProcessingTimeSessionWindows()"


# --- count and global windows ----------------------------------------------------------------------------
class CountTumblingWindowAssigner(WindowAssigner[Any, CountWindow]):
    """The n-th element of a key (from 0) goes to ``CountWindow(n // window_size)``; fires at ``window_size``."""

    def __init__(self, window_size: int) -> None:
        if window_size <= 0:
            raise ValueError(f"the size of a count window must be positive, got {window_size}")
        self._window_size = int(window_size)
        self._count_descriptor = ValueStateDescriptor("tumble-count-assigner")

    @staticmethod
    def of(window_size: int) -> CountTumblingWindowAssigner:
        return CountTumblingWindowAssigner(window_size)

    @property
    def window_size(self) -> int:
        return self._window_size

    def assign_windows(self, element: Any, timestamp: int, context: Any) -> list[CountWindow]:
        state = context.get_runtime_context().get_state(self._count_descriptor)
        count = state.value() or 0
        state.update(count + 1)
        return [CountWindow(count // self._window_size)]

    def get_default_trigger(self, env: Any = None) -> Trigger[Any, CountWindow]:
        return CountTrigger(self._window_size)

    def get_window_serializer(self) -> Any:
        return CountWindowSerializer()

    def is_event_time(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"CountTumblingWindowAssigner({self._window_size})"


class CountSlidingWindowAssigner(WindowAssigner[Any, CountWindow]):
    """The n-th element of a key goes to every ``CountWindow(i)`` covering elements
    ``i * window_slide .. i * window_slide + window_size - 1``; a window fires once it holds ``window_size``."""

    def __init__(self, window_size: int, window_slide: int) -> None:
        if window_size <= 0 or window_slide <= 0:
            raise ValueError(f"count window size and slide must be positive, got {window_size}, {window_slide}")
        self._window_size = int(window_size)
        self._window_slide = int(window_slide)
        self._count_descriptor = ValueStateDescriptor("slide-count-assigner")

    @staticmethod
    def of(window_size: int, window_slide: int) -> CountSlidingWindowAssigner:
        return CountSlidingWindowAssigner(window_size, window_slide)

    @property
    def window_size(self) -> int:
        return self._window_size

    def assign_windows(self, element: Any, timestamp: int, context: Any) -> list[CountWindow]:
        state = context.get_runtime_context().get_state(self._count_descriptor)
        count = state.value() or 0
        state.update(count + 1)
        size, slide = self._window_size, self._window_slide
        windows = []
        window_id = count // slide
        while window_id >= 0 and window_id * slide + size - 1 >= count:
            windows.append(CountWindow(window_id))
            window_id -= 1
        return windows

    def get_default_trigger(self, env: Any = None) -> Trigger[Any, CountWindow]:
        return CountTrigger(self._window_size)

    def get_window_serializer(self) -> Any:
        return CountWindowSerializer()

    def is_event_time(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"CountSlidingWindowAssigner({self._window_size}, {self._window_slide})"


class EndOfStreamTrigger(Trigger[Any, GlobalWindow]):
    """Fires the global window once, when event time ends (the final watermark of a bounded input)."""

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        ctx.register_event_time_timer(window.max_timestamp())
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.FIRE if time == window.max_timestamp() else TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def clear(self, window: Any, ctx: Trigger.TriggerContext) -> None:
        pass

    def __repr__(self) -> str:
        return "EndOfStreamTrigger()"


class GlobalWindows(WindowAssigner[Any, GlobalWindow]):
    """Every element in the one GlobalWindow; needs a trigger to ever fire (the default never does)."""

    def __init__(self, default_trigger: Trigger[Any, GlobalWindow] | None = None) -> None:
        self._default_trigger = default_trigger

    @staticmethod
    def create() -> GlobalWindows:
        return GlobalWindows()

    @staticmethod
    def create_with_end_of_stream_trigger() -> GlobalWindows:
        """Global windows that fire once at the end of a bounded input (Flink 2 ``createWithEndOfStreamTrigger``)."""
        return GlobalWindows(EndOfStreamTrigger())

    def assign_windows(self, element: Any, timestamp: int, context: Any) -> list[GlobalWindow]:
        return [GlobalWindow.get()]

    def get_default_trigger(self, env: Any = None) -> Trigger[Any, GlobalWindow]:
        return self._default_trigger if self._default_trigger is not None else NeverTrigger()

    def get_window_serializer(self) -> Any:
        return GlobalWindowSerializer()

    def is_event_time(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "GlobalWindows()"
