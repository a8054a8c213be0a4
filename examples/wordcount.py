"""Word count: how often each word occurs in a text file (PyFlink's ``examples/datastream/word_count.py``).

Run it on the embedded local cluster::

    python examples/wordcount.py --input README.md                 # print (word, count) to stdout
    yflink run examples/wordcount.py --input big.txt --output out/  # write part files under out/
    python examples/wordcount.py                                    # built-in text

Only PyFlink's API is used: change ``yflink`` to ``pyflink`` in the imports and it runs on Flink.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

from yflink.common import Encoder, Types, WatermarkStrategy
from yflink.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
from yflink.datastream.connectors.file_system import (
    FileSink,
    FileSource,
    OutputFileConfig,
    RollingPolicy,
    StreamFormat,
)

WORD_COUNT_DATA = [
    "To be, or not to be,--that is the question:--",
    "Whether 'tis nobler in the mind to suffer",
    "The slings and arrows of outrageous fortune",
    "Or to take arms against a sea of troubles,",
    "And by opposing end them?--To die,--to sleep,--",
    "No more; and by a sleep to say we end",
    "The heartache, and the thousand natural shocks",
    "That flesh is heir to,--'tis a consummation",
    "Devoutly to be wish'd. To die,--to sleep;--",
    "To sleep! perchance to dream:--ay, there's the rub;",
]


def split(line: str) -> Iterator[str]:
    yield from line.split()


def word_count(input_path: str | None, output_path: str | None, parallelism: int | None) -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    if parallelism:
        env.set_parallelism(parallelism)

    # define the source
    if input_path is not None:
        ds = env.from_source(
            source=FileSource.for_record_stream_format(StreamFormat.text_line_format(), input_path)
            .process_static_file_set()
            .build(),
            watermark_strategy=WatermarkStrategy.no_watermarks(),
            source_name="file_source",
        )
    else:
        print("Executing word_count example with default input data set.", file=sys.stderr)
        print("Use --input to specify file input.", file=sys.stderr)
        ds = env.from_collection(WORD_COUNT_DATA)

    # compute word count
    ds = (
        ds.flat_map(split)
        .map(lambda word: (word, 1), output_type=Types.TUPLE([Types.STRING(), Types.INT()]))
        .key_by(lambda pair: pair[0])
        .reduce(lambda a, b: (a[0], a[1] + b[1]))
    )

    # define the sink
    if output_path is not None:
        ds.sink_to(
            sink=FileSink.for_row_format(base_path=output_path, encoder=Encoder.simple_string_encoder())
            .with_output_file_config(OutputFileConfig.builder().with_part_prefix("wordcount").build())
            .with_rolling_policy(RollingPolicy.default_rolling_policy())
            .build()
        )
    else:
        ds.print()

    # submit for execution
    env.execute("wordcount")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", help="text file or directory to read (default: a built-in text)")
    parser.add_argument("--output", help="directory to write the counts to (default: print them)")
    parser.add_argument("--parallelism", type=int, help="parallelism of every operator (default: the config's)")
    args = parser.parse_args(argv)
    word_count(args.input, args.output, args.parallelism)


if __name__ == "__main__":
    main(sys.argv[1:])
