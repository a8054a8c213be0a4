"""The final checkpoint of a finished task (FLIP-147; Flink "Checkpointing" > "Checkpointing with parts of the graph
finished"): with periodic checkpoints a two-phase-commit sink prepares at the end of its input and commits only when
a checkpoint with a larger id than any it took completes (that one holds its final state); the task waits for it
(or for its stop-with-savepoint); a restore commits the pending committables of the restored state, idempotently;
the JobMaster completes a checkpoint at once when every task sent its final state."""

from __future__ import annotations

import asyncio
import pickle
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_checkpoint_jobmaster import FakeTasks, job_graph, running, synchronously
from tests.unit.test_checkpoint_task_upload import Log, barrier, checkpointer
from yflink.checkpoint.barriers import SnapshotType
from yflink.checkpoint.storage import CheckpointStorage
from yflink.common.serialization import Encoder
from yflink.datastream.connectors import BucketAssigner, FileSink
from yflink.runtime.states import ExecutionState
from yflink.state.snapshot import OperatorSnapshot
from yflink.streaming.operators.base import SinkOperator
from yflink.testing.harness import OneInputOperatorTestHarness


def file_sink(base: Path, *, final_checkpoint: bool = True) -> OneInputOperatorTestHarness:
    sink = FileSink.for_row_format(str(base), Encoder.simple_string_encoder()).with_bucket_assigner(
        BucketAssigner.base_path_bucket_assigner()).build()
    harness = OneInputOperatorTestHarness(SinkOperator(sink))
    harness.setup()
    harness.operator.commit_at_final_checkpoint = final_checkpoint
    return harness


def committed(base: Path) -> list[str]:
    """Lines of the finished (visible) part files, sorted."""
    return sorted(line for p in base.iterdir() if p.is_file() and not p.name.startswith(".")
                  for line in p.read_text().splitlines())


def test_sink_commits_the_end_of_input_only_with_a_later_checkpoint(tmp_path: Path) -> None:
    harness = file_sink(tmp_path)
    harness.open()
    harness.process_elements(["a", "b"])
    harness.snapshot(3)  # checkpoint 3 prepares a and b
    harness.process_elements(["c"])
    harness.end_input()  # c: pending under checkpoint 4, nothing committed
    final = harness.snapshot(0)  # the final state carries every pending committable
    assert committed(tmp_path) == []
    harness.operator.notify_checkpoint_complete(3)  # took the state before the end: only a and b
    assert committed(tmp_path) == ["a", "b"]
    harness.operator.notify_checkpoint_complete(4)  # the first checkpoint that holds the final state
    assert committed(tmp_path) == ["a", "b", "c"]
    harness.close()
    assert committed(tmp_path) == ["a", "b", "c"]

    restored = file_sink(tmp_path)  # a restore of the final state commits again: idempotent, no duplicates
    restored.initialize_state(final)
    restored.open()
    assert committed(tmp_path) == ["a", "b", "c"]
    restored.close()


def test_restore_commits_the_pending_files_of_a_final_state(tmp_path: Path) -> None:
    """The job failed after the final checkpoint completed but before its notification reached the sink: the
    restored state's committables are committed at open (Flink: the committer retries restored committables)."""
    harness = file_sink(tmp_path)
    harness.open()
    harness.process_elements(["x", "y"])
    harness.end_input()
    final: OperatorSnapshot = pickle.loads(pickle.dumps(harness.snapshot(0)))
    harness.close()  # the attempt dies: nothing visible
    assert committed(tmp_path) == []
    restored = file_sink(tmp_path)
    restored.initialize_state(final)
    restored.open()
    assert committed(tmp_path) == ["x", "y"]
    restored.end_input()  # the restored subtask ends again at once: nothing new to commit, nothing twice
    restored.operator.notify_checkpoint_complete(1)
    assert committed(tmp_path) == ["x", "y"]
    restored.close()


def test_without_periodic_checkpoints_the_end_of_input_commits(tmp_path: Path) -> None:
    harness = file_sink(tmp_path, final_checkpoint=False)
    harness.open()
    harness.process_elements(["a"])
    harness.snapshot(2)  # a savepoint prepared a, never notified
    harness.process_elements(["b"])
    harness.end_input()  # batch semantics: everything now
    assert committed(tmp_path) == ["a", "b"]
    harness.close()


