"""Nexmark query 5, hot items: per sliding window, the auction(s) with the most bids.

Nexmark ``q5.sql`` counts bids per auction in ``HOP`` windows of 10 s every 2 s and keeps, per window, the rows
whose count is ``>=`` the window's maximum (every auction tied for the most bids)::

    SELECT auction, num FROM (count(*) per auction and HOP window) JOIN (max count per window) ON num >= maxn

Here: bids get event time from ``date_time``; ``key_by(auction)`` + ``SlidingEventTimeWindows`` counts the bids of
each auction per window (an AggregateFunction, so nothing but a count is kept), and a ProcessWindowFunction adds
the window. A second stage keys those counts by window end and, in a tumbling window of one slide (which holds
exactly the counts of the sliding windows ending at its end), emits the largest. Rows are
``(auction, num, window_start, window_end)``: Nexmark's columns plus the window.

Window sizes: Nexmark's 10 s / 2 s hold 100,000 events at its 10,000 events/s. By default the windows here hold a
tenth of that: ``--window-ms`` defaults to 10,000 events of event time at the generator's rate (1 s at the default
spacing of 10,000 events/s; 10 s with ``--rate 1000``) and ``--slide-ms`` to a fifth of the window, so the
default 100,000-event run fills ten windows. ``--window-ms 10000 --slide-ms 2000`` gives Nexmark's sizes.

Run it on the embedded local cluster::

    yflink run examples/nexmark_q5.py --events 100000 --parallelism 2
    python examples/nexmark_q5.py --events 20000 --window-ms 200 --slide-ms 40 --first-event-time-ms 0

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
from yflink.datastream.functions import AggregateFunction, ProcessWindowFunction
from yflink.datastream.window import SlidingEventTimeWindows, TumblingEventTimeWindows

Q5_TYPE = Types.TUPLE([Types.LONG(), Types.LONG(), Types.LONG(), Types.LONG()])
#: Events of one source subtask come in event-time order; the bound only matters behind a shuffle.
MAX_OUT_OF_ORDERNESS = Duration.of_millis(100)
#: The generator's event-time spacing when no --rate is given (Nexmark's default rate), events/s.
DEFAULT_RATE = 10_000
#: Events of event time in a default window (a tenth of Nexmark's 10 s at 10,000 events/s).
EVENTS_PER_WINDOW = 10_000


class EventTime(TimestampAssigner):
    """A Nexmark event's event time: its ``date_time`` (ms)."""

    def extract_timestamp(self, value: Any, record_timestamp: int) -> int:
        return int(value.date_time)


class CountBids(AggregateFunction):
    """Counts the bids of one auction in one window."""

    def create_accumulator(self) -> int:
        return 0

    def add(self, value: Any, accumulator: int) -> int:
        return accumulator + 1

    def get_result(self, accumulator: int) -> int:
        return accumulator

    def merge(self, acc_a: int, acc_b: int) -> int:
        return acc_a + acc_b


class WithWindow(ProcessWindowFunction):
    """(auction, count) -> (auction, count, window start, window end)."""

    def process(self, key: Any, context: ProcessWindowFunction.Context, elements: Iterable[int]) -> Iterable[Any]:
        window = context.window()
        for count in elements:
            yield key, count, window.start, window.end


class MostBids(ProcessWindowFunction):
    """The counts of one sliding window (key: its end) -> the rows with the largest count, by auction id."""

    def process(self, key: Any, context: ProcessWindowFunction.Context, elements: Iterable[Any]) -> Iterable[Any]:
        rows = list(elements)
        most = max(row[1] for row in rows)
        yield from sorted(row for row in rows if row[1] == most)


def q5(events: DataStream, window_ms: int, slide_ms: int) -> DataStream:
    """(auction, num, window_start, window_end) of the auctions with the most bids per sliding window."""
    counts = (events.filter(lambda event: isinstance(event, Bid))
              .key_by(lambda bid: bid.auction, key_type=Types.LONG())
              .window(SlidingEventTimeWindows.of(Duration.of_millis(window_ms), Duration.of_millis(slide_ms)))
              .aggregate(CountBids(), WithWindow(), accumulator_type=Types.LONG(), output_type=Q5_TYPE))
    return (counts.key_by(lambda row: row[3], key_type=Types.LONG())
            .window(TumblingEventTimeWindows.of(Duration.of_millis(slide_ms)))
            .process(MostBids(), Q5_TYPE))


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
    parser.add_argument("--slide-ms", type=int, help="window slide, ms (default: a fifth of the window)")
    parser.add_argument("--sink", choices=["print", "discard"], default=default_sink,
                        help=f"print the results or drop them (default {default_sink})")
    args = parser.parse_args(argv)
    if args.window_ms is None:
        args.window_ms = EVENTS_PER_WINDOW * 1000 // (args.rate or DEFAULT_RATE)
    if args.slide_ms is None:
        args.slide_ms = max(1, args.window_ms // 5)
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
    results = q5(env.from_source(source, watermarks, "Nexmark Source"), args.window_ms, args.slide_ms)
    if args.sink == "print":
        results.print()
    else:
        results.sink_to(DiscardingSink())
    result = env.execute("Nexmark q5")
    print(f"Nexmark q5: {args.events} events in {result.get_net_runtime()} ms", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
