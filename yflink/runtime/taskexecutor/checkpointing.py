"""A task's part in checkpoints: barrier alignment, snapshots, asynchronous upload, acknowledgements, commits.

Source tasks start a checkpoint when the JobMaster triggers it (between two batches); other tasks follow the
barrier handler (``yflink.checkpoint.barrier_handler``: aligned for exactly-once, a tracker for at-least-once)
as barriers arrive on their channels. Taking the snapshot has Flink's two parts
(``SubtaskCheckpointCoordinatorImpl``, "Stateful Stream Processing" > "Checkpointing" > "Asynchronous State
Snapshots"; Asynchronous Barrier Snapshotting, Carbone et al. 2015):

* **synchronous**, on the task's loop between two batches: snapshot every operator of the chain
  (``state_handling.snapshot_state``: copies of the state), then forward the barrier to every output after the
  records that precede it;
* **asynchronous**, on the task's upload thread while processing goes on: write each operator's snapshot to the
  location the barrier names (``yflink.checkpoint.task_state.write_operator_snapshot``; no location: a checkpoint
  kept in the JobMaster's memory, every stream inline), then acknowledge with the handles,
  ``{stable operator id: OperatorSubtaskState}`` (a :data:`~yflink.checkpoint.handles.TaskStateSnapshot`), or
  decline with ``CHECKPOINT_ASYNC_EXCEPTION`` when writing failed.

``notify_checkpoint_complete`` reaches every operator afterwards (sinks commit there: two-phase commit).

Stop-with-savepoint (Flink's synchronous savepoint): a source task that took a ``SAVEPOINT_SUSPEND`` /
``SAVEPOINT_TERMINATE`` snapshot emits nothing more until the JobMaster says how the savepoint ended
(:meth:`TaskCheckpointer.wait_for_stop`): completed, the source ends (and the task FINISHES); aborted, it goes on.
With ``SAVEPOINT_TERMINATE`` (``--drain``) the source emits the MAX watermark before the barrier, so event-time
windows fire into the savepoint's side effects.

The end of a task's input (FLIP-147, Flink "Checkpointing" > "Checkpointing with parts of the graph finished"):
the task acknowledges its final state (:meth:`TaskCheckpointer.snapshot_at_end`) and, with periodic checkpoints,
waits for the final checkpoint (:meth:`TaskCheckpointer.wait_for_final_checkpoint`): the first completed
checkpoint with an id above every checkpoint it took (so one that holds its final state), or the completion of a
stop-with-savepoint it took part in. Two-phase-commit sinks commit what the end of input prepared then, and only
then the task finishes.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

from yflink.checkpoint.barrier_handler import (
    AbortCheckpoint,
    BarrierHandler,
    BlockChannel,
    Instruction,
    TriggerSnapshot,
    UnblockAllChannels,
    create_barrier_handler,
)
from yflink.checkpoint.barriers import FINAL_SNAPSHOT_ID, CancelCheckpointMarker, CheckpointBarrier, SnapshotType
from yflink.checkpoint.errors import CheckpointFailureReason
from yflink.checkpoint.handles import KeyGroupRange, TaskStateSnapshot
from yflink.checkpoint.options import CheckpointingMode
from yflink.checkpoint.storage import CheckpointStorage
from yflink.checkpoint.task_state import DEFAULT_INLINE_THRESHOLD, write_operator_snapshot
from yflink.runtime.network.gate import InputGate
from yflink.runtime.network.partition import RecordWriter
from yflink.state.snapshot import OperatorSnapshot
from yflink.streaming.operator_chain import OperatorChain

log = logging.getLogger(__name__)

#: (checkpoint id, pickled TaskStateSnapshot ``{operator id: OperatorSubtaskState}``, sync ms, alignment ms)
AckSender = Callable[[int, bytes, int, int], None]
#: (checkpoint id, reason)
DeclineSender = Callable[[int, str], None]
#: called on the task's loop right before a source takes a SAVEPOINT_TERMINATE snapshot (emit MAX watermark)
DrainHook = Callable[[], None]

ASYNC_FAILURE_PREFIX = CheckpointFailureReason.CHECKPOINT_ASYNC_EXCEPTION.value  # declines of a failed upload


class TaskCheckpointer:
    """Checkpoint handling of one task.

    Args:
        mode: EXACTLY_ONCE (aligned) or AT_LEAST_ONCE.
        gate: the task's input gate (channels are blocked and unblocked through it); None for sources.
        writers: the task's record writers (barriers and cancellation markers go to all of them).
        ack: sends the acknowledgement of a checkpoint with the task's state handles.
        decline: declines a checkpoint the task cannot take.
        timeout_ms: alignment timeout (``execution.checkpointing.timeout``), or None.
        operator_ids: ``{stream node id: stable operator id}`` of the chain (the ack is keyed by operator id).
        key_groups: the subtask's key groups (keyed state is written per key group of this range).
        storage: writes state files (``CheckpointStorage.write_state_file``); a storage without directories will
            do, the barrier names the location.
        inline_threshold: streams smaller than this many bytes stay inline
            (``execution.checkpointing.data-inline-threshold``).
        name: the task's name, for the upload thread and log messages.
    """

    def __init__(self, mode: CheckpointingMode, gate: Optional[InputGate], writers: list[RecordWriter],
                 ack: AckSender, decline: DeclineSender, timeout_ms: Optional[int] = None, *,
                 operator_ids: Optional[dict[int, str]] = None, key_groups: Optional[KeyGroupRange] = None,
                 storage: Optional[CheckpointStorage] = None, inline_threshold: int = DEFAULT_INLINE_THRESHOLD,
                 name: str = "task") -> None:
        self.gate = gate
        self.writers = writers
        self.ack = ack
        self.decline = decline
        self.operator_ids = dict(operator_ids or {})
        self.key_groups = key_groups
        self.storage = storage or CheckpointStorage("", None)
        self.inline_threshold = inline_threshold
        self.name = name
        self.chain: Optional[OperatorChain] = None
        self.drain_hook: Optional[DrainHook] = None
        num_channels = len(gate.channels) if gate is not None else 0
        self.handler: Optional[BarrierHandler] = (
            create_barrier_handler(mode, num_channels, timeout_ms=timeout_ms) if num_channels else None)
        self._alignment_started: dict[int, float] = {}
        self.pending_trigger: Optional[CheckpointBarrier] = None  # a source's trigger, taken between batches
        self._uploader: Optional[ThreadPoolExecutor] = None
        self._uploads: set[asyncio.Future[bytes]] = set()
        #: a synchronous savepoint this source took and waits on: (checkpoint id, outcome future)
        self._stop: Optional[tuple[int, asyncio.Future[bool]]] = None
        #: the stop-with-savepoint without --drain (SAVEPOINT_SUSPEND) this task took part in, until it is aborted
        self._suspended_at: Optional[int] = None
        #: the newest checkpoint or savepoint this task snapshotted (0: none); a completed one with a larger id
        #: holds the task's final state once its input ended (FLIP-147)
        self.latest_checkpoint_id = 0
        #: synchronous savepoints (stop-with-savepoint) this task snapshotted, not known to be aborted
        self._synchronous: set[int] = set()
        #: whether a stop-with-savepoint this task took part in completed (no checkpoint follows it)
        self.stopped_by_savepoint = False
        #: while the task waits for its final checkpoint: the future it waits on
        self._final_wait: Optional[asyncio.Future[None]] = None

    # --- events from the input ------------------------------------------------------------------------------
    def on_barrier(self, channel: int, barrier: CheckpointBarrier) -> None:
        assert self.handler is not None
        self._alignment_started.setdefault(barrier.checkpoint_id, time.perf_counter())
        self._apply(self.handler.on_barrier(channel, barrier))

    def on_cancellation_marker(self, channel: int, marker: CancelCheckpointMarker) -> None:
        assert self.handler is not None
        self._apply(self.handler.on_cancellation_marker(channel, marker))

    def on_end_of_partition(self, channel: int) -> None:
        if self.handler is not None:
            self._apply(self.handler.on_end_of_partition(channel))

    def on_timer(self, now_ms: int) -> None:
        if self.handler is not None:
            self._apply(self.handler.on_timer(now_ms))

    def _apply(self, instructions: list[Instruction]) -> None:
        for instruction in instructions:
            if isinstance(instruction, BlockChannel):
                if self.gate is not None:
                    self.gate.block(instruction.channel)
            elif isinstance(instruction, UnblockAllChannels):
                if self.gate is not None:
                    self.gate.unblock_all()
            elif isinstance(instruction, TriggerSnapshot):
                self.perform(instruction.barrier)
            elif isinstance(instruction, AbortCheckpoint):
                for writer in self.writers:
                    writer.broadcast_event(CancelCheckpointMarker(instruction.checkpoint_id))
                if instruction.decline:
                    self.decline(instruction.checkpoint_id, str(instruction.reason))

    # --- taking a snapshot ----------------------------------------------------------------------------------------
    def trigger_at_source(self, barrier: CheckpointBarrier) -> None:
        """The JobMaster triggered a checkpoint at this source task: take it at the next batch boundary."""
        self.pending_trigger = barrier

    def take_pending_trigger(self) -> None:
        """Take the trigger at a source (between two batches); a synchronous savepoint makes the source wait."""
        barrier, self.pending_trigger = self.pending_trigger, None
        if barrier is None:
            return
        kind = barrier.options.snapshot_type
        if kind is SnapshotType.SAVEPOINT_TERMINATE and self.drain_hook is not None:
            self.drain_hook()  # --drain: MAX watermark first, so windows fire before the barrier
        if self.perform(barrier) and kind.is_synchronous:  # the ack is sent later: no outcome can precede this
            self._stop = (barrier.checkpoint_id, asyncio.get_running_loop().create_future())

    @property
    def stopping(self) -> bool:
        """Whether this source took a synchronous savepoint and waits for its outcome (emits nothing)."""
        return self._stop is not None

    async def wait_for_stop(self) -> bool:
        """Wait for the synchronous savepoint's outcome: True (completed: the source ends) or False (aborted: it
        goes on)."""
        assert self._stop is not None
        try:
            return await self._stop[1]
        finally:
            self._stop = None

    def perform(self, barrier: CheckpointBarrier) -> bool:
        """Snapshot the chain, forward the barrier downstream, upload in the background, then acknowledge.

        Returns whether the synchronous part succeeded (else the checkpoint was declined).
        """
        from yflink.streaming.operators.state_handling import snapshot_state

        assert self.chain is not None
        start = time.perf_counter()
        self.latest_checkpoint_id = max(self.latest_checkpoint_id, barrier.checkpoint_id)
        if barrier.options.snapshot_type.is_synchronous:
            self._synchronous.add(barrier.checkpoint_id)
        try:
            snapshots: dict[int, OperatorSnapshot] = {}
            for node_id in self.chain.spec.order:
                operator = self.chain.spec.operators[node_id].operator
                snapshots[node_id] = snapshot_state(operator, barrier.checkpoint_id, barrier.timestamp)
        except Exception as exc:  # noqa: BLE001 - a failed snapshot declines the checkpoint; the task goes on
            log.warning("snapshot of checkpoint %d failed: %s", barrier.checkpoint_id, exc)
            for writer in self.writers:
                writer.broadcast_event(CancelCheckpointMarker(barrier.checkpoint_id))
            self.decline(barrier.checkpoint_id, f"snapshot failed: {type(exc).__name__}: {exc}")
            return False
        for writer in self.writers:
            writer.broadcast_event(barrier)  # flushes the records before the barrier first
        if barrier.options.snapshot_type is SnapshotType.SAVEPOINT_SUSPEND:
            self._suspended_at = barrier.checkpoint_id
        sync_ms = int((time.perf_counter() - start) * 1000)
        aligned = self._alignment_started.pop(barrier.checkpoint_id, None)
        alignment_ms = int((start - aligned) * 1000) if aligned is not None else 0
        self._upload(barrier, snapshots, sync_ms, alignment_ms)
        return True

    def _upload(self, barrier: CheckpointBarrier, snapshots: dict[int, OperatorSnapshot], sync_ms: int,
                alignment_ms: int) -> None:
        """The asynchronous part: write the snapshots on the upload thread, acknowledge on the loop."""
        options, checkpoint_id = barrier.options, barrier.checkpoint_id
        storage, key_groups, threshold = self.storage, self.key_groups, self.inline_threshold
        operator_ids = self.operator_ids

        def write() -> bytes:
            state: TaskStateSnapshot = {}
            for node_id, snapshot in snapshots.items():
                operator_id = operator_ids.get(node_id)
                if operator_id is None:
                    raise KeyError(f"no stable operator id for stream node {node_id}")
                handles = write_operator_snapshot(storage, options.target_location, snapshot, key_groups,
                                                  inline_threshold=threshold,
                                                  shared_directory=options.shared_location)
                if not handles.is_empty():
                    state[operator_id] = handles
            return pickle.dumps(state, protocol=5)

        if self._uploader is None:
            self._uploader = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"upload-{self.name}")
        started = time.perf_counter()
        future = asyncio.get_running_loop().run_in_executor(self._uploader, write)
        self._uploads.add(future)

        def done(f: asyncio.Future[bytes]) -> None:
            self._uploads.discard(f)
            if f.cancelled():
                return
            error = f.exception()
            if error is not None:
                log.warning("%s: checkpoint %d state could not be written: %s", self.name, checkpoint_id, error)
                self.decline(checkpoint_id, f"{ASYNC_FAILURE_PREFIX} {type(error).__name__}: {error}")
                return
            log.debug("%s: checkpoint %d uploaded in %.0f ms", self.name, checkpoint_id,
                      (time.perf_counter() - started) * 1000)
            self.ack(checkpoint_id, f.result(), sync_ms, alignment_ms)

        future.add_done_callback(done)

    def snapshot_at_end(self, required: bool = False) -> None:
        """The task reached the end of its input (after ``end_input``): acknowledge its final state, inline, as
        checkpoint :data:`FINAL_SNAPSHOT_ID`, so checkpoints go on after it finished (FLIP-147): the JobMaster
        counts this state for every later checkpoint (a restore resumes a source at its end, not its start).

        Operator state only (source positions, sink committables, broadcast state): keyed state is left out, since
        a task ends only when every input ended, and a keyed task's inputs come from every upstream subtask, so no
        record can reach any keyed state of that operator again (its timers fired with the MAX watermark). This
        keeps the end of a job with large keyed state cheap. Call after :meth:`wait_for_uploads`, so this ack
        follows every earlier one. A failure only logs (the job then takes no more checkpoints), unless
        ``required`` (the task waits for its final checkpoint, which cannot complete without this state).

        Raises:
            Exception: the snapshot failed and ``required``; the task fails (its committables stay uncommitted).
        """
        from yflink.streaming.operators.state_handling import snapshot_state

        assert self.chain is not None
        try:
            state: TaskStateSnapshot = {}
            for node_id in self.chain.spec.order:
                snapshot = snapshot_state(self.chain.spec.operators[node_id].operator, FINAL_SNAPSHOT_ID,
                                          int(time.time() * 1000), include_keyed=False)
                handles = write_operator_snapshot(self.storage, None, snapshot, self.key_groups)
                if not handles.is_empty():
                    state[self.operator_ids[node_id]] = handles
            data = pickle.dumps(state, protocol=5)
        except Exception as exc:  # noqa: BLE001 - unless required the task still finishes (later checkpoints fail)
            if required:
                raise
            log.warning("%s: final state could not be snapshotted: %s", self.name, exc)
            return
        self.ack(FINAL_SNAPSHOT_ID, data, 0, 0)

    async def wait_for_final_checkpoint(self) -> None:
        """After :meth:`snapshot_at_end`: wait until a checkpoint with an id above :attr:`latest_checkpoint_id`
        completed (it holds this task's final state; its notification already reached the operators, so sinks
        committed), or a stop-with-savepoint this task took part in completed (:attr:`stopped_by_savepoint`).
        Flink: a task finishes only after the first checkpoint that includes its final state completed
        (FLIP-147, ``execution.checkpointing.checkpoints-after-tasks-finish``).

        Raises:
            Exception: what an operator raised when notified (a failed commit fails the task).
        """
        if self.stopped_by_savepoint:
            return
        self._final_wait = asyncio.get_running_loop().create_future()
        try:
            await self._final_wait
        finally:
            self._final_wait = None

    async def wait_for_uploads(self) -> None:
        """Wait until every upload started so far has been acknowledged or declined (tests, orderly ends)."""
        while self._uploads:
            await asyncio.gather(*list(self._uploads), return_exceptions=True)

    def close(self) -> None:
        """The task ended: uploads in flight still finish (and acknowledge); the thread then goes."""
        if self._uploader is not None:
            self._uploader.shutdown(wait=False)
            self._uploader = None

    # --- after the checkpoint ---------------------------------------------------------------------------------------
    def notify(self, checkpoint_id: int, completed: bool) -> None:
        """Tell every operator the checkpoint completed (sinks commit) or was aborted; a source waiting on its
        synchronous savepoint learns the outcome, a task waiting for its final checkpoint whether this was it.

        Raises:
            Exception: what an operator raised, unless the task waits for its final checkpoint (then that wait
                raises it).
        """
        final_wait = self._final_wait
        if self.chain is not None:
            method = "notify_checkpoint_complete" if completed else "notify_checkpoint_aborted"
            for operator in self.chain.operators:
                callback = getattr(operator, method, None)
                if callable(callback):
                    try:
                        callback(checkpoint_id)
                    except Exception as exc:
                        if final_wait is None or final_wait.done():
                            raise
                        final_wait.set_exception(exc)  # the final commit failed: so does the task
                        return
        if self._stop is not None and self._stop[0] == checkpoint_id and not self._stop[1].done():
            self._stop[1].set_result(completed)
        if not completed and self._suspended_at == checkpoint_id:
            self._suspended_at = None
        if checkpoint_id in self._synchronous:
            self._synchronous.discard(checkpoint_id)
            self.stopped_by_savepoint = self.stopped_by_savepoint or completed
        if (completed and final_wait is not None and not final_wait.done()
                and (checkpoint_id > self.latest_checkpoint_id or self.stopped_by_savepoint)):
            final_wait.set_result(None)

    @property
    def suspended(self) -> bool:
        """Whether this task took part in a stop-with-savepoint without ``--drain`` that was not aborted: its input
        then ends without ending event time (Flink: no ``endInput``/``finish``; windows and timers stay in the
        savepoint for the restored job)."""
        return self._suspended_at is not None

