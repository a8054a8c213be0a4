"""The window operator behind ``KeyedStream.window(...)`` and ``DataStream.window_all(...)`` (Flink ``WindowOperator``
and ``EvictingWindowOperator`` in one).

Per element: the assigner gives its windows (session windows merge with the key's existing ones, see
:mod:`~yflink.streaming.operators.merging_window_set`); a window whose cleanup time has passed is *late* and
skipped; otherwise the element is added to the window's contents (state of the key in the namespace of the
window: one accumulator for reduce/aggregate, a list for apply/process or with an evictor), then the trigger's
``on_element`` decides: FIRE evaluates the window function, PURGE drops the contents. An element that went to
no window because all its windows were late, and whose timestamp + allowed lateness is at or behind the
watermark, goes to the late side output (``side_output_late_data``) or is dropped (counted in
``num_late_records_dropped``).

Timers (per key, window and time; :mod:`yflink.streaming.operators.timers`) call the trigger's
``on_event_time`` / ``on_processing_time``. A window's *cleanup time* is ``max_timestamp + allowed lateness``
for event-time windows (``max_timestamp`` for processing-time windows, never for windows ending at +infinity):
then its contents, trigger state and merging bookkeeping go and ``ProcessWindowFunction.clear`` runs.
Results carry the window's ``max_timestamp()`` as timestamp.

Time: event-time timers fire when a watermark reaches them, before the watermark is passed on; at end of
input event time advances to +infinity (Flink's sources end with ``MAX_WATERMARK``), so every event-time
window fires. Processing-time timers fire in :meth:`WindowOperator.on_processing_time`, which the operator
calls before each batch and watermark and the runtime calls on a clock (``next_processing_time`` says when);
pending processing-time windows are dropped at end of input, as in Flink's streaming mode. BATCH execution
(``batch_mode``) has neither watermarks nor advancing processing time: every window fires at end of input.

Outputs are collected per batch (or watermark) and emitted as one batch each. A window function sends a value to
a side output with ``context.output(tag, value)`` or, as in PyFlink, by yielding ``(tag, value)``.

Source of the semantics: Flink ``WindowOperator``, ``EvictingWindowOperator``, ``MergingWindowSet`` and the
documentation section "Windows" (Allowed Lateness, Getting late data as a side output, Window Functions).
"""

from __future__ import annotations

import os
import types
from collections.abc import Callable
from typing import Any, Optional

from yflink.datastream.functions import ProcessAllWindowFunction, ProcessWindowFunction
from yflink.datastream.time_domain import TimeDomain
from yflink.datastream.window.assigners import (
    CountSlidingWindowAssigner,
    CountTumblingWindowAssigner,
    MergingWindowAssigner,
    SlidingEventTimeWindows,
    TumblingEventTimeWindows,
    WindowAssigner,
)
from yflink.datastream.window.evictors import Evictor, TimestampedValue
from yflink.datastream.window.triggers import CountTrigger, EventTimeTrigger, Trigger, TriggerResult
from yflink.datastream.window.windows import TimeWindow
from yflink.state.backends import create_keyed_state_backend
from yflink.streaming.operators.base import StreamOperator
from yflink.streaming.operators.merging_window_set import add_window, retire_window
from yflink.streaming.operators.process_base import emit_results
from yflink.streaming.operators.state_handling import ensure_initialized
from yflink.streaming.operators.timers import InternalTimerService, clock_of
from yflink.streaming.operators.udf import (
    MAX_WATERMARK,
    MIN_WATERMARK,
    StreamingRuntimeContext,
    UserFunctionError,
    as_callable,
)
from yflink.streaming.operators.window_functions import AGGREGATE, MISSING, REDUCE, WindowFunctionRunner
from yflink.streaming.operators.window_state import WindowStateRegistry, WindowStateStore

#: State table names (PyFlink's window state is named ``window-contents``).
WINDOW_CONTENTS = "window-contents"
MERGING_WINDOW_SET = "merging-window-set"

