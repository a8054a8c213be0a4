"""A checkpoint that has been triggered and is collecting acknowledgements (Flink ``PendingCheckpoint``).

It knows which executions must acknowledge (the :class:`CheckpointPlan` taken at trigger time), gathers each
acknowledged :data:`~yflink.checkpoint.handles.TaskStateSnapshot` into per-operator :class:`OperatorState`, and
turns into :class:`CheckpointMetadata` when every task acknowledged. Pure data and bookkeeping.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Optional

from yflink.checkpoint.barriers import CheckpointOptions, SnapshotType
from yflink.checkpoint.handles import OperatorState, StreamStateHandle, TaskStateSnapshot, file_paths
from yflink.checkpoint.metadata import CheckpointMetadata
from yflink.checkpoint.storage import CheckpointStorageLocation

__all__ = ["AckResult", "CheckpointPlan", "PendingCheckpoint", "TaskRef", "VertexInfo"]


@dataclass(frozen=True)
class TaskRef:
    """The subtask an execution runs."""

    vertex_id: str
    subtask_index: int


@dataclass(frozen=True)
class VertexInfo:
    """What the coordinator knows of one JobGraph vertex (an operator chain).

    Attributes:
        vertex_id: the JobVertex id.
        parallelism / max_parallelism: of the vertex (max parallelism = number of key groups).
        operator_ids: stable ids of the chain's operators, head first (32 hex digits; from ``uid`` when set).
        operator_uids: the user's ``uid`` per operator (None when unset), aligned with ``operator_ids``.
    """

    vertex_id: str
    parallelism: int
    max_parallelism: int
    operator_ids: tuple[str, ...]
    operator_uids: tuple[Optional[str], ...] = ()

    def uid_of(self, index: int) -> Optional[str]:
        return self.operator_uids[index] if index < len(self.operator_uids) else None


@dataclass(frozen=True)
class CheckpointPlan:
    """Who takes part in one checkpoint (Flink ``CheckpointPlan``), computed by the JobMaster at trigger time.

    Attributes:
        tasks_to_trigger: execution ids that get the trigger call and inject the barrier (running sources, and
            running tasks whose inputs all ended).
        tasks_to_wait_for: every running execution that must acknowledge, with its subtask.
        finished_tasks: subtasks that already FINISHED (FLIP-147): they acknowledge nothing; an operator whose
            subtasks all finished is recorded as fully finished.
        final_states: executions among ``tasks_to_wait_for`` that finished and sent their final state
            (FLIP-147 as yflink does it): the checkpoint takes that state as their acknowledgement at once.
    """

    tasks_to_trigger: tuple[str, ...]
    tasks_to_wait_for: dict[str, TaskRef]
    finished_tasks: tuple[TaskRef, ...] = ()
    final_states: dict[str, TaskStateSnapshot] = field(default_factory=dict)


class AckResult(enum.Enum):
    """Outcome of one acknowledgement (Flink ``TaskAcknowledgeResult``)."""

    SUCCESS = "SUCCESS"
    DUPLICATE = "DUPLICATE"
    UNKNOWN = "UNKNOWN"        # not a task of this checkpoint
    DISCARDED = "DISCARDED"    # the checkpoint is already disposed


@dataclass
class PendingCheckpoint:
    """One triggered checkpoint or savepoint.

    Attributes:
        checkpoint_id / timestamp: id and trigger time (ms since the epoch).
        options: what the barriers carry (snapshot type, target location).
        location: where its files and ``_metadata`` go.
        plan: the tasks taking part.
        deadline: when it expires (ms since the epoch).
        request_id: the caller's id of a savepoint request (None for periodic checkpoints).
    """

    checkpoint_id: int
    timestamp: int
    options: CheckpointOptions
    location: CheckpointStorageLocation
    plan: CheckpointPlan
    deadline: int
    vertices: dict[str, VertexInfo]
    request_id: Optional[str] = None
    operator_states: dict[str, OperatorState] = field(default_factory=dict)
    not_yet_acknowledged: dict[str, TaskRef] = field(default_factory=dict)
    acknowledged: dict[str, TaskRef] = field(default_factory=dict)
    finalizing: bool = False
    disposed: bool = False

    def __post_init__(self) -> None:
        self.not_yet_acknowledged = dict(self.plan.tasks_to_wait_for)
        for vertex in self.vertices.values():
            finished = sum(1 for t in self.plan.finished_tasks if t.vertex_id == vertex.vertex_id)
            for index, operator_id in enumerate(vertex.operator_ids):
                self.operator_states[operator_id] = OperatorState(
                    operator_id, vertex.parallelism, vertex.max_parallelism, uid=vertex.uid_of(index),
                    fully_finished=finished == vertex.parallelism)
        for execution_id, state in self.plan.final_states.items():
            self.acknowledge(execution_id, state)

    @property
    def snapshot_type(self) -> SnapshotType:
        return self.options.snapshot_type

    @property
    def is_fully_acknowledged(self) -> bool:
        return not self.not_yet_acknowledged and not self.disposed

    @property
    def participants(self) -> tuple[str, ...]:
        """Execution ids of every task in the checkpoint (to notify of completion or abortion)."""
        return tuple(sorted(self.plan.tasks_to_wait_for))

    def acknowledge(self, execution_id: str, state: Optional[TaskStateSnapshot]) -> AckResult:
        """Record ``execution_id``'s acknowledgement with its state (``{operator id: OperatorSubtaskState}``)."""
        if self.disposed:
            return AckResult.DISCARDED
        task = self.not_yet_acknowledged.pop(execution_id, None)
        if task is None:
            return AckResult.DUPLICATE if execution_id in self.acknowledged else AckResult.UNKNOWN
        self.acknowledged[execution_id] = task
        for operator_id, subtask_state in (state or {}).items():
            operator = self.operator_states.get(operator_id)
            if operator is None:  # an operator the JobGraph does not know: keep it, the restore will complain
                vertex = self.vertices[task.vertex_id]
                operator = self.operator_states[operator_id] = OperatorState(
                    operator_id, vertex.parallelism, vertex.max_parallelism)
            if not subtask_state.is_empty():
                operator.subtasks[task.subtask_index] = subtask_state
        return AckResult.SUCCESS

    def to_metadata(self, job_id: str) -> CheckpointMetadata:
        """The ``_metadata`` content once every task acknowledged."""
        operators = [op for _, op in sorted(self.operator_states.items())]
        return CheckpointMetadata(self.checkpoint_id, job_id, self.timestamp, self.snapshot_type, operators)

    def state_files(self) -> tuple[list[str], list[str]]:
        """(exclusive, shared) file URIs acknowledged so far (to delete when the checkpoint is aborted)."""
        handles: list[tuple[StreamStateHandle, bool]] = [
            pair for op in self.operator_states.values() for pair in op.stream_handles()]
        return file_paths(iter(handles), shared=False), file_paths(iter(handles), shared=True)
