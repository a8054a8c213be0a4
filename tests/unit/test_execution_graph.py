"""ExecutionGraph state machine (Flink JobStatus / ExecutionState transitions), without sockets or clocks."""

import pytest

from tests.unit.test_job_graph import op, source
from yflink.common.configuration import Configuration
from yflink.graph.job_graph import create_job_graph
from yflink.graph.stream_graph import generate_stream_graph
from yflink.runtime.jobmaster.execution_graph import ExecutionGraph, IllegalTransition, SlotAssignment
from yflink.runtime.states import ExecutionState as S
from yflink.runtime.states import JobStatus as J

SLOT = SlotAssignment("alloc", "tm-1", "127.0.0.1:1", "127.0.0.1:2")


def graph(parallelism: int = 2) -> ExecutionGraph:
    s = source(parallelism=1)
    m = op(s, "map", parallelism=parallelism)
    jg = create_job_graph(generate_stream_graph([m], Configuration()))
    return ExecutionGraph(jg, now_ms=0)


def deploy_all(eg: ExecutionGraph) -> None:
    eg.start_scheduling(1)
    for ex in eg.executions():
        eg.mark_deploying(ex.id, SLOT, 2)


def test_one_execution_per_subtask() -> None:
    eg = graph(3)
    assert [len(v.executions) for v in eg.vertices] == [1, 3]
    assert eg.status is J.CREATED


def test_all_finished_finishes_the_job() -> None:
    eg = graph()
    deploy_all(eg)
    for ex in eg.executions():
        for state in (S.INITIALIZING, S.RUNNING, S.FINISHED):
            eg.update_state(ex.id, state, 3)
    assert eg.status is J.FINISHED
    assert J.FINISHED.value in eg.status_timestamps


def test_first_failure_fails_job_after_others_are_cancelled() -> None:
    eg = graph()
    deploy_all(eg)
    exs = list(eg.executions())
    for ex in exs:
        eg.update_state(ex.id, S.RUNNING, 3)
    eg.update_state(exs[1].id, S.FAILED, 4, "ValueError: boom")
    assert eg.status is J.FAILING
    assert "boom" in (eg.failure or "")
    to_cancel = eg.executions_to_cancel()
    assert {e.id for e in to_cancel} == {exs[0].id, exs[2].id}
    for ex in to_cancel:
        eg.mark_canceling(ex.id, 5)
        eg.update_state(ex.id, S.CANCELED, 6)
    assert eg.status is J.FAILED


def test_cancel_before_deployment_cancels_at_once() -> None:
    eg = graph()
    eg.start_scheduling(1)
    eg.cancel(2)
    assert eg.status is J.CANCELED
    assert all(e.state is S.CANCELED for e in eg.executions())


def test_late_report_after_terminal_state_is_ignored() -> None:
    eg = graph()
    deploy_all(eg)
    ex = next(eg.executions())
    eg.update_state(ex.id, S.FINISHED, 3)
    assert eg.update_state(ex.id, S.RUNNING, 4) is False
    assert ex.state is S.FINISHED


def test_illegal_transition_is_refused() -> None:
    eg = graph()
    ex = next(eg.executions())
    with pytest.raises(IllegalTransition):
        eg.update_state(ex.id, S.RUNNING, 1)


def test_lost_task_manager_fails_its_executions() -> None:
    eg = graph()
    deploy_all(eg)
    for ex in eg.executions():
        eg.update_state(ex.id, S.RUNNING, 3)
    eg.executions_lost("tm-1", "heartbeat timed out", 4)
    assert eg.status is J.FAILED
    assert "heartbeat timed out" in (eg.failure or "")


def test_failure_with_restart_allowed_goes_restarting_then_running_with_new_attempts() -> None:
    """Flink "Task Failure Recovery": a restart strategy turns FAILING into RESTARTING, then new attempts run."""
    eg = graph()
    deploy_all(eg)
    exs = list(eg.executions())
    for ex in exs:
        eg.update_state(ex.id, S.RUNNING, 3)
    eg.update_state(exs[0].id, S.FAILED, 4, "boom")
    eg.restart_pending = True
    for ex in eg.executions_to_cancel():
        eg.mark_canceling(ex.id, 5)
        eg.update_state(ex.id, S.CANCELED, 6)
    assert eg.status is J.RESTARTING
    eg.restart(7)
    assert eg.status is J.RUNNING and eg.restarts == 1
    assert eg.failure_history == [(4, exs[0].name + " failed: boom")]
    fresh = list(eg.executions())
    assert all(e.attempt_number == 1 and e.state is S.SCHEDULED for e in fresh)
    assert {e.id for e in fresh}.isdisjoint({e.id for e in exs})
    assert eg.execution(exs[0].id) is None  # reports of old attempts are ignored
