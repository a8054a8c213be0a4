"""Two-input operators of connected streams: co-map, co-flat-map, co-process and keyed co-process.

The runtime calls ``process_batch1``/``process_batch2`` with the records of each input and
``process_watermark1``/``process_watermark2`` with each input's watermark; the operator's event time is the
minimum of the two (idle inputs excluded) and is forwarded when it advances. On keyed connected streams
(``connect(...).key_by(ks1, ks2)`` or two KeyedStreams) both inputs share the keyed state of a key, and the
keyed co-process function has timers.

Source of the semantics: Flink ``CoStreamMap``, ``CoStreamFlatMap``, ``CoProcessOperator``,
``KeyedCoProcessOperator``, ``AbstractStreamOperator.processWatermark1/2`` and the documentation sections
"Operators" (Connect, CoMap, CoFlatMap) and "Process Function" (Low-level Joins).
"""

from __future__ import annotations

from typing import Any, Optional

from yflink.datastream.two_input_functions import CoProcessFunction, KeyedCoProcessFunction
from yflink.streaming.operators.process_base import AbstractProcessOperator, BaseContext, emit_results
from yflink.streaming.operators.udf import user_error


class TwoInputProcessOperator(AbstractProcessOperator):
    """Base of two-input operators: routes each input to the function's method for it.

    Args:
        function: the user function.
        name: the operator's name.
        key_selector1, key_selector2: the inputs' key selectors (both None: not keyed).
    """

    methods: tuple[str, ...] = ("process_element1", "process_element2")
    broadcast_inputs: tuple[bool, ...] = (False, False)

    def __init__(self, function: Any, name: str, key_selector1: Any = None, key_selector2: Any = None) -> None:
        super().__init__(function, name, (key_selector1, key_selector2))

    def process_batch1(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        self._process(0, values, timestamps)

    def process_batch2(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        self._process(1, values, timestamps)

    def process_watermark1(self, watermark: int) -> None:
        self._watermark(0, watermark)

    def process_watermark2(self, watermark: int) -> None:
        self._watermark(1, watermark)

    def process_watermark_status1(self, idle: bool) -> None:
        self._watermark_status(0, idle)

    def process_watermark_status2(self, idle: bool) -> None:
        self._watermark_status(1, idle)

    def process_batch(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        raise TypeError(f"{type(self).__name__} has two inputs: the runtime calls process_batch1/process_batch2")

    def process_watermark(self, watermark: int) -> None:
        raise TypeError(f"{type(self).__name__} has two inputs: the runtime calls process_watermark1/2")


class CoStreamMap(TwoInputProcessOperator):
    """``ConnectedStreams.map(CoMapFunction)``: ``map1``/``map2`` return one output each (None: none, as in
    PyFlink)."""

    methods = ("map1", "map2")

    def __init__(self, function: Any, name: str = "Co-Map", key_selector1: Any = None,
                 key_selector2: Any = None) -> None:
        super().__init__(function, name, key_selector1, key_selector2)

    def _process_records(self, input_index: int, values: list[Any], timestamps: Optional[list[int]],
                         keys: Optional[list[Any]]) -> None:
        fn = self._fns[input_index]
        try:
            if keys is None:
                results = [fn(v) for v in values]
            else:
                set_key = self.keyed_backend.set_current_key
                results = []
                for k, v in zip(keys, values, strict=True):
                    set_key(k)
                    results.append(fn(v))
        except Exception as exc:
            raise user_error(self.name, fn, exc) from exc
        if any(r is None for r in results):
            keep = [r is not None for r in results]
            results = [r for r in results if r is not None]
            if timestamps is not None:
                timestamps = [t for t, k in zip(timestamps, keep, strict=True) if k]
        emit_results(self.output, results, timestamps)


class CoStreamFlatMap(TwoInputProcessOperator):
    """``ConnectedStreams.flat_map(CoFlatMapFunction)``: ``flat_map1``/``flat_map2`` yield the outputs."""

    methods = ("flat_map1", "flat_map2")

    def __init__(self, function: Any, name: str = "Co-Flat Map", key_selector1: Any = None,
                 key_selector2: Any = None) -> None:
        super().__init__(function, name, key_selector1, key_selector2)

    def _process_records(self, input_index: int, values: list[Any], timestamps: Optional[list[int]],
                         keys: Optional[list[Any]]) -> None:
        fn = self._fns[input_index]
        out: list[Any] = []
        out_ts: Optional[list[int]] = [] if timestamps is not None else None
        set_key = self.keyed_backend.set_current_key if keys is not None else None
        try:
            for i, v in enumerate(values):
                if set_key is not None and keys is not None:
                    set_key(keys[i])
                produced = fn(v)
                if produced is None:
                    continue
                before = len(out)
                out.extend(produced)
                if out_ts is not None and timestamps is not None:
                    out_ts += [timestamps[i]] * (len(out) - before)
        except Exception as exc:
            raise user_error(self.name, fn, exc) from exc
        emit_results(self.output, out, out_ts)


class _CoProcessContext(BaseContext, CoProcessFunction.Context):
    __slots__ = ()


class _KeyedCoProcessContext(BaseContext, KeyedCoProcessFunction.OnTimerContext):
    __slots__ = ()


class CoProcessOperator(TwoInputProcessOperator):
    """``ConnectedStreams.process(CoProcessFunction)`` on non-keyed streams: time, no timers."""

    def __init__(self, function: Any, name: str = "Co-Process") -> None:
        super().__init__(function, name)

    def _make_context(self, input_index: int) -> BaseContext:
        return _CoProcessContext(self, self.timer_service)


class KeyedCoProcessOperator(TwoInputProcessOperator):
    """``ConnectedStreams.process(KeyedCoProcessFunction)`` on keyed streams: shared keyed state and timers."""

    is_keyed = True

    def __init__(self, function: Any, key_selector1: Any, key_selector2: Any,
                 name: str = "Keyed Co-Process") -> None:
        super().__init__(function, name, key_selector1, key_selector2)

    def _make_context(self, input_index: int) -> BaseContext:
        return _KeyedCoProcessContext(self, self.timer_service)

    def _make_timer_context(self) -> BaseContext:
        return _KeyedCoProcessContext(self, self.timer_service)
