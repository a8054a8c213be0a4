"""The Dispatcher: accepts jobs, runs one JobMaster per job, and answers the REST API.

Source: Flink ``Dispatcher`` / ``StandaloneDispatcher`` ("Flink Architecture": the Dispatcher provides a REST
interface to submit applications and starts a new JobMaster for each submitted job).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from yflink.common.configuration import Configuration
from yflink.common.errors import JobSubmissionError
from yflink.graph.job_graph import JobGraph
from yflink.runtime.gateways import CollectedRecords, TaskManagerInfo
from yflink.runtime.jobmaster.execution_graph import ExecutionGraph
from yflink.runtime.jobmaster.jobmaster import JobMaster
from yflink.runtime.resourcemanager import ResourceManager

log = logging.getLogger(__name__)


class Dispatcher:
    """Implements :class:`yflink.runtime.gateways.DispatcherGateway`."""

    def __init__(self, config: Configuration, rpc_address: str) -> None:
        self.config = config
        self.rpc_address = rpc_address
        self.resource_manager = ResourceManager(config, self._task_manager_lost)
        self.job_masters: dict[str, JobMaster] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self) -> None:
        self.resource_manager.start()

    async def stop(self) -> None:
        for jm in self.job_masters.values():
            if not jm.graph.status.is_globally_terminal:
                await jm.cancel()
        await self.resource_manager.stop()

    async def _task_manager_lost(self, resource_id: str, cause: str) -> None:
        for jm in list(self.job_masters.values()):
            if not jm.graph.status.is_globally_terminal:
                await jm.task_manager_lost(resource_id, cause)

    # --- DispatcherGateway ---------------------------------------------------------------------------
    async def submit_job(self, job_graph: JobGraph) -> str:
        if job_graph.job_id in self.job_masters:
            raise JobSubmissionError(f"Job {job_graph.job_id} was already submitted")
        if not job_graph.vertices:
            raise JobSubmissionError("The job has no vertices")
        config = Configuration(self.config)
        for key, value in job_graph.config.items():
            config.set(key, value)
        jm = JobMaster(job_graph, self.resource_manager, self.rpc_address, config, self._job_reached_terminal)
        self.job_masters[job_graph.job_id] = jm
        task = asyncio.get_running_loop().create_task(jm.start())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        log.info("Submitted job %s (%s)", job_graph.job_name, job_graph.job_id)
        return job_graph.job_id

    def _job_reached_terminal(self, job_id: str) -> None:
        log.info("Job %s is %s", job_id, self.job_masters[job_id].graph.status.value)

    def job_ids(self) -> list[str]:
        return list(self.job_masters)

    def execution_graph(self, job_id: str) -> ExecutionGraph:
        return self.job_masters[job_id].graph

    def job_master(self, job_id: str) -> JobMaster:
        return self.job_masters[job_id]

    async def cancel_job(self, job_id: str) -> None:
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
        jm = self.job_masters[job_id]
        if jm.checkpoint_coordinator is not None:  # execution.checkpointing.dir: the coordinator's statistics
            coordinator = jm.checkpoint_coordinator
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
                "history": [{"id": cid, "checkpoint_type": kind, "status": status}
                            for cid, kind, status in st.history],
            }
        completed, failed = sorted(jm.completed_checkpoints), sorted(jm.declined_checkpoints)
        return {
            "counts": {"restored": len(jm.restored_checkpoints), "total": jm.last_checkpoint_id,
                       "in_progress": len(jm.pending_checkpoints), "completed": len(completed),
                       "failed": len(failed)},
            "latest": {"completed": {"id": completed[-1]} if completed else None,
                       "failed": {"id": failed[-1], "failure_message": jm.declined_checkpoints[failed[-1]]}
                       if failed else None,
                       "savepoint": None,
                       "restored": {"id": jm.restored_checkpoints[-1]} if jm.restored_checkpoints else None},
            "history": [{"id": cid, "status": "COMPLETED"} for cid in completed[-10:]],
        }

    def collect(self, job_id: str, operator_id: str, offset: int, max_records: int) -> CollectedRecords:
        return self.job_masters[job_id].read_collected(operator_id, offset, max_records)
