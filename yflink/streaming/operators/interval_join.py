"""Interval join of two keyed streams (Flink ``IntervalJoinOperator``).

``left.key_by(k).interval_join(right.key_by(k)).between(lower, upper).process(ProcessJoinFunction)`` joins
every left element ``l`` with every right element ``r`` of the same key such that
``l.ts + lower <= r.ts <= l.ts + upper`` (bounds inclusive unless made exclusive, which moves them by 1 ms).
Each pair is passed to ``process_element(left, right, ctx)``; its outputs carry the pair's timestamp, the
larger of the two.

Both sides are buffered in keyed map state by timestamp. An element arriving with a timestamp below the
current watermark is late: it is dropped, or emitted to the side output set with
``side_output_left_late_data``/``side_output_right_late_data``. Buffered elements are removed by an
event-time cleanup timer once the watermark guarantees no further partner can arrive: left elements at
``ts + upper`` (``ts`` when ``upper <= 0``), right elements at ``ts - lower`` (``ts`` when ``lower >= 0``).
Elements need timestamps (an event-time join).

Source of the semantics: Flink ``IntervalJoinOperator``, ``KeyedStream.IntervalJoin`` and the documentation
section "Joining" (Interval Join).
"""

from __future__ import annotations

from typing import Any, Optional

from yflink.datastream.time_domain import TimeDomain
from yflink.datastream.two_input_functions import ProcessJoinFunction
from yflink.streaming.operators.co import TwoInputProcessOperator
from yflink.streaming.operators.process_base import emit_results
from yflink.streaming.operators.timers import MIN_WATERMARK
from yflink.streaming.operators.udf import user_error

LEFT_BUFFER = "LEFT_BUFFER"
RIGHT_BUFFER = "RIGHT_BUFFER"
CLEANUP_LEFT = "CLEANUP_LEFT"
CLEANUP_RIGHT = "CLEANUP_RIGHT"


class _JoinContext(ProcessJoinFunction.Context):
    __slots__ = ("_left_ts", "_operator", "_right_ts", "_ts")

    def __init__(self, operator: IntervalJoinOperator) -> None:
        self._operator = operator
        self._left_ts = self._right_ts = self._ts = 0

    def get_left_timestamp(self) -> int:
        return self._left_ts

    def get_right_timestamp(self) -> int:
        return self._right_ts

    def get_timestamp(self) -> int:
        return self._ts

    def output(self, output_tag: Any, value: Any) -> None:
        self._operator.output.emit_side(output_tag, [value], [self._ts])


class IntervalJoinOperator(TwoInputProcessOperator):
    """Joins keyed input 1 (left) with keyed input 2 (right) within a time interval.

    Args:
        function: a ProcessJoinFunction (or a callable ``(left, right, ctx)`` yielding outputs).
        lower_bound, upper_bound: the interval relative to the left element's timestamp, ms.
        lower_inclusive, upper_inclusive: whether the bounds belong to the interval.
        key_selector1, key_selector2: the inputs' key selectors.
        left_late_tag, right_late_tag: OutputTags for late elements of each side, or None (drop them).

    Raises:
        ValueError: ``lower_bound > upper_bound``.
    """

    methods = ("process_element", "process_element")
    is_keyed = True

    def __init__(self, function: Any, lower_bound: int, upper_bound: int, key_selector1: Any, key_selector2: Any,
                 lower_inclusive: bool = True, upper_inclusive: bool = True, left_late_tag: Any = None,
                 right_late_tag: Any = None, name: str = "Interval Join") -> None:
        if lower_bound > upper_bound:
            raise ValueError(f"lowerBound <= upperBound must be fulfilled, got {lower_bound} > {upper_bound}")
        super().__init__(function, name, key_selector1, key_selector2)
        self.lower_bound = lower_bound if lower_inclusive else lower_bound + 1
        self.upper_bound = upper_bound if upper_inclusive else upper_bound - 1
        self.left_late_tag = left_late_tag
        self.right_late_tag = right_late_tag

    def open(self) -> None:
        super().open()
        backend = self.keyed_backend
        self._left = backend.table(LEFT_BUFFER, "map")  # {key: {timestamp: [[element, joined], ...]}}
        self._right = backend.table(RIGHT_BUFFER, "map")
        self._join_ctx = _JoinContext(self)
        self._join_fn = self._fns[0]

    def _process_records(self, input_index: int, values: list[Any], timestamps: Optional[list[int]],
                         keys: Optional[list[Any]]) -> None:
        if timestamps is None or keys is None:
            raise RuntimeError(f"'{self.name}': elements of an interval join need timestamps (assign them with a "
                               "WatermarkStrategy); this element has none")
        left = input_index == 0
        ours, others = (self._left, self._right) if left else (self._right, self._left)
        low, high = (self.lower_bound, self.upper_bound) if left else (-self.upper_bound, -self.lower_bound)
        late_tag = self.left_late_tag if left else self.right_late_tag
        timers = self.timers
        assert timers is not None
        set_key = self.keyed_backend.set_current_key
        out: list[Any] = []
        out_ts: list[int] = []
        for value, ts, key in zip(values, timestamps, keys, strict=True):
            if ts is None or ts == MIN_WATERMARK:
                raise RuntimeError(f"'{self.name}': elements of an interval join need meaningful timestamps")
            watermark = timers.watermark
            if watermark != MIN_WATERMARK and ts < watermark:
                if late_tag is not None:
                    self.output.emit_side(late_tag, [value], [ts])
                continue
            set_key(key)
            ours.setdefault(key, {}).setdefault(ts, []).append([value, False])
            buckets = others.get(key)
            if buckets:
                for other_ts, entries in list(buckets.items()):
                    if other_ts < ts + low or other_ts > ts + high:
                        continue
                    for entry in entries:
                        entry[1] = True
                        if left:
                            self._collect(value, entry[0], ts, other_ts, out, out_ts)
                        else:
                            self._collect(entry[0], value, other_ts, ts, out, out_ts)
            if left:
                timers.register(TimeDomain.EVENT_TIME, CLEANUP_LEFT, ts + high if high > 0 else ts)
            else:
                timers.register(TimeDomain.EVENT_TIME, CLEANUP_RIGHT, ts + high if high > 0 else ts)
        emit_results(self.output, out, out_ts)

    def _collect(self, left: Any, right: Any, left_ts: int, right_ts: int, out: list[Any], out_ts: list[int]) -> None:
        ctx = self._join_ctx
        ts = left_ts if left_ts > right_ts else right_ts
        ctx._left_ts, ctx._right_ts, ctx._ts = left_ts, right_ts, ts
        try:
            produced = self._join_fn(left, right, ctx)
        except Exception as exc:
            raise user_error(self.name, self._join_fn, exc) from exc
        if produced is not None:
            before = len(out)
            out.extend(produced)
            out_ts += [ts] * (len(out) - before)

    def _on_timer(self, domain: TimeDomain, timestamp: int, key: Any, namespace: Any) -> None:
        """A cleanup timer: the buffered elements of that timestamp can find no further partner."""
        if namespace == CLEANUP_LEFT:
            table, ts = self._left, timestamp if self.upper_bound <= 0 else timestamp - self.upper_bound
        else:
            table, ts = self._right, timestamp + self.lower_bound if self.lower_bound <= 0 else timestamp
        buckets = table.get(key)
        if buckets is not None:
            buckets.pop(ts, None)
            if not buckets:
                del table[key]
