"""The asyncio driver of the CheckpointCoordinator, with fake tasks and real files.

Flink documentation, "Stateful Stream Processing" > "Checkpointing" (barriers injected at the sources, tasks
snapshot and acknowledge, the checkpoint completes and sinks are notified), "Checkpoints" (retained checkpoints,
directory structure) and "Savepoints" (triggering a savepoint; the savepoint path). Time is a fake clock except
in one test that waits on an event with a deadline.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Optional

import pytest

from yflink.checkpoint.barriers import CheckpointBarrier
from yflink.checkpoint.coordinator import CheckpointCoordinator
from yflink.checkpoint.driver import CheckpointCoordinatorDriver
from yflink.checkpoint.errors import CheckpointError, CheckpointFailureReason
from yflink.checkpoint.handles import KeyGroupRange
from yflink.checkpoint.operator_ids import operator_id_from_uid
from yflink.checkpoint.options import CheckpointCoordinatorConfiguration
from yflink.checkpoint.pending import CheckpointPlan, TaskRef, VertexInfo
from yflink.checkpoint.storage import CheckpointStorage
from yflink.checkpoint.task_state import write_operator_snapshot
from yflink.fs import FileSystemError, get_file_system
from yflink.fs.local import LocalFileSystem
from yflink.state.snapshot import KeyedStateSnapshot, OperatorSnapshot

JOB = "d00d" * 8
OP = operator_id_from_uid("counter")
TASKS = {"src-0": TaskRef("src", 0), "cnt-0": TaskRef("cnt", 0)}
VERTICES = [VertexInfo("src", 1, 128, (operator_id_from_uid("source"),)), VertexInfo("cnt", 1, 128, (OP,))]


class FakeTasks:
    """Tasks that snapshot at once when triggered: each writes its state into the barrier's location and acks."""

    def __init__(self) -> None:
        self.driver: Optional[CheckpointCoordinatorDriver] = None
        self.respond = True
        self.completed: list[int] = []
        self.aborted: list[tuple[int, CheckpointFailureReason]] = []
        self.completion = asyncio.Event()

    async def trigger_checkpoint(self, execution_id: str, barrier: CheckpointBarrier) -> None:
        assert self.driver is not None and execution_id == "src-0"
        if not self.respond:
            return
        directory = barrier.options.target_location
        assert directory is not None
        for execution in TASKS:  # the barrier flows source -> counter; both snapshot and acknowledge
            state = None
            if execution == "cnt-0":
                snapshot = OperatorSnapshot(0, 1, KeyedStateSnapshot(128, {"n": "value"},
                                                                     groups={3: {"n": {"k": barrier.checkpoint_id}}}))
                state = {OP: write_operator_snapshot(self.driver.storage, directory, snapshot, KeyGroupRange(0, 127),
                                                     inline_threshold=0)}
            self.driver.acknowledge(execution, barrier.checkpoint_id, state)

    async def notify_checkpoint_complete(self, execution_id: str, checkpoint_id: int,
                                         last_subsumed: Optional[int]) -> None:
        self.completed.append(checkpoint_id)
        self.completion.set()

    async def notify_checkpoint_aborted(self, execution_id: str, checkpoint_id: int,
                                        reason: CheckpointFailureReason) -> None:
        self.aborted.append((checkpoint_id, reason))


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


def make(tmp_path: Path, storage: Optional[CheckpointStorage] = None, **config: Any
         ) -> tuple[CheckpointCoordinatorDriver, FakeTasks, Clock, list[str]]:
    settings: dict[str, Any] = {"interval_ms": 1000, "checkpoints_dir": str(tmp_path / "chk"),
                                "savepoints_dir": str(tmp_path / "sp")}
    settings.update(config)
    conf = CheckpointCoordinatorConfiguration(**settings)
    storage = storage or CheckpointStorage.from_config(JOB, conf)
    plan = CheckpointPlan(("src-0",), dict(TASKS))
    coordinator = CheckpointCoordinator(JOB, conf, VERTICES, storage, lambda: plan)
    tasks, clock, failures = FakeTasks(), Clock(), []
    driver = CheckpointCoordinatorDriver(coordinator, storage, tasks, failures.append, clock_ms=clock,
                                         run_io=_inline_io)
    tasks.driver = driver
    return driver, tasks, clock, failures


async def _inline_io(function: Any) -> Any:
    return function()


def test_periodic_checkpoints_complete_and_only_the_retained_one_stays_on_disk(tmp_path: Path) -> None:
    async def scenario() -> None:
        driver, tasks, clock, failures = make(tmp_path, num_retained=1)
        await driver.start()
        for _ in range(3):
            wake = driver.coordinator.next_wakeup_ms()
            assert wake is not None
            clock.now = wake
            driver.poll()
            await driver.drain()
        assert tasks.completed == [1, 1, 2, 2, 3, 3] and failures == []
        job_dir = tmp_path / "chk" / JOB
        assert sorted(p.name for p in job_dir.iterdir()) == ["chk-3", "shared", "taskowned"]
        assert (job_dir / "chk-3" / "_metadata").exists()
        restored = driver.storage.read_metadata(str(job_dir / "chk-3"))
        assert restored.operator(OP).subtasks[0].keyed  # type: ignore[union-attr]
        await driver.stop()
    asyncio.run(scenario())


