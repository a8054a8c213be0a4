"""The slot worker: one OS process per slot, running every task deployed into that slot.

Python threads share one core, so a slot is a process: two slots use two cores. The worker serves the
SlotWorkerGateway (deploy, cancel, shutdown) for its TaskManager, a data server for remote consumers of its
result partitions, and runs its tasks as coroutines on one asyncio loop. Task state changes, metrics and
collect-sink records leave through one ordered outbox, so a task's records reach the JobMaster before the
report that it FINISHED. The worker exits when its TaskManager dies (``PR_SET_PDEATHSIG`` plus a parent check).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import pickle
from typing import Any, Optional

import cloudpickle

from yflink.checkpoint.barriers import CheckpointOptions
from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.rpc.protos import gateways_pb2 as pb
from yflink.rpc.protos import gateways_pb2_grpc as pb_grpc
from yflink.rpc.service import Channels, call, start_server
from yflink.runtime.network.transport import DataServer, PartitionRegistry
from yflink.runtime.states import ExecutionState
from yflink.runtime.taskexecutor.task import Task

log = logging.getLogger(__name__)

METRICS_INTERVAL_S = 1.0  # how often running tasks report records in/out and busy time


#: Allocations between collections of the youngest generation. Records are short-lived containers (tuples)
#: that reference counting frees; the default threshold (700) makes the cyclic collector rescan every batch
#: still in flight, many times per batch. Same idea as gc.freeze() advice for servers (Python docs, "gc").
GC_GENERATION0_THRESHOLD = 100_000


def tune_garbage_collector() -> None:
    """Freeze what start-up allocated (modules, gRPC) and collect young objects less often."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GENERATION0_THRESHOLD, gen1, gen2)


