"""`yflink savepoint`, `yflink stop` and `yflink run -s/-n`: Flink's verbs, flags and lines, against the REST server
over the real Dispatcher with a fake JobMaster (tests/unit/savepoint_support.py)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from yflink.cli.main import cli
from yflink.common.configuration import Configuration
from yflink.graph.executor import get_context_configuration
from yflink.runtime.states import JobStatus
from yflink.testing.fakes import RestServerThread

from .savepoint_support import dispatcher_with_job, not_running_failure

UNKNOWN_JOB = "0" * 32


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_savepoint_prints_flinks_lines() -> None:
    d, jm = dispatcher_with_job()
    with RestServerThread(d) as server:
        result = invoke("savepoint", "-m", server.address, jm.job_id, "hdfs://nn:8020/savepoints")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"Triggering savepoint for job {jm.job_id}.",
        "Waiting for response...",
        f"Savepoint completed. Path: hdfs://nn:8020/savepoints/savepoint-{jm.job_id[:6]}-000000000001",
        "You can resume your program from this savepoint with the run command.",
    ]
    assert jm.calls == [("savepoint", "hdfs://nn:8020/savepoints", "CANONICAL")]
    assert jm.graph.status is JobStatus.RUNNING


def test_savepoint_makes_a_relative_directory_absolute_and_passes_the_format(tmp_path: Path) -> None:
    d, jm = dispatcher_with_job()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with RestServerThread(d) as server:
            result = invoke("savepoint", "-m", server.address, "-type", "NATIVE", jm.job_id, "sp")
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    assert jm.calls == [("savepoint", str(tmp_path / "sp"), "NATIVE")]


def test_savepoint_uses_the_default_directory_of_the_cluster() -> None:
    d, jm = dispatcher_with_job(Configuration().set_string("state.savepoints.dir", "file:///var/sp"))
    with RestServerThread(d) as server:
        result = invoke("savepoint", "-m", server.address, jm.job_id)
    assert result.exit_code == 0, result.output
    assert f"Savepoint completed. Path: file:///var/sp/savepoint-{jm.job_id[:6]}-" in result.output


def test_savepoint_errors_are_messages_with_exit_codes() -> None:
    d, jm = dispatcher_with_job()
    with RestServerThread(d) as server:
        no_dir = invoke("savepoint", "-m", server.address, jm.job_id)
        assert no_dir.exit_code == 1
        assert "state.savepoints.dir" in no_dir.output and "Traceback" not in no_dir.output

        unknown = invoke("savepoint", "-m", server.address, UNKNOWN_JOB, "/sp")
        assert unknown.exit_code == 1
        assert f"yflink savepoint: Job {UNKNOWN_JOB} not found on the JobManager at {server.address}." in unknown.output

        bad_id = invoke("savepoint", "-m", server.address, "not-a-job", "/sp")
        assert bad_id.exit_code == 2 and "'not-a-job' is not a job id" in bad_id.output
        assert invoke("savepoint", "-m", server.address).exit_code == 2

        jm.failure = not_running_failure()
        failed = invoke("savepoint", "-m", server.address, jm.job_id, "/sp")
        assert failed.exit_code == 1
        assert (f"yflink savepoint: Savepoint of job {jm.job_id} failed: yflink.checkpoint.errors.CheckpointError: "
                "Not all required tasks are currently running.") in failed.output

    port = free_port()
    unreachable = invoke("savepoint", "-m", f"127.0.0.1:{port}", jm.job_id, "/sp")
    assert unreachable.exit_code == 1 and f"No JobManager at 127.0.0.1:{port}" in unreachable.output


def test_savepoint_dispose(tmp_path: Path) -> None:
    d, _ = dispatcher_with_job()
    savepoint = tmp_path / "savepoint-abcdef-000000000001"
    savepoint.mkdir()
    (savepoint / "_metadata").write_bytes(b"meta")
    with RestServerThread(d) as server:
        result = invoke("savepoint", "-m", server.address, "-d", str(savepoint))
        assert result.exit_code == 0, result.output
        assert result.output.splitlines() == [f"Disposing savepoint '{savepoint}'.", "Waiting for response...",
                                              f"Savepoint '{savepoint}' disposed."]
        assert not savepoint.exists()
        again = invoke("savepoint", "-m", server.address, "-d", str(savepoint))
        assert again.exit_code == 1 and f"No savepoint at {savepoint}" in again.output


def test_stop_with_savepoint_path_and_drain() -> None:
    d, jm = dispatcher_with_job()
    with RestServerThread(d) as server:
        result = invoke("stop", "-m", server.address, "--savepointPath", "file:///sp", "--drain", jm.job_id)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f'Draining job "{jm.job_id}" with a savepoint.',
        f"Savepoint completed. Path: file:///sp/savepoint-{jm.job_id[:6]}-000000000001",
    ]
    assert jm.calls == [("stop", "file:///sp", True)] and jm.graph.status is JobStatus.FINISHED


def test_stop_without_directory_uses_the_default_and_accepts_flinks_p_without_argument() -> None:
    d, jm = dispatcher_with_job(job_config={"execution.checkpointing.savepoint-dir": "file:///dflt"})
    with RestServerThread(d) as server:
        result = invoke("stop", "-m", server.address, "-p", jm.job_id)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f'Suspending job "{jm.job_id}" with a savepoint.'
    assert jm.calls == [("stop", None, False)]


def test_stop_errors() -> None:
    d, jm = dispatcher_with_job()
    with RestServerThread(d) as server:
        no_dir = invoke("stop", "-m", server.address, jm.job_id)
        assert no_dir.exit_code == 1 and "state.savepoints.dir" in no_dir.output
        jm.failure = not_running_failure()
        failed = invoke("stop", "-m", server.address, "-p", "/sp", jm.job_id)
        assert failed.exit_code == 1 and "Not all required tasks" in failed.output
        assert server.call(lambda: jm.graph.status) is JobStatus.RUNNING
        server.call(jm.finish)
        ended = invoke("stop", "-m", server.address, "-p", "/sp", jm.job_id)
        assert ended.exit_code == 1 and "already FINISHED" in ended.output
        unknown = invoke("stop", "-m", server.address, "-p", "/sp", UNKNOWN_JOB)
        assert unknown.exit_code == 1 and f"Job {UNKNOWN_JOB} not found" in unknown.output
    assert invoke("stop").exit_code == 2


# --- yflink run -s / -n ---------------------------------------------------------------------------------------------
@pytest.fixture
def config_probe(tmp_path: Path) -> Path:
    """A job script that prints the recovery keys of the configuration `yflink run` hands it."""
    script = tmp_path / "probe.py"
    script.write_text(
        "from yflink.graph.executor import get_context_configuration\n"
        "c = get_context_configuration()\n"
        "print('path=' + str(c.raw().get('execution.state-recovery.path')))\n"
        "print('ignore=' + str(c.raw().get('execution.state-recovery.ignore-unclaimed-state')))\n")
    return script


def test_run_from_savepoint_sets_flinks_recovery_keys(config_probe: Path, tmp_path: Path) -> None:
    result = invoke("run", "-s", "file:///sp/savepoint-1", "-n", str(config_probe))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["path=file:///sp/savepoint-1", "ignore=True"]
    long_form = invoke("run", "--fromSavepoint", "/abs/sp", "--allowNonRestoredState", str(config_probe))
    assert long_form.output.splitlines() == ["path=/abs/sp", "ignore=True"]
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        relative = invoke("run", "-s", "sp-dir", str(config_probe))
    finally:
        os.chdir(cwd)
    assert relative.output.splitlines() == [f"path={tmp_path / 'sp-dir'}", "ignore=None"]
    plain = invoke("run", str(config_probe))
    assert plain.output.splitlines() == ["path=None", "ignore=None"]
    assert get_context_configuration().raw().get("execution.state-recovery.path") is None  # reset after the run


def test_run_n_without_s_is_a_usage_error(config_probe: Path) -> None:
    result = invoke("run", "-n", str(config_probe))
    assert result.exit_code == 2 and "-n/--allowNonRestoredState needs a savepoint" in result.output
