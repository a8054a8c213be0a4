"""Incremental checkpoints of the RocksDB backend: only new SST files are uploaded to ``shared/``, earlier ones are
referenced, and the SharedStateRegistry deletes what no retained checkpoint uses.

Semantics: Flink documentation "Large State Tuning" > Incremental Checkpoints (a checkpoint uploads the SST files
created since the last one and references the rest; files are reference counted and deleted once no retained
checkpoint uses them), "Checkpoints" > Directory Structure (``shared/``), and "Savepoints" (always canonical).
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from yflink.checkpoint.assignment import assign_state
from yflink.checkpoint.handles import (
    FileStateHandle,
    IncrementalKeyedStateHandle,
    KeyGroupRange,
    KeyGroupsStateHandle,
    OperatorState,
    OperatorSubtaskState,
)
from yflink.checkpoint.incremental import is_incremental_target, read_incremental, write_incremental
from yflink.checkpoint.metadata import CheckpointMetadata
from yflink.checkpoint.options import ExternalizedCheckpointRetention
from yflink.checkpoint.pending import VertexInfo
from yflink.checkpoint.storage import CheckpointStorage
from yflink.checkpoint.store import CheckpointProperties, CompletedCheckpoint, CompletedCheckpointStore
from yflink.checkpoint.task_state import restore_operator_snapshots, write_operator_snapshot
from yflink.datastream import ValueStateDescriptor
from yflink.state.backends.hashmap import HashMapKeyedStateBackend
from yflink.state.backends.rocksdb import RocksDBKeyedStateBackend, RocksDBSnapshot
from yflink.state.key_groups import key_group_range
from yflink.state.snapshot import CompositeKeyedSnapshot, OperatorSnapshot

JOB = "ab" * 16
OP = "cd" * 16
INLINE = 1024


class Job:
    """A job's checkpoint storage and store, driven by hand as the coordinator would."""

    def __init__(self, root: Path, retained: int = 1) -> None:
        self.storage = CheckpointStorage(JOB, f"file://{root}")
        self.storage.initialize_base_locations()
        self.store = CompletedCheckpointStore(retained, taskowned_dir=self.storage.taskowned_dir)

    def upload(self, checkpoint_id: int, backends: list[RocksDBKeyedStateBackend]) -> list[IncrementalKeyedStateHandle]:
        location = self.storage.checkpoint_location(checkpoint_id)
        self.storage.initialize_location(location)
        handles = []
        for backend in backends:
            snapshot = backend.snapshot(checkpoint_id)
            assert self.storage.shared_dir is not None
            assert is_incremental_target(location.exclusive_dir, self.storage.shared_dir, snapshot)
            handles.append(write_incremental(self.storage, location.exclusive_dir, self.storage.shared_dir, snapshot,
                                             KeyGroupRange.of(backend.key_group_range), INLINE))
        return handles

    def complete(self, checkpoint_id: int, handles: list[IncrementalKeyedStateHandle]) -> None:
        location = self.storage.checkpoint_location(checkpoint_id)
        state = OperatorState(OP, len(handles), 128,
                              {i: OperatorSubtaskState(keyed=[h]) for i, h in enumerate(handles)})
        metadata = CheckpointMetadata(checkpoint_id, JOB, int(time.time() * 1000), operators=[state])
        pointer = self.storage.write_metadata(location, metadata)
        checkpoint = CompletedCheckpoint(metadata, pointer, CheckpointProperties.for_checkpoint(
            ExternalizedCheckpointRetention.NO_EXTERNALIZED_CHECKPOINTS), 0)
        for plan in self.store.add(checkpoint):
            for directory in plan.directories:
                self.storage.discard_location(directory)
            self.storage.delete_files(plan.files)

    def shared_files(self) -> set[str]:
        return set(self.storage.list_shared_files())


def paths(handle: IncrementalKeyedStateHandle) -> set[str]:
    return {h.path for h in handle.shared.values() if isinstance(h, FileStateHandle)}


@pytest.fixture
def backends(tmp_path: Path) -> Iterator[Any]:
    made: list[RocksDBKeyedStateBackend] = []

    def make(index: int = 0, parallelism: int = 1) -> RocksDBKeyedStateBackend:
        backend = RocksDBKeyedStateBackend(128, key_group_range(128, parallelism, index),
                                           local_dir=str(tmp_path / "local"), incremental=True)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.dispose()


