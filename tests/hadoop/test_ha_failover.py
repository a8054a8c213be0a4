"""JobManager failover with ZooKeeper HA on the real ensemble and HDFS (Flink "High Availability").

A standalone cluster with two JobManagers (one leader, one standby) and one TaskManager, checkpoints and HA blobs
on HDFS. A keyed running count writes through the exactly-once FileSink (tests/integration/jobs/
chaos_counts_to_files.py). The client and the TaskManager find the leader through ZooKeeper.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.hadoop import devstack
from tests.integration.test_chaos import committed_lines, differences, expected_counts, out_of_order, parse
from tests.integration.test_failures import rest, wait_for

pytestmark = [pytest.mark.zookeeper, pytest.mark.hdfs]
JOBS = Path(__file__).resolve().parents[1] / "integration" / "jobs"
SESSION_TIMEOUT_S = 4
N = 16_000
RATE = 400  # numbers/s per source subtask until the marker exists: 20 s for N at parallelism 2


@dataclass
class HaCluster:
    flags: list[str]
    env: dict[str, str]
    pid_dir: Path
    quorum: str
    session_timeout_s: float
    ha_dir: str = ""  # high-availability.storageDir as an HDFS path (job graph blobs, job results)

    def yflink(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "yflink", *args], capture_output=True, text=True,
                              timeout=timeout, env=self.env, cwd=devstack.REPO)

    def leader(self) -> dict[str, str] | None:
        """The published leader information (address, rest_address, session_id), read like a client does."""
        from yflink.common.configuration import Configuration
        from yflink.runtime.highavailability import create_ha_services

        config = Configuration()
        for key_value in self.flags[1::2]:
            key, value = key_value.split("=", 1)
            config.set(key, value)
        services = create_ha_services(config)
        try:
            info = services.leader_retrieval().wait_for_leader(0.5)
            return {"rest_address": info.rest_address, "address": info.rpc_address, "session_id": info.session_id}
        except Exception:  # noqa: BLE001 - no leader right now
            return None
        finally:
            services.close()

    def jobmanagers(self) -> list[psutil.Process]:
        out = []
        for p in psutil.process_iter(["cmdline"]):
            cmd = p.info["cmdline"] or []
            if "jobmanager" in cmd and str(self.pid_dir) in " ".join(cmd):
                out.append(p)
        return out

    def leader_process(self, rest_address: str) -> psutil.Process:
        port = int(rest_address.rsplit(":", 1)[1])
        for p in self.jobmanagers():
            if any(c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN for c in p.net_connections()):
                return p
        raise AssertionError(f"no JobManager process listens on {rest_address}")


def try_rest(address: str, path: str) -> Any:
    try:
        return rest(address, path)
    except (urllib.error.URLError, OSError, ValueError):
        return None


@pytest.fixture
def ha_cluster(zk_chroot: str, hdfs_dir: str, hadoop: dict[str, str], tmp_path: Path,
               request: pytest.FixtureRequest) -> Iterator[HaCluster]:
    """Two JobManagers and one TaskManager; ``request.param``: the ZooKeeper session timeout, s, or a tuple of
    more ``-D key=value`` flags for the cluster (with the default session timeout)."""
    param = getattr(request, "param", SESSION_TIMEOUT_S)
    session_timeout_s, extra = (SESSION_TIMEOUT_S, list(param)) if isinstance(param, tuple) else (param, [])
    flags = ["-D", "high-availability.type=zookeeper", "-D", f"high-availability.zookeeper.quorum={zk_chroot}",
             "-D", f"high-availability.storageDir=hdfs://{hdfs_dir}/ha",
             "-D", f"high-availability.zookeeper.client.session-timeout={session_timeout_s} s",
             "-D", "rest.port=0", "-D", "jobmanager.rpc.port=0",
             "-D", f"env.pid.dir={tmp_path}", "-D", f"env.log.dir={tmp_path / 'log'}",
             "-D", "taskmanager.numberOfTaskSlots=2", "-D", "heartbeat.interval=1000", "-D", "heartbeat.timeout=8000",
             "-D", "resourcemanager.local-taskmanagers.enabled=false",
             "-D", "execution.checkpointing.interval=500 ms",
             "-D", f"execution.checkpointing.dir=hdfs://{hdfs_dir}/checkpoints",
             "-D", "restart-strategy.type=fixed-delay", "-D", "restart-strategy.fixed-delay.attempts=20",
             "-D", "restart-strategy.fixed-delay.delay=200 ms", *extra]
    env = {**os.environ, **hadoop, "PYTHONUNBUFFERED": "1"}
    cluster = HaCluster(flags, env, tmp_path, zk_chroot, session_timeout_s, f"{hdfs_dir}/ha")
    started = cluster.yflink("cluster", "start", "--jobmanagers", "2", "--taskmanagers", "1", *flags)
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield cluster
    finally:
        cluster.yflink("cluster", "stop", *flags)
        for log in sorted((tmp_path / "log").glob("*.log")):
            print(f"--- {log.name} (tail) ---\n" + "\n".join(log.read_text(errors="replace").splitlines()[-40:]))


def completed_checkpoints(address: str, job_id: str) -> int:
    return int((try_rest(address, f"/jobs/{job_id}/checkpoints") or {"counts": {"completed": 0}})
               ["counts"]["completed"])


def submit_and_wait_for_checkpoints(cluster: HaCluster, output: Path, marker: Path,
                                    attached: list[subprocess.Popen[str]] | None = None,
                                    extra: tuple[str, ...] = ()) -> tuple[dict[str, str], str]:
    """Submit without -m (the leader comes from ZooKeeper); wait until it runs with two completed checkpoints.
    Returns (leader information, job id). With ``attached``, ``yflink run`` stays attached (appended there);
    ``extra``: more ``-D`` flags for the job."""
    args = [*cluster.flags, *extra, str(JOBS / "chaos_counts_to_files.py"), str(N), str(output), str(RATE), str(marker)]
    if attached is not None:
        attached.append(subprocess.Popen([sys.executable, "-m", "yflink", "run", "-q", *args], env=cluster.env,
                                         cwd=devstack.REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         text=True))
    else:
        submitted = cluster.yflink("run", "-d", *args)
        assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    leader = cluster.leader()
    assert leader is not None
    address = leader["rest_address"]
    job_id = wait_for(lambda: next((j["id"] for j in (try_rest(address, "/jobs") or {"jobs": []})["jobs"]
                                    if j["status"] == "RUNNING"), None), 60, "the job to run")
    wait_for(lambda: completed_checkpoints(address, job_id) >= 2, 60, "two completed checkpoints")
    return leader, job_id


def finish_and_check_exact(address: str, job_id: str, output: Path, marker: Path) -> None:
    """Let the job run to its end and check that the committed output holds every record exactly once."""
    marker.touch()
    wait_for(lambda: (try_rest(address, f"/jobs/{job_id}") or {}).get("state") in ("FINISHED", "FAILED", "CANCELED"),
             120, "the job to end")
    assert try_rest(address, f"/jobs/{job_id}")["state"] == "FINISHED", try_rest(address, f"/jobs/{job_id}/exceptions")
    lines = committed_lines(output)
    numbers, counts = parse(lines)
    assert not differences(numbers, Counter(range(1, N + 1))), differences(numbers, Counter(range(1, N + 1)))
    assert not differences(counts, expected_counts(N)), differences(counts, expected_counts(N))
    assert not out_of_order(lines, N)
    # nothing leaked: the leader knows one job and one TaskManager, whose slots are all free again
    assert [j["id"] for j in try_rest(address, "/jobs")["jobs"]] == [job_id]
    wait_for(lambda: [(tm["slotsNumber"], tm["freeSlots"]) for tm in
                      (try_rest(address, "/taskmanagers") or {"taskmanagers": []})["taskmanagers"]] == [(2, 2)],
             30, "the TaskManager's slots free again")


def test_kill_the_leading_jobmanager_standby_recovers_the_job_exactly_once(ha_cluster: HaCluster,
                                                                           tmp_path: Path) -> None:
    output, marker = tmp_path / "out", tmp_path / "fast"
    client: list[subprocess.Popen[str]] = []
    first, job_id = submit_and_wait_for_checkpoints(ha_cluster, output, marker, attached=client)
    address = first["rest_address"]
    committed_before = len(committed_lines(output))
    victim = ha_cluster.leader_process(address)
    victim.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()

    second = wait_for(lambda: (lambda info: info if info and info["session_id"] != first["session_id"] else None)(
        ha_cluster.leader()), 60, "a new leader")
    elected_s = time.monotonic() - killed_at
    address = second["rest_address"]
    wait_for(lambda: (try_rest(address, f"/jobs/{job_id}") or {}).get("state") == "RUNNING", 60,
             "the job RUNNING under the new leader")
    wait_for(lambda: all(v.get("status") == "RUNNING" for v in (try_rest(address, f"/jobs/{job_id}") or {})
                         .get("vertices", [{}])), 60, "every task RUNNING again")
    running_s = time.monotonic() - killed_at
    wait_for(lambda: len(committed_lines(output)) > committed_before, 60, "new committed output")
    output_s = time.monotonic() - killed_at
    print(f"failover: new leader after {elected_s:.1f} s, job RUNNING after {running_s:.1f} s, first new "
          f"committed output after {output_s:.1f} s (session timeout {SESSION_TIMEOUT_S} s)")
    stats = try_rest(address, f"/jobs/{job_id}/checkpoints")
    assert stats["counts"]["restored"] >= 1 and stats["latest"]["restored"]["id"] >= 2, stats
    listed = ha_cluster.yflink("list", *ha_cluster.flags)  # no -m: the new leader comes from ZooKeeper
    assert listed.returncode == 0 and job_id in listed.stdout, listed.stdout + listed.stderr
    added = ha_cluster.yflink("jobmanager", "start", *ha_cluster.flags)  # a new standby for the new leader
    assert added.returncode == 0, added.stdout + added.stderr
    wait_for(lambda: len([p for p in ha_cluster.jobmanagers() if p.is_running()]) == 2, 30, "two JobManagers")

    finish_and_check_exact(address, job_id, output, marker)
    out, _ = client[0].communicate(timeout=60)  # the attached client followed the leader to the job's end
    assert client[0].returncode == 0 and "Following the JobManager leader" in out, out[-3000:]
    check_ha_data_removed(ha_cluster, job_id)  # the finished job's
    assert running_s <= SESSION_TIMEOUT_S + 15, f"job RUNNING again only after {running_s:.1f} s"


def ha_storage_files(cluster: HaCluster) -> list[str]:
    """Every file below high-availability.storageDir (``hdfs dfs -ls -R``)."""
    out = devstack.run(["hdfs", "dfs", "-ls", "-R", cluster.ha_dir], env=cluster.env, check=False).stdout
    return [line.split()[-1] for line in out.splitlines() if line.startswith("-")]


def check_ha_data_removed(cluster: HaCluster, job_id: str) -> None:
    """A globally terminal job's HA metadata is gone: job graph pointer, checkpoint pointers and counter in
    ZooKeeper, its job graph blob and its job result entry (delete-on-commit) in the HA storage directory."""
    from kazoo.client import KazooClient

    zk = KazooClient(hosts=cluster.quorum)
    zk.start(timeout=15)
    try:
        wait_for(lambda: not zk.exists(f"/flink/default/jobgraphs/{job_id}"), 30, "the job graph pointer removed")
        assert not zk.exists(f"/flink/default/checkpoints/{job_id}")
        assert not zk.exists(f"/flink/default/checkpoint_id_counter/{job_id}")
    finally:
        zk.stop()
        zk.close()
    wait_for(lambda: not [f for f in ha_storage_files(cluster) if job_id in f], 30,
             "the job's files in the HA storage directory removed")


def test_a_cancelled_jobs_ha_metadata_and_storage_files_are_removed(ha_cluster: HaCluster, tmp_path: Path) -> None:
    output, marker = tmp_path / "out", tmp_path / "fast"
    leader, job_id = submit_and_wait_for_checkpoints(ha_cluster, output, marker)
    blobs = [f for f in ha_storage_files(ha_cluster) if job_id in f]
    assert len(blobs) == 1 and f"/default/submittedJobGraph-{job_id}-" in blobs[0], blobs
    cancelled = ha_cluster.yflink("cancel", *ha_cluster.flags, job_id)
    assert cancelled.returncode == 0, cancelled.stdout + cancelled.stderr
    assert try_rest(leader["rest_address"], f"/jobs/{job_id}")["state"] == "CANCELED"
    check_ha_data_removed(ha_cluster, job_id)


@pytest.mark.parametrize("ha_cluster", [("-D", "job-result-store.delete-on-commit=false")], indirect=True)
def test_a_new_leader_answers_a_finished_job_from_the_job_result_store_and_does_not_run_it_again(
        ha_cluster: HaCluster, tmp_path: Path) -> None:
    """With job results kept (delete-on-commit false) a leader elected after the job FINISHED serves its final
    state (GET /jobs/{id}, /execution-result) from the JobResultStore; the job is not recovered or run again."""
    output, marker = tmp_path / "out", tmp_path / "fast"
    first, job_id = submit_and_wait_for_checkpoints(ha_cluster, output, marker)
    finish_and_check_exact(first["rest_address"], job_id, output, marker)
    entry = f"{ha_cluster.ha_dir}/job-result-store/default/{job_id}.json"
    wait_for(lambda: entry in ha_storage_files(ha_cluster), 30, "the job's clean entry in the JobResultStore")
    ha_cluster.leader_process(first["rest_address"]).send_signal(signal.SIGKILL)
    second = wait_for(lambda: (lambda i: i if i and i["session_id"] != first["session_id"] else None)(
        ha_cluster.leader()), 60, "a new leader")
    address = second["rest_address"]
    details = wait_for(lambda: try_rest(address, f"/jobs/{job_id}"), 30, "the job known to the new leader")
    assert details["state"] == "FINISHED" and details["vertices"] == [], details  # sparse: from the entry
    executed = try_rest(address, f"/jobs/{job_id}/execution-result")
    assert executed["job-execution-result"]["application-status"] == "SUCCEEDED", executed
    assert try_rest(address, "/jobs")["jobs"] == [{"id": job_id, "status": "FINISHED"}]
    leading = f"Leading with session {second['session_id']}"
    line = wait_for(lambda: next((ln for p in (tmp_path / "log").glob("jobmanager*.log")
                                  for ln in p.read_text(errors="replace").splitlines() if leading in ln), None),
                    30, "the new leader's log line")
    assert line.endswith("recovered jobs: none"), line  # the finished job was not recovered
    lines = committed_lines(output)
    assert sorted(parse(lines)[0].elements()) == list(range(1, N + 1))  # nothing written twice


@pytest.mark.parametrize("ha_cluster", [10], indirect=True)  # session timeout 10 s: room for a ZooKeeper election
def test_stopping_one_of_three_zookeeper_servers_interrupts_nothing(ha_cluster: HaCluster, tmp_path: Path) -> None:
    output, marker = tmp_path / "out", tmp_path / "fast"
    leader, job_id = submit_and_wait_for_checkpoints(ha_cluster, output, marker)
    address = leader["rest_address"]
    modes = devstack.zk_server_modes()
    zk_leader = next(n for n, m in modes.items() if m == "leader")  # the most disruptive one to lose
    devstack.run([devstack.ZK_DIR / "ensemble.sh", "stop-server", str(zk_leader)], timeout=60)
    try:
        wait_for(lambda: "leader" in devstack.zk_server_modes().values(), 60, "a new ZooKeeper leader")
        before = completed_checkpoints(address, job_id)
        wait_for(lambda: completed_checkpoints(address, job_id) >= before + 3, 60,
                 "checkpoints completing with one ZooKeeper server down")
        assert ha_cluster.leader() == leader  # the same leader session throughout
        assert try_rest(address, f"/jobs/{job_id}")["state"] == "RUNNING"
    finally:
        devstack.run([devstack.ZK_DIR / "ensemble.sh", "start-server", str(zk_leader)], timeout=120)
    finish_and_check_exact(address, job_id, output, marker)
    stats = try_rest(address, f"/jobs/{job_id}/checkpoints")
    assert stats["counts"]["restored"] == 0, stats  # never restarted
    assert ha_cluster.leader() is None or ha_cluster.leader()["session_id"] == leader["session_id"]


def test_a_paused_leader_whose_session_expired_steps_down_and_is_fenced(ha_cluster: HaCluster,
                                                                        tmp_path: Path) -> None:
    """SIGSTOP the leader (a long GC pause) beyond its session timeout: the standby leads and recovers the job;
    when the old leader wakes up it learns that its session expired, suspends its JobMaster and closes its
    endpoints; whatever it still sends is fenced (TaskManagers follow the new leader's session); output exact."""
    output, marker = tmp_path / "out", tmp_path / "fast"
    first, job_id = submit_and_wait_for_checkpoints(ha_cluster, output, marker)
    old = ha_cluster.leader_process(first["rest_address"])
    old_port = int(first["rest_address"].rsplit(":", 1)[1])
    old.send_signal(signal.SIGSTOP)
    try:
        second = wait_for(lambda: (lambda i: i if i and i["session_id"] != first["session_id"] else None)(
            ha_cluster.leader()), 60, "the standby to lead")
        address = second["rest_address"]
        wait_for(lambda: (try_rest(address, f"/jobs/{job_id}") or {}).get("state") == "RUNNING", 60,
                 "the job RUNNING under the new leader")
    finally:
        old.send_signal(signal.SIGCONT)
    log = next(p for p in (tmp_path / "log").glob("jobmanager*.log") if f"[jobmanager {old.pid}]" in p.read_text())
    wait_for(lambda: "Leadership revoked" in log.read_text() and "suspended" in log.read_text(), 30,
             "the old leader to step down")
    wait_for(lambda: not any(c.laddr and c.laddr.port == old_port and c.status == psutil.CONN_LISTEN
                             for c in old.net_connections()), 30, "the old leader to close its REST endpoint")
    assert old.is_running()  # it stands by again
    finish_and_check_exact(address, job_id, output, marker)


def pause_leader_until_another_leads(cluster: HaCluster, leader: dict[str, str], sessions: list[str],
                                     job_id: str) -> dict[str, str]:
    """SIGSTOP the leader until another one (a session not in ``sessions``) runs the job and completed a
    checkpoint; then SIGCONT it. Returns the new leader's information."""
    victim = cluster.leader_process(leader["rest_address"])
    victim.send_signal(signal.SIGSTOP)
    try:
        new = wait_for(lambda: (lambda i: i if i and i["session_id"] not in sessions else None)(cluster.leader()),
                       60, "another leader")
        address = new["rest_address"]
        wait_for(lambda: (try_rest(address, f"/jobs/{job_id}") or {}).get("state") == "RUNNING", 60,
                 "the job RUNNING under the new leader")
        before = completed_checkpoints(address, job_id)
        wait_for(lambda: completed_checkpoints(address, job_id) > before, 60, "a checkpoint under the new leader")
    finally:
        victim.send_signal(signal.SIGCONT)
    return new  # type: ignore[no-any-return]


def test_leadership_flapping_between_two_jobmanagers_leaks_nothing(ha_cluster: HaCluster, tmp_path: Path) -> None:
    """Leadership goes A -> B -> A (each pause expires the leader's session): the process that lost leadership
    leads again with a new session, recovers the job once more, and in the end there is one job, exact output
    and no slot left allocated."""
    output, marker = tmp_path / "out", tmp_path / "fast"
    leader, job_id = submit_and_wait_for_checkpoints(ha_cluster, output, marker)
    first_pid = ha_cluster.leader_process(leader["rest_address"]).pid
    sessions = [leader["session_id"]]
    for _ in range(2):
        leader = pause_leader_until_another_leads(ha_cluster, leader, sessions, job_id)
        sessions.append(leader["session_id"])
    assert ha_cluster.leader_process(leader["rest_address"]).pid == first_pid  # A leads again, in a third session
    finish_and_check_exact(leader["rest_address"], job_id, output, marker)


def test_a_stopped_namenode_stops_checkpoints_not_the_job_and_later_ones_succeed(ha_cluster: HaCluster,
                                                                                 tmp_path: Path) -> None:
    """The NameNode stops answering (SIGSTOP) while checkpoints go to HDFS: no checkpoint completes meanwhile
    (beyond one whose ``_metadata`` was already written); they fail by timeout, or the one being finalized stalls
    until HDFS is back. The job keeps RUNNING under the same leader without a restart, checkpoints complete again
    once the NameNode is back, and the output is exact."""
    output, marker = tmp_path / "out", tmp_path / "fast"
    leader, job_id = submit_and_wait_for_checkpoints(
        ha_cluster, output, marker,
        extra=("-D", "execution.checkpointing.timeout=3 s",
               "-D", "execution.checkpointing.tolerable-failed-checkpoints=100"))
    address = leader["rest_address"]
    namenode = psutil.Process(int((devstack.RUN_DIR / "pids" / "namenode.pid").read_text().split()[0]))
    assert "namenode" in " ".join(namenode.cmdline()).lower()
    before = completed_checkpoints(address, job_id)
    namenode.send_signal(signal.SIGSTOP)
    try:
        time.sleep(12)  # several checkpoint intervals (500 ms) and timeouts (3 s)
        during = try_rest(address, f"/jobs/{job_id}/checkpoints")
        assert during["counts"]["completed"] <= before + 1, during["counts"]
        assert try_rest(address, f"/jobs/{job_id}")["state"] == "RUNNING"
    finally:
        namenode.send_signal(signal.SIGCONT)
    wait_for(lambda: completed_checkpoints(address, job_id) >= during["counts"]["completed"] + 2, 90,
             "checkpoints completing with the NameNode back")
    assert ha_cluster.leader() == leader
    finish_and_check_exact(address, job_id, output, marker)
    final = try_rest(address, f"/jobs/{job_id}/checkpoints")["counts"]
    assert final["restored"] == 0, final
    print(f"NameNode paused 12 s: checkpoints failed during the pause: {during['counts']['failed']}")
