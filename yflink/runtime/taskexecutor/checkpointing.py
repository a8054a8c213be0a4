"""A task's part in checkpoints: barrier alignment, snapshots, acknowledgements, commit notifications.

Source tasks start a checkpoint when the JobMaster triggers it (between two batches); other tasks follow the
barrier handler (``yflink.checkpoint.barrier_handler``: aligned for exactly-once, a tracker for at-least-once)
as barriers arrive on their channels. Taking the snapshot means: snapshot every operator of the chain
(``yflink.streaming.operators.state_handling.snapshot_state``), forward the barrier to every output (after the
records that precede it), and acknowledge with the snapshot. ``notify_checkpoint_complete`` reaches every
operator afterwards (sinks commit there: two-phase commit). Source: Flink ``SubtaskCheckpointCoordinatorImpl``
and "Stateful Stream Processing" > "Checkpointing" (Asynchronous Barrier Snapshotting, Carbone et al. 2015).

What is not done yet (checkpointing issue): snapshots are taken and sent synchronously inside the
acknowledgement (no asynchronous upload to checkpoint storage), and source readers' positions are not part of
the snapshot.
"""

from __future__ import annotations

import logging
import pickle
import time
from collections.abc import Callable
from typing import Any, Optional

from yflink.checkpoint.barrier_handler import (
    AbortCheckpoint,
    BarrierHandler,
    BlockChannel,
    Instruction,
    TriggerSnapshot,
    UnblockAllChannels,
    create_barrier_handler,
)
from yflink.checkpoint.barriers import CancelCheckpointMarker, CheckpointBarrier
from yflink.checkpoint.options import CheckpointingMode
from yflink.runtime.network.gate import InputGate
from yflink.runtime.network.partition import RecordWriter
from yflink.streaming.operator_chain import OperatorChain

log = logging.getLogger(__name__)

#: (checkpoint id, pickled list of operator snapshots by node id, sync ms, alignment ms)
AckSender = Callable[[int, bytes, int, int], None]
#: (checkpoint id, reason)
DeclineSender = Callable[[int, str], None]


class TaskCheckpointer:
    """Checkpoint handling of one task.

    Args:
        mode: EXACTLY_ONCE (aligned) or AT_LEAST_ONCE.
        gate: the task's input gate (channels are blocked and unblocked through it); None for sources.
        writers: the task's record writers (barriers and cancellation markers go to all of them).
        ack: sends the acknowledgement of a checkpoint with the task's state.
        decline: declines a checkpoint the task cannot take.
        timeout_ms: alignment timeout (``execution.checkpointing.timeout``), or None.
    """

    def __init__(self, mode: CheckpointingMode, gate: Optional[InputGate], writers: list[RecordWriter],
                 ack: AckSender, decline: DeclineSender, timeout_ms: Optional[int] = None) -> None:
        self.gate = gate
        self.writers = writers
        self.ack = ack
        self.decline = decline
        self.chain: Optional[OperatorChain] = None
        num_channels = len(gate.channels) if gate is not None else 0
        self.handler: Optional[BarrierHandler] = (
            create_barrier_handler(mode, num_channels, timeout_ms=timeout_ms) if num_channels else None)
        self._alignment_started: dict[int, float] = {}
        self.pending_trigger: Optional[CheckpointBarrier] = None  # a source's trigger, taken between batches

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
        barrier, self.pending_trigger = self.pending_trigger, None
        if barrier is not None:
            self.perform(barrier)

    def perform(self, barrier: CheckpointBarrier) -> None:
        """Snapshot the chain, forward the barrier downstream, acknowledge."""
        from yflink.streaming.operators.state_handling import snapshot_state

        assert self.chain is not None
        start = time.perf_counter()
        try:
            snapshots: dict[int, Any] = {}
            for node_id in self.chain.spec.order:
                operator = self.chain.spec.operators[node_id].operator
                snapshots[node_id] = snapshot_state(operator, barrier.checkpoint_id, barrier.timestamp)
            state = pickle.dumps(snapshots, protocol=5)
        except Exception as exc:  # noqa: BLE001 - a failed snapshot declines the checkpoint; the task goes on
            log.warning("snapshot of checkpoint %d failed: %s", barrier.checkpoint_id, exc)
            for writer in self.writers:
                writer.broadcast_event(CancelCheckpointMarker(barrier.checkpoint_id))
            self.decline(barrier.checkpoint_id, f"snapshot failed: {type(exc).__name__}: {exc}")
            return
        for writer in self.writers:
            writer.broadcast_event(barrier)  # flushes the records before the barrier first
        sync_ms = int((time.perf_counter() - start) * 1000)
        aligned = self._alignment_started.pop(barrier.checkpoint_id, None)
        alignment_ms = int((start - aligned) * 1000) if aligned is not None else 0
        self.ack(barrier.checkpoint_id, state, sync_ms, alignment_ms)

    # --- after the checkpoint ---------------------------------------------------------------------------------------
    def notify(self, checkpoint_id: int, completed: bool) -> None:
        """Tell every operator the checkpoint completed (sinks commit) or was aborted."""
        if self.chain is None:
            return
        method = "notify_checkpoint_complete" if completed else "notify_checkpoint_aborted"
        for operator in self.chain.operators:
            callback = getattr(operator, method, None)
            if callable(callback):
                callback(checkpoint_id)
