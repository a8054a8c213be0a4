"""The ResourceManager's YARN driver: TaskManager containers on demand, inside the skein application master.

Flink's active resource manager on YARN (``YarnResourceManagerDriver`` behind ``ActiveResourceManager``) asks
YARN for one container per TaskManager when slot requests cannot be served, releases TaskManagers idle for
``resourcemanager.taskmanager-timeout`` and replaces containers that fail. Here the containers belong to the
skein service ``taskmanager`` (declared with 0 instances); each runs :mod:`yflink.deploy.yarn.container`, which
starts ``python -m yflink.runtime.entrypoints taskmanager`` with the YARN container id as its resource id, so the
driver can tell which registered TaskManager lives in which container.

skein restarts a failed container of the service by itself (the service has ``max_restarts: -1``; with 0 a
single failed TaskManager would end the whole application). The driver counts failed containers and, after
``yarn.maximum-failed-containers``, kills what is still requested, requests no more and fails the jobs that
wait for slots with that cause.

Same interface as :class:`yflink.runtime.local_driver.LocalTaskManagerDriver` (``slots_per_taskmanager``,
``can_start``, ``start_task_manager``, ``stop``) plus ``pending_slots`` (slots of containers requested but not
registered yet, so requests never exceed what waiting slot requests need) and ``start`` (the monitor).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Optional

from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.deploy.yarn import options as yopts
from yflink.rpc.protos import gateways_pb2 as pb

log = logging.getLogger(__name__)

SERVICE = "taskmanager"
MONITOR_INTERVAL_S = 1.0  # how often container states are read from the skein application master
ACTIVE_STATES = ("WAITING", "REQUESTED", "RUNNING")
ALL_STATES = ("WAITING", "REQUESTED", "RUNNING", "SUCCEEDED", "FAILED", "KILLED")


@dataclass
class ContainerView:
    """What the driver knows of one container of the ``taskmanager`` service.

    Attributes:
        skein_id: skein's id (``taskmanager_<n>``), for ``kill_container``.
        state: skein's ContainerState name.
        yarn_id: the YARN container id (the TaskManager's resource id) once RUNNING, else "".
        exit_message: YARN's diagnostics of a finished container.
    """

    skein_id: str
    state: str
    yarn_id: str = ""
    exit_message: str = ""


class YarnTaskManagerDriver:
    """Requests, releases and replaces TaskManager containers for the ResourceManager.

    Args:
        config: ``taskmanager.numberOfTaskSlots``, ``resourcemanager.taskmanager-timeout``,
            ``yarn.maximum-failed-containers``.
        dispatcher: the JobManager's Dispatcher (its ``resource_manager`` and ``job_masters``).
        app_client: a skein ``ApplicationClient``; default ``ApplicationClient.from_current()`` (inside the
            application master).
    """

    def __init__(self, config: Configuration, dispatcher: Any, app_client: Any = None) -> None:
        if app_client is None:
            import skein

            app_client = skein.ApplicationClient.from_current()
        self.app = app_client
        self.config = config
        self.dispatcher = dispatcher
        self.rm = dispatcher.resource_manager
        self.idle_timeout_s = config.get(yopts.TASKMANAGER_TIMEOUT) / 1000.0
        self.max_failed = config.get(yopts.MAX_FAILED_CONTAINERS)
        self.containers: dict[str, ContainerView] = {}
        self.released: set[str] = set()  # skein ids the driver killed itself
        self.failures: list[str] = []  # one line per failed container
        self.exhausted: Optional[str] = None  # the cause, once no more containers are requested
        self.idle_since: dict[str, float] = {}  # resource id -> monotonic s since when no slot is in use
        self._monitor: Optional[asyncio.Task[None]] = None

    # --- the ResourceManager's driver interface -----------------------------------------------------------
    @property
    def slots_per_taskmanager(self) -> int:
        return max(1, self.config.get(opts.TM_SLOTS))

    @property
    def pending_slots(self) -> int:
        """Slots of containers requested or starting whose TaskManager has not registered yet."""
        registered = set(self.rm.task_executors)
        starting = sum(1 for c in self.containers.values()
                       if c.state in ACTIVE_STATES and c.yarn_id not in registered)
        return starting * self.slots_per_taskmanager

    def can_start(self) -> bool:
        return self.exhausted is None

    @property
    def limit(self) -> str:
        """Why no more TaskManagers may be started (for the ResourceManager's warning)."""
        return self.exhausted or f"yarn.maximum-failed-containers ({self.max_failed})"

    async def start_task_manager(self) -> None:
        """Request one TaskManager container and return (the TaskManager registers itself once it runs).

        A container skein requested by itself to replace a failed one, and the driver has not counted yet, is
        taken instead of a new request (the ResourceManager may ask before the driver's next look)."""
        for c in await asyncio.to_thread(self.app.get_containers, [SERVICE], list(ACTIVE_STATES)):
            if c.id not in self.containers:
                self.containers[c.id] = ContainerView(c.id, str(c.state), c.yarn_container_id or "")
                log.info("TaskManager container %s (skein's replacement of a failed one) serves %d waiting slot "
                         "requests", c.id, len(self.rm.pending))
                return
        container = await asyncio.to_thread(self.app.add_container, SERVICE)
        self.containers[container.id] = ContainerView(container.id, str(container.state),
                                                      container.yarn_container_id or "")
        log.info("Requested TaskManager container %s (%d slot requests wait)", container.id, len(self.rm.pending))

    def start(self) -> None:
        """Start watching the containers (call on the JobManager's loop)."""
        self._monitor = asyncio.get_running_loop().create_task(self._watch())

    def stop(self) -> None:
        """Kill every TaskManager container still running (the application is ending). Called from a worker
        thread (the ResourceManager runs it with ``asyncio.to_thread``)."""
        if self._monitor is not None:
            monitor = self._monitor
            try:
                monitor.get_loop().call_soon_threadsafe(monitor.cancel)
            except RuntimeError:  # the loop is closed already
                pass
        for c in list(self.containers.values()):
            if c.state in ACTIVE_STATES:
                self._kill(c.skein_id)

    # --- monitoring --------------------------------------------------------------------------------------------
    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(MONITOR_INTERVAL_S)
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the application master may be busy; try again
                log.warning("could not read the TaskManager containers: %s", exc)

    async def check(self) -> None:
        """One round: read container states, count failures, replace, release idle TaskManagers."""
        listed = await asyncio.to_thread(self.app.get_containers, [SERVICE], list(ALL_STATES))
        changed = False
        failed = []
        for c in listed:  # every view first, so skein's replacements count before a failure is reported
            view = self.containers.get(c.id)
            state = str(c.state)
            if view is None:
                view = self.containers[c.id] = ContainerView(c.id, state)  # a restart skein requested itself
                changed = True
            if view.state != state and state == "FAILED" and c.id not in self.released:
                failed.append((c.id, c.yarn_container_id or view.yarn_id, c.exit_message or ""))
                changed = True
            view.state = state
            view.yarn_id = c.yarn_container_id or view.yarn_id
            view.exit_message = c.exit_message or ""
        for skein_id, yarn_id, message in failed:
            await self._failed(skein_id, yarn_id, message)
        if self.exhausted is not None:
            await self._fail_waiting_jobs()
        elif changed and self.rm.pending:
            await self.rm.resources_changed()
        await self._release_idle()

    async def _failed(self, skein_id: str, yarn_id: str, message: str) -> None:
        line = f"TaskManager container {yarn_id or skein_id} failed: {message.strip() or 'no diagnostics'}"
        self.failures.append(line)
        log.warning("%s (%d of yarn.maximum-failed-containers %d)", line, len(self.failures), self.max_failed)
        if yarn_id in self.rm.task_executors:  # tell the JobMasters now, with YARN's reason
            await self.rm.DisconnectTaskManager(pb.DisconnectRequest(id=yarn_id, cause=line), None)
        if len(self.failures) > self.max_failed and self.exhausted is None:
            self.exhausted = (
                f"NoResourceAvailableException: {len(self.failures)} TaskManager containers failed, more than "
                f"yarn.maximum-failed-containers ({self.max_failed}); no more containers are requested. "
                f"Last failure: {line}")
            log.error("%s", self.exhausted)
            for c in list(self.containers.values()):
                if c.state in ("WAITING", "REQUESTED"):
                    await asyncio.to_thread(self._kill, c.skein_id)

    async def _fail_waiting_jobs(self) -> None:
        assert self.exhausted is not None
        for job_id in {r.job_id for r in list(self.rm.pending.values())}:
            jm = self.dispatcher.job_masters.get(job_id)
            if jm is not None and not jm.graph.status.is_globally_terminal:
                log.error("Failing job %s: its slot requests cannot be served", job_id)
                self.rm.release_job_slots(job_id)
                await jm.fail(self.exhausted)

    async def _release_idle(self) -> None:
        now = time.monotonic()
        by_yarn_id = {c.yarn_id: c for c in self.containers.values() if c.state == "RUNNING" and c.yarn_id}
        for resource_id, te in list(self.rm.task_executors.items()):
            container = by_yarn_id.get(resource_id)
            if container is None or any(s is not None for s in te.slots) or self.rm.pending:
                self.idle_since.pop(resource_id, None)
                continue
            since = self.idle_since.setdefault(resource_id, now)
            if now - since < self.idle_timeout_s:
                continue
            self.idle_since.pop(resource_id, None)
            cause = (f"TaskManager {resource_id} was idle for more than resourcemanager.taskmanager-timeout "
                     f"({self.idle_timeout_s * 1000:.0f} ms): its container is released")
            log.info("%s", cause)
            await asyncio.to_thread(self._kill, container.skein_id)
            container.state = "KILLED"
            await self.rm.DisconnectTaskManager(pb.DisconnectRequest(id=resource_id, cause=cause), None)

    def _kill(self, skein_id: str) -> None:
        self.released.add(skein_id)
        try:
            self.app.kill_container(skein_id)
        except Exception as exc:  # noqa: BLE001 - already gone, or the application is ending
            log.info("could not kill container %s: %s", skein_id, exc)
