"""What operators need around user functions: the RuntimeContext, lifecycle calls and error messages.

A user function that raises fails the task with a :class:`UserFunctionError` whose message names the
function, where it is defined and the operator, e.g. ``Error in user function 'split' (job.py:12) of
operator 'FlatMap': ValueError: bad line``; the original exception is chained (``raise ... from``), so the
user's traceback stays in the report.

Source of the semantics: Flink ``StreamingRuntimeContext`` and ``AbstractUdfStreamOperator`` (open/close
of the user function around the operator's own).
"""

from __future__ import annotations

import os
import time
from typing import Any, Optional

from yflink.common.errors import YFlinkError
from yflink.common.execution_config import job_parameters_from
from yflink.datastream.functions import RuntimeContext
from yflink.datastream.state import (
    AggregatingState,
    BroadcastState,
    ListState,
    MapState,
    ReadOnlyBroadcastState,
    ReducingState,
    ValueState,
)
from yflink.datastream.timerservice import TimerService
from yflink.metrics import MetricGroup
from yflink.state.backends.hashmap import (
    HashMapAggregatingState,
    HashMapListState,
    HashMapMapState,
    HashMapReducingState,
    HashMapValueState,
)
from yflink.state.backends.operator import HeapBroadcastState, OperatorListState, ReadOnlyBroadcastStateView
from yflink.state.backends.ttl import (
    TtlAggregatingState,
    TtlListState,
    TtlMapState,
    TtlReducingState,
    TtlValueState,
)
from yflink.streaming.operators.base import TaskInfo

# The heap state handles implement the API's state interfaces without importing them.
ValueState.register(HashMapValueState)
ListState.register(HashMapListState)
MapState.register(HashMapMapState)
ReducingState.register(HashMapReducingState)
AggregatingState.register(HashMapAggregatingState)
ValueState.register(TtlValueState)
ListState.register(TtlListState)
MapState.register(TtlMapState)
ReducingState.register(TtlReducingState)
AggregatingState.register(TtlAggregatingState)
ListState.register(OperatorListState)
BroadcastState.register(HeapBroadcastState)
ReadOnlyBroadcastState.register(ReadOnlyBroadcastStateView)

#: Java's Long.MIN_VALUE / MAX_VALUE: "no watermark yet" and "end of event time".
MIN_WATERMARK = -(1 << 63)
MAX_WATERMARK = (1 << 63) - 1

KEYED_STATE_ONLY = ("Keyed state can only be used on a 'keyed stream', i.e., after a 'key_by()' operation.")


class UserFunctionError(YFlinkError):
    """A user function raised; the message names the function, its location and the operator.

    Attributes:
        operator_name: the operator's name (``Map``, ``FlatMap``, ...).
        function: the function's description, e.g. ``'split' (job.py:12)``.
    """

    def __init__(self, operator_name: str, function: str, cause: BaseException) -> None:
        super().__init__(f"Error in user function {function} of operator '{operator_name}': "
                         f"{type(cause).__name__}: {cause}")
        self.operator_name = operator_name
        self.function = function


def describe_function(func: Any) -> str:
    """``'qualname' (file.py:line)`` of a function, bound method or callable object."""
    target = getattr(func, "__func__", func)
    code = getattr(target, "__code__", None)
    name = getattr(target, "__qualname__", None)
    if code is None and not isinstance(func, type):
        call = next((k.__dict__["__call__"] for k in type(func).__mro__ if "__call__" in k.__dict__), None)
        code = getattr(call, "__code__", None)
        name = name or type(func).__qualname__
    name = name or repr(func)
    if code is None:
        return f"'{name}'"
    return f"'{name}' ({os.path.basename(code.co_filename)}:{code.co_firstlineno})"


def user_error(operator_name: str, func: Any, exc: BaseException) -> UserFunctionError:
    """The error to raise (``from exc``) when ``func`` of ``operator_name`` raised ``exc``."""
    return UserFunctionError(operator_name, describe_function(func), exc)


