"""The JobMaster's checkpoint wiring: one CheckpointCoordinator per job, its driver, storage, and restores.

Every job has a coordinator (Flink's ``SchedulerBase`` creates one whenever the job is streaming), so savepoints
work also with periodic checkpoints disabled; periodic checkpoints are scheduled only when
``execution.checkpointing.interval`` is set. The storage is :class:`~yflink.checkpoint.storage.CheckpointStorage`
under ``execution.checkpointing.dir``, or :class:`~yflink.checkpoint.storage.JobManagerCheckpointStorage` without
it (checkpoints kept in the JobMaster's memory, Flink's default).

What happens where (Flink "Checkpointing", "Savepoints", "Task Failure Recovery"):

* **Trigger**: the coordinator's ``TriggerCheckpoint`` goes to every source execution with the pickled
  ``CheckpointOptions`` (target and shared directory; no target: in memory).
* **Ack**: tasks upload their own state and acknowledge ``{operator id: OperatorSubtaskState}`` (pickled);
  :meth:`JobCheckpointing.acknowledge` only unpickles and forwards to the driver.
* **Restore at submission** (``execution.state-recovery.path``, deprecated ``execution.savepoint.path``): the
  savepoint's or retained checkpoint's ``_metadata`` is read, assigned to the new parallelism
  (``assign_state``: keyed state by key group, list/union/broadcast state by Flink's rules, operators matched by
  stable id from ``uid``), and every first deployment carries its share. State of an operator the job lacks fails
  the job unless ``execution.state-recovery.ignore-unclaimed-state``.
* **Restore on failover**: the newest retained checkpoint whose ``_metadata`` still reads back from storage (read
  again, as Flink's completed-checkpoint store does on recovery); an unreadable one is logged, dropped and the
  previous one used; in-memory checkpoints use the metadata the store holds. Without any, the submission's
  restore path (if any) is used again, else the job starts empty.
* **Savepoints**: :meth:`trigger_savepoint` and :meth:`stop_with_savepoint` (synchronous savepoint: sources stop
  after it, the job FINISHES).
"""

from __future__ import annotations

import asyncio
import logging
import pickle
from collections.abc import Awaitable, Callable
from typing import Any, Optional

from yflink.checkpoint.assignment import TaskRestore, assign_state
from yflink.checkpoint.barriers import FINAL_SNAPSHOT_ID, CheckpointBarrier
from yflink.checkpoint.coordinator import CheckpointCoordinator
from yflink.checkpoint.driver import CheckpointCoordinatorDriver
from yflink.checkpoint.errors import CheckpointError, CheckpointFailureReason, CheckpointMetadataError
from yflink.checkpoint.handles import TaskStateSnapshot
from yflink.checkpoint.metadata import CheckpointMetadata
from yflink.checkpoint.options import CheckpointCoordinatorConfiguration
from yflink.checkpoint.pending import CheckpointPlan, TaskRef, VertexInfo
from yflink.checkpoint.storage import CheckpointStorage
from yflink.checkpoint.store import CheckpointProperties, CompletedCheckpoint
from yflink.checkpoint.task_state import restore_operator_snapshots
from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.graph.job_graph import JobGraph
from yflink.runtime.highavailability.checkpoints import HaCheckpointStorage, JobHighAvailability
from yflink.runtime.jobmaster.execution_graph import ExecutionGraph
from yflink.runtime.states import ExecutionState, JobStatus

__all__ = ["JobCheckpointing", "SAVEPOINT_FORMAT_TYPES"]

log = logging.getLogger(__name__)

_TAKES_BARRIERS = frozenset({ExecutionState.DEPLOYING, ExecutionState.INITIALIZING, ExecutionState.RUNNING})
_TASK_DECLINES = (CheckpointFailureReason.CHECKPOINT_ASYNC_EXCEPTION,
                  CheckpointFailureReason.CHECKPOINT_DECLINED_TASK_NOT_READY)
SAVEPOINT_FORMAT_TYPES = ("CANONICAL", "NATIVE")  # Flink SavepointFormatType; yflink writes one format for both

#: (execution id, checkpoint id, barrier) -> trigger the source; (execution id, checkpoint id, completed) -> notify
TriggerTask = Callable[[str, CheckpointBarrier], Awaitable[None]]
NotifyTask = Callable[[str, int, bool], Awaitable[None]]


