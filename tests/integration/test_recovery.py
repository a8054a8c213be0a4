"""Failure recovery: a task fails, the restart strategy restarts the job, every task restores the latest
completed checkpoint (keyed state and source positions), and the final per-key sums are exact.

Flink documentation: "Task Failure Recovery" (fixed-delay restart strategy), "Stateful Stream Processing"
(checkpoints, exactly-once state). Output to print() is not transactional, so replayed updates may print twice;
the last value per key must still be exact.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.integration.conftest import Cluster, strip_subtask_prefix
from tests.integration.test_failures import rest

pytestmark = pytest.mark.integration
JOBS = Path(__file__).parent / "jobs"
N = 200_000


def test_job_restarts_from_latest_checkpoint_with_exact_state(cluster: Cluster, tmp_path: Path) -> None:
    marker = tmp_path / "failed-once"
    result = cluster.run(JOBS / "recovers.py", str(marker), str(N), flags=(
        "-D", "execution.checkpointing.interval=100 ms", "-D", "restart-strategy.type=fixed-delay",
        "-D", "restart-strategy.fixed-delay.attempts=3", "-D", "restart-strategy.fixed-delay.delay=100 ms"))
    assert result.returncode == 0, result.stderr
    assert marker.exists()  # the planned failure happened
    final: dict[int, int] = {}
    for line in result.job_output.splitlines():  # type: ignore[attr-defined]
        match = re.fullmatch(r"\((\d+),(\d+)\)", strip_subtask_prefix(line.strip()))
        if match:
            key, total = int(match.group(1)), int(match.group(2))
            final[key] = max(final.get(key, 0), total)
    expected = {k: sum(x for x in range(1, N + 1) if x % 10 == k) for k in range(10)}
    assert final == expected
    if cluster.rest_address:  # the standalone cluster keeps the job: it restored a checkpoint, not the start
        jobs = rest(cluster.rest_address, "/jobs/overview")["jobs"]  # type: ignore[index]
        job = max((j for j in jobs if j["name"] == "recovers"), key=lambda j: j["start-time"])
        stats = rest(cluster.rest_address, f"/jobs/{job['jid']}/checkpoints")
        assert stats["counts"]["restored"] == 1 and stats["latest"]["restored"]["id"] >= 1  # type: ignore[index]


def test_file_sink_output_is_exactly_once_after_a_failure(cluster: Cluster, tmp_path: Path) -> None:
    """The FileSink commits at completed checkpoints (two-phase commit: in-progress, pending, committed);
    after a failure and restore, committed part files hold each record exactly once (Flink "FileSink",
    "Fault Tolerance Guarantees of Data Sources and Sinks")."""
    marker, output = tmp_path / "failed-once", tmp_path / "out"
    result = cluster.run(JOBS / "recovers_to_files.py", str(marker), str(N), str(output), flags=(
        "-D", "execution.checkpointing.interval=100 ms", "-D", "restart-strategy.type=fixed-delay",
        "-D", "restart-strategy.fixed-delay.attempts=3", "-D", "restart-strategy.fixed-delay.delay=100 ms"))
    assert result.returncode == 0, result.stderr
    assert marker.exists()
    committed = [p for p in output.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))]
    numbers = sorted(int(line) for p in committed for line in p.read_text().split())
    assert numbers == list(range(1, N + 1))


def test_killed_taskmanager_job_recovers_on_the_others_exactly_once(tmp_path: Path) -> None:
    """SIGKILL a TaskManager that runs tasks: the job restarts from the latest checkpoint on the remaining
    TaskManagers and the committed files hold each number exactly once (Flink "Task Failure Recovery")."""
    import signal
    import time

    import psutil

    from tests.integration.conftest import CLUSTER_FLAGS, free_port, yflink
    from tests.integration.test_failures import wait_for

    n = 100_000
    output = tmp_path / "out"
    rest_port = free_port()
    flags = [*CLUSTER_FLAGS, "-D", f"rest.port={rest_port}", "-D", f"jobmanager.rpc.port={free_port()}",
             "-D", f"env.pid.dir={tmp_path}", "-D", f"env.log.dir={tmp_path / 'log'}",
             "-D", "execution.checkpointing.interval=200 ms", "-D", "restart-strategy.type=fixed-delay",
             "-D", "restart-strategy.fixed-delay.attempts=5", "-D", "restart-strategy.fixed-delay.delay=200 ms"]
    assert yflink("cluster", "start", "--taskmanagers", "3", *flags, timeout=120).returncode == 0
    address = f"127.0.0.1:{rest_port}"
    try:
        submitted = yflink("run", "-d", "-m", address, str(JOBS / "slow_numbers_to_files.py"), str(n), str(output))
        assert submitted.returncode == 0, submitted.stderr
        job_id = wait_for(lambda: next((j["id"] for j in rest(address, "/jobs")["jobs"]  # type: ignore[index]
                                        if j["status"] == "RUNNING"), None), 60, "the job to run")
        wait_for(lambda: rest(address, f"/jobs/{job_id}/checkpoints")["counts"]["completed"] >= 1,  # type: ignore[index]
                 60, "a completed checkpoint")
        used = [tm["path"].removeprefix("grpc://") for tm in rest(address, "/taskmanagers")["taskmanagers"]  # type: ignore[index]
                if tm["freeSlots"] < tm["slotsNumber"]]
        busy = [p.parent() for p in psutil.process_iter(["cmdline"])
                if "slot-worker" in (p.info["cmdline"] or []) and used and used[0] in (p.info["cmdline"] or [])]
        assert busy and busy[0] is not None, "no TaskManager runs tasks"
        busy[0].send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        wait_for(lambda: rest(address, f"/jobs/{job_id}")["state"] in ("FINISHED", "FAILED"), 120,  # type: ignore[index]
                 "the job to end")
        assert rest(address, f"/jobs/{job_id}")["state"] == "FINISHED", rest(address, f"/jobs/{job_id}/exceptions")
        assert rest(address, f"/jobs/{job_id}/checkpoints")["counts"]["restored"] >= 1  # type: ignore[index]
        assert time.monotonic() - killed_at < 110
    finally:
        yflink("cluster", "stop", *flags, timeout=120)
    committed = [p for p in output.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))]
    numbers = sorted(int(line) for p in committed for line in p.read_text().split())
    assert numbers == list(range(1, n + 1))


def test_at_least_once_mode_loses_nothing_after_a_failure(tmp_path: Path) -> None:
    """AT_LEAST_ONCE checkpoints do not align barriers; after a restore records may count twice but none is
    lost (Flink "Checkpointing": exactly-once vs. at-least-once)."""
    from tests.integration.conftest import Cluster as _Cluster

    marker = tmp_path / "failed-once"
    result = _Cluster("embedded").run(JOBS / "recovers.py", str(marker), str(N), flags=(
        "-D", "execution.checkpointing.interval=100 ms", "-D", "execution.checkpointing.mode=AT_LEAST_ONCE",
        "-D", "restart-strategy.type=fixed-delay", "-D", "restart-strategy.fixed-delay.delay=100 ms"))
    assert result.returncode == 0, result.stderr
    assert marker.exists()
    final: dict[int, int] = {}
    for line in result.job_output.splitlines():  # type: ignore[attr-defined]
        match = re.fullmatch(r"\((\d+),(\d+)\)", strip_subtask_prefix(line.strip()))
        if match:
            final[int(match.group(1))] = max(final.get(int(match.group(1)), 0), int(match.group(2)))
    expected = {k: sum(x for x in range(1, N + 1) if x % 10 == k) for k in range(10)}
    assert set(final) == set(expected)
    assert all(final[k] >= expected[k] for k in expected)


def test_embedded_cluster_replaces_a_killed_taskmanager(tmp_path: Path) -> None:
    """The only TaskManager of an embedded cluster is SIGKILLed mid-job: the ResourceManager starts a new local
    TaskManager for the missing slots (as YARN would give a container) and the job finishes exactly once."""
    import os
    import signal
    import subprocess
    import sys

    import psutil

    from tests.integration.conftest import ROOT
    from tests.integration.test_failures import wait_for

    n, output = 100_000, tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "yflink", "run", "-q", "-D", "taskmanager.numberOfTaskSlots=2",
         "-D", "execution.checkpointing.interval=200 ms", "-D", "restart-strategy.type=fixed-delay",
         "-D", "restart-strategy.fixed-delay.attempts=3", "-D", "restart-strategy.fixed-delay.delay=100 ms",
         "-D", "resourcemanager.local-taskmanagers.delay=500 ms",
         str(JOBS / "slow_numbers_to_files.py"), str(n), str(output)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        client = psutil.Process(proc.pid)

        def running_taskmanager() -> psutil.Process | None:
            for child in client.children():
                if "taskmanager" in child.cmdline() and len(child.children()) == 2:
                    return child
            return None

        victim = wait_for(running_taskmanager, 60, "the TaskManager and its slot workers")
        wait_for(lambda: any(p.is_file() and p.name.startswith(".") for p in output.rglob("*")), 60,
                 "the sink to write")
        victim.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    committed = [p for p in output.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))]
    numbers = sorted(int(line) for p in committed for line in p.read_text().split())
    assert numbers == list(range(1, n + 1))
