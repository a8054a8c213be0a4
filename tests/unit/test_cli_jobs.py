"""`yflink list`, `yflink cancel` and the standalone commands, against a REST server over a FakeDispatcher."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

from click.testing import CliRunner, Result

from yflink.cli.main import cli
from yflink.common.configuration import Configuration
from yflink.deploy import standalone
from yflink.runtime.states import JobStatus
from yflink.testing.fakes import FakeDispatcher, RestServerThread, small_job_graph

LINE = re.compile(r"^\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d : [0-9a-f]{32} : .+ \([A-Z]+\)$")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def jobs_in_every_state(d: FakeDispatcher) -> dict[str, str]:
    ids = {}
    ids["created"] = d.add_job(small_job_graph("Waiting Job")).job_graph.job_id
    ids["running"] = d.add_job(small_job_graph("Streaming Job")).job_graph.job_id
    d.run_job(ids["running"])
    ids["finished"] = d.add_job(small_job_graph("Done Job")).job_graph.job_id
    d.run_job(ids["finished"])
    d.finish_job(ids["finished"])
    return ids


def test_list_prints_flinks_sections() -> None:
    d = FakeDispatcher()
    ids = jobs_in_every_state(d)
    with RestServerThread(d) as server:
        result = invoke("list", "-m", server.address)
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert lines[0] == "------------------ Running/Restarting Jobs -------------------"
        assert LINE.match(lines[1]) and lines[1].endswith(f" : {ids['running']} : Streaming Job (RUNNING)")
        assert lines[2] == "-" * 62
        assert lines[3] == "----------------------- Scheduled Jobs -----------------------"
        assert lines[4].endswith(f" : {ids['created']} : Waiting Job (CREATED)")
        assert "Done Job" not in result.output

        everything = invoke("list", "-a", "-m", server.address).output
        assert "---------------------- Terminated Jobs -----------------------" in everything
        assert f" : {ids['finished']} : Done Job (FINISHED)" in everything

        running_only = invoke("list", "-r", "-m", server.address).output
        assert "Streaming Job" in running_only and "Waiting Job" not in running_only


def test_list_with_no_jobs() -> None:
    with RestServerThread(FakeDispatcher()) as server:
        result = invoke("list", "-m", server.address)
        assert result.output.splitlines() == ["No running jobs.", "No scheduled jobs."]


def test_list_uses_rest_address_from_configuration() -> None:
    with RestServerThread(FakeDispatcher()) as server:
        result = invoke("list", "-D", "rest.address=127.0.0.1", "-D", f"rest.port={server.port}")
        assert result.exit_code == 0 and "No running jobs." in result.output


def test_list_without_cluster_is_a_clear_error() -> None:
    port = free_port()
    result = invoke("list", "-m", f"127.0.0.1:{port}")
    assert result.exit_code == 1
    assert result.output.strip() == (f"yflink list: No JobManager at 127.0.0.1:{port} (is the cluster running? "
                                     "start one with `yflink cluster start`)")


def test_cancel_running_unknown_and_malformed_jobs() -> None:
    d = FakeDispatcher()
    ids = jobs_in_every_state(d)
    with RestServerThread(d) as server:
        result = invoke("cancel", "-m", server.address, ids["running"])
        assert result.exit_code == 0, result.output
        assert result.output.splitlines() == [f"Cancelling job {ids['running']}.", f"Cancelled job {ids['running']}."]
        assert server.call(lambda: d.execution_graph(ids["running"]).status) is JobStatus.CANCELED

        unknown = "0" * 32
        result = invoke("cancel", "-m", server.address, unknown)
        assert result.exit_code == 1 and f"Job {unknown} not found" in result.output

        result = invoke("cancel", "-m", server.address, ids["finished"])
        assert result.exit_code == 1 and "already reached another terminal state (FINISHED)" in result.output

        result = invoke("cancel", "-m", server.address, "not-a-job")
        assert result.exit_code == 2 and "'not-a-job' is not a job id" in result.output


def test_stop_with_nothing_running_says_so(tmp_path: Path) -> None:
    d = ["-D", f"env.pid.dir={tmp_path}", "-D", f"env.log.dir={tmp_path / 'log'}"]
    result = invoke("cluster", "stop", *d)
    assert result.exit_code == 0
    assert "No taskmanager daemon to stop on host" in result.output
    assert "No jobmanager daemon to stop on host" in result.output
    for role in ("jobmanager", "taskmanager"):
        result = invoke(role, "stop", *d)
        assert result.exit_code == 0 and f"No {role} daemon to stop" in result.output


def test_stale_pid_of_another_process_is_never_signalled(tmp_path: Path) -> None:
    config = Configuration().set_string("env.pid.dir", str(tmp_path))
    pid_file = standalone.pid_file(config, "jobmanager")
    pid_file.write_text(f"{os.getpid()}\n999999999\n")  # this test process, and a pid that does not exist
    assert standalone.read_pids(config, "jobmanager") == [os.getpid(), 999999999]
    assert standalone.live_pids(config, "jobmanager") == []
    result = invoke("jobmanager", "stop", "-D", f"env.pid.dir={tmp_path}")
    assert result.exit_code == 0 and "No jobmanager daemon to stop" in result.output
    assert not pid_file.exists()


def test_pid_and_log_locations(tmp_path: Path) -> None:
    config = Configuration().set_string("env.pid.dir", str(tmp_path))
    assert re.fullmatch(r"yflink-.+-taskmanager\.pid", standalone.pid_file(config, "taskmanager").name)
    assert standalone.pid_file(config, "taskmanager").parent == tmp_path
    assert standalone.log_dir(config).name == "log" and "yflink-" in str(standalone.log_dir(config))
    config.set_string("env.log.dir", str(tmp_path / "logs"))
    assert standalone.log_dir(config) == tmp_path / "logs"  # env.log.dir is used as it is
    assert standalone.run_dir(config).parent == tmp_path  # ready files and written config beside the pid files


def test_rotate_logs_keeps_earlier_generations(tmp_path: Path) -> None:
    config = Configuration().set_string("env.log.dir", str(tmp_path / "log"))
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    for run in range(3):
        standalone.rotate_logs(config, "jobmanager")
        (log_dir / "jobmanager.log").write_text(f"run {run}")
    assert (log_dir / "jobmanager.log").read_text() == "run 2"
    assert (log_dir / "jobmanager.log.1").read_text() == "run 1"
    assert (log_dir / "jobmanager.log.2").read_text() == "run 0"
