"""Nexmark query 0, pass-through: every bid as (auction, bidder, price, date_time, extra).

Measures the cost of the source and the framework (Nexmark ``q0.sql``)::

    SELECT auction, bidder, price, dateTime, extra FROM bid

Run it on the embedded local cluster::

    python examples/nexmark_q0.py --events 1000000 --parallelism 2     # results dropped (Nexmark's blackhole)
    yflink run examples/nexmark_q0.py --events 1000 --sink print

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

Q0_TYPE = Types.TUPLE([Types.LONG(), Types.LONG(), Types.LONG(), Types.LONG(), Types.STRING()])


def q0(events: DataStream) -> DataStream:
    """Bids, projected to (auction, bidder, price, date_time, extra)."""
    return (events.filter(lambda event: isinstance(event, Bid))
            .map(lambda bid: (bid.auction, bid.bidder, bid.price, bid.date_time, bid.extra), output_type=Q0_TYPE))


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
    args = parse_args(argv, default_sink="discard")
    env = StreamExecutionEnvironment.get_execution_environment()
    if args.parallelism:
        env.set_parallelism(args.parallelism)
    source = NexmarkSource(args.events, events_per_second=args.rate, seed=args.seed,
                           first_event_time_ms=args.first_event_time_ms)
    results = q0(env.from_source(source, WatermarkStrategy.no_watermarks(), "Nexmark Source"))
    if args.sink == "print":
        results.print()
    else:
        results.sink_to(DiscardingSink())
    result = env.execute("Nexmark q0")
    print(f"Nexmark q0: {args.events} events in {result.get_net_runtime()} ms", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
