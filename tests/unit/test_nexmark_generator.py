"""The Nexmark generator and source: proportions, ids, prices, times, determinism and parallelism."""

from __future__ import annotations

import pickle
import statistics
from collections import Counter
from typing import Any

import cloudpickle  # type: ignore[import-untyped]
import pytest

from yflink.connectors.nexmark import (
    Auction,
    Bid,
    EventType,
    NexmarkConfig,
    NexmarkGenerator,
    NexmarkSource,
    Person,
)
from yflink.streaming.operators.base import TaskInfo

T0 = 1_700_000_000_000  # a fixed first event time, ms


@pytest.fixture(scope="module")
def events() -> list[Any]:
    return NexmarkSource(100_000, seed=7, first_event_time_ms=T0).events()


def read_subtasks(source: NexmarkSource, parallelism: int, max_records: int = 1000) -> list[list[tuple[Any, int]]]:
    """(event, timestamp) pairs per subtask, through a cloudpickled source as the runtime ships it."""
    parts = []
    for index in range(parallelism):
        reader = cloudpickle.loads(cloudpickle.dumps(source)).create_reader()
        reader.open(TaskInfo("job", "job", "nexmark", index, parallelism, 128))
        part: list[tuple[Any, int]] = []
        while (batch := reader.poll_batch(max_records)) is not None:
            values, timestamps = batch
            assert timestamps is not None and len(values) == len(timestamps) <= max_records
            part += zip(values, timestamps, strict=True)
        reader.close()
        parts.append(part)
    return parts


def test_proportions_are_1_3_46_in_every_epoch(events: list[Any]) -> None:
    assert Counter(type(e) for e in events) == {Person: 2_000, Auction: 6_000, Bid: 92_000}
    for start in range(0, 1000, 50):
        kinds = [e.event_type for e in events[start:start + 50]]
        assert kinds == [EventType.PERSON] + [EventType.AUCTION] * 3 + [EventType.BID] * 46


def test_ids_are_dense_and_start_at_1000(events: list[Any]) -> None:
    assert [p.id for p in events if isinstance(p, Person)] == list(range(1000, 3000))
    assert [a.id for a in events if isinstance(a, Auction)] == list(range(1000, 7000))


def test_bids_and_sellers_refer_to_people_and_auctions_that_exist_or_are_about_to(events: list[Any]) -> None:
    last_person, last_auction = 999, 999
    for e in events:
        if isinstance(e, Person):
            last_person = e.id
        elif isinstance(e, Auction):
            last_auction = e.id
            assert last_person - 1000 - 10 <= e.seller <= last_person + 10
        else:
            assert max(1000, last_auction - 100) <= e.auction <= last_auction + 10
            assert max(1000, last_person - 1000) <= e.bidder <= last_person + 10


def test_hot_auctions_and_bidders(events: list[Any]) -> None:
    bids = [e for e in events if isinstance(e, Bid)]
    hot_auctions = sum(1 for b in bids if (b.auction - 1000) % 100 == 0) / len(bids)
    hot_bidders = sum(1 for b in bids if (b.bidder - 1000) % 100 == 1) / len(bids)
    assert 0.49 < hot_auctions < 0.53  # 1 - 1/hot_auction_ratio (+ a few cold hits)
    assert 0.74 < hot_bidders < 0.77  # 1 - 1/hot_bidders_ratio
    channels = Counter(b.channel for b in bids)
    assert 0.48 < sum(channels[c] for c in ("Google", "Facebook", "Baidu", "Apple")) / len(bids) < 0.52
    assert all(b.url.startswith("https://www.nexmark.com/") for b in bids[:1000])


def test_prices_follow_the_log_uniform_distribution(events: list[Any]) -> None:
    prices = [e.price for e in events if isinstance(e, Bid)]
    assert 100 <= min(prices) and max(prices) <= 100_000_000
    # log10(price / 100) is uniform on [0, 6): its median is 3 -> $1000.
    assert 90_000 < statistics.median(prices) < 110_000
    auctions = [e for e in events if isinstance(e, Auction)]
    assert all(100 <= a.initial_bid < a.reserve for a in auctions)


def test_fields_are_in_range(events: list[Any]) -> None:
    people = [e for e in events if isinstance(e, Person)]
    for p in people[:200]:
        assert p.email_address.endswith(".com") and "@" in p.email_address
        assert len(p.credit_card) == 19 and p.credit_card.replace(" ", "").isdigit()
        assert p.state in ("AZ", "CA", "ID", "OR", "WA", "WY")
    auctions = [e for e in events if isinstance(e, Auction)]
    assert {a.category for a in auctions} == {10, 11, 12, 13, 14}
    assert all(a.expires > a.date_time for a in auctions)
    # extra pads events to the average sizes (bytes): bid 100, person 200, auction 500, +-20%.
    bids = [e for e in events if isinstance(e, Bid)]
    assert 64 < statistics.mean(len(b.extra) for b in bids) < 72
    assert all(54 <= len(b.extra) < 82 for b in bids)


