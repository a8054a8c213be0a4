"""Timestamp assignment and watermark generation (Flink ``TimestampsAndWatermarksOperator``).

``assign_timestamps_and_watermarks(strategy)`` and ``env.from_source(source, strategy, ...)`` run a
:class:`TimestampsAndWatermarksOperator`:

* every record gets ``TimestampAssigner.extract_timestamp(value, record_timestamp)`` (the record's timestamp, or
  Java's Long.MIN_VALUE when it has none); without an assigner records keep their timestamps;
* the generator (Flink ``BoundedOutOfOrdernessWatermarks``; monotonous timestamps are a bound of 0) tracks the
  highest timestamp; every ``pipeline.auto-watermark-interval`` of processing time it emits ``highest - bound -
  1`` if that advanced the watermark (0 disables periodic watermarks);
* ``with_idleness(timeout)``: at a periodic emission, an input without records since the previous one for
  longer than ``timeout`` is marked idle (``WatermarkStatus`` IDLE, so it does not hold back the combined
  watermark downstream); the next watermark that advances marks it active again;
* at end of input a last periodic emission; watermarks from upstream are dropped except the final
  ``MAX_WATERMARK``, and upstream idleness is not forwarded (the operator decides idleness itself);
* in BATCH execution (``batch_mode``) no watermarks are generated: event time jumps to the end at end of input.

Periodic emission runs on the operator's processing-time clock: ``on_processing_time`` (the runtime's clock
callback, or a test harness), and a check after each batch.

Source of the semantics: Flink ``TimestampsAndWatermarksOperator``, ``BoundedOutOfOrdernessWatermarks``,
``WatermarksWithIdleness`` (``IdlenessTimer``) and the documentation section "Generating Watermarks"
(Dealing With Idle Sources, Watermark Strategies and the Kafka Connector: per-split generation).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional

from yflink.common.watermark_strategy import WatermarkStrategy
from yflink.streaming.operators.base import StreamOperator
from yflink.streaming.operators.timers import ProcessingTimeClock, clock_of
from yflink.streaming.operators.udf import (
    MAX_WATERMARK,
    MIN_WATERMARK,
    StreamingRuntimeContext,
    open_function,
    user_error,
)

__all__ = ["IdlenessTimer", "TimestampsAndWatermarksOperator"]


class IdlenessTimer:
    """Whether an input went idle (Flink ``WatermarksWithIdleness.IdlenessTimer``), checked at periodic emissions.

    An input is idle when no record arrived since the previous check and more than ``idle_timeout_ms`` have
    passed since the first check that saw no record.

    Args:
        idle_timeout_ms: the timeout, ms.
        clock: processing time, ms.
    """

    def __init__(self, idle_timeout_ms: int, clock: Callable[[], int]) -> None:
        self.idle_timeout_ms = idle_timeout_ms
        self._clock = clock
        self._counter = 0
        self._last_counter = 0
        self._inactive_since: Optional[int] = None

    def activity(self) -> None:
        self._counter += 1

    def check_if_idle(self) -> bool:
        if self._counter != self._last_counter:
            self._last_counter = self._counter
            self._inactive_since = None
            return False
        now = self._clock()
        if self._inactive_since is None:
            self._inactive_since = now
            return False
        return now - self._inactive_since > self.idle_timeout_ms


class TimestampsAndWatermarksOperator(StreamOperator):
    """Sets record timestamps and emits periodic watermarks (see the module docstring).

    Args:
        watermark_strategy: the strategy (out-of-orderness bound, assigner, idle timeout).
        auto_watermark_interval_ms: ``pipeline.auto-watermark-interval``, ms; 0 disables periodic watermarks.
    """

    def __init__(self, watermark_strategy: WatermarkStrategy, auto_watermark_interval_ms: int = 200,
                 name: str = "Timestamps/Watermarks") -> None:
        super().__init__(name)
        self.watermark_strategy = watermark_strategy
        self.auto_watermark_interval_ms = auto_watermark_interval_ms
        self.processing_time: Optional[ProcessingTimeClock] = None  # clock_of() creates it unless one is given
        self.batch_mode = False  # BATCH execution: no watermarks but the final one (Flink's NoWatermarksGenerator)

    def open(self) -> None:
        strategy = self.watermark_strategy
        assigner = strategy.get_timestamp_assigner()
        self._extract = assigner.extract_timestamp if assigner is not None else None
        if assigner is not None:
            open_function(assigner, StreamingRuntimeContext(self.task_info, None), self.name)
        self._bound = None if self.batch_mode else strategy.max_out_of_orderness_ms
        self._max_timestamp = MIN_WATERMARK
        self._last_watermark = MIN_WATERMARK
        self._idle = False
        clock = clock_of(self)
        self._now = clock.now
        timeout = strategy.idle_timeout_ms
        self._idleness = IdlenessTimer(timeout, clock.now) \
            if timeout is not None and timeout > 0 and not self.batch_mode else None
        interval = self.auto_watermark_interval_ms
        self._next_emit = self._now() + interval if interval > 0 and not self.batch_mode else None

    @property
    def current_watermark(self) -> int:
        """The last watermark emitted (ms)."""
        return self._last_watermark

    @property
    def idle(self) -> bool:
        """True while the output is marked idle."""
        return self._idle

    def process_batch(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        extract = self._extract
        if extract is not None:
            try:
                if timestamps is None:
                    timestamps = [extract(v, MIN_WATERMARK) for v in values]
                else:
                    timestamps = [extract(v, ts) for v, ts in zip(values, timestamps, strict=True)]
            except Exception as exc:
                raise user_error(self.name, extract, exc) from exc
        if timestamps:
            highest = max(timestamps)
            if highest > self._max_timestamp:
                self._max_timestamp = highest
        if values and self._idleness is not None:
            self._idleness.activity()
        self.output.emit(values, timestamps)
        if self._next_emit is not None:
            now = self._now()
            if now >= self._next_emit:
                self.on_processing_time(now)

    def on_processing_time(self, now_ms: int) -> None:
        """The periodic emission, when ``now_ms`` reached it; schedules the next one an interval later."""
        if self._next_emit is None or now_ms < self._next_emit:
            return
        self._next_emit = now_ms + self.auto_watermark_interval_ms
        self._on_periodic_emit()

    def next_processing_time(self) -> Optional[int]:
        """When the next periodic emission is due (ms), or None: when the runtime should call back."""
        return self._next_emit

    def _on_periodic_emit(self) -> None:
        if self._idleness is not None and self._idleness.check_if_idle():
            if not self._idle:
                self._idle = True
                self._emit_status(True)
            return
        bound = self._bound
        if bound is None or self._max_timestamp == MIN_WATERMARK:
            return
        self._emit_watermark(self._max_timestamp - bound - 1)

    def _emit_watermark(self, watermark: int) -> None:
        if watermark <= self._last_watermark:
            return
        self._last_watermark = watermark
        if self._idle:
            self._idle = False
            self._emit_status(False)
        self.output.emit_watermark(watermark)

    def _emit_status(self, idle: bool) -> None:
        emit = getattr(self.output, "emit_watermark_status", None)
        if emit is not None:
            emit(idle)

    def process_watermark(self, watermark: int) -> None:
        """Upstream watermarks are replaced by this operator's, except the end of event time."""
        if watermark == MAX_WATERMARK:
            self._emit_watermark(MAX_WATERMARK)

    def process_watermark_status(self, idle: bool) -> None:
        """Upstream idleness is not forwarded: this operator marks its output idle itself (as Flink's)."""

    def end_input(self) -> None:
        """A last periodic emission (Flink ``finish()``)."""
        self._on_periodic_emit()
