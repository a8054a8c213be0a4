"""Keyed state backends.

The runtime gives every operator with keyed input (``StreamOperator.is_keyed``) a backend from
:func:`create_keyed_state_backend`; an operator set up without one (the test harness, or a runtime that
does not create backends yet) creates its own the same way. ``state.backend.type`` chooses it (Flink
"State Backends"): ``hashmap`` (default; Flink's older ``jobmanager`` and ``filesystem`` mean it too) is the heap
:class:`~yflink.state.backends.hashmap.HashMapKeyedStateBackend`, ``rocksdb`` the
:class:`~yflink.state.backends.rocksdb.RocksDBKeyedStateBackend` (imported only when chosen). Both have the same
methods (``set_current_key``, ``get_state(descriptor)``, ``table(name, kind)``, ``snapshot``, ``restore``) and
snapshots that restore into either.
"""

from __future__ import annotations

from typing import Any, Optional

from yflink.common import config_options as opts
from yflink.common.errors import ConfigurationError
from yflink.state.backends.hashmap import HashMapKeyedStateBackend
from yflink.state.key_groups import key_group_range

__all__ = ["HashMapKeyedStateBackend", "backend_type", "create_keyed_state_backend"]

_HASHMAP_NAMES = {"hashmap", "jobmanager", "filesystem"}
_ROCKSDB_NAMES = {"rocksdb"}


def backend_type(parameters: Optional[dict[str, Any]]) -> str:
    """``hashmap`` or ``rocksdb``: the backend ``state.backend.type`` (or the deprecated ``state.backend``) names.

    Raises:
        ConfigurationError: an unknown backend name (the message lists the known ones).
    """
    parameters = parameters or {}
    raw = next((parameters[k] for k in (opts.STATE_BACKEND.key, *opts.STATE_BACKEND.deprecated_keys)
                if parameters.get(k) is not None), "hashmap")
    name = str(raw).strip().lower()
    if name in _HASHMAP_NAMES:
        return "hashmap"
    if name in _ROCKSDB_NAMES:
        return "rocksdb"
    raise ConfigurationError(f"Bad value for '{opts.STATE_BACKEND.key}': {raw!r}; expected hashmap or rocksdb "
                             "(or Flink's older jobmanager / filesystem, which mean hashmap)")


def _flag(parameters: dict[str, Any], option: Any) -> bool:
    for key in (option.key, *option.deprecated_keys):
        if parameters.get(key) is not None:
            return bool(option.parse(parameters[key]))
    return bool(option.default)


def _local_dir(parameters: dict[str, Any]) -> Optional[str]:
    local = parameters.get(opts.ROCKSDB_LOCAL_DIR.key)
    if local:
        return str(local).split(",")[0].strip() or None
    tmp = parameters.get("io.tmp.dirs")
    if tmp:
        return str(tmp).replace(";", ",").split(",")[0].strip() or None
    return None


def create_keyed_state_backend(task_info: Any) -> Any:
    """A keyed state backend for the subtask described by ``task_info`` (a ``TaskInfo``: uses its
    ``max_parallelism``, ``parallelism`` and ``subtask_index`` to know the key groups it owns, and its
    ``job_parameters`` for ``state.backend.type``, ``state.backend.rocksdb.localdir`` and
    ``execution.checkpointing.incremental``).

    Raises:
        ConfigurationError: an unknown ``state.backend.type``.
    """
    max_parallelism = task_info.max_parallelism
    groups = key_group_range(max_parallelism, task_info.parallelism, task_info.subtask_index)
    parameters = getattr(task_info, "job_parameters", None) or {}
    if backend_type(parameters) == "hashmap":
        return HashMapKeyedStateBackend(max_parallelism, groups)
    from yflink.state.backends.rocksdb import RocksDBKeyedStateBackend

    name = f"job_{str(getattr(task_info, 'job_id', ''))[:8]}_{getattr(task_info, 'task_name', 'task')[:40]}" \
           f"_{task_info.subtask_index}"
    return RocksDBKeyedStateBackend(max_parallelism, groups, local_dir=_local_dir(parameters),
                                    incremental=_flag(parameters, opts.CHECKPOINTING_INCREMENTAL), name=name)
