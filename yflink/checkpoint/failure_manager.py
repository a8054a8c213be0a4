"""Counting failed checkpoints against ``execution.checkpointing.tolerable-failed-checkpoints``.

Flink ``CheckpointFailureManager``: only some reasons count (declines, expiry, asynchronous and I/O failures;
:attr:`CheckpointFailureReason.counts_as_failure`); each checkpoint counts at most once; failures of checkpoints
older than the latest completed one do not count; a completed checkpoint resets the count. When the count exceeds
the tolerable number the job fails. Savepoints never fail the job: the user retries; a failed stop-with-savepoint
leaves the job running, since its sources stop only once the savepoint completed (Flink 1.15+
``StopWithSavepointTerminationHandlerImpl``).
"""

from __future__ import annotations

from typing import Optional

from yflink.checkpoint.errors import CheckpointFailureReason

__all__ = ["EXCEEDED_TOLERABLE_FAILURES", "CheckpointFailureManager"]

EXCEEDED_TOLERABLE_FAILURES = "Exceeded checkpoint tolerable failure threshold."


class CheckpointFailureManager:
    """Decides, failure by failure, whether the job must fail.

    Args:
        tolerable_failures: consecutive counted failures tolerated (``0``: the first one fails the job).
    """

    def __init__(self, tolerable_failures: int) -> None:
        if tolerable_failures < 0:
            raise ValueError(f"tolerable failures must be >= 0, got {tolerable_failures}")
        self.tolerable_failures = tolerable_failures
        self.continuous_failures = 0
        self._counted: set[int] = set()
        self._last_succeeded = -1

    def on_failure(self, checkpoint_id: Optional[int], reason: CheckpointFailureReason, *,
                   is_savepoint: bool = False, is_synchronous: bool = False,
                   on_task: bool = False) -> Optional[str]:
        """Record a failed checkpoint; the message to fail the job with, or None to go on.

        Args:
            checkpoint_id: the failed checkpoint, None when it failed before it got an id.
            reason: why it failed.
            is_savepoint / is_synchronous: what it was.
            on_task: the failure was reported by a task (decline) rather than found by the JobMaster.
        """
        if is_savepoint and (is_synchronous or not on_task):
            # A failed stop-with-savepoint leaves the job running (Flink 1.15+ StopWithSavepointTerminationHandler:
            # the sources only stop once the savepoint completed), so it is never a reason to fail the job.
            return None
        if checkpoint_id is not None and checkpoint_id <= self._last_succeeded:
            return None
        if reason.counts_as_failure and (checkpoint_id is None or checkpoint_id not in self._counted):
            if checkpoint_id is not None:
                self._counted.add(checkpoint_id)
            self.continuous_failures += 1
        if self.continuous_failures > self.tolerable_failures:
            self._clear()
            return EXCEEDED_TOLERABLE_FAILURES
        return None

    def on_success(self, checkpoint_id: int) -> None:
        """A checkpoint completed: the count starts over."""
        if checkpoint_id > self._last_succeeded:
            self._last_succeeded = checkpoint_id
            self._clear()

    def _clear(self) -> None:
        self.continuous_failures = 0
        self._counted.clear()
