"""Savepoints through the CLI on a standalone session cluster (issue 5, item 7(c)).

A keyed summing job (every operator with a uid) is started at parallelism 1, savepointed while it runs
(`yflink savepoint`), stopped with a savepoint (`yflink stop --savepointPath`), restored with `yflink run -s` at
parallelism 2, stopped again, restored at 3, stopped again, and restored at 1 to run to its end: the final sum of
every key must equal an uninterrupted run's (nothing lost, nothing counted twice, key groups redistributed at each
new parallelism). `yflink stop --drain` ends a job FINISHED with a savepoint. A savepoint of the standalone
cluster also restores on the embedded cluster of `yflink run -s` (at parallelism 3).

Savepoints are taken on the standalone cluster only: `yflink savepoint`/`stop` need a JobManager another process
can reach (the embedded cluster lives and dies with its `yflink run`).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Cluster, strip_subtask_prefix, yflink
from tests.integration.test_failures import rest

pytestmark = pytest.mark.integration
JOBS = Path(__file__).parent / "jobs"
JOB = JOBS / "savepointed_sums.py"
N = 12_000
KEYS = 10
PROGRESS_RECORDS = 600  # records a run processes before it is savepointed or stopped
WAIT_S = 120.0
SAVEPOINT_LINE = re.compile(r"^Savepoint completed\. Path: (\S+)$", re.MULTILINE)
SUBMITTED = re.compile(r"Job has been submitted with JobID ([0-9a-f]{32})")
# small network batches: the job's blocking sleeps then leave the slot worker's loop free often enough for
# barriers, state reports and metrics (with 1,024-record batches a batch blocks the loop for about a second)
RUN_FLAGS = ("-D", "taskmanager.network.batch-size=16")


def expected_sums() -> dict[int, int]:
    return {k: sum(x for x in range(1, N + 1) if x % KEYS == k) for k in range(KEYS)}


class TaskManagerOutput:
    """What the standalone cluster's print sinks wrote (the TaskManagers' ``.out`` files) since construction."""

    def __init__(self, cluster: Cluster) -> None:
        assert cluster.pid_dir is not None
        self.log_dir = cluster.pid_dir / "log"
        self.offsets = {p: p.stat().st_size for p in self.log_dir.glob("taskmanager-*.out")}

    def lines(self, pattern: str) -> list[tuple[str, ...]]:
        """The groups of every printed line that matches ``pattern`` (subtask prefixes stripped)."""
        found = []
        for path in sorted(self.log_dir.glob("taskmanager-*.out")):
            with path.open() as f:
                f.seek(self.offsets.get(path, 0))
                for line in f:
                    match = re.fullmatch(pattern, strip_subtask_prefix(line.strip()))
                    if match:
                        found.append(match.groups())
        return found

    def sums(self) -> dict[int, int]:
        """The highest sum printed per key (sums only grow: the highest is the latest)."""
        highest: dict[int, int] = {}
        for key, total in self.lines(r"sums (\d+) (\d+)"):
            highest[int(key)] = max(highest.get(int(key), 0), int(total))
        return highest


def submit_detached(cluster: Cluster, parallelism: int, *flags: str, script: Path = JOB) -> str:
    assert cluster.rest_address
    result = yflink("run", "-m", cluster.rest_address, "-d", "-p", str(parallelism), *RUN_FLAGS, *flags,
                    str(script), str(N))
    assert result.returncode == 0, result.stdout + result.stderr
    match = SUBMITTED.search(result.stdout)
    assert match, result.stdout
    return match.group(1)


def job_details(cluster: Cluster, job_id: str) -> dict[str, Any]:
    assert cluster.rest_address
    details = rest(cluster.rest_address, f"/jobs/{job_id}")
    assert isinstance(details, dict)
    return details


def wait_for_progress(cluster: Cluster, job_id: str, records: int) -> None:
    """Until every task RUNS and the sums operator has read ``records`` more records than when this started."""
    deadline = time.monotonic() + WAIT_S
    start = None
    details: dict[str, Any] = {}
    while time.monotonic() < deadline:
        details = job_details(cluster, job_id)
        assert details["state"] in ("CREATED", "INITIALIZING", "RUNNING"), details["state"]
        vertices = details["vertices"]
        read = max(v["metrics"]["read-records"] for v in vertices)
        if all(v["status"] == "RUNNING" for v in vertices):
            start = read if start is None else start
            if read - start >= records:
                return
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} made no progress in {WAIT_S} s: {details.get('state')}")


def wait_for_state(cluster: Cluster, job_id: str, state: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        current = job_details(cluster, job_id)["state"]
        if current == state:
            return
        assert current not in {"FINISHED", "FAILED", "CANCELED"} - {state}, current
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not reach {state} in {WAIT_S} s")


def savepoint_path(output: str) -> Path:
    match = SAVEPOINT_LINE.search(output)
    assert match, output
    location = match.group(1)
    path = Path(location.removeprefix("file://"))
    assert (path / "_metadata").is_file(), f"no _metadata in {location}"
    return path


def test_savepoint_stop_and_restore_at_parallelism_2_3_1_gives_the_uninterrupted_sums(
        standalone_cluster: Cluster, tmp_path: Path) -> None:
    cluster = standalone_cluster
    assert cluster.rest_address
    output = TaskManagerOutput(cluster)
    job_id = submit_detached(cluster, 1)
    wait_for_progress(cluster, job_id, PROGRESS_RECORDS)

    taken = yflink("savepoint", "-m", cluster.rest_address, job_id, str(tmp_path / "running"))
    assert taken.returncode == 0, taken.stdout + taken.stderr
    assert taken.stdout.startswith(f"Triggering savepoint for job {job_id}.\nWaiting for response...\n")
    assert savepoint_path(taken.stdout).parent == tmp_path / "running"
    assert job_details(cluster, job_id)["state"] == "RUNNING"  # a savepoint does not stop the job

    stopped_ids = []
    for parallelism in (2, 3, 1):
        wait_for_progress(cluster, job_id, PROGRESS_RECORDS)
        stop = yflink("stop", "-m", cluster.rest_address, "--savepointPath", str(tmp_path / "stops"), job_id)
        assert stop.returncode == 0, stop.stdout + stop.stderr
        assert stop.stdout.startswith(f'Suspending job "{job_id}" with a savepoint.\n')
        path = savepoint_path(stop.stdout)
        wait_for_state(cluster, job_id, "FINISHED")
        stopped_ids.append(job_id)
        partial = output.sums()
        assert all(partial.get(k, 0) < total for k, total in expected_sums().items()), "stopped after the end"
        if parallelism != 1:
            job_id = submit_detached(cluster, parallelism, "-s", str(path))
            vertices = job_details(cluster, job_id)["vertices"]
            assert max(v["parallelism"] for v in vertices) == parallelism
        else:
            final = yflink("run", "-m", cluster.rest_address, "-q", "-p", "1", *RUN_FLAGS, "--fromSavepoint", str(path),
                           str(JOB), str(N))
            assert final.returncode == 0, final.stdout + final.stderr
    assert output.sums() == expected_sums()

    ended = yflink("savepoint", "-m", cluster.rest_address, stopped_ids[0], str(tmp_path / "late"))
    assert ended.returncode == 1 and "already FINISHED" in ended.stderr, ended.stdout + ended.stderr


def test_stop_with_drain_fires_every_window_and_finishes_with_a_savepoint(
        standalone_cluster: Cluster, tmp_path: Path) -> None:
    """`--drain` emits MAX_WATERMARK before the savepoint: every record read lands in a fired window."""
    cluster = standalone_cluster
    assert cluster.rest_address
    output = TaskManagerOutput(cluster)
    job_id = submit_detached(cluster, 2, script=JOBS / "drained_windows.py")
    wait_for_progress(cluster, job_id, PROGRESS_RECORDS)
    stop = yflink("stop", "-m", cluster.rest_address, "-p", str(tmp_path), "--drain", job_id)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert stop.stdout.startswith(f'Draining job "{job_id}" with a savepoint.\n')
    assert savepoint_path(stop.stdout).parent == tmp_path
    wait_for_state(cluster, job_id, "FINISHED")
    windows = output.lines(r"window (\d+) (\d+) (\d+)")
    read = [v["metrics"]["read-records"] for v in job_details(cluster, job_id)["vertices"]
            if v["name"].startswith("Window")]
    assert len(read) == 1 and 0 < read[0] < N, read
    assert sum(int(count) for _, _, count in windows) == read[0]  # the partial last windows fired too
    assert len({(key, start) for key, start, _ in windows}) == len(windows)  # each window fired once


def test_stop_without_drain_keeps_open_windows_for_the_restored_job(standalone_cluster: Cluster,
                                                                     tmp_path: Path) -> None:
    """Without `--drain` no window fires at the stop (Flink: the job is suspended, its windows stay in the
    savepoint); the restored job fires each window once, with all its records."""
    cluster = standalone_cluster
    assert cluster.rest_address
    output = TaskManagerOutput(cluster)
    job_id = submit_detached(cluster, 2, script=JOBS / "drained_windows.py")
    wait_for_progress(cluster, job_id, PROGRESS_RECORDS)
    stop = yflink("stop", "-m", cluster.rest_address, "-p", str(tmp_path), job_id)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    path = savepoint_path(stop.stdout)
    wait_for_state(cluster, job_id, "FINISHED")
    restored = yflink("run", "-m", cluster.rest_address, "-q", "-p", "3", *RUN_FLAGS, "-s", str(path),
                      str(JOBS / "drained_windows.py"), str(N))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    windows = output.lines(r"window (\d+) (\d+) (\d+)")
    fired = [(key, start) for key, start, _ in windows]
    assert len(set(fired)) == len(fired), "a window fired twice (at the stop and after the restore)"
    assert sum(int(count) for _, _, count in windows) == N


def test_savepoint_errors_on_a_real_cluster(standalone_cluster: Cluster, tmp_path: Path) -> None:
    cluster = standalone_cluster
    assert cluster.rest_address
    unknown = yflink("savepoint", "-m", cluster.rest_address, "0" * 32, str(tmp_path))
    assert unknown.returncode == 1 and f"Job {'0' * 32} not found" in unknown.stderr
    job_id = submit_detached(cluster, 1)
    try:
        wait_for_progress(cluster, job_id, 1)
        no_dir = yflink("savepoint", "-m", cluster.rest_address, job_id)
        assert no_dir.returncode == 1 and "state.savepoints.dir" in no_dir.stderr, no_dir.stderr
    finally:
        yflink("cancel", "-m", cluster.rest_address, job_id)


def test_a_savepoint_of_the_standalone_cluster_restores_on_an_embedded_cluster(
        standalone_cluster: Cluster, tmp_path: Path) -> None:
    cluster = standalone_cluster
    assert cluster.rest_address
    output = TaskManagerOutput(cluster)
    job_id = submit_detached(cluster, 2)
    wait_for_progress(cluster, job_id, PROGRESS_RECORDS)
    stop = yflink("stop", "-m", cluster.rest_address, "-p", str(tmp_path), job_id)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    path = savepoint_path(stop.stdout)
    wait_for_state(cluster, job_id, "FINISHED")
    embedded = Cluster("embedded").run(JOB, str(N), flags=("-q", "-p", "3", *RUN_FLAGS, "-s", str(path)))
    assert embedded.returncode == 0, embedded.stderr
    final = output.sums()
    for line in embedded.job_output.splitlines():  # type: ignore[attr-defined]
        match = re.fullmatch(r"sums (\d+) (\d+)", strip_subtask_prefix(line.strip()))
        if match:
            final[int(match.group(1))] = max(final.get(int(match.group(1)), 0), int(match.group(2)))
    assert final == expected_sums()


def test_pyflink_job_client_triggers_and_stops_with_savepoints(cluster: Cluster, tmp_path: Path) -> None:
    """`JobClient.trigger_savepoint` / `stop_with_savepoint` from a job script, on both clusters."""
    result = cluster.run(JOBS / "job_client_savepoints.py", str(N), str(tmp_path),
                         flags=("-q", *RUN_FLAGS))
    assert result.returncode == 0, result.stdout + result.stderr
    taken = re.search(r"^savepoint (\S+)$", result.stdout, re.MULTILINE)
    stopped = re.search(r"^stopped (\S+) FINISHED$", result.stdout, re.MULTILINE)
    assert taken and stopped, result.stdout
    for location in (taken.group(1), stopped.group(1)):
        assert (Path(location.removeprefix("file://")) / "_metadata").is_file()
        assert Path(location.removeprefix("file://")).parent == tmp_path


def test_run_from_a_savepoint_with_state_of_a_removed_operator_needs_allow_non_restored_state(
        standalone_cluster: Cluster, tmp_path: Path) -> None:
    """A savepoint of the windows job holds state of uid 'windows', which the sums job lacks: refused with a
    message naming the uid and -n/--allowNonRestoredState; accepted with -n (the source's position still maps)."""
    cluster = standalone_cluster
    assert cluster.rest_address
    job_id = submit_detached(cluster, 1, script=JOBS / "drained_windows.py")
    wait_for_progress(cluster, job_id, PROGRESS_RECORDS)
    stop = yflink("stop", "-m", cluster.rest_address, "-p", str(tmp_path), job_id)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    path = str(savepoint_path(stop.stdout))
    refused = yflink("run", "-m", cluster.rest_address, "-q", *RUN_FLAGS, "-s", path, str(JOB), "100")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "StateAssignmentError" in refused.stderr and "uid 'windows'" in refused.stderr
    assert "--allowNonRestoredState" in refused.stderr
    allowed = yflink("run", "-m", cluster.rest_address, "-q", *RUN_FLAGS, "-s", path, "-n", str(JOB), str(N))
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
