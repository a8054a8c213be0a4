"""Source operators behind ``env.add_source`` and ``env.from_source`` (with a watermark strategy).

* :class:`SourceFunctionOperator`: runs a user :class:`~yflink.datastream.functions.SourceFunction`'s
  ``run(ctx)`` in a thread of the slot worker. ``ctx.collect`` appends to a buffer that is handed over in
  chunks through a bounded queue, so a fast ``run`` is throttled by a slow job (backpressure) instead of
  filling memory; ``emit_next`` drains it, records and watermarks in order. When ``run`` returns the input
  has ended; ``close()`` calls ``cancel()`` and waits briefly for the thread.

* :class:`WatermarkingSourceOperator`: a FLIP-27 source whose records pass through the watermark strategy
  inside the source operator, as in Flink.

Source of the semantics: Flink ``StreamSource``, ``SourceFunction.SourceContext`` and ``SourceOperator``.
"""

from __future__ import annotations

import collections
import threading
from typing import Any, Optional

from yflink.common.watermark_strategy import WatermarkStrategy
from yflink.datastream.functions import SourceFunction
from yflink.streaming.operators.base import Source, SourceOperator
from yflink.streaming.operators.timers import clock_of
from yflink.streaming.operators.udf import (
    StreamingRuntimeContext,
    UserFunctionError,
    close_function,
    describe_function,
    open_function,
)
from yflink.streaming.operators.watermarks import TimestampsAndWatermarksOperator

#: Records per chunk handed from the source thread to the task.
CHUNK_RECORDS = 512
#: Chunks the source thread may be ahead of the task before ``collect`` blocks.
MAX_PENDING_CHUNKS = 16
#: Longest time ``emit_next`` waits for the source thread when nothing is buffered, seconds.
POLL_WAIT_S = 0.01
#: Longest time ``close`` waits for ``run`` to return after ``cancel``, seconds.
CANCEL_WAIT_S = 5.0


