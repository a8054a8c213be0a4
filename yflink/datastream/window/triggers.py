"""Triggers: when a window (a *pane*: one key's elements in one window) is evaluated or purged.

``on_element``, ``on_event_time`` and ``on_processing_time`` return a :class:`TriggerResult`: CONTINUE, FIRE
(evaluate the window function, keep the contents), PURGE (drop the contents), FIRE_AND_PURGE. A trigger
object is shared by every key and window, so it keeps no state of its own: timers and state go through the
``ctx`` (``register_event_time_timer``, ``get_partitioned_state(descriptor)``: state scoped to the key and
window). Triggers used with merging (session) windows return True from ``can_merge`` and implement
``on_merge``.

Source of the semantics: Flink ``Trigger``, ``EventTimeTrigger``, ``ProcessingTimeTrigger``,
``CountTrigger``, ``PurgingTrigger``, ``ContinuousEventTimeTrigger``, ``ContinuousProcessingTimeTrigger``,
PyFlink ``pyflink/datastream/window.py`` and the documentation section "Windows" (Triggers).
"""

from __future__ import annotations

import abc
from enum import Enum
from typing import Any, Generic, TypeVar

from yflink.datastream.functions import ReduceFunction
from yflink.datastream.state import ReducingStateDescriptor, State, StateDescriptor

__all__ = [
    "ContinuousEventTimeTrigger",
    "ContinuousProcessingTimeTrigger",
    "CountTrigger",
    "EventTimeTrigger",
    "NeverTrigger",
    "ProcessingTimeTrigger",
    "PurgingTrigger",
    "Trigger",
    "TriggerResult",
]

T = TypeVar("T")
W = TypeVar("W")


class TriggerResult(Enum):
    """What happens to a pane: ``(fire, purge)``.

    A FIRE or FIRE_AND_PURGE of a pane without contents does not call the window function.
    """

    CONTINUE = (False, False)
    FIRE_AND_PURGE = (True, True)
    FIRE = (True, False)
    PURGE = (False, True)

    def is_fire(self) -> bool:
        return bool(self.value[0])

    def is_purge(self) -> bool:
        return bool(self.value[1])


class Trigger(abc.ABC, Generic[T, W]):
    """Decides when a pane is evaluated (PyFlink ``Trigger``)."""

    class TriggerContext(abc.ABC):
        """Timers and state of the pane a trigger method is called for."""

        @abc.abstractmethod
        def get_current_processing_time(self) -> int:
            """The current processing time, ms."""

        @abc.abstractmethod
        def get_current_watermark(self) -> int:
            """The current event-time watermark, ms."""

        @abc.abstractmethod
        def register_processing_time_timer(self, time: int) -> None:
            """Call ``on_processing_time`` when the processing time reaches ``time`` (ms)."""

        @abc.abstractmethod
        def register_event_time_timer(self, time: int) -> None:
            """Call ``on_event_time`` when the watermark reaches ``time`` (ms)."""

        @abc.abstractmethod
        def delete_processing_time_timer(self, time: int) -> None:
            ...

        @abc.abstractmethod
        def delete_event_time_timer(self, time: int) -> None:
            ...

        @abc.abstractmethod
        def get_partitioned_state(self, state_descriptor: StateDescriptor) -> State:
            """State scoped to the key and window of this call."""

    class OnMergeContext(TriggerContext):
        """The context of ``on_merge``."""

        @abc.abstractmethod
        def merge_partitioned_state(self, state_descriptor: StateDescriptor) -> None:
            """Merge the state of the merged windows into the new window (list, reducing or aggregating state).

            Raises:
                ValueError: the descriptor names state that cannot be merged (value or map state).
            """

    @abc.abstractmethod
    def on_element(self, element: T, timestamp: int, window: W, ctx: Trigger.TriggerContext) -> TriggerResult:
        """An element was added to the pane; ``timestamp`` is its timestamp (Java's Long.MIN_VALUE if none)."""

    @abc.abstractmethod
    def on_processing_time(self, time: int, window: W, ctx: Trigger.TriggerContext) -> TriggerResult:
        """A processing-time timer registered through ``ctx`` fired."""

    @abc.abstractmethod
    def on_event_time(self, time: int, window: W, ctx: Trigger.TriggerContext) -> TriggerResult:
        """An event-time timer registered through ``ctx`` fired."""

    def can_merge(self) -> bool:
        """True if the trigger supports merging windows (then ``on_merge`` must be implemented)."""
        return False

    def on_merge(self, window: W, ctx: Trigger.OnMergeContext) -> None:
        """Windows were merged into ``window``: re-register timers, merge state."""
        raise NotImplementedError(f"{type(self).__name__} does not support merging windows")

    @abc.abstractmethod
    def clear(self, window: W, ctx: Trigger.TriggerContext) -> None:
        """The window is removed: delete the timers and state this trigger set for it."""


