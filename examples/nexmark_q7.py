"""Nexmark query 7, highest bid: per tumbling window, the bid(s) with the highest price.

Nexmark ``q7.sql`` finds the highest price per 10 s ``TUMBLE`` window and joins it back to the bids of that
window, so every bid at the highest price is a result::

    SELECT B.auction, B.bidder, B.price, B.dateTime, B.extra
    FROM bid B JOIN (SELECT MAX(price) AS maxprice, window_end AS dateTime FROM TUMBLE(bid, 10 s) ...) B1
    ON B.price = B1.maxprice WHERE B.dateTime BETWEEN B1.dateTime - INTERVAL '10' SECOND AND B1.dateTime

Here: bids get event time from ``date_time``; ``key_by(auction)`` + ``TumblingEventTimeWindows`` keeps, per
auction and window, the highest price and the bids at it (an AggregateFunction: a combiner, in parallel);
``window_all`` with the same windows then picks the highest of those (the first stage's results carry the
window's last ms, so they fall in the same window). Rows are Nexmark's ``(auction, bidder, price, date_time,
extra)``. Windows are half-open ``[start, end)``; the SQL's ``BETWEEN`` also takes a bid at exactly ``end`` with
the same price (see :func:`yflink.connectors.nexmark.window_queries.q7`).

Window size: Nexmark's 10 s holds 100,000 events at its 10,000 events/s. By default the window here holds a
tenth of that: ``--window-ms`` defaults to 10,000 events of event time at the generator's rate (1 s at the default
spacing of 10,000 events/s; 10 s with ``--rate 1000``), so the default 100,000-event run fills ten windows.

Run it on the embedded local cluster::

    yflink run examples/nexmark_q7.py --events 100000 --parallelism 2
    python examples/nexmark_q7.py --events 20000 --window-ms 200 --first-event-time-ms 0

Only PyFlink's API is used, apart from the Nexmark source (``yflink.connectors.nexmark``) and the
``DiscardingSink`` (Flink's, without a PyFlink wrapper).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import Any

from yflink.common import Duration, Types, WatermarkStrategy
from yflink.common.watermark_strategy import TimestampAssigner
from yflink.connectors.nexmark import Bid, NexmarkSource
from yflink.datastream import DataStream, StreamExecutionEnvironment
from yflink.datastream.connectors import DiscardingSink
from yflink.datastream.functions import AggregateFunction, ProcessAllWindowFunction
from yflink.datastream.window import TumblingEventTimeWindows

Q7_TYPE = Types.TUPLE([Types.LONG(), Types.LONG(), Types.LONG(), Types.LONG(), Types.STRING()])
#: Events of one source subtask come in event-time order; the bound only matters behind a shuffle.
MAX_OUT_OF_ORDERNESS = Duration.of_millis(100)
#: The generator's event-time spacing when no --rate is given (Nexmark's default rate), events/s.
DEFAULT_RATE = 10_000
#: Events of event time in a default window (a tenth of Nexmark's 10 s at 10,000 events/s).
EVENTS_PER_WINDOW = 10_000

#: (highest price, the bids at that price as (auction, bidder, price, date_time, extra) rows)
Highest = tuple[int, tuple[Any, ...]]


class EventTime(TimestampAssigner):
    """A Nexmark event's event time: its ``date_time`` (ms)."""

    def extract_timestamp(self, value: Any, record_timestamp: int) -> int:
        return int(value.date_time)


class HighestBids(AggregateFunction):
    """The highest price of one auction's bids in one window, and those bids (ties kept)."""

    def create_accumulator(self) -> Highest:
        return -1, ()

    def add(self, value: Any, accumulator: Highest) -> Highest:
        price, bids = accumulator
        row = (value.auction, value.bidder, value.price, value.date_time, value.extra)
        if value.price > price:
            return value.price, (row,)
        if value.price == price:
            return price, bids + (row,)
        return accumulator

    def get_result(self, accumulator: Highest) -> Highest:
        return accumulator

    def merge(self, acc_a: Highest, acc_b: Highest) -> Highest:
        if acc_a[0] == acc_b[0]:
            return acc_a[0], acc_a[1] + acc_b[1]
        return max(acc_a, acc_b, key=lambda acc: acc[0])


class EmitHighest(ProcessAllWindowFunction):
    """Every auction's highest bids in one window -> the bids at the window's highest price."""

    def process(self, context: ProcessAllWindowFunction.Context, elements: Iterable[Highest]) -> Iterable[Any]:
        candidates = list(elements)
        top = max(price for price, _ in candidates)
        for price, bids in candidates:
            if price == top:
                yield from bids


def q7(events: DataStream, window_ms: int) -> DataStream:
    """(auction, bidder, price, date_time, extra) of the highest bids per tumbling window."""
    window = Duration.of_millis(window_ms)
    per_auction = (events.filter(lambda event: isinstance(event, Bid))
                   .key_by(lambda bid: bid.auction, key_type=Types.LONG())
                   .window(TumblingEventTimeWindows.of(window))
                   .aggregate(HighestBids(), output_type=Types.PICKLED_BYTE_ARRAY()))
    return per_auction.window_all(TumblingEventTimeWindows.of(window)).process(EmitHighest(), Q7_TYPE)


def parse_args(argv: list[str], default_sink: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000, help="Nexmark events to generate (default 100000)")
    parser.add_argument("--parallelism", type=int, help="parallelism of every operator (default: the config's)")
    parser.add_argument("--rate", type=int, help="events per second (default: as fast as possible)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the generator (default 0)")
    parser.add_argument("--first-event-time-ms", type=int,
                        help="event time of the first event, ms since the epoch (default: now)")
    parser.add_argument("--window-ms", type=int,
                        help="window size, ms of event time (default: 10000 events' worth at the rate)")
    parser.add_argument("--sink", choices=["print", "discard"], default=default_sink,
                        help=f"print the results or drop them (default {default_sink})")
    args = parser.parse_args(argv)
    if args.window_ms is None:
        args.window_ms = EVENTS_PER_WINDOW * 1000 // (args.rate or DEFAULT_RATE)
    return args


def main(argv: list[str]) -> None:
    args = parse_args(argv, default_sink="print")
    env = StreamExecutionEnvironment.get_execution_environment()
    if args.parallelism:
        env.set_parallelism(args.parallelism)
    source = NexmarkSource(args.events, events_per_second=args.rate, seed=args.seed,
                           first_event_time_ms=args.first_event_time_ms)
    watermarks = WatermarkStrategy.for_bounded_out_of_orderness(MAX_OUT_OF_ORDERNESS) \
        .with_timestamp_assigner(EventTime())
    results = q7(env.from_source(source, watermarks, "Nexmark Source"), args.window_ms)
    if args.sink == "print":
        results.print()
    else:
        results.sink_to(DiscardingSink())
    result = env.execute("Nexmark q7")
    print(f"Nexmark q7: {args.events} events in {result.get_net_runtime()} ms", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
