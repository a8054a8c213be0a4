"""Evictors: remove elements from a window before and/or after the window function runs.

A window with an evictor keeps every element (no incremental aggregation). When its trigger fires, the
operator calls ``evict_before(elements, size, window, ctx)``, then the window function on what is left,
then ``evict_after(...)``; what remains is kept for the next firing. ``elements`` is a list of
:class:`TimestampedValue` that an evictor shortens in place (``del elements[i]``), in arrival order.

Source of the semantics: Flink ``Evictor``, ``CountEvictor``, ``TimeEvictor``, ``DeltaEvictor`` and the
documentation section "Windows" (Evictors).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, Optional

from yflink.datastream.window.assigners import to_millis

__all__ = ["CountEvictor", "DeltaEvictor", "Evictor", "TimeEvictor", "TimestampedValue"]


class TimestampedValue:
    """An element of a window and its timestamp (ms, or None when it has none)."""

    __slots__ = ("_timestamp", "_value")

    def __init__(self, value: Any, timestamp: Optional[int] = None) -> None:
        self._value = value
        self._timestamp = timestamp

    def get_value(self) -> Any:
        return self._value

    def get_timestamp(self) -> int:
        """The timestamp in ms.

        Raises:
            ValueError: the element has none (see ``has_timestamp``).
        """
        if self._timestamp is None:
            raise ValueError("this element has no timestamp")
        return self._timestamp

    def has_timestamp(self) -> bool:
        return self._timestamp is not None

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, TimestampedValue) and other._value == self._value
                and other._timestamp == self._timestamp)

    def __hash__(self) -> int:
        return hash((self._timestamp,))

    def __repr__(self) -> str:
        return f"TimestampedValue({self._value!r}, {self._timestamp})"


class Evictor(abc.ABC):
    """Removes elements from a fired window (Flink ``Evictor``)."""

    class EvictorContext(abc.ABC):
        @abc.abstractmethod
        def get_current_processing_time(self) -> int:
            ...

        @abc.abstractmethod
        def get_current_watermark(self) -> int:
            ...

    @abc.abstractmethod
    def evict_before(self, elements: list[TimestampedValue], size: int, window: Any,
                     evictor_context: Evictor.EvictorContext) -> None:
        """Remove elements before the window function runs."""

    @abc.abstractmethod
    def evict_after(self, elements: list[TimestampedValue], size: int, window: Any,
                    evictor_context: Evictor.EvictorContext) -> None:
        """Remove elements after the window function ran."""


class _BeforeOrAfter(Evictor):
    def __init__(self, do_evict_after: bool) -> None:
        self.do_evict_after = bool(do_evict_after)

    def evict_before(self, elements: list[TimestampedValue], size: int, window: Any,
                     evictor_context: Evictor.EvictorContext) -> None:
        if not self.do_evict_after:
            self._evict(elements, size)

    def evict_after(self, elements: list[TimestampedValue], size: int, window: Any,
                    evictor_context: Evictor.EvictorContext) -> None:
        if self.do_evict_after:
            self._evict(elements, size)

    @abc.abstractmethod
    def _evict(self, elements: list[TimestampedValue], size: int) -> None:
        ...


class CountEvictor(_BeforeOrAfter):
    """Keeps at most ``max_count`` elements: the most recent ones."""

    def __init__(self, max_count: int, do_evict_after: bool = False) -> None:
        super().__init__(do_evict_after)
        if max_count < 0:
            raise ValueError(f"CountEvictor needs a count >= 0, got {max_count}")
        self.max_count = int(max_count)

    @staticmethod
    def of(max_count: int, do_evict_after: bool = False) -> CountEvictor:
        """Keep ``max_count`` elements, evicting before the window function unless ``do_evict_after``."""
        return CountEvictor(max_count, do_evict_after)

    def _evict(self, elements: list[TimestampedValue], size: int) -> None:
        if size > self.max_count:
            del elements[:size - self.max_count]

    def __repr__(self) -> str:
        return f"CountEvictor({self.max_count}, do_evict_after={self.do_evict_after})"


class TimeEvictor(_BeforeOrAfter):
    """Keeps the elements of the last ``window_size`` ms: those with a timestamp above
    ``max timestamp - window_size``. Windows whose (first) element has no timestamp are left alone."""

    def __init__(self, window_size: int, do_evict_after: bool = False) -> None:
        super().__init__(do_evict_after)
        self.window_size = int(window_size)

    @staticmethod
    def of(window_size: Any, do_evict_after: bool = False) -> TimeEvictor:
        """``window_size``: a Duration or Time (or ms as an int)."""
        return TimeEvictor(to_millis(window_size, "window_size"), do_evict_after)

    def _evict(self, elements: list[TimestampedValue], size: int) -> None:
        if not elements or not elements[0].has_timestamp():
            return
        cutoff = max(e.get_timestamp() for e in elements) - self.window_size
        elements[:] = [e for e in elements if e.get_timestamp() > cutoff]

    def __repr__(self) -> str:
        return f"TimeEvictor({self.window_size}, do_evict_after={self.do_evict_after})"


class DeltaEvictor(_BeforeOrAfter):
    """Evicts the elements whose ``delta_function(element, last element)`` is at least ``threshold``."""

    def __init__(self, threshold: float, delta_function: Callable[[Any, Any], float],
                 do_evict_after: bool = False) -> None:
        super().__init__(do_evict_after)
        self.threshold = threshold
        self.delta_function = delta_function

    @staticmethod
    def of(threshold: float, delta_function: Any, do_evict_after: bool = False) -> DeltaEvictor:
        """``delta_function``: a callable ``(a, b) -> float`` or an object with ``get_delta(a, b)``."""
        get_delta = getattr(delta_function, "get_delta", delta_function)
        return DeltaEvictor(threshold, get_delta, do_evict_after)

    def _evict(self, elements: list[TimestampedValue], size: int) -> None:
        if not elements:
            return
        last = elements[-1].get_value()
        delta, threshold = self.delta_function, self.threshold
        elements[:] = [e for e in elements if delta(e.get_value(), last) < threshold]

    def __repr__(self) -> str:
        return f"DeltaEvictor({self.threshold}, do_evict_after={self.do_evict_after})"