def fill(backend: Any, keys: range, tag: str) -> None:
    state = backend.get_state(ValueStateDescriptor("v"))
    other = backend.get_state(ValueStateDescriptor("w"))
    for key in keys:
        if backend.key_group_of(key) in backend.key_group_range:
            backend.set_current_key(key)
            state.update(f"{tag}-{key}" * 10)
            other.update(key)


def test_second_checkpoint_uploads_only_new_files_and_subsumption_leaves_no_orphans(tmp_path: Path,
                                                                                    backends: Any) -> None:
    job, backend = Job(tmp_path / "chk"), backends()
    fill(backend, range(20_000), "a")
    [first] = job.upload(1, [backend])
    job.complete(1, [first])
    assert paths(first) and job.shared_files() == paths(first)
    uploaded_once = job.shared_files()

    fill(backend, range(0, 20_000, 100), "b")  # 1 % of the keys change
    [second] = job.upload(2, [backend])
    new = paths(second) - paths(first)
    assert paths(first) <= paths(second)  # nothing compacted away yet: every old file is referenced again
    assert new and job.shared_files() == uploaded_once | new
    new_bytes = sum(h.size for h in second.shared.values() if isinstance(h, FileStateHandle) and h.path in new)
    old_bytes = sum(h.size for h in first.shared.values() if isinstance(h, FileStateHandle))
    assert new_bytes < old_bytes / 10, (new_bytes, old_bytes)
    job.complete(2, [second])  # subsumes 1: its files are all still used by 2
    assert job.shared_files() == paths(second)

    backend.db.get_column_family("s:v").compact_range(None, None)  # merges the SST files of state v
    [third] = job.upload(3, [backend])
    job.complete(3, [third])  # subsumes 2: the compacted-away files go
    assert job.shared_files() == paths(third)
    assert paths(second) - paths(third)


def test_an_aborted_checkpoints_uploads_are_not_reused(tmp_path: Path, backends: Any) -> None:
    """Only files of a completed checkpoint are referenced again (the JobMaster deletes an aborted checkpoint's new
    shared files, as Flink's backend reuses only confirmed uploads)."""
    job, backend = Job(tmp_path / "chk"), backends()
    fill(backend, range(3000), "a")
    [first] = job.upload(1, [backend])
    job.complete(1, [first])
    fill(backend, range(0, 3000, 10), "b")
    [aborted] = job.upload(2, [backend])  # never completes
    job.storage.delete_files(paths(aborted) - paths(first))  # what the coordinator does on abort
    fill(backend, range(0, 3000, 7), "c")
    [third] = job.upload(3, [backend])
    assert not (paths(aborted) - paths(first)) & paths(third)
    assert all(Path(p.removeprefix("file://")).exists() for p in paths(third))


def test_restore_of_an_incremental_checkpoint_into_rocksdb_hashmap_and_another_parallelism(
        tmp_path: Path, backends: Any) -> None:
    job = Job(tmp_path / "chk")
    old = [backends(i, 2) for i in range(2)]
    for backend in old:
        fill(backend, range(2000), "x")
    handles = job.upload(1, old)
    job.complete(1, handles)
    expected = {}
    for backend in old:
        expected.update(dict(backend.table("v").items()))

    same = backends(1, 2)  # same key groups: opens the downloaded files
    same.restore([read_incremental(job.storage, handles[1], str(tmp_path / "local"))])
    assert dict(same.table("v").items()) == {k: v for k, v in expected.items()
                                             if same.key_group_of(k) in same.key_group_range}

    heap = HashMapKeyedStateBackend(128)
    heap.restore([read_incremental(job.storage, h, str(tmp_path / "local")) for h in handles])
    assert heap.tables()["v"] == expected

    merged = backends(0, 1)  # 2 -> 1: key groups copied from both
    merged.restore([read_incremental(job.storage, h, str(tmp_path / "local")) for h in handles])
    assert dict(merged.table("v").items()) == expected
    assert not list((tmp_path / "local" / "yflink-rocksdb").glob("restore-*"))  # downloads are deleted once used