def test_event_times_follow_the_rate() -> None:
    source = NexmarkSource(20_000, events_per_second=1000, seed=1, first_event_time_ms=T0)
    times = [e.date_time for e in source.events()]
    assert times == sorted(times)
    assert times[0] == T0 and times[1000] == T0 + 1000 and times[-1] == T0 + 19_999
    default_rate = NexmarkSource(20_000, seed=1, first_event_time_ms=T0).events()
    assert default_rate[-1].date_time == T0 + 1_999  # 10,000 events/s when no rate is given


def test_same_seed_same_events_other_seed_other_events() -> None:
    a = NexmarkSource(5000, seed=1, first_event_time_ms=T0).events()
    b = NexmarkSource(5000, seed=1, first_event_time_ms=T0).events()
    c = NexmarkSource(5000, seed=2, first_event_time_ms=T0).events()
    assert a == b
    assert a != c
    assert [type(e) for e in a] == [type(e) for e in c]


def test_any_event_can_be_generated_directly() -> None:
    generator = NexmarkGenerator(seed=3, first_event_time_ms=T0)
    everything, times = generator.generate(0, 5000)
    assert generator.generate(1234, 1240)[0] == everything[1234:1240]
    assert generator.generate(3, 5000, 7) == (everything[3::7], times[3::7])
    assert NexmarkGenerator(seed=3, first_event_time_ms=T0).generate(4999, 5000)[0] == everything[-1:]


@pytest.mark.parametrize("parallelism", [1, 2, 3, 4])
def test_subtasks_interleave_and_the_merged_stream_does_not_depend_on_parallelism(parallelism: int) -> None:
    source = NexmarkSource(10_007, seed=5, first_event_time_ms=T0)
    expected = source.events()
    parts = read_subtasks(source, parallelism, max_records=333)
    merged: list[Any] = [None] * len(expected)
    for index, part in enumerate(parts):
        assert len(part) in (10_007 // parallelism, 10_007 // parallelism + 1)
        for k, (event, timestamp) in enumerate(part):
            merged[index + k * parallelism] = event
            assert timestamp == event.date_time
    assert merged == expected


def test_position_and_unbounded_source() -> None:
    source = NexmarkSource(None, seed=1, first_event_time_ms=T0)
    assert not source.is_bounded()
    reader = source.create_reader()
    reader.open(TaskInfo("job", "job", "nexmark", 1, 2, 128))
    for _ in range(3):
        batch = reader.poll_batch(100)
        assert batch is not None and len(batch[0]) == 100
    assert reader.next_index == 1 + 300 * 2
    with pytest.raises(ValueError, match="stop"):
        source.events()


def test_rate_limited_reader_emits_only_due_events() -> None:
    source = NexmarkSource(1_000_000, events_per_second=1000, seed=1, first_event_time_ms=T0)
    reader = source.create_reader()
    reader.open(TaskInfo("job", "job", "nexmark", 0, 1, 128))
    batch = reader.poll_batch(10_000)
    assert batch is not None
    assert len(batch[0]) < 1000  # about 1 per ms since open, far from the 10,000 asked for
    reader._wall_base_ms -= 5_000  # as if the reader had started 5 s ago
    batch = reader.poll_batch(100_000)
    assert batch is not None and 4_900 < reader.next_index < 6_000


def test_events_are_small_picklable_records() -> None:
    events = NexmarkSource(100, seed=1, first_event_time_ms=T0).events()
    assert pickle.loads(pickle.dumps(events, protocol=5)) == events
    bid = next(e for e in events if isinstance(e, Bid))
    assert bid._fields == ("auction", "bidder", "price", "channel", "url", "date_time", "extra")
    assert bid.event_type == EventType.BID and Bid.event_type == 2


def test_config_is_validated_and_used() -> None:
    with pytest.raises(ValueError, match="hot_auction_ratio"):
        NexmarkConfig(hot_auction_ratio=0)
    with pytest.raises(ValueError, match="events_per_second"):
        NexmarkSource(10, events_per_second=0)
    config = NexmarkConfig(person_proportion=1, auction_proportion=1, bid_proportion=8)
    events = NexmarkSource(1000, seed=1, first_event_time_ms=T0, config=config).events()
    assert Counter(type(e) for e in events) == {Person: 100, Auction: 100, Bid: 800}


def test_rate_limited_reader_restored_at_an_index_goes_on_at_once() -> None:
    """A restored paced reader continues at its rate from the restored event, without first waiting for the
    restored events' time again (Flink "Checkpointing": sources rewind to their checkpointed position)."""
    source = NexmarkSource(None, events_per_second=1000)
    reader = source.create_reader()
    reader.open(TaskInfo("job", "job", "nexmark", 0, 1, 128))
    reader.restore_state(50_000)  # 50 s of events at 1000/s
    batch = reader.poll_batch(10_000)
    assert batch is not None and 0 < len(batch[0]) < 100  # due now: a few events, not none for 50 s
    assert reader.next_index == 50_000 + len(batch[0])