class EventTimeTrigger(Trigger[Any, Any]):
    """Fires once the watermark passes the end of the window (the default of event-time assigners)."""

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        max_timestamp = window.max_timestamp()
        if max_timestamp <= ctx.get_current_watermark():
            return TriggerResult.FIRE  # late but within the allowed lateness: fire at once
        ctx.register_event_time_timer(max_timestamp)
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.FIRE if time == window.max_timestamp() else TriggerResult.CONTINUE

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: Any, ctx: Trigger.OnMergeContext) -> None:
        max_timestamp = window.max_timestamp()
        if max_timestamp > ctx.get_current_watermark():
            ctx.register_event_time_timer(max_timestamp)

    def clear(self, window: Any, ctx: Trigger.TriggerContext) -> None:
        ctx.delete_event_time_timer(window.max_timestamp())

    @staticmethod
    def create() -> EventTimeTrigger:
        return EventTimeTrigger()

    def __repr__(self) -> str:
        return "EventTimeTrigger()"


class ProcessingTimeTrigger(Trigger[Any, Any]):
    """Fires once the processing time passes the end of the window (the default of processing-time assigners)."""

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        ctx.register_processing_time_timer(window.max_timestamp())
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.FIRE

    def on_event_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: Any, ctx: Trigger.OnMergeContext) -> None:
        max_timestamp = window.max_timestamp()
        if max_timestamp > ctx.get_current_processing_time():
            ctx.register_processing_time_timer(max_timestamp)

    def clear(self, window: Any, ctx: Trigger.TriggerContext) -> None:
        ctx.delete_processing_time_timer(window.max_timestamp())

    @staticmethod
    def create() -> ProcessingTimeTrigger:
        return ProcessingTimeTrigger()

    def __repr__(self) -> str:
        return "ProcessingTimeTrigger()"


class _Sum(ReduceFunction):
    def reduce(self, value1: int, value2: int) -> int:
        return value1 + value2


class _Min(ReduceFunction):
    def reduce(self, value1: int, value2: int) -> int:
        return value1 if value1 <= value2 else value2


class CountTrigger(Trigger[Any, Any]):
    """Fires (without purging) each time the pane has received ``window_size`` more elements."""

    def __init__(self, window_size: int) -> None:
        if window_size <= 0:
            raise ValueError(f"CountTrigger needs a positive count, got {window_size}")
        self._window_size = int(window_size)
        self._count_state_descriptor = ReducingStateDescriptor("count", _Sum())

    @staticmethod
    def of(window_size: int) -> CountTrigger:
        return CountTrigger(window_size)

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        count = ctx.get_partitioned_state(self._count_state_descriptor)
        count.add(1)  # type: ignore[attr-defined]
        if count.get() >= self._window_size:  # type: ignore[attr-defined]
            count.clear()
            return TriggerResult.FIRE
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: Any, ctx: Trigger.OnMergeContext) -> None:
        ctx.merge_partitioned_state(self._count_state_descriptor)

    def clear(self, window: Any, ctx: Trigger.TriggerContext) -> None:
        ctx.get_partitioned_state(self._count_state_descriptor).clear()

    def __repr__(self) -> str:
        return f"CountTrigger({self._window_size})"


class PurgingTrigger(Trigger[Any, Any]):
    """Turns FIRE of the nested trigger into FIRE_AND_PURGE."""

    def __init__(self, nested_trigger: Trigger[Any, Any]) -> None:
        self.nested_trigger = nested_trigger

    @staticmethod
    def of(nested_trigger: Trigger[Any, Any]) -> PurgingTrigger:
        return PurgingTrigger(nested_trigger)

    @staticmethod
    def _purging(result: TriggerResult) -> TriggerResult:
        return TriggerResult.FIRE_AND_PURGE if result.is_fire() else result

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return self._purging(self.nested_trigger.on_element(element, timestamp, window, ctx))

    def on_event_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return self._purging(self.nested_trigger.on_event_time(time, window, ctx))

    def on_processing_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return self._purging(self.nested_trigger.on_processing_time(time, window, ctx))

    def clear(self, window: Any, ctx: Trigger.TriggerContext) -> None:
        self.nested_trigger.clear(window, ctx)

    def can_merge(self) -> bool:
        return self.nested_trigger.can_merge()

    def on_merge(self, window: Any, ctx: Trigger.OnMergeContext) -> None:
        self.nested_trigger.on_merge(window, ctx)

    def __repr__(self) -> str:
        return f"PurgingTrigger({self.nested_trigger!r})"


