"""The pure JSON builders of yflink.rest.messages, with explicit clocks."""

from __future__ import annotations

from yflink.rest import messages
from yflink.runtime.jobmaster.execution_graph import ExecutionGraph, SlotAssignment
from yflink.runtime.states import ExecutionState as S
from yflink.testing.fakes import small_job_graph

SLOT = SlotAssignment("alloc", "tm-1", "127.0.0.1:1", "127.0.0.1:2")


def running_graph() -> ExecutionGraph:
    graph = ExecutionGraph(small_job_graph("Clocked", parallelism=2), now_ms=1_000)
    graph.start_scheduling(1_100)
    for ex in graph.executions():
        graph.mark_deploying(ex.id, SLOT, 1_200)
        graph.update_state(ex.id, S.RUNNING, 1_300)
    return graph


def test_exception_name_from_failure_text() -> None:
    assert messages.exception_name("ValueError: bad record") == "ValueError"
    assert messages.exception_name("Map (1/2) failed: KeyError: 'k'\nTraceback ...") == "KeyError"
    assert messages.exception_name("x failed: yflink.runtime.network.gate.UpstreamFailure: gone") == (
        "yflink.runtime.network.gate.UpstreamFailure")
    assert messages.exception_name("The heartbeat of TaskManager tm-1 timed out") == messages.GENERIC_EXCEPTION_NAME


def test_times_and_durations_follow_the_clock() -> None:
    graph = running_graph()
    overview = messages.job_overview(graph, now_ms=5_000)
    assert (overview["start-time"], overview["end-time"], overview["duration"]) == (1_000, -1, 4_000)
    assert overview["last-modification"] == 1_300
    details = messages.job_details(graph, now_ms=5_000)
    vertex = details["vertices"][1]
    assert (vertex["start-time"], vertex["end-time"], vertex["duration"]) == (1_200, -1, 3_800)
    for ex in list(graph.executions()):
        graph.update_state(ex.id, S.FINISHED, 9_000)
    details = messages.job_details(graph, now_ms=20_000)
    assert (details["state"], details["end-time"], details["duration"]) == ("FINISHED", 9_000, 8_000)
    assert details["vertices"][0]["end-time"] == 9_000
    result = messages.execution_result(graph, now_ms=20_000)
    assert result["job-execution-result"]["net-runtime"] == 8_000


def test_failure_not_from_a_task_has_no_task_name() -> None:
    graph = running_graph()
    graph.fail("NoResourceAvailableException: Could not acquire the minimum required resources", 2_000)
    info = messages.job_exceptions(graph)
    (entry,) = info["exceptionHistory"]["entries"]
    assert entry["exceptionName"] == "NoResourceAvailableException"
    assert "taskName" not in entry and entry["timestamp"] == 2_000


def test_truncates_many_task_failures() -> None:
    graph = running_graph()
    for i, ex in enumerate(list(graph.executions())):
        graph.update_state(ex.id, S.FAILED, 3_000 + i, f"RuntimeError: boom {i}")
    info = messages.job_exceptions(graph, max_exceptions=2)
    assert info["truncated"] is True and len(info["all-exceptions"]) == 2
    (entry,) = info["exceptionHistory"]["entries"]
    assert entry["stacktrace"].endswith("RuntimeError: boom 0")
    assert [c["stacktrace"] for c in entry["concurrentExceptions"]] == ["RuntimeError: boom 1"]


def test_cluster_configuration_is_sorted_key_value_pairs() -> None:
    from yflink.common.configuration import Configuration

    conf = Configuration().set_string("b", "2").set_integer("a", 1)
    assert messages.cluster_configuration(conf) == [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]


def test_subtask_status_durations() -> None:
    graph = running_graph()
    vertex = messages.vertex_details(graph, graph.vertices[1].job_vertex.id, now_ms=2_000)
    durations = vertex["subtasks"][0]["status-duration"]
    assert durations == {"CREATED": 100, "SCHEDULED": 100, "DEPLOYING": 100, "RUNNING": 700}
