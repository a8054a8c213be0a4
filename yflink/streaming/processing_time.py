"""Processing-time callbacks of a task's operators (the part of Flink's ``ProcessingTimeService`` yflink needs).

Operators that act on processing time (processing-time timers of windows and process functions, periodic
watermarks, idleness) have ``on_processing_time(now_ms)``; they also check the clock whenever input arrives,
so the callbacks matter when the input is quiet. A task calls :meth:`ProcessingTimeTicker.tick` from its loop
(cheap: a monotonic-clock comparison until the next tick is due) and, while it waits for input, waits at most
:meth:`ProcessingTimeTicker.wait_s` at a time. Ticks come every :data:`TICK_MS` ms, so a processing-time timer
fires at most that late (Flink fires each timer on its own thread, at its time).

Callbacks run on the task's loop, between batches, so operators never see two calls at once; an exception
from one fails the task like an exception from ``process_batch``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

#: Period of the processing-time callbacks, ms.
TICK_MS = 10


class ProcessingTimeTicker:
    """Calls ``on_processing_time(now_ms)`` on every operator that has one, at most every ``tick_ms``.

    Args:
        operators: the task's operators (those without ``on_processing_time`` are skipped).
        tick_ms: the period, ms.
    """

    def __init__(self, operators: Iterable[Any], tick_ms: int = TICK_MS) -> None:
        self._callbacks = [op.on_processing_time for op in operators
                           if callable(getattr(op, "on_processing_time", None))]
        self._period_s = tick_ms / 1000.0
        self._next = time.monotonic() + self._period_s

    def __bool__(self) -> bool:
        """False when no operator needs processing-time callbacks (the task then skips the ticks)."""
        return bool(self._callbacks)

    @property
    def wait_s(self) -> float:
        """How long a task waiting for input may wait before the next tick is due, seconds."""
        return max(0.0, self._next - time.monotonic())

    def tick(self) -> None:
        """Call the operators if a period has passed since the last call."""
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self._period_s
        now_ms = time.time_ns() // 1_000_000
        for callback in self._callbacks:
            callback(now_ms)
