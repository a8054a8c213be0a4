"""The JobMaster's CheckpointCoordinator as a pure state machine: events in, instructions out.

Flink ``CheckpointCoordinator`` (with ``CheckpointRequestDecider``, ``PendingCheckpoint``,
``CompletedCheckpointStore`` and ``CheckpointFailureManager``), without I/O, threads or clocks: every event method
takes ``now_ms`` and returns a list of instructions for the caller (:mod:`yflink.checkpoint.driver`, or the
JobMaster itself) to carry out in order.

Events: :meth:`start_scheduler` / :meth:`tick` (time passes: periodic triggers, expiry), :meth:`trigger_savepoint`
(also stop-with-savepoint), :meth:`acknowledge` and :meth:`decline` (from tasks), :meth:`metadata_written` /
:meth:`metadata_failed` / :meth:`location_failed` / :meth:`trigger_failed` (results of the caller's I/O),
:meth:`abort_all` (job failover), :meth:`shutdown` (the job ended).

Instructions: :class:`TriggerCheckpoint` (create the location, then ask the source tasks to inject the barrier),
:class:`WriteMetadata` (all tasks acknowledged: write ``_metadata``, then report back),
:class:`NotifyCheckpointComplete` (tasks commit side effects: two-phase-commit sinks),
:class:`NotifyCheckpointAborted`, :class:`DiscardState` (delete files of aborted or subsumed checkpoints),
:class:`SavepointCompleted` / :class:`SavepointFailed`, :class:`FailJob`.

Rules (Flink's): periodic checkpoints every ``interval`` after a random first delay in [min-pause, interval]; no
more than ``max-concurrent-checkpoints`` in flight (a periodic request waits for one to finish); none sooner than
``min-pause`` after the last completion; savepoints bypass both limits. A checkpoint completes only after every
task acknowledged **and** ``_metadata`` is written; then it is retained (savepoints are not), the oldest retained
beyond ``num-retained`` are subsumed (deleted, shared files by reference count), older pending checkpoints are
aborted as subsumed, and tasks are notified. A checkpoint not complete after ``timeout`` expires. Declines and
expiries count against ``tolerable-failed-checkpoints``.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Optional, Union

from yflink.checkpoint.barriers import AlignmentType, CheckpointBarrier, CheckpointOptions, SnapshotType
from yflink.checkpoint.errors import CheckpointError, CheckpointFailureReason
from yflink.checkpoint.failure_manager import CheckpointFailureManager
from yflink.checkpoint.handles import TaskStateSnapshot, file_paths
from yflink.checkpoint.metadata import CheckpointMetadata
from yflink.checkpoint.options import CheckpointCoordinatorConfiguration, CheckpointingMode
from yflink.checkpoint.pending import AckResult, CheckpointPlan, PendingCheckpoint, VertexInfo
from yflink.checkpoint.storage import CheckpointStorage, CheckpointStorageLocation
from yflink.checkpoint.store import (
    CheckpointProperties,
    CompletedCheckpoint,
    CompletedCheckpointStore,
    DiscardPlan,
    discard_plan,
)

__all__ = [
    "CheckpointCoordinator",
    "CheckpointStats",
    "CoordinatorInstruction",
    "DiscardState",
    "FailJob",
    "NotifyCheckpointAborted",
    "NotifyCheckpointComplete",
    "SavepointCompleted",
    "SavepointFailed",
    "TriggerCheckpoint",
    "WriteMetadata",
]

_REMEMBERED_ABORTS = 128  # locations of recently aborted checkpoints, to clean up after late acknowledgements


# --- instructions -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TriggerCheckpoint:
    """Create ``location``'s directory, then ask each of ``tasks`` to inject :attr:`barrier`."""

    checkpoint_id: int
    timestamp: int
    options: CheckpointOptions
    location: CheckpointStorageLocation
    tasks: tuple[str, ...]

    @property
    def barrier(self) -> CheckpointBarrier:
        return CheckpointBarrier(self.checkpoint_id, self.timestamp, self.options)


@dataclass(frozen=True)
class WriteMetadata:
    """Every task acknowledged: write ``metadata`` to ``location`` (atomically), then call
    :meth:`CheckpointCoordinator.metadata_written` or :meth:`~CheckpointCoordinator.metadata_failed`."""

    checkpoint_id: int
    location: CheckpointStorageLocation
    metadata: CheckpointMetadata


