"""RestClusterClient and RestJobClient against the real REST server over a FakeDispatcher (no cluster)."""

from __future__ import annotations

import socket
import threading

import pytest

from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.common.errors import ClusterError, ConfigurationError, JobExecutionError, JobSubmissionError
from yflink.deploy.remote import RestJobClient, progress_line
from yflink.rest.client import JobNotFoundError, RestClusterClient, parse_address
from yflink.runtime.states import JobStatus
from yflink.testing.fakes import FakeDispatcher, RestServerThread, small_job_graph

FAILURE = ("ValueError: bad record 'x'\n  in task 'Keyed Reduce' (1/2)\n\nTraceback (most recent call last):\n"
           '  File "/home/me/job.py", line 7, in map\n    raise ValueError("bad record")\nValueError: bad record\n')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_parse_address() -> None:
    assert parse_address("localhost:8081") == ("localhost", 8081)
    assert parse_address("http://10.0.0.1:9000/") == ("10.0.0.1", 9000)
    assert parse_address("[::1]:8081") == ("::1", 8081)
    for bad in ("localhost", "host:port", "host:0", ":8081"):
        with pytest.raises(ConfigurationError):
            parse_address(bad)


def test_no_jobmanager_is_a_clear_cluster_error() -> None:
    port = free_port()
    client = RestClusterClient(f"127.0.0.1:{port}", timeout_s=5)
    with pytest.raises(ClusterError) as err:
        client.list_jobs()
    assert str(err.value) == (f"No JobManager at 127.0.0.1:{port} (is the cluster running? start one with "
                              "`yflink cluster start`)")
    with pytest.raises(ClusterError, match="No JobManager"):
        client.submit_job(small_job_graph())


def test_submit_list_details_cancel_roundtrip() -> None:
    d = FakeDispatcher()
    with RestServerThread(d) as server:
        client = RestClusterClient(server.address)
        jg = small_job_graph("Round Trip")
        assert client.submit_job(jg) == jg.job_id
        assert client.list_jobs() == [{"id": jg.job_id, "status": "CREATED"}]
        server.call(lambda: d.run_job(jg.job_id, records_per_task=3))
        (overview,) = client.jobs_overview()
        assert overview["name"] == "Round Trip" and overview["state"] == "RUNNING"
        assert client.job_details(jg.job_id)["vertices"][1]["metrics"]["write-records"] == 6
        assert client.overview()["jobs-running"] == 1
        assert client.taskmanagers()[0]["id"] == "tm-0"
        assert client.jobmanager_config() == {"rest.port": "8081"}
        client.cancel(jg.job_id)
        assert server.call(lambda: d.execution_graph(jg.job_id).status) is JobStatus.CANCELED
        with pytest.raises(JobSubmissionError, match="already submitted"):
            client.submit_job(jg)
        unknown = "f" * 32
        with pytest.raises(JobNotFoundError) as err:
            client.cancel(unknown)
        assert err.value.job_id == unknown and unknown in str(err.value)


def test_job_client_returns_result_of_finished_job_and_reports_progress(capsys: pytest.CaptureFixture[str]) -> None:
    d = FakeDispatcher()
    with RestServerThread(d) as server:
        client = RestClusterClient(server.address)
        job_id = client.submit_job(small_job_graph())
        server.call(lambda: d.run_job(job_id, records_per_task=12000))
        config = Configuration().set(opts.CLIENT_PROGRESS, True).set(opts.CLIENT_PROGRESS_INTERVAL, "10 ms")
        job = RestJobClient(client, job_id, config)
        assert job.get_job_status() == "RUNNING"
        timer = threading.Timer(0.3, lambda: server.call(lambda: d.finish_job(job_id)))
        timer.start()
        try:
            result = job.get_job_execution_result()
        finally:
            timer.join()
        assert result.get_job_id() == job_id and result.get_net_runtime() >= 0
        assert job.get_job_execution_result() is result  # cached
        lines = capsys.readouterr().err.splitlines()
        assert lines[0] == f"Job has been submitted with JobID {job_id}"
        assert lines[1] == ("RUNNING   Source: Collection -> Map (1/1 running) in=0 out=12,000 | "
                            "Keyed Reduce (2/2 running) in=24,000 out=24,000")
        assert lines[-1].startswith("FINISHED ")
        assert len(lines) == 3  # one line per change


def test_job_client_raises_job_execution_error_with_user_traceback() -> None:
    d = FakeDispatcher()
    with RestServerThread(d) as server:
        client = RestClusterClient(server.address)
        job_id = client.submit_job(small_job_graph())
        server.call(lambda: d.run_job(job_id))
        server.call(lambda: d.fail_task(job_id, 1, 0, FAILURE))
        job = RestJobClient(client, job_id, Configuration())
        with pytest.raises(JobExecutionError) as err:
            job.get_job_execution_result()
        assert err.value.job_id == job_id and err.value.status == "FAILED"
        assert "Keyed Reduce (1/2) failed: ValueError: bad record 'x'" in err.value.root_cause
        assert '/home/me/job.py", line 7' in err.value.root_cause
        with pytest.raises(JobExecutionError):  # the outcome is kept
            job.get_job_execution_result()


def test_cancelled_job_raises_job_execution_error() -> None:
    d = FakeDispatcher()
    with RestServerThread(d) as server:
        client = RestClusterClient(server.address)
        job_id = client.submit_job(small_job_graph())
        server.call(lambda: d.run_job(job_id))
        job = RestJobClient(client, job_id, Configuration())
        job.cancel()
        with pytest.raises(JobExecutionError) as err:
            job.get_job_execution_result()
        assert err.value.status == "CANCELED"


def test_collect_iterates_until_finished() -> None:
    d = FakeDispatcher()
    with RestServerThread(d) as server:
        client = RestClusterClient(server.address)
        job_id = client.submit_job(small_job_graph())
        server.call(lambda: d.run_job(job_id))
        server.call(lambda: d.add_collected(job_id, "sink", list(range(5))))

        def more() -> None:
            d.add_collected(job_id, "sink", [5, 6])
            d.finish_job(job_id)

        timer = threading.Timer(0.2, lambda: server.call(more))
        timer.start()
        try:
            assert list(RestJobClient(client, job_id, Configuration()).collect("sink")) == list(range(7))
        finally:
            timer.join()


def test_closing_collect_early_cancels_the_job() -> None:
    d = FakeDispatcher()
    with RestServerThread(d) as server:
        client = RestClusterClient(server.address)
        job_id = client.submit_job(small_job_graph())
        server.call(lambda: d.run_job(job_id))
        server.call(lambda: d.add_collected(job_id, "sink", ["a", "b", "c"]))
        records = RestJobClient(client, job_id, Configuration()).collect("sink")
        assert next(records) == "a"
        records.close()  # type: ignore[attr-defined]
        assert server.call(lambda: d.cancelled) == [job_id]


def test_progress_line_shows_mixed_states() -> None:
    details = {"state": "RUNNING", "vertices": [
        {"name": "Source", "parallelism": 2, "status": "DEPLOYING", "tasks": {"DEPLOYING": 1, "RUNNING": 1},
         "metrics": {"read-records": 0, "write-records": 1234567}}]}
    assert progress_line(details) == "RUNNING   Source (1/2 deploying) in=0 out=1,234,567"
