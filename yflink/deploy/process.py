"""Starting and stopping JobManager and TaskManager processes on this host.

Every process is ``python -m yflink.runtime.entrypoints <role> ...``, so ``ps`` tells a ``jobmanager``, a
``taskmanager`` and a ``slot-worker`` apart. A process writes a *ready file* (JSON: its addresses) once it
serves; the starter waits for that file with a deadline and, if the process exits first, raises with the
tail of its log so the user sees why (a busy port, a bad configuration value).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

from yflink.common.configuration import Configuration
from yflink.common.errors import ClusterError, PortInUseError

STARTUP_TIMEOUT_S = 60.0  # a JobManager or TaskManager not ready by then is reported as failed to start


@dataclass
class ClusterProcess:
    """A started JobManager or TaskManager.

    Attributes:
        role: "jobmanager" or "taskmanager".
        popen: the child (None when adopted from a pid file).
        pid: its process id.
        ready: what the process wrote in its ready file (``rest_address``, ``rpc_address``, ``resource_id``...).
        log_file: where its log goes.
    """

    role: str
    pid: int
    ready: dict[str, Any]
    log_file: Path
    popen: Optional[subprocess.Popen[bytes]] = field(default=None, repr=False)

    def alive(self) -> bool:
        if self.popen is not None:
            return self.popen.poll() is None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout_s``; waits for the exit."""
        if not self.alive():
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive():
                break
            if self.popen is not None:
                try:
                    self.popen.wait(timeout=0.05)
                except subprocess.TimeoutExpired:
                    pass
            else:
                time.sleep(0.05)
        if self.alive():
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if self.popen is not None:
                self.popen.wait()


def write_config(config: Configuration, directory: Path) -> Path:
    """Write ``config`` as ``<directory>/config.yaml`` (flat keys); returns the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.yaml").write_text(yaml.safe_dump(config.raw(), default_flow_style=False))
    return directory


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def spawn(role: str, config: Configuration, run_dir: Path, name: str, extra_args: list[str],
          die_with_parent: bool, detached: bool, inherit_stdout: bool = True,
          timeout_s: float = STARTUP_TIMEOUT_S, log_dir: Path | None = None) -> ClusterProcess:
    """Start ``python -m yflink.runtime.entrypoints <role>`` and wait for its ready file.

    Args:
        role: "jobmanager" or "taskmanager".
        config: the cluster's configuration (written to ``run_dir/conf``).
        run_dir: directory for the config, ready files and logs.
        name: file-name stem for this process's log and ready file (e.g. "taskmanager-0").
        extra_args: more command-line arguments for the entrypoint.
        die_with_parent: the child exits when this process dies (embedded clusters).
        detached: start a new session, so the child outlives this process (standalone clusters).
        inherit_stdout: the child's stdout (where ``print()`` sinks write) is ours; else ``<name>.out``.
        log_dir: where ``<name>.log`` and ``<name>.out`` go (default ``run_dir/log``).

    Raises:
        PortInUseError: the process reported a port already in use.
        ClusterError: the process exited or did not become ready within ``timeout_s`` seconds.
    """
    conf_dir = write_config(config, run_dir / "conf")
    log_dir = log_dir or run_dir / "log"
    log_file = log_dir / f"{name}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    ready_file = run_dir / f"{name}.ready"
    ready_file.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "yflink.runtime.entrypoints", role, "--conf-dir", str(conf_dir),
           "--log-file", str(log_file), "--ready-file", str(ready_file), *extra_args]
    if die_with_parent:
        cmd += ["--parent-pid", str(os.getpid())]
    stdout: Any = None
    if not inherit_stdout:
        stdout = open(log_dir / f"{name}.out", "ab")
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    stderr = subprocess.DEVNULL if detached else None
    popen = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                             start_new_session=True, env=env)
    if stdout is not None:
        stdout.close()
    try:
        return _wait_ready(role, popen, ready_file, log_file, timeout_s)
    except BaseException:
        if popen.poll() is None:  # never leave a half-started process behind (also on Ctrl-C)
            popen.kill()
            popen.wait()
        raise


def _wait_ready(role: str, popen: subprocess.Popen[bytes], ready_file: Path, log_file: Path,
                timeout_s: float) -> ClusterProcess:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ready_file.exists():
            try:
                ready = json.loads(ready_file.read_text())
            except json.JSONDecodeError:
                ready = None
            if ready is not None:
                return ClusterProcess(role, popen.pid, ready, log_file, popen)
        code = popen.poll()
        if code is not None:
            tail = _log_tail(log_file)
            if "PortInUseError" in tail or "address already in use" in tail.lower():
                raise PortInUseError(f"The {role} could not start: a port it needs is in use.\n{tail}")
            raise ClusterError(f"The {role} exited with code {code} while starting; its log ({log_file}):\n{tail}")
        time.sleep(0.02)
    raise ClusterError(
        f"The {role} was not ready after {timeout_s:.0f} s; its log ({log_file}):\n{_log_tail(log_file)}")
