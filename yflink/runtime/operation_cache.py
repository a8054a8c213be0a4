"""Asynchronous operations the REST API triggers and clients poll: savepoints, stop-with-savepoint, disposal.

Source: Flink ``CompletedOperationCache`` and ``DispatcherCachedOperationsHandler``. A trigger answers at once
with a trigger id (``{"request-id": ...}``); the operation runs as an asyncio task on the Dispatcher's loop, and
``GET .../savepoints/{triggerid}`` reads its :class:`OperationResult` here. A finished operation's result is kept
for ``rest.async.store-duration`` (Flink's key; default 5 min) after it completed, then forgotten: polling it
later answers "unknown trigger id". Operations still running are never evicted.

The clock is injected (seconds, monotonic), so expiry is tested without sleeping.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Optional

from yflink.common.config_options import option, parse_duration_ms

__all__ = ["OperationCache", "OperationKey", "OperationKind", "OperationResult", "OperationStatus",
           "STORE_DURATION"]

STORE_DURATION = option("rest.async.store-duration", parse_duration_ms, 300_000,
                        "How long the result of a completed asynchronous REST operation (savepoint, stop, "
                        "disposal) stays readable, ms (Flink's default: 5 min).")


class OperationKind(Enum):
    """Which REST resource an operation belongs to; trigger ids of different kinds never collide."""

    SAVEPOINT = "savepoint"  # POST /jobs/{jobid}/savepoints and POST /jobs/{jobid}/stop
    DISPOSAL = "savepoint disposal"  # POST /savepoint-disposal


@dataclass(frozen=True)
class OperationKey:
    """One triggered operation (Flink ``AsynchronousJobOperationKey``): its kind, job (None: no job) and id."""

    kind: OperationKind
    job_id: Optional[str]
    trigger_id: str


class OperationStatus(Enum):
    """Flink's ``QueueStatus.Id``."""

    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


@dataclass(frozen=True)
class OperationResult:
    """Where an operation stands: IN_PROGRESS, or COMPLETED with a ``value`` (e.g. the savepoint's URI) or an
    ``error`` (what the operation raised)."""

    status: OperationStatus
    value: Optional[str] = None
    error: Optional[BaseException] = None


class OperationCache:
    """Trigger id -> running task or its outcome.

    Args:
        store_duration_s: how long a completed operation's result stays readable, seconds.
        clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(self, store_duration_s: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if store_duration_s < 0:
            raise ValueError(f"'{STORE_DURATION.key}' must not be negative, got {store_duration_s} s")
        self.store_duration_s = store_duration_s
        self._clock = clock
        self._tasks: dict[OperationKey, asyncio.Task[str]] = {}
        self._completed_at: dict[OperationKey, float] = {}

    def __contains__(self, key: OperationKey) -> bool:
        self._evict()
        return key in self._tasks

    def __len__(self) -> int:
        self._evict()
        return len(self._tasks)

    def register(self, key: OperationKey, task: asyncio.Task[str]) -> None:
        """Track ``task`` under ``key``. Raises ValueError when ``key`` is already tracked."""
        self._evict()
        if key in self._tasks:
            raise ValueError(f"There is already an operation with triggerId={key.trigger_id}")
        self._tasks[key] = task
        task.add_done_callback(lambda done: self._completed(key, done))

    def _completed(self, key: OperationKey, task: asyncio.Task[str]) -> None:
        if not task.cancelled():
            task.exception()  # retrieved here; get() reports it
        if self._tasks.get(key) is task:
            self._completed_at.setdefault(key, self._clock())

    def get(self, key: OperationKey) -> OperationResult:
        """The operation's result. Raises KeyError when the key is unknown or its result expired."""
        self._evict()
        task = self._tasks[key]
        if not task.done():
            return OperationResult(OperationStatus.IN_PROGRESS)
        self._completed_at.setdefault(key, self._clock())  # done, but its callback has not run yet
        if task.cancelled():
            return OperationResult(OperationStatus.COMPLETED,
                                   error=asyncio.CancelledError("The operation was cancelled (the cluster shut down)."))
        error = task.exception()
        if error is not None:
            return OperationResult(OperationStatus.COMPLETED, error=error)
        return OperationResult(OperationStatus.COMPLETED, value=task.result())

    def _evict(self) -> None:
        now = self._clock()
        for key, at in list(self._completed_at.items()):
            if now - at >= self.store_duration_s:
                del self._completed_at[key]
                self._tasks.pop(key, None)

    def cancel_all(self) -> None:
        """Cancel every running operation (the Dispatcher stops)."""
        for task in self._tasks.values():
            if not task.done():
                task.cancel()
