"""Wiring of producer subpartitions to consumer channels (Flink EdgeManagerBuildUtil)."""

import pytest

from yflink.runtime.deployment import consumer_channels, num_subpartitions, pointwise_sources, pointwise_targets


@pytest.mark.parametrize("p,c", [(1, 1), (2, 2), (4, 2), (2, 4), (3, 2), (2, 3), (5, 3), (1, 4), (4, 1)])
def test_pointwise_connects_every_producer_and_consumer_once(p: int, c: int) -> None:
    pairs = set()
    for j in range(c):
        for i, sub in consumer_channels(True, j, p, c):
            assert pointwise_targets(i, p, c)[sub] == j
            pairs.add((i, j))
    assert {i for i, _ in pairs} == set(range(p))
    assert {j for _, j in pairs} == set(range(c))
    assert sum(num_subpartitions(True, i, p, c) for i in range(p)) == len(pairs)


def test_forward_is_one_to_one() -> None:
    assert [pointwise_sources(j, 3, 3) for j in range(3)] == [[0], [1], [2]]


@pytest.mark.parametrize("p,c", [(1, 3), (2, 2), (3, 1)])
def test_all_to_all(p: int, c: int) -> None:
    for j in range(c):
        assert consumer_channels(False, j, p, c) == [(i, j) for i in range(p)]
    assert num_subpartitions(False, 0, p, c) == c