_EVENT = TimeDomain.EVENT_TIME
_PROCESSING = TimeDomain.PROCESSING_TIME
_FIRE, _PURGE, _FIRE_AND_PURGE = TriggerResult.FIRE, TriggerResult.PURGE, TriggerResult.FIRE_AND_PURGE
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class _TriggerContext(Trigger.OnMergeContext):
    """The ``ctx`` of trigger methods: timers and state of (current key, ``current_window``)."""

    def __init__(self, op: WindowOperator) -> None:
        self._op = op
        self.current_window: Any = None
        self.merged_windows: list[Any] = []

    def get_current_processing_time(self) -> int:
        return self._op._timers.current_processing_time()

    def get_current_watermark(self) -> int:
        return self._op._timers.watermark

    def register_processing_time_timer(self, time: int) -> None:
        self._op._timers.register(_PROCESSING, self.current_window, time)

    def register_event_time_timer(self, time: int) -> None:
        self._op._timers.register(_EVENT, self.current_window, time)

    def delete_processing_time_timer(self, time: int) -> None:
        self._op._timers.delete(_PROCESSING, self.current_window, time)

    def delete_event_time_timer(self, time: int) -> None:
        self._op._timers.delete(_EVENT, self.current_window, time)

    def get_partitioned_state(self, state_descriptor: Any) -> Any:
        return self._op._window_states.handle(state_descriptor, self)

    def merge_partitioned_state(self, state_descriptor: Any) -> None:
        if self.merged_windows:
            handle = self._op._window_states.handle(state_descriptor, self)
            handle.merge_namespaces(self.current_window, self.merged_windows)


class _ProcessContext(ProcessWindowFunction.Context, ProcessAllWindowFunction.Context):
    """The ``context`` of ``ProcessWindowFunction.process`` / ``clear``."""

    def __init__(self, op: WindowOperator) -> None:
        self._op = op
        self.current_window: Any = None
        self._window_state = WindowStateStore(op._window_states, self)

    def window(self) -> Any:
        return self.current_window

    def current_processing_time(self) -> int:
        return self._op._timers.current_processing_time()

    def current_watermark(self) -> int:
        return self._op._timers.watermark

    def window_state(self) -> Any:
        return self._window_state

    def global_state(self) -> Any:
        return self._op.runtime_context

    def output(self, output_tag: Any, value: Any) -> None:
        self._op._side_output(output_tag, value, self.current_window.max_timestamp())


class _AssignerContext(WindowAssigner.WindowAssignerContext):
    def __init__(self, op: WindowOperator) -> None:
        self._op = op

    def get_current_processing_time(self) -> int:
        return self._op._timers.current_processing_time()

    def get_runtime_context(self) -> Any:
        return self._op.runtime_context


class _EvictorContext(Evictor.EvictorContext):
    def __init__(self, op: WindowOperator) -> None:
        self._op = op

    def get_current_processing_time(self) -> int:
        return self._op._timers.current_processing_time()

    def get_current_watermark(self) -> int:
        return self._op._timers.watermark


def _describe_frame(code: types.CodeType) -> str:
    return f"'{code.co_qualname}' ({os.path.basename(code.co_filename)}:{code.co_firstlineno})"


