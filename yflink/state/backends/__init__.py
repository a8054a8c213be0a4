"""Keyed state backends.

The runtime gives every operator with keyed input (``StreamOperator.is_keyed``) a backend from
:func:`create_keyed_state_backend`; an operator set up without one (the test harness, or a runtime that
does not create backends yet) creates its own the same way. Today there is one backend, the heap
:class:`~yflink.state.backends.hashmap.HashMapKeyedStateBackend`; RocksDB would be a second behind the same
methods (``set_current_key``, ``get_state(descriptor)``, ``table(name)``, ``snapshot_by_key_group``).
"""

from __future__ import annotations

from typing import Any

from yflink.state.backends.hashmap import HashMapKeyedStateBackend
from yflink.state.key_groups import key_group_range

__all__ = ["HashMapKeyedStateBackend", "create_keyed_state_backend"]


def create_keyed_state_backend(task_info: Any) -> HashMapKeyedStateBackend:
    """A keyed state backend for the subtask described by ``task_info`` (a ``TaskInfo``: uses its
    ``max_parallelism``, ``parallelism`` and ``subtask_index`` to know the key groups it owns)."""
    max_parallelism = task_info.max_parallelism
    groups = key_group_range(max_parallelism, task_info.parallelism, task_info.subtask_index)
    return HashMapKeyedStateBackend(max_parallelism, groups)
