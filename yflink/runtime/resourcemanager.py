"""The ResourceManager and its SlotManager: which TaskManager slot serves which slot request.

TaskExecutors register their slots and heartbeat; JobMasters request slots by allocation id. A request is
served by the first free slot (TaskManagers in registration order, as Flink's default
``cluster.evenly-spread-out-slots: false``); the owning TaskExecutor then offers the slot to the JobMaster.
Requests that find no free slot wait until one is freed or a TaskManager registers. A TaskExecutor silent
for ``heartbeat.timeout`` is unregistered and the JobMasters using it are told.
Source: Flink ``ResourceManager``, ``FineGrainedSlotManager`` / ``DeclarativeSlotManager``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Optional

from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.common.errors import RpcError
from yflink.common.ids import ResourceManagerId
from yflink.rpc.protos import gateways_pb2 as pb
from yflink.rpc.protos import gateways_pb2_grpc as pb_grpc
from yflink.rpc.service import Channels, call
from yflink.runtime.gateways import TaskManagerInfo

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 2.0  # the liveness probe of a TaskManager's endpoint (about once a second)
#: For this long after a TaskManager was lost, slot requests that find no free slot start TaskManagers without
#: the driver's delay (s): the lost slots are gone, not about to be freed by a restarting job.
LOST_TASKMANAGER_WINDOW_S = 60.0


@dataclass
class SlotRequest:
    job_id: str
    allocation_id: str
    job_master_address: str
    job_master_id: str


@dataclass
class TaskExecutorRecord:
    resource_id: str
    address: str
    hostname: str
    pid: int
    slots: list[Optional[SlotRequest]]
    last_heartbeat: float = field(default_factory=time.monotonic)
    last_heartbeat_ms: int = field(default_factory=lambda: int(time.time() * 1000))


class ResourceManager(pb_grpc.ResourceManagerGatewayServicer):
    """Slot bookkeeping for the cluster.

    Args:
        config: ``heartbeat.timeout``, ``rpc.ask-timeout``.
        on_task_manager_lost: awaited with (resource id, cause) when a TaskManager is unregistered.
    """

    def __init__(self, config: Configuration,
                 on_task_manager_lost: Callable[[str, str], Awaitable[None]]) -> None:
        self.id = ResourceManagerId.generate().hex
        self.config = config
        self.channels = Channels()
        self.task_executors: OrderedDict[str, TaskExecutorRecord] = OrderedDict()
        self.pending: OrderedDict[str, SlotRequest] = OrderedDict()
        self.on_task_manager_lost = on_task_manager_lost
        self.ask_timeout_s = config.get(opts.RPC_ASK_TIMEOUT) / 1000.0
        self.heartbeat_timeout_s = config.get(opts.HEARTBEAT_TIMEOUT) / 1000.0
        self._lock = asyncio.Lock()
        self._monitor: Optional[asyncio.Task[None]] = None
        #: Starts TaskManagers when slots are missing (the local driver), or None (wait for TaskManagers).
        self.driver: Any = None
        self.driver_delay_s = config.get(opts.LOCAL_TMS_DELAY) / 1000.0
        self._grow_task: Optional[asyncio.Task[None]] = None
        self._lost_at: Optional[float] = None  # time.monotonic() when a TaskManager was last lost
        self._wake_grow = asyncio.Event()  # ends the driver's delay early: a TaskManager was lost

    def start(self) -> None:
        self._monitor = asyncio.get_running_loop().create_task(self._monitor_heartbeats())

    async def stop(self) -> None:
        if self._monitor is not None:
            self._monitor.cancel()
        if self._grow_task is not None:
            self._grow_task.cancel()
        if self.driver is not None:
            await asyncio.to_thread(self.driver.stop)
        await self.channels.close()

    # --- queries -------------------------------------------------------------------------------------
    def free_slot_count(self) -> tuple[int, int]:
        total = sum(len(te.slots) for te in self.task_executors.values())
        free = sum(1 for te in self.task_executors.values() for s in te.slots if s is None)
        return free, total

    def task_manager_infos(self) -> list[TaskManagerInfo]:
        return [TaskManagerInfo(resource_id=te.resource_id, address=te.address, hostname=te.hostname, pid=te.pid,
                                slots_total=len(te.slots), slots_free=sum(1 for s in te.slots if s is None),
                                last_heartbeat_ms=te.last_heartbeat_ms) for te in self.task_executors.values()]

    # --- ResourceManagerGateway (remote) -----------------------------------------------------------------
    async def RegisterTaskExecutor(self, request: pb.RegisterTaskExecutorRequest,
                                   context: Any) -> pb.RegisterTaskExecutorResponse:
        if request.num_slots < 1:
            return pb.RegisterTaskExecutorResponse(accepted=False, reason="a TaskManager needs at least one slot")
        old = self.task_executors.pop(request.resource_id, None)
        if old is not None:
            await self._lost(old, "it registered again")
        self.task_executors[request.resource_id] = TaskExecutorRecord(
            resource_id=request.resource_id, address=request.address, hostname=request.hostname, pid=request.pid,
            slots=[None] * request.num_slots)
        log.info("TaskManager %s at %s registered %d slots", request.resource_id, request.address, request.num_slots)
        asyncio.get_running_loop().create_task(self._serve_pending())
        return pb.RegisterTaskExecutorResponse(accepted=True, resource_manager_id=self.id)

    async def HeartbeatFromTaskManager(self, request: pb.TaskExecutorHeartbeat, context: Any) -> pb.HeartbeatReply:
        te = self.task_executors.get(request.resource_id)
        if te is None:
            return pb.HeartbeatReply(known=False)
        te.last_heartbeat = time.monotonic()
        te.last_heartbeat_ms = int(time.time() * 1000)
        return pb.HeartbeatReply(known=True)

    async def RequestSlot(self, request: pb.RequestSlotRequest, context: Any) -> pb.RequestSlotReply:
        await self.request_slot(request.job_id, request.allocation_id, request.job_master_address,
                                request.job_master_id)
        return pb.RequestSlotReply(pending=request.allocation_id in self.pending)

    async def CancelSlotRequest(self, request: pb.CancelSlot, context: Any) -> pb.Empty:
        await self.cancel_slot_request(request.allocation_id)
        return pb.Empty()

    async def NotifySlotAvailable(self, request: pb.SlotAvailable, context: Any) -> pb.Empty:
        te = self.task_executors.get(request.resource_id)
        if te is not None and request.slot_index < len(te.slots):
            current = te.slots[request.slot_index]
            if current is None or current.allocation_id == request.allocation_id:
                te.slots[request.slot_index] = None
        await self._serve_pending()
        return pb.Empty()

    async def DisconnectTaskManager(self, request: pb.DisconnectRequest, context: Any) -> pb.Empty:
        te = self.task_executors.pop(request.id, None)
        if te is not None:
            await self._lost(te, request.cause or "it disconnected")
        return pb.Empty()

    # --- ResourceManagerGateway (in-process, for JobMasters) -------------------------------------------------
    async def request_slot(self, job_id: str, allocation_id: str, job_master_address: str,
                           job_master_id: str) -> None:
        self.pending[allocation_id] = SlotRequest(job_id, allocation_id, job_master_address, job_master_id)
        await self._serve_pending()

    async def cancel_slot_request(self, allocation_id: str) -> None:
        self.pending.pop(allocation_id, None)

    def release_job_slots(self, job_id: str) -> None:
        """Forget pending requests of a job that ended."""
        for alloc in [a for a, r in self.pending.items() if r.job_id == job_id]:
            del self.pending[alloc]

    async def resources_changed(self) -> None:
        """The driver's view changed (a container failed or was replaced): serve waiting slot requests, and
        start TaskManagers again for those that still wait."""
        await self._serve_pending()

    async def _serve_pending(self) -> None:
        async with self._lock:
            for allocation_id in list(self.pending):
                request = self.pending.get(allocation_id)
                if request is None:
                    continue
                placed = await self._place(request)
                if not placed:
                    break  # no free slot anywhere; wait for one (or for a TaskManager the driver starts)
        if self.pending and self.driver is not None and self._grow_task is None:
            self._grow_task = asyncio.get_running_loop().create_task(self._grow())

    async def _grow(self) -> None:
        """Slot requests still wait after the driver's delay: start TaskManagers for the missing slots.

        The delay (``resourcemanager.local-taskmanagers.delay``) lets slots that a restarting job is freeing come
        back first. The first round within LOST_TASKMANAGER_WINDOW_S of a lost TaskManager has no delay (and a
        loss ends one that runs): its slots will not come back, as Flink's active ResourceManagers request new
        workers at once. Later rounds wait again, so TaskManagers that are slow to register are not started twice.
        """
        try:
            lost_recently = self._lost_at is not None and time.monotonic() - self._lost_at < LOST_TASKMANAGER_WINDOW_S
            if not lost_recently:
                self._wake_grow.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake_grow.wait(), self.driver_delay_s)
            self._lost_at = None  # this round answers every loss so far
            driver = self.driver
            assert driver is not None
            free = sum(1 for te in self.task_executors.values() for s in te.slots if s is None)
            # Requests being placed right now hold a slot while still pending; slots of TaskManagers the driver
            # already asked for (YARN containers not registered yet) are coming.
            placing = sum(1 for te in self.task_executors.values() for s in te.slots
                          if s is not None and s.allocation_id in self.pending)
            missing = len(self.pending) - free - placing - getattr(driver, "pending_slots", 0)
            needed = -(-missing // driver.slots_per_taskmanager) if missing > 0 else 0
            for _ in range(needed):
                if not driver.can_start():
                    limit = getattr(driver, "limit", "resourcemanager.local-taskmanagers.max")
                    log.warning("%d slot requests wait, and no more TaskManagers may be started (%s)",
                                len(self.pending), limit)
                    break
                try:
                    await driver.start_task_manager()
                except Exception as exc:  # noqa: BLE001 - a TaskManager that cannot start is logged; retried later
                    log.error("could not start a TaskManager for missing slots: %s", exc)
                    break
        finally:
            self._grow_task = None
        if self.pending:
            await self._serve_pending()

    async def _place(self, request: SlotRequest) -> bool:
        for te in list(self.task_executors.values()):
            for index, occupant in enumerate(te.slots):
                if occupant is not None:
                    continue
                te.slots[index] = request
                try:
                    reply = await call("RequestSlot", self.channels.task_executor(te.address).RequestSlot(
                        pb.TaskExecutorSlotRequest(resource_manager_id=self.id, slot_index=index,
                                                   allocation_id=request.allocation_id, job_id=request.job_id,
                                                   job_master_address=request.job_master_address,
                                                   job_master_id=request.job_master_id),
                        timeout=self.ask_timeout_s))
                    accepted = reply.accepted
                    if not accepted:
                        log.info("TaskManager %s refused slot %d: %s", te.resource_id, index, reply.reason)
                except RpcError as exc:
                    log.warning("slot request to TaskManager %s failed: %s", te.resource_id, exc)
                    accepted = False
                    if "UNAVAILABLE" in str(exc):  # the process is gone: do not wait for the heartbeat timeout
                        te.slots[index] = None
                        if self.task_executors.pop(te.resource_id, None) is not None:
                            await self._lost(te, f"TaskManager {te.resource_id} at {te.address} is unreachable: "
                                                 f"{exc}")
                        break
                if accepted:
                    self.pending.pop(request.allocation_id, None)
                    return True
                if te.slots[index] is request:
                    te.slots[index] = None
        return False

    # --- liveness ----------------------------------------------------------------------------------------------
    async def _monitor_heartbeats(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.heartbeat_timeout_s / 4))
            now = time.monotonic()
            for te in list(self.task_executors.values()):
                if now - te.last_heartbeat > self.heartbeat_timeout_s:
                    self.task_executors.pop(te.resource_id, None)
                    await self._lost(te, f"The heartbeat of TaskManager with id {te.resource_id} at {te.address} "
                                         f"(pid {te.pid}) timed out after {self.heartbeat_timeout_s * 1000:.0f} ms.")
                elif not await self._reachable(te):
                    self.task_executors.pop(te.resource_id, None)
                    await self._lost(te, f"TaskManager with id {te.resource_id} at {te.address} (pid {te.pid}) "
                                         "refuses connections: its process is gone.")

    async def _reachable(self, te: TaskExecutorRecord) -> bool:
        """False only when the TaskManager's endpoint refuses connections (the process died: Flink learns this
        from its RPC system's death watch); a slow answer is left to the heartbeat timeout."""
        try:
            await call("HeartbeatFromResourceManager", self.channels.task_executor(te.address)
                       .HeartbeatFromResourceManager(pb.Empty(), timeout=PROBE_TIMEOUT_S))
        except RpcError as exc:
            return "UNAVAILABLE" not in str(exc)
        return True

    async def _lost(self, te: TaskExecutorRecord, cause: str) -> None:
        log.warning("TaskManager %s unregistered: %s", te.resource_id, cause)
        self._lost_at = time.monotonic()
        self._wake_grow.set()
        await self.on_task_manager_lost(te.resource_id, cause)
