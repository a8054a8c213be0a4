"""Timers of keyed operators (Flink ``InternalTimerServiceImpl``), held in the keyed state backend.

A timer is a (timestamp, key, namespace) triple in one of two time domains. Registering the same timer twice
keeps one; deleting a timer that does not exist does nothing. The live timers are two backend tables,
``{key: {(timestamp, namespace), ...}}`` per domain, so they are snapshotted and redistributed by key group
with the rest of the keyed state (as Flink's heap backend does with its timer queues); two heaps order them by
timestamp (ties in registration order) and are rebuilt from the tables after a restore. Deletion is lazy: a
heap entry whose timer is no longer in its table is skipped.

* Event-time timers fire when the watermark reaches them (``timestamp <= watermark``), in timestamp order;
  timers registered while firing that are already due fire in the same round, as in Flink.
* Processing-time timers fire when :meth:`InternalTimerService.pop_due` is asked with a processing time at or
  past them; the operator asks before each batch and watermark, and whenever the runtime or a test harness
  advances processing time (``on_processing_time``). Processing time comes from a
  :class:`ProcessingTimeClock`, which a test can set by hand.
* BATCH execution (Flink ``BatchExecutionInternalTimeService``): when an operator is done with a key it fires
  all of that key's event-time timers, then its processing-time timers, with the watermark at +infinity;
  timers registered during that final firing are ignored (the service is *quiesced*).

The namespace is None for the timers of process functions; window operators use the window.
Source of the semantics: Flink ``InternalTimerServiceImpl``, ``BatchExecutionInternalTimeService``,
``SimpleTimerService`` and the documentation section "Process Function" (Timers).
"""

from __future__ import annotations

import heapq
import itertools
import time
from typing import Any, Optional

from yflink.datastream.time_domain import TimeDomain
from yflink.datastream.timerservice import TimerService

#: Java's Long.MIN_VALUE / MAX_VALUE: "no watermark yet" and "end of event time".
MIN_WATERMARK = -(1 << 63)
MAX_WATERMARK = (1 << 63) - 1

__all__ = ["InternalTimerService", "MAX_WATERMARK", "MIN_WATERMARK", "ProcessingTimeClock", "UserTimerService"]


class ProcessingTimeClock:
    """Processing time in ms: the wall clock, or a time set by hand (:meth:`set`) in tests."""

    __slots__ = ("manual",)

    def __init__(self, manual: Optional[int] = None) -> None:
        self.manual = manual

    def now(self) -> int:
        manual = self.manual
        return manual if manual is not None else time.time_ns() // 1_000_000

    def set(self, now_ms: int) -> None:
        self.manual = int(now_ms)

    def __call__(self) -> int:
        return self.now()


def clock_of(operator: Any) -> ProcessingTimeClock:
    """The operator's processing-time clock (``operator.processing_time``), created on first use."""
    clock: Optional[ProcessingTimeClock] = getattr(operator, "processing_time", None)
    if clock is None:
        clock = ProcessingTimeClock()
        operator.processing_time = clock
    return clock