@dataclass(frozen=True)
class NotifyCheckpointComplete:
    """Tell ``tasks`` that ``checkpoint_id`` completed (sinks commit); ``last_subsumed`` was just deleted."""

    checkpoint_id: int
    timestamp: int
    tasks: tuple[str, ...]
    last_subsumed: Optional[int] = None


@dataclass(frozen=True)
class NotifyCheckpointAborted:
    """Tell ``tasks`` that ``checkpoint_id`` was aborted (they drop its snapshot and alignment)."""

    checkpoint_id: int
    reason: CheckpointFailureReason
    tasks: tuple[str, ...]


@dataclass(frozen=True)
class DiscardState:
    """Delete ``plan``'s directories (recursively) and files; best effort."""

    plan: DiscardPlan


@dataclass(frozen=True)
class SavepointCompleted:
    """Savepoint request ``request_id`` is done; ``path`` is its directory. With ``stop`` the tasks now finish."""

    request_id: Optional[str]
    checkpoint_id: int
    path: str
    stop: bool = False


@dataclass(frozen=True)
class SavepointFailed:
    """Savepoint request ``request_id`` failed."""

    request_id: Optional[str]
    reason: CheckpointFailureReason
    message: str


@dataclass(frozen=True)
class FailJob:
    """Fail the job (too many failed checkpoints)."""

    message: str


CoordinatorInstruction = Union[TriggerCheckpoint, WriteMetadata, NotifyCheckpointComplete, NotifyCheckpointAborted,
                               DiscardState, SavepointCompleted, SavepointFailed, FailJob]


@dataclass
class CheckpointStats:
    """Counts and recent history for ``GET /jobs/<id>/checkpoints`` (Flink ``CheckpointStatsSnapshot``)."""

    triggered: int = 0
    completed: int = 0
    failed: int = 0
    restored: int = 0
    latest_completed: Optional[tuple[int, str]] = None   # (id, external path)
    latest_savepoint: Optional[tuple[int, str]] = None
    latest_failed: Optional[tuple[int, str]] = None      # (id, reason)
    latest_restored: Optional[tuple[int, str]] = None
    history: deque[tuple[int, str, str]] = field(default_factory=lambda: deque(maxlen=10))  # (id, type, status)

    def record(self, checkpoint_id: int, kind: str, status: str) -> None:
        """Put ``checkpoint_id``'s latest status into the history (one entry per checkpoint, as Flink's)."""
        for entry in [e for e in self.history if e[0] == checkpoint_id]:
            self.history.remove(entry)
        self.history.append((checkpoint_id, kind, status))


