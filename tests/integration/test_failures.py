"""Bad input and failures: clear messages, non-zero exits, no orphan processes (issue 2, item 7).

Semantics: Flink's CLI exit behaviour and "Task Failure Recovery" without a restart strategy (the first task
failure fails the job), REST ``GET /jobs/:jobid/exceptions``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.integration.conftest import CLUSTER_FLAGS, ROOT, Cluster, free_port, yflink

pytestmark = pytest.mark.integration
JOBS = Path(__file__).parent / "jobs"


def wait_for(condition, timeout_s: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def rest(address: str, path: str, method: str = "GET") -> object:
    req = urllib.request.Request(f"http://{address}{path}", method=method)
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def entrypoint_processes(marker: str = "") -> set[int]:
    """yflink processes on this machine whose command line contains ``marker`` (all of them by default)."""
    found = set()
    for p in psutil.process_iter(["cmdline"]):
        cmd = p.info["cmdline"] or []
        if "yflink.runtime.entrypoints" in cmd and marker in " ".join(cmd):
            found.add(p.pid)
    return found


def test_missing_job_file_is_a_clear_error() -> None:
    result = yflink("run", "does/not/exist.py")
    assert result.returncode == 2
    assert "does/not/exist.py" in result.stderr and "not found" in result.stderr


def test_script_that_raises_shows_its_traceback(tmp_path: Path) -> None:
    script = tmp_path / "broken.py"
    script.write_text("def main():\n    raise RuntimeError('script broke')\n\nmain()\n")
    result = yflink("run", str(script))
    assert result.returncode == 1
    assert "script broke" in result.stderr and "broken.py" in result.stderr


def test_bad_config_value_names_the_key() -> None:
    result = yflink("run", "-D", "parallelism.default=abc", str(JOBS / "fails_on_record.py"))
    assert result.returncode == 2
    assert "parallelism.default" in result.stderr and "abc" in result.stderr


def test_user_function_error_fails_job_with_user_traceback(cluster: Cluster) -> None:
    before = entrypoint_processes("yflink-local-")  # embedded clusters' processes (not the session cluster's)
    result = cluster.run(JOBS / "fails_on_record.py")
    assert result.returncode == 1
    assert "FAILED" in result.stderr
    assert "bad record 7" in result.stderr and "fails_on_record.py" in result.stderr
    if cluster.rest_address:
        jobs = rest(cluster.rest_address, "/jobs/overview")["jobs"]  # type: ignore[index]
        job = next(j for j in jobs if j["name"] == "fails on record 7" and j["state"] == "FAILED")
        exceptions = rest(cluster.rest_address, f"/jobs/{job['jid']}/exceptions")
        assert "bad record 7" in exceptions["root-exception"]  # type: ignore[index]
    else:
        wait_for(lambda: entrypoint_processes("yflink-local-") <= before, 15,
                 "the embedded cluster's processes to exit")


def test_busy_rest_port_is_reported(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        before = entrypoint_processes(str(tmp_path))
        result = yflink("cluster", "start", "-D", f"rest.port={port}", "-D", f"jobmanager.rpc.port={free_port()}",
                        "-D", f"env.pid.dir={tmp_path}", "-D", f"env.log.dir={tmp_path / 'log'}", timeout=120)
        assert result.returncode != 0
        assert str(port) in result.stderr and "in use" in result.stderr
        wait_for(lambda: entrypoint_processes(str(tmp_path)) <= before, 15, "no process left behind")


@pytest.fixture
def private_cluster(tmp_path: Path) -> Iterator[Cluster]:
    rest_port = free_port()
    flags = [*CLUSTER_FLAGS, "-D", f"rest.port={rest_port}", "-D", f"jobmanager.rpc.port={free_port()}",
             "-D", f"env.pid.dir={tmp_path}", "-D", f"env.log.dir={tmp_path / 'log'}"]
    started = yflink("cluster", "start", "--taskmanagers", "2", *flags, timeout=120)
    assert started.returncode == 0, started.stderr
    try:
        yield Cluster("standalone", f"127.0.0.1:{rest_port}", tmp_path, flags)
    finally:
        yflink("cluster", "stop", *flags, timeout=120)


def test_killed_taskmanager_fails_job_and_takes_its_slot_workers(private_cluster: Cluster) -> None:
    address = private_cluster.rest_address
    assert address is not None
    submitted = yflink("run", "-d", "-m", address, str(JOBS / "endless.py"))
    assert submitted.returncode == 0, submitted.stderr
    job_id = wait_for(lambda: next((j["id"] for j in rest(address, "/jobs")["jobs"]  # type: ignore[index]
                                    if j["status"] == "RUNNING"), None), 60, "the job to run")
    wait_for(lambda: all(v["status"] == "RUNNING" for v in rest(address, f"/jobs/{job_id}")["vertices"]),  # type: ignore[index]
             60, "every task to run")
    taskmanagers = [p for p in psutil.process_iter(["cmdline"])
                    if "taskmanager" in (p.info["cmdline"] or []) and "yflink.runtime.entrypoints" in
                    (p.info["cmdline"] or []) and str(private_cluster.pid_dir) in " ".join(p.info["cmdline"])]
    assert len(taskmanagers) == 2
    victim = taskmanagers[0]
    workers = victim.children()
    assert len(workers) == 2 and all("slot-worker" in w.cmdline() for w in workers)
    victim.send_signal(signal.SIGKILL)
    wait_for(lambda: not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers), 10,
             "the killed TaskManager's slot workers to exit")
    wait_for(lambda: rest(address, f"/jobs/{job_id}")["state"] == "FAILED", 60, "the job to fail")  # type: ignore[index]
    root = rest(address, f"/jobs/{job_id}/exceptions")["root-exception"]  # type: ignore[index]
    assert "TaskManager" in root or "lost" in root


def test_ctrl_c_stops_the_embedded_cluster(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "yflink", "run", "-D", "taskmanager.numberOfTaskSlots=4",
                             str(JOBS / "endless.py")], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        client = psutil.Process(proc.pid)
        descendants = wait_for(lambda: [p for p in client.children(recursive=True)] if len(
            client.children(recursive=True)) >= 6 else None, 60, "JobManager, TaskManager and 4 slot workers")
        time.sleep(1.0)  # let the job run for a moment
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    wait_for(lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in descendants), 15,
             "every process of the embedded cluster to exit")


def test_list_and_cancel_against_a_standalone_cluster(private_cluster: Cluster) -> None:
    address = private_cluster.rest_address
    assert address is not None
    submitted = yflink("run", "-d", "-m", address, str(JOBS / "endless.py"))
    assert submitted.returncode == 0, submitted.stderr
    job_id = wait_for(lambda: next((j["id"] for j in rest(address, "/jobs")["jobs"]  # type: ignore[index]
                                    if j["status"] == "RUNNING"), None), 60, "the job to run")
    listed = yflink("list", "-m", address)
    assert listed.returncode == 0 and job_id in listed.stdout and "endless" in listed.stdout
    cancelled = yflink("cancel", "-m", address, job_id)
    assert cancelled.returncode == 0, cancelled.stderr
    wait_for(lambda: rest(address, f"/jobs/{job_id}")["state"] == "CANCELED", 60, "the job to be cancelled")  # type: ignore[index]
    details = rest(address, f"/jobs/{job_id}")
    assert all(v["status"] == "CANCELED" for v in details["vertices"])  # type: ignore[index]
    wait_for(lambda: rest(address, "/overview")["slots-available"] == 4, 30,  # type: ignore[index]
             "every slot to be free again")


def test_checkpoints_triggered_over_rest_complete_across_processes(private_cluster: Cluster) -> None:
    """Barriers enter at both sources, are aligned by every keyed subtask (two channels each, local and remote),
    and every task acknowledges (Flink "Stateful Stream Processing" > Checkpointing; REST POST
    /jobs/:jobid/checkpoints)."""
    address = private_cluster.rest_address
    assert address is not None
    submitted = yflink("run", "-d", "-m", address, str(JOBS / "checkpointed.py"))
    assert submitted.returncode == 0, submitted.stderr
    job_id = wait_for(lambda: next((j["id"] for j in rest(address, "/jobs")["jobs"]  # type: ignore[index]
                                    if j["status"] == "RUNNING"), None), 60, "the job to run")
    wait_for(lambda: all(v["status"] == "RUNNING" for v in rest(address, f"/jobs/{job_id}")["vertices"]),  # type: ignore[index]
             60, "every task to run")
    for expected in (1, 2, 3):
        reply = rest(address, f"/jobs/{job_id}/checkpoints", method="POST")
        assert reply["request-id"] == str(expected)  # type: ignore[index]
        wait_for(lambda n=expected: rest(address, f"/jobs/{job_id}/checkpoints")["counts"]["completed"] == n,  # type: ignore[index]
                 30, f"checkpoint {expected} to complete")
    stats = rest(address, f"/jobs/{job_id}/checkpoints")
    assert stats["counts"]["failed"] == 0 and stats["latest"]["completed"]["id"] == 3  # type: ignore[index]
    assert yflink("cancel", "-m", address, job_id).returncode == 0