def test_savepoint_locations_are_never_incremental(tmp_path: Path, backends: Any) -> None:
    job, backend = Job(tmp_path / "chk"), backends()
    fill(backend, range(10), "a")
    snapshot = backend.snapshot(1)
    savepoint = job.storage.savepoint_location(1, f"file://{tmp_path / 'sp'}")
    checkpoint = job.storage.checkpoint_location(1)
    assert not is_incremental_target(savepoint.exclusive_dir, savepoint.shared_dir, snapshot)
    assert is_incremental_target(checkpoint.exclusive_dir, checkpoint.shared_dir, snapshot)
    assert not is_incremental_target(checkpoint.exclusive_dir, checkpoint.shared_dir,
                                     HashMapKeyedStateBackend(128).snapshot())


@pytest.mark.parametrize("source", ["hashmap", "rocksdb", "rocksdb-incremental"])
@pytest.mark.parametrize("target", ["hashmap", "rocksdb"])
@pytest.mark.parametrize("old,new", [(2, 2), (2, 3)])
def test_checkpoint_through_task_state_restores_into_either_backend(tmp_path: Path, source: str, target: str,
                                                                    old: int, new: int) -> None:
    """7d at the snapshot level: keyed state written by one backend (through the tasks' upload,
    write_operator_snapshot) restores into the other (through the JobMaster's assignment and
    restore_operator_snapshots), at the same and another parallelism; only incremental rocksdb writes shared/."""
    storage = CheckpointStorage(JOB, f"file://{tmp_path / 'chk'}")
    storage.initialize_base_locations()
    location = storage.checkpoint_location(1)
    storage.initialize_location(location)
    local = str(tmp_path / "local")

    def backend(kind: str, index: int, parallelism: int) -> Any:
        groups = key_group_range(16, parallelism, index)
        if kind == "hashmap":
            return HashMapKeyedStateBackend(16, groups)
        return RocksDBKeyedStateBackend(16, groups, local_dir=local, incremental=kind.endswith("incremental"))

    state = OperatorState(OP, old, 16)
    expected: dict[Any, Any] = {}
    for index in range(old):
        writer = backend(source, index, old)
        fill(writer, range(500), source)
        expected.update(dict(writer.table("v").items()))
        snapshot = OperatorSnapshot(index, old, writer.snapshot())
        state.subtasks[index] = write_operator_snapshot(
            storage, location.exclusive_dir, snapshot, KeyGroupRange.of(writer.key_group_range), inline_threshold=0,
            shared_directory=storage.shared_dir)
        kind = IncrementalKeyedStateHandle if source == "rocksdb-incremental" else KeyGroupsStateHandle
        assert isinstance(state.subtasks[index].keyed[0], kind)
    assert bool(storage.list_shared_files()) == (source == "rocksdb-incremental")
    metadata = CheckpointMetadata(1, JOB, 0, operators=[state])
    assignment = assign_state(metadata, [VertexInfo("v", new, 16, (OP,))])
    restored: dict[Any, Any] = {}
    composites = 0  # subtasks whose key groups come from two old subtasks' files
    for index in range(new):
        # the JobMaster reads the assignment and ships it pickled in the deployment
        in_jobmaster = restore_operator_snapshots(storage, assignment[("v", index)].operators[OP], index, new)
        keyed = in_jobmaster[index].keyed
        if source == "rocksdb-incremental":  # the task downloads the files, not the JobMaster
            parts = keyed.parts if isinstance(keyed, CompositeKeyedSnapshot) else [keyed]
            assert isinstance(keyed, RocksDBSnapshot if len(parts) == 1 else CompositeKeyedSnapshot)
            composites += len(parts) > 1
            assert all(isinstance(p, RocksDBSnapshot) and p.path is None for p in parts)
        snapshots = pickle.loads(pickle.dumps(in_jobmaster))
        reader = backend(target, index, new)
        reader.restore([s.keyed for s in snapshots if s.keyed is not None])
        if isinstance(reader, RocksDBKeyedStateBackend):
            adopted = os.path.basename(reader.db.path()) != "db"
            assert adopted == (source == "rocksdb-incremental" and old == new)
        table = dict(reader.table("v").items())
        assert all(reader.key_group_of(k) in reader.key_group_range for k in table)
        restored.update(table)
    assert restored == expected
    assert composites == (1 if source == "rocksdb-incremental" and (old, new) == (2, 3) else 0)
