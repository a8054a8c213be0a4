"""The YARN application master's configuration under ZooKeeper HA (Flink "High Availability" > YARN): the
application id as cluster id, the fixed application job id, job results kept while the application runs, the
checkpoint-directory scan only without HA; and its wait for its own JobManager to lead."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from yflink.common import config_options as opts
from yflink.deploy.yarn.appmaster import cluster_configuration, wait_until_leading, yarn_ha_cluster_id
from yflink.runtime.highavailability import application_job_id

APP = "application_1700000000000_0042"
HA = {"high-availability.type": "zookeeper", "high-availability.zookeeper.quorum": "localhost:2181",
      "high-availability.storageDir": "hdfs:///ha"}


def conf_dir(tmp_path: Path, values: dict[str, str]) -> str:
    (tmp_path / "config.yaml").write_text("".join(f"{k}: {v}\n" for k, v in values.items()))
    return str(tmp_path)


@pytest.fixture
def second_attempt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A second attempt's container whose checkpoint directory holds a completed checkpoint of attempt 1."""
    monkeypatch.setenv("SKEIN_APPLICATION_ID", APP)
    monkeypatch.setenv("CONTAINER_ID", "container_e01_1700000000000_0042_02_000001")
    chk = tmp_path / "chk" / APP / ("ab" * 16) / "chk-7"
    chk.mkdir(parents=True)
    (chk / "_metadata").write_bytes(b"x")
    return tmp_path / "chk"


def test_under_ha_the_application_id_is_the_cluster_id_and_fixes_the_job_id(second_attempt: Path,
                                                                             tmp_path: Path) -> None:
    conf = cluster_configuration("application", conf_dir(tmp_path, {
        **HA, "execution.checkpointing.dir": f"file://{second_attempt}"}))
    assert conf.get(opts.HA_CLUSTER_ID) == APP
    assert conf.get(opts.PIPELINE_FIXED_JOB_ID) == application_job_id(APP)
    assert conf.get(opts.JOB_RESULT_STORE_DELETE_ON_COMMIT) is False  # kept until the application's end
    assert not conf.get(opts.STATE_RECOVERY_PATH)  # recovery goes through the HA services, not the scan


def test_without_ha_a_second_attempt_still_restarts_from_the_newest_checkpoint(second_attempt: Path,
                                                                               tmp_path: Path) -> None:
    conf = cluster_configuration("application", conf_dir(tmp_path, {
        "execution.checkpointing.dir": f"file://{second_attempt}"}))
    assert str(conf.get(opts.STATE_RECOVERY_PATH)).endswith(f"{APP}/{'ab' * 16}/chk-7")
    assert not conf.get(opts.PIPELINE_FIXED_JOB_ID)
    assert yarn_ha_cluster_id(conf) is None


def test_a_configured_cluster_id_is_kept_and_a_session_gets_no_fixed_job_id(second_attempt: Path,
                                                                            tmp_path: Path) -> None:
    conf = cluster_configuration("application", conf_dir(tmp_path, {**HA, "high-availability.cluster-id": "mine"}))
    assert conf.get(opts.HA_CLUSTER_ID) == "mine" and yarn_ha_cluster_id(conf) is None
    assert conf.get(opts.PIPELINE_FIXED_JOB_ID) == application_job_id("mine")
    session = cluster_configuration("session", conf_dir(tmp_path, HA))
    assert session.get(opts.HA_CLUSTER_ID) == APP and not session.get(opts.PIPELINE_FIXED_JOB_ID)


class FakeJobManager:
    """Alive until ``dead``; ``on_check`` runs at each liveness check (the master checks once per poll)."""

    def __init__(self) -> None:
        self.dead = False
        self.checks = 0
        self.on_check: Callable[[int], None] = lambda checks: None

    def alive(self) -> bool:
        self.checks += 1
        self.on_check(self.checks)
        return not self.dead


def test_the_master_waits_until_its_own_jobmanager_leads(tmp_path: Path) -> None:
    ready = tmp_path / "jobmanager.ready"
    ready.write_text(json.dumps({"rpc_address": "", "rest_address": "", "high_availability": True}))
    jm = FakeJobManager()

    def lead_at_the_third_poll(checks: int) -> None:
        if checks == 3:
            ready.write_text(json.dumps({"rpc_address": "10.0.0.1:6123", "rest_address": "10.0.0.1:8081"}))

    jm.on_check = lead_at_the_third_poll
    assert wait_until_leading(jm, ready, 10) == ("10.0.0.1:8081", "10.0.0.1:6123")
    assert jm.checks == 3  # it kept polling the standby's ready file until the JobManager led
    jm.on_check = lambda checks: None
    ready.write_text(json.dumps({"rpc_address": "", "rest_address": ""}))
    with pytest.raises(RuntimeError, match="did not become the leader within 0 s"):
        wait_until_leading(jm, ready, 0.3)
    jm.dead = True
    with pytest.raises(RuntimeError, match="died before it led"):
        wait_until_leading(jm, ready, 10)
