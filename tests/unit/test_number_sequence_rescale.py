"""NumberSequenceReader positions survive rescaling: every number is read exactly once when the readers' snapshots
are handed to another number of readers (as operator list state redistributes them, round-robin)."""

from __future__ import annotations

import pytest

from yflink.datastream.connectors.number_seq import NumberSequenceReader
from yflink.streaming.operators.base import TaskInfo


def reader(p: int, i: int, start: int = 1, end: int = 1000) -> NumberSequenceReader:
    r = NumberSequenceReader(start, end)
    r.open(TaskInfo("j", "job", "Numbers", i, p, 128))
    return r


def read(r: NumberSequenceReader, limit: int | None = None) -> list[int]:
    out: list[int] = []
    while limit is None or len(out) < limit:
        batch = r.poll_batch(7 if limit is None else min(7, limit - len(out)))
        if batch is None:
            break
        out.extend(batch[0])
    return out


@pytest.mark.parametrize("old, new", [(1, 2), (2, 3), (3, 1), (2, 2), (3, 2), (1, 3)])
def test_every_number_once_across_a_rescale(old: int, new: int) -> None:
    readers = [reader(old, i) for i in range(old)]
    seen = [x for i, r in enumerate(readers) for x in read(r, 50 + 30 * i)]
    states = [r.snapshot_state() for r in readers]
    for i in range(new):
        share = states[i::new]  # Flink's round-robin split of operator list state
        r = reader(new, i)
        if len(share) == 1:
            r.restore_state(share[0])
        else:
            r.restore_positions(share)
        seen.extend(read(r))
    assert sorted(seen) == list(range(1, 1001))


def test_a_subtask_without_positions_reads_nothing_and_old_int_positions_still_restore() -> None:
    empty = reader(3, 2)
    empty.restore_positions([])
    assert empty.poll_batch(10) is None
    legacy = reader(2, 1)
    legacy.restore_state(990)
    assert read(legacy) == list(range(990, 1001))
    assert reader(2, 0).snapshot_state() == [(1, 501)]
