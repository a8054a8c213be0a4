"""The ``_metadata`` of a checkpoint or savepoint: a versioned, plain-text format (JSON after a header line).

Layout of the file::

    YFLINK-CHECKPOINT-METADATA 1\\n
    {"checkpoint_id": 7, "job_id": "...", "timestamp": 1700000000000, "snapshot_type": "CHECKPOINT",
     "operators": [{"operator_id": "...", "uid": "counts", "parallelism": 2, "max_parallelism": 128,
                    "fully_finished": false,
                    "subtasks": {"0": {"keyed": [...], "operator": [...]}, "1": ...}}, ...]}

The first line carries the format version (Flink's ``MetadataSerializers``: a magic number and a version
first). Every reader version stays in :data:`_READERS`, so a later yflink still reads version 1; a file with a
version newer than this yflink knows is refused with a message saying so. JSON rather than a binary format: no
new dependency, and an operator can read a checkpoint with ``less``. State bytes never go here except small
inline handles (base64).

Paths of files inside the checkpoint's own directory are written **relative** to it (``{"relative": "..."}``),
so a savepoint directory can be moved or copied and still restored (Flink's relocatable savepoints); files
elsewhere (``shared/``, ``taskowned/``) keep their absolute URI.

Errors: :class:`~yflink.checkpoint.errors.CheckpointMetadataError` naming the file and what is wrong.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Optional

from yflink.checkpoint.barriers import SnapshotType
from yflink.checkpoint.errors import CheckpointMetadataError
from yflink.checkpoint.handles import (
    ByteStreamStateHandle,
    FileStateHandle,
    IncrementalKeyedStateHandle,
    KeyedStateHandle,
    KeyGroupRange,
    KeyGroupsStateHandle,
    OperatorState,
    OperatorStateHandle,
    OperatorStateMode,
    OperatorSubtaskState,
    StateMetaInfo,
    StreamStateHandle,
)
from yflink.fs.base import join, relative_to

__all__ = ["CURRENT_VERSION", "MAGIC", "CheckpointMetadata", "deserialize_metadata", "serialize_metadata"]

MAGIC = "YFLINK-CHECKPOINT-METADATA"
CURRENT_VERSION = 1


@dataclass
class CheckpointMetadata:
    """What ``_metadata`` records: the checkpoint and every operator's state handles.

    Attributes:
        checkpoint_id: the checkpoint's id.
        job_id: the job that took it (32 hex digits).
        timestamp: when it was triggered, ms since the epoch.
        snapshot_type: checkpoint or savepoint kind.
        operators: the state of every operator that had state (or finished).
    """

    checkpoint_id: int
    job_id: str
    timestamp: int
    snapshot_type: SnapshotType = SnapshotType.CHECKPOINT
    operators: list[OperatorState] = field(default_factory=list)

    def operator(self, operator_id: str) -> Optional[OperatorState]:
        return next((op for op in self.operators if op.operator_id == operator_id), None)


# --- writing ------------------------------------------------------------------------------------------------
def serialize_metadata(metadata: CheckpointMetadata, base_dir: Optional[str] = None) -> bytes:
    """The bytes of ``_metadata`` in the current version; files under ``base_dir`` are written relative to it."""
    body = {
        "checkpoint_id": metadata.checkpoint_id,
        "job_id": metadata.job_id,
        "timestamp": metadata.timestamp,
        "snapshot_type": metadata.snapshot_type.value,
        "operators": [_operator_to_json(op, base_dir) for op in metadata.operators],
    }
    return f"{MAGIC} {CURRENT_VERSION}\n".encode() + json.dumps(body, indent=1, sort_keys=True).encode()


def _operator_to_json(op: OperatorState, base: Optional[str]) -> dict[str, Any]:
    return {
        "operator_id": op.operator_id,
        "uid": op.uid,
        "parallelism": op.parallelism,
        "max_parallelism": op.max_parallelism,
        "fully_finished": op.fully_finished,
        "subtasks": {str(index): {"keyed": [_keyed_to_json(k, base) for k in state.keyed],
                                  "operator": [_opstate_to_json(o, base) for o in state.operator]}
                     for index, state in sorted(op.subtasks.items())},
    }


def _stream_to_json(handle: StreamStateHandle, base: Optional[str]) -> dict[str, Any]:
    if isinstance(handle, ByteStreamStateHandle):
        return {"inline": base64.b64encode(handle.data).decode("ascii"), "name": handle.name}
    relative = relative_to(handle.path, base) if base is not None else None
    if relative is not None:
        return {"relative": relative, "size": handle.size}
    return {"path": handle.path, "size": handle.size}


def _keyed_to_json(handle: KeyedStateHandle, base: Optional[str]) -> dict[str, Any]:
    groups = [handle.key_groups.start, handle.key_groups.end]
    if isinstance(handle, KeyGroupsStateHandle):
        return {"type": "key-groups", "key_groups": groups, "offsets": list(handle.offsets),
                "stream": _stream_to_json(handle.stream, base)}
    return {"type": "incremental", "key_groups": groups, "backend_id": handle.backend_id,
            "checkpoint_id": handle.checkpoint_id,
            "shared": {name: _stream_to_json(h, base) for name, h in sorted(handle.shared.items())},
            "private": {name: _stream_to_json(h, base) for name, h in sorted(handle.private.items())},
            "meta": _stream_to_json(handle.meta, base) if handle.meta is not None else None}


def _opstate_to_json(handle: OperatorStateHandle, base: Optional[str]) -> dict[str, Any]:
    return {"states": {name: {"mode": info.mode.value, "count": info.count}
                       for name, info in sorted(handle.states.items())},
            "stream": _stream_to_json(handle.stream, base)}


# --- reading ------------------------------------------------------------------------------------------------
def deserialize_metadata(data: bytes, location: str, base_dir: Optional[str] = None) -> CheckpointMetadata:
    """Parse ``_metadata`` bytes read from ``location`` (named in errors); relative paths resolve against
    ``base_dir`` (the directory holding the file).

    Raises:
        CheckpointMetadataError: not a yflink metadata file, a version newer than this yflink reads, or corrupt.
    """
    header, newline, body = data.partition(b"\n")
    parts = header.decode("utf-8", "replace").split()
    if not newline or len(parts) != 2 or parts[0] != MAGIC or not parts[1].isdigit():
        raise CheckpointMetadataError(
            f"{location} is not a yflink checkpoint metadata file (it should start with '{MAGIC} <version>'); "
            "point to the checkpoint or savepoint directory, or its _metadata file")
    version = int(parts[1])
    reader = _READERS.get(version)
    if reader is None:
        raise CheckpointMetadataError(
            f"{location} has metadata format version {version}, written by a newer yflink; this yflink reads "
            f"versions up to {CURRENT_VERSION}. Restore it with a yflink at least as new as the one that wrote it")
    try:
        return reader(json.loads(body), base_dir)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CheckpointMetadataError(
            f"{location} is corrupt ({type(exc).__name__}: {exc}); use an earlier checkpoint or savepoint") from None


def _read_v1(body: dict[str, Any], base: Optional[str]) -> CheckpointMetadata:
    return CheckpointMetadata(
        checkpoint_id=int(body["checkpoint_id"]),
        job_id=str(body["job_id"]),
        timestamp=int(body["timestamp"]),
        snapshot_type=SnapshotType(body["snapshot_type"]),
        operators=[_operator_v1(op, base) for op in body["operators"]],
    )


def _operator_v1(op: dict[str, Any], base: Optional[str]) -> OperatorState:
    return OperatorState(
        operator_id=str(op["operator_id"]),
        uid=op.get("uid"),
        parallelism=int(op["parallelism"]),
        max_parallelism=int(op["max_parallelism"]),
        fully_finished=bool(op.get("fully_finished", False)),
        subtasks={int(index): OperatorSubtaskState(keyed=[_keyed_v1(k, base) for k in state["keyed"]],
                                                   operator=[_opstate_v1(o, base) for o in state["operator"]])
                  for index, state in op["subtasks"].items()},
    )


def _stream_v1(data: dict[str, Any], base: Optional[str]) -> StreamStateHandle:
    if "inline" in data:
        return ByteStreamStateHandle(str(data.get("name", "")), base64.b64decode(data["inline"]))
    if "relative" in data:
        if base is None:
            raise ValueError("a relative state path but no directory to resolve it against")
        return FileStateHandle(join(base, data["relative"]), int(data["size"]))
    return FileStateHandle(str(data["path"]), int(data["size"]))


def _keyed_v1(data: dict[str, Any], base: Optional[str]) -> KeyedStateHandle:
    groups = KeyGroupRange(int(data["key_groups"][0]), int(data["key_groups"][1]))
    if data["type"] == "key-groups":
        return KeyGroupsStateHandle(groups, tuple(int(o) for o in data["offsets"]), _stream_v1(data["stream"], base))
    if data["type"] == "incremental":
        return IncrementalKeyedStateHandle(
            backend_id=str(data["backend_id"]), checkpoint_id=int(data["checkpoint_id"]), key_groups=groups,
            shared={name: _stream_v1(h, base) for name, h in data["shared"].items()},
            private={name: _stream_v1(h, base) for name, h in data["private"].items()},
            meta=_stream_v1(data["meta"], base) if data.get("meta") is not None else None)
    raise ValueError(f"unknown keyed state handle type {data['type']!r}")


def _opstate_v1(data: dict[str, Any], base: Optional[str]) -> OperatorStateHandle:
    return OperatorStateHandle(
        states={name: StateMetaInfo(OperatorStateMode(info["mode"]), int(info["count"]))
                for name, info in data["states"].items()},
        stream=_stream_v1(data["stream"], base))


_READERS = {1: _read_v1}
