"""YARN application mode with ZooKeeper HA on the real stack (Flink "High Availability" > YARN): a new
application-master attempt recovers through the HA services (JobGraphStore, completed checkpoint store), never
submits the job twice, and does not run a job again that the JobResultStore records as finished; the
application's end removes its HA data.

Each test runs ``yflink run -t yarn-application`` with ``high-availability.type: zookeeper`` in its own ZooKeeper
chroot and HDFS directory; ``high-availability.cluster-id`` is left to default to the application id.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hadoop.devstack import run, wait_for
from tests.hadoop.test_yarn import aggregated_logs, app_state
from tests.hadoop.test_yarn_deploy import (
    FLAGS,
    INTEGRATION_JOBS,
    JOBS,
    RUN_TIMEOUT_S,
    app_id_of,
    committed_numbers,
    kill_application_master,
    rm_get,
    yflink_cmd,
)
from yflink.runtime.highavailability import application_job_id

pytestmark = [pytest.mark.yarn, pytest.mark.zookeeper, pytest.mark.hdfs]
pytest.importorskip("skein", reason="the YARN client needs skein: bash yarn/setup.sh (or pip install 'yflink[yarn]')")
pytest.importorskip("kazoo", reason="ZooKeeper HA needs kazoo (pip install 'yflink[ha]')")
SESSION_TIMEOUT_S = 6  # the lost attempt's ZooKeeper session must expire before the next JobManager leads


@pytest.fixture
def yarn_env(hadoop: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return dict(hadoop, SKEIN_CONFIG=str(tmp_path / "skein"), PYTHONUNBUFFERED="1")


@pytest.fixture
def zk(zk_chroot: str) -> Iterator[object]:
    """A kazoo client in this test's chroot."""
    from kazoo.client import KazooClient

    client = KazooClient(hosts=zk_chroot, timeout=15)
    client.start(timeout=30)
    try:
        yield client
    finally:
        client.stop()
        client.close()


def ha_flags(zk_chroot: str, hdfs_dir: str) -> list[str]:
    return ["-D", "high-availability.type=zookeeper", "-D", f"high-availability.zookeeper.quorum={zk_chroot}",
            "-D", f"high-availability.storageDir=hdfs://{hdfs_dir}/ha",
            "-D", f"high-availability.zookeeper.client.session-timeout={SESSION_TIMEOUT_S} s",
            "-D", "yarn.application-attempts=2"]


def hdfs_files(path: str, env: dict[str, str]) -> list[str]:
    """Every file below ``path`` (``hdfs dfs -ls -R``); empty when it does not exist."""
    out = run(["hdfs", "dfs", "-ls", "-R", path], env=env, check=False).stdout
    return [line.split()[-1] for line in out.splitlines() if line.startswith("-")]


def leader_info(zk: object, app_id: str) -> dict[str, str] | None:
    """The published leader of the application's HA cluster (its REST address and session id), or None."""
    try:
        data = zk.get(f"/flink/{app_id}/leader/connection_info")[0]  # type: ignore[attr-defined]
        return json.loads(data) if data else None  # type: ignore[no-any-return]
    except Exception:  # noqa: BLE001 - no leader right now (NoNodeError)
        return None


def job_state(rest_address: str, job_id: str) -> str | None:
    try:
        with urllib.request.urlopen(f"http://{rest_address}/jobs/{job_id}", timeout=5) as resp:
            return str(json.loads(resp.read())["state"])
    except (OSError, ValueError, KeyError):
        return None


def check_ha_data_removed(app_id: str, zk: object, hdfs_dir: str, env: dict[str, str]) -> None:
    """The application's end removed its znodes, job graph blobs and job results."""
    assert not zk.exists(f"/flink/{app_id}"), zk.get_children(f"/flink/{app_id}")  # type: ignore[attr-defined]
    assert hdfs_files(f"{hdfs_dir}/ha", env) == []


