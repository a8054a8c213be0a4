"""The CheckpointCoordinator as a pure state machine: triggering, acknowledgements, completion, failures,
retention and subsumption, savepoints.

Flink documentation, "Checkpointing" (interval, min pause, max concurrent checkpoints, timeout, tolerable failed
checkpoints, retained/externalized checkpoints), "Checkpoints" (Retained Checkpoints), "Savepoints" (triggering,
stop-with-savepoint, savepoints are owned by the user), "Stateful Stream Processing" (a checkpoint is complete when
all tasks acknowledged), "Task Failure Recovery" (restore from the latest completed checkpoint), and
"Checkpointing" > "Incremental checkpoints" (shared files). Every path is a test below.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Optional

import pytest

from yflink.checkpoint.barriers import AlignmentType, SnapshotType
from yflink.checkpoint.coordinator import (
    CheckpointCoordinator,
    CoordinatorInstruction,
    DiscardState,
    FailJob,
    NotifyCheckpointAborted,
    NotifyCheckpointComplete,
    SavepointCompleted,
    SavepointFailed,
    TriggerCheckpoint,
    WriteMetadata,
)
from yflink.checkpoint.errors import CheckpointFailureReason as R
from yflink.checkpoint.handles import (
    FileStateHandle,
    IncrementalKeyedStateHandle,
    KeyGroupRange,
    KeyGroupsStateHandle,
    OperatorSubtaskState,
)
from yflink.checkpoint.options import (
    CheckpointCoordinatorConfiguration,
    CheckpointingMode,
    ExternalizedCheckpointRetention,
)
from yflink.checkpoint.pending import CheckpointPlan, TaskRef, VertexInfo
from yflink.checkpoint.storage import CheckpointStorage
from yflink.fs import get_file_system, join

JOB = "feedfacefeedfacefeedfacefeedface"
SRC, MAP = "a" * 32, "b" * 32
TASKS = {"src-0": TaskRef("v-src", 0), "src-1": TaskRef("v-src", 1),
         "map-0": TaskRef("v-map", 0), "map-1": TaskRef("v-map", 1)}
VERTICES = [VertexInfo("v-src", 2, 128, (SRC,), ("source",)), VertexInfo("v-map", 2, 128, (MAP,))]


class Harness:
    """A coordinator over storage in a temporary directory; ``running`` controls the plan."""

    def __init__(self, tmp_path: Path, **config: Any) -> None:
        settings: dict[str, Any] = {"interval_ms": 1000, "checkpoints_dir": str(tmp_path / "chk"),
                                    "savepoints_dir": str(tmp_path / "sp")}
        settings.update(config)
        self.config = CheckpointCoordinatorConfiguration(**settings)
        self.storage = CheckpointStorage.from_config(JOB, self.config)
        self.running = True
        self.finished: tuple[TaskRef, ...] = ()
        self.coordinator = CheckpointCoordinator(JOB, self.config, VERTICES, self.storage, self.plan,
                                                 rng=random.Random(1))

    def plan(self) -> Optional[CheckpointPlan]:
        if not self.running:
            return None
        waiting = {e: t for e, t in TASKS.items() if t not in self.finished}
        return CheckpointPlan(tuple(e for e in waiting if e.startswith("src")), waiting, self.finished)

    def trigger(self, now: int = 0) -> int:
        """Trigger a periodic checkpoint now (however the schedule stands); its id."""
        self.coordinator._next_periodic_ms = now
        self.coordinator._periodic = True
        out = self.coordinator.tick(now)
        triggers = [i for i in out if isinstance(i, TriggerCheckpoint)]
        assert len(triggers) == 1, out
        return triggers[0].checkpoint_id

    def ack_all(self, checkpoint_id: int, now: int = 0, state: Any = None,
                skip: tuple[str, ...] = ()) -> list[CoordinatorInstruction]:
        out: list[CoordinatorInstruction] = []
        for execution in TASKS:
            if execution not in skip:
                out += self.coordinator.acknowledge(execution, checkpoint_id, state(execution) if state else None, now)
        return out

    def complete(self, checkpoint_id: int, now: int = 0, state: Any = None) -> list[CoordinatorInstruction]:
        """Acknowledge from every task, write _metadata as instructed, report it written."""
        out = self.ack_all(checkpoint_id, now, state)
        writes = [i for i in out if isinstance(i, WriteMetadata)]
        assert len(writes) == 1, out
        pointer = self.storage.write_metadata(writes[0].location, writes[0].metadata)
        return self.coordinator.metadata_written(checkpoint_id, pointer, now)


def of(kind: type, out: list[CoordinatorInstruction]) -> list[Any]:
    return [i for i in out if isinstance(i, kind)]


# --- triggering -------------------------------------------------------------------------------------------
def test_periodic_trigger_after_a_random_first_delay_then_every_interval(tmp_path: Path) -> None:
    h = Harness(tmp_path, interval_ms=1000, min_pause_ms=200)
    assert h.coordinator.tick(10_000) == []  # not started
    h.coordinator.start_scheduler(0)
    first = h.coordinator.next_wakeup_ms()
    assert first is not None and 200 <= first <= 1000
    assert h.coordinator.tick(first - 1) == []
    [trigger] = h.coordinator.tick(first)
    assert isinstance(trigger, TriggerCheckpoint) and trigger.checkpoint_id == 1
    assert trigger.tasks == ("src-0", "src-1")  # barriers enter at the sources
    assert trigger.location.exclusive_dir.endswith(f"/chk/{JOB}/chk-1")
    assert trigger.barrier.options.alignment is AlignmentType.ALIGNED
    assert trigger.barrier.options.target_location == trigger.location.exclusive_dir
    assert h.coordinator.next_wakeup_ms() == first + 1000  # the next periodic time (before the expiry)


def test_at_least_once_barriers_say_so(tmp_path: Path) -> None:
    h = Harness(tmp_path, mode=CheckpointingMode.AT_LEAST_ONCE)
    h.coordinator.start_scheduler(0)
    out = h.coordinator.tick(10_000)
    assert of(TriggerCheckpoint, out)[0].barrier.options.alignment is AlignmentType.AT_LEAST_ONCE


def test_max_concurrent_checkpoints_queue_the_periodic_request(tmp_path: Path) -> None:
    h = Harness(tmp_path, max_concurrent=1)
    first = h.trigger(0)
    h.coordinator._next_periodic_ms = 1000
    assert of(TriggerCheckpoint, h.coordinator.tick(1000)) == []  # one in flight: wait
    out = h.complete(first, now=1500)
    assert [t.checkpoint_id for t in of(TriggerCheckpoint, out)] == [2]  # the queued request runs at once


def test_two_concurrent_checkpoints_when_allowed(tmp_path: Path) -> None:
    h = Harness(tmp_path, max_concurrent=2)
    h.trigger(0)
    h.trigger(100)
    assert sorted(h.coordinator.pending) == [1, 2]


def test_min_pause_delays_the_next_trigger_after_a_completion(tmp_path: Path) -> None:
    h = Harness(tmp_path, interval_ms=1000, min_pause_ms=800)
    h.complete(h.trigger(0), now=900)
    h.coordinator._next_periodic_ms = 1000
    assert of(TriggerCheckpoint, h.coordinator.tick(1000)) == []
    assert h.coordinator.next_wakeup_ms() == 1700  # completion + min pause
    assert [t.checkpoint_id for t in of(TriggerCheckpoint, h.coordinator.tick(1700))] == [2]


def test_nothing_is_triggered_unless_every_task_runs(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.running = False
    h.coordinator.start_scheduler(0)
    assert h.coordinator.tick(5000) == [] and h.coordinator.next_checkpoint_id == 1
    assert h.coordinator.trigger_savepoint(5000, request_id="r") == [
        SavepointFailed("r", R.NOT_ALL_REQUIRED_TASKS_RUNNING, R.NOT_ALL_REQUIRED_TASKS_RUNNING.value)]


# --- completion -------------------------------------------------------------------------------------------
def test_complete_when_every_task_acknowledged_and_metadata_written_last(tmp_path: Path) -> None:
    """Stateful Stream Processing: complete when all tasks acknowledged; _metadata is written last."""
    h = Harness(tmp_path)
    checkpoint = h.trigger(0)
    location = h.coordinator.pending[checkpoint].location
    handle = FileStateHandle(join(location.exclusive_dir, "state-map-0"), 3)

    def state(execution: str) -> Any:
        if execution != "map-0":
            return None
        return {MAP: OperatorSubtaskState([KeyGroupsStateHandle(KeyGroupRange(0, 63), (0,) * 64, handle)])}

    out = h.ack_all(checkpoint, state=state, skip=("map-1",))
    assert out == [] and not get_file_system(location.metadata_path).exists(location.metadata_path)
    assert h.coordinator.acknowledge("map-1", checkpoint, None, 5)[0].__class__ is WriteMetadata
    assert h.coordinator.acknowledge("map-1", checkpoint, None, 5) == []  # duplicate
    assert h.coordinator.latest_completed_checkpoint() is None  # not before _metadata is written
    write = of(WriteMetadata, h.ack_all(checkpoint))  # duplicates again: nothing new
    assert write == []
    pending = h.coordinator.pending[checkpoint]
    metadata = pending.to_metadata(JOB)
    pointer = h.storage.write_metadata(location, metadata)
    done = h.coordinator.metadata_written(checkpoint, pointer, 10)
    assert done == [NotifyCheckpointComplete(checkpoint, 0, tuple(sorted(TASKS)), None)]
    latest = h.coordinator.latest_completed_checkpoint()
    assert latest is not None and latest.checkpoint_id == checkpoint and latest.external_pointer == pointer
    restored = h.storage.read_metadata(pointer)
    assert restored.operator(MAP).subtasks[0].keyed[0].stream == handle  # type: ignore[union-attr]
    assert restored.operator(SRC).uid == "source"  # type: ignore[union-attr]
    assert h.coordinator.stats.completed == 1 and h.coordinator.stats.latest_completed == (checkpoint, pointer)


def test_retention_keeps_the_last_n_and_subsumes_older_ones(tmp_path: Path) -> None:
    """Checkpoints > Retained Checkpoints: num-retained; subsumed checkpoints are deleted."""
    h = Harness(tmp_path, num_retained=2)
    outs = [h.complete(h.trigger(t), now=t) for t in (0, 1, 2)]
    assert of(DiscardState, outs[0]) == of(DiscardState, outs[1]) == []
    [discard] = of(DiscardState, outs[2])
    assert discard.plan.checkpoint_id == 1 and discard.plan.directories[0].endswith("/chk-1")
    assert of(NotifyCheckpointComplete, outs[2])[0].last_subsumed == 1
    assert [c.checkpoint_id for c in h.coordinator.store.all()] == [2, 3]


def test_a_completed_checkpoint_subsumes_older_pending_ones_without_counting_failures(tmp_path: Path) -> None:
    h = Harness(tmp_path, max_concurrent=2)
    older, newer = h.trigger(0), h.trigger(1)
    out = h.complete(newer, now=2)
    [aborted] = of(NotifyCheckpointAborted, out)
    assert (aborted.checkpoint_id, aborted.reason) == (older, R.CHECKPOINT_SUBSUMED)
    assert of(FailJob, out) == [] and h.coordinator.pending == {}


def test_operators_whose_subtasks_all_finished_are_marked_finished(tmp_path: Path) -> None:
    """Checkpointing with parts of the graph finished: finished subtasks acknowledge nothing."""
    h = Harness(tmp_path)
    h.finished = (TaskRef("v-src", 0), TaskRef("v-src", 1))
    checkpoint = h.trigger(0)
    out = h.ack_all(checkpoint, skip=("src-0", "src-1"))
    [write] = of(WriteMetadata, out)
    assert write.metadata.operator(SRC).fully_finished  # type: ignore[union-attr]
    assert not write.metadata.operator(MAP).fully_finished  # type: ignore[union-attr]


# --- failures ---------------------------------------------------------------------------------------------
def test_decline_aborts_discards_and_fails_the_job_without_tolerance(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    checkpoint = h.trigger(0)
    out = h.coordinator.decline("map-1", checkpoint, R.CHECKPOINT_DECLINED, "disk full", 5)
    assert of(NotifyCheckpointAborted, out) == [NotifyCheckpointAborted(checkpoint, R.CHECKPOINT_DECLINED,
                                                                        tuple(sorted(TASKS)))]
    assert of(DiscardState, out)[0].plan.directories[0].endswith("/chk-1")
    [fail] = of(FailJob, out)
    assert "Exceeded checkpoint tolerable failure threshold" in fail.message and "disk full" in fail.message
    assert h.coordinator.decline("map-1", 99, R.CHECKPOINT_DECLINED, "", 6) == []  # unknown checkpoint


def test_tolerable_failed_checkpoints_count_consecutive_failures_and_reset_on_success(tmp_path: Path) -> None:
    h = Harness(tmp_path, tolerable_failures=1, max_concurrent=1)
    assert of(FailJob, h.coordinator.decline("src-0", h.trigger(0), R.CHECKPOINT_DECLINED, "", 1)) == []
    h.complete(h.trigger(2), now=3)  # success resets the count
    assert of(FailJob, h.coordinator.decline("src-0", h.trigger(4), R.CHECKPOINT_DECLINED, "", 5)) == []
    expired = h.trigger(6)
    out = h.coordinator.tick(6 + h.config.timeout_ms)  # expiry counts too: second in a row
    assert of(NotifyCheckpointAborted, out)[0] == NotifyCheckpointAborted(expired, R.CHECKPOINT_EXPIRED,
                                                                          tuple(sorted(TASKS)))
    assert len(of(FailJob, out)) == 1


def test_reasons_that_do_not_count(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    for reason in (R.CHECKPOINT_DECLINED_SUBSUMED, R.CHECKPOINT_DECLINED_ON_CANCELLATION_BARRIER,
                   R.CHECKPOINT_DECLINED_TASK_NOT_READY, R.TASK_FAILURE):
        assert of(FailJob, h.coordinator.decline("src-0", h.trigger(0), reason, "", 1)) == []
    assert of(FailJob, h.coordinator.abort_all()) == []


def test_expiry_after_the_timeout(tmp_path: Path) -> None:
    h = Harness(tmp_path, timeout_ms=500, tolerable_failures=5)
    checkpoint = h.trigger(1000)
    assert h.coordinator.next_wakeup_ms() == 1500  # the deadline comes before the next periodic time
    assert of(NotifyCheckpointAborted, h.coordinator.tick(1499)) == []
    out = h.coordinator.tick(1500)
    assert of(NotifyCheckpointAborted, out)[0].reason is R.CHECKPOINT_EXPIRED
    assert h.coordinator.acknowledge("src-0", checkpoint, None, 1600) == []  # late: nothing to discard


def test_late_acknowledgement_state_of_an_aborted_checkpoint_is_discarded(tmp_path: Path) -> None:
    h = Harness(tmp_path, tolerable_failures=5)
    checkpoint = h.trigger(0)
    directory = h.coordinator.pending[checkpoint].location.exclusive_dir
    h.coordinator.decline("src-0", checkpoint, R.CHECKPOINT_DECLINED, "", 1)
    late = {MAP: OperatorSubtaskState([KeyGroupsStateHandle(KeyGroupRange(0, 0), (0,),
                                                            FileStateHandle("file:///elsewhere/k", 1))])}
    [discard] = h.coordinator.acknowledge("map-0", checkpoint, late, 2)
    assert isinstance(discard, DiscardState)
    assert discard.plan.directories == (directory,) and discard.plan.files == ("file:///elsewhere/k",)
    [unknown] = h.coordinator.acknowledge("not-a-task", 12345, late, 3)
    assert isinstance(unknown, DiscardState) and unknown.plan.files == ("file:///elsewhere/k",)


def test_metadata_write_failure_is_an_io_failure(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    checkpoint = h.trigger(0)
    assert of(WriteMetadata, h.ack_all(checkpoint))
    out = h.coordinator.metadata_failed(checkpoint, "HDFS unavailable", 1)
    assert of(NotifyCheckpointAborted, out)[0].reason is R.IO_EXCEPTION and of(FailJob, out)
    assert h.coordinator.latest_completed_checkpoint() is None


def test_abort_during_the_metadata_write_discards_once_the_write_ends(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    checkpoint = h.trigger(0)
    [write] = of(WriteMetadata, h.ack_all(checkpoint))
    out = h.coordinator.abort_all()  # job failover while _metadata is being written
    assert of(NotifyCheckpointAborted, out) and of(DiscardState, out) == []
    pointer = h.storage.write_metadata(write.location, write.metadata)
    [discard] = h.coordinator.metadata_written(checkpoint, pointer, 2)
    assert isinstance(discard, DiscardState) and discard.plan.directories == (pointer,)
    assert h.coordinator.latest_completed_checkpoint() is None


# --- savepoints -------------------------------------------------------------------------------------------
def test_savepoints_bypass_limits_are_not_retained_and_do_not_notify(tmp_path: Path) -> None:
    """Savepoints: owned by the user, never subsumed or deleted; they do not commit side effects."""
    h = Harness(tmp_path, max_concurrent=1, min_pause_ms=10_000, num_retained=1)
    h.trigger(0)  # one checkpoint in flight
    out = h.coordinator.trigger_savepoint(1, request_id="req-1")
    [trigger] = of(TriggerCheckpoint, out)
    assert trigger.options.snapshot_type is SnapshotType.SAVEPOINT
    assert "/sp/savepoint-feedfa-" in trigger.location.exclusive_dir and trigger.location.shared_dir is None
    done = h.complete(trigger.checkpoint_id, now=2)
    assert of(NotifyCheckpointComplete, done) == []
    assert of(SavepointCompleted, done) == [SavepointCompleted("req-1", 2, trigger.location.exclusive_dir, False)]
    assert h.coordinator.latest_completed_checkpoint() is None
    h.complete(1, now=3)
    h.complete(h.trigger(20_000), now=20_001)  # checkpoint 3 subsumes 1, never the savepoint
    assert get_file_system(trigger.location.metadata_path).exists(trigger.location.metadata_path)


def test_savepoint_without_a_directory_fails_clearly(tmp_path: Path) -> None:
    h = Harness(tmp_path, savepoints_dir=None)
    [failed] = h.coordinator.trigger_savepoint(0, request_id="r")
    assert isinstance(failed, SavepointFailed) and failed.reason is R.CHECKPOINT_STORAGE_NOT_CONFIGURED
    assert "savepoint-dir" in failed.message
    [trigger] = of(TriggerCheckpoint, h.coordinator.trigger_savepoint(0, str(tmp_path / "target"), "r2"))
    assert trigger.location.exclusive_dir.startswith(f"file://{tmp_path}/target/savepoint-")


def test_stop_with_savepoint_stops_periodic_checkpoints_and_notifies_sinks(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.coordinator.start_scheduler(0)
    out = h.coordinator.trigger_savepoint(5, request_id="stop", stop=True, drain=True)
    [trigger] = of(TriggerCheckpoint, out)
    assert trigger.options.snapshot_type is SnapshotType.SAVEPOINT_TERMINATE
    assert not h.coordinator.is_scheduler_running
    again = h.coordinator.trigger_savepoint(6, request_id="again", stop=True)
    assert of(SavepointFailed, again)[0].request_id == "again"
    done = h.complete(trigger.checkpoint_id, now=7)
    assert of(NotifyCheckpointComplete, done)  # synchronous savepoints commit side effects before the job ends
    assert of(SavepointCompleted, done)[0].stop is True and not h.coordinator.is_scheduler_running


def test_failed_stop_with_savepoint_resumes_checkpoints(tmp_path: Path) -> None:
    h = Harness(tmp_path, timeout_ms=100, tolerable_failures=5)
    h.coordinator.start_scheduler(0)
    [trigger] = of(TriggerCheckpoint, h.coordinator.trigger_savepoint(5, request_id="stop", stop=True))
    out = h.coordinator.tick(105)  # expired on the JobMaster: the job goes on
    assert of(SavepointFailed, out)[0].reason is R.CHECKPOINT_EXPIRED and of(FailJob, out) == []
    assert h.coordinator.is_scheduler_running
    [trigger] = of(TriggerCheckpoint, h.coordinator.trigger_savepoint(200, request_id="stop2", stop=True))
    out = h.coordinator.decline("map-0", trigger.checkpoint_id, R.CHECKPOINT_DECLINED_TASK_NOT_READY, "", 201)
    # a task failed the synchronous savepoint: the sources never stopped, the job goes on (Flink 1.15+)
    assert of(SavepointFailed, out) and of(FailJob, out) == []
    assert h.coordinator.is_scheduler_running


# --- shared files, retention on shutdown -----------------------------------------------------------------
def test_subsumed_incremental_checkpoints_leave_no_orphans_in_shared(tmp_path: Path) -> None:
    """Incremental checkpoints: shared files live while a retained checkpoint uses them, and no longer."""
    h = Harness(tmp_path, num_retained=1, max_concurrent=1, tolerable_failures=10)
    h.storage.initialize_base_locations()
    shared_dir = h.storage.shared_dir
    assert shared_dir is not None
    fs = get_file_system(shared_dir)
    uses = {1: ["sst-1", "sst-2"], 2: ["sst-2", "sst-3"], 3: ["sst-3", "sst-4"], 4: ["sst-3", "sst-5"]}

    def run(out: list[CoordinatorInstruction]) -> None:
        for instruction in out:
            if isinstance(instruction, DiscardState):
                for directory in instruction.plan.directories:
                    h.storage.discard_location(directory)
                h.storage.delete_files(instruction.plan.files)

    for n, now in ((1, 0), (2, 10), (3, 20), (4, 30)):
        checkpoint = h.trigger(now)
        location = h.coordinator.pending[checkpoint].location
        h.storage.initialize_location(location)
        handles = {}
        for name in uses[n]:
            path = join(shared_dir, name)
            if not fs.exists(path):
                h.storage.write_state_file(shared_dir, b"sst", name)
            handles[name] = FileStateHandle(path, 3)
        private = h.storage.write_state_file(location.exclusive_dir, b"manifest")

        def state(execution: str, handles: dict[str, FileStateHandle] = handles,
                  private: FileStateHandle = private, n: int = n) -> Any:
            if execution != "map-0":
                return None
            return {MAP: OperatorSubtaskState([IncrementalKeyedStateHandle(
                "backend", n, KeyGroupRange(0, 127), dict(handles), {"MANIFEST": private})])}

        if n == 3:  # this one fails after uploading sst-4: its new file must go, sst-3 must stay
            h.ack_all(checkpoint, now, state, skip=("map-1",))
            run(h.coordinator.decline("map-1", checkpoint, R.CHECKPOINT_DECLINED, "", now))
            assert sorted(fs.list_dir(shared_dir)) == ["sst-2", "sst-3"]
            continue
        run(h.complete(checkpoint, now, state))
        latest = h.coordinator.latest_completed_checkpoint()
        assert latest is not None
        expected = sorted(Path(p).name for p in latest.shared_files())
        assert sorted(fs.list_dir(shared_dir)) == expected
    assert sorted(fs.list_dir(shared_dir)) == ["sst-3", "sst-5"]
    assert [name for name in fs.list_dir(h.storage.job_dir or "") if name.startswith("chk-")] == ["chk-4"]


@pytest.mark.parametrize("retention,status,deleted", [
    (ExternalizedCheckpointRetention.NO_EXTERNALIZED_CHECKPOINTS, "FAILED", True),
    (ExternalizedCheckpointRetention.NO_EXTERNALIZED_CHECKPOINTS, "CANCELED", True),
    (ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION, "CANCELED", False),
    (ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION, "FINISHED", True),
    (ExternalizedCheckpointRetention.DELETE_ON_CANCELLATION, "CANCELED", True),
    (ExternalizedCheckpointRetention.DELETE_ON_CANCELLATION, "FAILED", False),
    (ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION, "SUSPENDED", False),
])
def test_retained_checkpoints_on_shutdown_follow_the_retention_policy(
        tmp_path: Path, retention: ExternalizedCheckpointRetention, status: str, deleted: bool) -> None:
    """Checkpoints > Retained Checkpoints (ExternalizedCheckpointRetention)."""
    h = Harness(tmp_path, retention=retention)
    h.complete(h.trigger(0))
    pending = h.trigger(1)
    out = h.coordinator.shutdown(status)
    assert of(NotifyCheckpointAborted, out)[0].checkpoint_id == pending
    discarded = [d.plan.checkpoint_id for d in of(DiscardState, out)]
    assert (1 in discarded) is deleted and pending in discarded
    assert h.coordinator.tick(10**9) == [] and of(SavepointFailed, h.coordinator.trigger_savepoint(0, None, "x"))


def test_restored_checkpoint_ids_continue(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    checkpoint = h.trigger(0)
    h.complete(checkpoint)
    latest = h.coordinator.latest_completed_checkpoint()
    assert latest is not None
    fresh = Harness(tmp_path)
    fresh.coordinator.restored_from(h.storage.read_metadata(latest.external_pointer), latest.external_pointer)
    assert fresh.trigger(5) == checkpoint + 1 and fresh.coordinator.stats.restored == 1
