"""Source positions survive rescaling (NumberSequenceSource, CollectionSource): every element is read exactly once
when every old reader's snapshot is handed to each new reader (union list state), and the new readers share the
rest evenly; also through the SourceOperator and its operator state, and from older single-int positions."""

from __future__ import annotations

from typing import Any

import pytest

from yflink.datastream.connectors.collection import CollectionReader, CollectionSource
from yflink.datastream.connectors.number_seq import NumberSequenceReader
from yflink.datastream.connectors.positions import even_share
from yflink.state.backends.operator import OperatorStateBackend
from yflink.state.snapshot import operator_state_for
from yflink.streaming.operators.base import SourceOperator, TaskInfo


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
    if old != new:
        assert all(abs(len(share) - remaining / new) <= 1 for share in shares)  # even shares, nobody idle
    else:  # the same parallelism: every subtask resumes exactly its own range
        assert [share[0] for share in shares] == [state[0][0] for state in states]


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


ELEMENTS = [f"e{i}" for i in range(997)]


def collection_reader(p: int, i: int) -> CollectionReader:
    r = CollectionReader(ELEMENTS)
    r.open(TaskInfo("j", "job", "Elements", i, p, 128))
    return r


def read_any(r: Any, limit: int | None = None) -> list[Any]:
    out: list[Any] = []
    while limit is None or len(out) < limit:
        batch = r.poll_batch(5 if limit is None else min(5, limit - len(out)))
        if batch is None:
            break
        out.extend(batch[0])
    return out


def test_a_fresh_collection_is_read_in_order_and_strided() -> None:
    assert read_any(collection_reader(1, 0)) == ELEMENTS
    assert read_any(collection_reader(3, 1)) == ELEMENTS[1::3]


@pytest.mark.parametrize("old, new", [(1, 2), (2, 3), (3, 1), (3, 3), (4, 2)])
def test_every_element_once_across_a_rescale(old: int, new: int) -> None:
    readers = [collection_reader(old, i) for i in range(old)]
    seen = [x for i, r in enumerate(readers) for x in read_any(r, 40 + 17 * i)]
    states = [r.snapshot_state() for r in readers]
    shares = []
    for i in range(new):
        r = collection_reader(new, i)
        r.restore_positions(states)
        shares.append(read_any(r))
    assert sorted(seen + [x for share in shares for x in share]) == sorted(ELEMENTS)
    assert len(seen) + sum(map(len, shares)) == len(ELEMENTS)
    if old != new:
        assert max(map(len, shares)) - min(map(len, shares)) <= 1
    else:
        assert [share[0] for share in shares] == [ELEMENTS[state[0][0]] for state in states]


def test_even_share_of_progressions() -> None:
    progressions = [(0, 10, 3), (20, 22, 1), (5, 5, 1)]  # 0 3 6 9 | 20 21 | (empty)
    shares = [even_share(progressions, i, 4) for i in range(4)]
    indices = [[x for p in share for x in range(*p)] for share in shares]
    assert indices == [[0], [3, 6], [9], [20, 21]]
    with pytest.raises(ValueError):
        even_share(progressions, 4, 4)


def _operator(p: int, i: int, source: Any) -> SourceOperator:
    op = SourceOperator(source, "Source: Elements")
    op.task_info = TaskInfo("j", "job", "Source: Elements", i, p, 128)
    op.operator_state_backend = OperatorStateBackend()
    return op


def test_through_the_source_operator_and_union_list_state() -> None:
    source = CollectionSource(ELEMENTS)
    old = [_operator(2, i, source) for i in range(2)]
    seen: list[Any] = []
    for op in old:
        op.open()
        seen.extend(read_any(op.reader, 100))
        op.prepare_snapshot(1)
    snapshots = [op.operator_state_backend.snapshot() for op in old]
    rest: list[Any] = []
    for i in range(3):
        op = _operator(3, i, source)
        op.operator_state_backend.restore(_redistribute(snapshots, i, 3))
        op.open()
        rest.extend(read_any(op.reader))
    assert sorted(seen + rest) == sorted(ELEMENTS) and len(seen) + len(rest) == len(ELEMENTS)


def _redistribute(snapshots: list[Any], index: int, parallelism: int) -> Any:
    return operator_state_for(snapshots, index, parallelism)  # Flink's rules: list split, union to all


def test_an_older_single_int_position_in_list_state_still_restores() -> None:
    from yflink.streaming.operators.base import _READER_STATE

    legacy = OperatorStateBackend()
    legacy.get_list_state(_READER_STATE).update([3])  # before union positions: index into the subtask's share
    op = _operator(2, 1, CollectionSource(ELEMENTS))
    op.operator_state_backend.restore(operator_state_for([legacy.snapshot()], 0, 1))
    op.open()
    assert read_any(op.reader) == ELEMENTS[1::2][3:]