class StreamingRuntimeContext(RuntimeContext):
    """The RuntimeContext of one operator instance.

    Args:
        task_info: the subtask's facts (name, index, parallelism, job parameters).
        keyed_backend: the keyed state backend, or None on a non-keyed stream.
    """

    def __init__(self, task_info: TaskInfo, keyed_backend: Any = None) -> None:
        self._task_info = task_info
        self._backend = keyed_backend
        self._job_parameters = {**task_info.job_parameters, **job_parameters_from(task_info.job_parameters)}
        self._metrics: Optional[MetricGroup] = None

    def get_task_name(self) -> str:
        return self._task_info.task_name

    def get_number_of_parallel_subtasks(self) -> int:
        return self._task_info.parallelism

    def get_max_number_of_parallel_subtasks(self) -> int:
        return self._task_info.max_parallelism

    def get_index_of_this_subtask(self) -> int:
        return self._task_info.subtask_index

    def get_attempt_number(self) -> int:
        return self._task_info.attempt_number

    def get_task_name_with_subtasks(self) -> str:
        return self._task_info.task_name_with_subtasks

    def get_job_parameter(self, key: str, default_value: str) -> str:
        return self._job_parameters.get(key, default_value)

    def get_metrics_group(self) -> MetricGroup:
        """The subtask's metric group, scope ``<task name>.<subtask index>`` (kept in the subtask)."""
        if self._metrics is None:
            self._metrics = MetricGroup([self._task_info.task_name, str(self._task_info.subtask_index)])
        return self._metrics

    def _state(self, descriptor: Any) -> Any:
        if self._backend is None:
            raise RuntimeError(KEYED_STATE_ONLY)
        return self._backend.get_state(descriptor)

    def get_state(self, state_descriptor: Any) -> Any:
        return self._state(state_descriptor)

    def get_list_state(self, state_descriptor: Any) -> Any:
        return self._state(state_descriptor)

    def get_map_state(self, state_descriptor: Any) -> Any:
        return self._state(state_descriptor)

    def get_reducing_state(self, state_descriptor: Any) -> Any:
        return self._state(state_descriptor)

    def get_aggregating_state(self, state_descriptor: Any) -> Any:
        return self._state(state_descriptor)


def open_function(func: Any, runtime_context: RuntimeContext, operator_name: str) -> None:
    """Call ``func.open(runtime_context)`` when ``func`` has one; wraps its errors."""
    opener = getattr(func, "open", None)
    if opener is not None and callable(opener):
        try:
            opener(runtime_context)
        except Exception as exc:
            raise user_error(operator_name, opener, exc) from exc


def close_function(func: Any, operator_name: str) -> None:
    """Call ``func.close()`` when ``func`` has one; wraps its errors."""
    closer = getattr(func, "close", None)
    if closer is not None and callable(closer):
        try:
            closer()
        except Exception as exc:
            raise user_error(operator_name, closer, exc) from exc


class ProcessingTimeService(TimerService):
    """The timer service of a non-keyed stream: time only (Flink: timers need a keyed stream)."""

    def __init__(self) -> None:
        self.watermark = MIN_WATERMARK

    def current_processing_time(self) -> int:
        return time.time_ns() // 1_000_000

    def current_watermark(self) -> int:
        return self.watermark

    def register_processing_time_timer(self, timestamp: int) -> None:
        raise RuntimeError("Setting timers is only supported on a keyed streams.")

    def register_event_time_timer(self, timestamp: int) -> None:
        raise RuntimeError("Setting timers is only supported on a keyed streams.")

    def delete_processing_time_timer(self, timestamp: int) -> None:
        raise RuntimeError("Deleting timers is only supported on a keyed streams.")

    def delete_event_time_timer(self, timestamp: int) -> None:
        raise RuntimeError("Deleting timers is only supported on a keyed streams.")


def as_callable(func: Any, method: str) -> Any:
    """``func.<method>`` when ``func`` has it (a Function object), else ``func`` itself (a callable)."""
    bound: Optional[Any] = getattr(func, method, None)
    return bound if bound is not None and callable(bound) else func
