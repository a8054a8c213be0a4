"""The source behind ``env.from_collection(...)`` (Flink ``FromElementsFunction``).

PyFlink runs ``from_collection`` with parallelism 1; if a job raises it, subtask ``i`` reads the elements at
indices ``i, i + parallelism, ...``, so every element is read exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from yflink.datastream.connectors.base import PolledBatch, Source, SourceReader
from yflink.streaming.operators.base import TaskInfo

__all__ = ["CollectionSource"]


class CollectionSource(Source):
    """A bounded source of the given elements, in order. Records carry no timestamp.

    Args:
        elements: the records; copied into a list, which travels with the job (keep it small).
    """

    def __init__(self, elements: Sequence[Any]) -> None:
        self.elements = list(elements)

    def is_bounded(self) -> bool:
        return True

    def create_reader(self) -> CollectionReader:
        return CollectionReader(self.elements)

    def __repr__(self) -> str:
        return f"CollectionSource({len(self.elements)} elements)"


class CollectionReader(SourceReader):
    """Reads one subtask's elements. Position: :attr:`next_index` (index into this subtask's share)."""

    def __init__(self, elements: list[Any]) -> None:
        self.elements = elements
        self.share: list[Any] = []
        self.next_index = 0

    def open(self, task_info: TaskInfo) -> None:
        p = task_info.parallelism
        self.share = self.elements if p == 1 else self.elements[task_info.subtask_index::p]

    def snapshot_state(self) -> int:
        """The position to resume from: :attr:`next_index`."""
        return self.next_index

    def restore_state(self, state: int) -> None:
        """Resume at ``state`` (called after :meth:`open`)."""
        self.next_index = int(state)

    def poll_batch(self, max_records: int) -> PolledBatch:
        first = self.next_index
        if first >= len(self.share):
            return None
        self.next_index = min(first + max_records, len(self.share))
        timestamps: list[int] | None = None
        return self.share[first:self.next_index], timestamps
