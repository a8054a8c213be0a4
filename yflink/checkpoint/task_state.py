"""A task's side of state in checkpoint storage: snapshots to handles (upload), handles to snapshots (restore).

Upload (:func:`write_operator_snapshot`): an operator's :class:`~yflink.state.snapshot.OperatorSnapshot` (taken
synchronously between batches by ``state_handling.snapshot_state``) becomes an
:class:`~yflink.checkpoint.handles.OperatorSubtaskState`. Keyed state is written as one stream of length-prefixed
pickle frames: a header (state kinds, TTL states, max parallelism), then one frame per key group of the subtask's
range, whose offsets go into the :class:`KeyGroupsStateHandle`; operator state is one frame, with each named
state's mode and element count in the :class:`OperatorStateHandle`. Streams smaller than ``inline_threshold``
bytes stay inline in ``_metadata`` (Flink's ``execution.checkpointing.data-inline-threshold``, 20 KiB) instead of
becoming a file; without a directory (checkpoints kept in the JobMaster's memory) every stream stays inline. The
work is plain blocking I/O: run it off the task's event loop (``asyncio.to_thread``) so
processing goes on while it uploads (the asynchronous part of Flink's snapshot).

Restore (:func:`restore_operator_snapshots`): the :class:`~yflink.checkpoint.assignment.OperatorSubtaskRestore`
the JobMaster assigned is read back into the list of snapshots that
``yflink.streaming.operators.state_handling.initialize_state(operator, snapshots)`` takes unchanged: one entry per
new subtask, this subtask's entry holding exactly its share (its key groups, its list-state slice, all union
elements, its broadcast copy), the others empty, so ``operator_state_for`` hands this subtask exactly that share.

State values are pickled (protocol 5); ``_metadata`` never holds user objects except inline streams.
"""

from __future__ import annotations

import pickle
import struct
from typing import Any, Optional

from yflink.checkpoint.assignment import OperatorSubtaskRestore
from yflink.checkpoint.handles import (
    ByteStreamStateHandle,
    IncrementalKeyedStateHandle,
    KeyGroupRange,
    KeyGroupsStateHandle,
    OperatorStateHandle,
    OperatorStateMode,
    OperatorSubtaskState,
    StateMetaInfo,
    StreamStateHandle,
)
from yflink.checkpoint.storage import CheckpointStorage
from yflink.state.snapshot import KeyedStateSnapshot, OperatorSnapshot, OperatorStateSnapshot

__all__ = ["DEFAULT_INLINE_THRESHOLD", "restore_operator_snapshots", "write_operator_snapshot"]

DEFAULT_INLINE_THRESHOLD = 20 * 1024  # bytes; Flink execution.checkpointing.data-inline-threshold default
_LENGTH = struct.Struct(">Q")


def _frame(value: Any) -> bytes:
    data = pickle.dumps(value, protocol=5)
    return _LENGTH.pack(len(data)) + data


def _store(storage: CheckpointStorage, directory: Optional[str], data: bytes, name: str,
           inline_threshold: int) -> StreamStateHandle:
    if directory is None or len(data) < inline_threshold:
        return ByteStreamStateHandle(name, data)
    return storage.write_state_file(directory, data)


# --- upload -------------------------------------------------------------------------------------------------
def write_operator_snapshot(storage: CheckpointStorage, directory: Optional[str], snapshot: OperatorSnapshot,
                            key_groups: Optional[KeyGroupRange] = None, *,
                            inline_threshold: int = DEFAULT_INLINE_THRESHOLD,
                            shared_directory: Optional[str] = None) -> OperatorSubtaskState:
    """Write ``snapshot`` into ``directory`` (the barrier's ``target_location``); its handles for the ack.

    The one place that turns an :class:`OperatorSnapshot` into state handles: the task's asynchronous upload
    calls it for every operator of its chain (``yflink.runtime.taskexecutor.checkpointing``).

    Args:
        directory: the checkpoint's or savepoint's exclusive directory; None: a checkpoint kept in the
            JobMaster's memory (``JobManagerCheckpointStorage``), every stream inline whatever its size.
        key_groups: the subtask's key groups (``key_group_range(max_parallelism, parallelism, index)``); by default
            the range spanning the snapshot's groups.
        inline_threshold: streams shorter than this many bytes stay inline
            (``execution.checkpointing.data-inline-threshold``).
        shared_directory: the job's ``shared/`` directory (the barrier's ``shared_location``) for files that
            later checkpoints may reuse (incremental backends); full snapshots do not use it.

    Raises:
        FileSystemError: a write failed (the task declines the checkpoint with CHECKPOINT_ASYNC_EXCEPTION).
    """
    result = OperatorSubtaskState()
    if snapshot.keyed is not None:
        from yflink.checkpoint.incremental import is_incremental_target, write_incremental

        if is_incremental_target(directory, shared_directory, snapshot.keyed):  # rocksdb: new SST files only
            assert directory is not None and shared_directory is not None
            result.keyed.append(write_incremental(storage, directory, shared_directory, snapshot.keyed,  # type: ignore[arg-type]
                                                  key_groups, inline_threshold))
        else:
            result.keyed.append(_write_keyed(storage, directory, snapshot.keyed, key_groups, inline_threshold))
            release = getattr(snapshot.keyed, "release", None)  # a rocksdb snapshot's local files
            if callable(release):
                release()
    if snapshot.operator is not None and not snapshot.operator.is_empty():
        result.operator.append(_write_operator(storage, directory, snapshot.operator, inline_threshold))
    return result


