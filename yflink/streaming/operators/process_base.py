"""What every process-function operator shares: contexts, side outputs, timers and BATCH execution.

Operators built on :class:`AbstractProcessOperator` (``process`` on a DataStream or KeyedStream, connected
streams, broadcast process functions, the interval join) call a user function per record with a context, and
emit what the function yields. Outputs keep the record's timestamp (a timer's outputs carry the timer's
timestamp in event time, none in processing time).

Side outputs, two ways: ``ctx.output(tag, value)`` (Flink's Java API) or, as PyFlink does, yielding a pair
``(output_tag, value)``; both go to ``Output.emit_side``.

Keyed operators own an :class:`~yflink.streaming.operators.timers.InternalTimerService`; a watermark first
fires the event-time timers it passes, then goes downstream. A two-input operator's event time is the minimum
of its inputs' watermarks (idle inputs excluded), as Flink's ``AbstractStreamOperator`` combines them.

BATCH execution (``batch_mode``, set when the job is built): keyed input is buffered, grouped by key and
processed key by key, each key's records in timestamp order with the watermark at -infinity; when a key is
done all its timers fire (watermark +infinity) and its state is discarded. Broadcast input is processed first,
non-keyed input next, keyed input last. Watermarks from upstream are dropped; the operator emits the final
+infinity watermark after its output.

Source of the semantics: Flink ``ProcessOperator``, ``KeyedProcessOperator``, ``AbstractStreamOperator``
(``processWatermark1/2``), the documentation sections "Process Function", "Side Outputs" and "Execution Mode
(Batch/Streaming)" (Order of Processing, Event Time / Watermarks, Processing Time).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional

from yflink.datastream.output_tag import OutputTag
from yflink.datastream.time_domain import TimeDomain
from yflink.datastream.timerservice import TimerService
from yflink.state.key_groups import fast_key_selector
from yflink.streaming.operators.simple import UdfOperator
from yflink.streaming.operators.timers import (
    MAX_WATERMARK,
    MIN_WATERMARK,
    InternalTimerService,
    NonKeyedTimerService,
    UserTimerService,
    clock_of,
)
from yflink.streaming.operators.udf import as_callable, user_error

Emit = Callable[[list[Any], Optional[list[int]]], None]


class BaseContext:
    """Fields every context has; the operator fills them before each call. Contexts are valid only during it."""

    __slots__ = ("_domain", "_key", "_operator", "_timer_service", "_timestamp")

    def __init__(self, operator: AbstractProcessOperator, timer_service: TimerService) -> None:
        self._operator = operator
        self._timer_service = timer_service
        self._timestamp: Optional[int] = None
        self._key: Any = None
        self._domain = TimeDomain.EVENT_TIME

    def timestamp(self) -> Optional[int]:
        """The element's timestamp, or the firing timer's (ms); None when the element has none."""
        return self._timestamp

    def timer_service(self) -> TimerService:
        return self._timer_service

    def current_processing_time(self) -> int:
        return self._timer_service.current_processing_time()

    def current_watermark(self) -> int:
        return self._timer_service.current_watermark()

    def get_current_key(self) -> Any:
        return self._key

    def time_domain(self) -> TimeDomain:
        return self._domain

    def output(self, output_tag: OutputTag, value: Any) -> None:
        """Emit ``value`` to the side output ``output_tag`` with the current timestamp."""
        if not isinstance(output_tag, OutputTag):
            raise TypeError(f"output() expects an OutputTag, got {type(output_tag).__name__}")
        ts = self._timestamp
        self._operator.output.emit_side(output_tag, [value], None if ts is None else [ts])


def _is_side(item: Any) -> bool:
    return type(item) is tuple and len(item) == 2 and isinstance(item[0], OutputTag)


def emit_results(output: Any, out: list[Any], out_ts: Optional[list[int]]) -> None:
    """Emit ``out`` on the main output, except ``(OutputTag, value)`` pairs, which go to their side output."""
    if not out:
        return
    for item in out:  # the common case, no side output: one cheap pass
        if type(item) is tuple and len(item) == 2 and isinstance(item[0], OutputTag):
            break
    else:
        output.emit(out, out_ts)
        return
    main: list[Any] = []
    main_ts: Optional[list[int]] = [] if out_ts is not None else None
    sides: dict[OutputTag, tuple[list[Any], Optional[list[int]]]] = {}
    for i, item in enumerate(out):
        if _is_side(item):
            values, ts = sides.setdefault(item[0], ([], [] if out_ts is not None else None))
            values.append(item[1])
            if ts is not None and out_ts is not None:
                ts.append(out_ts[i])
        else:
            main.append(item)
            if main_ts is not None and out_ts is not None:
                main_ts.append(out_ts[i])
    if main:
        output.emit(main, main_ts)
    for tag, (values, ts) in sides.items():
        output.emit_side(tag, values, ts)


def run_function(function: Callable[[Any, Any], Any], values: list[Any], timestamps: Optional[list[int]],
                 ctx: BaseContext, set_key: Optional[Callable[[Any], None]], keys: Optional[list[Any]]) \
        -> tuple[list[Any], Optional[list[int]]]:
    """Call ``function(value, ctx)`` per record (setting the key first when ``keys`` is given) and collect the
    outputs with the record's timestamp."""
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


