"""A standalone session cluster on this host: detached JobManager and TaskManager processes.

What Flink's ``bin/jobmanager.sh``, ``bin/taskmanager.sh``, ``bin/start-cluster.sh`` and ``bin/stop-cluster.sh``
do, for one host: processes are started detached (they outlive the command that started them), each role's
pids are kept one per line in ``<env.pid.dir>/yflink-<user>-<role>.pid`` (Flink:
``flink-<user>-standalonesession.pid``), and logs go to ``<env.log.dir>`` (default ``<tmp>/yflink-<user>/log``).
``stop`` sends SIGTERM to every recorded process that is still a yflink process of that role (a recycled pid
is left alone), waits, and SIGKILLs what did not exit in time.

The JobManager listens on ``rest.port`` (default 8081) and ``jobmanager.rpc.port`` (6123); TaskManagers
register at ``jobmanager.rpc.address``:``jobmanager.rpc.port``.
"""

from __future__ import annotations

import getpass
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.common.errors import ClusterError
from yflink.deploy.process import ClusterProcess, spawn

ROLES = ("jobmanager", "taskmanager")
LOG_GENERATIONS = 5  # <name>.log.1 .. .5 keep the logs of earlier starts (Flink's rotateLogFilesWithPrefix)
STOP_TIMEOUT_S = 30.0  # SIGTERM grace period before SIGKILL; the JobManager cancels its jobs in that time
ENTRYPOINT_MODULE = "yflink.runtime.entrypoints"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def pid_file(config: Configuration, role: str) -> Path:
    """``<env.pid.dir>/yflink-<user>-<role>.pid``."""
    return Path(config.get(opts.ENV_PID_DIR)) / f"yflink-{_user()}-{role}.pid"


def log_dir(config: Configuration) -> Path:
    """Where the processes' logs go: ``env.log.dir``, default ``<tmp>/yflink-<user>/log``."""
    configured = config.get(opts.ENV_LOG_DIR)
    return Path(configured) if configured else Path(tempfile.gettempdir()) / f"yflink-{_user()}" / "log"


def run_dir(config: Configuration) -> Path:
    """The directory for the processes' written configuration and ready files: ``<env.pid.dir>/yflink-<user>-run``."""
    return Path(config.get(opts.ENV_PID_DIR)) / f"yflink-{_user()}-run"


def rotate_logs(config: Configuration, name: str) -> None:
    """Shift ``<name>.log`` and ``<name>.out`` to ``.1`` (``.1`` to ``.2``, ...), so each start has a fresh log."""
    directory = log_dir(config)
    for suffix in (".log", ".out"):
        current = directory / f"{name}{suffix}"
        if not current.exists():
            continue
        for generation in range(LOG_GENERATIONS - 1, 0, -1):
            older = directory / f"{name}{suffix}.{generation}"
            if older.exists():
                older.replace(directory / f"{name}{suffix}.{generation + 1}")
        current.replace(directory / f"{name}{suffix}.1")


