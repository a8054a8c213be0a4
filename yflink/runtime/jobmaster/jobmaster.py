"""The JobMaster: runs one job's ExecutionGraph — slots, deployment, task states, cancellation.

Scheduling is Flink's default streaming scheduler: request every slot the job needs (one per subtask index per
slot sharing group), and once all are offered deploy every execution at once. A task failure, a lost TaskManager
or a slot request that times out (``slot.request.timeout``) fails the job after the remaining tasks are
cancelled, or restarts it from the latest checkpoint when the restart strategy allows. Checkpoints, savepoints and
restores are delegated to :class:`~yflink.runtime.jobmaster.checkpointing.JobCheckpointing`. Source: Flink
``JobMaster``, ``DefaultScheduler``, ``PipelinedRegionSchedulingStrategy`` (one region for a streaming job),
``DeclarativeSlotPool``.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import time
from collections.abc import Callable
from typing import Any, Optional

from yflink.checkpoint.barriers import CheckpointBarrier
from yflink.checkpoint.coordinator import CheckpointCoordinator
from yflink.checkpoint.errors import CheckpointError, CheckpointFailureReason
from yflink.checkpoint.restart_strategy import restart_strategy_from_configuration
from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.common.errors import RpcError
from yflink.common.ids import AllocationID, JobMasterId
from yflink.graph.job_graph import JobGraph
from yflink.rpc.protos import gateways_pb2 as pb
from yflink.rpc.service import Channels, call
from yflink.runtime.deployment import (
    InputChannelDescriptor,
    InputGateDescriptor,
    ResultPartitionDescriptor,
    TaskDeploymentDescriptor,
    consumer_channels,
    num_subpartitions,
    partition_id,
)
from yflink.runtime.gateways import CollectedRecords
from yflink.runtime.highavailability.checkpoints import JobHighAvailability
from yflink.runtime.jobmaster.checkpointing import JobCheckpointing
from yflink.runtime.jobmaster.execution_graph import Execution, ExecutionGraph, SlotAssignment
from yflink.runtime.resourcemanager import ResourceManager
from yflink.runtime.states import ExecutionState, JobStatus

log = logging.getLogger(__name__)


def _now_ms() -> int:
    return int(time.time() * 1000)


class CollectBuffer:
    """Records of one collect sink, kept until the client has read them."""

    def __init__(self) -> None:
        self.records: list[Any] = []
        self.base_offset = 0  # records before this offset were read and dropped
        self.ended: set[int] = set()  # subtasks that reached end of input


class JobMaster:
    """Runs one job.

    Args:
        job_graph: the job.
        resource_manager: where slots come from (same process; called through its gateway methods).
        rpc_address: host:port of this JobManager's gRPC endpoint (TaskExecutors call the JobMaster there).
        config: cluster configuration overlaid with the job's.
        on_terminal: called with the job id when the job reached a globally terminal status.
        ha: the job's checkpoint pointers and id counter in the HA services (None: standalone).
    """

    def __init__(self, job_graph: JobGraph, resource_manager: ResourceManager, rpc_address: str,
                 config: Configuration, on_terminal: Callable[[str], None],
                 ha: Optional[JobHighAvailability] = None) -> None:
        self.job_graph = job_graph
        self.job_id = job_graph.job_id
        self.id = JobMasterId.generate().hex
        self.rm = resource_manager
        self.rpc_address = rpc_address
        self.config = config
        self.on_terminal = on_terminal
        self.graph = ExecutionGraph(job_graph, _now_ms())
        self.channels = Channels()
        self.ask_timeout_s = config.get(opts.RPC_ASK_TIMEOUT) / 1000.0
        self.heartbeat_timeout_s = config.get(opts.HEARTBEAT_TIMEOUT) / 1000.0
        self.slot_timeout_s = config.get(opts.SLOT_REQUEST_TIMEOUT) / 1000.0
        self.requested: dict[str, tuple[str, int]] = {}  # allocation id -> (slot sharing group, subtask index)
        self.assigned: dict[tuple[str, int], SlotAssignment] = {}
        self.task_managers: dict[str, float] = {}  # resource id -> last heartbeat (monotonic s)
        self.collect_buffers: dict[str, CollectBuffer] = {}
        self._deployed = False  # every slot was offered: deployment started
        self._submitted = False  # every execution of the current attempt was accepted by its TaskExecutor
        self._finished = False
        self._restart_scheduled = False
        interval = config.get(opts.CHECKPOINTING_INTERVAL)
        self.checkpoint_interval_s: Optional[float] = interval / 1000.0 if interval else None
        self.restart_strategy = restart_strategy_from_configuration(config, self.checkpoint_interval_s is not None)
        self._restart_delay_ms = 0
        self.graph.restart_policy = self._may_restart
        self._background: list[asyncio.Task[Any]] = []
        self._restart_suppressed = False  # a failure no restart can fix (the restore path cannot be restored)
        self._terminated = asyncio.Event()
        self.suspended = False  # this JobManager lost leadership: the JobMaster does nothing any more
        # Every job has a coordinator (savepoints work without periodic checkpoints, as in Flink).
        self.checkpointing = JobCheckpointing(job_graph, self.graph, config, self._trigger_checkpoint_at,
                                              self._notify_one, fail_job=lambda msg: self._spawn(self.fail(msg)),
                                              is_deployed=lambda: self._submitted, ha=ha)

    @property
    def checkpoint_coordinator(self) -> CheckpointCoordinator:
        """The job's CheckpointCoordinator (its ``stats`` answer ``GET /jobs/<id>/checkpoints``)."""
        return self.checkpointing.coordinator

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.append(task)

    # --- lifecycle -----------------------------------------------------------------------------------
    async def start(self) -> None:
        self.graph.start_scheduling(_now_ms())
        loop = asyncio.get_running_loop()
        self._background = [loop.create_task(self._slot_timeout()), loop.create_task(self._monitor_heartbeats())]
        try:  # execution.state-recovery.path: the first deployment restores that savepoint or checkpoint
            await self.checkpointing.prepare_initial_restore()
        except Exception as exc:  # noqa: BLE001 - any failure to restore fails the job, no restart can fix it
            self._restart_suppressed = True
            log.error("Job %s cannot start from %s: %s", self.job_id, self.checkpointing.recovery_path, exc)
            await self.fail(f"{type(exc).__name__}: {exc}")
            return
        await self._request_slots()

    async def suspend(self, cause: str) -> None:
        """Leadership was lost (Flink: the JobMaster is suspended): stop at once — no more deployments,
        checkpoints or commits — without touching the job's HA metadata, which the new leader recovers. Its slots
        are freed best effort (the TaskManagers also release them when they see the new leader)."""
        if self.suspended or self._finished:
            return
        self.suspended = True
        log.warning("JobMaster of job %s suspended: %s", self.job_id, cause)
        current = asyncio.current_task()
        for b in self._background:
            if b is not current:
                b.cancel()
        self.checkpointing.driver.coordinator.stop_scheduler()
        try:
            await asyncio.wait_for(self.checkpointing.driver.stop(), self.ask_timeout_s)
        except (TimeoutError, Exception):  # noqa: BLE001 - suspension must not hang on in-flight I/O
            log.warning("checkpoint driver of job %s did not stop cleanly", self.job_id)
        self._terminated.set()
        for slot in list(self.assigned.values()):
            try:
                await call("FreeSlot", self.channels.task_executor(slot.task_executor_address).FreeSlot(
                    pb.FreeSlotRequest(allocation_id=slot.allocation_id, cause=f"JobMaster suspended: {cause}"),
                    timeout=min(self.ask_timeout_s, 2.0)))
            except RpcError:
                pass
        await self.channels.close()

    async def _request_slots(self) -> None:
        groups: dict[str, int] = {}
        for v in self.job_graph.vertices:
            groups[v.slot_sharing_group] = max(groups.get(v.slot_sharing_group, 0), v.parallelism)
        for group, count in groups.items():
            for index in range(count):
                allocation_id = AllocationID.generate().hex
                self.requested[allocation_id] = (group, index)
        for allocation_id in list(self.requested):
            if self.graph.status is not JobStatus.RUNNING:
                break
            await self.rm.request_slot(self.job_id, allocation_id, self.rpc_address, self.id)

    async def _slot_timeout(self) -> None:
        await asyncio.sleep(self.slot_timeout_s)
        if not self._deployed and not self.graph.status.is_globally_terminal:
            free, total = self.rm.free_slot_count()
            await self.fail(
                f"NoResourceAvailableException: Could not acquire the minimum required resources: the job needs "
                f"{len(self.requested)} slots, {len(self.assigned)} were offered within slot.request.timeout "
                f"({self.slot_timeout_s * 1000:.0f} ms); the cluster has {total} slots, {free} free. Lower the "
                f"parallelism or add TaskManagers / taskmanager.numberOfTaskSlots.")

    async def _monitor_heartbeats(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.heartbeat_timeout_s / 4))
            now = time.monotonic()
            for resource_id, last in list(self.task_managers.items()):
                if now - last > self.heartbeat_timeout_s:
                    del self.task_managers[resource_id]
                    await self.task_manager_lost(
                        resource_id, f"The heartbeat of TaskManager with id {resource_id} timed out after "
                                     f"{self.heartbeat_timeout_s * 1000:.0f} ms.")

    # --- JobMasterGateway ------------------------------------------------------------------------------
    async def offer_slots(self, resource_id: str, task_executor_address: str,
                          offers: list[tuple[str, int, str]]) -> list[str]:
        accepted = []
        for allocation_id, _slot_index, data_address in offers:
            key = self.requested.get(allocation_id)
            if key is None or key in self.assigned or self.graph.status is not JobStatus.RUNNING:
                continue
            self.assigned[key] = SlotAssignment(allocation_id, resource_id, task_executor_address, data_address)
            self.task_managers.setdefault(resource_id, time.monotonic())
            accepted.append(allocation_id)
        if accepted and len(self.assigned) == len(self.requested) and not self._deployed:
            self._deployed = True
            asyncio.get_running_loop().create_task(self._deploy_all())
        return accepted

    def heartbeat_from_task_manager(self, resource_id: str) -> bool:
        if resource_id in self.task_managers:
            self.task_managers[resource_id] = time.monotonic()
            return True
        return False

    async def update_task_execution_state(self, execution_id: str, state: str, failure: Optional[str]) -> None:
        self.graph.update_state(execution_id, ExecutionState(state), _now_ms(), failure or None)
        await self._react()
        await self.checkpointing.on_task_state_changed()

    def report_metrics(self, metrics: list[pb.TaskMetrics]) -> None:
        for m in metrics:
            ex = self.graph.execution(m.execution_id)
            if ex is not None:
                ex.records_in, ex.records_out = m.records_in, m.records_out
                ex.busy_ms, ex.backpressured_ms, ex.idle_ms = m.busy_ms, m.backpressured_ms, m.idle_ms

    async def task_manager_lost(self, resource_id: str, cause: str) -> None:
        self.task_managers.pop(resource_id, None)
        if not self.graph.executions_on(resource_id):
            lost_slots = [k for k, s in self.assigned.items() if s.resource_id == resource_id]
            if not lost_slots or self.graph.status.is_globally_terminal:
                return
            self.graph.fail(cause, _now_ms())
        else:
            self.graph.executions_lost(resource_id, cause, _now_ms())
        await self._react()

    def collect(self, operator_id: str, subtask_index: int, records: list[Any], end_of_input: bool) -> None:
        buffer = self.collect_buffers.get(operator_id)
        if buffer is None:
            buffer = self.collect_buffers[operator_id] = CollectBuffer()
        buffer.records.extend(records)
        if end_of_input:
            buffer.ended.add(subtask_index)

    def read_collected(self, operator_id: str, offset: int, max_records: int) -> CollectedRecords:
        buffer = self.collect_buffers.get(operator_id)
        terminal = self.graph.status.is_globally_terminal
        if buffer is None:
            return CollectedRecords([], offset, terminal)
        if offset > buffer.base_offset:  # the client has everything before offset: drop it
            drop = min(offset - buffer.base_offset, len(buffer.records))
            del buffer.records[:drop]
            buffer.base_offset += drop
        start = offset - buffer.base_offset
        chunk = buffer.records[start:start + max_records]
        next_offset = offset + len(chunk)
        done = terminal and next_offset - buffer.base_offset >= len(buffer.records)
        return CollectedRecords(chunk, next_offset, done)

    # --- failover (Flink "Task Failure Recovery": restart strategy, then restore the latest checkpoint) -------
    def _may_restart(self, now_ms: int) -> bool:
        """The ExecutionGraph asks on a failure whether the job may restart (the restart strategy decides)."""
        if self._restart_suppressed:
            return False
        decision = self.restart_strategy.on_failure(now_ms)
        self._restart_delay_ms = decision.delay_ms
        return decision.restart

    async def _restart(self) -> None:
        """After the restart delay: give back every slot, start new attempts, ask for slots again; the new
        attempts deploy with the state of the latest completed checkpoint."""
        await asyncio.sleep(self._restart_delay_ms / 1000.0)
        if self.graph.status is not JobStatus.RESTARTING or self.suspended:
            return
        await self._free_slots()
        self.requested.clear()
        self.assigned.clear()
        self._deployed = self._submitted = False
        self.graph.restart(_now_ms())
        await self.checkpointing.prepare_failover_restore(self.graph.restarts)
        await self._request_slots()

    # --- checkpoints and savepoints (JobCheckpointing does the work) -------------------------------------------
    async def _call_task(self, execution_id: str, name: str, make: Callable[[Any], Any]) -> None:
        if self.suspended:
            raise RuntimeError(f"{name}: the JobMaster of job {self.job_id} is suspended (leadership lost)")
        ex = self.graph.execution(execution_id)
        if ex is None or ex.slot is None:
            raise RuntimeError(f"execution {execution_id} is not deployed")
        await call(name, make(self.channels.task_executor(ex.slot.task_executor_address)))

    async def _trigger_checkpoint_at(self, execution_id: str, barrier: CheckpointBarrier) -> None:
        await self._call_task(execution_id, "TriggerCheckpoint", lambda stub: stub.TriggerCheckpoint(
            pb.TriggerCheckpointRequest(job_id=self.job_id, job_master_id=self.id, execution_id=execution_id,
                                        checkpoint_id=barrier.checkpoint_id, timestamp=barrier.timestamp,
                                        options=pickle.dumps(barrier.options, protocol=5)),
            timeout=self.ask_timeout_s))

    async def _notify_one(self, execution_id: str, checkpoint_id: int, completed: bool) -> None:
        ex = self.graph.execution(execution_id)
        if ex is None or ex.slot is None or ex.state.is_terminal:
            return
        try:
            await self._call_task(execution_id, "NotifyCheckpoint", lambda stub: stub.NotifyCheckpoint(
                pb.CheckpointNotification(job_id=self.job_id, job_master_id=self.id, execution_id=execution_id,
                                          checkpoint_id=checkpoint_id, completed=completed),
                timeout=self.ask_timeout_s))
        except RpcError as exc:
            log.warning("checkpoint %d notification to %s failed: %s", checkpoint_id, ex.name, exc)

    async def trigger_checkpoint(self) -> int:
        """Trigger a checkpoint now (``POST /jobs/<id>/checkpoints``); returns its id. It completes
        asynchronously (see ``GET /jobs/<id>/checkpoints``).

        Raises:
            RuntimeError: the job is not RUNNING with every task RUNNING.
        """
        try:
            return self.checkpointing.trigger_checkpoint()
        except CheckpointError as exc:
            raise RuntimeError(f"job {self.job_id}: no checkpoint: {exc}") from exc

    async def trigger_savepoint(self, target_directory: Optional[str], *, format_type: str = "CANONICAL") -> str:
        """Take a savepoint (Flink "Savepoints", ``POST /jobs/<id>/savepoints``); returns its external pointer
        (the savepoint directory's URI, what ``execution.state-recovery.path`` takes) once it is complete.

        Args:
            target_directory: URI of the directory the savepoint goes under (``savepoint-<jobid6>-<random>``
                inside); None: ``execution.checkpointing.savepoint-dir`` (``state.savepoints.dir``).
            format_type: CANONICAL or NATIVE (both write yflink's one self-contained format).

        Raises:
            CheckpointError: no target and no default savepoint directory, an unknown format type, the job is not
                running with every task RUNNING, or the savepoint failed (declined, expired, I/O).
        """
        return await self.checkpointing.trigger_savepoint(target_directory, format_type)

    async def stop_with_savepoint(self, target_directory: Optional[str], *, drain: bool = False) -> str:
        """Stop the job with a savepoint (Flink's stop-with-savepoint, ``POST /jobs/<id>/stop``): a synchronous
        savepoint, after which the sources stop emitting; once it completed (and sinks committed) the tasks end
        and the job reaches FINISHED. With ``drain`` the sources emit the MAX watermark before the savepoint, so
        event-time windows and timers fire. Returns the savepoint's directory URI after the job finished.

        Raises:
            CheckpointError: as :meth:`trigger_savepoint` (the job keeps running then), or the savepoint completed
                but the job did not finish, or not within ``execution.checkpointing.timeout`` (the message names
                the savepoint and the job's status).
        """
        path = await self.checkpointing.stop_with_savepoint(target_directory, drain)
        timeout_s = self.checkpointing.config.timeout_ms / 1000.0
        try:  # the tasks end once they heard the savepoint completed
            await asyncio.wait_for(self._terminated.wait(), timeout_s)
        except TimeoutError:
            raise CheckpointError(CheckpointFailureReason.TASK_FAILURE,
                                  f"Savepoint {path} completed, but job {self.job_id} did not finish within "
                                  f"execution.checkpointing.timeout ({timeout_s:.0f} s); it is "
                                  f"{self.graph.status.value}.") from None
        if self.graph.status is not JobStatus.FINISHED:
            raise CheckpointError(CheckpointFailureReason.TASK_FAILURE,
                                  f"Savepoint {path} completed, but job {self.job_id} ended "
                                  f"{self.graph.status.value} instead of FINISHED: {self.graph.failure or ''}")
        return path

    async def acknowledge_checkpoint(self, execution_id: str, checkpoint_id: int, state: bytes) -> None:
        """A task uploaded its state and acknowledges with the pickled handles: forwarded to the coordinator."""
        self.checkpointing.acknowledge(execution_id, checkpoint_id, state)

    async def decline_checkpoint(self, execution_id: str, checkpoint_id: int, reason: str) -> None:
        self.checkpointing.decline(execution_id, checkpoint_id, reason)

    async def cancel(self) -> None:
        self.graph.cancel(_now_ms())
        await self._react()

    async def fail(self, cause: str) -> None:
        self.graph.fail(cause, _now_ms())
        await self._react()

    # --- deployment ---------------------------------------------------------------------------------------
    def _slot_for(self, ex: Execution) -> SlotAssignment:
        return self.assigned[(ex.vertex.job_vertex.slot_sharing_group, ex.subtask_index)]

    def _deployment(self, ex: Execution) -> TaskDeploymentDescriptor:
        jv = ex.vertex.job_vertex
        partitions = []
        for index, edge in enumerate(jv.outputs):
            consumer = self.job_graph.vertex(edge.target_vertex_id)
            partitions.append(ResultPartitionDescriptor(
                partition_id=partition_id(edge.id, ex.id), edge_index=index,
                num_subpartitions=num_subpartitions(edge.pointwise, ex.subtask_index, jv.parallelism,
                                                    consumer.parallelism)))
        gates = []
        for edge in jv.inputs:
            producer = self.graph.vertex(edge.source_vertex_id)
            channels = []
            for producer_index, sub_index in consumer_channels(edge.pointwise, ex.subtask_index,
                                                               producer.parallelism, jv.parallelism):
                producer_ex = producer.executions[producer_index]
                channels.append(InputChannelDescriptor(
                    partition_id=partition_id(edge.id, producer_ex.id), subpartition_index=sub_index,
                    data_address=self._slot_for(producer_ex).data_address, producer_name=producer_ex.name))
            gates.append(InputGateDescriptor(edge.id, edge.type_number, channels))
        slot = self._slot_for(ex)
        return TaskDeploymentDescriptor(
            job_id=self.job_id, job_name=self.job_graph.job_name, job_master_id=self.id,
            job_master_address=self.rpc_address, execution_id=ex.id, allocation_id=slot.allocation_id,
            vertex_id=jv.id, task_name=jv.name, subtask_index=ex.subtask_index, parallelism=jv.parallelism,
            max_parallelism=jv.max_parallelism, attempt_number=ex.attempt_number, is_source=jv.is_source,
            chain=jv.chain, partitions=partitions, gates=gates,
            config={**self.job_graph.config, **self.checkpointing.task_config()},  # FLIP-147: tasks' final wait
            restored_state=self.checkpointing.restored_state(jv.id, ex.subtask_index),
            operator_ids=dict(zip(jv.node_ids, jv.operator_ids)))

    async def _deploy_all(self) -> None:
        # Consumers first, so their channels are waiting when the producers start sending.
        for vertex in reversed(self.graph.vertices):
            for ex in vertex.executions:
                if self.graph.status is not JobStatus.RUNNING or self.suspended:
                    return
                slot = self._slot_for(ex)
                tdd = self._deployment(ex)
                self.graph.mark_deploying(ex.id, slot, _now_ms())
                try:
                    reply = await call("SubmitTask", self.channels.task_executor(slot.task_executor_address)
                                       .SubmitTask(pb.SubmitTaskRequest(job_master_id=self.id,
                                                                        allocation_id=slot.allocation_id,
                                                                        deployment=pickle.dumps(tdd, protocol=5)),
                                                   timeout=self.ask_timeout_s))
                    error = None if reply.accepted else reply.reason
                except RpcError as exc:
                    error = str(exc)
                if error is not None:
                    self.graph.update_state(ex.id, ExecutionState.FAILED, _now_ms(),
                                            f"Could not deploy {ex.name} to TaskManager "
                                            f"{slot.resource_id}: {error}")
                    await self._react()
                    return
        self._submitted = True
        await self.checkpointing.on_task_state_changed()

    async def _react(self) -> None:
        """After any event: cancel what must be cancelled; on a terminal status release everything."""
        if self.suspended:
            return
        status = self.graph.status
        if status in (JobStatus.FAILING, JobStatus.CANCELLING):
            for ex in self.graph.executions_to_cancel():
                if ex.state is ExecutionState.CANCELING:
                    continue
                self.graph.mark_canceling(ex.id, _now_ms())
                assert ex.slot is not None
                asyncio.get_running_loop().create_task(self._cancel_remote(ex.slot.task_executor_address, ex.id))
        if self.graph.status is JobStatus.RESTARTING and not self._restart_scheduled:
            self._restart_scheduled = True
            task = asyncio.get_running_loop().create_task(self._restart())
            task.add_done_callback(lambda _: setattr(self, "_restart_scheduled", False))
        if self.graph.status.is_globally_terminal and not self._finished:
            self._finished = True
            try:  # abort what is pending, delete what the retention policy says, wait for the I/O
                await self.checkpointing.shutdown(self.graph.status)
            except Exception:  # noqa: BLE001 - cleanup must not keep the job from ending
                log.exception("checkpoint coordinator of job %s did not shut down cleanly", self.job_id)
            self._terminated.set()
            await self._release()
            log.info("Job %s (%s) reached %s", self.job_graph.job_name, self.job_id, self.graph.status.value)
            self.on_terminal(self.job_id)

    async def _cancel_remote(self, address: str, execution_id: str) -> None:
        try:
            await call("CancelTask", self.channels.task_executor(address).CancelTask(
                pb.CancelTaskRequest(job_master_id=self.id, execution_id=execution_id), timeout=self.ask_timeout_s))
        except RpcError as exc:
            log.warning("cancel of %s failed: %s", execution_id, exc)

    async def _release(self) -> None:
        current = asyncio.current_task()
        for b in self._background:
            if b is not current:  # _release may run inside a background task (slot timeout, heartbeats)
                b.cancel()
        await self._free_slots()
        # A slot offered after the job ended is returned by the TaskExecutor when the offer is refused.
        await self.channels.close()

    async def _free_slots(self) -> None:
        self.rm.release_job_slots(self.job_id)
        for slot in self.assigned.values():
            try:
                await call("FreeSlot", self.channels.task_executor(slot.task_executor_address).FreeSlot(
                    pb.FreeSlotRequest(allocation_id=slot.allocation_id,
                                       cause=f"job {self.job_id} is {self.graph.status.value}"),
                    timeout=self.ask_timeout_s))
            except RpcError as exc:
                log.warning("could not free slot %s: %s", slot.allocation_id, exc)
