"""Sources behind ``env.from_collection`` and ``env.add_source``.

* :class:`CollectionSource`: a bounded list of elements; subtask ``i`` of ``p`` reads ``elements[i::p]``
  (``from_collection`` runs with parallelism 1, as in Flink).
* :class:`SourceFunctionOperator`: runs a user :class:`~yflink.datastream.functions.SourceFunction`'s
  ``run(ctx)`` in a thread of the slot worker. ``ctx.collect`` appends to a buffer that is handed over in
  chunks through a bounded queue, so a fast ``run`` is throttled by a slow job (backpressure) instead of
  filling memory; ``emit_next`` drains it, records and watermarks in order. When ``run`` returns the input
  has ended; ``close()`` calls ``cancel()`` and waits briefly for the thread.

Source of the semantics: Flink ``FromElementsFunction``/``FromElementsSource``, ``StreamSource`` and
``SourceFunction.SourceContext``.
"""

from __future__ import annotations

import collections
import threading
from typing import Any, Optional

from yflink.datastream.functions import SourceFunction
from yflink.streaming.operators.base import SourceOperator, TaskInfo
from yflink.streaming.operators.udf import (
    StreamingRuntimeContext,
    close_function,
    describe_function,
    open_function,
    UserFunctionError,
)

#: Records per chunk handed from the source thread to the task.
CHUNK_RECORDS = 512
#: Chunks the source thread may be ahead of the task before ``collect`` blocks.
MAX_PENDING_CHUNKS = 16
#: Longest time ``emit_next`` waits for the source thread when nothing is buffered, seconds.
POLL_WAIT_S = 0.01
#: Longest time ``close`` waits for ``run`` to return after ``cancel``, seconds.
CANCEL_WAIT_S = 5.0


class CollectionReader:
    """Reads this subtask's share of a list of elements."""

    def __init__(self, elements: list[Any]) -> None:
        self._elements = elements
        self._mine: list[Any] = []
        self._next = 0

    def open(self, task_info: TaskInfo) -> None:
        if task_info.parallelism == 1:
            self._mine = self._elements
        else:
            self._mine = self._elements[task_info.subtask_index::task_info.parallelism]

    def poll_batch(self, max_records: int) -> Optional[tuple[list[Any], Optional[list[int]]]]:
        start = self._next
        if start >= len(self._mine):
            return None
        self._next = start + max_records
        return self._mine[start:self._next], None

    def close(self) -> None:
        self._mine = []


class CollectionSource:
    """A bounded source of the given elements, in order."""

    def __init__(self, elements: list[Any]) -> None:
        self.elements = list(elements)

    def is_bounded(self) -> bool:
        return True

    def create_reader(self) -> CollectionReader:
        return CollectionReader(self.elements)


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
