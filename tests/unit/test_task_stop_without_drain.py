"""Stop-with-savepoint without --drain suspends a task: after its SAVEPOINT_SUSPEND snapshot the task's input ends
without ending event time, so windows and timers stay in the savepoint for the restored job (Flink: no endInput).
An aborted suspend, a drain (SAVEPOINT_TERMINATE) or a plain savepoint leave the task's end of input as it was."""

from __future__ import annotations

import asyncio
from pathlib import Path

from yflink.checkpoint.barriers import SnapshotType
from yflink.checkpoint.storage import CheckpointStorage

from .test_checkpoint_task_upload import Log, barrier, checkpointer


def test_suspended_after_a_suspend_savepoint_unless_it_is_aborted(tmp_path: Path) -> None:
    async def scenario() -> None:
        cp = checkpointer(Log(), CheckpointStorage("j" * 32, None))
        for checkpoint_id, kind in ((1, SnapshotType.CHECKPOINT), (2, SnapshotType.SAVEPOINT),
                                    (3, SnapshotType.SAVEPOINT_TERMINATE)):
            assert cp.perform(barrier(checkpoint_id, str(tmp_path), kind))
            assert not cp.suspended, kind
        assert cp.perform(barrier(4, str(tmp_path), SnapshotType.SAVEPOINT_SUSPEND))
        assert cp.suspended
        cp.notify(4, completed=False)  # the stop failed: the job goes on, a later end of input is a real end
        assert not cp.suspended
        assert cp.perform(barrier(5, str(tmp_path), SnapshotType.SAVEPOINT_SUSPEND))
        cp.notify(4, completed=False)  # a late outcome of another checkpoint changes nothing
        cp.notify(5, completed=True)
        assert cp.suspended
        await cp.wait_for_uploads()
        cp.close()

    asyncio.run(scenario())
