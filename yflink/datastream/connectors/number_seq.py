"""A source of consecutive integers (PyFlink ``pyflink.datastream.connectors.number_seq``).

Source of the semantics: Flink ``org.apache.flink.api.connector.source.lib.NumberSequenceSource``.
"""

from __future__ import annotations

from yflink.datastream.connectors.base import PolledBatch, Source, SourceReader
from yflink.streaming.operators.base import TaskInfo

__all__ = ["NumberSequenceSource"]


class NumberSequenceSource(Source):
    """Produces the integers ``start, start + 1, ..., end`` (both inclusive); always bounded.

    The sequence is cut into as many contiguous sub-ranges as there are parallel readers; subtask ``i`` reads
    the ``i``-th sub-range in order, so with parallelism 1 the whole sequence comes out in order. Records carry no
    timestamp.

    Args:
        start: first number, inclusive.
        end: last number, inclusive; ``end < start`` gives an empty sequence.
    """

    def __init__(self, start: int, end: int) -> None:
        self.start = int(start)
        self.end = int(end)

    def is_bounded(self) -> bool:
        return True

    def create_reader(self) -> NumberSequenceReader:
        return NumberSequenceReader(self.start, self.end)

    def __repr__(self) -> str:
        return f"NumberSequenceSource({self.start}, {self.end})"


def split_number_range(start: int, end: int, num_splits: int, index: int) -> tuple[int, int]:
    """The ``index``-th of ``num_splits`` contiguous sub-ranges of ``[start, end]`` as ``(first, stop)``, stop
    exclusive. Sizes differ by at most one; the sub-ranges cover the range exactly once."""
    total = max(0, end - start + 1)
    return start + total * index // num_splits, start + total * (index + 1) // num_splits


class NumberSequenceReader(SourceReader):
    """Reads one subtask's sub-range. Position: :attr:`next_value` (the next number to emit)."""

    def __init__(self, start: int, end: int) -> None:
        self.start = start
        self.end = end
        self.next_value = start
        self.stop = start  # exclusive end of this subtask's sub-range, set by open()

    def open(self, task_info: TaskInfo) -> None:
        self.next_value, self.stop = split_number_range(
            self.start, self.end, task_info.parallelism, task_info.subtask_index)

    def snapshot_state(self) -> int:
        """The position to resume from: :attr:`next_value`."""
        return self.next_value

    def restore_state(self, state: int) -> None:
        """Resume at ``state`` (called after :meth:`open`)."""
        self.next_value = int(state)

    def poll_batch(self, max_records: int) -> PolledBatch:
        first = self.next_value
        if first >= self.stop:
            return None
        last = min(first + max_records, self.stop)
        self.next_value = last
        values: list[int] = list(range(first, last))
        timestamps: list[int] | None = None
        return values, timestamps