class SlotWorker(pb_grpc.SlotWorkerGatewayServicer):
    """Runs the tasks of one slot.

    Args:
        slot_index: which slot of its TaskManager this worker is.
        taskmanager_address: host:port of the TaskManager's gateway.
        host: the address this worker's endpoints listen on.
        parent_pid: the TaskManager's pid; the worker exits when it is gone.
    """

    def __init__(self, slot_index: int, taskmanager_address: str, host: str, parent_pid: int,
                 config: Configuration) -> None:
        self.slot_index = slot_index
        self.taskmanager_address = taskmanager_address
        self.host = host
        self.parent_pid = parent_pid
        self.config = config
        self.channels = Channels()
        self.registry = PartitionRegistry()
        self.data_server = DataServer(self.registry, host)
        self.tasks: dict[str, Task] = {}
        self.data_address = ""
        self._outbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._stopped = asyncio.Event()
        self._tm: Any = None  # the TaskManager's stub, made on the running loop
        self.ask_timeout_s = config.get(opts.RPC_ASK_TIMEOUT) / 1000.0

    async def run(self) -> None:
        tune_garbage_collector()
        self._tm = self.channels.task_executor(self.taskmanager_address)
        data_port = await self.data_server.start()
        self.data_address = f"{self.host}:{data_port}"
        server, port = await start_server([(pb_grpc.add_SlotWorkerGatewayServicer_to_server, self)],
                                          self.host, 0, "a slot worker")
        await call("RegisterSlotWorker", self._tm.RegisterSlotWorker(pb.SlotWorkerRegistration(
            slot_index=self.slot_index, pid=os.getpid(), control_address=f"{self.host}:{port}",
            data_address=self.data_address), timeout=self.ask_timeout_s))
        loop = asyncio.get_running_loop()
        background = [loop.create_task(self._send_outbox()), loop.create_task(self._report_metrics()),
                      loop.create_task(self._watch_parent())]
        await self._stopped.wait()
        for task in list(self.tasks.values()):
            task.cancel()
        for b in background:
            b.cancel()
        await server.stop(0.5)
        await self.data_server.close()

    # --- SlotWorkerGateway -------------------------------------------------------------------------
    async def DeployTask(self, request: pb.DeployTaskRequest, context: Any) -> pb.Empty:
        tdd = pickle.loads(request.deployment)
        task = Task(tdd, self.registry, self.data_address, self._report_state, self._send_collect, self)
        self.tasks[tdd.execution_id] = task
        task.start()
        return pb.Empty()

    async def CancelTask(self, request: pb.CancelExecutionRequest, context: Any) -> pb.Empty:
        task = self.tasks.get(request.execution_id)
        if task is not None:
            task.cancel()
        return pb.Empty()

    async def TriggerCheckpoint(self, request: pb.TriggerCheckpointRequest, context: Any) -> pb.Empty:
        task = self.tasks.get(request.execution_id)
        options = pickle.loads(request.options) if request.options else CheckpointOptions()
        if task is not None:
            task.trigger_checkpoint(request.checkpoint_id, request.timestamp, options)
        return pb.Empty()

    async def NotifyCheckpoint(self, request: pb.CheckpointNotification, context: Any) -> pb.Empty:
        task = self.tasks.get(request.execution_id)
        if task is not None:
            task.notify_checkpoint(request.checkpoint_id, request.completed)
        return pb.Empty()

    # --- CheckpointReporter (called by tasks) --------------------------------------------------------------
    def acknowledge(self, tdd: Any, checkpoint_id: int, state: bytes, sync_ms: int, alignment_ms: int) -> None:
        self._outbox.put_nowait(("ack", pb.CheckpointAck(
            job_id=tdd.job_id, job_master_id=tdd.job_master_id, execution_id=tdd.execution_id,
            checkpoint_id=checkpoint_id, state=state, sync_duration_ms=sync_ms,
            alignment_duration_ms=alignment_ms)))

    def decline(self, tdd: Any, checkpoint_id: int, reason: str) -> None:
        self._outbox.put_nowait(("decline", pb.CheckpointDecline(
            job_id=tdd.job_id, job_master_id=tdd.job_master_id, execution_id=tdd.execution_id,
            checkpoint_id=checkpoint_id, reason=reason)))

    async def Shutdown(self, request: pb.Empty, context: Any) -> pb.Empty:
        self._stopped.set()
        return pb.Empty()

    # --- outbound ----------------------------------------------------------------------------------
    def _report_state(self, execution_id: str, state: ExecutionState, failure: Optional[str]) -> None:
        task = self.tasks.get(execution_id)
        if task is not None and state.is_terminal:
            self._outbox.put_nowait(("metrics", [task]))
            del self.tasks[execution_id]
        job_id = task.tdd.job_id if task else ""
        jm_id = task.tdd.job_master_id if task else ""
        self._outbox.put_nowait(("state", pb.TaskExecutionState(
            job_id=job_id, job_master_id=jm_id, execution_id=execution_id, state=state.value,
            failure=failure or "")))

    def _send_collect(self, tdd: Any, operator_id: str, subtask_index: int, values: list[Any], end: bool) -> None:
        self._outbox.put_nowait(("collect", (tdd.job_master_address, pb.CollectBatch(
            job_id=tdd.job_id, operator_id=operator_id, subtask_index=subtask_index,
            records=cloudpickle.dumps(values, protocol=5), end_of_input=end))))

    async def _send_outbox(self) -> None:
        while True:
            kind, payload = await self._outbox.get()
            try:
                if kind == "state":
                    await call("UpdateTaskExecutionState", self._tm.UpdateTaskExecutionState(
                        payload, timeout=self.ask_timeout_s))
                elif kind == "metrics":
                    await self._send_metrics(payload)
                elif kind == "ack":
                    await call("AcknowledgeCheckpoint", self._tm.AcknowledgeCheckpoint(
                        payload, timeout=self.ask_timeout_s))
                elif kind == "decline":
                    await call("DeclineCheckpoint", self._tm.DeclineCheckpoint(payload, timeout=self.ask_timeout_s))
                elif kind == "collect":
                    address, batch = payload
                    await call("CollectResults", self.channels.job_master(address).CollectResults(
                        batch, timeout=self.ask_timeout_s))
            except Exception as exc:  # noqa: BLE001 - a lost message is logged; heartbeats catch lost peers
                log.warning("could not send %s: %s", kind, exc)

    async def _send_metrics(self, tasks: list[Task]) -> None:
        by_job: dict[tuple[str, str], list[pb.TaskMetrics]] = {}
        for t in tasks:
            m = t.metrics
            by_job.setdefault((t.tdd.job_id, t.tdd.job_master_id), []).append(pb.TaskMetrics(
                execution_id=t.execution_id, records_in=m.records_in, records_out=t.records_out,
                busy_ms=int(m.busy_ms), backpressured_ms=int(m.backpressured_ms), idle_ms=int(m.idle_ms)))
        for (job_id, jm_id), metrics in by_job.items():
            await call("ReportTaskMetrics", self._tm.ReportTaskMetrics(pb.TaskMetricsReport(
                job_id=job_id, job_master_id=jm_id, tasks=metrics), timeout=self.ask_timeout_s))

    async def _report_metrics(self) -> None:
        while True:
            await asyncio.sleep(METRICS_INTERVAL_S)
            if self.tasks:
                self._outbox.put_nowait(("metrics", list(self.tasks.values())))

    async def _watch_parent(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            if os.getppid() != self.parent_pid:
                log.error("TaskManager (pid %d) is gone; slot worker exits", self.parent_pid)
                os._exit(1)
