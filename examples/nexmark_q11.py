"""Nexmark query 11, user sessions: how many bids each bidder made in each session.

Nexmark ``q11.sql`` groups bids per bidder into session windows with a 10 s gap::

    SELECT B.bidder, count(*) AS bid_count,
           SESSION_START(B.dateTime, INTERVAL '10' SECOND) AS starttime,
           SESSION_END(B.dateTime, INTERVAL '10' SECOND) AS endtime
    FROM bid B GROUP BY B.bidder, SESSION(B.dateTime, INTERVAL '10' SECOND)

Here: bids get event time from ``date_time``; ``key_by(bidder)`` + ``EventTimeSessionWindows.with_gap`` counts
each session's bids (an AggregateFunction, merged when sessions merge) and a ProcessWindowFunction adds the
session's bounds. Rows are Nexmark's ``(bidder, bid_count, starttime, endtime)`` in ms: a session is
``[first bid, last bid + gap)``; bids at most one gap apart are in the same session.

Gap: Nexmark's 10 s is 100,000 events at its 10,000 events/s. By default the gap here is a tenth of that:
``--gap-ms`` defaults to 10,000 events of event time at the generator's rate (1 s at the default spacing of
10,000 events/s; 10 s with ``--rate 1000``).

Run it on the embedded local cluster::

    yflink run examples/nexmark_q11.py --events 100000 --parallelism 2
    python examples/nexmark_q11.py --events 20000 --gap-ms 100 --first-event-time-ms 0

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
from yflink.datastream.window import EventTimeSessionWindows

Q11_TYPE = Types.TUPLE([Types.LONG(), Types.LONG(), Types.LONG(), Types.LONG()])
#: Events of one source subtask come in event-time order; the bound only matters behind a shuffle.
MAX_OUT_OF_ORDERNESS = Duration.of_millis(100)
#: The generator's event-time spacing when no --rate is given (Nexmark's default rate), events/s.
DEFAULT_RATE = 10_000
#: Events of event time in the default gap (a tenth of Nexmark's 10 s at 10,000 events/s).
EVENTS_PER_GAP = 10_000


class EventTime(TimestampAssigner):
    """A Nexmark event's event time: its ``date_time`` (ms)."""

    def extract_timestamp(self, value: Any, record_timestamp: int) -> int:
        return int(value.date_time)


class CountBids(AggregateFunction):
    """Counts the bids of one bidder in one session."""

    def create_accumulator(self) -> int:
        return 0

    def add(self, value: Any, accumulator: int) -> int:
        return accumulator + 1

    def get_result(self, accumulator: int) -> int:
        return accumulator

    def merge(self, acc_a: int, acc_b: int) -> int:
        return acc_a + acc_b


class WithSession(ProcessWindowFunction):
    """(bidder, count) -> (bidder, count, session start, session end)."""

    def process(self, key: Any, context: ProcessWindowFunction.Context, elements: Iterable[int]) -> Iterable[Any]:
        session = context.window()
        for count in elements:
            yield key, count, session.start, session.end


def q11(events: DataStream, gap_ms: int) -> DataStream:
    """(bidder, bid_count, starttime, endtime) per bidder and session."""
    return (events.filter(lambda event: isinstance(event, Bid))
            .key_by(lambda bid: bid.bidder, key_type=Types.LONG())
            .window(EventTimeSessionWindows.with_gap(Duration.of_millis(gap_ms)))
            .aggregate(CountBids(), WithSession(), accumulator_type=Types.LONG(), output_type=Q11_TYPE))


def parse_args(argv: list[str], default_sink: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000, help="Nexmark events to generate (default 100000)")
    parser.add_argument("--parallelism", type=int, help="parallelism of every operator (default: the config's)")
    parser.add_argument("--rate", type=int, help="events per second (default: as fast as possible)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the generator (default 0)")
    parser.add_argument("--first-event-time-ms", type=int,
                        help="event time of the first event, ms since the epoch (default: now)")
    parser.add_argument("--gap-ms", type=int,
                        help="session gap, ms of event time (default: 10000 events' worth at the rate)")
    parser.add_argument("--sink", choices=["print", "discard"], default=default_sink,
                        help=f"print the results or drop them (default {default_sink})")
    args = parser.parse_args(argv)
    if args.gap_ms is None:
        args.gap_ms = EVENTS_PER_GAP * 1000 // (args.rate or DEFAULT_RATE)
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
    results = q11(env.from_source(source, watermarks, "Nexmark Source"), args.gap_ms)
    if args.sink == "print":
        results.print()
    else:
        results.sink_to(DiscardingSink())
    result = env.execute("Nexmark q11")
    print(f"Nexmark q11: {args.events} events in {result.get_net_runtime()} ms", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
