"""Integration fixtures: real JobManager/TaskManager processes on loopback.

Every test that takes ``cluster`` runs twice: on the embedded cluster that ``yflink run`` starts (2 TaskManagers
x 2 slots) and on a standalone session cluster (2 TaskManagers x 2 slots) started once per session with
``yflink cluster start`` and stopped at the end, also when tests fail.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CLUSTER_FLAGS = ["-D", "taskmanager.numberOfTaskSlots=2", "-D", "heartbeat.interval=1000",
                 "-D", "heartbeat.timeout=8000"]
JOB_TIMEOUT_S = 240


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def yflink(*args: str, timeout: float = JOB_TIMEOUT_S, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the yflink CLI (``python -m yflink``) and capture its output."""
    return subprocess.run([sys.executable, "-m", "yflink", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd or ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})


@dataclass
class Cluster:
    """Where ``run`` sends jobs: the embedded cluster, or a standalone one at ``rest_address``."""

    mode: str
    rest_address: str | None = None
    pid_dir: Path | None = None
    extra: list[str] = field(default_factory=list)

    def run(self, script: Path, *args: str, flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
        """Run ``script`` here; ``result.job_output`` is what the job printed (a standalone cluster's print sinks
        write to the TaskManagers' ``.out`` files, as Flink's do; the embedded cluster's to the client's stdout)."""
        target = ["-m", self.rest_address] if self.rest_address else [
            "-D", "minicluster.number-of-taskmanagers=2", *CLUSTER_FLAGS]
        outs = sorted((self.pid_dir / "log").glob("taskmanager-*.out")) if self.pid_dir else []
        offsets = {p: p.stat().st_size for p in outs}
        result = yflink("run", *target, *flags, str(script), *args)
        if self.pid_dir:
            printed = []
            for p in sorted((self.pid_dir / "log").glob("taskmanager-*.out")):
                with p.open() as f:
                    f.seek(offsets.get(p, 0))
                    printed.append(f.read())
            result.job_output = "".join(printed)  # type: ignore[attr-defined]
        else:
            result.job_output = "\n".join(line for line in result.stdout.splitlines()  # type: ignore[attr-defined]
                                          if not line.startswith("Job has been submitted"))
        return result


@pytest.fixture(scope="session")
def standalone_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    base = tmp_path_factory.mktemp("standalone")
    rest_port, rpc_port = free_port(), free_port()
    flags = [*CLUSTER_FLAGS, "-D", f"rest.port={rest_port}", "-D", f"jobmanager.rpc.port={rpc_port}",
             "-D", f"env.pid.dir={base}", "-D", f"env.log.dir={base / 'log'}"]
    started = yflink("cluster", "start", "--taskmanagers", "2", *flags, timeout=120)
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield Cluster("standalone", f"127.0.0.1:{rest_port}", base, flags)
    finally:
        stopped = yflink("cluster", "stop", *flags, timeout=120)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr


@pytest.fixture(params=["embedded", "standalone"])
def cluster(request: pytest.FixtureRequest) -> Cluster:
    if request.param == "embedded":
        return Cluster("embedded")
    return request.getfixturevalue("standalone_cluster")  # type: ignore[no-any-return]


def strip_subtask_prefix(line: str) -> str:
    """``'2> (a,1)'`` -> ``'(a,1)'`` (Flink's print sink prefixes the subtask number when parallelism > 1)."""
    head, sep, rest = line.partition("> ")
    return rest if sep and head.isdigit() else line
