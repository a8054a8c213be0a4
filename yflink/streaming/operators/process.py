"""Process operators: ``process`` on a DataStream and on a KeyedStream (with keyed state and timers).

``process_element(value, ctx)`` yields (or returns an iterable of) outputs, which keep the input's
timestamp. On a keyed stream the operator sets the state backend's current key before each call, so state
handles see that key's values, and runs timers:

* event-time timers fire, in timestamp order, when a watermark at or past them arrives (and all remaining
  ones at end of input, where Flink's sources emit the final ``MAX_WATERMARK``); their outputs carry the
  timer's timestamp; the watermark is forwarded after the timers fired;
* processing-time timers fire when :meth:`KeyedProcessOperator.on_processing_time` is called with a time at
  or past them: the operator calls it before each batch and watermark, and the runtime may call it on a
  clock; their outputs carry no timestamp.

A timer is per key and time: registering it twice fires it once. Timers are not yet part of snapshots.

Source of the semantics: Flink ``ProcessOperator``, ``KeyedProcessOperator``, ``InternalTimerServiceImpl``
and the documentation section "Process Function".
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from typing import Any, Optional

from yflink.datastream.functions import KeyedProcessFunction, ProcessFunction
from yflink.datastream.time_domain import TimeDomain
from yflink.datastream.timerservice import TimerService
from yflink.streaming.operators.simple import UdfOperator
from yflink.streaming.operators.udf import MAX_WATERMARK, MIN_WATERMARK, ProcessingTimeService, user_error


class _ProcessContext(ProcessFunction.Context):
    __slots__ = ("_timer_service", "_timestamp")

    def __init__(self, timer_service: TimerService) -> None:
        self._timer_service = timer_service
        self._timestamp: Optional[int] = None

    def timer_service(self) -> TimerService:
        return self._timer_service

    def timestamp(self) -> Optional[int]:
        return self._timestamp


def _run(function: Callable[..., Any], values: list[Any], timestamps: Optional[list[int]], ctx: Any,
         set_key: Optional[Callable[[Any], None]], keys: Optional[list[Any]]) \
        -> tuple[list[Any], Optional[list[int]]]:
    """Call ``function(value, ctx)`` per record; collect the outputs (and their timestamps)."""
    out: list[Any] = []
    extend = out.extend
    if timestamps is None:
        ctx._timestamp = None
        if keys is None:
            for v in values:
                produced = function(v, ctx)
                if produced is not None:
                    extend(produced)
        else:
            assert set_key is not None
            for v, k in zip(values, keys, strict=True):
                set_key(k)
                ctx._key = k
                produced = function(v, ctx)
                if produced is not None:
                    extend(produced)
        return out, None
    out_ts: list[int] = []
    for i, v in enumerate(values):
        ts = timestamps[i]
        ctx._timestamp = ts
        if keys is not None:
            assert set_key is not None
            k = keys[i]
            set_key(k)
            ctx._key = k
        produced = function(v, ctx)
        if produced is not None:
            before = len(out)
            extend(produced)
            out_ts += [ts] * (len(out) - before)
    return out, out_ts


class ProcessOperator(UdfOperator):
    """``DataStream.process(ProcessFunction)``; the timer service gives time, timers need a keyed stream."""

    method = "process_element"

    def __init__(self, function: Any, name: str = "Process") -> None:
        super().__init__(function, name)

    def open(self) -> None:
        super().open()
        self._timer_service = ProcessingTimeService()
        self._ctx = _ProcessContext(self._timer_service)

    def process_batch(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        try:
            out, out_ts = _run(self._fn, values, timestamps, self._ctx, None, None)
        except Exception as exc:
            raise self._error(exc) from exc
        if out:
            self.output.emit(out, out_ts)

    def process_watermark(self, watermark: int) -> None:
        self._timer_service.watermark = watermark
        self.output.emit_watermark(watermark)


class _KeyedContext(KeyedProcessFunction.OnTimerContext):
    __slots__ = ("_domain", "_key", "_timer_service", "_timestamp")

    def __init__(self, timer_service: TimerService) -> None:
        self._timer_service = timer_service
        self._timestamp: Optional[int] = None
        self._key: Any = None
        self._domain = TimeDomain.EVENT_TIME

    def get_current_key(self) -> Any:
        return self._key

    def timer_service(self) -> TimerService:
        return self._timer_service

    def timestamp(self) -> Optional[int]:
        return self._timestamp

    def time_domain(self) -> TimeDomain:
        return self._domain


class KeyedTimerService(TimerService):
    """Timers per (time, key) in two heaps, one per time domain; deletion is lazy."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self.watermark = MIN_WATERMARK
        self._seq = itertools.count()
        self.event_timers: set[tuple[int, Any]] = set()
        self.processing_timers: set[tuple[int, Any]] = set()
        self._event_heap: list[tuple[int, int, Any]] = []
        self._processing_heap: list[tuple[int, int, Any]] = []

    def current_processing_time(self) -> int:
        return time.time_ns() // 1_000_000

    def current_watermark(self) -> int:
        return self.watermark

    def register_event_time_timer(self, timestamp: int) -> None:
        entry = (int(timestamp), self._backend.get_current_key())
        if entry not in self.event_timers:
            self.event_timers.add(entry)
            heapq.heappush(self._event_heap, (entry[0], next(self._seq), entry[1]))

    def register_processing_time_timer(self, timestamp: int) -> None:
        entry = (int(timestamp), self._backend.get_current_key())
        if entry not in self.processing_timers:
            self.processing_timers.add(entry)
            heapq.heappush(self._processing_heap, (entry[0], next(self._seq), entry[1]))

    def delete_event_time_timer(self, timestamp: int) -> None:
        self.event_timers.discard((int(timestamp), self._backend.get_current_key()))

    def delete_processing_time_timer(self, timestamp: int) -> None:
        self.processing_timers.discard((int(timestamp), self._backend.get_current_key()))

    def next_processing_time(self) -> Optional[int]:
        """The earliest pending processing-time timer (ms), or None."""
        heap = self._processing_heap
        while heap and (heap[0][0], heap[0][2]) not in self.processing_timers:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pop_due(self, domain: TimeDomain, time_ms: int) -> Optional[tuple[int, Any]]:
        """Remove and return the earliest live timer at or before ``time_ms`` in ``domain``, or None."""
        heap, live = ((self._event_heap, self.event_timers) if domain is TimeDomain.EVENT_TIME
                      else (self._processing_heap, self.processing_timers))
        while heap and heap[0][0] <= time_ms:
            timestamp, _, key = heapq.heappop(heap)
            if (timestamp, key) in live:
                live.discard((timestamp, key))
                return timestamp, key
        return None


