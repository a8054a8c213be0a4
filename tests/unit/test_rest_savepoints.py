"""Savepoints, stop-with-savepoint and disposal on Flink's REST paths: the real Dispatcher and its operation cache,
a fake JobMaster (tests/unit/savepoint_support.py), and the REST client against them."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from yflink.checkpoint.errors import CheckpointError, CheckpointFailureReason
from yflink.common.configuration import Configuration
from yflink.common.errors import ClusterError
from yflink.common.job_client import JobClient
from yflink.deploy.remote import RestJobClient
from yflink.rest import messages
from yflink.rest.client import JobNotFoundError, RestClusterClient, SavepointFailedError
from yflink.rest.server import create_app
from yflink.runtime.dispatcher import Dispatcher
from yflink.runtime.operation_cache import OperationCache, OperationKey, OperationKind, OperationStatus
from yflink.runtime.states import JobStatus
from yflink.testing.fakes import RestServerThread

from .savepoint_support import FakeJobMaster, dispatcher_with_job, not_running_failure

Scenario = Callable[[TestClient], Awaitable[None]]
HEX32 = re.compile(r"^[0-9a-f]{32}$")
UNKNOWN_JOB = "0" * 32


def serve(dispatcher: Dispatcher, scenario: Scenario) -> None:
    async def main() -> None:
        async with TestClient(TestServer(create_app(dispatcher))) as client:
            await scenario(client)

    asyncio.run(main())


async def post(client: TestClient, path: str, body: Any, status: int) -> Any:
    resp = await client.post(path, json=body)
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/json"
    return await resp.json()


async def get(client: TestClient, path: str, status: int = 200) -> Any:
    resp = await client.get(path)
    assert resp.status == status, await resp.text()
    return await resp.json()


async def until_completed(client: TestClient, path: str) -> Any:
    for _ in range(200):
        reply = await get(client, path)
        if reply["status"]["id"] == "COMPLETED":
            return reply
        assert reply == {"status": {"id": "IN_PROGRESS"}}
        await asyncio.sleep(0.01)
    raise AssertionError(f"{path} never completed")


# --- POST /jobs/{jobid}/savepoints ------------------------------------------------------------------------------
def test_savepoint_is_triggered_then_polled_to_its_location() -> None:
    d, jm = dispatcher_with_job()

    async def scenario(client: TestClient) -> None:
        jm.block = True
        reply = await post(client, f"/jobs/{jm.job_id}/savepoints", {"target-directory": "file:///sp",
                                                                    "cancel-job": False}, 202)
        assert list(reply) == ["request-id"] and HEX32.match(reply["request-id"])
        status_path = f"/jobs/{jm.job_id}/savepoints/{reply['request-id']}"
        await asyncio.sleep(0.01)
        assert await get(client, status_path) == {"status": {"id": "IN_PROGRESS"}}
        jm.release.set()
        done = await until_completed(client, status_path)
        assert done == {"status": {"id": "COMPLETED"},
                        "operation": {"location": f"file:///sp/savepoint-{jm.job_id[:6]}-000000000001"}}

    serve(d, scenario)
    assert jm.calls == [("savepoint", "file:///sp", "CANONICAL")]
    assert jm.graph.status is JobStatus.RUNNING  # a plain savepoint leaves the job running


def test_savepoint_uses_the_configured_directory_when_the_request_names_none() -> None:
    d, jm = dispatcher_with_job(job_config={"state.savepoints.dir": "file:///default-sp"})

    async def scenario(client: TestClient) -> None:
        reply = await post(client, f"/jobs/{jm.job_id}/savepoints", {}, 202)
        done = await until_completed(client, f"/jobs/{jm.job_id}/savepoints/{reply['request-id']}")
        assert done["operation"]["location"].startswith("file:///default-sp/savepoint-")

    serve(d, scenario)
    assert jm.calls == [("savepoint", None, "CANONICAL")]


def test_savepoint_without_any_directory_is_400_naming_the_key() -> None:
    d, jm = dispatcher_with_job()

    async def scenario(client: TestClient) -> None:
        for body in ({}, {"target-directory": None}):
            reply = await post(client, f"/jobs/{jm.job_id}/savepoints", body, 400)
            assert list(reply) == ["errors"]
            assert "state.savepoints.dir" in reply["errors"][0] and "target directory" in reply["errors"][0]

    serve(d, scenario)
    assert jm.calls == []


def test_failed_savepoint_reports_its_cause_and_the_job_keeps_running() -> None:
    d, jm = dispatcher_with_job()
    jm.failure = not_running_failure()

    async def scenario(client: TestClient) -> None:
        reply = await post(client, f"/jobs/{jm.job_id}/savepoints", {"target-directory": "/sp"}, 202)
        done = await until_completed(client, f"/jobs/{jm.job_id}/savepoints/{reply['request-id']}")
        cause = done["operation"]["failure-cause"]
        assert list(done["operation"]) == ["failure-cause"]
        assert cause["class"] == "yflink.checkpoint.errors.CheckpointError"
        assert cause["stack-trace"].startswith("yflink.checkpoint.errors.CheckpointError: Not all required tasks")
        assert "Traceback (most recent call last)" in cause["stack-trace"]
        assert set(cause) == {"class", "stack-trace", "serialized-throwable"}

    serve(d, scenario)
    assert jm.graph.status is JobStatus.RUNNING


def test_cancel_job_takes_the_savepoint_then_cancels() -> None:
    d, jm = dispatcher_with_job()

    async def scenario(client: TestClient) -> None:
        reply = await post(client, f"/jobs/{jm.job_id}/savepoints", {"target-directory": "/sp", "cancel-job": True,
                                                                    "formatType": "native"}, 202)
        done = await until_completed(client, f"/jobs/{jm.job_id}/savepoints/{reply['request-id']}")
        assert "location" in done["operation"]

    serve(d, scenario)
    assert jm.calls == [("savepoint", "/sp", "NATIVE"), ("cancel",)]
    assert jm.graph.status is JobStatus.CANCELED


def test_cancel_job_does_not_cancel_when_the_savepoint_failed() -> None:
    d, jm = dispatcher_with_job()
    jm.failure = not_running_failure()

    async def scenario(client: TestClient) -> None:
        reply = await post(client, f"/jobs/{jm.job_id}/savepoints", {"target-directory": "/sp", "cancel-job": True},
                           202)
        done = await until_completed(client, f"/jobs/{jm.job_id}/savepoints/{reply['request-id']}")
        assert "failure-cause" in done["operation"]

    serve(d, scenario)
    assert ("cancel",) not in jm.calls and jm.graph.status is JobStatus.RUNNING


def test_a_repeated_trigger_id_is_the_same_operation() -> None:
    d, jm = dispatcher_with_job()
    trigger = "ab" * 16

    async def scenario(client: TestClient) -> None:
        body = {"target-directory": "/sp", "triggerId": trigger.upper()}
        first = await post(client, f"/jobs/{jm.job_id}/savepoints", body, 202)
        second = await post(client, f"/jobs/{jm.job_id}/savepoints", body, 202)
        assert first == second == {"request-id": trigger}
        await until_completed(client, f"/jobs/{jm.job_id}/savepoints/{trigger}")

    serve(d, scenario)
    assert len(jm.calls) == 1


@pytest.mark.parametrize("body, named", [
    ({"cancel-job": "yes", "target-directory": "/sp"}, "cancel-job"),
    ({"target-directory": 7}, "target-directory"),
    ({"target-directory": "/sp", "formatType": "YAML"}, "formatType"),
    ({"target-directory": "/sp", "triggerId": "abc"}, "triggerId"),
    ([1, 2], "JSON object"),
])
def test_bad_savepoint_bodies_are_400_naming_the_field(body: Any, named: str) -> None:
    d, jm = dispatcher_with_job()

    async def scenario(client: TestClient) -> None:
        reply = await post(client, f"/jobs/{jm.job_id}/savepoints", body, 400)
        assert named in reply["errors"][0]

    serve(d, scenario)
    assert jm.calls == []


def test_a_body_that_is_not_json_is_400() -> None:
    d, jm = dispatcher_with_job()

    async def scenario(client: TestClient) -> None:
        resp = await client.post(f"/jobs/{jm.job_id}/stop", data=b"{not json")
        assert resp.status == 400 and "JSON" in (await resp.json())["errors"][0]

    serve(d, scenario)


def test_unknown_job_bad_id_unknown_trigger_and_ended_job() -> None:
    d, jm = dispatcher_with_job()

    async def scenario(client: TestClient) -> None:
        for path in (f"/jobs/{UNKNOWN_JOB}/savepoints", f"/jobs/{UNKNOWN_JOB}/stop"):
            reply = await post(client, path, {"target-directory": "/sp"}, 404)
            assert reply == {"errors": [f"Job {UNKNOWN_JOB} not found"]}
        assert await get(client, f"/jobs/{UNKNOWN_JOB}/savepoints/{'1' * 32}", 404) == {
            "errors": [f"Job {UNKNOWN_JOB} not found"]}
        assert "32 hex digits" in (await post(client, "/jobs/nope/savepoints", {}, 400))["errors"][0]
        unknown = await get(client, f"/jobs/{jm.job_id}/savepoints/{'1' * 32}", 404)
        assert unknown["errors"][0].startswith(f"There is no savepoint operation with triggerId={'1' * 32} for job "
                                               f"{jm.job_id}")
        jm.finish()
        for path in (f"/jobs/{jm.job_id}/savepoints", f"/jobs/{jm.job_id}/stop"):
            ended = await post(client, path, {"target-directory": "/sp", "targetDirectory": "/sp"}, 409)
            assert "already FINISHED" in ended["errors"][0]

    serve(d, scenario)
    assert jm.calls == []


# --- POST /jobs/{jobid}/stop ------------------------------------------------------------------------------------
def test_stop_with_savepoint_is_polled_on_the_savepoints_path_and_the_job_finishes() -> None:
    d, jm = dispatcher_with_job()

    async def scenario(client: TestClient) -> None:
        reply = await post(client, f"/jobs/{jm.job_id}/stop", {"targetDirectory": "hdfs://nn:8020/sp", "drain": True},
                           202)
        done = await until_completed(client, f"/jobs/{jm.job_id}/savepoints/{reply['request-id']}")
        assert done["operation"]["location"].startswith("hdfs://nn:8020/sp/savepoint-")
        details = await get(client, f"/jobs/{jm.job_id}")
        assert details["state"] == "FINISHED"

    serve(d, scenario)
    assert jm.calls == [("stop", "hdfs://nn:8020/sp", True)]


def test_failed_stop_leaves_the_job_running() -> None:
    d, jm = dispatcher_with_job(job_config={"execution.checkpointing.savepoint-dir": "file:///sp"})
    jm.failure = not_running_failure()

    async def scenario(client: TestClient) -> None:
        reply = await post(client, f"/jobs/{jm.job_id}/stop", {}, 202)
        done = await until_completed(client, f"/jobs/{jm.job_id}/savepoints/{reply['request-id']}")
        assert "Not all required tasks" in done["operation"]["failure-cause"]["stack-trace"]

    serve(d, scenario)
    assert jm.calls == [("stop", None, False)] and jm.graph.status is JobStatus.RUNNING


# --- /savepoint-disposal -----------------------------------------------------------------------------------------
def test_dispose_deletes_the_savepoint_and_a_second_dispose_fails(tmp_path: Path) -> None:
    d, _ = dispatcher_with_job()
    savepoint = tmp_path / "savepoint-abcdef-000000000001"
    savepoint.mkdir()
    (savepoint / "_metadata").write_bytes(b"meta")
    (savepoint / "state-1").write_bytes(b"state")
    keep = tmp_path / "other"
    keep.mkdir()

    async def scenario(client: TestClient) -> None:
        reply = await post(client, "/savepoint-disposal", {"savepoint-path": str(savepoint)}, 202)
        done = await until_completed(client, f"/savepoint-disposal/{reply['request-id']}")
        assert done == {"status": {"id": "COMPLETED"}, "operation": {}}
        assert not savepoint.exists() and keep.exists()
        again = await post(client, "/savepoint-disposal", {"savepoint-path": f"file://{savepoint}/_metadata"}, 202)
        failed = await until_completed(client, f"/savepoint-disposal/{again['request-id']}")
        cause = failed["operation"]["failure-cause"]
        assert cause["class"] == "yflink.checkpoint.errors.CheckpointMetadataError"
        assert f"No savepoint at file://{savepoint}/_metadata" in cause["stack-trace"]
        assert "savepoint-path" in (await post(client, "/savepoint-disposal", {}, 400))["errors"][0]
        await get(client, f"/savepoint-disposal/{'2' * 32}", 404)

    serve(d, scenario)


# --- the operation cache and the JSON, without a server -----------------------------------------------------------
def test_operation_cache_keeps_completed_results_for_the_store_duration_only() -> None:
    now = [100.0]
    cache = OperationCache(store_duration_s=60, clock=lambda: now[0])
    done_key = OperationKey(OperationKind.SAVEPOINT, "j", "t1")
    running_key = OperationKey(OperationKind.SAVEPOINT, "j", "t2")

    async def main() -> None:
        async def finishes() -> str:
            return "file:///sp/1"

        release = asyncio.Event()

        async def runs() -> str:
            await release.wait()
            return "never"

        cache.register(done_key, asyncio.get_running_loop().create_task(finishes()))
        running = asyncio.get_running_loop().create_task(runs())
        cache.register(running_key, running)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert cache.get(done_key).value == "file:///sp/1"
        assert cache.get(running_key).status is OperationStatus.IN_PROGRESS
        with pytest.raises(ValueError):
            cache.register(done_key, running)
        now[0] += 59.9
        assert done_key in cache
        now[0] += 0.1
        assert done_key not in cache and running_key in cache  # running operations never expire
        with pytest.raises(KeyError):
            cache.get(done_key)
        cache.cancel_all()
        await asyncio.sleep(0)
        assert cache.get(running_key).error is not None  # cancelled: reported as a failure, then kept 60 s
        now[0] += 60
        assert len(cache) == 0

    asyncio.run(main())
    with pytest.raises(ValueError, match="rest.async.store-duration"):
        OperationCache(store_duration_s=-1)


def test_store_duration_comes_from_the_configuration() -> None:
    d = Dispatcher(Configuration().set_string("rest.async.store-duration", "2 min"), "127.0.0.1:0")
    assert d.operations.store_duration_s == 120.0


def test_serialized_throwable_without_a_traceback() -> None:
    assert messages.serialized_throwable(ValueError("bad")) == {
        "class": "ValueError", "stack-trace": "ValueError: bad", "serialized-throwable": ""}
    error = CheckpointError(CheckpointFailureReason.CHECKPOINT_EXPIRED)
    assert messages.serialized_throwable(error)["stack-trace"] == (
        "yflink.checkpoint.errors.CheckpointError: Checkpoint expired before completing.")


# --- the REST client, RestJobClient and PyFlink's JobClient over a real server --------------------------------------
def _client_jobs() -> tuple[RestServerThread, FakeJobMaster]:
    d, jm = dispatcher_with_job()
    return RestServerThread(d), jm


def test_rest_client_savepoint_round_trip_and_failures() -> None:
    server, jm = _client_jobs()
    with server:
        client = RestClusterClient(server.address, timeout_s=5)
        trigger = client.trigger_savepoint(jm.job_id, "file:///sp")
        assert client.wait_for_savepoint(jm.job_id, trigger, timeout_s=5).startswith("file:///sp/savepoint-")
        with pytest.raises(JobNotFoundError):
            client.trigger_savepoint(UNKNOWN_JOB, "/sp")
        with pytest.raises(ClusterError, match="state.savepoints.dir"):
            client.trigger_savepoint(jm.job_id)
        jm.failure = not_running_failure()
        trigger = client.trigger_savepoint(jm.job_id, "/sp")
        with pytest.raises(SavepointFailedError) as failed:
            client.wait_for_savepoint(jm.job_id, trigger, timeout_s=5)
        assert str(failed.value).startswith(f"Savepoint of job {jm.job_id} failed: yflink.checkpoint.errors."
                                            "CheckpointError: Not all required tasks are currently running.")
        assert failed.value.failure_class == "yflink.checkpoint.errors.CheckpointError"
        jm.failure = None
        jm.block = True
        trigger = client.trigger_savepoint(jm.job_id, "/sp")
        with pytest.raises(ClusterError, match="did not complete within 0.2 s"):
            client.wait_for_savepoint(jm.job_id, trigger, timeout_s=0.2)
        server.call(jm.release.set)
        assert client.wait_for_savepoint(jm.job_id, trigger, timeout_s=5).startswith("file:///sp/")


def test_job_clients_trigger_and_stop_with_savepoint() -> None:
    server, jm = _client_jobs()
    with server:
        rest = RestClusterClient(server.address, timeout_s=5)
        job_client = RestJobClient(rest, jm.job_id, Configuration())
        assert job_client.trigger_savepoint("file:///a").startswith("file:///a/savepoint-")
        pyflink_client = JobClient(job_client)
        future = pyflink_client.trigger_savepoint("file:///b")
        assert server.call(lambda: len(server.dispatcher.operations)) == 2  # requested now, not on result()
        assert future.result().startswith("file:///b/savepoint-")
        assert jm.calls[-1] == ("savepoint", "file:///b", "CANONICAL")
        stopped = pyflink_client.stop_with_savepoint(True, "file:///c")
        assert stopped.result().startswith("file:///c/savepoint-")
        assert jm.calls[-1] == ("stop", "file:///c", True)
        assert pyflink_client.get_job_status().result().name == "FINISHED"
        with pytest.raises(ClusterError, match="already FINISHED"):
            job_client.stop_with_savepoint(False, "file:///d")