def _write_keyed(storage: CheckpointStorage, directory: Optional[str], keyed: KeyedStateSnapshot,
                 groups: Optional[KeyGroupRange], inline_threshold: int) -> KeyGroupsStateHandle:
    iter_groups = getattr(keyed, "iter_groups", None)  # a rocksdb snapshot: read one key group at a time
    if groups is None:
        if iter_groups is not None:
            groups = KeyGroupRange.of(keyed.key_group_range)  # type: ignore[attr-defined]
        else:
            groups = KeyGroupRange(min(keyed.groups), max(keyed.groups)) if keyed.groups else KeyGroupRange(0, -1)
    outside = [] if iter_groups is not None else [g for g in keyed.groups if g not in groups]
    if outside:
        raise ValueError(f"keyed state of key groups {sorted(outside)[:5]} outside the subtask's range "
                         f"{groups.start}..{groups.end}")
    parts = [_frame({"max_parallelism": keyed.max_parallelism, "kinds": keyed.kinds,
                     "ttl_states": sorted(keyed.ttl_states)})]
    offsets, position = [], len(parts[0])
    by_group = iter_groups(groups.to_range()) if iter_groups is not None else \
        ((group, keyed.groups.get(group, {})) for group in groups.to_range())
    for _, states in by_group:
        offsets.append(position)
        frame = _frame(states)
        parts.append(frame)
        position += len(frame)
    stream = _store(storage, directory, b"".join(parts), "keyed", inline_threshold)
    return KeyGroupsStateHandle(groups, tuple(offsets), stream)


def _write_operator(storage: CheckpointStorage, directory: Optional[str], state: OperatorStateSnapshot,
                    inline_threshold: int) -> OperatorStateHandle:
    infos: dict[str, StateMetaInfo] = {}
    for name, values in state.list_states.items():
        infos[name] = StateMetaInfo(OperatorStateMode.SPLIT_DISTRIBUTE, len(values))
    for name, values in state.union_states.items():
        infos[name] = StateMetaInfo(OperatorStateMode.UNION, len(values))
    for name, mapping in state.broadcast_states.items():
        infos[name] = StateMetaInfo(OperatorStateMode.BROADCAST, len(mapping))
    data = _frame({"list": state.list_states, "union": state.union_states, "broadcast": state.broadcast_states})
    return OperatorStateHandle(infos, _store(storage, directory, data, "operator", inline_threshold))


# --- restore ------------------------------------------------------------------------------------------------
def _read_frame(storage: CheckpointStorage, stream: StreamStateHandle, offset: int) -> Any:
    (length,) = _LENGTH.unpack(storage.read_stream(stream, offset, _LENGTH.size))
    return pickle.loads(storage.read_stream(stream, offset + _LENGTH.size, length))


def _read_keyed(storage: CheckpointStorage, handle: KeyGroupsStateHandle, into: KeyedStateSnapshot) -> None:
    header = _read_frame(storage, handle.stream, 0)
    if header["max_parallelism"] != into.max_parallelism:
        raise ValueError(f"keyed state written with max parallelism {header['max_parallelism']}, restored with "
                         f"{into.max_parallelism}")
    into.kinds.update(header["kinds"])
    into.ttl_states.update(header["ttl_states"])
    for group, offset in zip(handle.key_groups.to_range(), handle.offsets):
        states = _read_frame(storage, handle.stream, offset)
        if states:
            into.groups[group] = states


def restore_operator_snapshots(storage: CheckpointStorage, restore: OperatorSubtaskRestore, subtask_index: int,
                               parallelism: int) -> list[OperatorSnapshot]:
    """The snapshots to pass to ``initialize_state(operator, snapshots)`` for new subtask ``subtask_index`` of
    ``parallelism`` (see the module docstring).

    Raises:
        FileSystemError: a state file cannot be read.
    """
    keyed: Optional[KeyedStateSnapshot] = None
    if restore.keyed:
        keyed = KeyedStateSnapshot(max_parallelism=restore.max_parallelism)
        incremental = [h for h in restore.keyed if isinstance(h, IncrementalKeyedStateHandle)]
        for handle in restore.keyed:
            if not isinstance(handle, IncrementalKeyedStateHandle):
                _read_keyed(storage, handle, keyed)
        if incremental:  # rocksdb files: downloaded, opened by a rocksdb backend or read canonically
            from yflink.checkpoint.incremental import read_incremental_keyed

            keyed = read_incremental_keyed(storage, incremental, keyed if len(incremental) < len(restore.keyed)
                                           else None, subtask_index, parallelism)
    operator = OperatorStateSnapshot()
    loaded: dict[int, dict[str, Any]] = {}
    for piece in restore.operator_slices:
        content = loaded.get(id(piece.handle))
        if content is None:
            content = loaded[id(piece.handle)] = _read_frame(storage, piece.handle.stream, 0)
        if piece.mode is OperatorStateMode.BROADCAST:
            operator.broadcast_states.setdefault(piece.name, {}).update(content["broadcast"].get(piece.name, {}))
        elif piece.mode is OperatorStateMode.UNION:
            operator.union_states.setdefault(piece.name, []).extend(
                content["union"].get(piece.name, [])[piece.start:piece.end])
        else:
            operator.list_states.setdefault(piece.name, []).extend(
                content["list"].get(piece.name, [])[piece.start:piece.end])
    snapshots = [OperatorSnapshot(i, parallelism) for i in range(parallelism)]
    snapshots[subtask_index] = OperatorSnapshot(subtask_index, parallelism, keyed,
                                                None if operator.is_empty() else operator)
    return snapshots
