"""Windows: finite buckets of a stream (PyFlink ``TimeWindow``, ``CountWindow``, ``GlobalWindow``).

A window is also the *namespace* of per-window state, so it is hashed and compared on every record. The
windows are therefore tuples (``typing.NamedTuple``): hashing and equality run in C, and ``TimeWindow``s
sort by (start, end) as PyFlink's ``__lt__`` orders them. ``repr`` is PyFlink's (``TimeWindow(start=0,
end=10)``, ``CountWindow(id=3)``, ``GlobalWindow``).

Source of the semantics: Flink ``TimeWindow``, ``GlobalWindow``, PyFlink ``pyflink/datastream/window.py``
and the documentation section "Windows" (Window Assigners).
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import Any, NamedTuple

__all__ = [
    "MAX_LONG_VALUE",
    "MIN_LONG_VALUE",
    "CountWindow",
    "CountWindowSerializer",
    "GlobalWindow",
    "GlobalWindowSerializer",
    "TimeWindow",
    "TimeWindowSerializer",
    "Window",
]

#: Java's Long.MAX_VALUE / MIN_VALUE: the end of time, and "no timestamp".
MAX_LONG_VALUE = (1 << 63) - 1
MIN_LONG_VALUE = -(1 << 63)


class Window(abc.ABC):
    """A grouping of elements into a finite bucket; ``max_timestamp()`` is the last ms that belongs to it."""

    @abc.abstractmethod
    def max_timestamp(self) -> int:
        ...


class TimeWindow(NamedTuple):
    """The interval [start, end) in ms since the epoch."""

    start: int
    end: int

    def max_timestamp(self) -> int:
        """``end - 1``: the largest timestamp in the window."""
        return self.end - 1

    def intersects(self, other: TimeWindow) -> bool:
        """True when the windows overlap or touch (``[0, 5)`` and ``[5, 9)`` intersect, as in Flink)."""
        return self.start <= other.end and self.end >= other.start

    def cover(self, other: TimeWindow) -> TimeWindow:
        """The smallest window that covers both."""
        return TimeWindow(min(self.start, other.start), max(self.end, other.end))

    @staticmethod
    def get_window_start_with_offset(timestamp: int, offset: int, window_size: int) -> int:
        """The start of the window of ``window_size`` ms, shifted by ``offset`` ms, that holds ``timestamp``."""
        return timestamp - (timestamp - offset + window_size) % window_size

    @staticmethod
    def merge_windows(windows: Iterable[TimeWindow], callback: Any) -> None:
        """Merge overlapping windows: ``callback.merge(to_be_merged, merge_result)`` for every group of two
        or more (Flink ``TimeWindow.mergeWindows``, used by the session assigners)."""
        current: TimeWindow | None = None
        members: list[TimeWindow] = []
        groups: list[tuple[TimeWindow, list[TimeWindow]]] = []
        for candidate in sorted(windows):
            if current is None:
                current, members = candidate, [candidate]
            elif current.intersects(candidate):
                current = current.cover(candidate)
                members.append(candidate)
            else:
                groups.append((current, members))
                current, members = candidate, [candidate]
        if current is not None:
            groups.append((current, members))
        for result, group in groups:
            if len(group) > 1:
                callback.merge(group, result)


class CountWindow(NamedTuple):
    """A window of a count assigner, identified by its sequence number per key."""

    id: int

    def max_timestamp(self) -> int:
        return MAX_LONG_VALUE


class GlobalWindow(NamedTuple):
    """The single window of :class:`~yflink.datastream.window.GlobalWindows`; all instances are equal."""

    @staticmethod
    def get() -> GlobalWindow:
        return _GLOBAL_WINDOW

    def max_timestamp(self) -> int:
        return MAX_LONG_VALUE

    def __repr__(self) -> str:
        return "GlobalWindow"


_GLOBAL_WINDOW = GlobalWindow()

Window.register(TimeWindow)
Window.register(CountWindow)
Window.register(GlobalWindow)


class _PickleSerializer:
    """yflink pickles windows; these exist so that PyFlink assigners returning them keep working."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class TimeWindowSerializer(_PickleSerializer):
    """PyFlink's serializer of TimeWindow (yflink pickles windows: a marker only)."""


class CountWindowSerializer(_PickleSerializer):
    """PyFlink's serializer of CountWindow (yflink pickles windows: a marker only)."""


class GlobalWindowSerializer(_PickleSerializer):
    """PyFlink's serializer of GlobalWindow (yflink pickles windows: a marker only)."""
