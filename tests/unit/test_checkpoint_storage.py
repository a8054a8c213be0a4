"""Checkpoint storage: Flink's layout, the versioned _metadata format, shared-file reference counting.

Flink documentation, "Checkpoints" > "Directory Structure" (``<dir>/<job-id>/{shared,taskowned,chk-<n>}``),
"Savepoints" > "Savepoint format" / "Moving savepoint directories" (self-contained, relocatable; ``_metadata``
marks a complete savepoint), "Checkpointing" > "Checkpoint Storage" and "Incremental checkpoints" (shared files).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from yflink.checkpoint.barriers import SnapshotType
from yflink.checkpoint.errors import CheckpointError, CheckpointMetadataError
from yflink.checkpoint.handles import (
    ByteStreamStateHandle,
    FileStateHandle,
    IncrementalKeyedStateHandle,
    KeyGroupRange,
    KeyGroupsStateHandle,
    OperatorState,
    OperatorStateHandle,
    OperatorStateMode,
    OperatorSubtaskState,
    StateMetaInfo,
    file_paths,
)
from yflink.checkpoint.metadata import CheckpointMetadata, deserialize_metadata, serialize_metadata
from yflink.checkpoint.options import CheckpointCoordinatorConfiguration
from yflink.checkpoint.shared_registry import SharedStateRegistry
from yflink.checkpoint.storage import NON_PERSISTENT_POINTER, CheckpointStorage, JobManagerCheckpointStorage
from yflink.fs import join

JOB = "0123456789abcdef0123456789abcdef"


def storage(tmp_path: Path, **kwargs: object) -> CheckpointStorage:
    return CheckpointStorage(JOB, str(tmp_path / "chk"), str(tmp_path / "sp"), random_hex=lambda: "a1b2c3d4e5f6",
                             **kwargs)  # type: ignore[arg-type]


def test_layout_is_flinks(tmp_path: Path) -> None:
    store = storage(tmp_path)
    location = store.checkpoint_location(7)
    base = f"file://{tmp_path}/chk/{JOB}"
    assert location.exclusive_dir == f"{base}/chk-7" and location.metadata_path == f"{base}/chk-7/_metadata"
    assert (location.shared_dir, location.taskowned_dir) == (f"{base}/shared", f"{base}/taskowned")
    savepoint = store.savepoint_location(8)
    assert savepoint.exclusive_dir == f"file://{tmp_path}/sp/savepoint-012345-a1b2c3d4e5f6"
    assert savepoint.is_savepoint and savepoint.shared_dir is None
    assert store.savepoint_location(8, "hdfs://nn/target").exclusive_dir.startswith("hdfs://nn/target/savepoint-")
    flat = CheckpointStorage(JOB, str(tmp_path / "chk"), create_subdir=False)
    assert flat.checkpoint_location(1).exclusive_dir == f"file://{tmp_path}/chk/chk-1"
    config = CheckpointCoordinatorConfiguration(checkpoints_dir="hdfs:///flink")
    assert CheckpointStorage.from_config(JOB, config).job_dir == f"hdfs:///flink/{JOB}"


def test_missing_directories_are_reported(tmp_path: Path) -> None:
    nothing = CheckpointStorage(JOB, None)
    with pytest.raises(CheckpointError, match="execution.checkpointing.dir"):
        nothing.checkpoint_location(1)
    with pytest.raises(CheckpointError, match="savepoint-dir"):
        nothing.savepoint_location(1)
    assert nothing.completed_checkpoint_dirs() == [] and nothing.list_shared_files() == []


def test_without_a_directory_checkpoints_stay_in_memory(tmp_path: Path) -> None:
    """Flink's JobManagerCheckpointStorage: a non-persistent location, no _metadata on disk, savepoints in files."""
    store = CheckpointStorage.from_config(JOB, CheckpointCoordinatorConfiguration(savepoints_dir=str(tmp_path)))
    assert isinstance(store, JobManagerCheckpointStorage) and not store.is_persistent
    location = store.checkpoint_location(3)
    assert not location.persistent and location.exclusive_dir == "" and location.shared_dir is None
    store.initialize_location(location)
    metadata = CheckpointMetadata(checkpoint_id=3, job_id=JOB, timestamp=1000, operators=[])
    assert store.write_metadata(location, metadata) == NON_PERSISTENT_POINTER
    store.discard_location(NON_PERSISTENT_POINTER)
    assert list(tmp_path.iterdir()) == []  # nothing touched the disk
    with pytest.raises(CheckpointMetadataError, match="JobMaster's memory"):
        store.read_metadata(NON_PERSISTENT_POINTER)
    savepoint = store.savepoint_location(4)
    assert savepoint.persistent and savepoint.exclusive_dir.startswith(f"file://{tmp_path}/savepoint-")


