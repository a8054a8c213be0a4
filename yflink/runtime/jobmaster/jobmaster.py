"""The JobMaster: runs one job's ExecutionGraph — slots, deployment, task states, cancellation.

Scheduling is Flink's default streaming scheduler without restarts: request every slot the job needs (one
per subtask index per slot sharing group), and once all are offered deploy every execution at once. The first
task failure, a lost TaskManager or a slot request that times out (``slot.request.timeout``) fails the job
after the remaining tasks are cancelled. Source: Flink ``JobMaster``, ``DefaultScheduler``,
``PipelinedRegionSchedulingStrategy`` (one region for a streaming job), ``DeclarativeSlotPool``.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import time
from collections.abc import Callable
from typing import Any, Optional

from yflink.checkpoint.assignment import assign_state
from yflink.checkpoint.barriers import CheckpointBarrier
from yflink.checkpoint.coordinator import CheckpointCoordinator
from yflink.checkpoint.driver import CheckpointCoordinatorDriver
from yflink.checkpoint.errors import CheckpointFailureReason
from yflink.checkpoint.handles import TaskStateSnapshot
from yflink.checkpoint.options import CheckpointCoordinatorConfiguration
from yflink.checkpoint.pending import CheckpointPlan, TaskRef, VertexInfo
from yflink.checkpoint.restart_strategy import restart_strategy_from_configuration
from yflink.checkpoint.storage import CheckpointStorage
from yflink.checkpoint.task_state import restore_operator_snapshots, write_operator_snapshot
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


class _CheckpointTaskGateway:
    """The coordinator driver's calls to tasks, routed by the JobMaster to the TaskExecutors."""

    def __init__(self, job_master: JobMaster) -> None:
        self.jm = job_master

    async def trigger_checkpoint(self, execution_id: str, barrier: CheckpointBarrier) -> None:
        await self.jm.trigger_checkpoint_at(execution_id, barrier)

    async def notify_checkpoint_complete(self, execution_id: str, checkpoint_id: int,
                                         last_subsumed: Optional[int]) -> None:
        await self.jm._notify_one(execution_id, checkpoint_id, completed=True)

    async def notify_checkpoint_aborted(self, execution_id: str, checkpoint_id: int,
                                        reason: CheckpointFailureReason) -> None:
        await self.jm._notify_one(execution_id, checkpoint_id, completed=False)


