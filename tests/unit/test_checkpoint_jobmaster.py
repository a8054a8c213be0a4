"""The JobMaster's checkpoint wiring (``runtime/jobmaster/checkpointing.py``) with a real ExecutionGraph and fake
tasks that upload their state as real tasks do: in-memory checkpoints (Flink's JobManagerCheckpointStorage), manual
checkpoints, savepoints and stop-with-savepoint, restore from ``execution.state-recovery.path`` at another
parallelism, unclaimed state, and the fallback from a corrupt newest ``_metadata`` on failover."""

from __future__ import annotations

import asyncio
import functools
import pickle
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Optional

import pytest

from tests.unit.test_job_graph import op, source
from yflink.checkpoint.barriers import CheckpointBarrier, SnapshotType
from yflink.checkpoint.errors import CheckpointError, CheckpointMetadataError, StateAssignmentError
from yflink.checkpoint.handles import ByteStreamStateHandle, KeyGroupRange
from yflink.checkpoint.storage import NON_PERSISTENT_POINTER, JobManagerCheckpointStorage
from yflink.checkpoint.task_state import write_operator_snapshot
from yflink.common.configuration import Configuration
from yflink.graph.job_graph import JobGraph, create_job_graph
from yflink.graph.stream_graph import generate_stream_graph
from yflink.runtime.jobmaster.checkpointing import JobCheckpointing
from yflink.runtime.jobmaster.execution_graph import ExecutionGraph, SlotAssignment
from yflink.runtime.states import ExecutionState, JobStatus
from yflink.state.key_groups import assign_to_key_group, key_group_range
from yflink.state.snapshot import KeyedStateSnapshot, OperatorSnapshot, OperatorStateSnapshot