class _TaskGateway:
    """The driver's calls to tasks (``CheckpointTaskGateway``), routed by the JobMaster to the TaskExecutors."""

    def __init__(self, trigger: TriggerTask, notify: NotifyTask) -> None:
        self._trigger = trigger
        self._notify = notify

    async def trigger_checkpoint(self, execution_id: str, barrier: CheckpointBarrier) -> None:
        await self._trigger(execution_id, barrier)

    async def notify_checkpoint_complete(self, execution_id: str, checkpoint_id: int,
                                         last_subsumed: Optional[int]) -> None:
        await self._notify(execution_id, checkpoint_id, True)

    async def notify_checkpoint_aborted(self, execution_id: str, checkpoint_id: int,
                                        reason: CheckpointFailureReason) -> None:
        await self._notify(execution_id, checkpoint_id, False)


class JobCheckpointing:
    """Checkpoints, savepoints and restores of one job (see the module docstring).

    Args:
        job_graph: the job (its vertices carry the stable operator ids).
        graph: the job's ExecutionGraph (who runs, and whether all run).
        config: cluster configuration overlaid with the job's.
        trigger_task: asks a source execution to inject a barrier.
        notify_task: tells an execution a checkpoint completed (True) or was aborted (False).
        fail_job: fails the job with a message (too many failed checkpoints).
        is_deployed: whether every execution of the current attempt was deployed.
        ha: the job's checkpoint pointer store and id counter in the HA services (None: standalone); with it,
            completed checkpoints are recorded there and the first start recovers the newest one.

    Raises:
        ConfigurationError: a bad checkpoint setting (naming its key).
    """

    def __init__(self, job_graph: JobGraph, graph: ExecutionGraph, config: Configuration, trigger_task: TriggerTask,
                 notify_task: NotifyTask, fail_job: Callable[[str], None], is_deployed: Callable[[], bool],
                 ha: Optional[JobHighAvailability] = None) -> None:
        self.job_id = job_graph.job_id
        self.graph = graph
        self.config = CheckpointCoordinatorConfiguration.from_configuration(config)
        self.storage = CheckpointStorage.from_config(self.job_id, self.config)
        self.ha = ha
        if ha is not None:
            self.storage = HaCheckpointStorage.wrap(self.storage, ha)
        self.vertices: list[VertexInfo] = []
        self.node_of: dict[str, int] = {}  # stable operator id -> stream node id
        for jv in job_graph.vertices:
            if len(jv.operator_ids) != len(jv.node_ids):
                raise RuntimeError(f"vertex {jv.name} has no stable operator ids; cannot checkpoint")
            self.node_of.update(zip(jv.operator_ids, jv.node_ids))
            self.vertices.append(VertexInfo(jv.id, jv.parallelism, jv.max_parallelism, tuple(jv.operator_ids),
                                            tuple(jv.operator_uids)))
        self.coordinator = CheckpointCoordinator(self.job_id, self.config, self.vertices, self.storage, self.plan)
        self.driver = CheckpointCoordinatorDriver(self.coordinator, self.storage,
                                                  _TaskGateway(trigger_task, notify_task), fail_job=fail_job)
        self.recovery_path: Optional[str] = config.get(opts.STATE_RECOVERY_PATH)
        self.ignore_unclaimed_state = bool(config.get(opts.STATE_RECOVERY_IGNORE_UNCLAIMED))
        self._initial: Optional[tuple[CheckpointMetadata, str]] = None  # what the submission restored
        self._payloads: dict[tuple[str, int], bytes] = {}  # (vertex id, subtask) -> restored_state
        self._scheduler_started = False
        self._is_deployed = is_deployed
        self._final: dict[str, TaskStateSnapshot] = {}  # execution id -> its state when it finished (FLIP-147)

    # --- who takes part -----------------------------------------------------------------------------------
    def plan(self) -> Optional[CheckpointPlan]:
        """Who takes part in a checkpoint now; None unless the job is RUNNING and every task deployed and not
        ended, or finished with its final state received, and some source still runs, or every task sent its
        final state (then the checkpoint has nothing to trigger and completes at once from those states: the
        final checkpoint the tasks wait for before they finish, FLIP-147).

        Flink requires every task RUNNING; here a task's RUNNING report may lag seconds behind while user code
        holds its slot worker's loop, so a task still initializing counts too: a source takes the trigger at its
        first batch, other tasks take the barrier in order from their input channels (a task that is not built
        yet declines as not ready, which is not counted as a failure). Finished tasks (FLIP-147,
        ``execution.checkpointing.checkpoints-after-tasks-finish``) contribute the final state they sent.
        """
        if self.graph.status is not JobStatus.RUNNING or not self._is_deployed():
            return None
        executions = list(self.graph.executions())
        finished = {ex.id for ex in executions if ex.id in self._final}
        if finished and not self.config.checkpoints_after_tasks_finish:
            return None
        if any(ex.state not in _TAKES_BARRIERS for ex in executions if ex.id not in finished):
            return None
        sources = tuple(ex.id for ex in executions if ex.vertex.job_vertex.is_source and ex.id not in finished)
        if not sources and len(finished) < len(executions):  # the rest ends soon and sends its final state
            return None
        return CheckpointPlan(sources, {ex.id: TaskRef(ex.vertex.job_vertex.id, ex.subtask_index)
                                        for ex in executions},
                              final_states={ex_id: self._final[ex_id] for ex_id in finished})

    def task_config(self) -> dict[str, str]:
        """Checkpoint settings every deployment carries (cluster configuration overlaid with the job's), so a task
        knows whether it waits for a final checkpoint at the end of its input: ``execution.checkpointing.interval``
        (ms) and ``execution.checkpointing.checkpoints-after-tasks-finish``. Empty without periodic
        checkpoints."""
        if self.config.interval_ms is None:
            return {}
        return {opts.CHECKPOINTING_INTERVAL.key: f"{self.config.interval_ms} ms",
                opts.CHECKPOINTS_AFTER_TASKS_FINISH.key: str(self.config.checkpoints_after_tasks_finish).lower()}

    async def on_task_state_changed(self) -> None:
        """Start the coordinator's driver once the job and every task are RUNNING (Flink starts the periodic
        scheduler then)."""
        if not self._scheduler_started and self.plan() is not None:
            self._scheduler_started = True
            await self.driver.start()

    # --- from tasks ---------------------------------------------------------------------------------------
    def acknowledge(self, execution_id: str, checkpoint_id: int, state: bytes) -> None:
        """A task acknowledged with its pickled ``{operator id: OperatorSubtaskState}`` (already uploaded)."""
        try:
            handles: Optional[TaskStateSnapshot] = pickle.loads(state) if state else {}
        except Exception as exc:  # noqa: BLE001 - an unreadable ack declines the checkpoint, the job goes on
            self.driver.decline(execution_id, checkpoint_id, CheckpointFailureReason.CHECKPOINT_ASYNC_EXCEPTION,
                                f"unreadable acknowledgement: {exc}")
            return
        if checkpoint_id == FINAL_SNAPSHOT_ID:  # the task finished: its state stands for it from now on
            self._final[execution_id] = handles or {}
            for pending in list(self.coordinator.pending.values()):  # it will never see their barriers
                if execution_id in pending.not_yet_acknowledged:
                    self.driver.acknowledge(execution_id, pending.checkpoint_id, handles)
            self._final_checkpoint_now()
            return
        self.driver.acknowledge(execution_id, checkpoint_id, handles)

    def _final_checkpoint_now(self) -> None:
        """Every task sent its final state and waits for the final checkpoint (FLIP-147), none is in flight: take
        it now rather than at the next periodic trigger (it triggers no task and completes from those states, so
        nothing is gained by waiting; Flink waits for the next interval, which made a bounded job with 1 s
        checkpoints end up to 1 s late). Not with ``execution.checkpointing.min-pause`` (that schedule stays the
        periodic one's), nor without periodic checkpoints (no task waits then)."""
        config = self.config
        if (config.interval_ms is None or config.min_pause_ms > 0 or not config.checkpoints_after_tasks_finish
                or not self.coordinator.is_scheduler_running or self.coordinator.pending
                or self.graph.status is not JobStatus.RUNNING):
            return
        if any(ex.id not in self._final for ex in self.graph.executions()):
            return
        try:
            checkpoint_id = self.driver.trigger_checkpoint()
        except CheckpointError as exc:  # the periodic trigger takes it later
            log.debug("final checkpoint of job %s not taken early: %s", self.job_id, exc)
            return
        log.info("every task of job %s finished: final checkpoint %d taken now", self.job_id, checkpoint_id)

    def decline(self, execution_id: str, checkpoint_id: int, reason: str) -> None:
        # a task whose upload failed, or that was not ready, declines with the reason's text first (task.py)
        kind = next((r for r in _TASK_DECLINES if reason.startswith(r.value)),
                    CheckpointFailureReason.CHECKPOINT_DECLINED)
        log.info("checkpoint %d of job %s declined by %s: %s", checkpoint_id, self.job_id, execution_id, reason)
        self.driver.decline(execution_id, checkpoint_id, kind, reason)

    # --- from users ---------------------------------------------------------------------------------------
    def trigger_checkpoint(self) -> int:
        """A checkpoint now (``POST /jobs/<id>/checkpoints``); its id. It completes asynchronously.

        Raises:
            CheckpointError: not every task is RUNNING, or the job ended.
        """
        return self.driver.trigger_checkpoint()

    def _require_running(self, what: str) -> None:
        if self.graph.status is not JobStatus.RUNNING:
            raise CheckpointError(CheckpointFailureReason.NOT_ALL_REQUIRED_TASKS_RUNNING,
                                  f"Cannot {what} job {self.job_id}: it is {self.graph.status.value}, not RUNNING.")

    def _check_target(self, target_directory: Optional[str]) -> None:
        if not target_directory and self.storage.savepoints_dir is None:
            raise CheckpointError(CheckpointFailureReason.CHECKPOINT_STORAGE_NOT_CONFIGURED,
                                  "No savepoint directory: pass a target directory, or set "
                                  f"{opts.SAVEPOINT_DIRECTORY.key} (state.savepoints.dir) in the configuration.")

    async def trigger_savepoint(self, target_directory: Optional[str], format_type: str = "CANONICAL") -> str:
        """Take a savepoint; its directory URI once ``_metadata`` is written (Flink "Savepoints").

        Raises:
            CheckpointError: bad format type, no target and no default savepoint directory, the job is not
                running with every task RUNNING, or the savepoint failed (declined, expired, I/O).
        """
        if format_type not in SAVEPOINT_FORMAT_TYPES:
            raise CheckpointError(CheckpointFailureReason.TRIGGER_CHECKPOINT_FAILURE,
                                  f"Unknown savepoint format type {format_type!r}; expected one of "
                                  f"{', '.join(SAVEPOINT_FORMAT_TYPES)}.")
        self._check_target(target_directory)
        self._require_running("take a savepoint of")
        path = await self.driver.trigger_savepoint(target_directory)
        log.info("Savepoint of job %s stored in %s", self.job_id, path)
        return path

    async def stop_with_savepoint(self, target_directory: Optional[str], drain: bool) -> str:
        """Take a synchronous savepoint; after it completed (tasks notified, sinks committed) the sources end.
        Returns the savepoint's directory URI; the caller waits for the job to finish.

        Raises:
            CheckpointError: as :meth:`trigger_savepoint`; then the job keeps running.
        """
        self._check_target(target_directory)
        self._require_running("stop")
        path = await self.driver.trigger_savepoint(target_directory, stop=True, drain=drain)
        log.info("Stop-with-savepoint of job %s: savepoint %s complete, the job finishes", self.job_id, path)
        return path

    # --- restore --------------------------------------------------------------------------------------------
    async def prepare_initial_restore(self) -> None:
        """Before the first deployment: restore ``execution.state-recovery.path`` when set.

        Raises:
            CheckpointMetadataError: its ``_metadata`` is missing or corrupt (the message names the path).
            StateAssignmentError: state of an operator the job lacks (without ignore-unclaimed-state), or another
                max parallelism.
        """
        if self.ha is not None and await self._recover_from_ha():
            return
        if not self.recovery_path:
            return
        path = self.recovery_path
        metadata = await asyncio.to_thread(self.storage.read_metadata, path)
        await self._use(metadata, path)
        self._initial = (metadata, path)
        log.info("Job %s starts from %s (checkpoint %d)", self.job_id, path, metadata.checkpoint_id)

    async def _recover_from_ha(self) -> bool:
        """A job recovered by a (new) leader: continue checkpoint ids after the HA counter and restore the newest
        checkpoint in the HA store whose ``_metadata`` reads back (older ones are the fallback). The restored
        checkpoint is claimed: it enters the coordinator's store, so it is subsumed later like any other.
        Returns whether a checkpoint was restored."""
        assert self.ha is not None
        ha = self.ha
        self.coordinator.next_checkpoint_id = max(self.coordinator.next_checkpoint_id,
                                                  await asyncio.to_thread(ha.counter.get))
        pointers = await asyncio.to_thread(ha.pointers.pointers)
        props = CheckpointProperties.for_checkpoint(self.config.retention)
        restored = None
        for checkpoint_id, pointer in pointers:  # oldest first: each readable one enters the store
            try:
                metadata = await asyncio.to_thread(self.storage.read_metadata, pointer)
            except CheckpointMetadataError as exc:
                log.error("Job %s: checkpoint %d in the HA store cannot be read, skipped: %s", self.job_id,
                          checkpoint_id, exc)
                continue
            for plan in self.coordinator.store.add(CompletedCheckpoint(metadata, pointer, props, metadata.timestamp)):
                for directory in plan.directories:  # beyond num-retained: its pointer and files go
                    await asyncio.to_thread(self.storage.discard_location, directory)
                await asyncio.to_thread(self.storage.delete_files, plan.files)
            restored = (metadata, pointer)
        if restored is None:
            return False
        metadata, pointer = restored
        await self._use(metadata, pointer)
        log.info("Job %s recovered by the leader from checkpoint %d (%s)", self.job_id, metadata.checkpoint_id,
                 pointer)
        return True

    async def prepare_failover_restore(self, attempt: int) -> Optional[int]:
        """After a failure, before the redeployment: abort what is pending and restore the newest readable
        retained checkpoint; returns its id (None: no checkpoint, the job starts empty)."""
        self._scheduler_started = False
        self._final.clear()
        self.driver.abort_all()
        self._payloads = {}
        for completed in reversed(self.coordinator.store.all()):
            metadata = completed.metadata
            if completed.is_persistent:
                try:  # read back from storage, as Flink's completed-checkpoint store does on recovery
                    metadata = await asyncio.to_thread(self.storage.read_metadata, completed.external_pointer)
                except CheckpointMetadataError as exc:
                    log.error("Job %s: retained checkpoint %d cannot be restored, falling back to the previous "
                              "one: %s", self.job_id, completed.checkpoint_id, exc)
                    self.driver.drop_unreadable(completed.checkpoint_id)
                    continue
            await self._use(metadata, completed.external_pointer)
            log.info("Job %s restarts (attempt %d) from checkpoint %d (%s)", self.job_id, attempt,
                     completed.checkpoint_id, completed.external_pointer)
            return completed.checkpoint_id
        if self._initial is not None:
            metadata, path = self._initial
            await self._use(metadata, path)
            log.info("Job %s restarts (attempt %d) from %s again (no checkpoint completed since)", self.job_id,
                     attempt, path)
            return metadata.checkpoint_id
        log.info("Job %s restarts (attempt %d) without a completed checkpoint", self.job_id, attempt)
        return None

    async def _use(self, metadata: CheckpointMetadata, pointer: str) -> None:
        """Assign ``metadata`` to the current vertices and read every subtask's share (off the loop)."""
        assignment = assign_state(metadata, self.vertices, location=pointer,
                                  allow_non_restored_state=self.ignore_unclaimed_state)
        self._payloads = await asyncio.to_thread(self._read, assignment)
        self.coordinator.restored_from(metadata, pointer)

    def _read(self, assignment: dict[tuple[str, int], TaskRestore]) -> dict[tuple[str, int], bytes]:
        parallelism = {v.vertex_id: v.parallelism for v in self.vertices}
        payloads = {}
        for (vertex_id, index), task_restore in assignment.items():
            by_node: dict[int, Any] = {
                self.node_of[op_id]: restore_operator_snapshots(self.storage, restore, index, parallelism[vertex_id])
                for op_id, restore in task_restore.operators.items()}
            if by_node:
                payloads[(vertex_id, index)] = pickle.dumps(by_node, protocol=5)
        return payloads

    def restored_state(self, vertex_id: str, subtask_index: int) -> Optional[bytes]:
        """The deployment's ``restored_state``: ``{node id: [OperatorSnapshot per new subtask]}``, or None."""
        return self._payloads.get((vertex_id, subtask_index))

    # --- end ------------------------------------------------------------------------------------------------
    async def shutdown(self, job_status: JobStatus) -> None:
        """The job ended: abort what is pending, delete what the retention policy says, wait for the I/O."""
        await self.driver.shutdown(job_status.name)
