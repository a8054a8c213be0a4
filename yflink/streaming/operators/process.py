"""Process operators: ``process`` on a DataStream and on a KeyedStream (with keyed state and timers).

``process_element(value, ctx)`` yields (or returns an iterable of) outputs, which keep the input's
timestamp; a yielded ``(OutputTag, value)`` pair, or ``ctx.output(tag, value)``, goes to a side output. On a
keyed stream the operator sets the state backend's current key before each call, so state handles see that
key's values, and runs timers (:mod:`yflink.streaming.operators.timers`):

* event-time timers fire, in timestamp order, when a watermark at or past them arrives (and all remaining
  ones at end of input, where Flink's sources emit the final ``MAX_WATERMARK``); their outputs carry the
  timer's timestamp; the watermark is forwarded after the timers fired;
* processing-time timers fire when :meth:`KeyedProcessOperator.on_processing_time` is called with a time at
  or past them: the operator calls it before each batch and watermark, and the runtime may call it on a
  clock; their outputs carry no timestamp.

A timer is per key and time: registering it twice fires it once. Timers are keyed state: they are part of
snapshots. In BATCH execution records are processed key by key (see :mod:`process_base`).

Source of the semantics: Flink ``ProcessOperator``, ``KeyedProcessOperator``, ``InternalTimerServiceImpl``
and the documentation sections "Process Function" and "Side Outputs".
"""

from __future__ import annotations

from typing import Any, Optional

from yflink.datastream.functions import KeyedProcessFunction, ProcessFunction
from yflink.streaming.operators.process_base import AbstractProcessOperator, BaseContext


class _ProcessContext(BaseContext, ProcessFunction.Context):
    __slots__ = ()


class _KeyedContext(BaseContext, KeyedProcessFunction.OnTimerContext):
    __slots__ = ()


class ProcessOperator(AbstractProcessOperator):
    """``DataStream.process(ProcessFunction)``; the timer service gives time, timers need a keyed stream."""

    def __init__(self, function: Any, name: str = "Process") -> None:
        super().__init__(function, name, (None,))

    def _make_context(self, input_index: int) -> BaseContext:
        return _ProcessContext(self, self.timer_service)

    def process_batch(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        self._process(0, values, timestamps)

    def process_watermark(self, watermark: int) -> None:
        self._watermark(0, watermark)

    def process_watermark_status(self, idle: bool) -> None:
        self._watermark_status(0, idle)


class KeyedProcessOperator(AbstractProcessOperator):
    """``KeyedStream.process(KeyedProcessFunction)``: keyed state and timers.

    Args:
        function: a KeyedProcessFunction (or a callable ``(value, ctx)`` yielding outputs).
        key_selector: the stream's key selector (a KeySelector or callable).
    """

    is_keyed = True

    def __init__(self, function: Any, key_selector: Any, name: str = "KeyedProcess") -> None:
        super().__init__(function, name, (key_selector,))
        self.key_selector = key_selector

    def _make_context(self, input_index: int) -> BaseContext:
        return _KeyedContext(self, self.timer_service)

    def _make_timer_context(self) -> BaseContext:
        return _KeyedContext(self, self.timer_service)

    def process_batch(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        self._process(0, values, timestamps)

    def process_watermark(self, watermark: int) -> None:
        self._watermark(0, watermark)

    def process_watermark_status(self, idle: bool) -> None:
        self._watermark_status(0, idle)