def synchronously(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test on a fresh event loop (pytest fixtures still reach it)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return run


SLOT = SlotAssignment("alloc", "tm-1", "127.0.0.1:1", "127.0.0.1:2")
KEYS = [f"k{i}" for i in range(40)]


def job_graph(parallelism: int, counter_uid: str = "counter", **config: str) -> JobGraph:
    conf = Configuration()
    for key, value in config.items():
        conf.set_string(key, value)
    numbers = source(parallelism=1)
    numbers.uid = "numbers"  # with uids the ids survive chaining changes (parallelism 1 chains both)
    counter = op(numbers, "counter", parallelism=parallelism)
    counter.uid = counter_uid
    jg = create_job_graph(generate_stream_graph([counter], conf))
    jg.config.update(config)
    return jg


class FakeTasks:
    """Tasks of a running job: a triggered source makes every execution snapshot, upload (as
    ``TaskCheckpointer`` does, through ``write_operator_snapshot``) and acknowledge. The counter's keyed state is
    ``{key: checkpoint id}`` for the keys of its key groups; the source keeps its offset in list state."""

    def __init__(self) -> None:
        self.cp: Optional[JobCheckpointing] = None
        self.notified: list[tuple[str, int, bool]] = []
        self.barriers: list[CheckpointBarrier] = []

    async def trigger(self, execution_id: str, barrier: CheckpointBarrier) -> None:
        cp = self.cp
        assert cp is not None
        self.barriers.append(barrier)
        for ex in cp.graph.executions():
            jv = ex.vertex.job_vertex
            groups = KeyGroupRange.of(key_group_range(jv.max_parallelism, jv.parallelism, ex.subtask_index))
            if jv.is_source:
                snapshot = OperatorSnapshot(ex.subtask_index, jv.parallelism,
                                            operator=OperatorStateSnapshot(list_states={"offset": [100]}))
            else:
                mine = {k: barrier.checkpoint_id for k in KEYS
                        if assign_to_key_group(k, jv.max_parallelism) in groups}
                keyed = KeyedStateSnapshot(jv.max_parallelism, {"count": "value"})
                for k, v in mine.items():
                    keyed.groups.setdefault(assign_to_key_group(k, jv.max_parallelism), {}).setdefault(
                        "count", {})[k] = v
                snapshot = OperatorSnapshot(ex.subtask_index, jv.parallelism, keyed)
            handles = write_operator_snapshot(cp.storage, barrier.options.target_location, snapshot, groups,
                                              inline_threshold=0)
            cp.acknowledge(ex.id, barrier.checkpoint_id, pickle.dumps({jv.operator_ids[-1]: handles}))

    async def notify(self, execution_id: str, checkpoint_id: int, completed: bool) -> None:
        self.notified.append((execution_id, checkpoint_id, completed))


def running(jg: JobGraph, tasks: FakeTasks) -> JobCheckpointing:
    graph = ExecutionGraph(jg, 0)
    conf = Configuration()
    for key, value in jg.config.items():
        conf.set_string(key, value)
    cp = JobCheckpointing(jg, graph, conf, tasks.trigger, tasks.notify, fail_job=lambda m: None,
                          is_deployed=lambda: True)
    tasks.cp = cp
    graph.start_scheduling(1)
    for ex in graph.executions():
        graph.mark_deploying(ex.id, SLOT, 2)
        graph.update_state(ex.id, ExecutionState.RUNNING, 3)
    return cp


def restored(cp: JobCheckpointing, jg: JobGraph, uid: str, index: int) -> OperatorSnapshot:
    """What subtask ``index`` of the operator with ``uid`` restores (its own entry of the snapshot list)."""
    [(vertex, node)] = [(v, n) for v in jg.vertices for n, u in zip(v.node_ids, v.operator_uids) if u == uid]
    payload = cp.restored_state(vertex.id, index)
    assert payload is not None
    snapshots = pickle.loads(payload)[node]
    assert all(s.keyed is None and s.operator is None for i, s in enumerate(snapshots) if i != index)
    return snapshots[index]  # type: ignore[no-any-return]


def counts(cp: JobCheckpointing, jg: JobGraph) -> dict[str, Any]:
    """Every key's restored count over the counter's subtasks (each subtask restores only its key groups)."""
    [counter] = [v for v in jg.vertices if "counter" in v.operator_uids]
    found: dict[str, Any] = {}
    for index in range(counter.parallelism):
        keyed = restored(cp, jg, "counter", index).keyed
        assert keyed is not None
        groups = key_group_range(counter.max_parallelism, counter.parallelism, index)
        assert set(keyed.groups) <= set(groups)
        for table in keyed.groups.values():
            for key, value in table["count"].items():
                assert key not in found
                found[key] = value
    return found


async def wait_completed(cp: JobCheckpointing, n: int) -> None:
    for _ in range(200):
        await cp.driver.drain()
        if cp.coordinator.stats.completed >= n:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{n} checkpoints did not complete: {cp.coordinator.stats}")


@synchronously
async def test_without_a_checkpoint_dir_checkpoints_stay_in_memory(tmp_path: Path) -> None:
    tasks = FakeTasks()
    cp = running(job_graph(2), tasks)
    assert isinstance(cp.storage, JobManagerCheckpointStorage)
    await cp.on_task_state_changed()
    first = cp.trigger_checkpoint()
    await wait_completed(cp, 1)
    assert tasks.barriers[0].options.target_location is None  # the tasks keep everything inline
    latest = cp.coordinator.latest_completed_checkpoint()
    assert latest is not None and latest.checkpoint_id == first and latest.external_pointer == NON_PERSISTENT_POINTER
    handles = [h for o in latest.metadata.operators for h, _ in o.stream_handles()]
    assert handles and all(isinstance(h, ByteStreamStateHandle) for h in handles)
    assert {(cid, done) for _, cid, done in tasks.notified} == {(first, True)}
    second = cp.trigger_checkpoint()
    await wait_completed(cp, 2)
    assert [c.checkpoint_id for c in cp.coordinator.store.all()] == [second]  # num-retained 1: first subsumed
    assert await cp.prepare_failover_restore(1) == second
    assert counts(cp, cp.graph.job_graph) == {k: second for k in KEYS}
    await cp.shutdown(JobStatus.FINISHED)
    assert list(tmp_path.iterdir()) == []


@synchronously
async def test_manual_checkpoint_needs_every_task_running() -> None:
    tasks = FakeTasks()
    jg = job_graph(2)
    graph = ExecutionGraph(jg, 0)
    cp = JobCheckpointing(jg, graph, Configuration(), tasks.trigger, tasks.notify, fail_job=lambda m: None,
                          is_deployed=lambda: False)
    with pytest.raises(CheckpointError, match="Not all required tasks are currently running"):
        cp.trigger_checkpoint()


@synchronously
async def test_savepoint_errors_are_clear(tmp_path: Path) -> None:
    cp = running(job_graph(2), FakeTasks())
    with pytest.raises(CheckpointError, match="execution.checkpointing.savepoint-dir"):
        await cp.trigger_savepoint(None)
    with pytest.raises(CheckpointError, match="format type 'BINARY'"):
        await cp.trigger_savepoint(str(tmp_path), "BINARY")
    cp.graph.cancel(5)
    with pytest.raises(CheckpointError, match="not RUNNING"):
        await cp.trigger_savepoint(str(tmp_path))
    with pytest.raises(CheckpointError, match="not RUNNING"):
        await cp.stop_with_savepoint(str(tmp_path), drain=False)


@synchronously
async def test_savepoint_then_restore_at_another_parallelism(tmp_path: Path) -> None:
    tasks = FakeTasks()
    cp = running(job_graph(2, **{"execution.checkpointing.savepoint-dir": str(tmp_path / "sp")}), tasks)
    await cp.on_task_state_changed()
    path = await cp.trigger_savepoint(None)
    assert path.startswith(f"file://{tmp_path}/sp/savepoint-") and Path(path[7:], "_metadata").exists()
    assert tasks.barriers[-1].options.snapshot_type is SnapshotType.SAVEPOINT
    assert not tasks.notified  # a savepoint does not commit side effects
    savepoint_id = tasks.barriers[-1].checkpoint_id
    await cp.shutdown(JobStatus.CANCELED)
    assert Path(path[7:], "_metadata").exists()  # savepoints belong to the user

    for parallelism in (3, 1):
        jg = job_graph(parallelism)
        cp_restored = JobCheckpointing(jg, ExecutionGraph(jg, 0), _conf(path), FakeTasks().trigger,
                                       FakeTasks().notify, fail_job=lambda m: None, is_deployed=lambda: True)
        await cp_restored.prepare_initial_restore()
        assert counts(cp_restored, jg) == {k: savepoint_id for k in KEYS}
        assert restored(cp_restored, jg, "numbers", 0).operator == OperatorStateSnapshot(
            list_states={"offset": [100]})
        assert cp_restored.coordinator.stats.latest_restored == (savepoint_id, path)
        assert cp_restored.coordinator.next_checkpoint_id == savepoint_id + 1


def _conf(path: str, **extra: str) -> Configuration:
    conf = Configuration()
    conf.set_string("execution.savepoint.path", path)  # the deprecated key works too
    for key, value in extra.items():
        conf.set_string(key, value)
    return conf


@synchronously
async def test_stop_with_savepoint_is_synchronous_and_commits(tmp_path: Path) -> None:
    tasks = FakeTasks()
    cp = running(job_graph(2), tasks)
    await cp.on_task_state_changed()
    path = await cp.stop_with_savepoint(str(tmp_path), drain=True)
    barrier = tasks.barriers[-1]
    assert barrier.options.snapshot_type is SnapshotType.SAVEPOINT_TERMINATE
    assert Path(path[7:], "_metadata").exists()
    # every task hears that the synchronous savepoint completed: sinks commit, sources end
    assert {ex for ex, cid, done in tasks.notified if cid == barrier.checkpoint_id and done} == {
        ex.id for ex in cp.graph.executions()}
    assert not cp.coordinator.is_scheduler_running


@synchronously
async def test_failed_stop_with_savepoint_raises_and_the_job_goes_on(tmp_path: Path) -> None:
    tasks = FakeTasks()
    cp = running(job_graph(2, **{"execution.checkpointing.interval": "1 h"}), tasks)
    await cp.on_task_state_changed()

    async def decline(execution_id: str, barrier: CheckpointBarrier) -> None:
        cp.decline(execution_id, barrier.checkpoint_id, "snapshot failed: OSError: disk full")

    cp.driver.gateway._trigger = decline  # type: ignore[attr-defined]
    with pytest.raises(CheckpointError, match="disk full"):
        await cp.stop_with_savepoint(str(tmp_path), drain=False)
    assert cp.coordinator.is_scheduler_running  # periodic checkpoints resume
    assert [done for _, _, done in tasks.notified] and not any(done for _, _, done in tasks.notified)


@synchronously
async def test_unclaimed_state_fails_unless_ignored(tmp_path: Path) -> None:
    tasks = FakeTasks()
    cp = running(job_graph(2), tasks)
    await cp.on_task_state_changed()
    path = await cp.trigger_savepoint(str(tmp_path))
    other = job_graph(2, counter_uid="renamed")
    other_graph = ExecutionGraph(other, 0)
    missing = JobCheckpointing(other, other_graph, _conf(path), tasks.trigger, tasks.notify,
                               fail_job=lambda m: None, is_deployed=lambda: True)
    counter_id = cp.graph.job_graph.vertices[1].operator_ids[0]
    assert counter_id not in other.vertices[1].operator_ids
    with pytest.raises(StateAssignmentError, match=f"operator {counter_id} \\(uid 'counter'\\).*"
                                                   "--allowNonRestoredState"):
        await missing.prepare_initial_restore()
    ignoring = JobCheckpointing(other, other_graph, _conf(path, **{
        "execution.state-recovery.ignore-unclaimed-state": "true"}), tasks.trigger, tasks.notify,
        fail_job=lambda m: None, is_deployed=lambda: True)
    await ignoring.prepare_initial_restore()


@synchronously
async def test_missing_or_corrupt_recovery_path_names_the_path(tmp_path: Path) -> None:
    jg = job_graph(2)
    for path, problem in ((tmp_path / "nothing", "does not exist"), (tmp_path / "corrupt", "")):
        if problem == "":
            path.mkdir()
            (path / "_metadata").write_text("garbage")
        cp = JobCheckpointing(jg, ExecutionGraph(jg, 0), _conf(str(path)), FakeTasks().trigger, FakeTasks().notify,
                              fail_job=lambda m: None, is_deployed=lambda: True)
        with pytest.raises(CheckpointMetadataError, match=str(path)):
            await cp.prepare_initial_restore()


@synchronously
async def test_failover_falls_back_when_the_newest_metadata_is_corrupt(tmp_path: Path) -> None:
    tasks = FakeTasks()
    cp = running(job_graph(2, **{"execution.checkpointing.dir": str(tmp_path),
                                 "execution.checkpointing.num-retained": "3"}), tasks)
    await cp.on_task_state_changed()
    ids = []
    for n in range(3):
        ids.append(cp.trigger_checkpoint())
        await wait_completed(cp, n + 1)
    job_dir = tmp_path / cp.job_id
    (job_dir / f"chk-{ids[-1]}" / "_metadata").write_bytes(b"YFLINK-CHECKPOINT-METADATA 1\n{broken")
    assert await cp.prepare_failover_restore(1) == ids[-2]
    assert counts(cp, cp.graph.job_graph) == {k: ids[-2] for k in KEYS}
    assert cp.coordinator.stats.latest_restored == (ids[-2], f"file://{job_dir}/chk-{ids[-2]}")
    await cp.driver.drain()
    assert not (job_dir / f"chk-{ids[-1]}").exists()  # the unreadable one left the store
    assert [c.checkpoint_id for c in cp.coordinator.store.all()] == ids[:2]


@synchronously
async def test_finished_tasks_count_with_their_final_state() -> None:
    """FLIP-147: a task that finished sent its final state (checkpoint id 0); later checkpoints, and one that was
    waiting for it, take that state, so a restore resumes it at its end."""
    tasks = FakeTasks()
    jg = job_graph(2)
    cp = running(jg, tasks)
    await cp.on_task_state_changed()
    counter_ex = [ex for ex in cp.graph.executions() if not ex.vertex.job_vertex.is_source]
    source_ex = next(ex for ex in cp.graph.executions() if ex.vertex.job_vertex.is_source)

    async def only_source_acks(execution_id: str, barrier: CheckpointBarrier) -> None:
        cp.acknowledge(source_ex.id, barrier.checkpoint_id, pickle.dumps({}))

    cp.driver.gateway._trigger = only_source_acks  # type: ignore[attr-defined]
    waiting = cp.trigger_checkpoint()
    await cp.driver.drain()
    assert cp.coordinator.stats.completed == 0  # the counters have not acknowledged
    final = KeyedStateSnapshot(jg.vertices[1].max_parallelism, {"count": "value"})
    for ex in counter_ex:
        groups = KeyGroupRange.of(key_group_range(jg.vertices[1].max_parallelism, 2, ex.subtask_index))
        state = {k: -1 for k in KEYS if assign_to_key_group(k, final.max_parallelism) in groups}
        snapshot = OperatorSnapshot(ex.subtask_index, 2, KeyedStateSnapshot(
            final.max_parallelism, {"count": "value"},
            groups={g: {"count": {k: v for k, v in state.items() if assign_to_key_group(k, 128) == g}}
                    for g in {assign_to_key_group(k, 128) for k in state}}))
        handles = write_operator_snapshot(cp.storage, None, snapshot, groups)
        cp.acknowledge(ex.id, 0, pickle.dumps({jg.vertices[1].operator_ids[0]: handles}))
        cp.graph.update_state(ex.id, ExecutionState.FINISHED, 5)
    await wait_completed(cp, 1)
    assert cp.coordinator.latest_completed_checkpoint().checkpoint_id == waiting  # type: ignore[union-attr]
    later = cp.trigger_checkpoint()  # the source still runs: checkpoints go on
    await wait_completed(cp, 2)
    assert await cp.prepare_failover_restore(1) == later
    assert counts(cp, jg) == {k: -1 for k in KEYS}


@synchronously
async def test_history_has_one_entry_per_checkpoint_with_its_latest_status() -> None:
    cp = running(job_graph(2), FakeTasks())
    await cp.on_task_state_changed()
    first = cp.trigger_checkpoint()
    await wait_completed(cp, 1)
    assert list(cp.coordinator.stats.history) == [(first, "CHECKPOINT", "COMPLETED")]


@pytest.mark.parametrize("min_pause", [None, "10 min"])
@synchronously
async def test_final_checkpoint_is_taken_once_every_task_finished(min_pause: Optional[str]) -> None:
    """Once every task sent its final state (FLIP-147) the final checkpoint they wait for is taken at once, not at
    the next periodic trigger (here an hour away); with a min pause the periodic schedule keeps it."""
    config = {"execution.checkpointing.interval": "1 h"}
    if min_pause:
        config["execution.checkpointing.min-pause"] = min_pause
    tasks = FakeTasks()
    jg = job_graph(2, **config)
    cp = running(jg, tasks)
    await cp.on_task_state_changed()
    assert cp.coordinator.is_scheduler_running
    executions = list(cp.graph.executions())
    for i, ex in enumerate(executions):
        cp.acknowledge(ex.id, 0, pickle.dumps({}))
        await cp.driver.drain()
        if i < len(executions) - 1:
            assert cp.coordinator.stats.completed == 0  # some task still runs: no early checkpoint
    if min_pause:
        await asyncio.sleep(0.05)
        await cp.driver.drain()
        assert cp.coordinator.stats.completed == 0
    else:
        await wait_completed(cp, 1)
        assert {(ex.id, True) for ex in executions} <= {(e, c) for e, _, c in tasks.notified}
    await cp.driver.stop()
