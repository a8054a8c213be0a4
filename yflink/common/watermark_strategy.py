"""WatermarkStrategy and TimestampAssigner (PyFlink ``pyflink.common.watermark_strategy``).

A strategy names how event time advances: ``for_monotonous_timestamps()`` (watermark = highest timestamp
seen - 1 ms), ``for_bounded_out_of_orderness(d)`` (highest timestamp - d - 1 ms), ``no_watermarks()``;
``with_timestamp_assigner`` says where a record's timestamp comes from and ``with_idleness`` when a quiet
input stops holding the watermark back. The strategy is plain data; the operator behind
``DataStream.assign_timestamps_and_watermarks`` acts on it.

Source of the semantics: Flink ``WatermarkStrategy``, ``BoundedOutOfOrdernessWatermarks`` and the
documentation section "Generating Watermarks".
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, Optional, Union

from yflink.common.time import Duration

__all__ = ["TimestampAssigner", "WatermarkStrategy"]


class TimestampAssigner(abc.ABC):
    """Assigns event-time timestamps (ms since the epoch) to elements (PyFlink ``TimestampAssigner``)."""

    @abc.abstractmethod
    def extract_timestamp(self, value: Any, record_timestamp: int) -> int:
        """The timestamp of ``value`` in ms since the epoch.

        Args:
            value: the element.
            record_timestamp: the element's current timestamp, or a negative value (Java's Long.MIN_VALUE)
                when it has none.
        """


class _CallableTimestampAssigner(TimestampAssigner):
    def __init__(self, func: Callable[[Any, int], int]) -> None:
        self._func = func

    def extract_timestamp(self, value: Any, record_timestamp: int) -> int:
        return self._func(value, record_timestamp)


class WatermarkStrategy:
    """How timestamps are assigned and watermarks generated (PyFlink ``WatermarkStrategy``).

    Attributes:
        max_out_of_orderness_ms: the out-of-orderness bound in ms; None for ``no_watermarks()``.
        idle_timeout_ms: after this long without records an input is idle (ms); None: never.
    """

    def __init__(self, max_out_of_orderness_ms: Optional[int]) -> None:
        self.max_out_of_orderness_ms = max_out_of_orderness_ms
        self.idle_timeout_ms: Optional[int] = None
        self._timestamp_assigner: Optional[TimestampAssigner] = None

    @property
    def generates_watermarks(self) -> bool:
        return self.max_out_of_orderness_ms is not None

    def get_timestamp_assigner(self) -> Optional[TimestampAssigner]:
        return self._timestamp_assigner

    def with_timestamp_assigner(self, timestamp_assigner: Union[TimestampAssigner, Callable[[Any, int], int]]) \
            -> WatermarkStrategy:
        """Use ``timestamp_assigner`` (a TimestampAssigner, or a ``(value, record_timestamp) -> ms`` callable);
        returns a new strategy."""
        if not isinstance(timestamp_assigner, TimestampAssigner):
            if not callable(timestamp_assigner):
                raise TypeError("timestamp_assigner must be a TimestampAssigner or a callable (value, ts) -> ts")
            timestamp_assigner = _CallableTimestampAssigner(timestamp_assigner)
        strategy = self._copy()
        strategy._timestamp_assigner = timestamp_assigner
        return strategy

    def with_idleness(self, idle_timeout: Duration) -> WatermarkStrategy:
        """Mark an input idle after ``idle_timeout`` without records (a new strategy, as in PyFlink)."""
        strategy = self._copy()
        strategy.idle_timeout_ms = idle_timeout.to_milliseconds()
        return strategy

    def _copy(self) -> WatermarkStrategy:
        """The ``with_*`` methods return a new strategy and leave this one as it is (PyFlink wraps Java's
        immutable strategies), so one base strategy can be refined in several ways."""
        strategy = WatermarkStrategy(self.max_out_of_orderness_ms)
        strategy.idle_timeout_ms = self.idle_timeout_ms
        strategy._timestamp_assigner = self._timestamp_assigner
        return strategy

    @staticmethod
    def for_monotonous_timestamps() -> WatermarkStrategy:
        """Timestamps ascend: the watermark follows the highest timestamp seen."""
        return WatermarkStrategy(0)

    @staticmethod
    def for_bounded_out_of_orderness(max_out_of_orderness: Duration) -> WatermarkStrategy:
        """Records are at most ``max_out_of_orderness`` late relative to the highest timestamp seen."""
        return WatermarkStrategy(max_out_of_orderness.to_milliseconds())

    @staticmethod
    def no_watermarks() -> WatermarkStrategy:
        """Generate no watermarks (processing-time programs)."""
        return WatermarkStrategy(None)

    def __repr__(self) -> str:
        if self.max_out_of_orderness_ms is None:
            return "WatermarkStrategy(no_watermarks)"
        return f"WatermarkStrategy(out_of_orderness={self.max_out_of_orderness_ms} ms, idle={self.idle_timeout_ms})"
