"""Partitioners ("Physical Partitioning" in the DataStream documentation)."""

from collections import Counter

from yflink.graph.partitioners import (
    BroadcastPartitioner,
    ForwardPartitioner,
    KeyGroupStreamPartitioner,
    RebalancePartitioner,
    RescalePartitioner,
    ShufflePartitioner,
)
from yflink.state.key_groups import assign_key_to_operator


def _flatten(routed):
    return {c: (v, t) for c, v, t in routed}


def test_forward_keeps_batch_on_channel_zero() -> None:
    p = ForwardPartitioner()
    p.setup(1)
    values = [1, 2, 3]
    assert p.route(values, None) == [(0, values, None)]
    assert p.is_pointwise


def test_rebalance_is_round_robin_across_batches() -> None:
    p = RebalancePartitioner()
    p.setup(3)
    counts: Counter[int] = Counter()
    for _ in range(10):
        for c, v, _ts in p.route(list(range(7)), None):
            counts[c] += len(v)
    assert sum(counts.values()) == 70
    assert max(counts.values()) - min(counts.values()) <= 1


def test_rebalance_keeps_timestamps_parallel() -> None:
    p = RebalancePartitioner()
    p.setup(2)
    routed = p.route(["a", "b", "c", "d"], [1, 2, 3, 4])
    pairs = sorted((v, t) for _c, vs, ts in routed for v, t in zip(vs, ts))
    assert pairs == [("a", 1), ("b", 2), ("c", 3), ("d", 4)]


def test_rescale_is_pointwise_round_robin() -> None:
    p = RescalePartitioner()
    assert p.is_pointwise
    p.setup(2)
    routed = p.route(list(range(10)), None)
    assert sorted(x for _c, v, _t in routed for x in v) == list(range(10))


def test_shuffle_sends_everything_somewhere() -> None:
    p = ShufflePartitioner()
    p.setup(4)
    routed = p.route(list(range(1000)), None)
    assert sorted(x for _c, v, _t in routed for x in v) == list(range(1000))
    assert len(routed) == 4


def test_broadcast_sends_every_record_to_every_channel() -> None:
    p = BroadcastPartitioner()
    p.setup(3)
    routed = _flatten(p.route([1, 2], None))
    assert routed == {0: ([1, 2], None), 1: ([1, 2], None), 2: ([1, 2], None)}


def test_key_group_partitioner_matches_key_group_assignment() -> None:
    p = KeyGroupStreamPartitioner(lambda r: r[0], 128)
    p.setup(3)
    records = [(f"k{i % 50}", i) for i in range(500)]
    for channel, values, _ts in p.route(records, None):
        for key, _ in values:
            assert assign_key_to_operator(key, 128, 3) == channel
    assert p.name() == "HASH"


def test_key_group_partitioner_rejects_unhashable_key() -> None:
    p = KeyGroupStreamPartitioner(lambda r: r, 128)
    p.setup(2)
    try:
        p.route([[1, 2]], None)
    except TypeError as exc:
        assert "not hashable" in str(exc)
    else:
        raise AssertionError("an unhashable key must be rejected")
