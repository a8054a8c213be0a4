"""Barrier alignment at a task's input, as a pure state machine: events in, instructions out.

A task with input channels feeds every checkpoint event it reads to a handler and carries out what comes back,
in order:

* events: :meth:`on_barrier` (a :class:`CheckpointBarrier` on channel ``i``), :meth:`on_cancellation_marker`,
  :meth:`on_end_of_partition` (channel ``i`` ended), :meth:`on_abort` (the JobMaster aborted checkpoint ``n``),
  :meth:`on_timer` (time passed: a checkpoint older than ``execution.checkpointing.timeout`` has expired);
* instructions: :class:`BlockChannel` (read nothing more from channel ``i``), :class:`UnblockAllChannels`,
  :class:`TriggerSnapshot` (snapshot now, between batches, and forward the barrier to every output),
  :class:`AbortCheckpoint` (forward a :class:`CancelCheckpointMarker`, and decline to the JobMaster when
  ``decline`` is set).

Two handlers, as in Flink:

* :class:`AlignedBarrierHandler` (EXACTLY_ONCE; Flink ``SingleCheckpointBarrierHandler`` with the aligned
  states): one checkpoint at a time; a channel that delivered barrier ``n`` is blocked until every open channel
  did, so no record after the barrier reaches the snapshot. Its states are one class each, as Flink's
  ``BarrierHandlerState``: :class:`WaitingForFirstBarrier` and :class:`CollectingBarriers`.
* :class:`BarrierTracker` (AT_LEAST_ONCE; Flink ``CheckpointBarrierTracker``): never blocks; counts barriers per
  checkpoint (several may be pending) and triggers when every open channel delivered one.

Rules both follow (Flink's): a barrier newer than the pending checkpoint subsumes it (the older one is aborted,
``CHECKPOINT_DECLINED_SUBSUMED``, or simply dropped by the tracker); barriers of finished or aborted checkpoints
are ignored; an ended channel counts as aligned for the pending checkpoint and is not waited for again
(``execution.checkpointing.checkpoints-after-tasks-finish``, FLIP-147; when that is off, the pending checkpoint is
aborted with ``CHECKPOINT_DECLINED_INPUT_END_OF_STREAM``).

No I/O, no clocks: callers pass ``now_ms`` to :meth:`on_timer` and ask :meth:`next_deadline_ms` when to call it.
A task whose inputs have all ended can no longer receive barriers; the JobMaster must trigger it directly (as
Flink does for FLIP-147), which is part of the runtime wiring.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Optional, Protocol, Union

from yflink.checkpoint.barriers import CancelCheckpointMarker, CheckpointBarrier
from yflink.checkpoint.errors import CheckpointFailureReason
from yflink.checkpoint.options import CheckpointingMode

__all__ = [
    "AbortCheckpoint",
    "AlignedBarrierHandler",
    "BarrierHandler",
    "BarrierHandlerState",
    "BarrierTracker",
    "BlockChannel",
    "CollectingBarriers",
    "Instruction",
    "TriggerSnapshot",
    "UnblockAllChannels",
    "WaitingForFirstBarrier",
    "create_barrier_handler",
]

MAX_CHECKPOINTS_TO_TRACK = 50  # Flink CheckpointBarrierTracker.MAX_CHECKPOINTS_TO_TRACK


# --- instructions -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BlockChannel:
    """Stop reading channel ``channel`` (its barrier arrived; later records belong after the checkpoint)."""

    channel: int


@dataclass(frozen=True)
class UnblockAllChannels:
    """Resume reading every blocked channel; ``channels`` are the ones that were blocked."""

    channels: tuple[int, ...]


@dataclass(frozen=True)
class TriggerSnapshot:
    """All barriers of ``barrier.checkpoint_id`` are in: snapshot the operators now (before reading any more
    input) and forward ``barrier`` to every output."""

    barrier: CheckpointBarrier


@dataclass(frozen=True)
class AbortCheckpoint:
    """Give up checkpoint ``checkpoint_id`` at this task: forward ``CancelCheckpointMarker(checkpoint_id)`` to
    every output, and, when ``decline`` is set, decline it to the JobMaster with ``reason``."""

    checkpoint_id: int
    reason: CheckpointFailureReason
    decline: bool = True


Instruction = Union[BlockChannel, UnblockAllChannels, TriggerSnapshot, AbortCheckpoint]


class BarrierHandler(Protocol):
    """What a task calls; both handlers implement it."""

    def on_barrier(self, channel: int, barrier: CheckpointBarrier) -> list[Instruction]: ...

    def on_cancellation_marker(self, channel: int, marker: CancelCheckpointMarker) -> list[Instruction]: ...

    def on_end_of_partition(self, channel: int) -> list[Instruction]: ...

    def on_abort(self, checkpoint_id: int, reason: CheckpointFailureReason) -> list[Instruction]: ...

    def on_timer(self, now_ms: int) -> list[Instruction]: ...

    def next_deadline_ms(self) -> Optional[int]: ...


def create_barrier_handler(mode: CheckpointingMode, num_channels: int, *, timeout_ms: Optional[int] = None,
                           checkpoints_after_tasks_finish: bool = True) -> BarrierHandler:
    """The handler for ``execution.checkpointing.mode``: aligned for EXACTLY_ONCE, a tracker for AT_LEAST_ONCE."""
    if mode is CheckpointingMode.EXACTLY_ONCE:
        return AlignedBarrierHandler(num_channels, timeout_ms=timeout_ms,
                                     checkpoints_after_tasks_finish=checkpoints_after_tasks_finish)
    return BarrierTracker(num_channels, timeout_ms=timeout_ms,
                          checkpoints_after_tasks_finish=checkpoints_after_tasks_finish)


class _Channels:
    """Which channels exist and which have ended (shared by both handlers)."""

    def __init__(self, num_channels: int) -> None:
        if num_channels < 1:
            raise ValueError(f"a barrier handler needs at least one input channel, got {num_channels}")
        self.num_channels = num_channels
        self.ended: set[int] = set()

    @property
    def num_open(self) -> int:
        return self.num_channels - len(self.ended)

    def check_open(self, channel: int, event: str) -> None:
        if not 0 <= channel < self.num_channels:
            raise ValueError(f"{event} on channel {channel}, but the task has channels 0..{self.num_channels - 1}")
        if channel in self.ended:
            raise ValueError(f"{event} on channel {channel} after its end of partition")


# --- exactly-once: aligned states ---------------------------------------------------------------------------
class BarrierHandlerState:
    """One state of the aligned handler (Flink ``BarrierHandlerState``); transitions return the next state."""

    def barrier_received(self, ctx: AlignedBarrierHandler, channel: int,
                         barrier: CheckpointBarrier) -> BarrierHandlerState:
        if not ctx.all_barriers_received():
            ctx.block(channel)  # the last channel is not blocked only to be unblocked at once (Flink does both)
        return self._check_alignment(ctx, barrier)

    def end_of_partition_received(self, ctx: AlignedBarrierHandler, barrier: CheckpointBarrier) -> BarrierHandlerState:
        return self._check_alignment(ctx, barrier)

    def abort(self, ctx: AlignedBarrierHandler) -> BarrierHandlerState:
        ctx.unblock_all()
        return WaitingForFirstBarrier()

    def _check_alignment(self, ctx: AlignedBarrierHandler, barrier: CheckpointBarrier) -> BarrierHandlerState:
        if ctx.all_barriers_received():
            ctx.trigger(barrier)
            ctx.unblock_all()
            return WaitingForFirstBarrier()
        return CollectingBarriers()

    def __repr__(self) -> str:
        return type(self).__name__


class WaitingForFirstBarrier(BarrierHandlerState):
    """No alignment in progress; every channel is read."""


class CollectingBarriers(BarrierHandlerState):
    """Checkpoint ``n`` is aligning: channels that delivered its barrier are blocked, the others are read."""


class AlignedBarrierHandler:
    """Exactly-once barrier alignment for a task with ``num_channels`` input channels.

    Args:
        num_channels: input channels of the task (all inputs together, as the InputGate numbers them).
        timeout_ms: ``execution.checkpointing.timeout``; an alignment whose barrier timestamp is older than this
            is aborted on :meth:`on_timer` (the JobMaster has expired it). None: no local expiry.
        checkpoints_after_tasks_finish: an ended channel counts as aligned (FLIP-147); False aborts the pending
            checkpoint instead.
    """

    def __init__(self, num_channels: int, *, timeout_ms: Optional[int] = None,
                 checkpoints_after_tasks_finish: bool = True) -> None:
        self._channels = _Channels(num_channels)
        self._timeout_ms = timeout_ms
        self._after_finish = checkpoints_after_tasks_finish
        self.state: BarrierHandlerState = WaitingForFirstBarrier()
        self.current_checkpoint_id = -1
        self._last_done_id = -1  # Flink lastCancelledOrCompletedCheckpointId
        self._pending: Optional[CheckpointBarrier] = None
        self._aligned: set[int] = set()
        self._target = 0
        self._blocked: list[int] = []
        self._out: list[Instruction] = []

    # --- what a task calls ---------------------------------------------------------------------------
    @property
    def blocked_channels(self) -> tuple[int, ...]:
        return tuple(self._blocked)

    @property
    def is_checkpoint_pending(self) -> bool:
        return self.current_checkpoint_id != self._last_done_id and self.current_checkpoint_id >= 0

    def on_barrier(self, channel: int, barrier: CheckpointBarrier) -> list[Instruction]:
        """Barrier ``barrier`` was read from ``channel``."""
        self._channels.check_open(channel, f"barrier {barrier.checkpoint_id}")
        if channel in self._blocked:
            raise ValueError(f"barrier {barrier.checkpoint_id} read from blocked channel {channel}")
        barrier_id = barrier.checkpoint_id
        if barrier_id < self.current_checkpoint_id or (
                barrier_id == self.current_checkpoint_id and not self.is_checkpoint_pending):
            return []  # a barrier of a checkpoint this task finished, aborted or saw subsumed
        if barrier_id > self.current_checkpoint_id:
            if self.is_checkpoint_pending:
                self._abort_internal(self.current_checkpoint_id, CheckpointFailureReason.CHECKPOINT_DECLINED_SUBSUMED)
            self.current_checkpoint_id = barrier_id
            self._pending = barrier
            self._aligned = set()
            self._target = self._channels.num_open
        self._aligned.add(channel)
        self.state = self.state.barrier_received(self, channel, barrier)
        self._finish_if_aligned()
        return self._take()

    def on_cancellation_marker(self, channel: int, marker: CancelCheckpointMarker) -> list[Instruction]:
        """Checkpoint ``marker.checkpoint_id`` was abandoned upstream of ``channel``."""
        self._channels.check_open(channel, f"cancellation marker {marker.checkpoint_id}")
        cancelled = marker.checkpoint_id
        if cancelled > self.current_checkpoint_id or (
                cancelled == self.current_checkpoint_id and self.is_checkpoint_pending):
            self._abort_internal(cancelled, CheckpointFailureReason.CHECKPOINT_DECLINED_ON_CANCELLATION_BARRIER)
        return self._take()

    def on_end_of_partition(self, channel: int) -> list[Instruction]:
        """Channel ``channel`` ended; it is not waited for by later checkpoints."""
        self._channels.check_open(channel, "end of partition")
        self._channels.ended.add(channel)
        if self.is_checkpoint_pending:
            assert self._pending is not None
            if not self._after_finish:
                self._abort_internal(self.current_checkpoint_id,
                                     CheckpointFailureReason.CHECKPOINT_DECLINED_INPUT_END_OF_STREAM)
            else:
                self._aligned.add(channel)
                self.state = self.state.end_of_partition_received(self, self._pending)
                self._finish_if_aligned()
        return self._take()

    def on_abort(self, checkpoint_id: int, reason: CheckpointFailureReason) -> list[Instruction]:
        """The JobMaster aborted ``checkpoint_id`` (expired, declined elsewhere, job failover): stop aligning for
        it, and remember it so its later barriers are ignored. No decline is sent back."""
        if checkpoint_id > self.current_checkpoint_id or (
                checkpoint_id == self.current_checkpoint_id and self.is_checkpoint_pending):
            self._abort_internal(checkpoint_id, reason, decline=False)
        return self._take()

    def on_timer(self, now_ms: int) -> list[Instruction]:
        """Abort the pending alignment when its checkpoint is older than the checkpoint timeout."""
        deadline = self.next_deadline_ms()
        if deadline is not None and now_ms >= deadline:
            self._abort_internal(self.current_checkpoint_id, CheckpointFailureReason.CHECKPOINT_EXPIRED,
                                 decline=False)
        return self._take()

    def next_deadline_ms(self) -> Optional[int]:
        """When :meth:`on_timer` has something to do (ms since the epoch), or None."""
        if self._timeout_ms is None or not self.is_checkpoint_pending or self._pending is None:
            return None
        return self._pending.timestamp + self._timeout_ms

    # --- used by the states --------------------------------------------------------------------------
    def block(self, channel: int) -> None:
        self._blocked.append(channel)
        self._out.append(BlockChannel(channel))

    def unblock_all(self) -> None:
        if self._blocked:
            self._out.append(UnblockAllChannels(tuple(self._blocked)))
            self._blocked = []

    def trigger(self, barrier: CheckpointBarrier) -> None:
        self._out.append(TriggerSnapshot(barrier))

    def all_barriers_received(self) -> bool:
        return len(self._aligned) >= self._target

    # --- internals -----------------------------------------------------------------------------------
    def _finish_if_aligned(self) -> None:
        if self.is_checkpoint_pending and len(self._aligned) >= self._target:
            self._last_done_id = self.current_checkpoint_id
            self._aligned = set()
            self._pending = None

    def _abort_internal(self, checkpoint_id: int, reason: CheckpointFailureReason, decline: bool = True) -> None:
        if checkpoint_id > self.current_checkpoint_id and self.is_checkpoint_pending:
            # a newer checkpoint is given up before its first barrier came: the pending one is subsumed too
            self._out.append(AbortCheckpoint(self.current_checkpoint_id,
                                             CheckpointFailureReason.CHECKPOINT_DECLINED_SUBSUMED, decline))
        self.current_checkpoint_id = max(checkpoint_id, self.current_checkpoint_id)
        self._last_done_id = max(self._last_done_id, checkpoint_id)
        self._pending = None
        self._aligned = set()
        self._target = 0
        self.state = self.state.abort(self)
        self._out.append(AbortCheckpoint(checkpoint_id, reason, decline))

    def _take(self) -> list[Instruction]:
        out, self._out = self._out, []
        return out

    def __repr__(self) -> str:
        return (f"AlignedBarrierHandler({self.state!r}, checkpoint={self.current_checkpoint_id}, "
                f"aligned={sorted(self._aligned)}, open={self._channels.num_open})")


# --- at-least-once: barrier tracking ------------------------------------------------------------------------
@dataclass
class _BarrierCount:
    checkpoint_id: int
    barrier: Optional[CheckpointBarrier]  # None for a checkpoint known only through its cancellation
    target: int
    seen: set[int]
    aborted: bool = False


class BarrierTracker:
    """At-least-once barrier tracking for a task with ``num_channels`` input channels (Flink
    ``CheckpointBarrierTracker``): nothing is blocked; a checkpoint triggers when every channel open at its
    first barrier delivered its barrier (or ended). Several checkpoints may be pending; triggering one drops
    every older one.

    Args: as :class:`AlignedBarrierHandler`.
    """

    def __init__(self, num_channels: int, *, timeout_ms: Optional[int] = None,
                 checkpoints_after_tasks_finish: bool = True) -> None:
        self._channels = _Channels(num_channels)
        self._timeout_ms = timeout_ms
        self._after_finish = checkpoints_after_tasks_finish
        self._pending: deque[_BarrierCount] = deque()
        self._latest_id = -1

    @property
    def pending_checkpoint_ids(self) -> list[int]:
        return [c.checkpoint_id for c in self._pending]

    def on_barrier(self, channel: int, barrier: CheckpointBarrier) -> list[Instruction]:
        self._channels.check_open(channel, f"barrier {barrier.checkpoint_id}")
        barrier_id = barrier.checkpoint_id
        if barrier_id > self._latest_id and self._channels.num_open == 1:
            self._latest_id = barrier_id  # one open channel: nothing to wait for
            return [TriggerSnapshot(barrier)]
        for position, count in enumerate(self._pending):
            if count.checkpoint_id == barrier_id:
                count.seen.add(channel)
                if len(count.seen) >= count.target:
                    return self._complete(position, count)
                return []
        if barrier_id > self._latest_id:
            self._latest_id = barrier_id
            self._pending.append(_BarrierCount(barrier_id, barrier, self._channels.num_open, {channel}))
            if len(self._pending) > MAX_CHECKPOINTS_TO_TRACK:
                self._pending.popleft()
        return []  # else: a trailing barrier of a checkpoint already triggered, dropped or aborted

    def on_cancellation_marker(self, channel: int, marker: CancelCheckpointMarker) -> list[Instruction]:
        self._channels.check_open(channel, f"cancellation marker {marker.checkpoint_id}")
        cancelled = marker.checkpoint_id
        out: list[Instruction] = []
        if cancelled > self._latest_id and self._channels.num_open == 1:
            self._latest_id = cancelled
            return [AbortCheckpoint(cancelled, CheckpointFailureReason.CHECKPOINT_DECLINED_ON_CANCELLATION_BARRIER)]
        while self._pending and self._pending[0].checkpoint_id < cancelled:
            older = self._pending.popleft()
            if not older.aborted:
                out.append(AbortCheckpoint(older.checkpoint_id,
                                           CheckpointFailureReason.CHECKPOINT_DECLINED_ON_CANCELLATION_BARRIER))
        if self._pending and self._pending[0].checkpoint_id == cancelled:
            count = self._pending[0]
            if not count.aborted:
                count.aborted = True
                out.append(AbortCheckpoint(cancelled,
                                           CheckpointFailureReason.CHECKPOINT_DECLINED_ON_CANCELLATION_BARRIER))
            count.seen.add(channel)
            if len(count.seen) >= count.target:
                self._pending.popleft()
        elif cancelled > self._latest_id:
            out.append(AbortCheckpoint(cancelled, CheckpointFailureReason.CHECKPOINT_DECLINED_ON_CANCELLATION_BARRIER))
            self._latest_id = cancelled
            self._pending.appendleft(_BarrierCount(cancelled, None, self._channels.num_open, {channel}, aborted=True))
        return out

    def on_end_of_partition(self, channel: int) -> list[Instruction]:
        self._channels.check_open(channel, "end of partition")
        self._channels.ended.add(channel)
        if not self._after_finish:
            out: list[Instruction] = []
            while self._pending:
                count = self._pending.popleft()
                if not count.aborted:
                    out.append(AbortCheckpoint(count.checkpoint_id,
                                               CheckpointFailureReason.CHECKPOINT_DECLINED_INPUT_END_OF_STREAM))
            return out
        # the newest pending checkpoint that waited only for this channel triggers; older ones are dropped
        for position in range(len(self._pending) - 1, -1, -1):
            count = self._pending[position]
            count.seen.add(channel)
            if len(count.seen) >= count.target:
                return self._complete(position, count)
        return []

    def on_abort(self, checkpoint_id: int, reason: CheckpointFailureReason) -> list[Instruction]:
        """The JobMaster aborted ``checkpoint_id``: forget it (and remember it as aborted)."""
        out: list[Instruction] = []
        for count in self._pending:
            if count.checkpoint_id == checkpoint_id and not count.aborted:
                count.aborted = True
                out.append(AbortCheckpoint(checkpoint_id, reason, decline=False))
        if checkpoint_id > self._latest_id:
            self._latest_id = checkpoint_id
            out.append(AbortCheckpoint(checkpoint_id, reason, decline=False))
        return out

    def on_timer(self, now_ms: int) -> list[Instruction]:
        out: list[Instruction] = []
        if self._timeout_ms is None:
            return out
        for count in list(self._pending):
            if count.barrier is not None and not count.aborted and count.barrier.timestamp + self._timeout_ms <= now_ms:
                count.aborted = True
                out.append(AbortCheckpoint(count.checkpoint_id, CheckpointFailureReason.CHECKPOINT_EXPIRED,
                                           decline=False))
        return out

    def next_deadline_ms(self) -> Optional[int]:
        if self._timeout_ms is None:
            return None
        deadlines = [c.barrier.timestamp + self._timeout_ms for c in self._pending
                     if c.barrier is not None and not c.aborted]
        return min(deadlines) if deadlines else None

    def _complete(self, position: int, count: _BarrierCount) -> list[Instruction]:
        for _ in range(position + 1):
            self._pending.popleft()  # this one and every older one (now subsumed)
        if count.aborted or count.barrier is None:
            return []
        return [TriggerSnapshot(count.barrier)]

    def __repr__(self) -> str:
        return f"BarrierTracker(pending={self.pending_checkpoint_ids}, open={self._channels.num_open})"
