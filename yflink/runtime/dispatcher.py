"""The Dispatcher: accepts jobs, runs one JobMaster per job, and answers the REST API.

Source: Flink ``Dispatcher`` / ``StandaloneDispatcher`` ("Flink Architecture": the Dispatcher provides a REST
interface to submit applications and starts a new JobMaster for each submitted job).

Savepoints, stop-with-savepoint and savepoint disposal are asynchronous operations, as in Flink's
``DispatcherCachedOperationsHandler``: a trigger returns a trigger id at once, the work runs as a task on this
loop (the JobMaster's ``trigger_savepoint`` / ``stop_with_savepoint``), and the REST API polls its outcome in the
:class:`~yflink.runtime.operation_cache.OperationCache` (kept ``rest.async.store-duration`` after completion).

Job results (Flink "High Availability" > "JobResultStore"): a job that reaches a globally terminal state gets a
*dirty* entry in the HA services' JobResultStore, then its HA metadata is removed and the entry marked clean. A
submission of a job id the store (or this Dispatcher) knows as terminated is refused with
:class:`DuplicateJobSubmissionError` (``globally_terminated``); a new leader does not run such jobs again: it
finishes the cleanup of dirty ones and answers ``GET /jobs/{id}`` and the job result of every job with an entry
from a sparse ExecutionGraph of that entry (Flink's ``ArchivedExecutionGraph.createSparseArchivedExecutionGraph``;
only the job's name, state, times and failure cause, no vertices). A submission of a job id that this leader
recovered from the JobGraphStore attaches to the running job (Flink's application mode: a new attempt re-running
``main`` submits its fixed job id again).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Optional

from yflink.checkpoint.errors import CheckpointMetadataError
from yflink.checkpoint.storage import METADATA_FILE_NAME
from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.common.errors import ConfigurationError, JobSubmissionError
from yflink.fs.base import get_file_system, join, name_of, normalize, parent_of
from yflink.graph.job_graph import JobGraph
from yflink.runtime.gateways import CollectedRecords, TaskManagerInfo
from yflink.runtime.highavailability import HighAvailabilityServices, JobResult, StandaloneHaServices
from yflink.runtime.highavailability.checkpoints import JobHighAvailability
from yflink.runtime.jobmaster.execution_graph import ExecutionGraph
from yflink.runtime.jobmaster.jobmaster import JobMaster
from yflink.runtime.operation_cache import STORE_DURATION, OperationCache, OperationKey, OperationKind, OperationResult
from yflink.runtime.resourcemanager import ResourceManager
from yflink.runtime.states import JobStatus

log = logging.getLogger(__name__)
SAVEPOINT_FORMATS = ("CANONICAL", "NATIVE")  # Flink's SavepointFormatType
RECOVERY_READ_TIMEOUT_S = 60.0  # reading one stored job graph (HA storage) during recovery, s


class DuplicateJobSubmissionError(JobSubmissionError):
    """A job with this id was already submitted (Flink ``DuplicateJobSubmissionException``).

    ``globally_terminated``: True when the job already reached FINISHED, FAILED or CANCELED (the JobResultStore
    has its entry), False when it still runs here.
    """

    def __init__(self, job_id: str, globally_terminated: bool) -> None:
        what = ("already reached a globally terminal state (the JobResultStore has its result); it is not run again"
                if globally_terminated else "was already submitted and is still running")
        super().__init__(f"Job {job_id} {what}")
        self.job_id = job_id
        self.globally_terminated = globally_terminated


def archived_execution_graph(result: JobResult) -> ExecutionGraph:
    """A sparse, vertex-less ExecutionGraph in the job's final state, for the REST API of a job known only from
    the JobResultStore (Flink ``ArchivedExecutionGraph.createSparseArchivedExecutionGraph``)."""
    graph = ExecutionGraph(JobGraph(job_id=result.job_id, job_name=result.job_name, config={}, vertices=[]),
                           result.start_time_ms)
    graph.status = JobStatus(result.state)
    graph.status_timestamps[result.state] = result.end_time_ms
    if result.failure_cause is not None:
        graph.failure = result.failure_cause
        graph.failure_timestamp = result.end_time_ms
    return graph


def delete_savepoint(pointer: str) -> str:
    """Delete the savepoint at ``pointer`` (its directory or its ``_metadata`` file); returns the directory URI.

    Source: Flink's ``flink savepoint -d`` / ``POST /savepoint-disposal``. Blocking I/O: run it off the loop.

    Raises:
        CheckpointMetadataError: there is no ``_metadata`` there (not a savepoint, or already disposed).
        FileSystemError: the path is relative, or the filesystem failed.
    """
    path = normalize(pointer)
    if name_of(path) == METADATA_FILE_NAME:
        path = parent_of(path)
    fs = get_file_system(path)
    if not fs.exists(join(path, METADATA_FILE_NAME)):
        raise CheckpointMetadataError(f"No savepoint at {pointer}: {join(path, METADATA_FILE_NAME)} does not exist "
                                      "(a wrong path, or the savepoint was already disposed)")
    fs.delete(path, recursive=True)
    return path


class Dispatcher:
    """Implements :class:`yflink.runtime.gateways.DispatcherGateway`.

    With highly available ``ha`` services (Flink "High Availability"), submitted job graphs go to the
    JobGraphStore before their JobMaster starts, :meth:`recover_jobs` restarts every stored job on a new leader,
    :meth:`suspend` stops everything at once when leadership is lost, and a job's HA metadata is removed when it
    reaches a globally terminal state, after its result went to the JobResultStore. ``leader_session_id`` becomes
    the ResourceManager's fencing token.
    """

    def __init__(self, config: Configuration, rpc_address: str, ha: Optional[HighAvailabilityServices] = None,
                 leader_session_id: str = "") -> None:
        self.config = config
        self.rpc_address = rpc_address
        self.ha = ha or StandaloneHaServices()
        self.resource_manager = ResourceManager(config, self._task_manager_lost)
        if leader_session_id:
            self.resource_manager.id = leader_session_id
        self.suspended = False
        self.job_masters: dict[str, JobMaster] = {}
        #: Jobs known only from the JobResultStore (terminated under an earlier leader): sparse graphs for REST.
        self.archived: dict[str, ExecutionGraph] = {}
        #: Jobs recovered from the JobGraphStore that no submission attached to yet.
        self._recovered_unattached: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.operations = OperationCache(config.get(STORE_DURATION) / 1000.0)

    def start(self) -> None:
        self.resource_manager.start()

    async def stop(self) -> None:
        self.operations.cancel_all()
        for jm in self.job_masters.values():
            if not jm.graph.status.is_globally_terminal:
                await jm.cancel()
        await self.resource_manager.stop()

    async def suspend(self, cause: str) -> None:
        """Leadership lost: every JobMaster stops at once (their jobs stay in the HA stores for the next leader),
        then the ResourceManager."""
        self.suspended = True
        self.operations.cancel_all()
        await asyncio.gather(*(jm.suspend(cause) for jm in self.job_masters.values()), return_exceptions=True)
        await self.resource_manager.stop()

    async def recover_jobs(self) -> list[str]:
        """A new leader: start a JobMaster for every job in the JobGraphStore; each restores the newest completed
        checkpoint of the HA store. Jobs with an entry in the JobResultStore are not run again: their sparse
        result is served, and the cleanup of dirty ones is finished. Returns the recovered job ids; a job whose
        graph cannot be read is logged and left in the store.

        Raises:
            HighAvailabilityError, FileSystemError: the JobResultStore cannot be read (nothing is recovered: a
                leader that cannot tell finished jobs apart must not rerun them).
        """
        store = self.ha.job_graph_store()
        results = self.ha.job_result_store()
        dirty = await asyncio.to_thread(results.get_dirty_results)
        clean = await asyncio.to_thread(results.get_clean_results)
        for result in [*clean, *dirty]:
            if result.job_id not in self.job_masters:
                self.archived[result.job_id] = archived_execution_graph(result)
        for result in dirty:  # terminated, but its HA cleanup did not finish under the former leader
            log.info("Job %s already reached %s; finishing its HA cleanup", result.job_id, result.state)
            self._spawn(self._cleanup_ha(result.job_id))
        recovered = []
        job_ids = await asyncio.to_thread(store.job_ids)
        log.info("Recovering %d job(s) from the JobGraphStore: %s", len(job_ids), job_ids)
        for job_id in job_ids:
            if job_id in self.job_masters or job_id in self.archived:
                continue
            try:
                job_graph = await asyncio.wait_for(asyncio.to_thread(store.get, job_id), RECOVERY_READ_TIMEOUT_S)
            except Exception as exc:  # noqa: BLE001 - one unreadable job must not keep the others from running
                log.error("Could not recover job %s: %s", job_id, exc)
                continue
            self._start_job_master(job_graph)
            self._recovered_unattached.add(job_id)
            recovered.append(job_id)
            log.info("Recovered job %s (%s) from the JobGraphStore", job_graph.job_name, job_id)
        return recovered

    async def _task_manager_lost(self, resource_id: str, cause: str) -> None:
        for jm in list(self.job_masters.values()):
            if not jm.graph.status.is_globally_terminal:
                await jm.task_manager_lost(resource_id, cause)

    # --- DispatcherGateway ---------------------------------------------------------------------------
    async def submit_job(self, job_graph: JobGraph) -> str:
        """Run ``job_graph``; returns its job id.

        A job id this leader recovered from the JobGraphStore (and no one submitted since) attaches to the running
        job instead (Flink's application mode, ``EmbeddedExecutor``).

        Raises:
            DuplicateJobSubmissionError: the job id runs here, or it is in the JobResultStore (globally terminated).
            JobSubmissionError: no vertices, not the leader, or the HA JobGraphStore refused it.
        """
        job_id = job_graph.job_id
        if self.suspended:
            raise JobSubmissionError("This JobManager is no longer the leader; submit to the current leader")
        if job_id in self._recovered_unattached:
            self._recovered_unattached.discard(job_id)
            log.info("Submission of job %s attaches to the job recovered from the JobGraphStore", job_id)
            return job_id
        if job_id in self.job_masters or job_id in self.archived:
            terminal = job_id in self.archived or self.job_masters[job_id].graph.status.is_globally_terminal
            raise DuplicateJobSubmissionError(job_id, globally_terminated=terminal)
        if await asyncio.to_thread(self.ha.job_result_store().has_job_result_entry, job_id):
            raise DuplicateJobSubmissionError(job_id, globally_terminated=True)
        if not job_graph.vertices:
            raise JobSubmissionError("The job has no vertices")
        if self.ha.highly_available:
            try:  # persisted before it runs, so a new leader recovers it (Flink: JobGraphWriter.putJobGraph)
                await asyncio.to_thread(self.ha.job_graph_store().put, job_graph)
            except Exception as exc:  # noqa: BLE001 - the submission fails with the HA store's reason
                raise JobSubmissionError(f"Could not persist job {job_graph.job_id} in the HA JobGraphStore: "
                                         f"{type(exc).__name__}: {exc}") from exc
        self._start_job_master(job_graph)
        log.info("Submitted job %s (%s)", job_graph.job_name, job_graph.job_id)
        return job_graph.job_id

    def _start_job_master(self, job_graph: JobGraph) -> JobMaster:
        config = Configuration(self.config)
        for key, value in job_graph.config.items():
            config.set(key, value)
        job_ha = None
        if self.ha.highly_available:
            job_ha = JobHighAvailability(self.ha.checkpoint_pointer_store(job_graph.job_id),
                                         self.ha.checkpoint_id_counter(job_graph.job_id))
        jm = JobMaster(job_graph, self.resource_manager, self.rpc_address, config, self._job_reached_terminal,
                       ha=job_ha)
        self.job_masters[job_graph.job_id] = jm
        task = asyncio.get_running_loop().create_task(jm.start())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return jm

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _job_reached_terminal(self, job_id: str) -> None:
        graph = self.job_masters[job_id].graph
        log.info("Job %s is %s", job_id, graph.status.value)
        if graph.status.is_globally_terminal and not self.suspended:
            start = graph.status_timestamps.get(JobStatus.INITIALIZING.value,
                                                graph.status_timestamps.get(JobStatus.CREATED.value, -1))
            result = JobResult.now(job_id, graph.job_graph.job_name, graph.status.value, start,
                                   graph.failure if graph.status is JobStatus.FAILED else None)
            self._spawn(self._job_terminated(result))

    async def _job_terminated(self, result: JobResult) -> None:
        """Flink's order: the dirty result first (from now on no leader runs the job again), then the HA cleanup,
        then the entry is marked clean. A failed write leaves the HA metadata (a new leader recovers the job)."""
        try:
            await asyncio.to_thread(self.ha.job_result_store().create_dirty_result, result)
        except ValueError:
            pass  # already recorded (a retried termination)
        except Exception as exc:  # noqa: BLE001 - logged; the job's HA metadata stays for the next leader
            log.error("Could not write the result of job %s to the JobResultStore: %s", result.job_id, exc)
            return
        await self._cleanup_ha(result.job_id)

    async def _cleanup_ha(self, job_id: str) -> None:
        """The job is globally terminal and in the JobResultStore: its job graph, checkpoint pointers and id
        counter leave the HA services (Flink's HA cleanup; the checkpoint files follow the retention policy), then
        its entry is marked clean (``job-result-store.delete-on-commit``)."""
        try:
            if self.ha.highly_available:
                await asyncio.to_thread(self.ha.cleanup_job, job_id)
                log.info("Removed the HA metadata of job %s", job_id)
            await asyncio.to_thread(self.ha.job_result_store().mark_result_as_clean, job_id)
        except Exception as exc:  # noqa: BLE001 - logged; the dirty entry makes a new leader finish the cleanup
            log.error("Could not clean up the HA data of job %s: %s", job_id, exc)

    def job_ids(self) -> list[str]:
        return list(self.job_masters) + [j for j in self.archived if j not in self.job_masters]

    def execution_graph(self, job_id: str) -> ExecutionGraph:
        """The job's graph; for a job known only from the JobResultStore its sparse archived graph. KeyError:
        unknown job."""
        if job_id in self.job_masters:
            return self.job_masters[job_id].graph
        return self.archived[job_id]

    def job_master(self, job_id: str) -> JobMaster:
        return self.job_masters[job_id]

    async def cancel_job(self, job_id: str) -> None:
        """KeyError: unknown job. A job known only from the JobResultStore already ended: nothing to do."""
        if job_id not in self.job_masters and job_id in self.archived:
            return
        await self.job_masters[job_id].cancel()

    def task_managers(self) -> list[TaskManagerInfo]:
        return self.resource_manager.task_manager_infos()

    def configuration(self) -> Configuration:
        return self.config

    async def trigger_checkpoint(self, job_id: str) -> int:
        """Trigger a checkpoint of ``job_id`` now; returns its id. KeyError: unknown job; RuntimeError: not
        running."""
        return await self.job_masters[job_id].trigger_checkpoint()

    def checkpoint_statistics(self, job_id: str) -> dict[str, Any]:
        """Flink's ``CheckpointingStatistics`` shape: counts and the latest completed/failed checkpoint."""
        coordinator = self.job_masters[job_id].checkpoint_coordinator
        st = coordinator.stats
        return {
            "counts": {"restored": st.restored, "total": st.triggered, "in_progress": len(coordinator.pending),
                       "completed": st.completed, "failed": st.failed},
            "latest": {"completed": {"id": st.latest_completed[0], "external_path": st.latest_completed[1]}
                       if st.latest_completed else None,
                       "failed": {"id": st.latest_failed[0], "failure_message": st.latest_failed[1]}
                       if st.latest_failed else None,
                       "savepoint": {"id": st.latest_savepoint[0], "external_path": st.latest_savepoint[1]}
                       if st.latest_savepoint else None,
                       "restored": {"id": st.latest_restored[0], "external_path": st.latest_restored[1]}
                       if st.latest_restored else None},
            "history": [{"id": cid, "checkpoint_type": kind, "status": status} for cid, kind, status in st.history],
        }

    def collect(self, job_id: str, operator_id: str, offset: int, max_records: int) -> CollectedRecords:
        return self.job_masters[job_id].read_collected(operator_id, offset, max_records)

    # --- savepoints: asynchronous operations (Flink DispatcherCachedOperationsHandler) ----------------------
    def _savepoint_job_master(self, job_id: str, action: str, target_directory: Optional[str]) -> JobMaster:
        jm = self.job_masters[job_id]
        status = jm.graph.status
        if status.is_globally_terminal:
            raise RuntimeError(f"Cannot {action} job {job_id}: it is already {status.value}; only a running job "
                               "can take a savepoint.")
        if target_directory is None and not jm.config.get(opts.SAVEPOINT_DIRECTORY):
            raise ConfigurationError(
                f"Cannot {action} job {job_id}: no savepoint directory. Name a target directory (yflink savepoint "
                "<jobId> <targetDirectory>, yflink stop -p <dir>) or set execution.checkpointing.savepoint-dir "
                "(state.savepoints.dir) in the cluster's or the job's configuration.")
        return jm

    def _start(self, kind: OperationKind, job_id: Optional[str], trigger_id: Optional[str],
               work: Callable[[], Awaitable[str]]) -> str:
        key = OperationKey(kind, job_id, (trigger_id or uuid.uuid4().hex).lower())
        if key in self.operations:  # the client retried with its own triggerId: the same operation, not a new one
            return key.trigger_id

        async def run() -> str:
            return await work()

        self.operations.register(key, asyncio.get_running_loop().create_task(run()))
        return key.trigger_id

    async def trigger_savepoint(self, job_id: str, target_directory: Optional[str], *, cancel_job: bool = False,
                                format_type: str = "CANONICAL", trigger_id: Optional[str] = None) -> str:
        """Start a savepoint of ``job_id`` (``POST /jobs/{jobid}/savepoints``); returns the trigger id.

        Args:
            target_directory: URI of the directory the savepoint goes under; None: the job's
                ``execution.checkpointing.savepoint-dir`` (``state.savepoints.dir``).
            cancel_job: cancel the job once the savepoint completed (Flink's deprecated cancel-with-savepoint).
            format_type: CANONICAL or NATIVE (Flink's ``SavepointFormatType``).
            trigger_id: the client's own id (idempotent retries), or None for a new one.

        Raises:
            KeyError: unknown job.
            RuntimeError: the job already ended.
            ConfigurationError: no ``target_directory`` and no savepoint directory configured (a ValueError).
            ValueError: an unknown ``format_type``.
        """
        if format_type not in SAVEPOINT_FORMATS:
            raise ValueError(f"Unknown savepoint formatType {format_type!r}; expected one of "
                             f"{', '.join(SAVEPOINT_FORMATS)}.")
        jm = self._savepoint_job_master(job_id, "take a savepoint of", target_directory)

        async def work() -> str:
            path = await jm.trigger_savepoint(target_directory, format_type=format_type)
            if cancel_job:
                log.info("Savepoint %s of job %s completed; cancelling the job (cancel-job)", path, job_id)
                await jm.cancel()
            return path

        trigger = self._start(OperationKind.SAVEPOINT, job_id, trigger_id, work)
        log.info("Savepoint %s of job %s triggered (target %s)", trigger, job_id, target_directory or "default")
        return trigger

    async def stop_with_savepoint(self, job_id: str, target_directory: Optional[str], *, drain: bool = False,
                                  trigger_id: Optional[str] = None) -> str:
        """Start stop-with-savepoint of ``job_id`` (``POST /jobs/{jobid}/stop``); returns the trigger id, polled
        like a savepoint's. With ``drain`` the sources end their input (MAX watermark) first.

        Raises:
            KeyError: unknown job.
            RuntimeError: the job already ended.
            ConfigurationError: no ``target_directory`` and no savepoint directory configured (a ValueError).
        """
        jm = self._savepoint_job_master(job_id, "stop", target_directory)

        async def work() -> str:
            return await jm.stop_with_savepoint(target_directory, drain=drain)

        trigger = self._start(OperationKind.SAVEPOINT, job_id, trigger_id, work)
        log.info("Stop-with-savepoint %s of job %s triggered (drain=%s)", trigger, job_id, drain)
        return trigger

    def savepoint_status(self, job_id: str, trigger_id: str) -> OperationResult:
        """The savepoint or stop-with-savepoint ``trigger_id`` of ``job_id``; KeyError when unknown or expired."""
        return self.operations.get(OperationKey(OperationKind.SAVEPOINT, job_id, trigger_id.lower()))

    async def dispose_savepoint(self, savepoint_path: str, trigger_id: Optional[str] = None) -> str:
        """Start deleting the savepoint at ``savepoint_path`` (``POST /savepoint-disposal``); returns the trigger
        id. The outcome (CheckpointMetadataError when no savepoint is there) is read by ``disposal_status``."""

        async def work() -> str:
            return await asyncio.to_thread(delete_savepoint, savepoint_path)

        return self._start(OperationKind.DISPOSAL, None, trigger_id, work)

    def disposal_status(self, trigger_id: str) -> OperationResult:
        """The savepoint disposal ``trigger_id``; KeyError when unknown or expired."""
        return self.operations.get(OperationKey(OperationKind.DISPOSAL, None, trigger_id.lower()))
