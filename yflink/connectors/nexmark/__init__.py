"""The Nexmark benchmark's event generator as a yflink source.

Nexmark models an online auction: persons open auctions and bid on them. :class:`NexmarkSource` produces
:class:`Person`, :class:`Auction` and :class:`Bid` records (1 : 3 : 46) by the Nexmark generator's rules, seeded
and deterministic, in parallel, with a total count and an optional rate::

    from yflink.connectors.nexmark import Bid, NexmarkSource

    source = NexmarkSource(max_events=1_000_000, seed=42)
    bids = env.from_source(source, WatermarkStrategy.no_watermarks(), "nexmark") \\
        .filter(lambda e: isinstance(e, Bid))

:mod:`~yflink.connectors.nexmark.queries` has plain-Python reference results of queries 0-2,
:mod:`~yflink.connectors.nexmark.window_queries` those of the windowed queries 5, 7, 8 and 11.
Rules, sources and yflink's deviations from the Java generator: :mod:`~yflink.connectors.nexmark.generator`.
"""

from yflink.connectors.nexmark.generator import NexmarkConfig, NexmarkGenerator
from yflink.connectors.nexmark.model import Auction, Bid, Event, EventType, Person
from yflink.connectors.nexmark.source import NexmarkSource, NexmarkSourceReader

__all__ = [
    "Auction",
    "Bid",
    "Event",
    "EventType",
    "NexmarkConfig",
    "NexmarkGenerator",
    "NexmarkSource",
    "NexmarkSourceReader",
    "Person",
]