def _is_role_process(pid: int, role: str) -> bool:
    """Whether ``pid`` runs and is a yflink ``role`` process (not a recycled pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc (not Linux): trust the pid file
    args = [a.decode(errors="replace") for a in cmdline]
    return ENTRYPOINT_MODULE in args and role in args


def read_pids(config: Configuration, role: str) -> list[int]:
    """The pids recorded for ``role`` (dead or alive), in start order."""
    path = pid_file(config, role)
    try:
        lines = path.read_text().split()
    except FileNotFoundError:
        return []
    return [int(line) for line in lines if line.strip().isdigit()]


def live_pids(config: Configuration, role: str) -> list[int]:
    """The recorded pids of ``role`` that still are yflink ``role`` processes."""
    return [pid for pid in read_pids(config, role) if _is_role_process(pid, role)]


def _write_pids(config: Configuration, role: str, pids: list[int]) -> None:
    path = pid_file(config, role)
    if not pids:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{pid}\n" for pid in pids))


def _record(config: Configuration, role: str, pid: int) -> None:
    _write_pids(config, role, [*live_pids(config, role), pid])


def start_jobmanager(config: Configuration) -> ClusterProcess:
    """Start a detached JobManager and record its pid; returns once it serves.

    Its ready information holds ``rest_address`` and ``rpc_address`` (``host:port``).

    Raises:
        ClusterError: a JobManager of this user already runs here, or the new one exited while starting
            (PortInUseError, a ClusterError, when ``rest.port`` or ``jobmanager.rpc.port`` is taken).
    """
    from yflink.runtime.highavailability import HaConfiguration

    running = live_pids(config, "jobmanager")
    ha = HaConfiguration.from_configuration(config).enabled
    if running and not ha:  # with ZooKeeper HA more JobManagers stand by for the leader
        raise ClusterError(f"A JobManager is already running (pid {running[0]}, pid file "
                           f"{pid_file(config, 'jobmanager')}); stop it with `yflink jobmanager stop`.")
    # recorded pids, dead ones too: a new standby never takes the log of a live JobManager
    name = f"jobmanager-{len(read_pids(config, 'jobmanager'))}" if ha and running else "jobmanager"
    rotate_logs(config, name)
    proc = spawn("jobmanager", config, run_dir(config), name, [], die_with_parent=False, detached=True,
                 inherit_stdout=False, log_dir=log_dir(config))
    _record(config, "jobmanager", proc.pid)
    return proc


def start_taskmanager(config: Configuration, jobmanager_rpc: Optional[str] = None) -> ClusterProcess:
    """Start a detached TaskManager registering at ``jobmanager_rpc`` (default from the configuration).

    Raises:
        ClusterError: the TaskManager exited or was not ready in time (its log tail is in the message).
    """
    rpc = jobmanager_rpc or f"{config.get(opts.JM_RPC_ADDRESS)}:{config.get(opts.JM_RPC_PORT)}"
    index = len(live_pids(config, "taskmanager"))
    rotate_logs(config, f"taskmanager-{index}")
    proc = spawn("taskmanager", config, run_dir(config), f"taskmanager-{index}", ["--jobmanager", rpc],
                 die_with_parent=False, detached=True, inherit_stdout=False,
                 log_dir=log_dir(config))
    _record(config, "taskmanager", proc.pid)
    return proc


@dataclass
class StandaloneCluster:
    """What :func:`start_cluster` started."""

    jobmanager: ClusterProcess
    taskmanagers: list[ClusterProcess]
    jobmanagers: list[ClusterProcess]
    config: Configuration

    @property
    def rest_address(self) -> str:
        """The (leading) JobManager's REST host:port; with ZooKeeper HA read from ZooKeeper."""
        from yflink.runtime.highavailability import retrieve_rest_address

        return retrieve_rest_address(self.config) or str(self.jobmanager.ready.get("rest_address", ""))


def start_cluster(config: Configuration, num_taskmanagers: int, num_jobmanagers: int = 1) -> StandaloneCluster:
    """``num_jobmanagers`` JobManagers (more than one needs ``high-availability.type: zookeeper``: one leads,
    the others stand by) and ``num_taskmanagers`` TaskManagers. On any failure (or Ctrl-C) what started is
    stopped.

    Raises:
        ClusterError: as :func:`start_jobmanager` and :func:`start_taskmanager`; several JobManagers without HA.
    """
    from yflink.runtime.highavailability import HaConfiguration

    if num_taskmanagers < 0:
        raise ClusterError(f"The number of TaskManagers must be >= 0, got {num_taskmanagers}")
    ha = HaConfiguration.from_configuration(config).enabled
    if num_jobmanagers != 1 and not ha:
        raise ClusterError(f"--jobmanagers {num_jobmanagers} needs high-availability.type: zookeeper (with "
                           "high-availability.zookeeper.quorum and high-availability.storageDir); without HA a "
                           "cluster has exactly one JobManager.")
    jms: list[ClusterProcess] = []
    tms: list[ClusterProcess] = []
    try:
        for _ in range(num_jobmanagers):
            jms.append(start_jobmanager(config))
        rpc = None if ha else (str(jms[0].ready.get("rpc_address") or "") or None)
        for _ in range(num_taskmanagers):
            tms.append(start_taskmanager(config, rpc))
    except BaseException:
        for proc in [*tms, *jms]:
            proc.stop()
        _write_pids(config, "taskmanager", live_pids(config, "taskmanager"))
        _write_pids(config, "jobmanager", live_pids(config, "jobmanager"))
        raise
    return StandaloneCluster(jms[0], tms, jms, config)


def stop_role(config: Configuration, role: str, timeout_s: float = STOP_TIMEOUT_S) -> list[int]:
    """SIGTERM every running ``role`` process recorded in its pid file, wait for each (SIGKILL after
    ``timeout_s``), and remove the pid file. Returns the pids stopped (empty when none ran)."""
    pids = live_pids(config, role)
    for pid in pids:
        ClusterProcess(role, pid, {}, log_dir(config)).stop(timeout_s)
    _write_pids(config, role, [])
    return pids


def stop_cluster(config: Configuration) -> dict[str, list[int]]:
    """Stop the TaskManagers, then the JobManager. Returns the stopped pids per role."""
    return {"taskmanager": stop_role(config, "taskmanager"), "jobmanager": stop_role(config, "jobmanager")}
