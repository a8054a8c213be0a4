"""A task's side of a checkpoint (``runtime/taskexecutor/checkpointing.py``): the synchronous snapshot and the barrier
go first, the state is written on the task's upload thread while the loop goes on, then the ack carries
``{stable operator id: OperatorSubtaskState}``; a failed upload declines; a source stops after a synchronous
savepoint until it hears the outcome (Flink ``SubtaskCheckpointCoordinatorImpl``, stop-with-savepoint)."""

from __future__ import annotations

import asyncio
import pickle
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from yflink.checkpoint.barriers import CheckpointBarrier, CheckpointOptions, SnapshotType
from yflink.checkpoint.errors import CheckpointFailureReason
from yflink.checkpoint.handles import ByteStreamStateHandle, FileStateHandle, KeyGroupRange
from yflink.checkpoint.options import CheckpointingMode
from yflink.checkpoint.storage import CheckpointStorage
from yflink.runtime.taskexecutor.checkpointing import TaskCheckpointer
from yflink.state.snapshot import KeyedStateSnapshot

OPS = {1: "a" * 32, 2: "b" * 32}


class Log:
    def __init__(self) -> None:
        self.events: list[Any] = []
        self.acks: list[tuple[int, dict[str, Any]]] = []
        self.declines: list[tuple[int, str]] = []

    def broadcast_event(self, event: Any) -> None:
        self.events.append(event)

    def ack(self, checkpoint_id: int, state: bytes, sync_ms: int, alignment_ms: int) -> None:
        self.acks.append((checkpoint_id, pickle.loads(state)))
        self.events.append(("ack", checkpoint_id))

    def decline(self, checkpoint_id: int, reason: str) -> None:
        self.declines.append((checkpoint_id, reason))


class Backend:
    """A keyed backend whose snapshot is a copy (as the heap backend's), big enough to leave memory."""

    def snapshot(self) -> KeyedStateSnapshot:
        return KeyedStateSnapshot(128, {"n": "value"}, groups={5: {"n": {f"k{i}": "v" * 100 for i in range(300)}}})


class GatedStorage(CheckpointStorage):
    """Writes only once ``gate`` is set, so a test sees the loop go on while the upload waits."""

    def __init__(self, gate: threading.Event, fail: bool = False) -> None:
        super().__init__("j" * 32, None)
        self.gate, self.fail = gate, fail

    def write_state_file(self, directory: str, data: bytes, name: str | None = None) -> FileStateHandle:
        self.gate.wait(10)
        if self.fail:
            raise OSError("disk full")
        return super().write_state_file(directory, data, name)


def checkpointer(log: Log, storage: CheckpointStorage, *, source_head: Any = None) -> TaskCheckpointer:
    task = SimpleNamespace(subtask_index=0, parallelism=1)
    keyed = SimpleNamespace(task_info=task, keyed_backend=Backend(), name="counter")
    sink = SimpleNamespace(task_info=task, keyed_backend=None, name="sink", committed=[])
    sink.notify_checkpoint_complete = sink.committed.append
    cp = TaskCheckpointer(CheckpointingMode.EXACTLY_ONCE, None, [log], log.ack, log.decline,  # type: ignore[list-item]
                          operator_ids=OPS, key_groups=KeyGroupRange(0, 127), storage=storage,
                          inline_threshold=1024, name="counter (1/1)")
    spec = SimpleNamespace(order=[1, 2], operators={1: SimpleNamespace(operator=keyed),
                                                    2: SimpleNamespace(operator=sink)})
    cp.chain = SimpleNamespace(spec=spec, operators=[keyed, sink])  # type: ignore[assignment]
    return cp


def barrier(checkpoint_id: int, target: str | None, kind: SnapshotType = SnapshotType.CHECKPOINT) -> CheckpointBarrier:
    return CheckpointBarrier(checkpoint_id, 1000, CheckpointOptions(kind, target))


def test_barrier_goes_out_before_the_upload_and_the_ack_after_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        log, gate = Log(), threading.Event()
        cp = checkpointer(log, GatedStorage(gate))
        b = barrier(7, f"file://{tmp_path}")
        assert cp.perform(b)
        assert log.events == [b] and not log.acks  # forwarded at once; the upload waits on the gate
        await asyncio.sleep(0.05)  # the loop goes on meanwhile
        assert not log.acks
        gate.set()
        await cp.wait_for_uploads()
        assert log.events == [b, ("ack", 7)]
        [(checkpoint_id, state)] = log.acks
        assert checkpoint_id == 7 and set(state) == {OPS[1]}  # the sink had no state: no entry
        [keyed] = state[OPS[1]].keyed
        assert isinstance(keyed.stream, FileStateHandle) and Path(keyed.stream.path[7:]).parent == tmp_path
        assert keyed.key_groups == KeyGroupRange(0, 127)
        cp.close()

    asyncio.run(scenario())


def test_without_a_target_everything_stays_inline() -> None:
    async def scenario() -> None:
        log = Log()
        cp = checkpointer(log, CheckpointStorage("j" * 32, None))
        cp.perform(barrier(1, None))  # JobManagerCheckpointStorage: no location
        await cp.wait_for_uploads()
        [(_, state)] = log.acks
        assert isinstance(state[OPS[1]].keyed[0].stream, ByteStreamStateHandle)
        assert state[OPS[1]].keyed[0].stream.size > 1024  # above the threshold, still inline
        cp.close()

    asyncio.run(scenario())


def test_a_failed_upload_declines_with_async_exception(tmp_path: Path) -> None:
    async def scenario() -> None:
        log, gate = Log(), threading.Event()
        gate.set()
        cp = checkpointer(log, GatedStorage(gate, fail=True))
        cp.perform(barrier(3, f"file://{tmp_path}"))
        await cp.wait_for_uploads()
        assert not log.acks
        [(checkpoint_id, reason)] = log.declines
        assert checkpoint_id == 3 and reason.startswith(CheckpointFailureReason.CHECKPOINT_ASYNC_EXCEPTION.value)
        assert "disk full" in reason
        cp.close()

    asyncio.run(scenario())


def test_source_stops_after_a_synchronous_savepoint_until_the_outcome(tmp_path: Path) -> None:
    async def scenario() -> None:
        log = Log()
        cp = checkpointer(log, CheckpointStorage("j" * 32, None))
        cp.drain_hook = lambda: log.events.append("MAX_WATERMARK")
        b = barrier(9, str(tmp_path), SnapshotType.SAVEPOINT_TERMINATE)
        cp.trigger_at_source(b)
        cp.take_pending_trigger()
        assert cp.stopping and log.events[:2] == ["MAX_WATERMARK", b]  # --drain: the watermark before the barrier
        waiter = asyncio.ensure_future(cp.wait_for_stop())
        await cp.wait_for_uploads()
        await asyncio.sleep(0)
        assert not waiter.done()
        cp.notify(9, completed=True)
        assert await waiter is True and not cp.stopping
        sink = cp.chain.operators[1]  # type: ignore[union-attr]
        assert sink.committed == [9]  # side effects committed before the source ends

        suspend = barrier(10, str(tmp_path), SnapshotType.SAVEPOINT_SUSPEND)
        cp.trigger_at_source(suspend)
        cp.take_pending_trigger()
        assert log.events.count("MAX_WATERMARK") == 1  # no MAX watermark without --drain
        waiter = asyncio.ensure_future(cp.wait_for_stop())
        cp.notify(10, completed=False)  # the savepoint failed: the source goes on
        assert await waiter is False and not cp.stopping
        cp.close()

    asyncio.run(scenario())
