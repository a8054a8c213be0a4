"""State handles: where a subtask's snapshot of one operator lives (pure data, no I/O).

Names follow Flink (``StateObject`` and friends):

* a **stream handle** holds bytes: :class:`FileStateHandle` (a file) or :class:`ByteStreamStateHandle` (small
  state kept inline in ``_metadata``, Flink's ``execution.checkpointing.data-inline-threshold``);
* a **keyed** handle covers a :class:`KeyGroupRange`: :class:`KeyGroupsStateHandle` (a full snapshot, one stream
  with the byte offset of every key group so a restoring subtask reads only its groups) or
  :class:`IncrementalKeyedStateHandle` (files of an incremental backend such as RocksDB: ``shared`` files may be
  used by several checkpoints and live in ``<job>/shared/``, ``private`` ones belong to this checkpoint);
* an :class:`OperatorStateHandle` is one stream of named operator states, each with its redistribution mode and
  element count, so the JobMaster can repartition list state without reading it;
* :class:`OperatorSubtaskState` is everything one subtask acknowledged for one operator, and
  :class:`OperatorState` an operator's subtask states in a checkpoint (by subtask index).

A task acknowledges a :data:`TaskStateSnapshot`: ``{operator id: OperatorSubtaskState}`` for the operators of
its chain.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Optional, Union

__all__ = [
    "ByteStreamStateHandle",
    "FileStateHandle",
    "IncrementalKeyedStateHandle",
    "KeyGroupRange",
    "KeyGroupsStateHandle",
    "KeyedStateHandle",
    "OperatorState",
    "OperatorStateHandle",
    "OperatorStateMode",
    "OperatorSubtaskState",
    "StateMetaInfo",
    "StreamStateHandle",
    "TaskStateSnapshot",
    "file_paths",
]


@dataclass(frozen=True, order=True)
class KeyGroupRange:
    """Key groups ``start..end``, both inclusive (Flink ``KeyGroupRange``); empty when ``end < start``."""

    start: int
    end: int

    @classmethod
    def of(cls, groups: range) -> KeyGroupRange:
        """From a Python ``range`` of step 1 (``yflink.state.key_groups.key_group_range`` returns those)."""
        return cls(groups.start, groups.stop - 1)

    @classmethod
    def empty(cls) -> KeyGroupRange:
        return cls(0, -1)

    def to_range(self) -> range:
        return range(self.start, self.end + 1)

    def intersection(self, other: KeyGroupRange) -> KeyGroupRange:
        start, end = max(self.start, other.start), min(self.end, other.end)
        return KeyGroupRange(start, end) if start <= end else KeyGroupRange.empty()

    def __len__(self) -> int:
        return max(0, self.end - self.start + 1)

    def __contains__(self, key_group: object) -> bool:
        return isinstance(key_group, int) and self.start <= key_group <= self.end

    def __bool__(self) -> bool:
        return len(self) > 0


@dataclass(frozen=True)
class FileStateHandle:
    """State in a file: its URI and length in bytes."""

    path: str
    size: int


@dataclass(frozen=True)
class ByteStreamStateHandle:
    """Small state kept inline in the checkpoint metadata (no file)."""

    name: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


StreamStateHandle = Union[FileStateHandle, ByteStreamStateHandle]


@dataclass(frozen=True)
class KeyGroupsStateHandle:
    """A full snapshot of keyed state for ``key_groups``: one stream in which key group ``key_groups.start + i``
    starts at byte ``offsets[i]`` (and ends where the next one starts, or at the end)."""

    key_groups: KeyGroupRange
    offsets: tuple[int, ...]
    stream: StreamStateHandle

    def __post_init__(self) -> None:
        if len(self.offsets) != len(self.key_groups):
            raise ValueError(f"{len(self.offsets)} offsets for {len(self.key_groups)} key groups")

    def intersection(self, groups: KeyGroupRange) -> Optional[KeyGroupsStateHandle]:
        """The part of this handle covering ``groups`` (same stream, fewer offsets), or None when disjoint."""
        common = self.key_groups.intersection(groups)
        if not common:
            return None
        first = common.start - self.key_groups.start
        return KeyGroupsStateHandle(common, self.offsets[first:first + len(common)], self.stream)

    def byte_range(self, key_group: int, total_size: int) -> tuple[int, int]:
        """(offset, length) of ``key_group``'s bytes in the stream of ``total_size`` bytes."""
        index = key_group - self.key_groups.start
        end = self.offsets[index + 1] if index + 1 < len(self.offsets) else total_size
        return self.offsets[index], end - self.offsets[index]


