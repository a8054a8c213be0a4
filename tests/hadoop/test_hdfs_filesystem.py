"""yflink's ``hdfs://`` filesystem (:mod:`yflink.fs.hdfs`, hdfs-native) on the dev cluster's real HDFS: the
:class:`yflink.fs.base.FileSystem` contract checkpoint storage relies on, checked against ``hdfs dfs``, and a
checkpoint's ``_metadata`` written and read back through :class:`yflink.checkpoint.storage.CheckpointStorage`
(Flink documentation "Checkpoints" > "Directory Structure")."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.hadoop.devstack import run
from yflink.fs import base as fs_base
from yflink.fs.base import FileSystemError, get_file_system, join
from yflink.fs.hdfs import HdfsFileSystem

pytestmark = pytest.mark.hdfs


@pytest.fixture
def hdfs(hadoop: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[HdfsFileSystem]:
    monkeypatch.setenv("HADOOP_CONF_DIR", hadoop["HADOOP_CONF_DIR"])
    fs_base._INSTANCES.pop("hdfs", None)  # a fresh client that reads this HADOOP_CONF_DIR
    fs = get_file_system("hdfs:///")
    assert isinstance(fs, HdfsFileSystem)
    yield fs
    fs_base._INSTANCES.pop("hdfs", None)


def test_filesystem_contract_on_real_hdfs(hdfs: HdfsFileSystem, hdfs_dir: str, hadoop: dict[str, str]) -> None:
    base = f"hdfs://{hdfs_dir}"  # fs.defaultFS supplies the NameNode
    target = join(base, "d", "e", "file.bin")
    payload = os.urandom(3 * 1024 * 1024 + 17)  # several packets
    hdfs.write_atomic(target, payload)
    assert hdfs.read(target) == payload
    assert hdfs.read(target, offset=1000, length=5) == payload[1000:1005]
    assert hdfs.read(target, offset=len(payload) - 3) == payload[-3:]
    assert hdfs.size(target) == len(payload)
    hdfs.write_atomic(target, b"replaced")
    assert hdfs.read(target) == b"replaced"
    assert hdfs.list_dir(join(base, "d", "e")) == ["file.bin"]  # no temporary file left behind
    assert run(["hdfs", "dfs", "-cat", f"{hdfs_dir}/d/e/file.bin"], env=hadoop).stdout == "replaced"
    assert hdfs.is_dir(join(base, "d")) and not hdfs.is_dir(target) and hdfs.exists(target)
    assert hdfs.list_dir(join(base, "missing")) == []
    hdfs.mkdirs(join(base, "x", "y"))
    hdfs.mkdirs(join(base, "x", "y"))  # exists: no error
    hdfs.rename(target, join(base, "x", "moved"))
    assert not hdfs.exists(target) and hdfs.read(join(base, "x", "moved")) == b"replaced"
    hdfs.delete(join(base, "d"), recursive=True)
    hdfs.delete(join(base, "d"), recursive=True)  # missing: no error
    assert not hdfs.exists(join(base, "d"))
    with pytest.raises(FileSystemError, match="Could not read hdfs://"):
        hdfs.read(target)


def test_checkpoint_metadata_round_trip_on_hdfs(hdfs: HdfsFileSystem, hdfs_dir: str) -> None:
    from yflink.checkpoint.metadata import CheckpointMetadata
    from yflink.checkpoint.storage import CheckpointStorage

    storage = CheckpointStorage("ab" * 16, f"hdfs://{hdfs_dir}/checkpoints")
    storage.initialize_base_locations()
    location = storage.checkpoint_location(7)
    storage.initialize_location(location)
    handle = storage.write_state_file(location.exclusive_dir, b"state bytes")
    assert storage.read_stream(handle) == b"state bytes"
    pointer = storage.write_metadata(location, CheckpointMetadata(checkpoint_id=7, job_id="ab" * 16, timestamp=1))
    assert pointer == f"hdfs://{hdfs_dir}/checkpoints/{'ab' * 16}/chk-7"
    assert storage.read_metadata(pointer).checkpoint_id == 7
    assert [cid for cid, _ in storage.completed_checkpoint_dirs()] == [7]
    assert sorted(hdfs.list_dir(storage.job_dir or "")) == ["chk-7", "shared", "taskowned"]
