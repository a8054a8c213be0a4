"""User metrics (PyFlink ``pyflink.metrics``): ``runtime_context.get_metrics_group()`` in a function's ``open``.

::

    def open(self, runtime_context):
        self.seen = runtime_context.get_metrics_group().add_group("orders").counter("seen")

    def map(self, value):
        self.seen.inc()

Counters, meters, distributions and gauges behave as PyFlink's (``inc``/``dec``/``get_count``,
``mark_event``/``get_count``, ``update``, a callable's value). yflink keeps them in the subtask that made them:
they are not reported to the REST API or a metrics reporter yet.

Source: PyFlink ``pyflink/metrics/metricbase.py``, Flink documentation "Metrics" (Metric types, Scope).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any, Optional

__all__ = ["Counter", "Distribution", "Gauge", "Meter", "Metric", "MetricGroup"]


class Metric:
    """Base class of the metric types."""


class Counter(Metric):
    """Counts up and down (Flink ``Counter``)."""

    def __init__(self) -> None:
        self._count = 0

    def inc(self, n: int = 1) -> None:
        self._count += n

    def dec(self, n: int = 1) -> None:
        self._count -= n

    def get_count(self) -> int:
        return self._count


class Meter(Metric):
    """Counts events and their rate per second over the last ``time_span_in_seconds`` (Flink ``MeterView``)."""

    def __init__(self, time_span_in_seconds: int = 60, clock: Callable[[], float] = time.monotonic) -> None:
        if time_span_in_seconds <= 0:
            raise ValueError(f"time_span_in_seconds must be positive, got {time_span_in_seconds}")
        self._span = time_span_in_seconds
        self._clock = clock
        self._count = 0
        self._events: deque[tuple[float, int]] = deque()

    def mark_event(self, value: int = 1) -> None:
        self._count += value
        self._events.append((self._clock(), value))

    def get_count(self) -> int:
        return self._count

    def get_rate(self) -> float:
        """Events per second over the time span."""
        horizon = self._clock() - self._span
        while self._events and self._events[0][0] < horizon:
            self._events.popleft()
        return sum(v for _, v in self._events) / self._span


class Distribution(Metric):
    """Summarizes the values it is given (PyFlink ``Distribution``: count, sum, min, max, mean)."""

    def __init__(self) -> None:
        self._count = 0
        self._sum = 0
        self._min: Optional[int] = None
        self._max: Optional[int] = None

    def update(self, value: int) -> None:
        self._count += 1
        self._sum += value
        self._min = value if self._min is None else min(self._min, value)
        self._max = value if self._max is None else max(self._max, value)

    def get_count(self) -> int:
        return self._count

    def get_sum(self) -> int:
        return self._sum

    def get_min(self) -> Optional[int]:
        return self._min

    def get_max(self) -> Optional[int]:
        return self._max

    def get_mean(self) -> Optional[float]:
        return self._sum / self._count if self._count else None


class Gauge(Metric):
    """The current value of a callable (Flink ``Gauge``)."""

    def __init__(self, obj: Callable[[], Any]) -> None:
        self._obj = obj

    def get_value(self) -> Any:
        return self._obj()


class MetricGroup:
    """A named group of metrics and sub-groups (PyFlink ``MetricGroup``).

    Args:
        scope_components: the group's scope, e.g. ``["Map", "0"]`` (operator, subtask index).
        variables: ``{"<key>": "value"}`` pairs of the key/value groups above this one.
        delimiter: joins scope components in :meth:`get_metric_identifier`.
    """

    def __init__(self, scope_components: Optional[list[str]] = None, variables: Optional[dict[str, str]] = None,
                 delimiter: str = ".") -> None:
        self._scope = list(scope_components or [])
        self._variables = dict(variables or {})
        self._delimiter = delimiter
        self._groups: dict[tuple[str, Optional[str]], MetricGroup] = {}
        self._metrics: dict[str, Metric] = {}

    def add_group(self, name: str, extra: Optional[str] = None) -> MetricGroup:
        """A sub-group ``name``; with ``extra``, the value group ``extra`` under the key group ``name``, which
        adds ``"<name>": extra`` to the variables. Asking again returns the same group."""
        group = self._groups.get((name, extra))
        if group is None:
            scope = [*self._scope, name] if extra is None else [*self._scope, name, extra]
            variables = self._variables if extra is None else {**self._variables, f"<{name}>": extra}
            group = self._groups[(name, extra)] = MetricGroup(scope, variables, self._delimiter)
        return group

    def _register(self, name: str, metric: Metric) -> Any:
        return self._metrics.setdefault(name, metric)

    def counter(self, name: str) -> Counter:
        return self._register(name, Counter())  # type: ignore[no-any-return]

    def gauge(self, name: str, obj: Callable[[], Any]) -> Gauge:
        return self._register(name, Gauge(obj))  # type: ignore[no-any-return]

    def meter(self, name: str, time_span_in_seconds: int = 60) -> Meter:
        return self._register(name, Meter(time_span_in_seconds))  # type: ignore[no-any-return]

    def distribution(self, name: str) -> Distribution:
        return self._register(name, Distribution())  # type: ignore[no-any-return]

    def get_scope_components(self) -> list[str]:
        return list(self._scope)

    def get_all_variables(self) -> dict[str, str]:
        return dict(self._variables)

    def get_metric_identifier(self, metric_name: str) -> str:
        """The metric's full name, e.g. ``Map.0.orders.seen``."""
        return self._delimiter.join([*self._scope, metric_name])

    def get_metrics(self) -> dict[str, Metric]:
        """This group's metrics by name (not its sub-groups')."""
        return dict(self._metrics)
