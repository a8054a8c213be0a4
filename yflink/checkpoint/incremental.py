"""Incremental checkpoints of the RocksDB backend: upload only new SST files, restore by downloading them.

Upload (:func:`write_incremental`, called by :func:`yflink.checkpoint.task_state.write_operator_snapshot` in the
task's upload thread for a :class:`~yflink.state.backends.rocksdb.RocksDBSnapshot` of a checkpoint, never of a
savepoint): the SST files of the RocksDB checkpoint directory that the backend already uploaded for its newest
*completed* checkpoint are referenced again; the others are written once to ``<job>/shared/``. The remaining files
(MANIFEST, CURRENT, OPTIONS, ...) are private to this checkpoint (in ``chk-<n>/`` or inline), and a ``meta`` stream
holds the state kinds and the heap (timer) tables. The JobMaster's
:class:`~yflink.checkpoint.shared_registry.SharedStateRegistry` counts the checkpoints that use each shared file
and deletes it when none is retained any more.

"Completed" is read from storage: ``chk-<m>/_metadata`` exists (the JobMaster writes it last, and deletes the
directory when the checkpoint is subsumed). Flink learns it from ``notifyCheckpointComplete`` instead; with the
default ``execution.checkpointing.max-concurrent-checkpoints: 1`` both see the same.

Restore (:func:`read_incremental`): the files are downloaded into a new local directory and handed out as a
:class:`~yflink.state.backends.rocksdb.RocksDBSnapshot` (``owned``: deleted once used), which the RocksDB backend
opens directly (same key-group range) or copies key groups from, and the hashmap backend reads canonically.

Source of the semantics: Flink documentation "Large State Tuning" > Incremental Checkpoints,
``RocksIncrementalSnapshotStrategy``, ``RocksDBIncrementalRestoreOperation`` and ``SharedStateRegistry``.
"""

from __future__ import annotations

import os
import pickle
import re
import tempfile
from typing import Any, Optional

from yflink.checkpoint.handles import (
    ByteStreamStateHandle,
    IncrementalKeyedStateHandle,
    KeyGroupRange,
    StreamStateHandle,
)
from yflink.checkpoint.storage import CheckpointStorage
from yflink.fs.base import name_of, normalize, parent_of
from yflink.state.backends.rocksdb import RocksDBSnapshot

__all__ = ["is_incremental_target", "read_incremental", "write_incremental"]

_CHECKPOINT_DIR = re.compile(r"^chk-(\d+)$")


def checkpoint_id_of(directory: str) -> Optional[int]:
    """The id of a ``chk-<n>`` directory URI, else None (a savepoint directory)."""
    match = _CHECKPOINT_DIR.match(name_of(normalize(directory)))
    return int(match.group(1)) if match else None


def is_incremental_target(storage: CheckpointStorage, directory: str, snapshot: Any) -> bool:
    """Whether ``snapshot`` goes to ``directory`` incrementally: a RocksDB snapshot of an incremental backend, and
    ``directory`` a ``chk-<n>`` of this job's storage (savepoints are always canonical)."""
    return (isinstance(snapshot, RocksDBSnapshot) and snapshot.incremental and storage.shared_dir is not None
            and storage.job_dir is not None and checkpoint_id_of(directory) is not None
            and normalize(parent_of(normalize(directory))) == normalize(storage.job_dir))


def _store(storage: CheckpointStorage, directory: str, data: bytes, name: str,
           inline_threshold: int) -> StreamStateHandle:
    if len(data) < inline_threshold:
        return ByteStreamStateHandle(name, data)
    return storage.write_state_file(directory, data)


def write_incremental(storage: CheckpointStorage, directory: str, snapshot: RocksDBSnapshot,
                      key_groups: Optional[KeyGroupRange], inline_threshold: int) -> IncrementalKeyedStateHandle:
    """Upload ``snapshot``'s files for checkpoint ``directory`` (``chk-<n>``); the handle for the ack. Releases the
    snapshot's local directory afterwards.

    Raises:
        ValueError: ``directory`` is not a checkpoint directory of ``storage``.
        FileSystemError: an upload failed (the task declines with CHECKPOINT_ASYNC_EXCEPTION).
    """
    checkpoint_id = checkpoint_id_of(directory)
    if checkpoint_id is None or storage.shared_dir is None:
        raise ValueError(f"incremental state goes to a chk-<n> directory with a shared/ beside it, not {directory}")
    groups = key_groups or KeyGroupRange.of(snapshot.key_group_range)
    try:
        completed = {cid for cid, _ in storage.completed_checkpoint_dirs()}
        previous = snapshot.uploads.reusable(checkpoint_id, completed.__contains__) if snapshot.uploads else {}
        shared: dict[str, StreamStateHandle] = {}
        private: dict[str, StreamStateHandle] = {}
        for name in snapshot.files():
            if name.endswith(".sst"):
                handle = previous.get(name)
                if handle is None:
                    with open(os.path.join(snapshot.path, name), "rb") as file:
                        handle = storage.write_state_file(storage.shared_dir, file.read())
                shared[name] = handle
            else:
                with open(os.path.join(snapshot.path, name), "rb") as file:
                    private[name] = _store(storage, directory, file.read(), name, inline_threshold)
        meta = pickle.dumps({"max_parallelism": snapshot.max_parallelism, "kinds": snapshot.kinds,
                             "ttl_states": sorted(snapshot.ttl_states), "heap_groups": snapshot.heap_groups,
                             "key_groups": (groups.start, groups.end)}, protocol=5)
        meta_handle = _store(storage, directory, meta, "meta", inline_threshold)
        if snapshot.uploads is not None:
            snapshot.uploads.record(checkpoint_id, shared)
        return IncrementalKeyedStateHandle(snapshot.backend_id or "", checkpoint_id, groups, shared, private,
                                           meta_handle)
    finally:
        snapshot.release()


def read_incremental(storage: CheckpointStorage, handle: IncrementalKeyedStateHandle,
                     local_dir: Optional[str] = None) -> RocksDBSnapshot:
    """Download ``handle``'s files into a new directory under ``local_dir`` (the system temp directory by
    default); a single-use :class:`RocksDBSnapshot` of them.

    Raises:
        FileSystemError: a file cannot be read.
        ValueError: the handle has no meta stream.
    """
    if handle.meta is None:
        raise ValueError(f"incremental keyed state of checkpoint {handle.checkpoint_id} has no meta stream")
    meta = pickle.loads(storage.read_stream(handle.meta))
    root = os.path.join(local_dir or tempfile.gettempdir(), "yflink-rocksdb")
    os.makedirs(root, exist_ok=True)
    path = tempfile.mkdtemp(prefix=f"restore-{handle.checkpoint_id}-", dir=root)
    for name, stream in [*handle.shared.items(), *handle.private.items()]:
        with open(os.path.join(path, name), "wb") as file:
            file.write(storage.read_stream(stream))
    start, end = meta["key_groups"]
    return RocksDBSnapshot(meta["max_parallelism"], dict(meta["kinds"]), set(meta["ttl_states"]), path,
                           range(start, end + 1), meta["heap_groups"], checkpoint_id=handle.checkpoint_id,
                           owned=True)
