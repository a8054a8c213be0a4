"""Completed checkpoints: retention of the latest N, subsumption, and what to delete when the job ends.

Flink ``CompletedCheckpoint``, ``CheckpointProperties`` and ``StandaloneCompletedCheckpointStore``. Only
checkpoints enter the store; savepoints belong to the user and are never retained, subsumed or deleted by yflink
(Flink 1.15+, FLINK-25191). Adding a checkpoint beyond ``execution.checkpointing.num-retained`` subsumes the
oldest ones: the store unregisters their shared files and hands back a :class:`DiscardPlan` per subsumed checkpoint
(its exclusive directory, plus the shared files no retained checkpoint uses any more), which the caller deletes.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Optional

from yflink.checkpoint.barriers import SnapshotType
from yflink.checkpoint.handles import FileStateHandle, StreamStateHandle
from yflink.checkpoint.metadata import CheckpointMetadata
from yflink.checkpoint.options import ExternalizedCheckpointRetention
from yflink.checkpoint.shared_registry import SharedStateRegistry
from yflink.checkpoint.storage import NON_PERSISTENT_POINTER
from yflink.fs.base import relative_to

__all__ = ["CheckpointProperties", "CompletedCheckpoint", "CompletedCheckpointStore", "DiscardPlan", "discard_plan"]


@dataclass(frozen=True)
class CheckpointProperties:
    """What a snapshot is and when yflink may delete it (Flink ``CheckpointProperties``)."""

    snapshot_type: SnapshotType = SnapshotType.CHECKPOINT
    discard_subsumed: bool = True
    discard_finished: bool = True
    discard_cancelled: bool = True
    discard_failed: bool = True
    discard_suspended: bool = True

    @classmethod
    def for_checkpoint(cls, retention: ExternalizedCheckpointRetention) -> CheckpointProperties:
        if retention is ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION:
            return cls(discard_cancelled=False, discard_failed=False, discard_suspended=False)
        if retention is ExternalizedCheckpointRetention.DELETE_ON_CANCELLATION:
            return cls(discard_failed=False, discard_suspended=False)
        return cls()

    @classmethod
    def for_savepoint(cls, snapshot_type: SnapshotType) -> CheckpointProperties:
        return cls(snapshot_type, False, False, False, False, False)

    @property
    def is_savepoint(self) -> bool:
        return self.snapshot_type.is_savepoint

    def discard_on_shutdown(self, job_status: str) -> bool:
        """Whether to delete the snapshot when the job ends in ``job_status`` (a JobStatus name)."""
        return {"FINISHED": self.discard_finished, "CANCELED": self.discard_cancelled,
                "FAILED": self.discard_failed, "SUSPENDED": self.discard_suspended}.get(job_status, False)


@dataclass
class CompletedCheckpoint:
    """A checkpoint or savepoint whose ``_metadata`` is written.

    Attributes:
        metadata: what ``_metadata`` holds.
        external_pointer: the directory URI (what ``yflink run -s`` takes).
        props: its kind and deletion rules.
        completion_timestamp: when it completed, ms since the epoch.
    """

    metadata: CheckpointMetadata
    external_pointer: str
    props: CheckpointProperties
    completion_timestamp: int

    @property
    def checkpoint_id(self) -> int:
        return self.metadata.checkpoint_id

    @property
    def timestamp(self) -> int:
        return self.metadata.timestamp

    @property
    def is_persistent(self) -> bool:
        """Whether its ``_metadata`` is in storage (not only in the JobMaster's memory)."""
        return self.external_pointer != NON_PERSISTENT_POINTER

    def shared_files(self) -> list[str]:
        return _files(self.metadata, shared=True)

    def exclusive_files(self) -> list[str]:
        return _files(self.metadata, shared=False)


def _files(metadata: CheckpointMetadata, shared: bool) -> list[str]:
    handles: list[StreamStateHandle] = [h for op in metadata.operators for h, s in op.stream_handles() if s == shared]
    return sorted({h.path for h in handles if isinstance(h, FileStateHandle)})


@dataclass(frozen=True)
class DiscardPlan:
    """What to delete for one checkpoint: directories (recursively) and single files."""

    checkpoint_id: int
    directories: tuple[str, ...] = ()
    files: tuple[str, ...] = ()


def discard_plan(checkpoint_id: int, exclusive_dir: Optional[str], exclusive_files: list[str],
                 unused_shared: list[str], taskowned_dir: Optional[str] = None) -> DiscardPlan:
    """Delete ``exclusive_dir`` with everything in it, exclusive files elsewhere (never under ``taskowned_dir``),
    and the shared files nobody uses any more."""
    outside = [f for f in exclusive_files
               if (exclusive_dir is None or relative_to(f, exclusive_dir) is None)
               and (taskowned_dir is None or relative_to(f, taskowned_dir) is None)]
    return DiscardPlan(checkpoint_id, (exclusive_dir,) if exclusive_dir else (), tuple(sorted(outside + unused_shared)))


@dataclass
class CompletedCheckpointStore:
    """The retained checkpoints of a job, oldest first (Flink ``StandaloneCompletedCheckpointStore``).

    Args:
        max_retained: ``execution.checkpointing.num-retained``.
        registry: reference counts of shared files (the store registers and unregisters checkpoints).
        taskowned_dir: files under it are never deleted by the JobMaster.
    """

    max_retained: int = 1
    registry: SharedStateRegistry = field(default_factory=SharedStateRegistry)
    taskowned_dir: Optional[str] = None
    _checkpoints: deque[CompletedCheckpoint] = field(default_factory=deque, init=False, repr=False)

    def add(self, checkpoint: CompletedCheckpoint) -> list[DiscardPlan]:
        """Retain ``checkpoint``; the subsumed checkpoints' discard plans (oldest first)."""
        if checkpoint.props.is_savepoint:
            raise ValueError(f"savepoint {checkpoint.checkpoint_id} cannot enter the checkpoint store")
        self.registry.register_checkpoint(checkpoint.checkpoint_id, checkpoint.shared_files())
        self._checkpoints.append(checkpoint)
        plans = []
        while len(self._checkpoints) > self.max_retained:
            plans.append(self._remove(self._checkpoints.popleft()))
        return plans

    def _remove(self, checkpoint: CompletedCheckpoint) -> DiscardPlan:
        unused = self.registry.unregister_checkpoint(checkpoint.checkpoint_id)
        return discard_plan(checkpoint.checkpoint_id, checkpoint.external_pointer if checkpoint.is_persistent else None,
                            checkpoint.exclusive_files(), unused, self.taskowned_dir)

    def remove(self, checkpoint_id: int) -> Optional[DiscardPlan]:
        """Drop a retained checkpoint that turned out unusable (its ``_metadata`` no longer reads back); its
        discard plan, or None when it is not retained."""
        for checkpoint in self._checkpoints:
            if checkpoint.checkpoint_id == checkpoint_id:
                self._checkpoints.remove(checkpoint)
                return self._remove(checkpoint)
        return None

    def latest(self) -> Optional[CompletedCheckpoint]:
        return self._checkpoints[-1] if self._checkpoints else None

    def all(self) -> list[CompletedCheckpoint]:
        return list(self._checkpoints)

    def shutdown(self, job_status: str) -> list[DiscardPlan]:
        """The job ended in ``job_status``: discard plans of the checkpoints its retention policy deletes."""
        plans = []
        for checkpoint in list(self._checkpoints):
            if checkpoint.props.discard_on_shutdown(job_status):
                self._checkpoints.remove(checkpoint)
                plans.append(self._remove(checkpoint))
        return plans