@dataclass(frozen=True)
class IncrementalKeyedStateHandle:
    """Keyed state of an incremental backend: ``shared`` files (``name -> handle``, may be referenced by later
    checkpoints too) plus ``private`` files and a ``meta`` stream owned by this checkpoint only."""

    backend_id: str
    checkpoint_id: int
    key_groups: KeyGroupRange
    shared: dict[str, StreamStateHandle] = field(default_factory=dict)
    private: dict[str, StreamStateHandle] = field(default_factory=dict)
    meta: Optional[StreamStateHandle] = None

    def intersection(self, groups: KeyGroupRange) -> Optional[IncrementalKeyedStateHandle]:
        """This handle when it overlaps ``groups`` (the files cannot be split; the backend filters keys)."""
        return self if self.key_groups.intersection(groups) else None


KeyedStateHandle = Union[KeyGroupsStateHandle, IncrementalKeyedStateHandle]


class OperatorStateMode(enum.Enum):
    """How named operator state is redistributed on restore (Flink ``OperatorStateHandle.Mode``)."""

    SPLIT_DISTRIBUTE = "SPLIT_DISTRIBUTE"  # list state: elements split over the new subtasks
    UNION = "UNION"                        # union list state: every subtask gets all elements
    BROADCAST = "BROADCAST"                # broadcast state: every subtask gets one copy


@dataclass(frozen=True)
class StateMetaInfo:
    """One named operator state in a stream: its mode and how many elements (list) or entries (broadcast)."""

    mode: OperatorStateMode
    count: int


@dataclass(frozen=True)
class OperatorStateHandle:
    """One subtask's operator state: ``states`` by name, all in ``stream``."""

    states: dict[str, StateMetaInfo]
    stream: StreamStateHandle


@dataclass
class OperatorSubtaskState:
    """What one subtask acknowledged for one operator (Flink ``OperatorSubtaskState``, managed state only)."""

    keyed: list[KeyedStateHandle] = field(default_factory=list)
    operator: list[OperatorStateHandle] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not self.keyed and not self.operator

    def stream_handles(self) -> Iterator[tuple[StreamStateHandle, bool]]:
        """Every stream handle with whether it is shared (used by other checkpoints too)."""
        for keyed in self.keyed:
            if isinstance(keyed, KeyGroupsStateHandle):
                yield keyed.stream, False
            else:
                for handle in keyed.shared.values():
                    yield handle, True
                for handle in keyed.private.values():
                    yield handle, False
                if keyed.meta is not None:
                    yield keyed.meta, False
        for op in self.operator:
            yield op.stream, False


TaskStateSnapshot = dict[str, OperatorSubtaskState]
"""A task's acknowledgement: ``{operator id: OperatorSubtaskState}`` for the operators of its chain."""


@dataclass
class OperatorState:
    """One operator's state in a checkpoint.

    Attributes:
        operator_id: the stable operator id (32 hex digits; from the ``uid`` when the user set one).
        parallelism: the operator's parallelism when the checkpoint was taken.
        max_parallelism: its number of key groups.
        subtasks: ``{subtask index: OperatorSubtaskState}``; subtasks without state may be missing.
        uid: the user's ``uid``, when set (for messages).
        fully_finished: every subtask had finished when the checkpoint was taken (FLIP-147): on restore the
            operator is not run again.
    """

    operator_id: str
    parallelism: int
    max_parallelism: int
    subtasks: dict[int, OperatorSubtaskState] = field(default_factory=dict)
    uid: Optional[str] = None
    fully_finished: bool = False

    def stream_handles(self) -> Iterator[tuple[StreamStateHandle, bool]]:
        for state in self.subtasks.values():
            yield from state.stream_handles()


def file_paths(handles: Iterator[tuple[StreamStateHandle, bool]], shared: Optional[bool] = None) -> list[str]:
    """URIs of the file handles among ``handles``; only shared or only exclusive ones when ``shared`` is set."""
    return [h.path for h, is_shared in handles
            if isinstance(h, FileStateHandle) and (shared is None or is_shared == shared)]