class CheckpointCoordinator:
    """Coordinates the checkpoints and savepoints of one job (see the module docstring).

    Args:
        job_id: the job's id.
        config: the job's checkpoint settings.
        vertices: the JobGraph's vertices with their operators' stable ids.
        storage: computes locations (pure); the caller does the I/O.
        plan_provider: the current :class:`CheckpointPlan`, or None when not every task is RUNNING.
        rng: source of the first periodic delay.
        next_checkpoint_id: the id the next checkpoint gets (after a restore: the restored id + 1 or more).
    """

    def __init__(self, job_id: str, config: CheckpointCoordinatorConfiguration, vertices: Iterable[VertexInfo],
                 storage: CheckpointStorage, plan_provider: Callable[[], Optional[CheckpointPlan]], *,
                 rng: Optional[random.Random] = None, next_checkpoint_id: int = 1) -> None:
        self.job_id = job_id
        self.config = config
        self.vertices = {v.vertex_id: v for v in vertices}
        self.storage = storage
        self._plan_provider = plan_provider
        self._rng = rng or random.Random()
        self.next_checkpoint_id = next_checkpoint_id
        self.pending: dict[int, PendingCheckpoint] = {}
        self.store = CompletedCheckpointStore(config.num_retained, taskowned_dir=storage.taskowned_dir)
        self.failure_manager = CheckpointFailureManager(config.tolerable_failures)
        self.stats = CheckpointStats()
        self._props = CheckpointProperties.for_checkpoint(config.retention)
        self._periodic = False
        self._next_periodic_ms: Optional[int] = None
        self._periodic_queued = False
        self._last_completion_ms: Optional[int] = None
        self._resume_periodic_after_stop: Optional[bool] = None  # set while a stop-with-savepoint runs
        self._aborted: dict[int, PendingCheckpoint] = {}
        self._shut_down = False
        self._last_pre_flight: Optional[tuple[CheckpointFailureReason, str]] = None

    # --- time ----------------------------------------------------------------------------------------
    def start_scheduler(self, now_ms: int) -> list[CoordinatorInstruction]:
        """Start periodic checkpoints: the first after a random delay in [min-pause, interval] (Flink)."""
        if self.config.interval_ms is None or self._shut_down:
            return []
        self._periodic = True
        interval, pause = self.config.interval_ms, min(self.config.min_pause_ms, self.config.interval_ms)
        self._next_periodic_ms = now_ms + self._rng.randint(pause, interval)
        return []

    def stop_scheduler(self) -> None:
        self._periodic = False
        self._next_periodic_ms = None
        self._periodic_queued = False

    @property
    def is_scheduler_running(self) -> bool:
        return self._periodic

    def next_wakeup_ms(self) -> Optional[int]:
        """When :meth:`tick` has something to do next (ms since the epoch), or None."""
        times = [p.deadline for p in self.pending.values() if not p.finalizing]
        if self._periodic and self._next_periodic_ms is not None and not self._periodic_queued:
            times.append(self._next_periodic_ms)
        return min(times) if times else None

    def tick(self, now_ms: int) -> list[CoordinatorInstruction]:
        """Expire overdue checkpoints and trigger a periodic one when due."""
        out: list[CoordinatorInstruction] = []
        for pending in list(self.pending.values()):
            if now_ms >= pending.deadline and not pending.finalizing:
                self._abort(pending, CheckpointFailureReason.CHECKPOINT_EXPIRED, out, now_ms=now_ms)
        if self._periodic and self._next_periodic_ms is not None and now_ms >= self._next_periodic_ms:
            assert self.config.interval_ms is not None
            self._next_periodic_ms = now_ms + self.config.interval_ms
            self._request_periodic(now_ms, out)
        return out

    # --- triggering ----------------------------------------------------------------------------------
    def _request_periodic(self, now_ms: int, out: list[CoordinatorInstruction]) -> None:
        if len(self.pending) >= self.config.effective_max_concurrent:
            self._periodic_queued = True  # runs when one in flight finishes (CheckpointRequestDecider)
            return
        self._periodic_queued = False
        if self._last_completion_ms is not None:
            earliest = self._last_completion_ms + self.config.min_pause_ms
            if now_ms < earliest:
                self._next_periodic_ms = earliest  # MINIMUM_TIME_BETWEEN_CHECKPOINTS: reschedule, not a failure
                return
        self._trigger(now_ms, SnapshotType.CHECKPOINT, None, None, out)

    def _after_one_finished(self, now_ms: int, out: list[CoordinatorInstruction]) -> None:
        if self._periodic and self._periodic_queued:
            self._request_periodic(now_ms, out)

    def trigger_checkpoint(self, now_ms: int) -> tuple[int, list[CoordinatorInstruction]]:
        """Trigger a checkpoint now (``POST /jobs/<id>/checkpoints``; Flink's manual checkpoint, FLINK-27101).

        It bypasses the periodic scheduler's limits (min pause, max concurrent) like a savepoint, but is a
        checkpoint: retained, subsumed, counted. Returns its id and the instructions.

        Raises:
            CheckpointError: it could not start (not every task RUNNING, the coordinator shut down).
        """
        out: list[CoordinatorInstruction] = []
        pending = self._trigger(now_ms, SnapshotType.CHECKPOINT, None, None, out)
        if pending is None:
            reason, message = self._last_pre_flight or (CheckpointFailureReason.TRIGGER_CHECKPOINT_FAILURE, "")
            raise CheckpointError(reason, message)
        return pending.checkpoint_id, out

    def trigger_savepoint(self, now_ms: int, target_dir: Optional[str] = None, request_id: Optional[str] = None,
                          *, stop: bool = False, drain: bool = False) -> list[CoordinatorInstruction]:
        """Trigger a savepoint into ``target_dir`` (default ``execution.checkpointing.savepoint-dir``).

        With ``stop`` it is stop-with-savepoint (``drain``: sources end their input first): periodic
        checkpoints stop meanwhile and resume if it fails. The outcome arrives as :class:`SavepointCompleted`
        or :class:`SavepointFailed` with ``request_id``.
        """
        out: list[CoordinatorInstruction] = []
        kind = SnapshotType.SAVEPOINT
        if stop:
            if self._resume_periodic_after_stop is not None:
                reason = CheckpointFailureReason.TOO_MANY_CHECKPOINT_REQUESTS
                return [SavepointFailed(request_id, reason, "A stop-with-savepoint is already in progress.")]
            kind = SnapshotType.SAVEPOINT_TERMINATE if drain else SnapshotType.SAVEPOINT_SUSPEND
            self._resume_periodic_after_stop = self._periodic
            self.stop_scheduler()
        if self._trigger(now_ms, kind, request_id, target_dir, out) is None and stop:
            self._resume_after_failed_stop(now_ms)
        return out

    def _trigger(self, now_ms: int, kind: SnapshotType, request_id: Optional[str], target_dir: Optional[str],
                 out: list[CoordinatorInstruction]) -> Optional[PendingCheckpoint]:
        if self._shut_down:
            self._pre_flight_failure(CheckpointFailureReason.CHECKPOINT_COORDINATOR_SHUTDOWN, kind,
                                            request_id, "", out)
            return None
        plan = self._plan_provider()
        if plan is None:
            self._pre_flight_failure(CheckpointFailureReason.NOT_ALL_REQUIRED_TASKS_RUNNING, kind,
                                            request_id, "", out)
            return None
        checkpoint_id = self.next_checkpoint_id
        try:
            location = (self.storage.savepoint_location(checkpoint_id, target_dir) if kind.is_savepoint
                        else self.storage.checkpoint_location(checkpoint_id))
        except CheckpointError as exc:
            self._pre_flight_failure(exc.reason, kind, request_id, str(exc), out)
            return None
        self.next_checkpoint_id += 1
        alignment = (AlignmentType.ALIGNED if self.config.mode is CheckpointingMode.EXACTLY_ONCE
                     else AlignmentType.AT_LEAST_ONCE)
        options = CheckpointOptions(kind, location.exclusive_dir if location.persistent else None, alignment,
                                    location.shared_dir)
        pending = PendingCheckpoint(checkpoint_id, now_ms, options, location, plan, now_ms + self.config.timeout_ms,
                                    self.vertices, request_id)
        self.pending[checkpoint_id] = pending
        self.stats.triggered += 1
        self.stats.record(checkpoint_id, kind.value, "IN_PROGRESS")
        out.append(TriggerCheckpoint(checkpoint_id, now_ms, options, location, plan.tasks_to_trigger))
        if pending.is_fully_acknowledged:  # no running task to wait for
            self._finalize(pending, out)
        return pending

    def _pre_flight_failure(self, reason: CheckpointFailureReason, kind: SnapshotType, request_id: Optional[str],
                            message: str, out: list[CoordinatorInstruction]) -> None:
        self.stats.failed += 1
        self._last_pre_flight = (reason, message)
        if kind.is_savepoint:
            out.append(SavepointFailed(request_id, reason, message or reason.value))

    # --- acknowledgements ----------------------------------------------------------------------------
    def acknowledge(self, execution_id: str, checkpoint_id: int, state: Optional[TaskStateSnapshot],
                    now_ms: int) -> list[CoordinatorInstruction]:
        """Task ``execution_id`` finished its snapshot of ``checkpoint_id`` (``state``: ``{operator id: ...}``)."""
        out: list[CoordinatorInstruction] = []
        pending = self.pending.get(checkpoint_id)
        result = pending.acknowledge(execution_id, state) if pending is not None else AckResult.UNKNOWN
        if result is AckResult.SUCCESS:
            assert pending is not None
            if pending.is_fully_acknowledged:
                self._finalize(pending, out)
        elif result is not AckResult.DUPLICATE and state:
            self._discard_late_state(checkpoint_id, state, out)
        return out

    def _discard_late_state(self, checkpoint_id: int, state: TaskStateSnapshot,
                            out: list[CoordinatorInstruction]) -> None:
        handles = [pair for subtask in state.values() for pair in subtask.stream_handles()]
        exclusive = file_paths(iter(handles), shared=False)
        shared = self.store.registry.unreferenced(file_paths(iter(handles), shared=True))
        aborted = self._aborted.get(checkpoint_id)
        directory = aborted.location.exclusive_dir if aborted is not None else None
        out.append(DiscardState(discard_plan(checkpoint_id, directory, exclusive, shared, self.storage.taskowned_dir)))

    def decline(self, execution_id: str, checkpoint_id: int, reason: CheckpointFailureReason, message: str,
                now_ms: int) -> list[CoordinatorInstruction]:
        """Task ``execution_id`` cannot take ``checkpoint_id``: the checkpoint is aborted."""
        out: list[CoordinatorInstruction] = []
        pending = self.pending.get(checkpoint_id)
        if pending is not None and execution_id in pending.plan.tasks_to_wait_for:
            self._abort(pending, reason, out, message, on_task=True, now_ms=now_ms)
        return out

    def trigger_failed(self, checkpoint_id: int, message: str, now_ms: int) -> list[CoordinatorInstruction]:
        """The trigger call to a source task failed."""
        return self._abort_by_id(checkpoint_id, CheckpointFailureReason.TRIGGER_CHECKPOINT_FAILURE, message, now_ms)

    def location_failed(self, checkpoint_id: int, message: str, now_ms: int) -> list[CoordinatorInstruction]:
        """The checkpoint's directory could not be created."""
        return self._abort_by_id(checkpoint_id, CheckpointFailureReason.IO_EXCEPTION, message, now_ms)

    def metadata_failed(self, checkpoint_id: int, message: str, now_ms: int) -> list[CoordinatorInstruction]:
        """Writing ``_metadata`` failed: the checkpoint is aborted (an I/O failure on the JobMaster, counted)."""
        pending = self.pending.get(checkpoint_id)
        if pending is not None:
            pending.finalizing = False
        return self._abort_by_id(checkpoint_id, CheckpointFailureReason.IO_EXCEPTION, message, now_ms)

    def _abort_by_id(self, checkpoint_id: int, reason: CheckpointFailureReason, message: str,
                     now_ms: int) -> list[CoordinatorInstruction]:
        out: list[CoordinatorInstruction] = []
        pending = self.pending.get(checkpoint_id)
        if pending is not None:
            self._abort(pending, reason, out, message, now_ms=now_ms)
        elif checkpoint_id in self._aborted and self._aborted[checkpoint_id].finalizing:
            self._aborted[checkpoint_id].finalizing = False  # its write ended: now its files can go
            out.append(DiscardState(self._discard_pending(self._aborted[checkpoint_id])))
        return out

    # --- completion ----------------------------------------------------------------------------------
    def _finalize(self, pending: PendingCheckpoint, out: list[CoordinatorInstruction]) -> None:
        pending.finalizing = True
        out.append(WriteMetadata(pending.checkpoint_id, pending.location, pending.to_metadata(self.job_id)))

    def metadata_written(self, checkpoint_id: int, external_pointer: str,
                         now_ms: int) -> list[CoordinatorInstruction]:
        """``_metadata`` is written: the checkpoint is complete (retained, older ones subsumed, tasks told)."""
        out: list[CoordinatorInstruction] = []
        pending = self.pending.pop(checkpoint_id, None)
        if pending is None:  # aborted while its metadata was being written: it must not survive
            aborted = self._aborted.get(checkpoint_id)
            if aborted is not None and aborted.finalizing:
                aborted.finalizing = False
                out.append(DiscardState(self._discard_pending(aborted)))
            return out
        kind = pending.snapshot_type
        props = CheckpointProperties.for_savepoint(kind) if kind.is_savepoint else self._props
        completed = CompletedCheckpoint(pending.to_metadata(self.job_id), external_pointer, props, now_ms)
        self.failure_manager.on_success(checkpoint_id)
        last_subsumed = None
        if not kind.is_savepoint:
            for plan in self.store.add(completed):
                out.append(DiscardState(plan))
                last_subsumed = plan.checkpoint_id
            self._last_completion_ms = now_ms
            self.stats.latest_completed = (checkpoint_id, external_pointer)
            for older in [p for p in self.pending.values()
                          if p.checkpoint_id < checkpoint_id and not p.snapshot_type.is_savepoint]:
                self._abort(older, CheckpointFailureReason.CHECKPOINT_SUBSUMED, out)
        else:
            self.stats.latest_savepoint = (checkpoint_id, external_pointer)
        self.stats.completed += 1
        self.stats.record(checkpoint_id, kind.value, "COMPLETED")
        if not kind.is_savepoint or kind.is_synchronous:
            out.append(NotifyCheckpointComplete(checkpoint_id, pending.timestamp, pending.participants, last_subsumed))
        if kind.is_savepoint:
            out.append(SavepointCompleted(pending.request_id, checkpoint_id, external_pointer, kind.is_synchronous))
            if kind.is_synchronous:
                self._resume_periodic_after_stop = None  # the job stops: periodic checkpoints stay off
        self._after_one_finished(now_ms, out)
        return out

    # --- aborting ------------------------------------------------------------------------------------
    def _abort(self, pending: PendingCheckpoint, reason: CheckpointFailureReason, out: list[CoordinatorInstruction],
               message: str = "", *, on_task: bool = False, now_ms: Optional[int] = None) -> None:
        self.pending.pop(pending.checkpoint_id, None)
        pending.disposed = True
        self._aborted[pending.checkpoint_id] = pending
        while len(self._aborted) > _REMEMBERED_ABORTS:
            del self._aborted[next(iter(self._aborted))]
        out.append(NotifyCheckpointAborted(pending.checkpoint_id, reason, pending.participants))
        if not pending.finalizing:  # else its metadata write is in flight: discard when it ends
            out.append(DiscardState(self._discard_pending(pending)))
        kind = pending.snapshot_type
        self.stats.failed += 1
        self.stats.latest_failed = (pending.checkpoint_id, reason.value)
        self.stats.record(pending.checkpoint_id, kind.value, "FAILED")
        failure = self.failure_manager.on_failure(pending.checkpoint_id, reason, is_savepoint=kind.is_savepoint,
                                                  is_synchronous=kind.is_synchronous, on_task=on_task)
        if failure is not None:
            detail = f" Last failure: checkpoint {pending.checkpoint_id}: {reason.value}" + (
                f" {message}" if message else "")
            out.append(FailJob(failure + detail))
        if kind.is_savepoint:
            out.append(SavepointFailed(pending.request_id, reason, message or reason.value))
            if kind.is_synchronous and failure is None and now_ms is not None:
                self._resume_after_failed_stop(now_ms)
        if now_ms is not None:
            self._after_one_finished(now_ms, out)

    def _discard_pending(self, pending: PendingCheckpoint) -> DiscardPlan:
        exclusive, shared = pending.state_files()
        return discard_plan(pending.checkpoint_id, pending.location.exclusive_dir, exclusive,
                            self.store.registry.unreferenced(shared), self.storage.taskowned_dir)

    def _resume_after_failed_stop(self, now_ms: int) -> None:
        resume, self._resume_periodic_after_stop = self._resume_periodic_after_stop, None
        if resume:
            self.start_scheduler(now_ms)

    def abort_all(self, reason: CheckpointFailureReason = CheckpointFailureReason.JOB_FAILOVER_REGION
                  ) -> list[CoordinatorInstruction]:
        """Abort every pending checkpoint (job failover, suspension); not counted as checkpoint failures."""
        out: list[CoordinatorInstruction] = []
        self._periodic_queued = False
        for pending in list(self.pending.values()):
            self._abort(pending, reason, out)
        return out

    def shutdown(self, job_status: str) -> list[CoordinatorInstruction]:
        """The job ended in ``job_status``: abort what is pending and delete what the retention policy says."""
        out = self.abort_all(CheckpointFailureReason.CHECKPOINT_COORDINATOR_SHUTDOWN)
        self.stop_scheduler()
        self._shut_down = True
        out.extend(DiscardState(plan) for plan in self.store.shutdown(job_status))
        return out

    # --- restore -------------------------------------------------------------------------------------
    def latest_completed_checkpoint(self) -> Optional[CompletedCheckpoint]:
        """What a failover restores from (None: start without state)."""
        return self.store.latest()

    def drop_unreadable(self, checkpoint_id: int) -> list[CoordinatorInstruction]:
        """A retained checkpoint's ``_metadata`` no longer reads back: it leaves the store (and its files go), so
        restores fall back to the previous one."""
        plan = self.store.remove(checkpoint_id)
        return [DiscardState(plan)] if plan is not None else []

    def restored_from(self, metadata: CheckpointMetadata, external_pointer: str) -> None:
        """The job was (re)started from ``metadata``: later checkpoint ids continue after it."""
        self.next_checkpoint_id = max(self.next_checkpoint_id, metadata.checkpoint_id + 1)
        self.stats.restored += 1
        self.stats.latest_restored = (metadata.checkpoint_id, external_pointer)
