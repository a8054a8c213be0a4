"""Barrier alignment (exactly-once) and barrier tracking (at-least-once) as pure state machines.

Flink documentation, "Stateful Stream Processing" > "Checkpointing" > "Barriers" and "Snapshotting Operator State"
(an operator with several inputs aligns: it holds back input from streams whose barrier arrived until all did,
then snapshots and forwards the barrier), "Exactly Once vs. At Least Once" (without alignment records after a
barrier may be in the snapshot, and are then replayed: at least once), and "Checkpointing" > "Checkpointing with
parts of the graph finished" (ended inputs). Semantics checked against Carbone et al. 2015 (ABS) by simulation.
"""

from __future__ import annotations

import random

import pytest

from yflink.checkpoint.barrier_handler import (
    MAX_CHECKPOINTS_TO_TRACK,
    AbortCheckpoint,
    AlignedBarrierHandler,
    BarrierTracker,
    BlockChannel,
    CollectingBarriers,
    Instruction,
    TriggerSnapshot,
    UnblockAllChannels,
    WaitingForFirstBarrier,
    create_barrier_handler,
)
from yflink.checkpoint.barriers import CancelCheckpointMarker, CheckpointBarrier, CheckpointOptions, SnapshotType
from yflink.checkpoint.errors import CheckpointFailureReason as R
from yflink.checkpoint.options import CheckpointingMode


def b(n: int, ts: int = 1000) -> CheckpointBarrier:
    return CheckpointBarrier(n, ts)


def triggered(out: list[Instruction]) -> list[int]:
    return [i.barrier.checkpoint_id for i in out if isinstance(i, TriggerSnapshot)]


# --- exactly-once: WaitingForFirstBarrier / CollectingBarriers -----------------------------------------------
def test_single_channel_triggers_at_once_without_blocking() -> None:
    handler = AlignedBarrierHandler(1)
    assert handler.on_barrier(0, b(1)) == [TriggerSnapshot(b(1))]
    assert isinstance(handler.state, WaitingForFirstBarrier) and not handler.is_checkpoint_pending


def test_channels_that_delivered_the_barrier_are_blocked_until_all_did() -> None:
    handler = AlignedBarrierHandler(3)
    assert isinstance(handler.state, WaitingForFirstBarrier)
    assert handler.on_barrier(0, b(1)) == [BlockChannel(0)]
    assert isinstance(handler.state, CollectingBarriers) and handler.is_checkpoint_pending
    assert handler.on_barrier(2, b(1)) == [BlockChannel(2)]
    assert handler.blocked_channels == (0, 2)
    out = handler.on_barrier(1, b(1))
    assert out == [TriggerSnapshot(b(1)), UnblockAllChannels((0, 2))]
    assert isinstance(handler.state, WaitingForFirstBarrier) and handler.blocked_channels == ()
    # the next checkpoint aligns the same way
    assert handler.on_barrier(1, b(2)) == [BlockChannel(1)]


def test_a_newer_barrier_subsumes_the_pending_alignment() -> None:
    handler = AlignedBarrierHandler(3)
    handler.on_barrier(0, b(1))
    out = handler.on_barrier(1, b(2))
    assert out == [UnblockAllChannels((0,)), AbortCheckpoint(1, R.CHECKPOINT_DECLINED_SUBSUMED), BlockChannel(1)]
    assert handler.current_checkpoint_id == 2
    assert handler.on_barrier(2, b(1)) == []  # the late barrier of the subsumed checkpoint is ignored
    handler.on_barrier(0, b(2))
    assert triggered(handler.on_barrier(2, b(2))) == [2]


def test_barriers_of_finished_or_older_checkpoints_are_ignored() -> None:
    handler = AlignedBarrierHandler(2)
    handler.on_barrier(0, b(5))
    handler.on_barrier(1, b(5))
    assert handler.on_barrier(0, b(4)) == []
    assert handler.on_barrier(0, b(5)) == []


