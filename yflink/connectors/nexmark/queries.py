"""Plain-Python reference results of Nexmark queries, over a list of events in index order.

The DataStream examples (``examples/nexmark_q*.py``) compute the same records; tests and the benchmark compare
against these. Query definitions: Nexmark ``nexmark-flink/src/main/resources/queries/q0.sql`` .. ``q2.sql``.
The windowed queries (q5, q7, q8, q11) are in :mod:`~yflink.connectors.nexmark.window_queries`.
"""

from __future__ import annotations

from collections.abc import Iterable

from yflink.connectors.nexmark.model import Bid, Event

#: Nexmark q1's dollar-to-euro factor.
DOLLAR_TO_EURO = 0.908
#: Nexmark q2 keeps bids on auctions whose id is a multiple of this.
Q2_AUCTION_MODULUS = 123

Q0Row = tuple[int, int, int, int, str]
Q1Row = tuple[int, int, float, int, str]
Q2Row = tuple[int, int]


def q0(events: Iterable[Event]) -> list[Q0Row]:
    """Pass-through: ``SELECT auction, bidder, price, dateTime, extra FROM bid``."""
    return [(e.auction, e.bidder, e.price, e.date_time, e.extra) for e in events if isinstance(e, Bid)]


def q1(events: Iterable[Event]) -> list[Q1Row]:
    """Currency conversion: ``SELECT auction, bidder, 0.908 * price AS price, dateTime, extra FROM bid``.

    The price in euros is the float ``0.908 * price`` (Nexmark: ``DECIMAL(23, 3)``).
    """
    return [(e.auction, e.bidder, DOLLAR_TO_EURO * e.price, e.date_time, e.extra)
            for e in events if isinstance(e, Bid)]


def q2(events: Iterable[Event]) -> list[Q2Row]:
    """Selection: ``SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0``."""
    return [(e.auction, e.price) for e in events if isinstance(e, Bid) and e.auction % Q2_AUCTION_MODULUS == 0]
