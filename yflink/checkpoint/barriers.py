"""Checkpoint events that travel in-band with records: barriers and cancellation markers.

A :class:`CheckpointBarrier` splits a channel's stream into the records before checkpoint ``n`` and those after
it (the Asynchronous Barrier Snapshotting of Carbone et al. 2015; Flink documentation "Stateful Stream
Processing" > "Checkpointing" > "Barriers"). Sources emit it when the CheckpointCoordinator triggers
checkpoint ``n``; every task forwards it to all its outputs when it snapshots. A
:class:`CancelCheckpointMarker` tells downstream tasks that checkpoint ``n`` was abandoned upstream, so they
stop aligning for it.

Both are small frozen dataclasses of plain values: the network layer pickles them like its other events
(``yflink.runtime.network.events``). Source of the fields: Flink ``CheckpointBarrier``, ``CheckpointOptions``,
``CancelCheckpointMarker`` and ``SnapshotType``/``SavepointType``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Optional

__all__ = ["FINAL_SNAPSHOT_ID", "AlignmentType", "CancelCheckpointMarker", "CheckpointBarrier", "CheckpointOptions",
           "SnapshotType"]

#: The checkpoint id a task acknowledges its final state with when it finished (FLIP-147; real ids start at 1).
FINAL_SNAPSHOT_ID = 0


class SnapshotType(enum.Enum):
    """What a barrier asks for (Flink ``CheckpointType``/``SavepointType``).

    * CHECKPOINT: a periodic checkpoint, owned by yflink (retained, subsumed, deleted);
    * SAVEPOINT: a savepoint the user owns; the job goes on;
    * SAVEPOINT_SUSPEND: stop-with-savepoint; tasks finish after it completes;
    * SAVEPOINT_TERMINATE: stop-with-savepoint ``--drain``: sources end their input (MAX watermark) first.
    """

    CHECKPOINT = "CHECKPOINT"
    SAVEPOINT = "SAVEPOINT"
    SAVEPOINT_SUSPEND = "SAVEPOINT_SUSPEND"
    SAVEPOINT_TERMINATE = "SAVEPOINT_TERMINATE"

    @property
    def is_savepoint(self) -> bool:
        return self is not SnapshotType.CHECKPOINT

    @property
    def is_synchronous(self) -> bool:
        """Whether the job stops after this snapshot (stop-with-savepoint)."""
        return self in (SnapshotType.SAVEPOINT_SUSPEND, SnapshotType.SAVEPOINT_TERMINATE)


class AlignmentType(enum.Enum):
    """How tasks with several input channels treat the barrier (Flink ``CheckpointOptions.AlignmentType``)."""

    ALIGNED = "ALIGNED"              # exactly-once: block channels that delivered the barrier until all did
    AT_LEAST_ONCE = "AT_LEAST_ONCE"  # count barriers only; records after a barrier may enter the snapshot


@dataclass(frozen=True, slots=True)
class CheckpointOptions:
    """Options that travel with a barrier.

    Attributes:
        snapshot_type: checkpoint or a kind of savepoint.
        target_location: the URI of the directory the task writes its exclusive state files to
            (``.../chk-<n>`` or the savepoint directory); None: the checkpoint is kept in the JobMaster's memory
            (``JobManagerCheckpointStorage``) and the task puts all its state inline into the acknowledgement.
        alignment: aligned (exactly-once) or at-least-once.
        shared_location: URI of ``<job>/shared`` where incremental backends put files several checkpoints use
            (None for savepoints and in-memory checkpoints: everything goes to ``target_location`` or inline).
    """

    snapshot_type: SnapshotType = SnapshotType.CHECKPOINT
    target_location: Optional[str] = None
    alignment: AlignmentType = AlignmentType.ALIGNED
    shared_location: Optional[str] = None


@dataclass(frozen=True, slots=True)
class CheckpointBarrier:
    """Checkpoint ``checkpoint_id`` passes this point of the channel.

    Attributes:
        checkpoint_id: increasing id (1, 2, ...) given by the CheckpointCoordinator.
        timestamp: when the coordinator triggered it, ms since the epoch.
        options: snapshot type, target location, alignment.
    """

    checkpoint_id: int
    timestamp: int
    options: CheckpointOptions = field(default_factory=CheckpointOptions)


@dataclass(frozen=True, slots=True)
class CancelCheckpointMarker:
    """Checkpoint ``checkpoint_id`` was abandoned upstream; stop aligning for it and forward the marker."""

    checkpoint_id: int
