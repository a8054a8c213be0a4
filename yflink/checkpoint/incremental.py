"""Incremental checkpoints of the RocksDB backend: upload only new SST files, restore by downloading them.

Upload (:func:`write_incremental`, called by :func:`yflink.checkpoint.task_state.write_operator_snapshot` in the
task's upload thread for a :class:`~yflink.state.backends.rocksdb.RocksDBSnapshot` of a checkpoint, never of a
savepoint): the SST files of the RocksDB checkpoint directory that the backend already uploaded for its newest
*completed* checkpoint are referenced again; the others are written once to ``<job>/shared/``. The remaining files
(MANIFEST, CURRENT, OPTIONS, ...) are private to this checkpoint (in ``chk-<n>/`` or inline), and a ``meta`` stream
holds the state kinds and the heap (timer) tables. The JobMaster's
:class:`~yflink.checkpoint.shared_registry.SharedStateRegistry` counts the checkpoints that use each shared file
and deletes it when none is retained any more.

"Completed" is read from storage: ``chk-<m>/_metadata`` exists beside ``chk-<n>`` (the JobMaster writes it last,
and deletes the directory when the checkpoint is subsumed). Flink learns it from ``notifyCheckpointComplete``
instead; with the default ``execution.checkpointing.max-concurrent-checkpoints: 1`` both see the same.

Restore (:func:`read_incremental_keyed`, from ``restore_operator_snapshots`` in the JobMaster): a subtask whose
keyed state comes from one incremental handle gets a *remote*
:class:`~yflink.state.backends.rocksdb.RocksDBSnapshot` (the meta stream read, the files not): it travels to the
task in the deployment, where a RocksDB backend downloads the files beside its database and opens them (same
key-group range) or copies the key groups it needs, and a hashmap backend downloads and reads them canonically.
Several sources (rescaling) travel as a :class:`~yflink.state.snapshot.CompositeKeyedSnapshot` of remote ones,
merged on the task. Downloads are deleted once used.

Source of the semantics: Flink documentation "Large State Tuning" > Incremental Checkpoints,
``RocksIncrementalSnapshotStrategy``, ``RocksDBIncrementalRestoreOperation`` and ``SharedStateRegistry``.
"""

from __future__ import annotations

import functools
import os
import pickle
import re
import tempfile
from collections.abc import Callable
from typing import Any, Optional

from yflink.checkpoint.handles import (
    ByteStreamStateHandle,
    IncrementalKeyedStateHandle,
    KeyGroupRange,
    StreamStateHandle,
)
from yflink.checkpoint.storage import METADATA_FILE_NAME, CheckpointStorage
from yflink.fs.base import get_file_system, join, name_of, normalize, parent_of
from yflink.state.backends.rocksdb import RocksDBSnapshot
from yflink.state.key_groups import key_group_range
from yflink.state.snapshot import CompositeKeyedSnapshot, KeyedStateSnapshot

__all__ = ["is_incremental_target", "read_incremental", "read_incremental_keyed", "write_incremental"]

_CHECKPOINT_DIR = re.compile(r"^chk-(\d+)$")


def checkpoint_id_of(directory: str) -> Optional[int]:
    """The id of a ``chk-<n>`` directory URI, else None (a savepoint directory)."""
    match = _CHECKPOINT_DIR.match(name_of(normalize(directory)))
    return int(match.group(1)) if match else None


def is_incremental_target(directory: Optional[str], shared_directory: Optional[str], snapshot: Any) -> bool:
    """Whether ``snapshot`` goes to ``directory`` incrementally: a RocksDB snapshot of an incremental backend, a
    ``chk-<n>`` directory and a ``shared/`` directory (savepoints have none: they are always canonical)."""
    return (isinstance(snapshot, RocksDBSnapshot) and snapshot.incremental and directory is not None
            and shared_directory is not None and checkpoint_id_of(directory) is not None)


def _store(storage: CheckpointStorage, directory: str, data: bytes, name: str,
           inline_threshold: int) -> StreamStateHandle:
    if len(data) < inline_threshold:
        return ByteStreamStateHandle(name, data)
    return storage.write_state_file(directory, data)


def _completed(directory: str) -> Callable[[int], bool]:
    """Whether checkpoint ``m`` of the job whose ``chk-<n>`` is ``directory`` completed and is still retained."""
    parent = parent_of(normalize(directory))

    def completed(checkpoint_id: int) -> bool:
        path = join(parent, f"chk-{checkpoint_id}", METADATA_FILE_NAME)
        return get_file_system(path).exists(path)

    return completed


