"""The source behind ``env.from_collection(...)`` (Flink ``FromElementsFunction``).

PyFlink runs ``from_collection`` with parallelism 1; if a job raises it, subtask ``i`` reads the elements at
indices ``i, i + parallelism, ...``, so every element is read exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from yflink.datastream.connectors.base import PolledBatch, Source, SourceReader
from yflink.datastream.connectors.positions import Progression, even_share, non_empty
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
    """Reads one subtask's elements. Position: the index progressions still to read, ``[(first, stop, step)]``
    (indices into the collection; a fresh subtask ``i`` of ``p`` has ``[(i, len, p)]``).

    On restore at any parallelism every subtask sees every old subtask's progressions (union list state) and
    reads an even share of the elements still unread (:func:`~yflink.datastream.connectors.positions.even_share`).
    """

    def __init__(self, elements: list[Any]) -> None:
        self.elements = elements
        self.ranges: list[Progression] = []
        self._task: tuple[int, int] = (0, 1)  # (subtask index, parallelism), set by open()

    def open(self, task_info: TaskInfo) -> None:
        self._task = (task_info.subtask_index, task_info.parallelism)
        self.ranges = non_empty([(task_info.subtask_index, len(self.elements), task_info.parallelism)])

    @property
    def next_index(self) -> int:
        """How many elements of this subtask's share ``i, i + p, ...`` were read (meaningful unless the reader
        was restored at another parallelism)."""
        index, parallelism = self._task
        if not self.ranges:
            return len(range(index, len(self.elements), parallelism))
        return (self.ranges[0][0] - index) // parallelism

    def snapshot_state(self) -> list[Progression]:
        """The index progressions still to read."""
        return non_empty(self.ranges)

    def restore_state(self, state: int | list[Progression]) -> None:
        """Read exactly the progressions ``state`` (called after :meth:`open`); a bare int (older snapshots) is
        the position in this subtask's share ``i, i + p, ...``."""
        if isinstance(state, int):
            index, parallelism = self._task
            self.ranges = non_empty([(index + parallelism * int(state), len(self.elements), parallelism)])
            return
        self.ranges = non_empty(state)

    def restore_positions(self, positions: list[list[Progression]]) -> None:
        """Restore from every old subtask's progressions, in subtask order: at the same parallelism this subtask
        resumes its own; at another, it reads its even share of the rest."""
        index, parallelism = self._task
        if len(positions) == parallelism:
            self.restore_state(positions[index])
            return
        self.restore_state(even_share((p for state in positions for p in state), index, parallelism))

    def poll_batch(self, max_records: int) -> PolledBatch:
        while self.ranges and not len(range(*self.ranges[0])):
            self.ranges.pop(0)
        if not self.ranges:
            return None
        first, stop, step = self.ranges[0]
        end = min(stop, first + max_records * step)
        values = self.elements[first:end:step]
        self.ranges[0] = (first + len(values) * step, stop, step)
        timestamps: list[int] | None = None
        return values, timestamps
