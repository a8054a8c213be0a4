"""NumberSequenceSource and CollectionSource: static splits, exact coverage, positions, the base classes."""

from __future__ import annotations

from typing import Any

import cloudpickle  # type: ignore[import-untyped]
import pytest

from yflink.datastream.connectors import (
    CollectionSource,
    DeliveryGuarantee,
    DiscardingSink,
    NumberSequenceSource,
    Sink,
    Source,
)
from yflink.datastream.connectors.number_seq import split_number_range
from yflink.streaming.operators.base import SourceOperator, TaskInfo


def read_subtasks(source: Any, parallelism: int, max_records: int = 7) -> list[list[Any]]:
    parts = []
    for index in range(parallelism):
        reader = cloudpickle.loads(cloudpickle.dumps(source)).create_reader()
        reader.open(TaskInfo("job", "job", "source", index, parallelism, 128))
        part: list[Any] = []
        while (batch := reader.poll_batch(max_records)) is not None:
            assert batch[1] is None and 0 < len(batch[0]) <= max_records
            part += batch[0]
        reader.close()
        parts.append(part)
    return parts


@pytest.mark.parametrize("parallelism", [1, 2, 3, 4, 16])
def test_number_sequence_covers_the_range_once(parallelism: int) -> None:
    parts = read_subtasks(NumberSequenceSource(5, 104), parallelism)
    assert sorted(n for part in parts for n in part) == list(range(5, 105))
    assert all(part == sorted(part) for part in parts)  # each sub-range in order
    sizes = [len(part) for part in parts]
    assert max(sizes) - min(sizes) <= 1


def test_number_sequence_parallelism_one_is_in_order() -> None:
    assert read_subtasks(NumberSequenceSource(0, 9), 1, max_records=4) == [list(range(10))]


def test_number_sequence_edge_cases() -> None:
    assert read_subtasks(NumberSequenceSource(3, 3), 2) == [[], [3]]
    assert read_subtasks(NumberSequenceSource(5, 4), 2) == [[], []]
    assert read_subtasks(NumberSequenceSource(-3, 2), 1) == [[-3, -2, -1, 0, 1, 2]]
    assert NumberSequenceSource(0, 1).is_bounded()
    assert split_number_range(0, 9, 3, 0) == (0, 3)


def test_number_sequence_position_is_an_attribute() -> None:
    reader = NumberSequenceSource(0, 99).create_reader()
    reader.open(TaskInfo("job", "job", "source", 1, 2, 128))
    assert reader.poll_batch(10) == (list(range(50, 60)), None)
    assert reader.next_value == 60


@pytest.mark.parametrize("parallelism", [1, 2, 3])
def test_collection_source_reads_each_element_once(parallelism: int) -> None:
    elements = [("a", 1), "b", 3, None, {"d": 4}]
    parts = read_subtasks(CollectionSource(elements), parallelism, max_records=2)
    if parallelism == 1:
        assert parts == [elements]
    got = [e for part in parts for e in part]
    assert len(got) == len(elements) and all(e in got for e in elements)


def test_collection_source_position_and_empty() -> None:
    reader = CollectionSource(list(range(10))).create_reader()
    reader.open(TaskInfo("job", "job", "source", 0, 1, 128))
    assert reader.poll_batch(4) == ([0, 1, 2, 3], None)
    assert reader.next_index == 4
    assert read_subtasks(CollectionSource([]), 1) == [[]]


def test_sources_plug_into_the_source_operator() -> None:
    class Out:
        def __init__(self) -> None:
            self.values: list[Any] = []

        def emit(self, values: list[Any], timestamps: Any) -> None:
            self.values += values

        def emit_watermark(self, watermark: int) -> None:
            pass

    op = SourceOperator(NumberSequenceSource(1, 5))
    out = Out()
    op.setup(TaskInfo("job", "job", "source", 0, 1, 128), out)
    op.open()
    while op.emit_next(2) is not None:
        pass
    op.close()
    assert out.values == [1, 2, 3, 4, 5]


def test_base_classes_are_abstract() -> None:
    with pytest.raises(TypeError):
        Source()  # type: ignore[abstract]
    with pytest.raises(TypeError):
        Sink()  # type: ignore[abstract]
    assert DeliveryGuarantee.EXACTLY_ONCE.name == "EXACTLY_ONCE"


def test_discarding_sink_drops_and_counts() -> None:
    writer = cloudpickle.loads(cloudpickle.dumps(DiscardingSink())).create_writer()
    writer.open(TaskInfo("job", "job", "sink", 0, 1, 128))
    writer.write_batch([1, 2, 3], None)
    writer.flush(True)
    writer.close()
    assert writer.records_discarded == 3
