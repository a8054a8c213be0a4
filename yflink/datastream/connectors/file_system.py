"""Files in, files out: ``FileSource`` and ``FileSink`` (PyFlink ``pyflink.datastream.connectors.file_system``).

Reading::

    source = FileSource.for_record_stream_format(StreamFormat.text_line_format(), "/data/in").build()
    ds = env.from_source(source, WatermarkStrategy.no_watermarks(), "file-source")

Writing::

    sink = (FileSink.for_row_format("/data/out", Encoder.simple_string_encoder())
            .with_rolling_policy(RollingPolicy.default_rolling_policy())
            .build())
    ds.sink_to(sink)

Only local files (plain paths or ``file://``) are supported for now. How files are listed, split and read is in
:mod:`yflink.datastream.connectors.file_reading`; how part files are written and committed is in
:mod:`yflink.datastream.connectors.file_writing`.

Source of the semantics: Flink ``org.apache.flink.connector.file.src.FileSource`` and
``org.apache.flink.connector.file.sink.FileSink``; PyFlink's wrappers for the names.
"""

from __future__ import annotations

import codecs
import json
from datetime import timedelta
from typing import Any, Protocol

from yflink.common.serialization import Encoder
from yflink.datastream.connectors.base import Sink, Source
from yflink.datastream.connectors.file_reading import (
    MIN_SPLIT_BYTES,
    FileSourceReader,
    enumerate_files,
    is_ascii_compatible,
    strip_scheme,
)
from yflink.datastream.connectors.file_writing import (
    BasePathBucketAssigner,
    BucketAssigner,
    DateTimeBucketAssigner,
    DefaultRollingPolicy,
    FileSinkWriter,
    OnCheckpointRollingPolicy,
    OutputFileConfig,
    RollingPolicy,
)

__all__ = [
    "BasePathBucketAssigner",
    "BucketAssigner",
    "DateTimeBucketAssigner",
    "DefaultRollingPolicy",
    "FileEnumeratorProvider",
    "FileSink",
    "FileSource",
    "FileSourceBuilder",
    "FileSplitAssignerProvider",
    "OnCheckpointRollingPolicy",
    "OutputFileConfig",
    "RollingPolicy",
    "StreamFormat",
]


# ---- FileSource ----------------------------------------------------------------------------------------------


class StreamFormat:
    """A reader format that reads records from a file stream (Flink ``StreamFormat``).

    Create one with :meth:`text_line_format` or :meth:`json_lines_format`.

    Attributes:
        charset_name: the charset files are decoded with (Python codec name).
    """

    def __init__(self, charset_name: str) -> None:
        try:
            self.charset_name = codecs.lookup(charset_name).name
        except LookupError:
            raise ValueError(f"unknown charset {charset_name!r}: use a name Python's codecs know, e.g. 'UTF-8'") \
                from None
        if not is_ascii_compatible(self.charset_name):
            raise ValueError(f"charset {charset_name!r} is not supported: files are split at newline bytes, which "
                             "needs an ASCII-compatible charset such as UTF-8, ISO-8859-1 or CP1252")

    def parse(self, lines: list[str], where: str) -> list[Any]:
        """Turn decoded lines into records; ``where`` names the file position for error messages."""
        raise NotImplementedError

    @staticmethod
    def text_line_format(charset_name: str = "UTF-8") -> StreamFormat:
        """Each line of text is a record (``str``), without its terminator (``\\n``, ``\\r\\n`` or ``\\r``).

        Flink ``TextLineInputFormat``. Empty lines are records too.

        Args:
            charset_name: the charset to decode with; must be ASCII-compatible (UTF-8, ISO-8859-1, ...).
        """
        return TextLineFormat(charset_name)

    @staticmethod
    def json_lines_format(charset_name: str = "UTF-8") -> StreamFormat:
        """*yflink extension* (not in PyFlink): each line is one JSON value (https://jsonlines.org), the record is
        what ``json.loads`` returns (a ``dict`` for an object). Blank lines are skipped; a malformed line fails the
        job with the file name and position.

        Args:
            charset_name: the charset to decode with; must be ASCII-compatible (UTF-8 is the JSON standard).
        """
        return JsonLinesFormat(charset_name)


class TextLineFormat(StreamFormat):
    """:meth:`StreamFormat.text_line_format`."""

    def parse(self, lines: list[str], where: str) -> list[Any]:
        return lines

    def __repr__(self) -> str:
        return f"StreamFormat.text_line_format({self.charset_name!r})"


class JsonLinesFormat(StreamFormat):
    """:meth:`StreamFormat.json_lines_format`."""

    def parse(self, lines: list[str], where: str) -> list[Any]:
        loads = json.loads
        try:
            return list(map(loads, lines))
        except ValueError:
            pass
        records = []
        for number, line in enumerate(lines, 1):
            if not line or line.isspace():
                continue
            try:
                records.append(loads(line))
            except ValueError as e:
                raise ValueError(f"malformed JSON in {where}, a line of this batch ({number} of {len(lines)}): "
                                 f"{e}: {line[:200]!r}") from None
        return records

    def __repr__(self) -> str:
        return f"StreamFormat.json_lines_format({self.charset_name!r})"