class KeyedProcessOperator(UdfOperator):
    """``KeyedStream.process(KeyedProcessFunction)``: keyed state and timers.

    Args:
        function: a KeyedProcessFunction (or a callable ``(value, ctx)`` yielding outputs).
        key_selector: the stream's key selector (a KeySelector or callable).
    """

    method = "process_element"
    is_keyed = True

    def __init__(self, function: Any, key_selector: Any, name: str = "KeyedProcess") -> None:
        super().__init__(function, name, key_selector)

    def open(self) -> None:
        super().open()
        self._timers = KeyedTimerService(self.keyed_backend)
        self._ctx = _KeyedContext(self._timers)
        self._timer_ctx = _KeyedContext(self._timers)
        on_timer = getattr(self.function, "on_timer", None)
        self._on_timer = on_timer if callable(on_timer) else None

    def process_batch(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        if self._timers.processing_timers:
            self.on_processing_time(self._timers.current_processing_time())
        keys = self._keys(values)
        try:
            out, out_ts = _run(self._fn, values, timestamps, self._ctx, self.keyed_backend.set_current_key, keys)
        except Exception as exc:
            raise self._error(exc) from exc
        if out:
            self.output.emit(out, out_ts)

    def _fire(self, domain: TimeDomain, time_ms: int) -> None:
        if self._on_timer is None:
            return
        timers, ctx, on_timer = self._timers, self._timer_ctx, self._on_timer
        ctx._domain = domain
        set_key = self.keyed_backend.set_current_key
        while True:
            due = timers.pop_due(domain, time_ms)
            if due is None:
                return
            timestamp, key = due
            set_key(key)
            ctx._key = key
            ctx._timestamp = timestamp
            try:
                produced = on_timer(timestamp, ctx)
                out = list(produced) if produced is not None else []
            except Exception as exc:
                raise user_error(self.name, on_timer, exc) from exc
            if out:
                self.output.emit(out, [timestamp] * len(out) if domain is TimeDomain.EVENT_TIME else None)

    def on_processing_time(self, now_ms: int) -> None:
        """Fire the processing-time timers due at ``now_ms``."""
        self._fire(TimeDomain.PROCESSING_TIME, now_ms)

    def process_watermark(self, watermark: int) -> None:
        if self._timers.processing_timers:
            self.on_processing_time(self._timers.current_processing_time())
        self._timers.watermark = watermark
        self._fire(TimeDomain.EVENT_TIME, watermark)
        self.output.emit_watermark(watermark)

    def end_input(self) -> None:
        if self._timers.event_timers:
            self._timers.watermark = MAX_WATERMARK
            self._fire(TimeDomain.EVENT_TIME, MAX_WATERMARK)
