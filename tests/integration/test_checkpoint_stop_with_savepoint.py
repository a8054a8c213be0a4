"""Stop-with-savepoint on a standalone cluster (Flink "Savepoints" > "Stopping a Job with Savepoint"): the savepoint
is synchronous, the sources stop after it and the job ends FINISHED. Without ``--drain`` open event-time windows
stay in the savepoint: the stopped run and the run resumed from it at another parallelism fire every window exactly
once, with the uninterrupted run's sums. With ``--drain`` the sources emit the MAX watermark first, so the open
windows fire, partial, before the job ends.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from tests.integration.conftest import Cluster, strip_subtask_prefix, yflink
from tests.integration.test_failures import rest, wait_for

pytestmark = pytest.mark.integration
JOB = Path(__file__).parent / "jobs" / "windowed_sums.py"
N = 8_000
SUBMITTED = re.compile(r"Job has been submitted with JobID ([0-9a-f]{32})")
SAVEPOINT = re.compile(r"Savepoint completed\. Path: (\S+)")


def expected_windows() -> dict[tuple[int, int], int]:
    windows: Counter[tuple[int, int]] = Counter()
    for x in range(1, N + 1):
        windows[(x % 3, 10 * x // 1000 * 1000)] += x
    return dict(windows)


class Output:
    """``window`` lines the standalone cluster's print sinks wrote since construction, in order."""

    def __init__(self, cluster: Cluster) -> None:
        assert cluster.pid_dir is not None
        self.log_dir = cluster.pid_dir / "log"
        self.offsets = {p: p.stat().st_size for p in self.log_dir.glob("taskmanager-*.out")}

    def windows(self) -> list[tuple[int, int, int]]:
        fired = []
        for path in sorted(self.log_dir.glob("taskmanager-*.out")):
            with path.open() as f:
                f.seek(self.offsets.get(path, 0))
                for line in f:
                    match = re.fullmatch(r"window (\d+) (\d+) (\d+)", strip_subtask_prefix(line.strip()))
                    if match:
                        fired.append((int(match.group(1)), int(match.group(2)), int(match.group(3))))
        return fired


def stop_running_job(cluster: Cluster, target: Path, *stop_flags: str) -> str:
    """Submit at parallelism 2, let it run about 2 s of its 8, stop it with a savepoint; the savepoint's URI."""
    assert cluster.rest_address
    submitted = yflink("run", "-m", cluster.rest_address, "-d", "-p", "2", str(JOB), str(N))
    assert submitted.returncode == 0, submitted.stderr
    match = SUBMITTED.search(submitted.stdout)
    assert match, submitted.stdout
    job_id = match.group(1)
    wait_for(lambda: max(v["metrics"]["read-records"] for v in rest(  # type: ignore[index]
        cluster.rest_address, f"/jobs/{job_id}")["vertices"]) > 1500, 60, "the job to make progress")  # type: ignore[arg-type]
    stop = yflink("stop", "-m", cluster.rest_address, "-p", str(target), *stop_flags, job_id)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    saved = SAVEPOINT.search(stop.stdout)
    assert saved, stop.stdout
    wait_for(lambda: rest(cluster.rest_address, f"/jobs/{job_id}")["state"] == "FINISHED",  # type: ignore[arg-type,index]
             60, "the stopped job to finish")
    return saved.group(1)


def test_stop_keeps_open_windows_and_the_resumed_run_fires_each_once(standalone_cluster: Cluster,
                                                                     tmp_path: Path) -> None:
    output = Output(standalone_cluster)
    path = stop_running_job(standalone_cluster, tmp_path)
    stopped = output.windows()
    assert 0 < len(stopped) < len(expected_windows()), "the job was not stopped mid-way"
    expected = expected_windows()
    assert all(expected[(key, start)] == total for key, start, total in stopped)  # no window fired partially

    resumed = standalone_cluster.run(JOB, str(N), flags=("-p", "1", "-s", path))
    assert resumed.returncode == 0, resumed.stderr
    fired = output.windows()
    assert sorted((key, start) for key, start, _ in fired) == sorted(expected)  # each window exactly once
    assert {(key, start): total for key, start, total in fired} == expected


def test_stop_with_drain_fires_the_open_windows_before_finishing(standalone_cluster: Cluster,
                                                                  tmp_path: Path) -> None:
    output = Output(standalone_cluster)
    stop_running_job(standalone_cluster, tmp_path, "--drain")
    fired = output.windows()
    expected = expected_windows()
    assert 0 < len(fired) < len(expected)
    partial = [(key, start, total) for key, start, total in fired if total != expected[(key, start)]]
    assert partial, "the MAX watermark did not fire the open windows"
    last_start = max(start for _, start, _ in fired)
    assert all(start == last_start for _, start, _ in partial)  # only the windows the stop cut short