class FileEnumeratorProvider:
    """Decides how files are found and split (PyFlink ``FileEnumeratorProvider``)."""

    def __init__(self, splittable: bool) -> None:
        self.splittable = splittable

    @staticmethod
    def default_splittable_file_enumerator() -> FileEnumeratorProvider:
        """Lists files recursively, skips hidden files (names starting with ``.`` or ``_``), and cuts large
        uncompressed files into byte ranges read in parallel. The default."""
        return FileEnumeratorProvider(True)

    @staticmethod
    def default_non_splittable_file_enumerator() -> FileEnumeratorProvider:
        """Like the default, but every file is one split."""
        return FileEnumeratorProvider(False)


class FileSplitAssignerProvider:
    """Decides which reader gets which split (PyFlink ``FileSplitAssignerProvider``).

    yflink assigns splits statically (split ``i`` to subtask ``i % parallelism``); locality does not apply to
    local files, so the assigner is accepted and has no effect.
    """

    @staticmethod
    def locality_aware_split_assigner() -> FileSplitAssignerProvider:
        return FileSplitAssignerProvider()


class _HasMilliseconds(Protocol):
    def to_milliseconds(self) -> int: ...


def _to_millis(interval: _HasMilliseconds | timedelta | float) -> int:
    """A ``Duration`` (anything with ``to_milliseconds()``), ``timedelta`` or number of ms -> ms."""
    if isinstance(interval, timedelta):
        ms = int(interval.total_seconds() * 1000)
    elif isinstance(interval, (int, float)):
        ms = int(interval)
    elif hasattr(interval, "to_milliseconds"):
        ms = int(interval.to_milliseconds())
    else:
        raise TypeError(f"expected a Duration, got {interval!r}")
    if ms <= 0:
        raise ValueError(f"discovery interval must be positive, got {ms} ms")
    return ms


class FileSourceBuilder:
    """Configures a :class:`FileSource` (PyFlink ``FileSourceBuilder``); start with
    :meth:`FileSource.for_record_stream_format`."""

    def __init__(self, stream_format: StreamFormat, paths: tuple[str, ...]) -> None:
        if not isinstance(stream_format, StreamFormat):
            raise TypeError(f"expected a StreamFormat (e.g. StreamFormat.text_line_format()), got {stream_format!r}")
        if not paths:
            raise ValueError("FileSource needs at least one path")
        self._stream_format = stream_format
        self._paths = [str(p) for p in paths]
        self._discovery_interval_ms: int | None = None
        self._splittable = True

    def monitor_continuously(self, discovery_interval: _HasMilliseconds | timedelta | float) -> FileSourceBuilder:
        """Streaming mode: keep running and read new files as they appear, listing the paths every
        ``discovery_interval`` (a ``Duration``; yflink also takes a ``timedelta`` or ms).

        A file is read once, when first seen: write files elsewhere and move them in (as with Flink).
        """
        self._discovery_interval_ms = _to_millis(discovery_interval)
        return self

    def process_static_file_set(self) -> FileSourceBuilder:
        """Bounded mode (the default): read the files present at start, then finish."""
        self._discovery_interval_ms = None
        return self

    def set_file_enumerator(self, file_enumerator: FileEnumeratorProvider) -> FileSourceBuilder:
        """How files are found and split; see :class:`FileEnumeratorProvider`."""
        self._splittable = file_enumerator.splittable
        return self

    def set_split_assigner(self, split_assigner: FileSplitAssignerProvider) -> FileSourceBuilder:
        """Accepted for PyFlink compatibility; yflink assigns splits statically."""
        return self

    def build(self) -> FileSource:
        """The source. In bounded mode, a path that does not exist is an error here already.

        Raises:
            FileNotFoundError: a path does not exist (bounded mode).
        """
        if self._discovery_interval_ms is None:
            enumerate_files(self._paths)  # fail early, on the client, with the path in the message
        return FileSource(self._stream_format, self._paths, self._discovery_interval_ms, self._splittable)


