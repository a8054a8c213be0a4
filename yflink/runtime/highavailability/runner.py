"""A JobManager process under ZooKeeper HA: contends for leadership and serves only while it leads.

Flink's "JobManager High Availability": every JobManager contends; the leader runs the Dispatcher, the
ResourceManager and the JobMasters and publishes its addresses with its leader session id; standbys serve nothing
until they are granted leadership. A granted leader recovers every job of the JobGraphStore (each from the newest
checkpoint of its HA store). A revoked leader (session expired, connection suspended, or stopped) suspends its
JobMasters and closes its endpoints at once; the jobs stay in ZooKeeper for the next leader.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Optional

from yflink.common.configuration import Configuration
from yflink.common.errors import PortInUseError
from yflink.runtime.highavailability import LeaderInformation, LeadershipLostError, create_ha_services
from yflink.runtime.highavailability.api import HighAvailabilityServices, LeaderElection

__all__ = ["JobManagerLeaderRunner"]

log = logging.getLogger(__name__)
PORT_RETRY_S = 30.0  # a former leader on this host may still hold the configured ports for a moment
RECOVERY_RETRY_S = 2.0  # pause before recovering the jobs again after the HA stores failed, s


class JobManagerLeaderRunner:
    """The :class:`~yflink.runtime.highavailability.api.LeaderContender` of one JobManager process."""

    def __init__(self, config: Configuration) -> None:
        self.config = config
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._events: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self.serving: Any = None  # JobManagerServices while leading
        self.session_id: Optional[str] = None
        self._ready: Callable[[dict[str, Any]], None] = lambda _info: None

    # --- LeaderContender (called from the election's thread) ----------------------------------------------
    def grant_leadership(self, session_id: str) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._events.put_nowait, ("grant", session_id))

    def revoke_leadership(self) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._events.put_nowait, ("revoke", ""))

    # --- the process ---------------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event, ready: Callable[[dict[str, Any]], None]) -> None:
        """Contend until ``stop`` is set; ``ready`` gets this process's ready information once it contends
        (empty addresses), again with its addresses and ``leader_session_id`` once it leads and recovered its jobs,
        and with empty addresses when it steps down (a YARN application master waits for its own JobManager so).

        Raises:
            HighAvailabilityError: ZooKeeper unreachable at start.
        """
        self._loop = asyncio.get_running_loop()
        self._ready = ready
        ha = await asyncio.to_thread(create_ha_services, self.config)
        election = ha.leader_election()
        election.start(self)
        ready({"rpc_address": "", "rest_address": "", "high_availability": True})
        log.info("JobManager contends for leadership (high-availability.type: zookeeper)")
        stopper = asyncio.ensure_future(stop.wait())
        try:
            while True:
                getter = asyncio.ensure_future(self._events.get())
                done, _ = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if stopper in done:
                    getter.cancel()
                    break
                kind, session_id = getter.result()
                if kind == "grant":
                    await self._step_down("a new leader session began")
                    await self._lead(ha, election, session_id)
                else:
                    await self._step_down("leadership revoked")
        finally:
            stopper.cancel()
            log.info("JobManager stopping")
            await self._step_down("the JobManager stops")
            await asyncio.to_thread(ha.close)

    async def _step_down(self, cause: str) -> None:
        serving, self.serving, self.session_id = self.serving, None, None
        if serving is not None:
            log.warning("No longer serving as leader: %s", cause)
            self._ready({"rpc_address": "", "rest_address": "", "high_availability": True})
            await serving.stop(suspend_cause=cause)

    async def _lead(self, ha: HighAvailabilityServices, election: LeaderElection, session_id: str) -> None:
        from yflink.runtime.jobmanager import start_jobmanager_services

        deadline = time.monotonic() + PORT_RETRY_S
        while True:
            if not election.has_leadership(session_id):
                return
            try:
                serving = await start_jobmanager_services(self.config, ha, session_id)
                break
            except PortInUseError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
        self.serving, self.session_id = serving, session_id
        info = LeaderInformation(session_id, serving.rpc_address, serving.rest_address)
        try:
            await asyncio.to_thread(election.confirm_leadership, info)
        except LeadershipLostError as exc:
            await self._step_down(f"leadership lost before it was confirmed: {exc}")
            return
        while True:  # a JobResultStore or JobGraphStore unreachable for a moment must not end the process
            try:
                recovered = await serving.dispatcher.recover_jobs()
                break
            except Exception as exc:  # noqa: BLE001 - retried while this process leads
                if not election.has_leadership(session_id):
                    await self._step_down(f"leadership lost while recovering jobs: {exc}")
                    return
                log.error("Could not recover the jobs of the HA services (%s: %s); retrying in %.0f s",
                          type(exc).__name__, exc, RECOVERY_RETRY_S)
                await asyncio.sleep(RECOVERY_RETRY_S)
        self._ready({"rpc_address": serving.rpc_address, "rest_address": serving.rest_address,
                     "high_availability": True, "leader_session_id": session_id})
        log.info("Leading with session %s (RPC %s, REST %s); recovered jobs: %s", session_id, serving.rpc_address,
                 serving.rest_address, recovered or "none")