class WindowOperator(StreamOperator):
    """Windows of a keyed stream (``window_all``: of a stream keyed by a constant).

    Args:
        assigner: the WindowAssigner.
        trigger: the Trigger (the assigner's default unless the program set one).
        runner: the contents kind and window function (:class:`WindowFunctionRunner`).
        key_selector: the stream's key selector (a KeySelector or callable).
        allowed_lateness: ms after the end of an event-time window during which late elements still update it.
        late_data_output_tag: the OutputTag of late elements, or None to drop them.
        evictor: an Evictor, or None.

    Attributes:
        num_late_records_dropped: late elements dropped so far (Flink's ``numLateRecordsDropped``).
        batch_mode: set for BATCH execution: watermarks before the final one are ignored (nothing is late, every
            window fires at end of input, as Flink's batch execution has no watermarks), and pending
            processing-time timers fire at end of input.
    """

    is_keyed = True

    def __init__(self, assigner: WindowAssigner[Any, Any], trigger: Trigger[Any, Any], runner: WindowFunctionRunner,
                 key_selector: Any, allowed_lateness: int = 0, late_data_output_tag: Any = None,
                 evictor: Optional[Evictor] = None, name: str = "Window") -> None:
        super().__init__(name)
        if allowed_lateness < 0:
            raise ValueError(f"The allowed lateness cannot be negative, got {allowed_lateness} ms")
        if isinstance(assigner, MergingWindowAssigner) and not trigger.can_merge():
            raise ValueError("A merging window assigner cannot be used with a trigger that does not support "
                             "merging.")
        self.assigner = assigner
        self.trigger = trigger
        self.runner = runner
        self.key_selector = key_selector
        self.allowed_lateness = int(allowed_lateness)
        self.late_data_output_tag = late_data_output_tag
        self.evictor = evictor
        self.batch_mode = False
        self.num_late_records_dropped = 0

    # --- lifecycle --------------------------------------------------------------------------------------
    def open(self) -> None:
        if self.keyed_backend is None:
            self.keyed_backend = create_keyed_state_backend(self.task_info)
        backend = self.keyed_backend
        ensure_initialized(self)
        self._key_fn: Callable[[Any], Any] = as_callable(self.key_selector, "get_key")
        self.runtime_context = StreamingRuntimeContext(self.task_info, backend)
        self._timers = InternalTimerService(backend, clock_of(self), "window")
        self._window_states = WindowStateRegistry(backend)
        self._contents: dict[Any, dict[Any, Any]] = backend.table(WINDOW_CONTENTS, "window-contents")
        self._merging = isinstance(self.assigner, MergingWindowAssigner)
        self._mappings: dict[Any, dict[Any, Any]] = (backend.table(MERGING_WINDOW_SET, "merging-window-set")
                                                     if self._merging else {})
        self._event_time = bool(self.assigner.is_event_time())
        self._lateness = self.allowed_lateness if self._event_time else 0
        self._trigger_ctx = _TriggerContext(self)
        self._process_ctx = _ProcessContext(self)
        self._assigner_ctx = _AssignerContext(self)
        self._evictor_ctx = _EvictorContext(self)
        # A count window that fired can never receive elements again: drop it (Flink keeps it forever).
        trigger = self.trigger
        self._retire_fired = (self.evictor is None and type(trigger) is CountTrigger
                              and isinstance(self.assigner, (CountTumblingWindowAssigner, CountSlidingWindowAssigner))
                              and trigger._window_size == self.assigner.window_size)
        # The common case runs on a specialised path with the same results: aligned event-time windows with
        # the default trigger, no merging, no evictor (see _process_aligned / _on_aligned_timer).
        assigner = self.assigner
        self._aligned = (type(trigger) is EventTimeTrigger and not self._merging and self.evictor is None
                         and type(assigner) in (TumblingEventTimeWindows, SlidingEventTimeWindows))
        if self._aligned:
            self._size: int = assigner.size  # type: ignore[attr-defined]
            self._slide: int = getattr(assigner, "slide", self._size)
            self._offset: int = assigner.offset  # type: ignore[attr-defined]
        self._window_cache: dict[int, TimeWindow] = {}
        self._out: list[Any] = []
        self._out_ts: list[int] = []
        self._late: list[Any] = []
        self._late_ts: list[Any] = []
        self._side: dict[Any, tuple[Any, list[Any], list[int]]] = {}
        self.runner.open(self.runtime_context, self.name)
        self._reduce_only = self.runner.kind == REDUCE and self.runner.window_function is None
        self._clears = isinstance(self.runner.window_function, (ProcessWindowFunction, ProcessAllWindowFunction))

    def close(self) -> None:
        self.runner.close(self.name)

    def _error(self, exc: BaseException) -> UserFunctionError:
        """The failure of user code (assigner, trigger, evictor or function) named after the innermost
        frame outside yflink."""
        if isinstance(exc, UserFunctionError):
            return exc
        described = "of the window"
        tb = exc.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            if not os.path.abspath(code.co_filename).startswith(_PACKAGE_DIR + os.sep):
                described = _describe_frame(code)
            tb = tb.tb_next
        return UserFunctionError(self.name, described, exc)

    # --- records ----------------------------------------------------------------------------------------
    def process_batch(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        timers = self._timers
        if timers.has_timers(_PROCESSING) and not self.batch_mode:
            self._fire_processing_time(timers.current_processing_time())
        key_fn = self._key_fn
        try:
            keys = [key_fn(v) for v in values]
            if self._aligned and timestamps is not None:
                self._process_aligned(values, timestamps, keys)
                return
            element = self._process_element
            if timestamps is None:
                for v, k in zip(values, keys):
                    element(v, None, k)
            else:
                for v, ts, k in zip(values, timestamps, keys):
                    element(v, ts, k)
        except Exception as exc:
            raise self._error(exc) from exc
        finally:
            self._flush()

    def _process_element(self, value: Any, ts: Optional[int], key: Any) -> None:
        timestamp = MIN_WATERMARK if ts is None else ts
        self.keyed_backend.set_current_key(key)
        windows = self.assigner.assign_windows(value, timestamp, self._assigner_ctx)
        skipped = True
        trigger, ctx = self.trigger, self._trigger_ctx
        if self._merging:
            mappings = self._mappings
            mapping = mappings.get(key)
            if mapping is None:
                mapping = {}
            merge = self._merge_function(key)
            for window in windows:
                actual = add_window(self.assigner, mapping, window, merge)
                if self._is_window_late(actual):
                    retire_window(mapping, actual)
                    continue
                skipped = False
                state_window = mapping[actual]
                self._add(key, state_window, value, ts)
                ctx.current_window = actual
                result = trigger.on_element(value, timestamp, actual, ctx)
                if result is _FIRE or result is _FIRE_AND_PURGE:
                    contents = self._get(key, state_window)
                    if contents is not MISSING:
                        self._emit_window(key, actual, state_window, contents)
                if result is _PURGE or result is _FIRE_AND_PURGE:
                    self._clear(key, state_window)
                self._register_cleanup_timer(actual)
            if mapping:
                mappings[key] = mapping
            else:
                mappings.pop(key, None)
        else:
            for window in windows:
                if self._is_window_late(window):
                    continue
                skipped = False
                self._add(key, window, value, ts)
                ctx.current_window = window
                result = trigger.on_element(value, timestamp, window, ctx)
                if result is _FIRE or result is _FIRE_AND_PURGE:
                    contents = self._get(key, window)
                    if contents is not MISSING:
                        self._emit_window(key, window, window, contents)
                    if self._retire_fired:
                        self._clear(key, window)
                        self._window_states.clear_window(key, window)
                        continue
                if result is _PURGE or result is _FIRE_AND_PURGE:
                    self._clear(key, window)
                self._register_cleanup_timer(window)
        if skipped and self._event_time and timestamp + self._lateness <= self._timers.watermark:
            if self.late_data_output_tag is not None:
                self._late.append(value)
                self._late_ts.append(ts)
            else:
                self.num_late_records_dropped += 1

    def _process_aligned(self, values: list[Any], timestamps: list[int], keys: list[Any]) -> None:
        """``_process_element`` for tumbling/sliding event-time windows with EventTimeTrigger: the same steps
        with the assigner, trigger and contents inlined. A window's timers are registered when its contents are
        created (EventTimeTrigger's at max_timestamp unless the watermark passed it, and the cleanup timer):
        while the contents exist those timers are pending or have fired, so later elements need none."""
        size, slide, offset, lateness = self._size, self._slide, self._offset, self._lateness
        watermark = self._timers.watermark
        contents, cache = self._contents, self._window_cache
        register = self._timers.register
        set_key = self.keyed_backend.set_current_key
        runner = self.runner
        kind = runner.kind
        reduce = runner.reduce
        agg = runner.incremental if kind == AGGREGATE else None
        for value, ts, key in zip(values, timestamps, keys):
            set_key(key)
            per_key = contents.get(key)
            if per_key is None:
                per_key = contents[key] = {}
            assigned = False
            last_start = ts - (ts - offset + slide) % slide
            for start in range(last_start, ts - size, -slide):
                max_timestamp = start + size - 1
                cleanup = max_timestamp + lateness
                if cleanup <= watermark:
                    continue  # a late window
                assigned = True
                window = cache.get(start)
                if window is None:
                    window = cache[start] = TimeWindow(start, start + size)
                acc = per_key.get(window, MISSING)
                if acc is MISSING:
                    if kind == REDUCE:
                        acc = value
                    elif agg is not None:
                        acc = agg.add(value, agg.create_accumulator())
                    else:
                        acc = [value]
                    if max_timestamp > watermark:
                        register(_EVENT, window, max_timestamp)
                    if cleanup != max_timestamp and cleanup < MAX_WATERMARK:
                        register(_EVENT, window, cleanup)
                elif kind == REDUCE:
                    acc = reduce(acc, value)
                elif agg is not None:
                    acc = agg.add(value, acc)
                else:
                    acc.append(value)
                per_key[window] = acc
                if max_timestamp <= watermark:  # late, within the allowed lateness: fire at once
                    self._emit_window(key, window, window, acc)
            if not assigned:
                if not per_key:
                    del contents[key]
                if ts + lateness <= watermark:
                    if self.late_data_output_tag is not None:
                        self._late.append(value)
                        self._late_ts.append(ts)
                    else:
                        self.num_late_records_dropped += 1

    def _on_aligned_timer(self, timestamp: int, key: Any, window: Any) -> None:
        """``_on_timer`` for the aligned path: EventTimeTrigger fires at max_timestamp; cleanup drops the
        contents (the trigger's own timer is then gone already)."""
        self.keyed_backend.set_current_key(key)
        per_key = self._contents.get(key)
        max_timestamp = window.end - 1
        if timestamp == max_timestamp and per_key is not None:
            contents = per_key.get(window, MISSING)
            if contents is not MISSING:
                if self._reduce_only:
                    self._out.append(contents)
                    self._out_ts.append(max_timestamp)
                else:
                    self._emit_window(key, window, window, contents)
        if timestamp == min(max_timestamp + self._lateness, MAX_WATERMARK):
            if per_key is not None:
                per_key.pop(window, None)
                if not per_key:
                    del self._contents[key]
            if self._clears:
                self._process_ctx.current_window = window
                self.runner.clear(self._process_ctx)

    def _merge_function(self, key: Any) -> Callable[[Any, list[Any], Any, list[Any]], None]:
        def merge(merge_result: Any, merged_windows: list[Any], state_window: Any,
                  merged_state_windows: list[Any]) -> None:
            if self._event_time and merge_result.max_timestamp() + self._lateness <= self._timers.watermark:
                raise ValueError("The end timestamp of an event-time window cannot become earlier than the current "
                                 f"watermark by merging. Current watermark: {self._timers.watermark} "
                                 f"window: {merge_result}")
            if not self._event_time:
                now = self._timers.current_processing_time()
                if merge_result.max_timestamp() <= now:
                    raise ValueError("The end timestamp of a processing-time window cannot become earlier than the "
                                     f"current processing time by merging. Current processing time: {now} "
                                     f"window: {merge_result}")
            ctx = self._trigger_ctx
            ctx.current_window = merge_result
            ctx.merged_windows = merged_windows
            try:
                self.trigger.on_merge(merge_result, ctx)
            finally:
                ctx.merged_windows = []
            for window in merged_windows:
                ctx.current_window = window
                self.trigger.clear(window, ctx)
                self._delete_cleanup_timer(window)
            self._merge_contents(key, state_window, merged_state_windows)

        return merge

    # --- window contents (namespace: the state window) --------------------------------------------------
    def _get(self, key: Any, namespace: Any) -> Any:
        per_key = self._contents.get(key)
        return MISSING if per_key is None else per_key.get(namespace, MISSING)

    def _add(self, key: Any, namespace: Any, value: Any, ts: Optional[int]) -> None:
        per_key = self._contents.get(key)
        if per_key is None:
            per_key = self._contents[key] = {}
        if self.evictor is not None:
            elements = per_key.get(namespace)
            if elements is None:
                per_key[namespace] = [(value, ts)]
            else:
                elements.append((value, ts))
        else:
            per_key[namespace] = self.runner.add(per_key.get(namespace, MISSING), value)

    def _clear(self, key: Any, namespace: Any) -> None:
        per_key = self._contents.get(key)
        if per_key is not None:
            per_key.pop(namespace, None)
            if not per_key:
                del self._contents[key]

    def _merge_contents(self, key: Any, target: Any, sources: list[Any]) -> None:
        per_key = self._contents.get(key)
        if per_key is None:
            return
        combine = (lambda a, b: a + b) if self.evictor is not None else self.runner.merge
        merged: Any = MISSING
        for source in sources:
            value = per_key.pop(source, MISSING)
            if value is not MISSING:
                merged = value if merged is MISSING else combine(merged, value)
        if merged is not MISSING:
            previous = per_key.get(target, MISSING)
            per_key[target] = merged if previous is MISSING else combine(previous, merged)
        if not per_key:
            del self._contents[key]

    # --- firing -----------------------------------------------------------------------------------------
    def _emit_window(self, key: Any, window: Any, namespace: Any, contents: Any) -> None:
        pctx = self._process_ctx
        pctx.current_window = window
        runner = self.runner
        if self.evictor is None:
            produced = runner.evaluate(key, window, pctx, runner.inputs_of(contents))
        else:
            elements = [TimestampedValue(v, t) for v, t in contents]
            self.evictor.evict_before(elements, len(elements), window, self._evictor_ctx)
            inputs = runner.inputs_of_values([e.get_value() for e in elements])
            produced = None if inputs is None else runner.evaluate(key, window, pctx, inputs)
            if produced is not None:
                produced = list(produced)  # evaluate before evict_after
            self.evictor.evict_after(elements, len(elements), window, self._evictor_ctx)
            if elements:
                self._contents[key][namespace] = [
                    (e.get_value(), e.get_timestamp() if e.has_timestamp() else None) for e in elements]
            else:
                self._clear(key, namespace)
        if produced is not None:
            out = self._out
            before = len(out)
            out.extend(produced)
            added = len(out) - before
            if added:
                self._out_ts.extend([window.max_timestamp()] * added)

    def _cleanup_time(self, window: Any) -> int:
        max_timestamp: int = window.max_timestamp()
        return min(max_timestamp + self._lateness, MAX_WATERMARK) if self._event_time else max_timestamp

    def _is_window_late(self, window: Any) -> bool:
        return self._event_time and self._cleanup_time(window) <= self._timers.watermark

    def _register_cleanup_timer(self, window: Any) -> None:
        cleanup = self._cleanup_time(window)
        if cleanup != MAX_WATERMARK:
            self._timers.register(_EVENT if self._event_time else _PROCESSING, window, cleanup)

    def _delete_cleanup_timer(self, window: Any) -> None:
        cleanup = self._cleanup_time(window)
        if cleanup != MAX_WATERMARK:
            self._timers.delete(_EVENT if self._event_time else _PROCESSING, window, cleanup)

    def _on_timer(self, domain: TimeDomain, timestamp: int, key: Any, window: Any) -> None:
        self.keyed_backend.set_current_key(key)
        ctx = self._trigger_ctx
        ctx.current_window = window
        mapping: Optional[dict[Any, Any]] = None
        if self._merging:
            mapping = self._mappings.get(key)
            state_window = None if mapping is None else mapping.get(window)
            if state_window is None:
                return  # a timer of a window that was merged away and whose trigger left its timer behind
        else:
            state_window = window
        if domain is _EVENT:
            result = self.trigger.on_event_time(timestamp, window, ctx)
        else:
            result = self.trigger.on_processing_time(timestamp, window, ctx)
        if result is _FIRE or result is _FIRE_AND_PURGE:
            contents = self._get(key, state_window)
            if contents is not MISSING:
                self._emit_window(key, window, state_window, contents)
        if result is _PURGE or result is _FIRE_AND_PURGE:
            self._clear(key, state_window)
        if (domain is _EVENT) == self._event_time and timestamp == self._cleanup_time(window):
            self._clear_all_state(key, window, state_window, mapping)
        if mapping is not None and not mapping:
            self._mappings.pop(key, None)

    def _clear_all_state(self, key: Any, window: Any, state_window: Any, mapping: Optional[dict[Any, Any]]) -> None:
        self._clear(key, state_window)
        self._trigger_ctx.current_window = window
        self.trigger.clear(window, self._trigger_ctx)
        self._process_ctx.current_window = window
        self.runner.clear(self._process_ctx)
        if mapping is not None:
            retire_window(mapping, window)

    def _fire(self, domain: TimeDomain, time_ms: int) -> None:
        pop_due = self._timers.pop_due
        if self._aligned and domain is _EVENT:
            on_aligned_timer = self._on_aligned_timer
            while True:
                due = pop_due(domain, time_ms)
                if due is None:
                    return
                on_aligned_timer(*due)
        on_timer = self._on_timer
        while True:
            due = pop_due(domain, time_ms)
            if due is None:
                return
            on_timer(domain, *due)

    def _fire_processing_time(self, now_ms: int) -> None:
        try:
            self._fire(_PROCESSING, now_ms)
        except Exception as exc:
            raise self._error(exc) from exc

    def next_processing_time(self) -> Optional[int]:
        """When the earliest processing-time timer is due (ms), or None: when the runtime should call back."""
        return self._timers.next_processing_time()

    def on_processing_time(self, now_ms: int) -> None:
        """Fire the processing-time timers due at ``now_ms`` and emit what they produce (not in BATCH mode, where
        they fire at end of input)."""
        if self.batch_mode:
            return
        try:
            self._fire_processing_time(now_ms)
        finally:
            self._flush()

    def process_watermark(self, watermark: int) -> None:
        if self.batch_mode and watermark < MAX_WATERMARK:
            return  # BATCH execution: event time is unknown until the end, so nothing is late
        timers = self._timers
        try:
            if timers.has_timers(_PROCESSING):
                self._fire_processing_time(timers.current_processing_time())
            timers.watermark = watermark
            try:
                self._fire(_EVENT, watermark)
            except Exception as exc:
                raise self._error(exc) from exc
        finally:
            self._flush()
        cache = self._window_cache
        if cache:  # forget windows no element can reach any more
            horizon = watermark - self._size + 1 - self._lateness
            for start in [s for s in cache if s <= horizon]:
                del cache[start]
        self.output.emit_watermark(watermark)

    def end_input(self) -> None:
        """Event time ends: every event-time window fires and is cleaned up (processing-time windows only in
        BATCH mode)."""
        timers = self._timers
        try:
            if timers.watermark < MAX_WATERMARK:
                timers.watermark = MAX_WATERMARK
                self._fire(_EVENT, MAX_WATERMARK)
            if self.batch_mode:
                self._fire(_PROCESSING, MAX_WATERMARK)
        except Exception as exc:
            raise self._error(exc) from exc
        finally:
            self._flush()

    # --- output -----------------------------------------------------------------------------------------
    def _side_output(self, tag: Any, value: Any, timestamp: int) -> None:
        tag_id = getattr(tag, "tag_id", tag)
        entry = self._side.get(tag_id)
        if entry is None:
            entry = self._side[tag_id] = (tag, [], [])
        entry[1].append(value)
        entry[2].append(timestamp)

    def _flush(self) -> None:
        if self._out:
            values, timestamps = self._out, self._out_ts
            self._out, self._out_ts = [], []
            emit_results(self.output, values, timestamps)  # yielded (OutputTag, value) pairs: side outputs
        if self._late:
            values, late_ts = self._late, self._late_ts
            self._late, self._late_ts = [], []
            self.output.emit_side(self.late_data_output_tag, values, late_ts)
        if self._side:
            side, self._side = self._side, {}
            for tag, values, timestamps in side.values():
                self.output.emit_side(tag, values, timestamps)


__all__ = ["MERGING_WINDOW_SET", "WINDOW_CONTENTS", "WindowOperator"]
