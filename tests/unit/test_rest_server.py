"""The REST server on Flink's paths and JSON shapes, against a FakeDispatcher (no JobManager process)."""

from __future__ import annotations

import asyncio
import base64
import pickle
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from yflink.common.errors import PortInUseError
from yflink.rest.server import create_app, start_rest_server
from yflink.runtime.states import JobStatus
from yflink.testing.fakes import FakeDispatcher, small_job_graph

Scenario = Callable[[TestClient], Awaitable[None]]
USER_TRACEBACK = (
    "ValueError: bad record 'x'\n  in task 'Keyed Reduce' (2/2)\n\nTraceback (most recent call last):\n"
    '  File "/home/me/job.py", line 12, in reduce\n    raise ValueError(f"bad record {v!r}")\n'
    "ValueError: bad record 'x'\n")


def serve(dispatcher: FakeDispatcher, scenario: Scenario) -> None:
    async def main() -> None:
        async with TestClient(TestServer(create_app(dispatcher))) as client:
            await scenario(client)

    asyncio.run(main())


async def get_json(client: TestClient, path: str, status: int = 200) -> Any:
    resp = await client.get(path)
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/json"
    return await resp.json()


def test_submit_pickled_job_graph_returns_202_and_job_url() -> None:
    d = FakeDispatcher()
    jg = small_job_graph("Word Count")

    async def scenario(client: TestClient) -> None:
        resp = await client.post("/jobs", data=pickle.dumps(jg, protocol=5),
                                 headers={"Content-Type": "application/octet-stream"})
        assert resp.status == 202
        assert await resp.json() == {"jobUrl": f"/jobs/{jg.job_id}"}
        jobs = await get_json(client, "/jobs")
        assert jobs == {"jobs": [{"id": jg.job_id, "status": "CREATED"}]}

    serve(d, scenario)
    assert d.job_ids() == [jg.job_id]


@pytest.mark.parametrize("body", [b"not a pickle", pickle.dumps({"a": 1}), b""])
def test_submit_bad_body_is_400_with_flink_error_shape(body: bytes) -> None:
    async def scenario(client: TestClient) -> None:
        resp = await client.post("/jobs", data=body)
        assert resp.status == 400
        payload = await resp.json()
        assert list(payload) == ["errors"] and "JobGraph" in payload["errors"][0]

    serve(FakeDispatcher(), scenario)


def test_duplicate_submission_is_400_naming_the_job() -> None:
    d = FakeDispatcher()
    jg = small_job_graph()
    d.add_job(jg)

    async def scenario(client: TestClient) -> None:
        resp = await client.post("/jobs", data=pickle.dumps(jg, protocol=5))
        assert resp.status == 400
        assert jg.job_id in (await resp.json())["errors"][0]

    serve(d, scenario)


def test_jobs_overview_counts_tasks_per_state() -> None:
    d = FakeDispatcher()
    job_id = d.add_job(small_job_graph("Counting", parallelism=3)).job_graph.job_id
    d.run_job(job_id)

    async def scenario(client: TestClient) -> None:
        overview = await get_json(client, "/jobs/overview")
        (job,) = overview["jobs"]
        assert job["jid"] == job_id and job["name"] == "Counting" and job["state"] == "RUNNING"
        assert job["end-time"] == -1 and job["duration"] >= 0 and job["start-time"] > 0
        assert job["tasks"]["total"] == 4 and job["tasks"]["running"] == 4 and job["tasks"]["failed"] == 0
        assert {"created", "scheduled", "deploying", "running", "finished", "canceling", "canceled", "failed",
                "reconciling", "initializing"} <= set(job["tasks"])
        assert job["last-modification"] >= job["start-time"]

    serve(d, scenario)


def test_job_details_has_vertices_metrics_and_plan() -> None:
    d = FakeDispatcher()
    jg = small_job_graph("Details", parallelism=2)
    d.add_job(jg)
    d.run_job(jg.job_id, records_per_task=1000)

    async def scenario(client: TestClient) -> None:
        details = await get_json(client, f"/jobs/{jg.job_id}")
        for key in ("jid", "name", "isStoppable", "state", "start-time", "end-time", "duration", "maxParallelism",
                    "now", "timestamps", "vertices", "status-counts", "plan"):
            assert key in details, key
        assert details["state"] == "RUNNING"
        assert details["timestamps"]["RUNNING"] > 0 and details["timestamps"]["FINISHED"] == 0
        assert details["status-counts"]["RUNNING"] == 3
        source, reduce = details["vertices"]
        assert source["name"] == "Source: Collection -> Map" and source["parallelism"] == 1
        assert reduce["status"] == "RUNNING" and reduce["tasks"]["RUNNING"] == 2
        assert reduce["metrics"]["read-records"] == 2000 and reduce["metrics"]["write-records"] == 2000
        assert source["metrics"]["read-records"] == 0 and source["metrics"]["write-records"] == 1000
        assert reduce["metrics"]["read-records-complete"] is False
        for key in ("accumulated-busy-time", "accumulated-backpressured-time", "accumulated-idle-time",
                    "read-bytes", "write-bytes"):
            assert key in reduce["metrics"]
        plan = details["plan"]
        assert plan["jid"] == jg.job_id and plan["type"] == "STREAMING"
        assert [n["id"] for n in plan["nodes"]] == [v.id for v in jg.vertices]
        assert plan["nodes"][1]["inputs"] == [{"num": 0, "id": jg.vertices[0].id, "ship_strategy": "HASH",
                                               "exchange": "pipelined_bounded"}]
        assert (await get_json(client, f"/jobs/{jg.job_id}/plan"))["plan"] == plan

    serve(d, scenario)