def test_a_lost_application_master_recovers_the_job_through_the_ha_services(
    yarn_env: dict[str, str], tmp_path: Path, yarn_apps: list[tuple[str, dict[str, str]]], zk_chroot: str,
    zk: object, hdfs_dir: str
) -> None:
    n, output = 60_000, tmp_path / "out"
    proc = subprocess.Popen(
        yflink_cmd("run", "-t", "yarn-application", *FLAGS, *ha_flags(zk_chroot, hdfs_dir),
                   "-D", "execution.checkpointing.interval=300 ms",
                   "-D", f"execution.checkpointing.dir=hdfs://{hdfs_dir}/chk",
                   str(INTEGRATION_JOBS / "slow_numbers_to_files.py"), str(n), str(output)),
        env=yarn_env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        app_id = app_id_of(proc.stdout.readline())
        yarn_apps.append((app_id, yarn_env))
        job_id = application_job_id(app_id)  # fixed: derived from the cluster id, the application id
        checkpoints = f"/flink/{app_id}/checkpoints/{job_id}"
        wait_for(lambda: zk.exists(checkpoints) and zk.get_children(checkpoints),  # type: ignore[attr-defined]
                 180, "a completed checkpoint in the HA store", interval_s=0.2)
        blobs = hdfs_files(f"{hdfs_dir}/ha/{app_id}", yarn_env)
        assert len(blobs) == 1 and f"submittedJobGraph-{job_id}-" in blobs[0], blobs
        first_leader = json.loads(zk.get(f"/flink/{app_id}/leader/connection_info")[0])  # type: ignore[attr-defined]
        committed_before = len(committed_numbers(output))
        killed_at = time.monotonic()
        kill_application_master(app_id)
        second = wait_for(lambda: (lambda i: i if i and i["session_id"] != first_leader["session_id"] else None)(
            leader_info(zk, app_id)), 120, "attempt 2's JobManager to lead")
        wait_for(lambda: job_state(second["rest_address"], job_id) in ("RUNNING", "FINISHED"), 60,
                 "the job RUNNING under attempt 2")
        running_s = time.monotonic() - killed_at
        wait_for(lambda: len(committed_numbers(output)) > committed_before, 120, "new committed output")
        output_s = time.monotonic() - killed_at
        out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
        ended_s = time.monotonic() - killed_at
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
    assert proc.returncode == 0, out + err
    attempts = rm_get(f"/ws/v1/cluster/apps/{app_id}/appattempts")["appAttempts"]["appAttempt"]
    assert len(attempts) == 2
    assert app_state(app_id, yarn_env) == ("FINISHED", "SUCCEEDED")
    assert committed_numbers(output) == list(range(1, n + 1))
    logs = aggregated_logs(app_id, yarn_env, "attaches to the job recovered")
    # attempt 2 recovered the job from the JobGraphStore and its newest HA checkpoint; main attached to it
    assert f"Recovered job slow numbers ({job_id}) from the JobGraphStore" in logs
    assert f"Job {job_id} recovered by the leader from checkpoint" in logs
    assert f"Submission of job {job_id} attaches to the job recovered from the JobGraphStore" in logs
    assert "the job restarts from" not in logs  # not the checkpoint-directory scan of applications without HA
    assert logs.count(f"Submitted job slow numbers ({job_id})") == 1  # submitted once, by attempt 1
    check_ha_data_removed(app_id, zk, hdfs_dir, yarn_env)
    print(f"application master killed: job RUNNING under attempt 2 after {running_s:.1f} s, first new committed "
          f"output after {output_s:.1f} s, application ended after {ended_s:.1f} s "
          f"(session timeout {SESSION_TIMEOUT_S} s)")


def test_a_failover_after_the_job_finished_does_not_run_it_again(
    yarn_env: dict[str, str], tmp_path: Path, yarn_apps: list[tuple[str, dict[str, str]]], zk_chroot: str,
    zk: object, hdfs_dir: str
) -> None:
    n, output, marker = 5_000, tmp_path / "out", tmp_path / "never"
    proc = subprocess.Popen(
        yflink_cmd("run", "-t", "yarn-application", *FLAGS, *ha_flags(zk_chroot, hdfs_dir),
                   str(JOBS / "numbers_then_wait.py"), str(n), str(output), str(marker)),
        env=yarn_env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        app_id = app_id_of(proc.stdout.readline())
        yarn_apps.append((app_id, yarn_env))
        job_id = application_job_id(app_id)
        results = f"{hdfs_dir}/ha/job-result-store/{app_id}"
        # the job FINISHED: its result is in the JobResultStore, kept (marked clean) while the application runs,
        # and its job graph blob and znodes are gone
        wait_for(lambda: hdfs_files(results, yarn_env) == [f"{results}/{job_id}.json"] or None, 180,
                 "the job's clean entry in the JobResultStore", interval_s=1)
        assert committed_numbers(output) == list(range(1, n + 1))
        assert hdfs_files(f"{hdfs_dir}/ha/{app_id}", yarn_env) == []  # the finished job's graph blob
        assert not zk.exists(f"/flink/{app_id}/jobgraphs/{job_id}")  # type: ignore[attr-defined]
        kill_application_master(app_id)  # main still waits for the marker: the application has not ended
        out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
    assert not marker.exists()
    assert proc.returncode == 0, out + err
    assert len(rm_get(f"/ws/v1/cluster/apps/{app_id}/appattempts")["appAttempts"]["appAttempt"]) == 2
    assert app_state(app_id, yarn_env) == ("FINISHED", "SUCCEEDED")
    assert committed_numbers(output) == list(range(1, n + 1))  # not run again: no second copy of the numbers
    logs = aggregated_logs(app_id, yarn_env, "main is not run again")
    assert f"Attempt 2: job {job_id} already reached FINISHED (JobResultStore); main is not run again" in logs
    assert logs.count(f"main: job {job_id} finished") == 1
    check_ha_data_removed(app_id, zk, hdfs_dir, yarn_env)


def test_a_session_attempt_recovers_its_running_job_and_stopping_the_session_removes_its_ha_data(
    yarn_env: dict[str, str], tmp_path: Path, yarn_apps: list[tuple[str, dict[str, str]]], zk_chroot: str,
    zk: object, hdfs_dir: str
) -> None:
    conf = ("-D", f"yarn.properties-file.location={tmp_path}")
    started = subprocess.run(
        yflink_cmd("yarn-session", "start", "-d", "-nm", "yflink-ha-session-test", *FLAGS, *conf,
                   *ha_flags(zk_chroot, hdfs_dir)),
        env=yarn_env, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    app_id = app_id_of(started.stdout)
    yarn_apps.append((app_id, yarn_env))
    assert started.returncode == 0, started.stdout + started.stderr
    submitted = subprocess.run(  # the client finds the session through the properties file, not ZooKeeper
        yflink_cmd("run", "-t", "yarn-session", "-d", *conf, "-D", "execution.checkpointing.interval=300 ms",
                   "-D", f"execution.checkpointing.dir=hdfs://{hdfs_dir}/chk", str(JOBS / "until_cancelled.py")),
        env=yarn_env, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    found = re.search(r"JobID ([0-9a-f]{32})", submitted.stdout + submitted.stderr)
    assert found, submitted.stdout + submitted.stderr
    job_id = found.group(1)
    checkpoints = f"/flink/{app_id}/checkpoints/{job_id}"  # the cluster id is the application id
    wait_for(lambda: zk.exists(checkpoints) and zk.get_children(checkpoints),  # type: ignore[attr-defined]
             120, "a completed checkpoint in the HA store", interval_s=0.2)
    first = leader_info(zk, app_id)
    assert first is not None
    killed_at = time.monotonic()
    kill_application_master(app_id)
    second = wait_for(lambda: (lambda i: i if i and i["session_id"] != first["session_id"] else None)(
        leader_info(zk, app_id)), 120, "attempt 2's JobManager to lead")
    wait_for(lambda: job_state(second["rest_address"], job_id) == "RUNNING", 60, "the job RUNNING under attempt 2")
    print(f"session master killed: job RUNNING under attempt 2 after {time.monotonic() - killed_at:.1f} s")
    with urllib.request.urlopen(f"http://{second['rest_address']}/jobs/{job_id}/checkpoints", timeout=10) as resp:
        stats = json.loads(resp.read())
    assert stats["counts"]["restored"] == 1 and stats["latest"]["restored"]["id"] >= 1, stats  # from the HA store
    listed = subprocess.run(yflink_cmd("list", "-t", "yarn-session", *conf), env=yarn_env, capture_output=True,
                            text=True, timeout=60)  # the properties file names the application: attempt 2's REST
    assert f"{job_id}" in listed.stdout and "(RUNNING)" in listed.stdout, listed.stdout + listed.stderr
    cancelled = subprocess.run(yflink_cmd("cancel", "-t", "yarn-session", *conf, job_id), env=yarn_env,
                               capture_output=True, text=True, timeout=60)
    assert f"Cancelled job {job_id}." in cancelled.stdout, cancelled.stdout + cancelled.stderr
    stopped = subprocess.run(yflink_cmd("yarn-session", "stop", *conf), env=yarn_env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert app_state(app_id, yarn_env) == ("FINISHED", "SUCCEEDED")
    assert len(rm_get(f"/ws/v1/cluster/apps/{app_id}/appattempts")["appAttempts"]["appAttempt"]) == 2
    check_ha_data_removed(app_id, zk, hdfs_dir, yarn_env)
