"""A source of consecutive integers (PyFlink ``pyflink.datastream.connectors.number_seq``).

Source of the semantics: Flink ``org.apache.flink.api.connector.source.lib.NumberSequenceSource``.
"""

from __future__ import annotations

from yflink.datastream.connectors.base import PolledBatch, Source, SourceReader
from yflink.datastream.connectors.positions import even_share
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
    """Reads one subtask's sub-range. Position: the ranges still to read, ``[(next, stop), ...]`` (stop exclusive):
    :attr:`next_value`/:attr:`stop` of the current one, then :attr:`pending`.

    On restore (after a failure, or at another parallelism) every subtask sees every old subtask's ranges (union
    list state) and reads its even share of the numbers still unread, so none is read twice or lost and no
    subtask sits idle after rescaling.
    """

    def __init__(self, start: int, end: int) -> None:
        self.start = start
        self.end = end
        self.next_value = start
        self.stop = start  # exclusive end of the current range, set by open()
        self.pending: list[tuple[int, int]] = []  # further (next, stop) ranges after the current one
        self._task: tuple[int, int] = (0, 1)  # (subtask index, parallelism), set by open()

    def open(self, task_info: TaskInfo) -> None:
        self._task = (task_info.subtask_index, task_info.parallelism)
        self.next_value, self.stop = split_number_range(
            self.start, self.end, task_info.parallelism, task_info.subtask_index)
        self.pending = []

    def snapshot_state(self) -> list[tuple[int, int]]:
        """The ranges still to read, ``[(next, stop), ...]`` (stop exclusive, empty ones left out)."""
        return [(a, b) for a, b in [(self.next_value, self.stop), *self.pending] if a < b]

    def restore_state(self, state: int | list[tuple[int, int]]) -> None:
        """Read exactly the ranges ``state`` (called after :meth:`open`); a bare int (older snapshots) is the next
        value of this subtask's own range."""
        if isinstance(state, int):
            self.next_value = int(state)
            return
        ranges = sorted((int(a), int(b)) for a, b in state if int(a) < int(b))
        if not ranges:
            self.next_value, self.pending = self.stop, []
            return
        (self.next_value, self.stop), self.pending = ranges[0], ranges[1:]

    def restore_positions(self, positions: list[list[tuple[int, int]]]) -> None:
        """Restore from every old subtask's ranges, in subtask order (called after :meth:`open`): at the same
        parallelism this subtask resumes its own; at another, it reads the ``index``-th of ``parallelism`` even
        shares of all numbers still unread."""
        index, parallelism = self._task
        if len(positions) == parallelism:  # the same parallelism: every subtask resumes its own ranges
            self.restore_state(positions[index])
            return
        share = even_share(([a, b, 1] for state in positions for a, b in state), index, parallelism)
        self.restore_state([(a, b) for a, b, _ in share])

    def poll_batch(self, max_records: int) -> PolledBatch:
        while self.next_value >= self.stop and self.pending:
            self.next_value, self.stop = self.pending.pop(0)
        first = self.next_value
        if first >= self.stop:
            return None
        last = min(first + max_records, self.stop)
        self.next_value = last
        values: list[int] = list(range(first, last))
        timestamps: list[int] | None = None
        return values, timestamps
