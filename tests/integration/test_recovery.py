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
