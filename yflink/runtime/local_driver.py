"""The local ResourceManager driver: start TaskManager processes on this host when slots are missing.

Flink's active resource managers (YARN, Kubernetes) ask for new TaskManagers when slot requests cannot be
served; the embedded and standalone clusters do the same here with local processes, so a job whose TaskManager
was killed can restart on a fresh one. TaskManagers started here run ``python -m yflink.runtime.entrypoints
taskmanager --parent-pid <JobManager pid>`` and so end with the JobManager.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.common.errors import ClusterError

log = logging.getLogger(__name__)


class LocalTaskManagerDriver:
    """Starts TaskManagers for the ResourceManager.

    Args:
        config: the cluster configuration (``taskmanager.numberOfTaskSlots`` and the local-taskmanagers keys).
        jobmanager_address: host:port of the JobManager's RPC endpoint, for the new TaskManagers.
    """

    def __init__(self, config: Configuration, jobmanager_address: str) -> None:
        self.config = Configuration(config)
        self.config.set(opts.TM_RPC_PORT, "0")
        self.jobmanager_address = jobmanager_address
        self.max = max(0, config.get(opts.LOCAL_TMS_MAX))
        self.started: list[Any] = []  # ClusterProcess of every TaskManager started here that may still live
        self.starting = 0
        self.count = 0  # TaskManagers ever started here: names them (taskmanager-rm-<n>), so no name repeats
        log_file = os.environ.get("YFLINK_LOG_FILE")
        self.run_dir = Path(tempfile.mkdtemp(prefix="yflink-rm-"))
        self.log_dir = Path(log_file).parent if log_file else self.run_dir / "log"

    @property
    def slots_per_taskmanager(self) -> int:
        return max(1, self.config.get(opts.TM_SLOTS))

    def can_start(self) -> bool:
        """True while fewer than ``resourcemanager.local-taskmanagers.max`` TaskManagers started here live or are
        starting; one that died (killed, crashed) no longer counts, as its slots are gone with it."""
        self.started = [proc for proc in self.started if proc.alive()]
        return len(self.started) + self.starting < self.max

    async def start_task_manager(self) -> None:
        """Start one TaskManager and wait until it is ready (it registers itself); raises ClusterError."""
        from yflink.deploy.process import spawn

        self.starting += 1
        self.count += 1
        name = f"taskmanager-rm-{self.count}"
        try:
            proc = await asyncio.to_thread(
                spawn, "taskmanager", self.config, self.run_dir, name, ["--jobmanager", self.jobmanager_address],
                die_with_parent=True, detached=False, inherit_stdout=True, log_dir=self.log_dir)
        finally:
            self.starting -= 1
        self.started.append(proc)
        log.info("Started TaskManager %s (pid %d) for missing slots", name, proc.pid)

    def stop(self) -> None:
        for proc in self.started:
            try:
                proc.stop()
            except (OSError, ClusterError) as exc:
                log.warning("could not stop a TaskManager: %s", exc)
        self.started.clear()
