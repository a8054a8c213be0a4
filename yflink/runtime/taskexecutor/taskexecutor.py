"""The TaskExecutor: the TaskManager process's component that owns slots and slot workers.

It registers ``taskmanager.numberOfTaskSlots`` slots with the ResourceManager, offers a slot to a JobMaster
when the ResourceManager assigns it, deploys tasks into the slot's worker process, forwards task state and
metrics to the JobMaster, heartbeats the ResourceManager and its JobMasters, and replaces a slot worker that
dies (its tasks are reported FAILED). Source: Flink ``TaskExecutor``, ``TaskSlotTable``, "Flink Architecture".
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Optional

from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.common.errors import ClusterError, RpcError
from yflink.rpc.protos import gateways_pb2 as pb
from yflink.rpc.protos import gateways_pb2_grpc as pb_grpc
from yflink.rpc.service import Channels, call, reject_fenced, start_server
from yflink.runtime.deployment import TaskDeploymentDescriptor
from yflink.runtime.states import ExecutionState

log = logging.getLogger(__name__)

WORKER_START_TIMEOUT_S = 60.0
TASK_CANCELLATION_TIMEOUT_S = 30.0  # a task not CANCELED by then has its slot worker killed
WORKER_RESPAWN_DELAY_S = 1.0  # least time between two starts of a slot's worker (one that keeps dying)
WORKER_WATCH_INTERVAL_S = 0.2  # how often the TaskExecutor looks for dead slot workers


@dataclass
class WorkerHandle:
    popen: subprocess.Popen[bytes]
    registered: asyncio.Event = field(default_factory=asyncio.Event)
    control_address: str = ""
    data_address: str = ""
    started_at: float = field(default_factory=time.monotonic)  # time.monotonic() of the spawn, s


@dataclass
class Slot:
    """One task slot. ``worker`` is None while its dead worker waits to be replaced (``respawn_at``, monotonic
    s): the slot then refuses slot requests and deployments."""

    index: int
    worker: Optional[WorkerHandle] = None
    respawn_at: Optional[float] = None
    allocation_id: str = ""
    job_id: str = ""
    job_master_address: str = ""
    job_master_id: str = ""
    executions: dict[str, TaskDeploymentDescriptor] = field(default_factory=dict)

    def free(self) -> None:
        self.allocation_id = self.job_id = self.job_master_address = self.job_master_id = ""
        self.executions.clear()


class TaskExecutor(pb_grpc.TaskExecutorGatewayServicer):
    """The slots of one TaskManager process.

    Args:
        config: the cluster configuration.
        resource_id: this TaskManager's id (32 hex digits).
        jobmanager_address: host:port of the JobManager's RPC endpoint (ResourceManager and JobMasters).
        leader_retrieval: with ZooKeeper HA, where the leading JobManager is published
            (:class:`~yflink.runtime.highavailability.api.LeaderRetrieval`); the TaskExecutor then follows the
            leader: a new leader session frees every slot (its tasks are cancelled) and registers again, and
            slot requests from a ResourceManager of another session are rejected (fencing).
    """

    def __init__(self, config: Configuration, resource_id: str, jobmanager_address: str,
                 leader_retrieval: Any = None) -> None:
        self.config = config
        self.resource_id = resource_id
        self.jobmanager_address = jobmanager_address
        self.leader_retrieval = leader_retrieval
        self.leader_session_id = ""  # the leader session this TaskExecutor is registered with (HA)
        self._leader_changed: Optional[asyncio.Event] = None
        self.host = config.get(opts.TM_HOST)
        self.num_slots = config.get(opts.TM_SLOTS)
        if self.num_slots < 1:
            raise ClusterError(f"taskmanager.numberOfTaskSlots must be at least 1, got {self.num_slots}")
        self.slots = [Slot(i) for i in range(self.num_slots)]
        self.channels = Channels()
        self.address = ""
        self.resource_manager_id = ""
        self.ask_timeout_s = config.get(opts.RPC_ASK_TIMEOUT) / 1000.0
        self.heartbeat_interval_s = config.get(opts.HEARTBEAT_INTERVAL) / 1000.0
        self.heartbeat_timeout_s = config.get(opts.HEARTBEAT_TIMEOUT) / 1000.0
        self._stopping = False
        self._server: Any = None
        self._background: list[asyncio.Task[Any]] = []
        self._registered = asyncio.Event()
        #: Set when the TaskManager must exit (it could not register again within the registration timeout).
        self.terminated = asyncio.Event()

    # --- lifecycle -----------------------------------------------------------------------------------
    async def start(self) -> None:
        port_text = str(self.config.get(opts.TM_RPC_PORT)).split("-")[0] or "0"
        self._server, port = await start_server([(pb_grpc.add_TaskExecutorGatewayServicer_to_server, self)],
                                                self.host, int(port_text), "taskmanager.rpc.port")
        self.address = f"{self.host}:{port}"
        for slot in self.slots:
            slot.worker = self._spawn_worker(slot.index)
        try:
            await asyncio.wait_for(asyncio.gather(*(s.worker.registered.wait() for s in self.slots if s.worker)),
                                   WORKER_START_TIMEOUT_S)
        except TimeoutError:
            missing = [s.index for s in self.slots if s.worker is None or not s.worker.registered.is_set()]
            raise ClusterError(f"The slot workers of slots {missing} did not start within "
                               f"{WORKER_START_TIMEOUT_S:.0f} s; see their logs beside this TaskManager's") from None
        loop = asyncio.get_running_loop()
        if self.leader_retrieval is not None:
            changed = self._leader_changed = asyncio.Event()
            self.leader_retrieval.start(lambda _info: loop.call_soon_threadsafe(changed.set))
        await self._register()
        self._background = [loop.create_task(self._heartbeat_loop()), loop.create_task(self._watch_workers())]

    async def stop(self) -> None:
        self._stopping = True
        for b in self._background:
            b.cancel()
        for slot in self.slots:
            if slot.worker is not None and slot.worker.popen.poll() is None:
                slot.worker.popen.terminate()
        deadline = time.monotonic() + 5
        for slot in self.slots:
            if slot.worker is not None:
                try:
                    slot.worker.popen.wait(max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    slot.worker.popen.kill()
                    slot.worker.popen.wait()
        if self._server is not None:
            await self._server.stop(0.5)

    def _spawn_worker(self, index: int) -> WorkerHandle:
        cmd = [sys.executable, "-m", "yflink.runtime.entrypoints", "slot-worker", "--taskmanager", self.address,
               "--slot", str(index), "--resource-id", self.resource_id, "--parent-pid", str(os.getpid()),
               "--host", self.host]
        conf_dir = os.environ.get("YFLINK_CONF_DIR")
        if conf_dir:
            cmd += ["--conf-dir", conf_dir]
        log_file = os.environ.get("YFLINK_LOG_FILE")
        if log_file:
            cmd += ["--log-file", log_file.replace(".log", f"-slot{index}.log")]
        popen = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
        log.info("Started slot worker %d (pid %d)", index, popen.pid)
        return WorkerHandle(popen)

    def _follow_leader(self) -> bool:
        """HA: take the currently published leader's address; True when it is another leader session."""
        if self.leader_retrieval is None:
            return False
        info = self.leader_retrieval.current()
        if info is None or info.session_id == self.leader_session_id:
            return False
        log.info("JobManager leader is now %s (session %s)", info.rpc_address, info.session_id)
        self.jobmanager_address = info.rpc_address
        self.leader_session_id = info.session_id
        return True

    async def _register(self) -> None:
        deadline = time.monotonic() + self.config.get(opts.TM_REGISTRATION_TIMEOUT) / 1000.0
        delay = 0.05
        while True:
            self._follow_leader()
            if not self.jobmanager_address:  # HA: no leader published yet
                if time.monotonic() > deadline:
                    raise ClusterError("No JobManager leader was published within taskmanager.registration.timeout")
                await asyncio.sleep(0.1)
                continue
            rm = self.channels.resource_manager(self.jobmanager_address)
            try:
                reply = await call("RegisterTaskExecutor", rm.RegisterTaskExecutor(pb.RegisterTaskExecutorRequest(
                    resource_id=self.resource_id, address=self.address, num_slots=self.num_slots,
                    hostname=socket.gethostname(), pid=os.getpid()), timeout=self.ask_timeout_s))
                if reply.accepted:
                    self.resource_manager_id = reply.resource_manager_id
                    self._registered.set()
                    log.info("Registered at ResourceManager %s", self.jobmanager_address)
                    return
                log.warning("ResourceManager refused registration: %s", reply.reason)
            except RpcError as exc:
                log.info("ResourceManager at %s not reachable yet: %s", self.jobmanager_address, exc)
            if time.monotonic() > deadline:
                raise ClusterError(f"Could not register at the ResourceManager at {self.jobmanager_address} "
                                   "within taskmanager.registration.timeout")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    # --- heartbeats and worker supervision --------------------------------------------------------------
    def _slot_report(self) -> list[pb.SlotStatus]:
        return [pb.SlotStatus(slot_index=s.index, allocation_id=s.allocation_id, job_id=s.job_id) for s in self.slots]

    async def _heartbeat_loop(self) -> None:
        try:
            await self._heartbeats()
        except ClusterError as exc:  # could not register again: the process exits (it would be a zombie)
            log.error("%s; this TaskManager exits", exc)
            self.terminated.set()

    async def _heartbeats(self) -> None:
        last_ok = time.monotonic()
        while True:
            if self._leader_changed is None:
                await asyncio.sleep(self.heartbeat_interval_s)
            else:  # HA: a new leader ends the wait at once
                try:
                    await asyncio.wait_for(self._leader_changed.wait(), self.heartbeat_interval_s)
                except TimeoutError:
                    pass
                self._leader_changed.clear()
                if self._follow_leader():
                    await self._release_all("a new JobManager leader was elected; its JobMasters redeploy the jobs")
                    await self._register()
                    last_ok = time.monotonic()
            rm = self.channels.resource_manager(self.jobmanager_address)
            try:
                heartbeat = asyncio.ensure_future(call("HeartbeatFromTaskManager", rm.HeartbeatFromTaskManager(
                    pb.TaskExecutorHeartbeat(resource_id=self.resource_id, slots=self._slot_report()),
                    timeout=self.ask_timeout_s)))
                if self._leader_changed is not None:  # HA: a new leader does not wait for a hung old one
                    changed = asyncio.ensure_future(self._leader_changed.wait())
                    await asyncio.wait({heartbeat, changed}, return_when=asyncio.FIRST_COMPLETED)
                    changed.cancel()
                    if not heartbeat.done():
                        heartbeat.cancel()
                        continue
                reply = await heartbeat
                last_ok = time.monotonic()
                if not reply.known:
                    log.warning("ResourceManager does not know this TaskManager any more; registering again")
                    await self._release_all("the ResourceManager lost this TaskManager")
                    await self._register()
            except RpcError as exc:
                if time.monotonic() - last_ok > self.heartbeat_timeout_s:
                    log.error("ResourceManager unreachable for %.0f s (%s); registering again",
                              self.heartbeat_timeout_s, exc)
                    await self._release_all("the ResourceManager is unreachable")
                    await self._register()
                    last_ok = time.monotonic()
            job_masters = asyncio.ensure_future(self._heartbeat_job_masters())
            if self._leader_changed is not None:  # HA: a new leader does not wait for a hung old JobMaster
                changed = asyncio.ensure_future(self._leader_changed.wait())
                await asyncio.wait({job_masters, changed}, return_when=asyncio.FIRST_COMPLETED)
                changed.cancel()
                if not job_masters.done():
                    job_masters.cancel()
            else:
                await job_masters

    async def _heartbeat_job_masters(self) -> None:
        jobs = {(s.job_id, s.job_master_address, s.job_master_id) for s in self.slots if s.job_id}
        for job_id, address, _jm_id in jobs:
            try:
                await call("HeartbeatFromTaskManager", self.channels.job_master(address).HeartbeatFromTaskManager(
                    pb.TaskExecutorHeartbeat(resource_id=self.resource_id, slots=self._slot_report()),
                    timeout=self.ask_timeout_s))
            except RpcError as exc:
                log.warning("heartbeat to JobMaster of job %s failed: %s", job_id, exc)

    async def _release_all(self, cause: str) -> None:
        for slot in self.slots:
            if slot.allocation_id:
                await self._free(slot, cause)

    async def _watch_workers(self) -> None:
        while True:
            await asyncio.sleep(WORKER_WATCH_INTERVAL_S)
            await self._check_workers()

    async def _check_workers(self) -> None:
        """One round of slot worker supervision: a dead worker fails its tasks and leaves its slot at once (so
        no slot request or deployment goes to it), and is replaced no sooner than WORKER_RESPAWN_DELAY_S after
        its own start (a worker that keeps dying is restarted at most that often); a new worker that registers
        makes its slot available to the ResourceManager again (:meth:`RegisterSlotWorker`)."""
        now = time.monotonic()
        for slot in self.slots:
            worker = slot.worker
            if worker is not None and worker.popen.poll() is not None:
                code = worker.popen.returncode
                log.error("Slot worker %d (pid %d) exited with code %s", slot.index, worker.popen.pid, code)
                slot.worker = None
                slot.respawn_at = max(now, worker.started_at + WORKER_RESPAWN_DELAY_S)
                for execution_id, tdd in list(slot.executions.items()):
                    await self._forward_state(slot, pb.TaskExecutionState(
                        job_id=tdd.job_id, job_master_id=tdd.job_master_id, execution_id=execution_id,
                        state=ExecutionState.FAILED.value,
                        failure=f"The slot worker process of slot {slot.index} on TaskManager {self.resource_id} "
                                f"(pid {worker.popen.pid}) exited with code {code}."))
                slot.executions.clear()
            if slot.worker is None and slot.respawn_at is not None and now >= slot.respawn_at \
                    and not self._stopping:
                slot.respawn_at = None
                slot.worker = self._spawn_worker(slot.index)

    # --- TaskExecutorGateway -------------------------------------------------------------------------
    async def RegisterSlotWorker(self, request: pb.SlotWorkerRegistration, context: Any) -> pb.Empty:
        slot = self.slots[request.slot_index]
        if slot.worker is not None and slot.worker.popen.pid == request.pid:
            replacement = self._registered.is_set()  # a worker started after the TaskManager registered
            slot.worker.control_address = request.control_address
            slot.worker.data_address = request.data_address
            slot.worker.registered.set()
            if replacement and not slot.allocation_id:
                asyncio.get_running_loop().create_task(self._notify_slot_available(slot, ""))
        return pb.Empty()

    async def RequestSlot(self, request: pb.TaskExecutorSlotRequest, context: Any) -> pb.TaskExecutorSlotReply:
        if request.slot_index >= len(self.slots):
            return pb.TaskExecutorSlotReply(accepted=False, reason=f"no slot {request.slot_index}")
        slot = self.slots[request.slot_index]
        if slot.allocation_id and slot.allocation_id != request.allocation_id:
            return pb.TaskExecutorSlotReply(accepted=False, reason=f"slot {slot.index} is allocated")
        if slot.worker is None or not slot.worker.registered.is_set():
            return pb.TaskExecutorSlotReply(accepted=False, reason=f"slot {slot.index} has no running worker")
        if self.leader_retrieval is not None and request.resource_manager_id != self.resource_manager_id:
            await reject_fenced(context, f"stale ResourceManager session {request.resource_manager_id}; this "
                                         f"TaskManager follows {self.resource_manager_id}")
        self.resource_manager_id = request.resource_manager_id or self.resource_manager_id
        slot.allocation_id = request.allocation_id
        slot.job_id = request.job_id
        slot.job_master_address = request.job_master_address
        slot.job_master_id = request.job_master_id
        asyncio.get_running_loop().create_task(self._offer(slot))
        return pb.TaskExecutorSlotReply(accepted=True)

    async def _offer(self, slot: Slot) -> None:
        allocation_id = slot.allocation_id
        if slot.worker is None:  # its worker died since the slot request was accepted
            await self._free(slot, f"the worker of slot {slot.index} died")
            return
        try:
            reply = await call("OfferSlots", self.channels.job_master(slot.job_master_address).OfferSlots(
                pb.OfferSlotsRequest(job_id=slot.job_id, job_master_id=slot.job_master_id,
                                     resource_id=self.resource_id, task_executor_address=self.address,
                                     offers=[pb.SlotOffer(allocation_id=allocation_id, slot_index=slot.index,
                                                          data_address=slot.worker.data_address)]),
                timeout=self.ask_timeout_s))
            accepted = allocation_id in reply.accepted
        except RpcError as exc:
            log.warning("offering slot %d failed: %s", slot.index, exc)
            accepted = False
        if not accepted and slot.allocation_id == allocation_id:
            await self._free(slot, "the JobMaster did not accept the slot")

    def _slot_of(self, allocation_id: str) -> Optional[Slot]:
        return next((s for s in self.slots if s.allocation_id == allocation_id and allocation_id), None)

    async def SubmitTask(self, request: pb.SubmitTaskRequest, context: Any) -> pb.SubmitTaskReply:
        slot = self._slot_of(request.allocation_id)
        if slot is None or slot.worker is None:
            return pb.SubmitTaskReply(accepted=False, reason=f"no slot for allocation {request.allocation_id}")
        if slot.job_master_id != request.job_master_id:
            return pb.SubmitTaskReply(accepted=False, reason="the slot belongs to another JobMaster session")
        tdd: TaskDeploymentDescriptor = pickle.loads(request.deployment)
        slot.executions[tdd.execution_id] = tdd
        try:
            await call("DeployTask", self.channels.slot_worker(slot.worker.control_address).DeployTask(
                pb.DeployTaskRequest(deployment=request.deployment), timeout=self.ask_timeout_s))
        except RpcError as exc:
            slot.executions.pop(tdd.execution_id, None)
            return pb.SubmitTaskReply(accepted=False, reason=str(exc))
        return pb.SubmitTaskReply(accepted=True)

    async def CancelTask(self, request: pb.CancelTaskRequest, context: Any) -> pb.Empty:
        for slot in self.slots:
            if request.execution_id in slot.executions and slot.job_master_id != request.job_master_id:
                await reject_fenced(context, f"cancel of {request.execution_id} by a stale JobMaster session")
            if request.execution_id in slot.executions and slot.worker is not None:
                worker = slot.worker
                try:
                    await call("CancelTask", self.channels.slot_worker(worker.control_address).CancelTask(
                        pb.CancelExecutionRequest(execution_id=request.execution_id), timeout=self.ask_timeout_s))
                except RpcError as exc:
                    log.warning("cancel of %s failed: %s", request.execution_id, exc)
                asyncio.get_running_loop().create_task(
                    self._kill_if_not_cancelled(slot, worker, request.execution_id))
        return pb.Empty()

    async def _kill_if_not_cancelled(self, slot: Slot, worker: WorkerHandle, execution_id: str) -> None:
        await asyncio.sleep(TASK_CANCELLATION_TIMEOUT_S)
        if execution_id in slot.executions and slot.worker is worker and worker.popen.poll() is None:
            log.error("Task %s did not cancel within %.0f s; killing slot worker %d", execution_id,
                      TASK_CANCELLATION_TIMEOUT_S, slot.index)
            worker.popen.kill()

    async def FreeSlot(self, request: pb.FreeSlotRequest, context: Any) -> pb.Empty:
        slot = self._slot_of(request.allocation_id)
        if slot is not None:
            await self._free(slot, request.cause)
        return pb.Empty()

    async def _free(self, slot: Slot, cause: str) -> None:
        allocation_id = slot.allocation_id
        if slot.worker is not None and slot.worker.control_address:
            for execution_id in list(slot.executions):
                try:
                    await call("CancelTask", self.channels.slot_worker(slot.worker.control_address).CancelTask(
                        pb.CancelExecutionRequest(execution_id=execution_id), timeout=self.ask_timeout_s))
                except RpcError:
                    pass
        slot.free()
        log.info("Freed slot %d (allocation %s): %s", slot.index, allocation_id, cause)
        await self._notify_slot_available(slot, allocation_id)

    async def _notify_slot_available(self, slot: Slot, allocation_id: str) -> None:
        """Tell the ResourceManager that ``slot`` (freed from ``allocation_id``, or "" for a slot whose worker
        was replaced) may serve slot requests again."""
        try:
            await call("NotifySlotAvailable", self.channels.resource_manager(self.jobmanager_address)
                       .NotifySlotAvailable(pb.SlotAvailable(resource_id=self.resource_id, slot_index=slot.index,
                                                             allocation_id=allocation_id),
                                            timeout=self.ask_timeout_s))
        except RpcError as exc:
            log.warning("could not tell the ResourceManager that slot %d is free: %s", slot.index, exc)

    async def HeartbeatFromJobManager(self, request: pb.JobManagerHeartbeat, context: Any) -> pb.HeartbeatReply:
        return pb.HeartbeatReply(known=any(s.job_id == request.job_id for s in self.slots))

    async def HeartbeatFromResourceManager(self, request: pb.Empty, context: Any) -> pb.HeartbeatReply:
        return pb.HeartbeatReply(known=True)

    async def UpdateTaskExecutionState(self, request: pb.TaskExecutionState, context: Any) -> pb.Empty:
        for slot in self.slots:
            if request.execution_id in slot.executions:
                if ExecutionState(request.state).is_terminal:
                    del slot.executions[request.execution_id]
                await self._forward_state(slot, request)
                break
        return pb.Empty()

    async def _forward_state(self, slot: Slot, state: pb.TaskExecutionState) -> None:
        if not slot.job_master_address:
            return
        try:
            await call("UpdateTaskExecutionState", self.channels.job_master(slot.job_master_address)
                       .UpdateTaskExecutionState(state, timeout=self.ask_timeout_s))
        except RpcError as exc:
            log.warning("could not report %s of %s: %s", state.state, state.execution_id, exc)

    def _slot_of_execution(self, execution_id: str) -> Optional[Slot]:
        return next((s for s in self.slots if execution_id in s.executions), None)

    async def TriggerCheckpoint(self, request: pb.TriggerCheckpointRequest, context: Any) -> pb.Empty:
        slot = self._slot_of_execution(request.execution_id)
        if slot is not None and slot.job_master_id != request.job_master_id:
            await reject_fenced(context, f"checkpoint {request.checkpoint_id} triggered by a stale JobMaster session")
        if slot is not None and slot.worker is not None:
            await call("TriggerCheckpoint", self.channels.slot_worker(slot.worker.control_address)
                       .TriggerCheckpoint(request, timeout=self.ask_timeout_s))
        return pb.Empty()

    async def NotifyCheckpoint(self, request: pb.CheckpointNotification, context: Any) -> pb.Empty:
        slot = self._slot_of_execution(request.execution_id)
        if slot is not None and slot.job_master_id != request.job_master_id:  # no commit for a stale JobMaster
            await reject_fenced(context, f"checkpoint {request.checkpoint_id} notification from a stale JobMaster "
                                         "session")
        if slot is not None and slot.worker is not None:
            await call("NotifyCheckpoint", self.channels.slot_worker(slot.worker.control_address)
                       .NotifyCheckpoint(request, timeout=self.ask_timeout_s))
        return pb.Empty()

    async def AcknowledgeCheckpoint(self, request: pb.CheckpointAck, context: Any) -> pb.Empty:
        slot = self._slot_of_execution(request.execution_id)
        if slot is not None and slot.job_master_address:
            try:
                await call("AcknowledgeCheckpoint", self.channels.job_master(slot.job_master_address)
                           .AcknowledgeCheckpoint(request, timeout=self.ask_timeout_s))
            except RpcError as exc:
                log.warning("checkpoint %d acknowledgement not delivered: %s", request.checkpoint_id, exc)
        return pb.Empty()

    async def DeclineCheckpoint(self, request: pb.CheckpointDecline, context: Any) -> pb.Empty:
        slot = self._slot_of_execution(request.execution_id)
        if slot is not None and slot.job_master_address:
            try:
                await call("DeclineCheckpoint", self.channels.job_master(slot.job_master_address)
                           .DeclineCheckpoint(request, timeout=self.ask_timeout_s))
            except RpcError as exc:
                log.warning("checkpoint %d decline not delivered: %s", request.checkpoint_id, exc)
        return pb.Empty()

    async def ReportTaskMetrics(self, request: pb.TaskMetricsReport, context: Any) -> pb.Empty:
        slot = next((s for s in self.slots if s.job_id == request.job_id), None)
        if slot is not None and slot.job_master_address:
            try:
                await call("ReportTaskMetrics", self.channels.job_master(slot.job_master_address)
                           .ReportTaskMetrics(request, timeout=self.ask_timeout_s))
            except RpcError as exc:
                log.debug("metrics not delivered: %s", exc)
        return pb.Empty()