def test_vertex_details_lists_subtasks() -> None:
    d = FakeDispatcher()
    jg = small_job_graph(parallelism=2)
    d.add_job(jg)
    d.run_job(jg.job_id, records_per_task=5)

    async def scenario(client: TestClient) -> None:
        vertex = await get_json(client, f"/jobs/{jg.job_id}/vertices/{jg.vertices[1].id}")
        assert vertex["name"] == "Keyed Reduce" and len(vertex["subtasks"]) == 2
        sub = vertex["subtasks"][1]
        assert sub["subtask"] == 1 and sub["status"] == "RUNNING" and sub["attempt"] == 0
        assert sub["host"] == "127.0.0.1" and sub["taskmanager-id"] == "tm-0"
        assert sub["metrics"]["write-records"] == 5
        missing = await get_json(client, f"/jobs/{jg.job_id}/vertices/{'0' * 32}", status=404)
        assert "not found" in missing["errors"][0]

    serve(d, scenario)


def test_failed_job_exposes_user_traceback_in_exceptions_and_execution_result() -> None:
    d = FakeDispatcher()
    jg = small_job_graph(parallelism=2)
    d.add_job(jg)
    d.run_job(jg.job_id)
    d.fail_task(jg.job_id, 1, 1, USER_TRACEBACK)

    async def scenario(client: TestClient) -> None:
        exc = await get_json(client, f"/jobs/{jg.job_id}/exceptions")
        assert 'raise ValueError(f"bad record {v!r}")' in exc["root-exception"]
        assert exc["timestamp"] > 0 and exc["truncated"] is False
        assert exc["all-exceptions"][0]["task"] == "Keyed Reduce (2/2)"
        (entry,) = exc["exceptionHistory"]["entries"]
        assert entry["exceptionName"] == "ValueError"
        assert "/home/me/job.py" in entry["stacktrace"]
        assert entry["taskName"] == "Keyed Reduce (2/2)" and entry["taskManagerId"] == "tm-0"
        assert entry["concurrentExceptions"] == []

        result = await get_json(client, f"/jobs/{jg.job_id}/execution-result")
        assert result["status"] == {"id": "COMPLETED"}
        jer = result["job-execution-result"]
        assert jer["id"] == jg.job_id and jer["application-status"] == "FAILED"
        assert jer["net-runtime"] >= 0 and jer["accumulator-results"] == {}
        assert jer["failure-cause"]["class"] == "ValueError"
        assert "/home/me/job.py" in jer["failure-cause"]["stack-trace"]

    serve(d, scenario)


def test_execution_result_in_progress_then_succeeded() -> None:
    d = FakeDispatcher()
    jg = small_job_graph()
    d.add_job(jg)
    d.run_job(jg.job_id)

    async def scenario(client: TestClient) -> None:
        assert await get_json(client, f"/jobs/{jg.job_id}/execution-result") == {"status": {"id": "IN_PROGRESS"}}
        d.finish_job(jg.job_id)
        result = await get_json(client, f"/jobs/{jg.job_id}/execution-result")
        assert result["job-execution-result"]["application-status"] == "SUCCEEDED"
        assert "failure-cause" not in result["job-execution-result"]
        exc = await get_json(client, f"/jobs/{jg.job_id}/exceptions")
        assert exc["root-exception"] is None and exc["exceptionHistory"] == {"entries": [], "truncated": False}

    serve(d, scenario)


def test_cancel_modes_unknown_jobs_and_terminal_jobs() -> None:
    d = FakeDispatcher()
    running = d.add_job(small_job_graph("running")).job_graph.job_id
    d.run_job(running)
    finished = d.add_job(small_job_graph("finished")).job_graph.job_id
    d.run_job(finished)
    d.finish_job(finished)
    unknown = "0123456789abcdef0123456789abcdef"

    async def scenario(client: TestClient) -> None:
        resp = await client.patch(f"/jobs/{running}?mode=stop")
        assert resp.status == 400 and "cancel" in (await resp.json())["errors"][0]
        resp = await client.patch(f"/jobs/{unknown}?mode=cancel")
        assert resp.status == 404 and await resp.json() == {"errors": [f"Job {unknown} not found"]}
        resp = await client.patch("/jobs/not-a-job-id?mode=cancel")
        assert resp.status == 400 and "32 hex digits" in (await resp.json())["errors"][0]
        resp = await client.patch(f"/jobs/{running}?mode=cancel")
        assert resp.status == 202 and await resp.json() == {}
        assert d.execution_graph(running).status is JobStatus.CANCELED
        resp = await client.patch(f"/jobs/{running}?mode=cancel")  # again: still fine
        assert resp.status == 202
        resp = await client.patch(f"/jobs/{finished}?mode=cancel")
        assert resp.status == 409 and "FINISHED" in (await resp.json())["errors"][0]

    serve(d, scenario)


