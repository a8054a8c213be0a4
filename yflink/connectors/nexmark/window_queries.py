"""Plain-Python reference results of the windowed Nexmark queries q5, q7, q8 and q11.

Computed from the whole list of events at once (no watermarks, nothing late), with Flink's window rules:

* tumbling windows of ``size`` ms are ``[start, start + size)`` with ``start`` a multiple of ``size`` (offset 0,
  aligned to the epoch; Flink ``TimeWindow.getWindowStartWithOffset``, SQL ``TUMBLE``);
* sliding windows of ``size`` ms every ``slide`` ms: an event at ``t`` is in every ``[s, s + size)`` with ``s`` a
  multiple of ``slide`` and ``t - size < s <= t`` (Flink ``SlidingEventTimeWindows``, SQL ``HOP``);
* session windows with gap ``g``: each event opens ``[t, t + g)``; windows that overlap *or touch* merge (Flink
  ``TimeWindow.intersects``), so a key's sorted event times split where the step is larger than ``g``; the
  session is ``[first, last + g)``.

The examples ``examples/nexmark_q5.py`` .. ``q11.py`` compute the same rows through the DataStream API; the tests
compare the two. Query definitions: Nexmark ``nexmark-flink/src/main/resources/queries/q5.sql``, ``q7.sql``,
``q8.sql``, ``q11.sql`` (10 s windows, 2 s slide, 10 s gap: the defaults here). Where yflink's rows differ from
the SQL's, the function says so.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from yflink.connectors.nexmark.model import Auction, Bid, Event, Person

__all__ = ["NEXMARK_GAP_MS", "NEXMARK_SLIDE_MS", "NEXMARK_WINDOW_MS", "Q5Row", "Q7Row", "Q8Row", "Q11Row",
           "q5", "q7", "q8", "q11", "sliding_window_starts", "tumbling_window_start"]

#: Nexmark's window size for q5 (sliding), q7 and q8 (tumbling), ms.
NEXMARK_WINDOW_MS = 10_000
#: Nexmark's q5 slide, ms.
NEXMARK_SLIDE_MS = 2_000
#: Nexmark's q11 session gap, ms.
NEXMARK_GAP_MS = 10_000

#: (auction, number of bids, window start, window end)
Q5Row = tuple[int, int, int, int]
#: (auction, bidder, price, date_time, extra) of a highest bid
Q7Row = tuple[int, int, int, int, str]
#: (person id, name, window start)
Q8Row = tuple[int, str, int]
#: (bidder, number of bids, session start, session end)
Q11Row = tuple[int, int, int, int]


def tumbling_window_start(timestamp: int, size: int) -> int:
    """Start of the tumbling window of ``size`` ms (offset 0) that holds ``timestamp``."""
    return timestamp - timestamp % size


def sliding_window_starts(timestamp: int, size: int, slide: int) -> list[int]:
    """Starts of the sliding windows (``size`` ms every ``slide`` ms, offset 0) that hold ``timestamp``, latest
    first (Flink ``SlidingEventTimeWindows.assignWindows``)."""
    last_start = timestamp - timestamp % slide
    return list(range(last_start, timestamp - size, -slide))


def q5(events: Iterable[Event], size: int = NEXMARK_WINDOW_MS, slide: int = NEXMARK_SLIDE_MS) -> list[Q5Row]:
    """Hot items: per sliding window, the auction(s) with the most bids.

    Nexmark q5 counts bids per auction per ``HOP`` window and keeps the rows whose count is ``>=`` the window's
    maximum, so every auction tied for the most bids appears. yflink's rows add the window's start and end to
    Nexmark's ``(auction, num)`` so each row says which window it is for. Sorted by window, then auction.
    """
    counts: dict[tuple[int, int], Counter[int]] = defaultdict(Counter)
    for e in events:
        if isinstance(e, Bid):
            for start in sliding_window_starts(e.date_time, size, slide):
                counts[start, start + size][e.auction] += 1
    rows: list[Q5Row] = []
    for (start, end), per_auction in sorted(counts.items()):
        most = max(per_auction.values())
        rows.extend((auction, n, start, end) for auction, n in sorted(per_auction.items()) if n == most)
    return rows


def q7(events: Iterable[Event], size: int = NEXMARK_WINDOW_MS) -> list[Q7Row]:
    """Highest bid: per tumbling window, every bid whose price is the window's highest.

    As Beam's Nexmark Query7 (the bids of a fixed window whose price equals the window's maximum). Nexmark's
    ``q7.sql`` joins on ``dateTime BETWEEN window_end - 10 s AND window_end``, inclusive at both ends, so a bid
    at exactly ``window_end`` (the next window's first ms) that happens to have the same price would match too;
    windows here are half-open, as in the DataStream API. In event order.
    """
    bids = [e for e in events if isinstance(e, Bid)]
    highest: dict[int, int] = {}
    for b in bids:
        start = tumbling_window_start(b.date_time, size)
        if b.price > highest.get(start, -1):
            highest[start] = b.price
    return [(b.auction, b.bidder, b.price, b.date_time, b.extra) for b in bids
            if b.price == highest[tumbling_window_start(b.date_time, size)]]


def q8(events: Iterable[Event], size: int = NEXMARK_WINDOW_MS) -> list[Q8Row]:
    """New users: persons who opened an auction in the tumbling window in which they registered.

    Nexmark q8 groups persons by ``(id, name, window)`` and auctions by ``(seller, window)`` and joins on
    ``id = seller`` and the same window: one row per person and window, however many auctions. In event order.
    """
    sellers: set[tuple[int, int]] = set()
    persons: list[Person] = []
    for e in events:
        if isinstance(e, Auction):
            sellers.add((e.seller, tumbling_window_start(e.date_time, size)))
        elif isinstance(e, Person):
            persons.append(e)
    rows: dict[tuple[int, str, int], None] = {}
    for p in persons:
        start = tumbling_window_start(p.date_time, size)
        if (p.id, start) in sellers:
            rows[p.id, p.name, start] = None
    return list(rows)


def q11(events: Iterable[Event], gap: int = NEXMARK_GAP_MS) -> list[Q11Row]:
    """User sessions: bids per bidder per session window with gap ``gap`` ms.

    Rows are Nexmark's ``(bidder, bid_count, starttime, endtime)``: the session is ``[first bid, last bid + gap)``
    (SQL ``SESSION_START``/``SESSION_END``, Flink's merged ``TimeWindow``). Sorted by bidder, then start.
    """
    times: dict[int, list[int]] = defaultdict(list)
    for e in events:
        if isinstance(e, Bid):
            times[e.bidder].append(e.date_time)
    rows: list[Q11Row] = []
    for bidder in sorted(times):
        ts = sorted(times[bidder])
        first = ts[0]
        count = 1
        for prev, t in zip(ts, ts[1:]):
            if t - prev > gap:
                rows.append((bidder, count, first, prev + gap))
                first, count = t, 0
            count += 1
        rows.append((bidder, count, first, ts[-1] + gap))
    return rows
