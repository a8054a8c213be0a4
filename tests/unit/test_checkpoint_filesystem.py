"""The filesystem interface under checkpoint storage (``file://`` now, ``hdfs://`` through the same interface).

Flink documentation, "Checkpointing" > "Checkpoint Storage": checkpoints go to a filesystem every process can
reach (``execution.checkpointing.dir``); metadata must never be seen half-written.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from yflink.fs import (
    FileSystem,
    FileSystemError,
    UnsupportedFileSystemError,
    get_file_system,
    join,
    name_of,
    normalize,
    parent_of,
    register_file_system,
    relative_to,
    scheme_of,
)
from yflink.fs import base as fs_base
from yflink.fs.local import LocalFileSystem


def test_uris_normalize_and_join() -> None:
    assert normalize("/tmp/a/../b/") == "file:///tmp/b"
    assert normalize("file:///tmp//x/./y") == "file:///tmp/x/y"
    assert normalize("hdfs://nn:8020/flink/chk/") == "hdfs://nn:8020/flink/chk"
    assert join("file:///tmp/chk", "job", "chk-1") == "file:///tmp/chk/job/chk-1"
    assert parent_of("hdfs://nn/a/b/_metadata") == "hdfs://nn/a/b"
    assert name_of("file:///a/b/_metadata") == "_metadata"
    assert relative_to("file:///a/b/c/d", "file:///a/b") == "c/d"
    assert relative_to("file:///a/x", "file:///a/b") is None
    assert relative_to("hdfs://nn/a/b/c", "file:///a/b") is None
    assert scheme_of("/plain/path") == "file"
    with pytest.raises(FileSystemError, match="absolute"):
        normalize("relative/path")


def test_local_atomic_write_read_list_delete(tmp_path: Path) -> None:
    fs = get_file_system(str(tmp_path))
    assert isinstance(fs, LocalFileSystem) and isinstance(fs, FileSystem)
    target = join(str(tmp_path), "d", "e", "file.bin")
    fs.write_atomic(target, b"0123456789")
    assert fs.read(target) == b"0123456789"
    assert fs.read(target, offset=3, length=4) == b"3456"
    assert fs.size(target) == 10
    fs.write_atomic(target, b"new")
    assert fs.read(target) == b"new"
    # no temporary files are left behind
    assert fs.list_dir(join(str(tmp_path), "d", "e")) == ["file.bin"]
    assert fs.is_dir(join(str(tmp_path), "d")) and not fs.is_dir(target)
    assert fs.list_dir(join(str(tmp_path), "missing")) == []
    fs.rename(target, join(str(tmp_path), "d", "moved"))
    assert not fs.exists(target)
    fs.delete(join(str(tmp_path), "d"), recursive=True)
    assert not fs.exists(join(str(tmp_path), "d"))
    fs.delete(join(str(tmp_path), "d"), recursive=True)  # missing: no error
    with pytest.raises(FileSystemError, match="Could not read"):
        fs.read(target)


def test_failed_atomic_write_leaves_no_file(tmp_path: Path) -> None:
    """An interrupted write never leaves a partial file under the target name."""
    fs = LocalFileSystem()
    blocked = tmp_path / "ro"
    blocked.mkdir()
    os.chmod(blocked, 0o500)
    try:
        if os.access(blocked, os.W_OK):  # running as root: permissions do not stop us
            pytest.skip("permissions are not enforced for this user")
        with pytest.raises(FileSystemError, match="Could not write"):
            fs.write_atomic(join(str(blocked), "_metadata"), b"x")
        assert os.listdir(blocked) == []
    finally:
        os.chmod(blocked, 0o700)


def test_hdfs_plugs_in_by_scheme_and_missing_client_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from yflink.fs.hdfs import HdfsFileSystem

    assert isinstance(get_file_system("hdfs://nn:8020/flink"), HdfsFileSystem)  # no connection until first use
    monkeypatch.setitem(sys.modules, "hdfs_native", None)  # the client library is not installed
    monkeypatch.delitem(fs_base._INSTANCES, "hdfs")
    with pytest.raises(UnsupportedFileSystemError, match="hdfs://.*pip install hdfs-native"):
        get_file_system("hdfs://nn:8020/flink")
    with pytest.raises(UnsupportedFileSystemError, match="No filesystem for scheme 's3://'"):
        get_file_system("s3://bucket/x")

    class Memory(LocalFileSystem):
        pass

    register_file_system("mem", Memory)
    try:
        assert isinstance(get_file_system("mem://x/y"), Memory)
    finally:
        fs_base._FACTORIES.pop("mem")
        fs_base._INSTANCES.pop("mem", None)
