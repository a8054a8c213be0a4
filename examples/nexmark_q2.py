"""Nexmark query 2, selection: the bids on every 123rd auction, as (auction, price).

Nexmark ``q2.sql``::

    SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0

Run it on the embedded local cluster::

    python examples/nexmark_q2.py --events 100000 --parallelism 2
    yflink run examples/nexmark_q2.py --events 1000000

Only PyFlink's API is used, apart from the Nexmark source (``yflink.connectors.nexmark``) and the
``DiscardingSink`` (Flink's, without a PyFlink wrapper).
"""

from __future__ import annotations

import argparse
import sys

from yflink.common import Types, WatermarkStrategy
from yflink.connectors.nexmark import Bid, NexmarkSource
from yflink.datastream import DataStream, StreamExecutionEnvironment
from yflink.datastream.connectors import DiscardingSink

Q2_TYPE = Types.TUPLE([Types.LONG(), Types.LONG()])


def q2(events: DataStream) -> DataStream:
    """(auction, price) of the bids whose auction id is a multiple of 123."""
    return (events.filter(lambda event: isinstance(event, Bid) and event.auction % 123 == 0)
            .map(lambda bid: (bid.auction, bid.price), output_type=Q2_TYPE))


def parse_args(argv: list[str], default_sink: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000, help="Nexmark events to generate (default 100000)")
    parser.add_argument("--parallelism", type=int, help="parallelism of every operator (default: the config's)")
    parser.add_argument("--rate", type=int, help="events per second (default: as fast as possible)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the generator (default 0)")
    parser.add_argument("--first-event-time-ms", type=int,
                        help="event time of the first event, ms since the epoch (default: now)")
    parser.add_argument("--sink", choices=["print", "discard"], default=default_sink,
                        help=f"print the results or drop them (default {default_sink})")
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    args = parse_args(argv, default_sink="print")
    env = StreamExecutionEnvironment.get_execution_environment()
    if args.parallelism:
        env.set_parallelism(args.parallelism)
    source = NexmarkSource(args.events, events_per_second=args.rate, seed=args.seed,
                           first_event_time_ms=args.first_event_time_ms)
    results = q2(env.from_source(source, WatermarkStrategy.no_watermarks(), "Nexmark Source"))
    if args.sink == "print":
        results.print()
    else:
        results.sink_to(DiscardingSink())
    result = env.execute("Nexmark q2")
    print(f"Nexmark q2: {args.events} events in {result.get_net_runtime()} ms", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
