# ruff: noqa: I001, UP006, UP028, UP035 -- written the way PyFlink programs are (typing names, import layout)
"""Word count in BATCH mode, shaped like PyFlink's ``examples/datastream/word_count.py``: argparse options,
``logging`` to stdout at INFO, a FileSource/FileSink branch (unused without ``--input``/``--output``), a
generator ``flat_map``, ``map`` to ``Types.TUPLE``, ``key_by`` + ``reduce``, ``print``.

PyFlink prints the client's two notices, then one ``(word,count)`` per word (BATCH: final counts only; a
TUPLE prints as Java's ``Tuple2.toString``).
"""
import argparse
import logging
import sys

from yflink.common import Encoder, Types, WatermarkStrategy
from yflink.datastream import RuntimeExecutionMode, StreamExecutionEnvironment
from yflink.datastream.connectors import FileSink, FileSource, OutputFileConfig, RollingPolicy, StreamFormat

LINES = ["the quick brown fox",
         "jumps over the lazy dog",
         "the dog sleeps",
         "a fox, a dog"]


def word_count(input_path, output_path):
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_runtime_mode(RuntimeExecutionMode.BATCH)
    env.set_parallelism(1)

    if input_path is not None:
        ds = env.from_source(
            source=FileSource.for_record_stream_format(StreamFormat.text_line_format(), input_path)
                             .process_static_file_set().build(),
            watermark_strategy=WatermarkStrategy.for_monotonous_timestamps(),
            source_name="file_source")
    else:
        print("Using the built-in lines.")
        ds = env.from_collection(LINES)

    def split(line):
        yield from line.split()

    counts = ds.flat_map(split) \
        .map(lambda w: (w, 1), output_type=Types.TUPLE([Types.STRING(), Types.INT()])) \
        .key_by(lambda pair: pair[0]) \
        .reduce(lambda a, b: (a[0], a[1] + b[1]))

    if output_path is not None:
        counts.sink_to(
            sink=FileSink.for_row_format(base_path=output_path, encoder=Encoder.simple_string_encoder())
            .with_output_file_config(OutputFileConfig.builder().with_part_prefix("wc").with_part_suffix(".txt")
                                     .build())
            .with_rolling_policy(RollingPolicy.default_rolling_policy())
            .build())
    else:
        print("Printing to stdout.")
        counts.print()

    env.execute()


if __name__ == '__main__':
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser()
    parser.add_argument('--input', dest='input', required=False)
    parser.add_argument('--output', dest='output', required=False)
    known_args, _ = parser.parse_known_args(sys.argv[1:])
    word_count(known_args.input, known_args.output)
