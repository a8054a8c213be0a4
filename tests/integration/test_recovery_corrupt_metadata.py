"""A corrupt newest ``_metadata`` on failover: the JobMaster re-reads the retained checkpoints' metadata from
storage (as Flink's completed-checkpoint store does on recovery), logs the unreadable newest one and restores the
previous one; the final sums are still exact (issue 5, item 7e; Flink "Checkpoints" > "Retained Checkpoints").

Only the standalone cluster: the restored checkpoint's id is read from ``GET /jobs/{id}/checkpoints``.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from tests.integration.conftest import Cluster, strip_subtask_prefix
from tests.integration.test_failures import rest, wait_for

pytestmark = pytest.mark.integration
JOB = Path(__file__).parent / "jobs" / "pauses_then_fails.py"
N = 20_000


def completed(job_dir: Path) -> list[int]:
    return sorted(int(d.name[4:]) for d in job_dir.glob("chk-*") if (d / "_metadata").exists())


def test_failover_skips_a_corrupt_newest_checkpoint(standalone_cluster: Cluster, tmp_path: Path) -> None:
    control, checkpoints = tmp_path / "control", tmp_path / "checkpoints"
    control.mkdir()
    result: list[CompletedProcess[str]] = []
    run = threading.Thread(target=lambda: result.append(standalone_cluster.run(JOB, str(control), str(N), flags=(
        "-D", "execution.checkpointing.interval=200 ms", "-D", f"execution.checkpointing.dir=file://{checkpoints}",
        "-D", "execution.checkpointing.num-retained=3", "-D", "restart-strategy.type=fixed-delay",
        "-D", "restart-strategy.fixed-delay.attempts=3", "-D", "restart-strategy.fixed-delay.delay=100 ms"))))
    run.start()
    try:
        job_dir = wait_for(lambda: next(checkpoints.glob("*"), None), 60, "the job's checkpoint directory")
        wait_for(lambda: len(completed(job_dir)) >= 3, 60, "three retained checkpoints")
        (control / "pause").touch()
        time.sleep(2.0)  # checkpoints whose barriers passed before the pause finish; no later one can
        retained = completed(job_dir)
        assert len(retained) == 3, retained
        newest, previous = retained[-1], retained[-2]
        (job_dir / f"chk-{newest}" / "_metadata").write_bytes(b"YFLINK-CHECKPOINT-METADATA 1\n{not json")
        (control / "fail").touch()
    finally:
        run.join(240)
    assert result and result[0].returncode == 0, result[0].stderr if result else "the job did not end"
    assert (control / "failed").exists()  # the planned failure happened
    final: dict[int, int] = {}
    for line in result[0].job_output.splitlines():  # type: ignore[attr-defined]
        match = re.fullmatch(r"\((\d+),(\d+)\)", strip_subtask_prefix(line.strip()))
        if match:
            final[int(match.group(1))] = max(final.get(int(match.group(1)), 0), int(match.group(2)))
    assert final == {k: sum(x for x in range(1, N + 1) if x % 10 == k) for k in range(10)}
    assert standalone_cluster.rest_address
    stats = rest(standalone_cluster.rest_address, f"/jobs/{job_dir.name}/checkpoints")
    assert stats["counts"]["restored"] == 1, stats  # type: ignore[index]
    assert stats["latest"]["restored"]["id"] == previous, (stats, newest)  # type: ignore[index]
    log = (standalone_cluster.pid_dir / "log" / "jobmanager.log").read_text()  # type: ignore[operator]
    assert f"retained checkpoint {newest} cannot be restored, falling back to the previous one" in log