def test_cancellation_marker_aborts_the_pending_checkpoint_and_its_late_barriers() -> None:
    """Flink: a CancelCheckpointMarker aborts alignment (CHECKPOINT_DECLINED_ON_CANCELLATION_BARRIER)."""
    handler = AlignedBarrierHandler(3)
    handler.on_barrier(0, b(1))
    out = handler.on_cancellation_marker(1, CancelCheckpointMarker(1))
    assert out == [UnblockAllChannels((0,)), AbortCheckpoint(1, R.CHECKPOINT_DECLINED_ON_CANCELLATION_BARRIER)]
    assert isinstance(handler.state, WaitingForFirstBarrier)
    assert handler.on_barrier(2, b(1)) == []
    assert handler.on_cancellation_marker(2, CancelCheckpointMarker(1)) == []  # already aborted
    for channel in (0, 1):
        handler.on_barrier(channel, b(2))
    assert triggered(handler.on_barrier(2, b(2))) == [2]


def test_cancellation_of_a_newer_unseen_checkpoint_and_of_an_older_one() -> None:
    handler = AlignedBarrierHandler(2)
    assert handler.on_cancellation_marker(0, CancelCheckpointMarker(3)) == [
        AbortCheckpoint(3, R.CHECKPOINT_DECLINED_ON_CANCELLATION_BARRIER)]
    assert handler.on_barrier(1, b(3)) == []
    assert handler.on_cancellation_marker(1, CancelCheckpointMarker(2)) == []


def test_ended_channel_counts_as_aligned_and_is_not_waited_for_again() -> None:
    """Checkpointing with parts of the graph finished (FLIP-147)."""
    handler = AlignedBarrierHandler(3)
    handler.on_barrier(0, b(1))
    handler.on_barrier(1, b(1))
    out = handler.on_end_of_partition(2)
    assert triggered(out) == [1] and out[-1] == UnblockAllChannels((0, 1))
    handler.on_barrier(0, b(2))
    assert triggered(handler.on_barrier(1, b(2))) == [2]
    assert handler.on_end_of_partition(0) == []  # nothing pending
    assert triggered(handler.on_barrier(1, b(3))) == [3]  # one open channel left


def test_end_of_partition_aborts_when_checkpoints_after_finish_are_off() -> None:
    handler = AlignedBarrierHandler(2, checkpoints_after_tasks_finish=False)
    handler.on_barrier(0, b(1))
    assert handler.on_end_of_partition(1) == [UnblockAllChannels((0,)),
                                              AbortCheckpoint(1, R.CHECKPOINT_DECLINED_INPUT_END_OF_STREAM)]


def test_abort_from_the_jobmaster_unblocks_without_declining() -> None:
    handler = AlignedBarrierHandler(2)
    handler.on_barrier(0, b(1))
    assert handler.on_abort(1, R.CHECKPOINT_EXPIRED) == [UnblockAllChannels((0,)),
                                                         AbortCheckpoint(1, R.CHECKPOINT_EXPIRED, decline=False)]
    assert handler.on_barrier(1, b(1)) == []
    # an abort of a checkpoint whose barrier has not come yet: it will be ignored when it comes
    assert handler.on_abort(2, R.CHECKPOINT_DECLINED) == [AbortCheckpoint(2, R.CHECKPOINT_DECLINED, decline=False)]
    assert handler.on_barrier(0, b(2)) == []
    assert handler.on_abort(1, R.CHECKPOINT_EXPIRED) == []  # old news


def test_abort_of_a_newer_checkpoint_also_gives_up_the_pending_one() -> None:
    handler = AlignedBarrierHandler(2)
    handler.on_barrier(0, b(1))
    assert handler.on_abort(2, R.CHECKPOINT_EXPIRED) == [
        AbortCheckpoint(1, R.CHECKPOINT_DECLINED_SUBSUMED, decline=False), UnblockAllChannels((0,)),
        AbortCheckpoint(2, R.CHECKPOINT_EXPIRED, decline=False)]


def test_timer_expires_an_alignment_older_than_the_checkpoint_timeout() -> None:
    handler = AlignedBarrierHandler(2, timeout_ms=500)
    assert handler.next_deadline_ms() is None
    handler.on_barrier(0, b(1, ts=10_000))
    assert handler.next_deadline_ms() == 10_500
    assert handler.on_timer(10_499) == []
    assert handler.on_timer(10_500) == [UnblockAllChannels((0,)),
                                        AbortCheckpoint(1, R.CHECKPOINT_EXPIRED, decline=False)]
    assert handler.next_deadline_ms() is None and handler.on_barrier(1, b(1)) == []


