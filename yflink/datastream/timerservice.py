"""TimerService (PyFlink ``pyflink.datastream.timerservice``): time and timers of a process function.

Timestamps are ms since the epoch. Timers exist per key (keyed streams only); a timer set twice for the
same key and time fires once. Source of the semantics: Flink ``TimerService`` and the documentation
section "Process Function" (Timers).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

__all__ = ["TimerService"]


class TimerService(ABC):
    """Queries time and registers timers."""

    @abstractmethod
    def current_processing_time(self) -> int:
        """The current processing time (wall clock), ms."""

    @abstractmethod
    def current_watermark(self) -> int:
        """The current event-time watermark, ms (Java's Long.MIN_VALUE before the first watermark)."""

    @abstractmethod
    def register_processing_time_timer(self, timestamp: int) -> None:
        """Call ``on_timer`` when processing time reaches ``timestamp`` (ms)."""

    @abstractmethod
    def register_event_time_timer(self, timestamp: int) -> None:
        """Call ``on_timer`` when the watermark reaches ``timestamp`` (ms)."""

    @abstractmethod
    def delete_processing_time_timer(self, timestamp: int) -> None:
        """Delete the processing-time timer for ``timestamp`` of the current key, if any."""

    @abstractmethod
    def delete_event_time_timer(self, timestamp: int) -> None:
        """Delete the event-time timer for ``timestamp`` of the current key, if any."""
