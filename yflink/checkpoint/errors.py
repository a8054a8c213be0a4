"""Why checkpoints fail, and the errors of the checkpoint package.

::

    YFlinkError
     +-- CheckpointError                 a checkpoint or savepoint failed (carries a CheckpointFailureReason)
     +-- CheckpointMetadataError         a _metadata file is missing, corrupt or from a newer yflink
     +-- StateAssignmentError            a checkpoint's state does not fit the job being restored

:class:`CheckpointFailureReason` keeps Flink's names (``CheckpointFailureReason.java``) and says which reasons
count against ``execution.checkpointing.tolerable-failed-checkpoints`` (Flink's ``CheckpointFailureManager``:
declines, expiry, asynchronous and I/O failures; not subsumption, not job failover, not "too many requests").
"""

from __future__ import annotations

import enum

from yflink.common.errors import YFlinkError

__all__ = ["CheckpointError", "CheckpointFailureReason", "CheckpointMetadataError", "StateAssignmentError"]


class CheckpointFailureReason(enum.Enum):
    """Flink's reasons a checkpoint attempt fails; the value is the message shown to users."""

    PERIODIC_SCHEDULER_SHUTDOWN = "Periodic checkpoint scheduler is shut down."
    TOO_MANY_CHECKPOINT_REQUESTS = "The maximum number of queued checkpoint requests exceeded."
    MINIMUM_TIME_BETWEEN_CHECKPOINTS = "The minimum time between checkpoints is still pending."
    NOT_ALL_REQUIRED_TASKS_RUNNING = "Not all required tasks are currently running."
    CHECKPOINT_STORAGE_NOT_CONFIGURED = "The checkpoint storage is not configured."
    IO_EXCEPTION = "An Exception occurred while triggering the checkpoint (I/O)."
    CHECKPOINT_ASYNC_EXCEPTION = "Asynchronous task checkpoint failed."
    CHECKPOINT_EXPIRED = "Checkpoint expired before completing."
    CHECKPOINT_SUBSUMED = "Checkpoint has been subsumed."
    CHECKPOINT_DECLINED = "Checkpoint was declined."
    CHECKPOINT_DECLINED_TASK_NOT_READY = "Checkpoint was declined (tasks not ready)"
    CHECKPOINT_DECLINED_TASK_CLOSING = "Checkpoint was declined (task is closing)"
    CHECKPOINT_DECLINED_SUBSUMED = "Checkpoint was canceled because a barrier from newer checkpoint was received."
    CHECKPOINT_DECLINED_ON_CANCELLATION_BARRIER = "Task received cancellation from one of its inputs"
    CHECKPOINT_DECLINED_INPUT_END_OF_STREAM = (
        "Checkpoint was declined because one input stream is finished")
    CHECKPOINT_COORDINATOR_SHUTDOWN = "CheckpointCoordinator shutdown."
    CHECKPOINT_COORDINATOR_SUSPEND = "Checkpoint Coordinator is suspending."
    JOB_FAILOVER_REGION = "FailoverRegion is restarting."
    TASK_FAILURE = "Task has failed."
    TASK_CHECKPOINT_FAILURE = "Task local checkpoint failure."
    FINALIZE_CHECKPOINT_FAILURE = "Failure to finalize checkpoint."
    TRIGGER_CHECKPOINT_FAILURE = "Trigger checkpoint failure."

    @property
    def counts_as_failure(self) -> bool:
        """Whether this reason counts against the tolerable failed checkpoints (Flink's
        ``CheckpointFailureManager.checkFailureCounter``)."""
        return self in _COUNTED

    @property
    def is_pre_flight(self) -> bool:
        """Whether the checkpoint failed before it was triggered (never started on any task)."""
        return self in _PRE_FLIGHT


_COUNTED = frozenset({
    CheckpointFailureReason.IO_EXCEPTION,
    CheckpointFailureReason.CHECKPOINT_ASYNC_EXCEPTION,
    CheckpointFailureReason.CHECKPOINT_DECLINED,
    CheckpointFailureReason.CHECKPOINT_EXPIRED,
})
_PRE_FLIGHT = frozenset({
    CheckpointFailureReason.PERIODIC_SCHEDULER_SHUTDOWN,
    CheckpointFailureReason.TOO_MANY_CHECKPOINT_REQUESTS,
    CheckpointFailureReason.MINIMUM_TIME_BETWEEN_CHECKPOINTS,
    CheckpointFailureReason.NOT_ALL_REQUIRED_TASKS_RUNNING,
    CheckpointFailureReason.CHECKPOINT_STORAGE_NOT_CONFIGURED,
})


class CheckpointError(YFlinkError):
    """A checkpoint or savepoint failed.

    Attributes:
        reason: why, as Flink names it.
        checkpoint_id: the checkpoint, when it had an id.
    """

    def __init__(self, reason: CheckpointFailureReason, detail: str = "", checkpoint_id: int | None = None) -> None:
        text = reason.value + (f" {detail}" if detail else "")
        super().__init__(f"Checkpoint {checkpoint_id}: {text}" if checkpoint_id is not None else text)
        self.reason = reason
        self.checkpoint_id = checkpoint_id


class CheckpointMetadataError(YFlinkError):
    """A checkpoint's or savepoint's ``_metadata`` cannot be used: missing, corrupt, or written by a newer
    yflink. The message names the file and what to do."""


class StateAssignmentError(YFlinkError):
    """A checkpoint's state does not fit the job: state of an operator the job no longer has (without
    ``--allowNonRestoredState``), or keyed state with another max parallelism."""
