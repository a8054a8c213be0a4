"""What the stack's scripts promise beyond the services: status output and idempotent start."""

from __future__ import annotations

import re

import pytest

from tests.hadoop import devstack
from tests.hadoop.devstack import run

CLUSTER = devstack.YARN_DIR / "cluster.sh"


def pids() -> dict[str, str]:
    out = run([CLUSTER, "status"]).stdout
    return dict(re.findall(r"^(\w+)\s+running \(pid (\d+)\)", out, re.M))


@pytest.mark.hdfs
@pytest.mark.yarn
def test_status_names_conf_dir_filesystem_rm_and_daemons(hadoop: dict[str, str]) -> None:
    out = run([CLUSTER, "status"]).stdout
    assert f"HADOOP_CONF_DIR  {devstack.RUN_DIR / 'conf'}" in out
    assert "fs.defaultFS     hdfs://localhost:8020" in out
    assert "resourcemanager  localhost:8032" in out
    assert set(pids()) == {"namenode", "datanode", "resourcemanager", "nodemanager"}


@pytest.mark.hdfs
@pytest.mark.yarn
def test_start_again_is_idempotent(hadoop: dict[str, str]) -> None:
    before = pids()
    out = run([CLUSTER, "start"], timeout=devstack.SCRIPT_TIMEOUT_S)
    assert "already running" in out.stderr
    assert pids() == before


@pytest.mark.hdfs
@pytest.mark.yarn
def test_env_prints_exports_for_a_shell(hadoop: dict[str, str]) -> None:
    out = run([CLUSTER, "env"]).stdout
    assert f"export HADOOP_CONF_DIR='{devstack.RUN_DIR / 'conf'}'" in out
    assert str(devstack.YARN_DIR / "bin") in out