def _metadata(location_dir: str, shared_dir: str) -> CheckpointMetadata:
    keyed = KeyGroupsStateHandle(KeyGroupRange(0, 3), (0, 10, 10, 25), FileStateHandle(join(location_dir, "k0"), 40))
    incremental = IncrementalKeyedStateHandle(
        "backend-1", 7, KeyGroupRange(4, 7),
        shared={"000001.sst": FileStateHandle(join(shared_dir, "sst-1"), 100)},
        private={"MANIFEST": FileStateHandle(join(location_dir, "manifest"), 5)},
        meta=ByteStreamStateHandle("meta", b"\x00\x01"))
    ops = OperatorStateHandle({"offsets": StateMetaInfo(OperatorStateMode.SPLIT_DISTRIBUTE, 3),
                               "rules": StateMetaInfo(OperatorStateMode.BROADCAST, 2)},
                              ByteStreamStateHandle("op", b"pickled"))
    return CheckpointMetadata(7, JOB, 1_700_000_000_000, SnapshotType.CHECKPOINT, [
        OperatorState("a" * 32, 2, 8, {0: OperatorSubtaskState([keyed], [ops]),
                                        1: OperatorSubtaskState([incremental], [])}, uid="counts"),
        OperatorState("b" * 32, 1, 128, {}, fully_finished=True),
    ])


def test_metadata_round_trip_with_relative_exclusive_and_absolute_shared_paths(tmp_path: Path) -> None:
    store = storage(tmp_path)
    location = store.checkpoint_location(7)
    assert location.shared_dir is not None
    metadata = _metadata(location.exclusive_dir, location.shared_dir)
    data = serialize_metadata(metadata, base_dir=location.exclusive_dir)
    assert data.startswith(b"YFLINK-CHECKPOINT-METADATA 1\n")
    assert b'"relative": "k0"' in data and f'"path": "{location.shared_dir}/sst-1"'.encode() in data
    assert deserialize_metadata(data, "x", base_dir=location.exclusive_dir) == metadata
    op = metadata.operators[0]
    assert file_paths(op.stream_handles(), shared=True) == [f"{location.shared_dir}/sst-1"]
    assert sorted(file_paths(op.stream_handles(), shared=False)) == sorted(
        [join(location.exclusive_dir, "k0"), join(location.exclusive_dir, "manifest")])


GOLDEN_V1 = b"""YFLINK-CHECKPOINT-METADATA 1
{"checkpoint_id": 3, "job_id": "0123456789abcdef0123456789abcdef", "timestamp": 1000,
 "snapshot_type": "SAVEPOINT",
 "operators": [{"operator_id": "cccccccccccccccccccccccccccccccc", "uid": "src", "parallelism": 1,
   "max_parallelism": 128, "fully_finished": false,
   "subtasks": {"0": {"keyed": [{"type": "key-groups", "key_groups": [0, 1], "offsets": [0, 7],
                                 "stream": {"relative": "state-0", "size": 9}}],
                      "operator": [{"states": {"splits": {"mode": "UNION", "count": 2}},
                                    "stream": {"inline": "AAE=", "name": "op"}}]}}}]}
"""


def test_version_1_files_stay_readable() -> None:
    """The format is versioned; every later yflink must still read this version-1 file."""
    metadata = deserialize_metadata(GOLDEN_V1, "golden", base_dir="file:///moved/savepoint-x")
    assert metadata.checkpoint_id == 3 and metadata.snapshot_type is SnapshotType.SAVEPOINT
    subtask = metadata.operators[0].subtasks[0]
    keyed = subtask.keyed[0]
    assert isinstance(keyed, KeyGroupsStateHandle)
    assert keyed.stream == FileStateHandle("file:///moved/savepoint-x/state-0", 9)
    assert subtask.operator[0].stream == ByteStreamStateHandle("op", b"\x00\x01")
    assert subtask.operator[0].states["splits"] == StateMetaInfo(OperatorStateMode.UNION, 2)