class _ContinuousTrigger(Trigger[Any, Any]):
    """Shared part of the continuous triggers: the next firing time in reducing state ``fire-time``."""

    def __init__(self, interval: int) -> None:
        if interval <= 0:
            raise ValueError(f"the interval of a continuous trigger must be positive, got {interval} ms")
        self.interval = int(interval)
        self.state_desc = ReducingStateDescriptor("fire-time", _Min())

    def _register_timer(self, ctx: Trigger.TriggerContext, time: int) -> None:
        raise NotImplementedError

    def _register_next_fire_timestamp(self, time: int, window: Any, ctx: Trigger.TriggerContext,
                                      fire_timestamp_state: Any) -> None:
        next_fire = min(time + self.interval, window.max_timestamp())
        fire_timestamp_state.add(next_fire)
        self._register_timer(ctx, next_fire)

    def _fire_if_due(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        state = ctx.get_partitioned_state(self.state_desc)
        fire_timestamp = state.get()  # type: ignore[attr-defined]
        if fire_timestamp is not None and fire_timestamp == time:
            state.clear()
            self._register_next_fire_timestamp(time, window, ctx, state)
            return TriggerResult.FIRE
        return TriggerResult.CONTINUE

    def can_merge(self) -> bool:
        return True

    def on_merge(self, window: Any, ctx: Trigger.OnMergeContext) -> None:
        ctx.merge_partitioned_state(self.state_desc)
        next_fire = ctx.get_partitioned_state(self.state_desc).get()  # type: ignore[attr-defined]
        if next_fire is not None:
            self._register_timer(ctx, next_fire)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.interval})"


class ContinuousEventTimeTrigger(_ContinuousTrigger):
    """Fires every ``interval`` of event time within the window, and at its end (watermark-driven)."""

    @staticmethod
    def of(interval: Any) -> ContinuousEventTimeTrigger:
        """``interval``: a Duration or Time."""
        return ContinuousEventTimeTrigger(interval.to_milliseconds())

    def _register_timer(self, ctx: Trigger.TriggerContext, time: int) -> None:
        ctx.register_event_time_timer(time)

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        if window.max_timestamp() <= ctx.get_current_watermark():
            return TriggerResult.FIRE
        ctx.register_event_time_timer(window.max_timestamp())
        state = ctx.get_partitioned_state(self.state_desc)
        if state.get() is None:  # type: ignore[attr-defined]
            self._register_next_fire_timestamp(timestamp - (timestamp % self.interval), window, ctx, state)
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        if time == window.max_timestamp():
            return TriggerResult.FIRE
        return self._fire_if_due(time, window, ctx)

    def clear(self, window: Any, ctx: Trigger.TriggerContext) -> None:
        state = ctx.get_partitioned_state(self.state_desc)
        timestamp = state.get()  # type: ignore[attr-defined]
        if timestamp is not None:
            ctx.delete_event_time_timer(timestamp)
            state.clear()


class ContinuousProcessingTimeTrigger(_ContinuousTrigger):
    """Fires every ``interval`` of processing time (measured from the first element of the pane)."""

    @staticmethod
    def of(interval: Any) -> ContinuousProcessingTimeTrigger:
        """``interval``: a Duration or Time."""
        return ContinuousProcessingTimeTrigger(interval.to_milliseconds())

    def _register_timer(self, ctx: Trigger.TriggerContext, time: int) -> None:
        ctx.register_processing_time_timer(time)

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        state = ctx.get_partitioned_state(self.state_desc)
        now = ctx.get_current_processing_time()
        if state.get() is None:  # type: ignore[attr-defined]
            self._register_next_fire_timestamp(now - (now % self.interval), window, ctx, state)
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return self._fire_if_due(time, window, ctx)

    def on_event_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def clear(self, window: Any, ctx: Trigger.TriggerContext) -> None:
        state = ctx.get_partitioned_state(self.state_desc)
        timestamp = state.get()  # type: ignore[attr-defined]
        if timestamp is not None:
            ctx.delete_processing_time_timer(timestamp)
            state.clear()


class NeverTrigger(Trigger[Any, Any]):
    """Never fires: the default trigger of GlobalWindows."""

    def on_element(self, element: Any, timestamp: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_processing_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_event_time(self, time: int, window: Any, ctx: Trigger.TriggerContext) -> TriggerResult:
        return TriggerResult.CONTINUE

    def on_merge(self, window: Any, ctx: Trigger.OnMergeContext) -> None:
        pass

    def clear(self, window: Any, ctx: Trigger.TriggerContext) -> None:
        pass

    def __repr__(self) -> str:
        return "NeverTrigger()"