class FileSource(Source):
    """Reads files, bounded (the default) or continuously monitoring for new files (PyFlink ``FileSource``).

    Directories are read recursively; hidden files (names starting with ``.`` or ``_``) are skipped. Large files
    are cut into byte ranges aligned to line boundaries, so several subtasks read one big file in parallel and
    every line is read exactly once. Compressed files (``.gz``, ``.gzip``, ``.bz2``, ``.xz``) are decompressed
    and read whole. Records carry no timestamp.

    Build one with :meth:`for_record_stream_format`.

    Attributes:
        min_split_size: smallest byte range a file is cut into (bytes, default 1 MiB); mostly for tests.
    """

    def __init__(self, stream_format: StreamFormat, paths: list[str], discovery_interval_ms: int | None = None,
                 splittable: bool = True) -> None:
        self.stream_format = stream_format
        self.paths = list(paths)
        self.discovery_interval_ms = discovery_interval_ms
        self.splittable = splittable
        self.min_split_size = MIN_SPLIT_BYTES

    @staticmethod
    def for_record_stream_format(stream_format: StreamFormat, *paths: str) -> FileSourceBuilder:
        """A builder for a source that reads ``paths`` (files or directories) record by record with
        ``stream_format``."""
        return FileSourceBuilder(stream_format, paths)

    def is_bounded(self) -> bool:
        return self.discovery_interval_ms is None

    def create_reader(self) -> FileSourceReader:
        return FileSourceReader(self.paths, self.stream_format.charset_name, self.stream_format.parse,
                                self.discovery_interval_ms, self.splittable, self.min_split_size)

    def __repr__(self) -> str:
        mode = "bounded" if self.discovery_interval_ms is None else f"every {self.discovery_interval_ms} ms"
        return f"FileSource({self.stream_format!r}, {self.paths!r}, {mode})"


# ---- FileSink ------------------------------------------------------------------------------------------------


class FileSink(Sink):
    """Writes records into part files inside bucket directories under a base path (PyFlink ``FileSink``).

    Layout: ``<base_path>/<bucket id>/<prefix>-<uid>-<counter><suffix>``, where the bucket comes from the
    :class:`BucketAssigner` (default: the hour, ``yyyy-MM-dd--HH``, of the local processing time), ``uid`` is a
    random UUID per sink subtask and ``counter`` counts that subtask's part files in the bucket from 0.

    A part file is written as a hidden in-progress file ``.<name>.inprogress.<uuid>``. The
    :class:`RollingPolicy` decides when it is closed (it becomes *pending*); pending files become *finished*
    (renamed to their final name) when committed: at the end of a bounded input for now, at completed checkpoints
    once checkpointing exists (until then an unbounded job's output stays in-progress/pending, as in Flink without
    checkpoints).

    Build one with :meth:`for_row_format`.
    """

    def __init__(self, base_path: str, encoder: Encoder, bucket_assigner: BucketAssigner,
                 rolling_policy: RollingPolicy, output_file_config: OutputFileConfig,
                 bucket_check_interval_ms: int) -> None:
        self.base_path = base_path
        self.encoder = encoder
        self.bucket_assigner = bucket_assigner
        self.rolling_policy = rolling_policy
        self.output_file_config = output_file_config
        self.bucket_check_interval_ms = bucket_check_interval_ms

    def create_writer(self) -> FileSinkWriter:
        return FileSinkWriter(self.base_path, self.encoder, self.bucket_assigner, self.rolling_policy,
                              self.output_file_config, self.bucket_check_interval_ms)

    def __repr__(self) -> str:
        return f"FileSink({self.base_path!r})"

    class RowFormatBuilder:
        """Configures a row-format :class:`FileSink` (PyFlink ``FileSink.RowFormatBuilder``)."""

        def __init__(self, base_path: str, encoder: Encoder) -> None:
            if not isinstance(encoder, Encoder):
                raise TypeError(f"expected an Encoder (e.g. Encoder.simple_string_encoder()), got {encoder!r}")
            self._base_path = strip_scheme(str(base_path))
            self._encoder = encoder
            self._bucket_assigner: BucketAssigner = BucketAssigner.date_time_bucket_assigner()
            self._rolling_policy: RollingPolicy = RollingPolicy.default_rolling_policy()
            self._output_file_config = OutputFileConfig("part", "")
            self._bucket_check_interval_ms = 60_000

        def with_bucket_check_interval(self, interval: int) -> FileSink.RowFormatBuilder:
            """How often (ms, default 60000) open part files are checked against the rolling policy's time
            limits. Checked while records arrive."""
            if interval <= 0:
                raise ValueError(f"bucket check interval must be positive, got {interval} ms")
            self._bucket_check_interval_ms = int(interval)
            return self

        def with_bucket_assigner(self, bucket_assigner: BucketAssigner) -> FileSink.RowFormatBuilder:
            self._bucket_assigner = bucket_assigner
            return self

        def with_rolling_policy(self, rolling_policy: RollingPolicy) -> FileSink.RowFormatBuilder:
            self._rolling_policy = rolling_policy
            return self

        def with_output_file_config(self, output_file_config: OutputFileConfig) -> FileSink.RowFormatBuilder:
            self._output_file_config = output_file_config
            return self

        def build(self) -> FileSink:
            return FileSink(self._base_path, self._encoder, self._bucket_assigner, self._rolling_policy,
                            self._output_file_config, self._bucket_check_interval_ms)

    @staticmethod
    def for_row_format(base_path: str, encoder: Encoder) -> FileSink.RowFormatBuilder:
        """A builder for a sink writing each record with ``encoder`` into part files under ``base_path``."""
        return FileSink.RowFormatBuilder(base_path, encoder)
