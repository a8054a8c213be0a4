"""Which state each new subtask restores from a checkpoint or savepoint, at any new parallelism (pure).

Flink ``StateAssignmentOperation``: the JobMaster maps each operator's state in the metadata to the operator with
the same id (from its ``uid``) in the job being started, then splits it over that operator's new subtasks without
reading any state file:

* keyed state: new subtask ``i`` owns key groups ``key_group_range(max_parallelism, p, i)`` and gets every old
  keyed handle that overlaps them, cut to the overlap (a full snapshot's key-group offsets let it read only its
  groups);
* list state (SPLIT_DISTRIBUTE): unchanged parallelism keeps each subtask its own elements; otherwise the elements
  of all old subtasks, in subtask order, are cut into ``p`` contiguous runs, the first ones one longer;
* union list state: every new subtask gets every element;
* broadcast state: new subtask ``i`` gets old subtask ``i mod old_p``'s copy.

These are the rules of :func:`yflink.state.snapshot.operator_state_for` (which the tests check this against),
expressed as element ranges of named states in handles (:class:`OperatorStateSlice`).

Errors (:class:`~yflink.checkpoint.errors.StateAssignmentError`): state of an operator the new job lacks (unless
``allow_non_restored_state``, the CLI's ``--allowNonRestoredState``), keyed state with another max parallelism.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from yflink.checkpoint.errors import StateAssignmentError
from yflink.checkpoint.handles import (
    KeyedStateHandle,
    KeyGroupRange,
    OperatorState,
    OperatorStateHandle,
    OperatorStateMode,
    OperatorSubtaskState,
    StateMetaInfo,
)
from yflink.checkpoint.metadata import CheckpointMetadata
from yflink.checkpoint.pending import VertexInfo
from yflink.state.key_groups import key_group_range

__all__ = ["OperatorStateSlice", "OperatorSubtaskRestore", "TaskRestore", "assign_state"]

_Entry = tuple[int, OperatorStateHandle, StateMetaInfo]  # (old subtask, handle, the state's info in it)


@dataclass(frozen=True)
class OperatorStateSlice:
    """Elements ``start:end`` of the named operator state ``name`` in ``handle`` (all of a broadcast map)."""

    handle: OperatorStateHandle
    name: str
    mode: OperatorStateMode
    start: int
    end: int


@dataclass
class OperatorSubtaskRestore:
    """What one new subtask restores for one operator (Flink's per-operator part of ``JobManagerTaskRestore``).

    Attributes:
        operator_id: the operator.
        key_groups: the key groups the new subtask owns.
        max_parallelism: number of key groups.
        keyed: old keyed handles cut to ``key_groups``.
        operator_slices: the named operator state elements this subtask gets, in restore order.
        fully_finished: the operator had finished everywhere (FLIP-147); it is not run again.
    """

    operator_id: str
    key_groups: KeyGroupRange
    max_parallelism: int
    keyed: list[KeyedStateHandle] = field(default_factory=list)
    operator_slices: list[OperatorStateSlice] = field(default_factory=list)
    fully_finished: bool = False

    def is_empty(self) -> bool:
        return not self.keyed and not self.operator_slices


@dataclass
class TaskRestore:
    """Everything one new subtask (one task: an operator chain) restores: ``{operator id: restore}``."""

    checkpoint_id: int
    operators: dict[str, OperatorSubtaskRestore] = field(default_factory=dict)


def assign_state(metadata: CheckpointMetadata, vertices: Iterable[VertexInfo], *,
                 allow_non_restored_state: bool = False, location: str = "") -> dict[tuple[str, int], TaskRestore]:
    """``{(vertex id, subtask index): TaskRestore}`` for every subtask of ``vertices`` (new parallelism).

    Args:
        metadata: the checkpoint or savepoint to restore.
        vertices: the new job's vertices (parallelism, max parallelism, operator ids).
        allow_non_restored_state: skip state of operators the new job does not have instead of failing.
        location: the checkpoint's path, for error messages.

    Raises:
        StateAssignmentError: see the module docstring.
    """
    vertex_list = list(vertices)
    owner = {op_id: v for v in vertex_list for op_id in v.operator_ids}
    result = {(v.vertex_id, i): TaskRestore(metadata.checkpoint_id) for v in vertex_list for i in range(v.parallelism)}
    where = f" {location}" if location else f" {metadata.checkpoint_id}"
    for op in metadata.operators:
        vertex = owner.get(op.operator_id)
        if vertex is None:
            if any(not s.is_empty() for s in op.subtasks.values()) and not allow_non_restored_state:
                name = f"operator {op.operator_id}" + (f" (uid '{op.uid}')" if op.uid else "")
                raise StateAssignmentError(
                    f"Failed to rollback to checkpoint/savepoint{where}. Cannot map checkpoint/savepoint state for "
                    f"{name} to the new program, because the operator is not available in the new program. If you "
                    "want to allow to skip this, you can set the --allowNonRestoredState option on the CLI.")
            continue
        has_keyed = any(s.keyed for s in op.subtasks.values())
        if has_keyed and op.max_parallelism != vertex.max_parallelism:
            raise StateAssignmentError(
                f"Failed to rollback to checkpoint/savepoint{where}. The max parallelism of operator "
                f"{op.operator_id}{f' (uid {op.uid!r})' if op.uid else ''} changed from {op.max_parallelism} to "
                f"{vertex.max_parallelism}; keyed state can only be restored with the same number of key groups "
                f"(set pipeline.max-parallelism or the operator's max parallelism to {op.max_parallelism})")
        slices = _operator_slices(op, vertex.parallelism)
        for index in range(vertex.parallelism):
            groups = KeyGroupRange.of(key_group_range(vertex.max_parallelism, vertex.parallelism, index))
            keyed = [cut for s in _in_order(op) for h in s.keyed if (cut := h.intersection(groups)) is not None]
            result[(vertex.vertex_id, index)].operators[op.operator_id] = OperatorSubtaskRestore(
                op.operator_id, groups, vertex.max_parallelism, keyed, slices[index], op.fully_finished)
    return result


def _in_order(op: OperatorState) -> list[OperatorSubtaskState]:
    return [op.subtasks[i] for i in sorted(op.subtasks)]


def _operator_slices(op: OperatorState, parallelism: int) -> list[list[OperatorStateSlice]]:
    """Per new subtask, its operator state slices (see the module docstring)."""
    old_parallelism = op.parallelism
    per_old: list[list[OperatorStateHandle]] = [
        list(op.subtasks[i].operator) if i in op.subtasks else [] for i in range(old_parallelism)]
    result: list[list[OperatorStateSlice]] = [[] for _ in range(parallelism)]
    names: dict[str, OperatorStateMode] = {}
    for handles in per_old:
        for handle in handles:
            for name, info in handle.states.items():
                names.setdefault(name, info.mode)
    for name, mode in sorted(names.items()):
        entries: list[_Entry] = [(old, h, h.states[name]) for old, handles in enumerate(per_old) for h in handles
                   if name in h.states]
        if mode is OperatorStateMode.UNION:
            for target in result:
                target.extend(OperatorStateSlice(h, name, mode, 0, info.count) for _, h, info in entries)
        elif mode is OperatorStateMode.BROADCAST:
            for index, target in enumerate(result):
                own = [e for e in entries if e[0] == index % max(old_parallelism, 1)] or entries[:1]
                target.extend(OperatorStateSlice(h, name, mode, 0, info.count) for _, h, info in own)
        elif old_parallelism == parallelism:
            for old, h, info in entries:
                result[old].append(OperatorStateSlice(h, name, mode, 0, info.count))
        else:
            _split(entries, name, parallelism, result)
        if mode is OperatorStateMode.SPLIT_DISTRIBUTE:  # a subtask without elements still has the (empty) state
            for target in result:
                if not any(s.name == name for s in target):
                    target.append(OperatorStateSlice(entries[0][1], name, mode, 0, 0))
    return result


def _split(entries: list[_Entry], name: str, parallelism: int, result: list[list[OperatorStateSlice]]) -> None:
    total = sum(info.count for _, _, info in entries)
    base, extra = divmod(total, parallelism)
    bounds, start = [], 0
    for index in range(parallelism):
        end = start + base + (1 if index < extra else 0)
        bounds.append((start, end))
        start = end
    offset = 0  # position of the current handle's first element in the concatenation
    for _, handle, info in entries:
        for index, (lo, hi) in enumerate(bounds):
            a, b = max(lo, offset), min(hi, offset + info.count)
            if a < b:
                result[index].append(OperatorStateSlice(handle, name, OperatorStateMode.SPLIT_DISTRIBUTE,
                                                        a - offset, b - offset))
        offset += info.count
