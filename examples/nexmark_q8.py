"""Nexmark query 8, new users: the persons who opened an auction in the window in which they registered.

Nexmark ``q8.sql`` groups persons by ``(id, name)`` and auctions by ``seller`` per 10 s ``TUMBLE`` window and joins
the two on ``id = seller`` and the same window::

    SELECT P.id, P.name, P.starttime
    FROM (SELECT id, name, window_start AS starttime ... FROM TUMBLE(person, 10 s) GROUP BY id, name, window) P
    JOIN (SELECT seller, window_start AS starttime ... FROM TUMBLE(auction, 10 s) GROUP BY seller, window) A
    ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime

Here: events get event time from ``date_time``; the auctions are reduced to one per seller and tumbling window
(the SQL's ``GROUP BY seller``; the result carries the window's last ms, so it stays in that window), and a
window join (``persons.join(sellers).where(id).equal_to(seller).window(TumblingEventTimeWindows)``) pairs each
person with their window's auctions. Person ids are unique, so each person joins at most once per window. Rows
are Nexmark's ``(id, name, starttime)``, the window start in ms.

Window size: Nexmark's 10 s holds 100,000 events at its 10,000 events/s. By default the window here holds a
tenth of that: ``--window-ms`` defaults to 10,000 events of event time at the generator's rate (1 s at the default
spacing of 10,000 events/s; 10 s with ``--rate 1000``), so the default 100,000-event run fills ten windows.

Run it on the embedded local cluster::

    yflink run examples/nexmark_q8.py --events 100000 --parallelism 2
    python examples/nexmark_q8.py --events 50000 --window-ms 200 --first-event-time-ms 0

Only PyFlink's API is used, apart from the Nexmark source (``yflink.connectors.nexmark``), the window join
(Flink's ``DataStream.join``, which PyFlink lacks) and the ``DiscardingSink`` (Flink's, without a PyFlink
wrapper).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from yflink.common import Duration, Types, WatermarkStrategy
from yflink.common.watermark_strategy import TimestampAssigner
from yflink.connectors.nexmark import Auction, NexmarkSource, Person
from yflink.datastream import DataStream, StreamExecutionEnvironment
from yflink.datastream.connectors import DiscardingSink
from yflink.datastream.window import TimeWindow, TumblingEventTimeWindows

Q8_TYPE = Types.TUPLE([Types.LONG(), Types.STRING(), Types.LONG()])
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


def q8(events: DataStream, window_ms: int) -> DataStream:
    """(id, name, window start) of the persons who opened an auction in the window they registered in."""
    window = TumblingEventTimeWindows.of(Duration.of_millis(window_ms))
    persons = events.filter(lambda event: isinstance(event, Person))
    sellers = (events.filter(lambda event: isinstance(event, Auction))
               .key_by(lambda auction: auction.seller, key_type=Types.LONG())
               .window(window)
               .reduce(lambda first, later: first))
    return (persons.join(sellers)
            .where(lambda person: person.id)
            .equal_to(lambda auction: auction.seller)
            .window(window)
            .apply(lambda person, auction: (person.id, person.name,
                                            TimeWindow.get_window_start_with_offset(person.date_time, 0, window_ms)),
                   Q8_TYPE))


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
    results = q8(env.from_source(source, watermarks, "Nexmark Source"), args.window_ms)
    if args.sink == "print":
        results.print()
    else:
        results.sink_to(DiscardingSink())
    result = env.execute("Nexmark q8")
    print(f"Nexmark q8: {args.events} events in {result.get_net_runtime()} ms", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
