"""Connectors of the DataStream API (PyFlink ``pyflink.datastream.connectors``).

As in PyFlink, the common classes are importable from this package directly::

    from yflink.datastream.connectors import FileSource, StreamFormat, FileSink, NumberSequenceSource

Modules: :mod:`~yflink.datastream.connectors.base` (``Source``, ``Sink``, readers and writers),
:mod:`~yflink.datastream.connectors.file_system` (``FileSource``, ``FileSink``),
:mod:`~yflink.datastream.connectors.number_seq` (``NumberSequenceSource``),
:mod:`~yflink.datastream.connectors.collection` (``CollectionSource``, behind ``env.from_collection``),
:mod:`~yflink.datastream.connectors.discarding` (``DiscardingSink``, Flink's; not in PyFlink).
The Nexmark generator is yflink's own: :mod:`yflink.connectors.nexmark`.
"""

from yflink.datastream.connectors.base import DeliveryGuarantee, Sink, SinkWriter, Source, SourceReader
from yflink.datastream.connectors.collection import CollectionSource
from yflink.datastream.connectors.discarding import DiscardingSink
from yflink.datastream.connectors.file_system import (
    BucketAssigner,
    FileEnumeratorProvider,
    FileSink,
    FileSource,
    FileSourceBuilder,
    FileSplitAssignerProvider,
    OutputFileConfig,
    RollingPolicy,
    StreamFormat,
)
from yflink.datastream.connectors.number_seq import NumberSequenceSource

__all__ = [
    "BucketAssigner",
    "CollectionSource",
    "DeliveryGuarantee",
    "DiscardingSink",
    "FileEnumeratorProvider",
    "FileSink",
    "FileSource",
    "FileSourceBuilder",
    "FileSplitAssignerProvider",
    "NumberSequenceSource",
    "OutputFileConfig",
    "RollingPolicy",
    "Sink",
    "SinkWriter",
    "Source",
    "SourceReader",
    "StreamFormat",
]
