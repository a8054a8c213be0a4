"""NumberSequenceReader positions survive rescaling: every number is read exactly once when every old reader's
snapshot is handed to each new reader (union list state), and the new readers share the rest evenly."""

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
    shares = []
    for i in range(new):
        r = reader(new, i)
        r.restore_positions(states)  # union list state: every old position to every new subtask
        shares.append(read(r))
    assert sorted(seen + [x for share in shares for x in share]) == list(range(1, 1001))
    remaining = 1000 - len(seen)
    assert all(abs(len(share) - remaining / new) <= 1 for share in shares)  # even shares, nobody idle


def test_fewer_numbers_than_subtasks_and_old_int_positions() -> None:
    empty = reader(3, 2)
    empty.restore_positions([[(5, 6)]])  # one number left: subtasks 0 and 1 get none
    assert empty.poll_batch(10) == ([5], None)
    idle = reader(3, 0)
    idle.restore_positions([[(5, 6)]])
    assert idle.poll_batch(10) is None
    legacy = reader(2, 1)
    legacy.restore_state(990)
    assert read(legacy) == list(range(990, 1001))
    assert reader(2, 0).snapshot_state() == [(1, 501)]