def test_wiring_bugs_are_reported() -> None:
    handler = AlignedBarrierHandler(2)
    handler.on_barrier(0, b(1))
    with pytest.raises(ValueError, match="blocked channel 0"):
        handler.on_barrier(0, b(2))
    with pytest.raises(ValueError, match="channels 0..1"):
        handler.on_barrier(5, b(1))
    handler.on_end_of_partition(1)
    with pytest.raises(ValueError, match="after its end of partition"):
        handler.on_end_of_partition(1)
    with pytest.raises(ValueError, match="at least one input channel"):
        AlignedBarrierHandler(0)


def test_savepoint_barriers_align_like_checkpoints() -> None:
    barrier = CheckpointBarrier(7, 1, CheckpointOptions(SnapshotType.SAVEPOINT_SUSPEND, "file:///sp"))
    handler = AlignedBarrierHandler(2)
    handler.on_barrier(1, barrier)
    assert handler.on_barrier(0, barrier) == [TriggerSnapshot(barrier), UnblockAllChannels((1,))]


# --- at-least-once: the tracker -------------------------------------------------------------------------------
def test_tracker_never_blocks_and_triggers_on_the_last_barrier() -> None:
    tracker = BarrierTracker(3)
    assert tracker.on_barrier(0, b(1)) == []
    assert tracker.on_barrier(1, b(1)) == []
    assert tracker.on_barrier(2, b(1)) == [TriggerSnapshot(b(1))]
    assert tracker.pending_checkpoint_ids == []


def test_tracker_keeps_several_checkpoints_and_a_newer_trigger_drops_older_ones() -> None:
    tracker = BarrierTracker(2)
    tracker.on_barrier(0, b(1))
    tracker.on_barrier(0, b(2))  # channel 0 runs ahead: not blocked
    assert tracker.pending_checkpoint_ids == [1, 2]
    assert tracker.on_barrier(1, b(2)) == [TriggerSnapshot(b(2))]
    assert tracker.pending_checkpoint_ids == []
    assert tracker.on_barrier(1, b(1)) == []  # trailing barrier of the dropped checkpoint


def test_tracker_cancellation_aborts_that_checkpoint_and_older_ones() -> None:
    tracker = BarrierTracker(2)
    tracker.on_barrier(0, b(1))
    tracker.on_barrier(0, b(2))
    out = tracker.on_cancellation_marker(1, CancelCheckpointMarker(2))
    assert out == [AbortCheckpoint(1, R.CHECKPOINT_DECLINED_ON_CANCELLATION_BARRIER),
                   AbortCheckpoint(2, R.CHECKPOINT_DECLINED_ON_CANCELLATION_BARRIER)]
    assert tracker.pending_checkpoint_ids == []
    # a cancellation of an unseen checkpoint is remembered: its barriers never trigger
    assert tracker.on_cancellation_marker(0, CancelCheckpointMarker(3)) == [
        AbortCheckpoint(3, R.CHECKPOINT_DECLINED_ON_CANCELLATION_BARRIER)]
    assert tracker.on_barrier(1, b(3)) == []


def test_tracker_end_of_partition_completes_the_newest_checkpoint_waiting_for_it() -> None:
    tracker = BarrierTracker(3)
    tracker.on_barrier(0, b(1))
    tracker.on_barrier(1, b(1))
    assert tracker.on_end_of_partition(2) == [TriggerSnapshot(b(1))]
    assert triggered(tracker.on_barrier(0, b(2))) == []
    assert triggered(tracker.on_barrier(1, b(2))) == [2]
    tracker.on_end_of_partition(1)
    assert tracker.on_barrier(0, b(3)) == [TriggerSnapshot(b(3))]  # one open channel: at once


def test_tracker_end_of_partition_aborts_when_checkpoints_after_finish_are_off() -> None:
    tracker = BarrierTracker(2, checkpoints_after_tasks_finish=False)
    tracker.on_barrier(0, b(1))
    assert tracker.on_end_of_partition(1) == [AbortCheckpoint(1, R.CHECKPOINT_DECLINED_INPUT_END_OF_STREAM)]