def test_unknown_job_paths_are_404_json() -> None:
    unknown = "0123456789abcdef0123456789abcdef"

    async def scenario(client: TestClient) -> None:
        for path in (f"/jobs/{unknown}", f"/jobs/{unknown}/exceptions", f"/jobs/{unknown}/execution-result"):
            assert await get_json(client, path, status=404) == {"errors": [f"Job {unknown} not found"]}
        body = await get_json(client, "/no/such/path", status=404)
        assert body == {"errors": ["Not found: /no/such/path"]}
        resp = await client.delete("/jobs")
        assert resp.status == 405 and "errors" in await resp.json()

    serve(FakeDispatcher(), scenario)


def test_handler_exception_is_500_json_not_html() -> None:
    class Broken(FakeDispatcher):
        def task_managers(self) -> list[Any]:
            raise RuntimeError("resource manager exploded")

    async def scenario(client: TestClient) -> None:
        resp = await client.get("/taskmanagers")
        assert resp.status == 500 and resp.content_type == "application/json"
        errors = (await resp.json())["errors"]
        assert errors[0] == "Internal server error." and "resource manager exploded" in errors[1]

    serve(Broken(), scenario)


def test_cluster_overview_taskmanagers_and_config() -> None:
    d = FakeDispatcher()
    a = d.add_job().job_graph.job_id
    d.run_job(a)
    b = d.add_job().job_graph.job_id
    d.run_job(b)
    d.finish_job(b)

    async def scenario(client: TestClient) -> None:
        overview = await get_json(client, "/overview")
        assert overview["taskmanagers"] == 1 and overview["slots-total"] == 2 and overview["slots-available"] == 1
        assert overview["jobs-running"] == 1 and overview["jobs-finished"] == 1
        assert overview["jobs-cancelled"] == 0 and overview["jobs-failed"] == 0
        assert overview["flink-version"] and "flink-commit" in overview

        (tm,) = (await get_json(client, "/taskmanagers"))["taskmanagers"]
        assert tm["id"] == "tm-0" and tm["slotsNumber"] == 2 and tm["freeSlots"] == 1 and tm["jmxPort"] == -1
        assert tm["dataPort"] == 40001 and tm["timeSinceLastHeartbeat"] > 0
        assert tm["hardware"]["cpuCores"] >= 1 and tm["hardware"]["physicalMemory"] > 0
        assert set(tm["totalResource"]) >= {"cpuCores", "managedMemory"}

        config = await get_json(client, "/config")
        assert config["features"] == {"web-submit": False, "web-cancel": True, "web-rescale": False,
                                      "web-history": False}
        assert {"refresh-interval", "timezone-name", "timezone-offset", "flink-version", "flink-revision"} <= set(
            config)
        assert await get_json(client, "/jobmanager/config") == [{"key": "rest.port", "value": "8081"}]

    serve(d, scenario)


def test_collect_pages_records() -> None:
    d = FakeDispatcher()
    job_id = d.add_job().job_graph.job_id
    d.run_job(job_id)
    d.add_collected(job_id, "op-1", [("a", 1), ("b", 2), ("c", 3)])

    async def page(client: TestClient, offset: int, max_records: int) -> tuple[list[Any], int, bool]:
        resp = await client.post(f"/jobs/{job_id}/coordinators/op-1", json={"offset": offset,
                                                                            "maxRecords": max_records})
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        return pickle.loads(base64.b64decode(body["records"])), body["nextOffset"], body["finished"]

    async def scenario(client: TestClient) -> None:
        assert await page(client, 0, 2) == ([("a", 1), ("b", 2)], 2, False)
        assert await page(client, 2, 2) == ([("c", 3)], 3, False)
        d.add_collected(job_id, "op-1", [], finished=True)
        assert await page(client, 3, 2) == ([], 3, True)
        resp = await client.post(f"/jobs/{job_id}/coordinators/op-1", json={"offset": -1})
        assert resp.status == 400 and "offset" in (await resp.json())["errors"][0]
        resp = await client.post(f"/jobs/{job_id}/coordinators/op-1", data=b"{nope")
        assert resp.status == 400

    serve(d, scenario)


def test_start_rest_server_binds_free_port_and_reports_busy_port() -> None:
    async def main() -> None:
        runner, port = await start_rest_server(FakeDispatcher(), "127.0.0.1", 0)
        try:
            assert port > 0
            with pytest.raises(PortInUseError) as err:
                await start_rest_server(FakeDispatcher(), "127.0.0.1", port)
            assert f"127.0.0.1:{port}" in str(err.value) and "rest.port" in str(err.value)
        finally:
            await runner.cleanup()

    asyncio.run(main())
