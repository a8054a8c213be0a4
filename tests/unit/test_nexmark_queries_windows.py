"""Reference results of the windowed Nexmark queries q5, q7, q8, q11 on hand-made events, and the examples'
DataStream pipelines (``examples/nexmark_q5.py`` ..) equal to them in-process at parallelism 1 and 3.

Semantics: Nexmark ``queries/q5.sql``, ``q7.sql``, ``q8.sql``, ``q11.sql``; Flink documentation, "Windows"
(Tumbling Windows, Sliding Windows, Session Windows: a session closes after a gap of inactivity; windows are
``[start, end)``, aligned to the epoch) and "Joining" (Window Join).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from yflink.common import Duration, WatermarkStrategy
from yflink.connectors.nexmark import Auction, Bid, Event, NexmarkSource, Person
from yflink.connectors.nexmark import window_queries as reference
from yflink.connectors.nexmark.window_queries import q5, q7, q8, q11, sliding_window_starts, tumbling_window_start
from yflink.datastream import DataStream, StreamExecutionEnvironment
from yflink.testing.local_runner import LocalGraphRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))

import nexmark_q5  # noqa: E402
import nexmark_q7  # noqa: E402
import nexmark_q8  # noqa: E402
import nexmark_q11  # noqa: E402


def bid(auction: int, t: int, price: int = 100, bidder: int = 1000) -> Bid:
    return Bid(auction=auction, bidder=bidder, price=price, channel="Google", url="u", date_time=t, extra=f"x{t}")


def person(pid: int, t: int) -> Person:
    return Person(pid, f"name {pid}", "e", "c", "Kent", "WA", t, "")


def auction(aid: int, seller: int, t: int) -> Auction:
    return Auction(aid, "item", "d", 1, 2, t, t + 100, seller, 10, "")


def test_window_starts_are_aligned_to_the_epoch() -> None:
    assert tumbling_window_start(0, 10) == 0
    assert tumbling_window_start(9, 10) == 0
    assert tumbling_window_start(10, 10) == 10
    assert tumbling_window_start(-1, 10) == -10
    assert sliding_window_starts(7, 10, 5) == [5, 0]
    assert sliding_window_starts(10, 10, 5) == [10, 5]  # not [0, 10): windows are half-open
    assert sliding_window_starts(3, 10, 4) == [0, -4]  # a size that is no multiple of the slide: [-8, 2) misses 3


def test_q5_hot_items_per_sliding_window_with_ties() -> None:
    events: list[Event] = [bid(1, 0), bid(1, 3), bid(2, 4), bid(2, 7), bid(2, 8), bid(3, 9), bid(3, 12),
                           person(1000, 5)]
    assert q5(events, size=10, slide=5) == [
        (1, 2, -5, 5),                    # [-5, 5): auction 1 twice, auction 2 once
        (2, 3, 0, 10),                    # [0, 10): 1 x2, 2 x3, 3 x1
        (2, 2, 5, 15), (3, 2, 5, 15),     # [5, 15): a tie, both rows (SQL: num >= maxn)
        (3, 1, 10, 20),                   # [10, 20): auction 3's bid at 12 alone
    ]


def test_q5_defaults_are_nexmarks_10s_every_2s() -> None:
    rows = q5([bid(7, 10_000), bid(8, 10_001), bid(8, 19_999)])
    tied = [row for start in range(2_000, 10_000, 2_000) for row in ((7, 1, start, start + 10_000),
                                                                    (8, 1, start, start + 10_000))]
    alone = [(8, 1, start, start + 10_000) for start in range(12_000, 20_000, 2_000)]
    assert rows == [*tied, (8, 2, 10_000, 20_000), *alone]


def test_q7_highest_bids_per_tumbling_window() -> None:
    events: list[Event] = [bid(1, 0, price=5), bid(2, 3, price=9, bidder=1001), bid(3, 9, price=9),
                           bid(4, 10, price=9), bid(5, 12, price=20), bid(6, 19, price=1), bid(7, 20, price=9),
                           person(1000, 1)]
    assert q7(events, size=10) == [
        (2, 1001, 9, 3, "x3"), (3, 1000, 9, 9, "x9"),  # [0, 10): a tie at 9
        (5, 1000, 20, 12, "x12"),                       # [10, 20): the 9 at 10 is not the highest there
        (7, 1000, 9, 20, "x20"),                        # [20, 30)
    ]


def test_q8_new_users_join_their_auctions_in_the_same_window() -> None:
    events: list[Event] = [
        person(1000, 1), auction(1, 1000, 5), auction(2, 1000, 8),  # two auctions: one row
        person(1001, 9), auction(3, 1001, 10),                     # auction in the next window: no row
        auction(4, 1002, 11), person(1002, 12),                    # auction before the person, same window: row
        auction(5, 1000, 15),                                      # 1000 registered in the window before
        person(1003, 25), bid(1, 26),
    ]
    assert q8(events, size=10) == [(1000, "name 1000", 0), (1002, "name 1002", 10)]


def test_q11_sessions_merge_at_exactly_one_gap() -> None:
    events: list[Event] = [bid(1, 21, bidder=1), bid(1, 0, bidder=1), bid(1, 5, bidder=2), bid(1, 10, bidder=1),
                           bid(1, 40, bidder=2), bid(1, 41, bidder=2), person(1, 3)]
    assert q11(events, gap=10) == [
        (1, 2, 0, 20),   # 0 and 10 are exactly one gap apart: [0, 10) and [10, 20) touch and merge
        (1, 1, 21, 31),  # 21 is 11 after 10: a new session
        (2, 1, 5, 15),
        (2, 2, 40, 51),
    ]


def test_references_on_generated_events() -> None:
    events = NexmarkSource(20_000, seed=3, first_event_time_ms=0).events()
    bids = [e for e in events if isinstance(e, Bid)]
    hot = q5(events, size=200, slide=40)
    assert {(start, end) for _, _, start, end in hot} == {(s, s + 200) for s in range(-160, 2_000, 40)}
    highest = q7(events, size=200)
    assert len({tumbling_window_start(r[3], 200) for r in highest}) == 10
    assert all(r[2] == max(b.price for b in bids if b.date_time // 200 == r[3] // 200) for r in highest)
    sessions = q11(events, gap=100)
    assert sum(r[1] for r in sessions) == len(bids)
    new_users = q8(events, size=200)
    assert new_users and len({r[0] for r in new_users}) == len(new_users)


def run_in_process(query: Callable[[DataStream], DataStream], source: NexmarkSource, parallelism: int) -> list[Any]:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    watermarks = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(100)) \
        .with_timestamp_assigner(nexmark_q5.EventTime())
    result = query(env.from_source(source, watermarks, "Nexmark Source"))
    return LocalGraphRunner(env.get_stream_graph()).run().values_of(result)


@pytest.mark.parametrize("parallelism", [1, 3])
@pytest.mark.parametrize(("query", "expected"), [
    (lambda s: nexmark_q5.q5(s, 200, 40), lambda e: reference.q5(e, 200, 40)),
    (lambda s: nexmark_q7.q7(s, 200), lambda e: reference.q7(e, 200)),
    (lambda s: nexmark_q8.q8(s, 100), lambda e: reference.q8(e, 100)),
    (lambda s: nexmark_q11.q11(s, 50), lambda e: reference.q11(e, 50)),
], ids=["q5", "q7", "q8", "q11"])
def test_example_pipelines_equal_references(query: Callable[[DataStream], DataStream],
                                            expected: Callable[[list[Event]], list[Any]], parallelism: int) -> None:
    source = NexmarkSource(10_000, seed=5, first_event_time_ms=1_000_000)
    rows = expected(source.events())
    assert rows
    assert Counter(run_in_process(query, source, parallelism)) == Counter(rows)