class JobMaster:
    """Runs one job.

    Args:
        job_graph: the job.
        resource_manager: where slots come from (same process; called through its gateway methods).
        rpc_address: host:port of this JobManager's gRPC endpoint (TaskExecutors call the JobMaster there).
        config: cluster configuration overlaid with the job's.
        on_terminal: called with the job id when the job reached a globally terminal status.
    """

    def __init__(self, job_graph: JobGraph, resource_manager: ResourceManager, rpc_address: str,
                 config: Configuration, on_terminal: Callable[[str], None]) -> None:
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
        self._deployed = False
        self._finished = False
        self._restart_scheduled = False
        interval = config.get(opts.CHECKPOINTING_INTERVAL)
        self.checkpoint_interval_s: Optional[float] = interval / 1000.0 if interval else None
        self.restart_strategy = restart_strategy_from_configuration(config, self.checkpoint_interval_s is not None)
        self._restart_delay_ms = 0
        self.graph.restart_policy = self._may_restart
        self.execution_index: dict[str, tuple[str, int]] = {}  # execution id (any attempt) -> (vertex, subtask)
        self.last_checkpoint_id = 0
        self.pending_checkpoints: dict[int, dict[str, bytes]] = {}  # id -> execution id -> task state
        self.completed_checkpoints: dict[int, dict[str, bytes]] = {}
        self.declined_checkpoints: dict[int, str] = {}
        self.restored_checkpoints: list[int] = []  # the checkpoint each restart restored
        self._background: list[asyncio.Task[Any]] = []
        # With execution.checkpointing.dir (state.checkpoints.dir) the CheckpointCoordinator and CheckpointStorage
        # take over triggering, timeouts, min pause, tolerable failures, retention and restore; without it the
        # in-memory plumbing above stays (pending/completed_checkpoints).
        self.checkpoint_coordinator: Optional[CheckpointCoordinator] = None
        self.checkpoint_driver: Optional[CheckpointCoordinatorDriver] = None
        self.checkpoint_storage: Optional[CheckpointStorage] = None
        self._checkpoint_vertices: list[VertexInfo] = []
        self._node_of: dict[str, int] = {}  # stable operator id -> stream node id
        self._restore_payloads: dict[tuple[str, int], bytes] = {}  # (vertex id, subtask) -> restored_state
        self._scheduler_started = False
        if self.checkpoint_interval_s is not None and config.get(opts.CHECKPOINTS_DIRECTORY):
            self._setup_checkpoint_coordinator(CheckpointCoordinatorConfiguration.from_configuration(config))

    def _setup_checkpoint_coordinator(self, cc_config: CheckpointCoordinatorConfiguration) -> None:
        self.checkpoint_storage = CheckpointStorage.from_config(self.job_id, cc_config)
        for jv in self.job_graph.vertices:
            if len(jv.operator_ids) != len(jv.node_ids):
                raise RuntimeError(f"vertex {jv.name} has no stable operator ids; cannot checkpoint to storage")
            self._node_of.update(zip(jv.operator_ids, jv.node_ids))
            self._checkpoint_vertices.append(VertexInfo(jv.id, jv.parallelism, jv.max_parallelism,
                                                        tuple(jv.operator_ids), tuple(jv.operator_uids)))
        self.checkpoint_coordinator = CheckpointCoordinator(
            self.job_id, cc_config, self._checkpoint_vertices, self.checkpoint_storage, self._checkpoint_plan)
        self.checkpoint_driver = CheckpointCoordinatorDriver(
            self.checkpoint_coordinator, self.checkpoint_storage, _CheckpointTaskGateway(self),
            fail_job=lambda message: self._spawn(self.fail(message)))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.append(task)

    # --- lifecycle -----------------------------------------------------------------------------------
    async def start(self) -> None:
        self.graph.start_scheduling(_now_ms())
        loop = asyncio.get_running_loop()
        self._background = [loop.create_task(self._slot_timeout()), loop.create_task(self._monitor_heartbeats())]
        if self.checkpoint_interval_s is not None and self.checkpoint_driver is None:
            self._background.append(loop.create_task(self._periodic_checkpoints()))
        await self._request_slots()

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
        if (self.checkpoint_driver is not None and not self._scheduler_started
                and self._checkpoint_plan() is not None):
            self._scheduler_started = True  # Flink starts the periodic scheduler once the job is RUNNING
            await self.checkpoint_driver.start()

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
        decision = self.restart_strategy.on_failure(now_ms)
        self._restart_delay_ms = decision.delay_ms
        return decision.restart

    async def _restart(self) -> None:
        """After the restart delay: give back every slot, start new attempts, ask for slots again; the new
        attempts deploy with the state of the latest completed checkpoint."""
        await asyncio.sleep(self._restart_delay_ms / 1000.0)
        if self.graph.status is not JobStatus.RESTARTING:
            return
        await self._free_slots()
        self.requested.clear()
        self.assigned.clear()
        self.pending_checkpoints.clear()
        self._deployed = False
        self.graph.restart(_now_ms())
        if self.checkpoint_driver is not None:
            self._scheduler_started = False
            self.checkpoint_driver.abort_all()
            await self._prepare_restore()
            await self._request_slots()
            return
        if self.completed_checkpoints:
            self.restored_checkpoints.append(max(self.completed_checkpoints))
        log.info("Job %s restarts (attempt %d) from checkpoint %s", self.job_id, self.graph.restarts,
                 max(self.completed_checkpoints) if self.completed_checkpoints else "none")
        await self._request_slots()

    async def _prepare_restore(self) -> None:
        """Coordinator mode: assign the latest completed checkpoint's state to the new subtasks (Flink
        ``StateAssignmentOperation``) and read each subtask's share from storage (off the loop) into the
        ``restored_state`` its deployment carries."""
        assert self.checkpoint_coordinator is not None and self.checkpoint_storage is not None
        self._restore_payloads = {}
        latest = self.checkpoint_coordinator.latest_completed_checkpoint()
        if latest is None:
            log.info("Job %s restarts (attempt %d) without a completed checkpoint", self.job_id, self.graph.restarts)
            return
        storage, vertices = self.checkpoint_storage, {v.vertex_id: v for v in self._checkpoint_vertices}
        assignment = assign_state(latest.metadata, self._checkpoint_vertices, location=latest.external_pointer)

        def read() -> dict[tuple[str, int], bytes]:
            payloads = {}
            for (vertex_id, index), task_restore in assignment.items():
                parallelism = vertices[vertex_id].parallelism
                by_node = {self._node_of[op_id]: restore_operator_snapshots(storage, restore, index, parallelism)
                           for op_id, restore in task_restore.operators.items()}
                if by_node:
                    payloads[(vertex_id, index)] = pickle.dumps(by_node, protocol=5)
            return payloads

        self._restore_payloads = await asyncio.to_thread(read)
        self.checkpoint_coordinator.restored_from(latest.metadata, latest.external_pointer)
        self.restored_checkpoints.append(latest.checkpoint_id)
        log.info("Job %s restarts (attempt %d) from checkpoint %s", self.job_id, self.graph.restarts,
                 latest.external_pointer)

    def _restored_state(self, vertex_id: str, subtask_index: int = 0) -> Optional[bytes]:
        """``{node id: [snapshot of each old subtask]}`` of ``vertex_id`` in the latest completed checkpoint."""
        if self.checkpoint_driver is not None:
            return self._restore_payloads.get((vertex_id, subtask_index))
        if not self.completed_checkpoints:
            return None
        acks = self.completed_checkpoints[max(self.completed_checkpoints)]
        by_node: dict[int, list[Any]] = {}
        for execution_id, state in sorted(acks.items(), key=lambda a: self.execution_index.get(a[0], ("", 0))):
            if self.execution_index.get(execution_id, ("", 0))[0] != vertex_id:
                continue
            for node_id, snapshot in pickle.loads(state).items():
                by_node.setdefault(node_id, []).append(snapshot)
        return pickle.dumps(by_node, protocol=5) if by_node else None

    async def _periodic_checkpoints(self) -> None:
        """``execution.checkpointing.interval``: trigger a checkpoint whenever none is pending (plumbing until the
        CheckpointCoordinator takes over min-pause, timeouts and storage)."""
        assert self.checkpoint_interval_s is not None
        while True:
            await asyncio.sleep(self.checkpoint_interval_s)
            if self.pending_checkpoints or self.graph.status is not JobStatus.RUNNING:
                continue
            try:
                await self.trigger_checkpoint()
            except (RuntimeError, RpcError) as exc:
                log.debug("periodic checkpoint skipped: %s", exc)
            except Exception:  # noqa: BLE001 - never let the periodic trigger die silently
                log.exception("periodic checkpoint of job %s could not be triggered", self.job_id)

    # --- checkpoints through the CheckpointCoordinator (execution.checkpointing.dir set) ----------------------
    def _checkpoint_plan(self) -> Optional[CheckpointPlan]:
        """Who takes part in a checkpoint now; None unless the job and every task are RUNNING."""
        if self.graph.status is not JobStatus.RUNNING or not self._deployed:
            return None
        executions = list(self.graph.executions())
        if any(ex.state is not ExecutionState.RUNNING for ex in executions):
            return None
        sources = tuple(ex.id for ex in executions if ex.vertex.job_vertex.is_source)
        return CheckpointPlan(sources, {ex.id: TaskRef(ex.vertex.job_vertex.id, ex.subtask_index)
                                        for ex in executions})

    async def _call_task(self, execution_id: str, name: str, make: Callable[[Any], Any]) -> None:
        ex = self.graph.execution(execution_id)
        if ex is None or ex.slot is None:
            raise RuntimeError(f"execution {execution_id} is not deployed")
        await call(name, make(self.channels.task_executor(ex.slot.task_executor_address)))

    async def trigger_checkpoint_at(self, execution_id: str, barrier: CheckpointBarrier) -> None:
        await self._call_task(execution_id, "TriggerCheckpoint", lambda stub: stub.TriggerCheckpoint(
            pb.TriggerCheckpointRequest(job_id=self.job_id, job_master_id=self.id, execution_id=execution_id,
                                        checkpoint_id=barrier.checkpoint_id, timestamp=barrier.timestamp,
                                        options=pickle.dumps(barrier.options, protocol=5)),
            timeout=self.ask_timeout_s))

    async def _notify_one(self, execution_id: str, checkpoint_id: int, completed: bool) -> None:
        ex = self.graph.execution(execution_id)
        if ex is None or ex.slot is None or ex.state.is_terminal:
            return
        await self._call_task(execution_id, "NotifyCheckpoint", lambda stub: stub.NotifyCheckpoint(
            pb.CheckpointNotification(job_id=self.job_id, job_master_id=self.id, execution_id=execution_id,
                                      checkpoint_id=checkpoint_id, completed=completed),
            timeout=self.ask_timeout_s))

    async def _acknowledge_to_storage(self, execution_id: str, checkpoint_id: int, state: bytes) -> None:
        """Write the task's pickled ``{node id: OperatorSnapshot}`` into the checkpoint's directory (off the
        loop), then acknowledge the handles (``{operator id: OperatorSubtaskState}``) to the coordinator."""
        assert self.checkpoint_coordinator is not None and self.checkpoint_driver is not None
        storage = self.checkpoint_storage
        assert storage is not None
        pending = self.checkpoint_coordinator.pending.get(checkpoint_id)
        ex = self.graph.execution(execution_id)
        if pending is None or ex is None:
            self.checkpoint_driver.acknowledge(execution_id, checkpoint_id, None)  # late or unknown: ignored
            return
        operator_id = dict(zip(ex.vertex.job_vertex.node_ids, ex.vertex.job_vertex.operator_ids))
        directory = pending.location.exclusive_dir

        def write() -> TaskStateSnapshot:
            return {operator_id[node_id]: write_operator_snapshot(storage, directory, snapshot)
                    for node_id, snapshot in pickle.loads(state).items()}

        try:
            handles = await asyncio.to_thread(write)
        except Exception as exc:  # noqa: BLE001 - a failed upload declines the checkpoint, the job goes on
            log.warning("checkpoint %d: state of %s could not be written: %s", checkpoint_id, ex.name, exc)
            self.checkpoint_driver.decline(execution_id, checkpoint_id,
                                           CheckpointFailureReason.CHECKPOINT_ASYNC_EXCEPTION, str(exc))
            return
        self.checkpoint_driver.acknowledge(execution_id, checkpoint_id, handles)

    # --- checkpoints (in-memory plumbing, without execution.checkpointing.dir) ---------------------------------
    async def trigger_checkpoint(self, options: Any = None) -> int:
        """Start a checkpoint: barriers enter at every source task. Returns its id.

        Raises:
            RuntimeError: the job is not RUNNING with every task RUNNING.
        """
        if self.checkpoint_driver is not None:
            raise RuntimeError(f"job {self.job_id} checkpoints periodically to execution.checkpointing.dir; "
                               "manual checkpoints are not supported there yet")
        if self.graph.status is not JobStatus.RUNNING or any(
                ex.state is not ExecutionState.RUNNING for ex in self.graph.executions()):
            raise RuntimeError(f"job {self.job_id} is not running with all tasks RUNNING; no checkpoint")
        self.last_checkpoint_id += 1
        checkpoint_id = self.last_checkpoint_id
        self.pending_checkpoints[checkpoint_id] = {}
        now = _now_ms()
        payload = pickle.dumps(options, protocol=5) if options is not None else b""
        for vertex in self.graph.vertices:
            if not vertex.job_vertex.is_source:
                continue
            for ex in vertex.executions:
                assert ex.slot is not None
                await call("TriggerCheckpoint", self.channels.task_executor(ex.slot.task_executor_address)
                           .TriggerCheckpoint(pb.TriggerCheckpointRequest(
                               job_id=self.job_id, job_master_id=self.id, execution_id=ex.id,
                               checkpoint_id=checkpoint_id, timestamp=now, options=payload),
                               timeout=self.ask_timeout_s))
        return checkpoint_id

    async def acknowledge_checkpoint(self, execution_id: str, checkpoint_id: int, state: bytes) -> None:
        if self.checkpoint_driver is not None:
            await self._acknowledge_to_storage(execution_id, checkpoint_id, state)
            return
        acks = self.pending_checkpoints.get(checkpoint_id)
        if acks is None or self.graph.execution(execution_id) is None:
            return
        acks[execution_id] = state
        if len(acks) == sum(1 for _ in self.graph.executions()):
            del self.pending_checkpoints[checkpoint_id]
            self.completed_checkpoints[checkpoint_id] = acks
            await self._notify_checkpoint(checkpoint_id, completed=True)

    async def decline_checkpoint(self, execution_id: str, checkpoint_id: int, reason: str) -> None:
        if self.checkpoint_driver is not None:
            self.checkpoint_driver.decline(execution_id, checkpoint_id, CheckpointFailureReason.CHECKPOINT_DECLINED,
                                           reason)
            return
        if self.pending_checkpoints.pop(checkpoint_id, None) is not None:
            log.info("checkpoint %d of job %s declined by %s: %s", checkpoint_id, self.job_id, execution_id, reason)
            self.declined_checkpoints[checkpoint_id] = reason
            await self._notify_checkpoint(checkpoint_id, completed=False)

    async def _notify_checkpoint(self, checkpoint_id: int, completed: bool) -> None:
        for ex in self.graph.executions():
            if ex.slot is None or ex.state.is_terminal:
                continue
            try:
                await call("NotifyCheckpoint", self.channels.task_executor(ex.slot.task_executor_address)
                           .NotifyCheckpoint(pb.CheckpointNotification(
                               job_id=self.job_id, job_master_id=self.id, execution_id=ex.id,
                               checkpoint_id=checkpoint_id, completed=completed), timeout=self.ask_timeout_s))
            except RpcError as exc:
                log.warning("checkpoint %d notification to %s failed: %s", checkpoint_id, ex.name, exc)

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
            chain=jv.chain, partitions=partitions, gates=gates, config=dict(self.job_graph.config),
            restored_state=self._restored_state(jv.id, ex.subtask_index))

    async def _deploy_all(self) -> None:
        # Consumers first, so their channels are waiting when the producers start sending.
        for vertex in reversed(self.graph.vertices):
            for ex in vertex.executions:
                if self.graph.status is not JobStatus.RUNNING:
                    return
                slot = self._slot_for(ex)
                self.execution_index[ex.id] = (vertex.job_vertex.id, ex.subtask_index)
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

    async def _react(self) -> None:
        """After any event: cancel what must be cancelled; on a terminal status release everything."""
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
            if self.checkpoint_driver is not None:
                try:  # abort what is pending, delete what the retention policy says, wait for the I/O
                    await self.checkpoint_driver.shutdown(self.graph.status.name)
                except Exception:  # noqa: BLE001 - cleanup must not keep the job from ending
                    log.exception("checkpoint coordinator of job %s did not shut down cleanly", self.job_id)
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
