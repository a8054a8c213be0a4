"""The embedded local cluster: a real JobManager and TaskManager processes on loopback, started for the
program that runs ``env.execute()`` (``python job.py`` or ``yflink run job.py`` with no cluster configured).

Same code paths as a standalone cluster; only who starts the processes differs. The cluster is sized for
the job (``minicluster.number-of-taskmanagers`` TaskManagers with enough slots for the job's parallelism),
reused by later jobs of the same program, and stopped when the program exits — also on Ctrl-C and on
failure; the processes also die with the program if it is killed (``PR_SET_PDEATHSIG``).
Source: PyFlink's local execution (a MiniCluster per program), Flink ``MiniCluster``.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Optional

from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.deploy.process import ClusterProcess, spawn
from yflink.graph.executor import JobClient
from yflink.graph.job_graph import create_job_graph
from yflink.graph.stream_graph import StreamGraph

log = logging.getLogger(__name__)


class EmbeddedCluster:
    """A JobManager and ``num_taskmanagers`` TaskManagers as child processes.

    Args:
        config: the program's configuration; ports are forced to 0 (any free port).
        num_taskmanagers: TaskManager processes to start.
        slots_per_taskmanager: ``taskmanager.numberOfTaskSlots`` for each.
    """

    def __init__(self, config: Configuration, num_taskmanagers: int, slots_per_taskmanager: int) -> None:
        self.config = Configuration(config)
        self.config.set(opts.REST_PORT, 0)
        self.config.set(opts.JM_RPC_PORT, 0)
        self.config.set(opts.TM_SLOTS, slots_per_taskmanager)
        self.config.remove_config(opts.EXECUTION_TARGET.key)
        self.num_taskmanagers = num_taskmanagers
        self.slots_per_taskmanager = slots_per_taskmanager
        self.run_dir = Path(tempfile.mkdtemp(prefix="yflink-local-"))
        self.jobmanager: Optional[ClusterProcess] = None
        self.taskmanagers: list[ClusterProcess] = []

    @property
    def total_slots(self) -> int:
        return self.num_taskmanagers * self.slots_per_taskmanager

    @property
    def rest_address(self) -> str:
        assert self.jobmanager is not None
        return str(self.jobmanager.ready["rest_address"])

    def start(self) -> EmbeddedCluster:
        """Start the processes; raises ClusterError (with the failing process's log) when one cannot start."""
        try:
            self.jobmanager = spawn("jobmanager", self.config, self.run_dir, "jobmanager", [],
                                    die_with_parent=True, detached=False)
            rpc = str(self.jobmanager.ready["rpc_address"])
            for i in range(self.num_taskmanagers):
                self.taskmanagers.append(spawn("taskmanager", self.config, self.run_dir, f"taskmanager-{i}",
                                               ["--jobmanager", rpc], die_with_parent=True, detached=False))
        except BaseException:
            self.stop()
            raise
        # DEBUG, not INFO: PyFlink programs often log INFO to stdout, and must print what PyFlink prints.
        log.debug("Embedded cluster up: REST at %s, %d TaskManagers x %d slots", self.rest_address,
                 self.num_taskmanagers, self.slots_per_taskmanager)
        return self

    def stop(self) -> None:
        """Stop TaskManagers, then the JobManager; remove the run directory unless YFLINK_KEEP_LOGS is set."""
        for tm in self.taskmanagers:
            tm.stop()
        if self.jobmanager is not None:
            self.jobmanager.stop()
        self.taskmanagers = []
        self.jobmanager = None
        if not os.environ.get("YFLINK_KEEP_LOGS"):
            shutil.rmtree(self.run_dir, ignore_errors=True)


_lock = threading.Lock()
_cluster: Optional[EmbeddedCluster] = None


def embedded_cluster(config: Configuration, slots_needed: int) -> EmbeddedCluster:
    """The program's embedded cluster with at least ``slots_needed`` slots, started (or restarted) as needed."""
    global _cluster
    with _lock:
        if _cluster is not None and _cluster.total_slots < slots_needed:
            _cluster.stop()
            _cluster = None
        if _cluster is None:
            num_tms = max(1, config.get(opts.MINICLUSTER_TMS))
            per_tm = -(-slots_needed // num_tms)
            if config.contains_key(opts.TM_SLOTS.key):
                per_tm = max(per_tm, config.get(opts.TM_SLOTS))
            _cluster = EmbeddedCluster(config, num_tms, max(1, per_tm)).start()
        return _cluster


def shutdown_embedded_cluster() -> None:
    """Stop the program's embedded cluster, if one runs. Safe to call more than once."""
    global _cluster
    with _lock:
        if _cluster is not None:
            _cluster.stop()
            _cluster = None


atexit.register(shutdown_embedded_cluster)


class LocalExecutor:
    """``execution.target: local``: run the job on the embedded cluster."""

    def execute(self, stream_graph: StreamGraph, config: Configuration) -> JobClient:
        from yflink.deploy.remote import RestJobClient
        from yflink.rest.client import RestClusterClient

        job_graph = create_job_graph(stream_graph)
        cluster = embedded_cluster(config, job_graph.slots_needed())
        client = RestClusterClient(cluster.rest_address)
        job_id = client.submit_job(job_graph)
        return RestJobClient(client, job_id, config)
