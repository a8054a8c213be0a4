"""Checkpoints to storage: with ``state.checkpoints.dir`` the JobMaster's CheckpointCoordinator writes completed
checkpoints in Flink's layout (``<dir>/<job-id>/chk-<n>/_metadata``, the metadata last), keeps
``execution.checkpointing.num-retained`` of them, and restores the latest one after a failure.

A finished job's checkpoints are deleted (Flink: every retention policy discards on FINISHED), so the directory is
watched while the job runs; after it finished no unfinished ``chk-*`` (without ``_metadata``) may remain.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

from tests.integration.conftest import Cluster, strip_subtask_prefix
from tests.integration.test_failures import rest

pytestmark = pytest.mark.integration
JOBS = Path(__file__).parent / "jobs"
N = 200_000
RETAINED = 2


def _completed(job_dir: Path) -> set[int]:
    return {int(d.name[4:]) for d in job_dir.glob("chk-*") if (d / "_metadata").exists()}


def test_checkpoints_are_written_retained_and_restored_from_storage(cluster: Cluster, tmp_path: Path) -> None:
    marker, checkpoints = tmp_path / "failed-once", tmp_path / "checkpoints"
    seen: set[int] = set()
    over_retained: list[set[int]] = []  # samples that kept more than num-retained twice in a row
    done = threading.Event()

    def watch() -> None:
        previous: set[int] = set()
        while not done.is_set():
            for job_dir in checkpoints.glob("*"):
                now = _completed(job_dir)
                seen.update(now)
                if len(now) > RETAINED and len(previous) > RETAINED:  # one completing, one being subsumed: ok
                    over_retained.append(now)
                previous = now
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        result = cluster.run(JOBS / "recovers.py", str(marker), str(N), flags=(
            "-D", "execution.checkpointing.interval=100 ms", "-D", f"state.checkpoints.dir=file://{checkpoints}",
            "-D", f"execution.checkpointing.num-retained={RETAINED}", "-D", "restart-strategy.type=fixed-delay",
            "-D", "restart-strategy.fixed-delay.attempts=3", "-D", "restart-strategy.fixed-delay.delay=100 ms"))
    finally:
        done.set()
        watcher.join()
    assert result.returncode == 0, result.stderr
    assert marker.exists()  # the planned failure happened
    final: dict[int, int] = {}
    for line in result.job_output.splitlines():  # type: ignore[attr-defined]
        match = re.fullmatch(r"\((\d+),(\d+)\)", strip_subtask_prefix(line.strip()))
        if match:
            key, total = int(match.group(1)), int(match.group(2))
            final[key] = max(final.get(key, 0), total)
    assert final == {k: sum(x for x in range(1, N + 1) if x % 10 == k) for k in range(10)}

    job_dirs = [d for d in checkpoints.iterdir() if d.is_dir()]
    assert len(job_dirs) == 1 and re.fullmatch(r"[0-9a-f]{32}", job_dirs[0].name), job_dirs
    assert len(seen) >= 2, f"completed checkpoints seen while running: {sorted(seen)}"
    assert not over_retained, f"more than {RETAINED} completed checkpoints kept: {over_retained[:3]}"
    unfinished = [d.name for d in job_dirs[0].glob("chk-*") if not (d / "_metadata").exists()]
    assert not unfinished, f"unfinished checkpoint directories left: {unfinished}"
    assert len(list(job_dirs[0].glob("chk-*"))) <= RETAINED
    if cluster.rest_address:  # the standalone cluster keeps the job: it restored a checkpoint from storage
        stats = rest(cluster.rest_address, f"/jobs/{job_dirs[0].name}/checkpoints")
        assert stats["counts"]["restored"] == 1, stats  # type: ignore[index]
        assert stats["latest"]["restored"]["id"] >= 1  # type: ignore[index]
        assert stats["counts"]["completed"] >= 2  # type: ignore[index]
        # the last one may complete and be deleted with the finished job between two samples of the watcher
        assert stats["latest"]["completed"]["id"] >= max(seen)  # type: ignore[index]