@pytest.mark.parametrize("data,message", [
    (b"YFLINK-CHECKPOINT-METADATA 2\n{}", "version 2, written by a newer yflink"),
    (b"\x00\x01binary junk", "is not a yflink checkpoint metadata file"),
    (b"YFLINK-CHECKPOINT-METADATA 1\n{\"checkpoint_id\": ", "is corrupt"),
    (b"YFLINK-CHECKPOINT-METADATA 1\n{\"checkpoint_id\": 1}", "is corrupt"),
])
def test_unusable_metadata_gives_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(CheckpointMetadataError, match=message):
        deserialize_metadata(data, "file:///x/_metadata")


def test_savepoints_are_relocatable(tmp_path: Path) -> None:
    """Savepoints > Moving savepoint directories: a copied savepoint restores from its new place."""
    store = storage(tmp_path)
    location = store.savepoint_location(9)
    store.initialize_location(location)
    handle = store.write_state_file(location.exclusive_dir, b"state bytes")
    metadata = CheckpointMetadata(9, JOB, 5, SnapshotType.SAVEPOINT, [
        OperatorState("d" * 32, 1, 128, {0: OperatorSubtaskState(
            [KeyGroupsStateHandle(KeyGroupRange(0, 0), (0,), handle)], [])})])
    pointer = store.write_metadata(location, metadata)
    moved = tmp_path / "elsewhere"
    shutil.move(str(tmp_path / "sp" / "savepoint-012345-a1b2c3d4e5f6"), str(moved))
    restored = store.read_metadata(str(moved))
    keyed = restored.operators[0].subtasks[0].keyed[0]
    assert isinstance(keyed, KeyGroupsStateHandle) and keyed.stream.path == f"file://{moved}/{Path(handle.path).name}"
    assert store.read_stream(keyed.stream) == b"state bytes"
    assert store.read_stream(keyed.stream, 6, 5) == b"bytes"
    assert pointer.endswith("savepoint-012345-a1b2c3d4e5f6")
    assert store.read_metadata(f"file://{moved}/_metadata").checkpoint_id == 9


def test_latest_readable_checkpoint_skips_unfinished_and_corrupt_ones(tmp_path: Path) -> None:
    """A corrupt or missing _metadata gives a clear error and the previous checkpoint is used (issue 5, 7e)."""
    store = storage(tmp_path)
    store.initialize_base_locations()
    for n in (1, 2, 3, 4):
        location = store.checkpoint_location(n)
        store.initialize_location(location)
        if n in (1, 2, 3):
            store.write_metadata(location, CheckpointMetadata(n, JOB, n))
    (tmp_path / "chk" / JOB / "chk-3" / "_metadata").write_bytes(b"YFLINK-CHECKPOINT-METADATA 1\n{broken")
    assert [n for n, _ in store.completed_checkpoint_dirs()] == [3, 2, 1]  # chk-4 never completed
    metadata, problems = store.latest_readable_checkpoint()
    assert metadata is not None and metadata.checkpoint_id == 2
    assert len(problems) == 1 and "chk-3/_metadata is corrupt" in problems[0]
    with pytest.raises(CheckpointMetadataError, match="does not exist"):
        store.read_metadata(store.checkpoint_location(4).exclusive_dir)


def test_shared_files_are_deleted_only_when_no_retained_checkpoint_uses_them() -> None:
    """Incremental checkpoints: a shared file lives as long as some retained checkpoint lists it."""
    registry = SharedStateRegistry()
    registry.register_checkpoint(1, ["a", "b"])
    registry.register_checkpoint(2, ["b", "c"])
    assert registry.unreferenced(["a", "x", "c"]) == ["x"]
    assert registry.unregister_checkpoint(1) == ["a"]
    registry.register_checkpoint(3, ["c", "d"])
    assert registry.unregister_checkpoint(2) == ["b"]
    assert registry.registered_files() == {"c", "d"} and len(registry) == 2
    assert registry.unregister_checkpoint(2) == []  # twice: nothing more
    assert registry.unregister_checkpoint(3) == ["c", "d"] and not registry.is_registered("c")
