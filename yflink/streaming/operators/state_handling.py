"""Initializing and snapshotting an operator's state (Flink ``StreamOperatorStateHandler``).

Lifecycle: ``setup`` -> :func:`initialize_state` (restore keyed and operator state, call the user function's
``CheckpointedFunction.initialize_state``) -> ``open`` -> ... ; :func:`snapshot_state` may run between
batches. An operator that nobody initialized explicitly (a job started without a snapshot) is initialized when
it opens (:func:`ensure_initialized`, called by ``UdfOperator.open``).

* keyed state: ``operator.keyed_backend`` restores the key groups of its subtask's range;
* operator state: ``operator.operator_state_backend`` (created here) restores this subtask's share
  (:func:`yflink.state.snapshot.operator_state_for`).
"""

from __future__ import annotations

from typing import Any, Optional

from yflink.datastream.checkpointed_function import (
    CheckpointedFunction,
    FunctionInitializationContext,
    FunctionSnapshotContext,
)
from yflink.state.backends import create_keyed_state_backend
from yflink.state.backends.operator import OperatorStateBackend
from yflink.state.snapshot import OperatorSnapshot, operator_state_for
from yflink.streaming.operators.udf import StreamingRuntimeContext, user_error

__all__ = ["ensure_initialized", "initialize_state", "operator_state_backend_of", "snapshot_state"]


class _InitializationContext(FunctionInitializationContext):
    def __init__(self, restored: bool, operator_store: OperatorStateBackend, keyed_store: Any) -> None:
        self._restored = restored
        self._operator_store = operator_store
        self._keyed_store = keyed_store

    def is_restored(self) -> bool:
        return self._restored

    def get_operator_state_store(self) -> Any:
        return self._operator_store

    def get_keyed_state_store(self) -> Any:
        return self._keyed_store


class _SnapshotContext(FunctionSnapshotContext):
    def __init__(self, checkpoint_id: int, timestamp: int) -> None:
        self._checkpoint_id = checkpoint_id
        self._timestamp = timestamp

    def get_checkpoint_id(self) -> int:
        return self._checkpoint_id

    def get_checkpoint_timestamp(self) -> int:
        return self._timestamp


def operator_state_backend_of(operator: Any) -> OperatorStateBackend:
    """The operator's operator state backend (``operator.operator_state_backend``), created on first use."""
    backend: Optional[OperatorStateBackend] = getattr(operator, "operator_state_backend", None)
    if backend is None:
        backend = OperatorStateBackend()
        operator.operator_state_backend = backend
    return backend


def initialize_state(operator: Any, snapshots: Optional[list[OperatorSnapshot]] = None) -> None:
    """Restore ``operator``'s state from ``snapshots`` (of any number of old subtasks; None or empty: a fresh
    start) and initialize its CheckpointedFunction. Call after ``setup`` and before ``open``.

    Raises:
        UserFunctionError: the function's ``initialize_state`` raised.
    """
    task = operator.task_info
    if getattr(operator, "is_keyed", False) and operator.keyed_backend is None:
        operator.keyed_backend = create_keyed_state_backend(task)
    backend = operator_state_backend_of(operator)
    restored = bool(snapshots)
    if snapshots:
        keyed = [s.keyed for s in snapshots if s.keyed is not None]
        if keyed and operator.keyed_backend is not None:
            operator.keyed_backend.restore(keyed)
        backend.restore(operator_state_for([s.operator for s in snapshots], task.subtask_index, task.parallelism))
    operator._state_initialized = True
    function = getattr(operator, "function", None)
    if isinstance(function, CheckpointedFunction):
        keyed_store = StreamingRuntimeContext(task, operator.keyed_backend) \
            if operator.keyed_backend is not None else None
        try:
            function.initialize_state(_InitializationContext(restored, backend, keyed_store))
        except Exception as exc:
            raise user_error(operator.name, function.initialize_state, exc) from exc


def ensure_initialized(operator: Any) -> None:
    """Initialize ``operator``'s state (fresh) unless :func:`initialize_state` already ran."""
    if not getattr(operator, "_state_initialized", False):
        initialize_state(operator, None)


def snapshot_state(operator: Any, checkpoint_id: int = 0, timestamp: int = 0, *,
                   include_keyed: bool = True) -> OperatorSnapshot:
    """Snapshot ``operator``'s keyed and operator state (after its CheckpointedFunction updated it);
    ``include_keyed=False`` leaves keyed state out (a finished task's final state: no input can reach it again).

    Raises:
        UserFunctionError: the function's ``snapshot_state`` raised.
    """
    function = getattr(operator, "function", None)
    if isinstance(function, CheckpointedFunction):
        try:
            function.snapshot_state(_SnapshotContext(checkpoint_id, timestamp))
        except Exception as exc:
            raise user_error(operator.name, function.snapshot_state, exc) from exc
    hook = getattr(operator, "prepare_snapshot", None)
    if callable(hook):
        hook(checkpoint_id)
    task = operator.task_info
    keyed = operator.keyed_backend.snapshot() if include_keyed and operator.keyed_backend is not None else None
    op_backend: Optional[OperatorStateBackend] = getattr(operator, "operator_state_backend", None)
    op_state = op_backend.snapshot() if op_backend is not None else None
    return OperatorSnapshot(task.subtask_index, task.parallelism, keyed, op_state)
