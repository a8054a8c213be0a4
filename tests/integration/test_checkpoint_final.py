"""The final checkpoint of finished tasks on a standalone cluster (FLIP-147; Flink "Checkpointing" > "Checkpointing
with parts of the graph finished"): with periodic checkpoints a subtask at the end of its input stays RUNNING, its
FileSink's last files pending, until a checkpoint (or a stop-with-savepoint) that holds its final state completes.

The job (``jobs/uneven_numbers_to_files.py``): source -> map -> FileSink chained at parallelism 2; subtask 0 reads
1..N/2 at full speed, subtask 1 reads N/2+1..N at 500 numbers/s. The checkpoint interval is one hour (and so is
the minimum pause, so the first periodic checkpoint is an hour away): subtask 0 then waits for its final
checkpoint for the whole test.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Cluster, yflink
from tests.integration.test_chaos import committed_lines
from tests.integration.test_failures import rest
from tests.integration.test_savepoints import SUBMITTED, savepoint_path, wait_for_state

pytestmark = pytest.mark.integration
JOB = Path(__file__).parent / "jobs" / "uneven_numbers_to_files.py"
N = 20_000
WAIT_S = 60.0
NO_PERIODIC_CHECKPOINT = ("-D", "execution.checkpointing.interval=1 h", "-D", "execution.checkpointing.min-pause=1 h")


def subtasks(cluster: Cluster, job_id: str) -> list[dict[str, Any]]:
    assert cluster.rest_address
    vertices = rest(cluster.rest_address, f"/jobs/{job_id}")["vertices"]  # type: ignore[index]
    return [s for v in vertices
            for s in rest(cluster.rest_address, f"/jobs/{job_id}/vertices/{v['id']}")["subtasks"]]  # type: ignore[index]


def start_with_subtask_0_waiting(cluster: Cluster, tmp_path: Path) -> tuple[str, Path]:
    """Submit the job; return (job id, output dir) once subtask 0 has read all its numbers (and stays RUNNING)."""
    assert cluster.rest_address
    output = tmp_path / "out"
    submitted = yflink("run", "-m", cluster.rest_address, "-d", *NO_PERIODIC_CHECKPOINT, str(JOB), str(N),
                       str(output), "500", str(tmp_path / "never"))
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr
    match = SUBMITTED.search(submitted.stdout)
    assert match, submitted.stdout
    job_id = match.group(1)
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = {s["subtask"]: s for s in subtasks(cluster, job_id)}
        if found and found[0]["metrics"]["read-records"] >= N // 2:
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"subtask 0 of job {job_id} did not read its half in {WAIT_S} s")
    time.sleep(1.0)  # time enough to finish, were it to finish at the end of its input
    assert [s["status"] for s in sorted(subtasks(cluster, job_id), key=lambda s: s["subtask"])] == [
        "RUNNING", "RUNNING"]
    assert committed_lines(output) == []  # its files are pending: no checkpoint has completed
    return job_id, output


def test_stop_with_savepoint_is_the_final_checkpoint_of_a_waiting_subtask(standalone_cluster: Cluster,
                                                                          tmp_path: Path) -> None:
    """`yflink stop --drain`: the savepoint takes subtask 0's final state and its completion commits subtask 0's
    files (no periodic checkpoint follows); subtask 1 stops; the job FINISHES with every number read committed
    once: all of 1..N/2, and a contiguous start of subtask 1's range."""
    cluster = standalone_cluster
    assert cluster.rest_address
    job_id, output = start_with_subtask_0_waiting(cluster, tmp_path)
    stop = yflink("stop", "-m", cluster.rest_address, "-p", str(tmp_path / "savepoints"), "--drain", job_id)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    savepoint_path(stop.stdout)
    wait_for_state(cluster, job_id, "FINISHED")
    numbers = sorted(int(line) for line in committed_lines(output))
    assert len(numbers) == len(set(numbers)), "numbers committed twice"
    first_half, second_half = numbers[:N // 2], numbers[N // 2:]
    assert first_half == list(range(1, N // 2 + 1))
    assert second_half == list(range(N // 2 + 1, N // 2 + 1 + len(second_half)))  # what subtask 1 read, in full
    assert 0 < len(second_half) < N // 2


def test_a_waiting_subtask_is_cancelled_like_a_running_one(standalone_cluster: Cluster, tmp_path: Path) -> None:
    """`yflink cancel` while subtask 0 waits for its final checkpoint: the job is CANCELED at once and nothing of
    it was committed (its pending files never become visible)."""
    cluster = standalone_cluster
    assert cluster.rest_address
    job_id, output = start_with_subtask_0_waiting(cluster, tmp_path)
    cancelled = yflink("cancel", "-m", cluster.rest_address, job_id)
    assert cancelled.returncode == 0, cancelled.stdout + cancelled.stderr
    wait_for_state(cluster, job_id, "CANCELED")
    assert committed_lines(output) == []