class InternalTimerService:
    """The timers of one operator subtask.

    Args:
        backend: the keyed state backend (current key, tables).
        clock: processing time.
        name: distinguishes several timer services of one operator (table names ``_timers/<name>/...``).

    Attributes:
        watermark: the current event time (ms) as the operator last advanced it.
        quiesced: when True, registrations are ignored (BATCH execution's end-of-key firing).
    """

    def __init__(self, backend: Any, clock: ProcessingTimeClock, name: str = "user") -> None:
        self._backend = backend
        self.clock = clock
        self.watermark = MIN_WATERMARK
        self.quiesced = False
        self._seq = itertools.count()
        self._tables = {TimeDomain.EVENT_TIME: backend.table(f"_timers/{name}/event", "timers"),
                        TimeDomain.PROCESSING_TIME: backend.table(f"_timers/{name}/processing", "timers")}
        self._heaps: dict[TimeDomain, list[tuple[int, int, Any, Any]]] = {
            TimeDomain.EVENT_TIME: [], TimeDomain.PROCESSING_TIME: []}
        self.rebuild()

    def rebuild(self) -> None:
        """Order the timers in the tables again (after they were restored from a snapshot)."""
        for domain, table in self._tables.items():
            heap = [(ts, next(self._seq), key, ns) for key, timers in table.items() for ts, ns in timers]
            heapq.heapify(heap)
            self._heaps[domain] = heap

    # --- time -------------------------------------------------------------------------------------------
    def current_processing_time(self) -> int:
        return self.clock.now()

    def current_watermark(self) -> int:
        return self.watermark

    # --- timers of the current key ----------------------------------------------------------------------
    def register(self, domain: TimeDomain, namespace: Any, timestamp: int) -> None:
        if self.quiesced:
            return
        key = self._backend.current_key
        timestamp = int(timestamp)
        table = self._tables[domain]
        timers = table.get(key)
        if timers is None:
            timers = table[key] = set()
        elif (timestamp, namespace) in timers:
            return
        timers.add((timestamp, namespace))
        heapq.heappush(self._heaps[domain], (timestamp, next(self._seq), key, namespace))

    def delete(self, domain: TimeDomain, namespace: Any, timestamp: int) -> None:
        key = self._backend.current_key
        table = self._tables[domain]
        timers = table.get(key)
        if timers is not None:
            timers.discard((int(timestamp), namespace))
            if not timers:
                del table[key]

    def register_event_time_timer(self, namespace: Any, timestamp: int) -> None:
        self.register(TimeDomain.EVENT_TIME, namespace, timestamp)

    def register_processing_time_timer(self, namespace: Any, timestamp: int) -> None:
        self.register(TimeDomain.PROCESSING_TIME, namespace, timestamp)

    def delete_event_time_timer(self, namespace: Any, timestamp: int) -> None:
        self.delete(TimeDomain.EVENT_TIME, namespace, timestamp)

    def delete_processing_time_timer(self, namespace: Any, timestamp: int) -> None:
        self.delete(TimeDomain.PROCESSING_TIME, namespace, timestamp)

    # --- firing -----------------------------------------------------------------------------------------
    def has_timers(self, domain: TimeDomain) -> bool:
        return bool(self._tables[domain])

    def num_timers(self, domain: TimeDomain) -> int:
        return sum(len(timers) for timers in self._tables[domain].values())

    def next_processing_time(self) -> Optional[int]:
        """The earliest pending processing-time timer (ms), or None: when the runtime should call back."""
        heap, table = self._heaps[TimeDomain.PROCESSING_TIME], self._tables[TimeDomain.PROCESSING_TIME]
        while heap and (heap[0][0], heap[0][3]) not in table.get(heap[0][2], ()):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pop_due(self, domain: TimeDomain, time_ms: int) -> Optional[tuple[int, Any, Any]]:
        """Remove and return the earliest live timer ``(timestamp, key, namespace)`` at or before ``time_ms``."""
        heap, table = self._heaps[domain], self._tables[domain]
        while heap and heap[0][0] <= time_ms:
            timestamp, _, key, namespace = heapq.heappop(heap)
            timers = table.get(key)
            if timers is not None and (timestamp, namespace) in timers:
                timers.discard((timestamp, namespace))
                if not timers:
                    del table[key]
                return timestamp, key, namespace
        return None

    def timers_of_key(self, domain: TimeDomain, key: Any) -> list[tuple[int, Any]]:
        """The key's live timers ``(timestamp, namespace)`` in ``domain``, earliest first."""
        return sorted(self._tables[domain].get(key, ()), key=lambda t: t[0])


class UserTimerService(TimerService):
    """The TimerService a process function sees: the current key's timers in the default namespace."""

    __slots__ = ("_internal",)

    def __init__(self, internal: InternalTimerService) -> None:
        self._internal = internal

    def current_processing_time(self) -> int:
        return self._internal.clock.now()

    def current_watermark(self) -> int:
        return self._internal.watermark

    def register_processing_time_timer(self, timestamp: int) -> None:
        self._internal.register(TimeDomain.PROCESSING_TIME, None, timestamp)

    def register_event_time_timer(self, timestamp: int) -> None:
        self._internal.register(TimeDomain.EVENT_TIME, None, timestamp)

    def delete_processing_time_timer(self, timestamp: int) -> None:
        self._internal.delete(TimeDomain.PROCESSING_TIME, None, timestamp)

    def delete_event_time_timer(self, timestamp: int) -> None:
        self._internal.delete(TimeDomain.EVENT_TIME, None, timestamp)


class NonKeyedTimerService(TimerService):
    """The TimerService of a non-keyed stream: time only; timers need a keyed stream (as in Flink)."""

    __slots__ = ("clock", "watermark")

    def __init__(self, clock: ProcessingTimeClock) -> None:
        self.clock = clock
        self.watermark = MIN_WATERMARK

    def current_processing_time(self) -> int:
        return self.clock.now()

    def current_watermark(self) -> int:
        return self.watermark

    def register_processing_time_timer(self, timestamp: int) -> None:
        raise RuntimeError("Setting timers is only supported on a keyed streams.")

    def register_event_time_timer(self, timestamp: int) -> None:
        raise RuntimeError("Setting timers is only supported on a keyed streams.")

    def delete_processing_time_timer(self, timestamp: int) -> None:
        raise RuntimeError("Deleting timers is only supported on a keyed streams.")

    def delete_event_time_timer(self, timestamp: int) -> None:
        raise RuntimeError("Deleting timers is only supported on a keyed streams.")
