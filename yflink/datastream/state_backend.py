"""State backends as PyFlink names them (``pyflink.datastream.state_backend``), for
``env.set_state_backend(...)``.

A backend object here is only configuration: ``env.set_state_backend(EmbeddedRocksDBStateBackend(True))`` sets
``state.backend.type: rocksdb`` and ``execution.checkpointing.incremental: true`` in the job's configuration, which
the tasks read when they create keyed state backends (:mod:`yflink.state.backends`). Source: Flink documentation
"State Backends" (HashMapStateBackend, EmbeddedRocksDBStateBackend) and PyFlink's ``state_backend`` module.
"""

from __future__ import annotations

from typing import Any, Optional

__all__ = ["EmbeddedRocksDBStateBackend", "HashMapStateBackend", "StateBackend", "from_configuration"]


class StateBackend:
    """Base of the state backends: what ``state.backend.type`` and its options become."""

    name = ""

    def to_configuration(self) -> dict[str, Any]:
        """The configuration keys this backend sets."""
        return {"state.backend.type": self.name}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.to_configuration() == self.to_configuration()  # type: ignore

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.to_configuration().items())))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class HashMapStateBackend(StateBackend):
    """Keyed state as objects on the heap of the slot worker (the default)."""

    name = "hashmap"


class EmbeddedRocksDBStateBackend(StateBackend):
    """Keyed state in an embedded RocksDB on the TaskManager's local disk: state larger than memory, incremental
    checkpoints.

    Args:
        enable_incremental_checkpointing: True/False sets ``execution.checkpointing.incremental``; None leaves the
            configured value (default false).
    """

    name = "rocksdb"

    def __init__(self, enable_incremental_checkpointing: Optional[bool] = None) -> None:
        if enable_incremental_checkpointing is not None and not isinstance(enable_incremental_checkpointing, bool):
            raise TypeError(f"enable_incremental_checkpointing must be True, False or None, not "
                            f"{enable_incremental_checkpointing!r}")
        self._incremental = enable_incremental_checkpointing
        self._paths: list[str] = []

    def is_incremental_checkpoints_enabled(self) -> bool:
        return bool(self._incremental)

    def set_db_storage_paths(self, *paths: str) -> None:
        """Local directories for RocksDB's working files (``state.backend.rocksdb.localdir``; yflink uses the
        first)."""
        self._paths = [str(p) for p in paths]

    def get_db_storage_paths(self) -> list[str]:
        return list(self._paths)

    def to_configuration(self) -> dict[str, Any]:
        config = super().to_configuration()
        if self._incremental is not None:
            config["execution.checkpointing.incremental"] = self._incremental
        if self._paths:
            config["state.backend.rocksdb.localdir"] = ",".join(self._paths)
        return config

    def __repr__(self) -> str:
        return f"EmbeddedRocksDBStateBackend(enable_incremental_checkpointing={self._incremental})"


def from_configuration(raw: dict[str, Any]) -> StateBackend:
    """The backend a configuration selects (``state.backend.type``; hashmap when unset).

    Raises:
        ConfigurationError: an unknown backend name.
    """
    from yflink.state.backends import backend_type

    if backend_type(raw) == "hashmap":
        return HashMapStateBackend()
    incremental = raw.get("execution.checkpointing.incremental", raw.get("state.backend.incremental"))
    backend = EmbeddedRocksDBStateBackend(None if incremental is None else str(incremental).lower() == "true")
    localdir = raw.get("state.backend.rocksdb.localdir")
    if localdir:
        backend.set_db_storage_paths(*str(localdir).split(","))
    return backend
