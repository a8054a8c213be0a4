"""HDFS of the dev cluster, through `hdfs dfs`/`hdfs dfsadmin` and the hdfs-native client."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.hadoop.devstack import run

pytestmark = pytest.mark.hdfs


def test_dfsadmin_reports_one_live_datanode_and_safe_mode_off(hadoop: dict[str, str]) -> None:
    report = run(["hdfs", "dfsadmin", "-report"], env=hadoop).stdout
    assert "Live datanodes (1)" in report
    assert "Safe mode is OFF" in run(["hdfs", "dfsadmin", "-safemode", "get"], env=hadoop).stdout


def test_dfs_put_then_cat_returns_the_same_bytes(hadoop: dict[str, str], hdfs_dir: str, tmp_path: Path) -> None:
    payload = os.urandom(3 * 1024 * 1024)  # spans several packets
    local = tmp_path / "payload.bin"
    local.write_bytes(payload)
    run(["hdfs", "dfs", "-put", local, f"{hdfs_dir}/payload.bin"], env=hadoop)
    back = tmp_path / "back.bin"
    run(["hdfs", "dfs", "-get", f"{hdfs_dir}/payload.bin", back], env=hadoop)
    assert back.read_bytes() == payload
    listing = run(["hdfs", "dfs", "-ls", hdfs_dir], env=hadoop).stdout
    assert f"{len(payload)} " in listing and "payload.bin" in listing


def test_hdfs_native_writes_and_dfs_sees_it(
    hadoop: dict[str, str], hdfs_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hdfs_native

    monkeypatch.setenv("HADOOP_CONF_DIR", hadoop["HADOOP_CONF_DIR"])
    client = hdfs_native.Client()  # fs.defaultFS from $HADOOP_CONF_DIR/core-site.xml
    path = f"{hdfs_dir}/from-hdfs-native.txt"
    with client.create(path) as f:
        f.write(b"written by hdfs-native\n")
    with client.read(path) as f:
        assert f.read() == b"written by hdfs-native\n"
    assert "from-hdfs-native.txt" in run(["hdfs", "dfs", "-ls", hdfs_dir], env=hadoop).stdout
    assert run(["hdfs", "dfs", "-cat", path], env=hadoop).stdout == "written by hdfs-native\n"


def test_dfs_writes_and_hdfs_native_reads(
    hadoop: dict[str, str], hdfs_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hdfs_native

    monkeypatch.setenv("HADOOP_CONF_DIR", hadoop["HADOOP_CONF_DIR"])
    local = tmp_path / "x.txt"
    local.write_text("written by hdfs dfs\n")
    run(["hdfs", "dfs", "-put", local, f"{hdfs_dir}/x.txt"], env=hadoop)
    client = hdfs_native.Client()
    with client.read(f"{hdfs_dir}/x.txt") as f:
        assert f.read() == b"written by hdfs dfs\n"
    assert [s.path.rsplit("/", 1)[1] for s in client.list_status(hdfs_dir)] == ["x.txt"]
