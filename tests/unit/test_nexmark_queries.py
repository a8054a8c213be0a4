"""Reference results of Nexmark q0-q2 (the plain-Python baseline the examples and integration tests use)."""

from __future__ import annotations

from yflink.connectors.nexmark import Auction, Bid, Event, NexmarkSource, Person
from yflink.connectors.nexmark.queries import DOLLAR_TO_EURO, q0, q1, q2

BID = Bid(auction=1107, bidder=1001, price=1000, channel="Google", url="u", date_time=5, extra="x")
OTHER_BID = Bid(auction=1100, bidder=1002, price=250, channel="Apple", url="u", date_time=6, extra="y")
PERSON = Person(1000, "n", "e", "c", "city", "WA", 1, "")
AUCTION = Auction(1000, "i", "d", 1, 2, 3, 4, 1000, 10, "")
EVENTS: list[Event] = [PERSON, AUCTION, BID, OTHER_BID]


def test_q0_passes_bids_through() -> None:
    assert q0(EVENTS) == [(1107, 1001, 1000, 5, "x"), (1100, 1002, 250, 6, "y")]


def test_q1_converts_dollars_to_euros() -> None:
    assert q1(EVENTS) == [(1107, 1001, 908.0, 5, "x"), (1100, 1002, 0.908 * 250, 6, "y")]
    assert DOLLAR_TO_EURO == 0.908


def test_q2_selects_every_123rd_auction() -> None:
    assert q2(EVENTS) == [(1107, 1000)]  # 1107 = 9 * 123


def test_queries_on_generated_events() -> None:
    events = NexmarkSource(50_000, seed=11, first_event_time_ms=0).events()
    bids = [e for e in events if isinstance(e, Bid)]
    assert len(q0(events)) == len(q1(events)) == len(bids) == 46_000
    selected = q2(events)
    assert selected and all(auction % 123 == 0 for auction, _ in selected)
    assert len(selected) < len(bids) // 50