class _SourceContext(SourceFunction.SourceContext):
    """The ``ctx`` of ``SourceFunction.run``; every method may be called from the source thread only."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.chunks: collections.deque[tuple[list[Any], Optional[list[int]], Optional[int]]] = collections.deque()
        self.values: list[Any] = []
        self.timestamps: Optional[list[int]] = None
        self.cancelled = False
        self.finished = False
        self.error: Optional[BaseException] = None
        self._checkpoint_lock = threading.RLock()

    # --- producer side (source thread) ------------------------------------------------------------------
    def _seal_locked(self) -> None:
        """Move the open buffer into the chunk queue, waiting while the queue is full."""
        if not self.values:
            return
        while len(self.chunks) >= MAX_PENDING_CHUNKS and not self.cancelled:
            self.cond.wait(0.1)
        self.chunks.append((self.values, self.timestamps, None))
        self.values = []
        self.timestamps = None
        self.cond.notify_all()

    def collect(self, element: Any) -> None:
        with self.cond:
            if self.timestamps is not None:
                self._seal_locked()
            self.values.append(element)
            if len(self.values) >= CHUNK_RECORDS:
                self._seal_locked()

    def collect_with_timestamp(self, element: Any, timestamp: int) -> None:
        with self.cond:
            if self.timestamps is None and self.values:
                self._seal_locked()
            if self.timestamps is None:
                self.timestamps = []
            self.values.append(element)
            self.timestamps.append(int(timestamp))
            if len(self.values) >= CHUNK_RECORDS:
                self._seal_locked()

    def emit_watermark(self, watermark: int) -> None:
        with self.cond:
            self._seal_locked()
            self.chunks.append(([], None, int(watermark)))
            self.cond.notify_all()

    def mark_as_temporarily_idle(self) -> None:
        """Accepted; idleness is not propagated yet."""

    def get_checkpoint_lock(self) -> Any:
        return self._checkpoint_lock

    def finish(self, error: Optional[BaseException]) -> None:
        with self.cond:
            self.error = error
            self.finished = True
            self.cond.notify_all()

    # --- consumer side (task thread) --------------------------------------------------------------------
    def take(self, wait: bool) -> Optional[tuple[list[Any], Optional[list[int]], Optional[int]]]:
        """The oldest chunk, the open buffer when no chunk waits, or None when nothing is there (after waiting
        up to ``POLL_WAIT_S`` for the source thread when ``wait``)."""
        with self.cond:
            if wait and not self.chunks and not self.values and not self.finished:
                self.cond.wait(POLL_WAIT_S)
            if self.chunks:
                chunk = self.chunks.popleft()
                self.cond.notify_all()
                return chunk
            if self.values:
                chunk = (self.values, self.timestamps, None)
                self.values, self.timestamps = [], None
                return chunk
            return None


class SourceFunctionOperator(SourceOperator):
    """The head of a task that runs a SourceFunction (``env.add_source``).

    Args:
        source_function: the user's SourceFunction (a new copy per subtask, as every operator is).
        name: the source's name.
    """

    def __init__(self, source_function: SourceFunction, name: str = "Custom Source") -> None:
        super().__init__(source=None, name=name)  # type: ignore[arg-type]
        self.source_function = source_function
        self._thread: Optional[threading.Thread] = None

    def open(self) -> None:
        self._ctx = _SourceContext()
        open_function(self.source_function, StreamingRuntimeContext(self.task_info, None), self.name)
        self._thread = threading.Thread(target=self._run, name=f"source: {self.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.source_function.run(self._ctx)
        except BaseException as exc:  # noqa: BLE001 - handed to the task thread, which raises it
            self._ctx.finish(exc)
        else:
            self._ctx.finish(None)

    def emit_next(self, max_records: int) -> Optional[int]:
        """Emit what the source thread produced since the last call; None once ``run`` has returned."""
        ctx = self._ctx
        emitted = 0
        while emitted < max_records:
            chunk = ctx.take(emitted == 0)
            if chunk is None:
                break
            values, timestamps, watermark = chunk
            if watermark is not None:
                self.output.emit_watermark(watermark)
                continue
            self.output.emit(values, timestamps)
            emitted += len(values)
        if emitted == 0 and ctx.finished and not ctx.chunks and not ctx.values:
            if ctx.error is not None:
                cause = ctx.error
                raise UserFunctionError(self.name, describe_function(self.source_function.run), cause) from cause
            return None
        return emitted

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._ctx.cancelled = True
            try:
                self.source_function.cancel()
            finally:
                with self._ctx.cond:
                    self._ctx.cond.notify_all()
                self._thread.join(CANCEL_WAIT_S)
        close_function(self.source_function, self.name)


class WatermarkingSourceOperator(SourceOperator):
    """A source that applies a WatermarkStrategy to what it reads (``env.from_source`` with watermarks).

    Flink runs the strategy inside the source operator; so does this one: records pass through a
    :class:`~yflink.streaming.operators.watermarks.TimestampsAndWatermarksOperator` before leaving the source.
    Periodic watermarks and idleness are checked at every poll (the task polls a source continuously, also when
    it has nothing to read) and in ``on_processing_time``; at the end of a bounded input the source emits a last
    periodic watermark (the task then emits ``MAX_WATERMARK``, so every event-time window downstream fires).

    Watermarks are generated per source reader: yflink's readers read their splits one after another, where
    Flink's per-split generation gives the same watermarks (the combined watermark never goes back).

    Args:
        source: the Source.
        watermark_strategy: assigner and watermark bound.
        auto_watermark_interval_ms: ``pipeline.auto-watermark-interval``, ms.
        name: the source's name.
    """

    def __init__(self, source: Source, watermark_strategy: WatermarkStrategy, auto_watermark_interval_ms: int,
                 name: str = "Source") -> None:
        super().__init__(source, name)
        self.watermarks = TimestampsAndWatermarksOperator(watermark_strategy, auto_watermark_interval_ms, name)
        self.batch_mode = False  # set for BATCH execution: no watermarks but the final one

    def open(self) -> None:
        super().open()
        self.watermarks.batch_mode = self.batch_mode
        self.watermarks.setup(self.task_info, self.output, None)
        self._clock = self.watermarks.processing_time = clock_of(self)  # one clock: the runtime's or a test's
        self.watermarks.open()

    def emit_next(self, max_records: int) -> Optional[int]:
        assert self.reader is not None
        polled = self.reader.poll_batch(max_records)
        if polled is None:
            self.watermarks.end_input()
            return None
        values, timestamps = polled
        if values:
            self.watermarks.process_batch(values, timestamps)
        else:
            self.watermarks.on_processing_time(self._clock.now())
        return len(values)

    def on_processing_time(self, now_ms: int) -> None:
        """Periodic watermark / idleness check at processing time ``now_ms``."""
        self.watermarks.on_processing_time(now_ms)

    def next_processing_time(self) -> Optional[int]:
        """When the next periodic emission is due (ms), or None."""
        return self.watermarks.next_processing_time()