def write_incremental(storage: CheckpointStorage, directory: str, shared_directory: str, snapshot: RocksDBSnapshot,
                      key_groups: Optional[KeyGroupRange], inline_threshold: int) -> IncrementalKeyedStateHandle:
    """Upload ``snapshot``'s files for checkpoint ``directory`` (``chk-<n>``), new SST files into
    ``shared_directory``; the handle for the ack. Releases the snapshot's local directory afterwards.

    Raises:
        ValueError: ``directory`` is not a ``chk-<n>`` directory.
        FileSystemError: an upload failed (the task declines with CHECKPOINT_ASYNC_EXCEPTION).
    """
    checkpoint_id = checkpoint_id_of(directory)
    if checkpoint_id is None:
        raise ValueError(f"incremental state goes to a chk-<n> directory, not {directory}")
    groups = key_groups or KeyGroupRange.of(snapshot.key_group_range)
    try:
        previous = snapshot.uploads.reusable(checkpoint_id, _completed(directory)) if snapshot.uploads else {}
        shared: dict[str, StreamStateHandle] = {}
        private: dict[str, StreamStateHandle] = {}
        local = snapshot.ensure_local()
        for name in snapshot.files():
            if name.endswith(".sst"):
                handle = previous.get(name)
                if handle is None:
                    with open(os.path.join(local, name), "rb") as file:
                        handle = storage.write_state_file(shared_directory, file.read())
                shared[name] = handle
            else:
                with open(os.path.join(local, name), "rb") as file:
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


def _download(handle: IncrementalKeyedStateHandle, directory: str) -> None:
    """Write the files of ``handle`` into ``directory`` (a :class:`RocksDBSnapshot`'s fetcher; picklable)."""
    for name, stream in [*handle.shared.items(), *handle.private.items()]:
        if isinstance(stream, ByteStreamStateHandle):
            data = stream.data
        else:
            data = get_file_system(stream.path).read(stream.path)
        with open(os.path.join(directory, name), "wb") as file:
            file.write(data)


def read_incremental(storage: CheckpointStorage, handle: IncrementalKeyedStateHandle,
                     local_dir: Optional[str] = None, *, lazy: bool = False) -> RocksDBSnapshot:
    """A single-use :class:`RocksDBSnapshot` of ``handle``'s files: downloaded now into a new directory under
    ``local_dir`` (the system temp directory by default), or with ``lazy`` when first used, wherever that is (the
    JobMaster reads the meta stream only, the task downloads the files).

    Raises:
        FileSystemError: a file cannot be read.
        ValueError: the handle has no meta stream.
    """
    if handle.meta is None:
        raise ValueError(f"incremental keyed state of checkpoint {handle.checkpoint_id} has no meta stream")
    meta = pickle.loads(storage.read_stream(handle.meta))
    start, end = meta["key_groups"]
    snapshot = RocksDBSnapshot(meta["max_parallelism"], dict(meta["kinds"]), set(meta["ttl_states"]), None,
                               range(start, end + 1), meta["heap_groups"], checkpoint_id=handle.checkpoint_id,
                               owned=True, fetcher=functools.partial(_download, handle))
    if not lazy:
        snapshot.ensure_local(os.path.join(local_dir or tempfile.gettempdir(), "yflink-rocksdb"))
    return snapshot


def read_incremental_keyed(storage: CheckpointStorage, handles: list[IncrementalKeyedStateHandle],
                           full: Optional[KeyedStateSnapshot], subtask_index: int,
                           parallelism: int) -> KeyedStateSnapshot:
    """The keyed state new subtask ``subtask_index`` of ``parallelism`` restores from incremental ``handles``
    (plus ``full``, what its full handles gave): a remote :class:`RocksDBSnapshot` when it is the only source,
    else a :class:`CompositeKeyedSnapshot` of remote ones (and ``full``) cut to the subtask's key groups. Nothing
    is downloaded here: the files are fetched where the state is restored (the task).

    Raises:
        FileSystemError: a meta stream cannot be read.
    """
    remote = [read_incremental(storage, handle, lazy=True) for handle in handles]
    if len(remote) == 1 and full is None:
        return remote[0]
    parts: list[KeyedStateSnapshot] = [*remote, *([full] if full is not None else [])]
    own = key_group_range(parts[0].max_parallelism, parallelism, subtask_index)
    return CompositeKeyedSnapshot(parts, own)