def test_savepoint_request_resolves_to_its_path(tmp_path: Path) -> None:
    async def scenario() -> None:
        driver, tasks, _, _ = make(tmp_path)
        path = await driver.trigger_savepoint(str(tmp_path / "target"))
        assert path.startswith(f"file://{tmp_path}/target/savepoint-d00dd0-")
        assert get_file_system(path).exists(path + "/_metadata") and tasks.completed == []
        driver_no_dir, _, _, _ = make(tmp_path, savepoints_dir=None)
        with pytest.raises(CheckpointError, match="savepoint-dir"):
            await driver_no_dir.trigger_savepoint()
        stopped = await driver.trigger_savepoint(stop=True)
        assert tasks.completed == [2, 2]  # a stop-with-savepoint lets sinks commit before the job ends
        assert stopped.startswith(f"file://{tmp_path}/sp/")
    asyncio.run(scenario())


class FailingMetadataFs(LocalFileSystem):
    def write_atomic(self, uri: str, data: bytes) -> None:
        if uri.endswith("/_metadata"):
            raise FileSystemError(f"Could not write {uri}: quota exceeded")
        super().write_atomic(uri, data)


def test_a_failed_metadata_write_aborts_and_fails_the_job_without_tolerance(tmp_path: Path) -> None:
    async def scenario() -> None:
        storage = CheckpointStorage(JOB, str(tmp_path / "chk"), fs_for=lambda _: FailingMetadataFs())
        driver, tasks, clock, failures = make(tmp_path, storage)
        await driver.start()
        clock.now += 10_000
        driver.poll()
        await driver.drain()
        assert tasks.completed == [] and {r for _, r in tasks.aborted} == {CheckpointFailureReason.IO_EXCEPTION}
        assert len(failures) == 1 and "quota exceeded" in failures[0]
        assert not (tmp_path / "chk" / JOB / "chk-1").exists()  # the aborted checkpoint's files are gone
    asyncio.run(scenario())


def test_unanswered_checkpoints_expire_on_the_clock(tmp_path: Path) -> None:
    async def scenario() -> None:
        driver, tasks, clock, failures = make(tmp_path, timeout_ms=500, tolerable_failures=3)
        tasks.respond = False
        await driver.start()
        clock.now += 1000
        driver.poll()
        await driver.drain()
        assert driver.coordinator.next_wakeup_ms() == clock.now + 500
        clock.now += 500
        driver.poll()
        await driver.drain()
        assert (1, CheckpointFailureReason.CHECKPOINT_EXPIRED) in tasks.aborted and failures == []
        driver.abort_all()
        assert not driver.coordinator.is_scheduler_running
        await driver.shutdown("CANCELED")
    asyncio.run(scenario())


def test_the_timer_loop_triggers_on_its_own(tmp_path: Path) -> None:
    """With the wall clock: the loop wakes at the coordinator's deadline (an event wait, not a polling sleep)."""
    async def scenario() -> None:
        conf = CheckpointCoordinatorConfiguration(interval_ms=20, checkpoints_dir=str(tmp_path / "chk"))
        storage = CheckpointStorage.from_config(JOB, conf)
        plan = CheckpointPlan(("src-0",), dict(TASKS))
        tasks = FakeTasks()
        driver = CheckpointCoordinatorDriver(CheckpointCoordinator(JOB, conf, VERTICES, storage, lambda: plan),
                                             storage, tasks, lambda message: None)
        tasks.driver = driver
        await driver.start()
        await asyncio.wait_for(tasks.completion.wait(), timeout=10)
        await driver.stop()
        assert tasks.completed[0] == 1
    asyncio.run(scenario())


def test_shutdown_right_after_a_dispatch_stops_the_timer_loop(tmp_path: Path) -> None:
    """The job ending: the coordinator's last instructions wake the loop just as it is cancelled (Python 3.11's
    wait_for then swallows the cancel); the shutdown still ends at once instead of hanging (it held the job's
    slots until something woke the loop again)."""
    async def scenario() -> None:
        driver, _tasks, _clock, _failures = make(tmp_path)
        await driver.start()
        await asyncio.sleep(0)  # the loop waits on its wakeup event
        driver.coordinator.stop_scheduler()  # no deadline left: only an event wakes the loop
        await asyncio.sleep(0)
        driver._wakeup.set()  # as _dispatch does
        stopping = asyncio.ensure_future(driver.stop())
        done, _ = await asyncio.wait({stopping}, timeout=2)
        assert stopping in done, "the driver's timer loop did not stop"
    asyncio.run(scenario())
