"""Restore at submission from ``execution.state-recovery.path`` (Flink 2; the deprecated
``execution.savepoint.path`` too): a savepoint or a retained checkpoint of a cancelled job, restored at another
parallelism, gives the exact keyed sums of an uninterrupted run (keyed state redistributed by key group, source
positions by Flink's list-state rules); a path without ``_metadata`` fails the job with a message naming it.

Only the standalone cluster: savepoints and cancellation need a JobManager another process can reach.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.integration.conftest import Cluster, strip_subtask_prefix, yflink
from tests.integration.test_failures import rest, wait_for

pytestmark = pytest.mark.integration
JOB = Path(__file__).parent / "jobs" / "pauses_then_fails.py"  # never paused here: keyed sums of 1..N, slowly
N = 20_000
SUBMITTED = re.compile(r"Job has been submitted with JobID ([0-9a-f]{32})")
SAVEPOINT = re.compile(r"Savepoint completed\. Path: (\S+)")


def final_sums(output: str) -> dict[int, int]:
    final: dict[int, int] = {}
    for line in output.splitlines():
        match = re.fullmatch(r"\((\d+),(\d+)\)", strip_subtask_prefix(line.strip()))
        if match:
            final[int(match.group(1))] = max(final.get(int(match.group(1)), 0), int(match.group(2)))
    return final


def running_job(cluster: Cluster, control: Path, *flags: str) -> str:
    assert cluster.rest_address
    submitted = yflink("run", "-m", cluster.rest_address, "-d", *flags, str(JOB), str(control), str(N))
    assert submitted.returncode == 0, submitted.stderr
    match = SUBMITTED.search(submitted.stdout)
    assert match, submitted.stdout
    job_id = match.group(1)
    wait_for(lambda: all(v["status"] == "RUNNING" for v in rest(cluster.rest_address,  # type: ignore[arg-type]
                                                                 f"/jobs/{job_id}")["vertices"]),  # type: ignore[index]
             60, "every task to run")
    time.sleep(1.5)  # part of the input is summed, most is not
    return job_id


def cancel(cluster: Cluster, job_id: str) -> None:
    assert cluster.rest_address
    assert yflink("cancel", "-m", cluster.rest_address, job_id).returncode == 0
    wait_for(lambda: rest(cluster.rest_address, f"/jobs/{job_id}")["state"] == "CANCELED",  # type: ignore[arg-type,index]
             60, "the job to be cancelled")


@pytest.mark.parametrize("kind,key,parallelism", [("savepoint", "execution.state-recovery.path", 3),
                                                  ("retained-checkpoint", "execution.savepoint.path", 1)])
def test_cancelled_job_resumes_from_a_path_at_another_parallelism(standalone_cluster: Cluster, tmp_path: Path,
                                                                  kind: str, key: str, parallelism: int) -> None:
    cluster = standalone_cluster
    assert cluster.rest_address
    control, checkpoints = tmp_path / "control", tmp_path / "checkpoints"
    control.mkdir()
    if kind == "savepoint":
        job_id = running_job(cluster, control, "-p", "2")
        taken = yflink("savepoint", "-m", cluster.rest_address, job_id, str(tmp_path / "savepoints"))
        assert taken.returncode == 0, taken.stdout + taken.stderr
        match = SAVEPOINT.search(taken.stdout)
        assert match, taken.stdout
        path = match.group(1)
    else:
        job_id = running_job(cluster, control, "-p", "2", "-D", "execution.checkpointing.interval=200 ms",
                             "-D", f"execution.checkpointing.dir=file://{checkpoints}",
                             "-D", "execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION")
        wait_for(lambda: list((checkpoints / job_id).glob("chk-*/_metadata")), 30, "a completed checkpoint")
    cancel(cluster, job_id)
    if kind != "savepoint":
        retained = sorted((checkpoints / job_id).glob("chk-*/_metadata"), key=lambda p: int(p.parent.name[4:]))
        assert retained, "RETAIN_ON_CANCELLATION kept no checkpoint"
        path = f"file://{retained[-1].parent}"

    resumed = cluster.run(JOB, str(control), str(N), flags=("-p", str(parallelism), "-D", f"{key}={path}"))
    assert resumed.returncode == 0, resumed.stderr
    assert final_sums(resumed.job_output) == {  # type: ignore[attr-defined]
        k: sum(x for x in range(1, N + 1) if x % 10 == k) for k in range(10)}
    jobs = rest(cluster.rest_address, "/jobs/overview")["jobs"]  # type: ignore[index]
    latest = max((j for j in jobs if j["name"] == "pauses then fails"), key=lambda j: j["start-time"])
    stats = rest(cluster.rest_address, f"/jobs/{latest['jid']}/checkpoints")
    assert stats["latest"]["restored"]["external_path"] == path, stats  # type: ignore[index]


def test_a_path_without_metadata_fails_the_job_naming_it(standalone_cluster: Cluster, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-savepoint"
    result = standalone_cluster.run(JOB, str(tmp_path), str(N), flags=(
        "-D", f"execution.state-recovery.path={missing}", "-D", "restart-strategy.type=fixed-delay"))
    assert result.returncode == 1
    assert "FAILED" in result.stderr and str(missing) in result.stderr and "does not exist" in result.stderr