class AbstractProcessOperator(UdfOperator):
    """Base of the process-function operators (one or two inputs, keyed or not).

    Args:
        function: the user function.
        name: the operator's name.
        key_selectors: one per input, None for a non-keyed input (a KeySelector or callable).

    Subclasses set ``methods`` (the function's per-input method names) and implement :meth:`_on_timer` when
    they have timers; :meth:`_make_context` builds the per-input contexts.
    """

    #: the function's method per input (index 0 for input 1).
    methods: tuple[str, ...] = ("process_element",)
    #: per input: True when it is a broadcast input (processed first in BATCH execution).
    broadcast_inputs: tuple[bool, ...] = (False,)

    def __init__(self, function: Any, name: str, key_selectors: tuple[Any, ...] = (None,)) -> None:
        super().__init__(function, name)
        self.key_selectors = key_selectors
        if any(k is not None for k in key_selectors):
            self.is_keyed = True
        self.batch_mode = False

    # --- lifecycle --------------------------------------------------------------------------------------
    def open(self) -> None:
        super().open()
        self.processing_time = clock_of(self)
        self._user_key_fns = [as_callable(k, "get_key") if k is not None else None for k in self.key_selectors]
        self._key_fns = [fast_key_selector(k) if k is not None else None for k in self._user_key_fns]
        self._fns = [as_callable(self.function, m) for m in self.methods]
        self.timers: Optional[InternalTimerService] = None
        self.timer_service: TimerService
        if self.keyed_backend is not None:
            self.keyed_backend.ttl_time_provider = self.processing_time.now
            self.timers = InternalTimerService(self.keyed_backend, self.processing_time)
            self.timer_service = UserTimerService(self.timers)
        else:
            self.timer_service = NonKeyedTimerService(self.processing_time)
        n = len(self.methods)
        self._input_watermarks = [MIN_WATERMARK] * n
        self._input_idle = [False] * n
        self._combined_watermark = MIN_WATERMARK
        self._contexts = [self._make_context(i) for i in range(n)]
        self._timer_ctx = self._make_timer_context()
        on_timer = getattr(self.function, "on_timer", None)
        self._on_timer_fn = on_timer if callable(on_timer) else None
        self._buffer: list[tuple[int, Any, Optional[int], Any]] = []  # BATCH: (input, key, timestamp, value)

    def _make_context(self, input_index: int) -> BaseContext:
        return BaseContext(self, self.timer_service)

    def _make_timer_context(self) -> BaseContext:
        return BaseContext(self, self.timer_service)

    # --- records ----------------------------------------------------------------------------------------
    def _input_keys(self, input_index: int, values: list[Any]) -> Optional[list[Any]]:
        key_fn = self._key_fns[input_index]
        if key_fn is None:
            return None
        try:
            return list(map(key_fn, values))
        except Exception as exc:
            raise user_error(self.name, self._user_key_fns[input_index], exc) from exc

    def _process(self, input_index: int, values: list[Any], timestamps: Optional[list[int]]) -> None:
        if self.batch_mode and (self._key_fns[input_index] is not None or self._defers_in_batch(input_index)):
            self._buffer_batch(input_index, values, timestamps)
            return
        timers = self.timers
        if timers is not None and timers.has_timers(TimeDomain.PROCESSING_TIME) and not self.batch_mode:
            self.on_processing_time(timers.current_processing_time())
        self._process_records(input_index, values, timestamps, self._input_keys(input_index, values))

    def _process_records(self, input_index: int, values: list[Any], timestamps: Optional[list[int]],
                         keys: Optional[list[Any]]) -> None:
        """Run the input's function over the records (keys already extracted) and emit the results."""
        fn = self._fns[input_index]
        set_key = self.keyed_backend.set_current_key if keys is not None else None
        try:
            out, out_ts = run_function(fn, values, timestamps, self._contexts[input_index], set_key, keys)
        except Exception as exc:
            raise user_error(self.name, fn, exc) from exc
        emit_results(self.output, out, out_ts)

    # --- time -------------------------------------------------------------------------------------------
    def _watermark(self, input_index: int, watermark: int) -> None:
        """Input ``input_index`` reached ``watermark``: advance the operator's event time to the minimum over
        the active inputs."""
        if self.batch_mode:
            return
        self._input_watermarks[input_index] = watermark
        self._advance_combined()

    def _advance_combined(self) -> None:
        active = [w for w, idle in zip(self._input_watermarks, self._input_idle, strict=True) if not idle]
        combined = min(active) if active else self._combined_watermark
        if combined > self._combined_watermark:
            self._combined_watermark = combined
            self.advance_watermark(combined)
            self.output.emit_watermark(combined)

    def _watermark_status(self, input_index: int, idle: bool) -> None:
        was_idle = all(self._input_idle)
        self._input_idle[input_index] = idle
        now_idle = all(self._input_idle)
        if not self.batch_mode:
            self._advance_combined()  # an idle input no longer holds the others back
        if now_idle != was_idle:
            emit = getattr(self.output, "emit_watermark_status", None)
            if emit is not None:
                emit(now_idle)

    def advance_watermark(self, watermark: int) -> None:
        """Set the event time and fire the event-time timers it reached."""
        if self.timers is not None:
            if self.timers.has_timers(TimeDomain.PROCESSING_TIME):
                self.on_processing_time(self.timers.current_processing_time())
            self.timers.watermark = watermark
            self._fire(TimeDomain.EVENT_TIME, watermark)
        else:
            self.timer_service.watermark = watermark  # type: ignore[attr-defined]

    def on_processing_time(self, now_ms: int) -> None:
        """Fire the processing-time timers due at ``now_ms`` (called by the runtime, a test, or before input)."""
        if self.timers is not None and not self.batch_mode:
            self._fire(TimeDomain.PROCESSING_TIME, now_ms)

    def next_processing_time(self) -> Optional[int]:
        """When the earliest processing-time timer is due (ms), or None."""
        return self.timers.next_processing_time() if self.timers is not None else None

    def _fire(self, domain: TimeDomain, time_ms: int) -> None:
        timers = self.timers
        assert timers is not None
        set_key = self.keyed_backend.set_current_key
        while True:
            due = timers.pop_due(domain, time_ms)
            if due is None:
                return
            timestamp, key, namespace = due
            set_key(key)
            self._on_timer(domain, timestamp, key, namespace)

    def _on_timer(self, domain: TimeDomain, timestamp: int, key: Any, namespace: Any) -> None:
        """A timer fired (the current key is set): call the function's ``on_timer`` and emit its outputs."""
        on_timer = self._on_timer_fn
        if on_timer is None:
            return
        ctx = self._timer_ctx
        ctx._domain = domain
        ctx._key = key
        ctx._timestamp = timestamp  # Flink: the timer's time in both domains; processing-time outputs carry none
        try:
            produced = on_timer(timestamp, ctx)
            out = list(produced) if produced is not None else []
        except Exception as exc:
            raise user_error(self.name, on_timer, exc) from exc
        emit_results(self.output, out, [timestamp] * len(out) if domain is TimeDomain.EVENT_TIME else None)

    # --- end of input and BATCH execution ---------------------------------------------------------------
    def _defers_in_batch(self, input_index: int) -> bool:
        """In BATCH execution, is a non-keyed input held back until the end (because a broadcast input goes
        first)? Keyed inputs always are."""
        return any(self.broadcast_inputs) and not self.broadcast_inputs[input_index]

    def _buffer_batch(self, input_index: int, values: list[Any], timestamps: Optional[list[int]]) -> None:
        keys = self._input_keys(input_index, values)
        ts = timestamps if timestamps is not None else [None] * len(values)
        ks = keys if keys is not None else [None] * len(values)
        self._buffer.extend(zip([input_index] * len(values), ks, ts, values, strict=True))

    def end_input(self) -> None:
        if self.batch_mode:
            self._end_batch()
        elif self.timers is not None and self.timers.has_timers(TimeDomain.EVENT_TIME):
            # a bounded input ends with Flink's final MAX_WATERMARK: every event-time timer fires
            self.timers.watermark = MAX_WATERMARK
            self._fire(TimeDomain.EVENT_TIME, MAX_WATERMARK)

    def _end_batch(self) -> None:
        buffered, self._buffer = self._buffer, []
        non_keyed = [r for r in buffered if self._key_fns[r[0]] is None]
        for input_index, _, ts, value in non_keyed:  # arrival order; broadcast input was not buffered
            self._process_records(input_index, [value], None if ts is None else [ts], None)
        by_key: dict[Any, list[tuple[int, int, Optional[int], Any]]] = {}
        for seq, (input_index, key, ts, value) in enumerate(buffered):
            if self._key_fns[input_index] is not None:
                by_key.setdefault(key, []).append((seq, input_index, ts, value))
        timers = self.timers
        for key, records in by_key.items():
            records.sort(key=lambda r: (MIN_WATERMARK if r[2] is None else r[2], r[0]))
            if timers is not None:
                timers.watermark = MIN_WATERMARK
            for _, input_index, ts, value in records:
                self._process_records(input_index, [value], None if ts is None else [ts], [key])
            self._finish_key(key)
        self.output.emit_watermark(MAX_WATERMARK)

    def _finish_key(self, key: Any) -> None:
        """BATCH execution: the key is done; fire its timers (quiesced) and discard its state."""
        timers = self.timers
        if timers is None:
            return
        self.keyed_backend.set_current_key(key)
        timers.watermark = MAX_WATERMARK
        timers.quiesced = True
        try:
            self._fire(TimeDomain.EVENT_TIME, MAX_WATERMARK)
            self._fire(TimeDomain.PROCESSING_TIME, MAX_WATERMARK)
        finally:
            timers.quiesced = False
            timers.watermark = MIN_WATERMARK
        self.keyed_backend.clear_key(key)