def test_tracker_abort_timer_and_bounded_tracking() -> None:
    tracker = BarrierTracker(2, timeout_ms=100)
    tracker.on_barrier(0, b(1, ts=0))
    tracker.on_barrier(0, b(2, ts=50))
    assert tracker.next_deadline_ms() == 100
    assert tracker.on_timer(120) == [AbortCheckpoint(1, R.CHECKPOINT_EXPIRED, decline=False)]
    assert tracker.next_deadline_ms() == 150
    assert tracker.on_abort(2, R.CHECKPOINT_DECLINED) == [AbortCheckpoint(2, R.CHECKPOINT_DECLINED, decline=False)]
    assert tracker.on_barrier(1, b(2)) == []
    many = BarrierTracker(2)
    for n in range(1, MAX_CHECKPOINTS_TO_TRACK + 5):
        many.on_barrier(0, b(n))
    assert len(many.pending_checkpoint_ids) == MAX_CHECKPOINTS_TO_TRACK


def test_factory_picks_the_handler_by_mode() -> None:
    assert isinstance(create_barrier_handler(CheckpointingMode.EXACTLY_ONCE, 2), AlignedBarrierHandler)
    assert isinstance(create_barrier_handler(CheckpointingMode.AT_LEAST_ONCE, 2), BarrierTracker)


# --- ABS semantics by simulation ------------------------------------------------------------------------------
def _simulate(handler_factory: object, seed: int, channels: int = 3, checkpoints: int = 4
              ) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    """Random interleaving of channels carrying records and barriers 1..checkpoints; returns, per triggered
    checkpoint, the records processed before the snapshot and the records that precede its barriers."""
    rng = random.Random(seed)
    streams: list[list[object]] = []
    before: dict[int, set[str]] = {n: set() for n in range(1, checkpoints + 1)}
    for c in range(channels):
        items: list[object] = []
        seen: list[str] = []
        for n in range(1, checkpoints + 1):
            for _ in range(rng.randint(0, 5)):
                record = f"c{c}-r{len(seen)}"
                items.append(record)
                seen.append(record)
            items.append(b(n))
            before[n] |= set(seen)
        items.extend(f"c{c}-tail{k}" for k in range(rng.randint(0, 3)))
        streams.append(items)
    handler = handler_factory(channels)  # type: ignore[operator]
    blocked: set[int] = set()
    processed: set[str] = set()
    snapshots: dict[int, set[str]] = {}
    while any(streams[c] for c in range(channels) if c not in blocked):
        channel = rng.choice([c for c in range(channels) if streams[c] and c not in blocked])
        item = streams[channel].pop(0)
        if isinstance(item, str):
            processed.add(item)
            continue
        assert isinstance(item, CheckpointBarrier)
        for instruction in handler.on_barrier(channel, item):
            if isinstance(instruction, BlockChannel):
                blocked.add(instruction.channel)
            elif isinstance(instruction, UnblockAllChannels):
                blocked -= set(instruction.channels)
            elif isinstance(instruction, TriggerSnapshot):
                snapshots[instruction.barrier.checkpoint_id] = set(processed)
    assert not blocked and not any(streams)
    return snapshots, before


@pytest.mark.parametrize("seed", range(30))
def test_aligned_snapshots_hold_exactly_the_records_before_the_barriers(seed: int) -> None:
    """ABS: the snapshot of checkpoint n reflects every record before barrier n on each channel, and none after."""
    snapshots, before = _simulate(AlignedBarrierHandler, seed)
    assert sorted(snapshots) == [1, 2, 3, 4]  # FIFO channels, no failures: every checkpoint completes
    for n, state in snapshots.items():
        assert state == before[n]


@pytest.mark.parametrize("seed", range(30))
def test_tracked_snapshots_lose_nothing_before_the_barriers(seed: int) -> None:
    """At-least-once: the snapshot holds every record before the barriers (and maybe some after)."""
    snapshots, before = _simulate(BarrierTracker, seed)
    assert snapshots, "at least the last checkpoint triggers"
    for n, state in snapshots.items():
        assert state >= before[n]