def test_task_waits_for_a_checkpoint_after_the_last_one_it_took(tmp_path: Path) -> None:
    async def scenario() -> None:
        cp = checkpointer(Log(), CheckpointStorage("j" * 32, None))
        cp.perform(barrier(5, str(tmp_path)))
        await cp.wait_for_uploads()
        waiter = asyncio.ensure_future(cp.wait_for_final_checkpoint())
        await asyncio.sleep(0)
        cp.notify(5, completed=True)  # it took 5 before its end: not its final checkpoint
        cp.notify(6, completed=False)
        await asyncio.sleep(0)
        assert not waiter.done()
        cp.notify(7, completed=True)
        await asyncio.wait_for(waiter, 1)
        sink = cp.chain.operators[1]  # type: ignore[union-attr]
        assert sink.committed == [5, 7]  # the operators heard of it before the task goes on
        assert not cp.stopped_by_savepoint
        cp.close()

    asyncio.run(scenario())


def test_task_waits_for_its_stop_with_savepoint_instead(tmp_path: Path) -> None:
    async def scenario() -> None:
        cp = checkpointer(Log(), CheckpointStorage("j" * 32, None))
        cp.perform(barrier(8, str(tmp_path), SnapshotType.SAVEPOINT_TERMINATE))
        await cp.wait_for_uploads()
        waiter = asyncio.ensure_future(cp.wait_for_final_checkpoint())
        await asyncio.sleep(0)
        cp.notify(8, completed=True)  # no periodic checkpoint follows a completed stop-with-savepoint
        await asyncio.wait_for(waiter, 1)
        assert cp.stopped_by_savepoint
        await asyncio.wait_for(cp.wait_for_final_checkpoint(), 1)  # known already: no wait
        cp.close()

    asyncio.run(scenario())


def test_a_failed_final_commit_fails_the_wait(tmp_path: Path) -> None:
    async def scenario() -> None:
        cp = checkpointer(Log(), CheckpointStorage("j" * 32, None))
        sink: Any = cp.chain.operators[1]  # type: ignore[union-attr]

        def lost(checkpoint_id: int) -> None:
            raise FileNotFoundError("in-progress file gone")

        sink.notify_checkpoint_complete = lost
        waiter = asyncio.ensure_future(cp.wait_for_final_checkpoint())
        await asyncio.sleep(0)
        cp.notify(1, completed=True)
        with pytest.raises(FileNotFoundError):
            await asyncio.wait_for(waiter, 1)
        cp.close()

    asyncio.run(scenario())


@synchronously
async def test_a_checkpoint_completes_at_once_when_every_task_sent_its_final_state() -> None:
    tasks = FakeTasks()
    jg = job_graph(2)
    cp = running(jg, tasks)
    executions = list(cp.graph.executions())
    source = next(ex for ex in executions if ex.vertex.job_vertex.is_source)
    cp.acknowledge(source.id, 0, pickle.dumps({}))
    assert cp.plan() is None  # the counters still run and have no barrier to wait for: they end soon
    for ex in executions:
        if ex is not source:
            cp.acknowledge(ex.id, 0, pickle.dumps({}))
    plan = cp.plan()
    assert plan is not None and plan.tasks_to_trigger == () and set(plan.final_states) == {e.id for e in executions}
    final = cp.trigger_checkpoint()
    await cp.driver.drain()
    assert cp.coordinator.stats.completed == 1 and not tasks.barriers
    assert {(e.id, final, True) for e in executions} <= set(tasks.notified)  # the waiting tasks hear of it
    assert all(ex.state is ExecutionState.RUNNING for ex in executions)  # they finish after the notification


def test_deployments_carry_the_final_checkpoint_settings() -> None:
    tasks = FakeTasks()
    assert running(job_graph(1), tasks).task_config() == {}
    config = running(job_graph(1, **{"execution.checkpointing.interval": "2 s"}), tasks).task_config()
    assert config == {"execution.checkpointing.interval": "2000 ms",
                      "execution.checkpointing.checkpoints-after-tasks-finish": "true"}
