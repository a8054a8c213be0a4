"""Base classes of sources and sinks (PyFlink ``pyflink.datastream.connectors.base``).

PyFlink's ``Source`` and ``Sink`` wrap Java objects; yflink's are plain Python base classes that implement the
runtime's contract in :mod:`yflink.streaming.operators.base` (``Source``/``SourceReader``, ``Sink``/``SinkWriter``
protocols), so ``env.from_source(source, ...)`` and ``ds.sink_to(sink)`` accept any subclass.

Rules for implementers (they keep sources fast and movable between processes):

- A ``Source``/``Sink`` object is cloudpickled to every worker: keep it plain data (paths, counts, seeds).
  Open files, sockets and threads in the reader's/writer's ``open()``, never in ``__init__``.
- Sources split their work statically: each reader computes its own share from ``task_info.subtask_index`` and
  ``task_info.parallelism`` (for example split ``i`` goes to subtask ``i % parallelism``).
- Readers return records in batches built in bulk (lists, slices); no per-record Python work beyond what the
  format needs.
- Readers keep their position in plain attributes, so checkpoints can snapshot and restore it later.

Source of the semantics: Flink FLIP-27 ``Source``/``SourceReader`` and FLIP-143 ``Sink``/``SinkWriter``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import Enum
from typing import Any

from yflink.streaming.operators.base import TaskInfo

#: What ``SourceReader.poll_batch`` returns: records and their timestamps (ms) or None; ``([], None)`` when
#: nothing is available right now; None at the end of a bounded input.
PolledBatch = tuple[list[Any], list[int] | None] | None


class SourceReader(ABC):
    """Reads the records of one source subtask (Flink ``SourceReader``, polled in batches)."""

    @abstractmethod
    def open(self, task_info: TaskInfo) -> None:
        """Prepare to read this subtask's share, computed from ``task_info``."""

    @abstractmethod
    def poll_batch(self, max_records: int) -> PolledBatch:
        """Up to ``max_records`` records and their timestamps (ms since the epoch) or None for none.

        Returns ``([], None)`` when nothing is available right now, and None once a bounded input has ended.
        """

    def close(self) -> None:  # noqa: B027 (an optional hook)
        """Release files, sockets, threads. Called after success and failure; must not raise for a reader that
        was never opened."""


class Source(ABC):
    """Base class of every unified data source (PyFlink ``Source``; Flink ``Source``)."""

    @abstractmethod
    def is_bounded(self) -> bool:
        """True when the input ends (Flink ``Boundedness.BOUNDED``)."""

    @abstractmethod
    def create_reader(self) -> SourceReader:
        """A fresh reader for one subtask; called on the worker."""


class SinkWriter(ABC):
    """Writes the records of one sink subtask (Flink ``SinkWriter``)."""

    @abstractmethod
    def open(self, task_info: TaskInfo) -> None:
        """Prepare to write; called on the worker before the first batch."""

    @abstractmethod
    def write_batch(self, values: list[Any], timestamps: list[int] | None) -> None:
        """Write a batch; ``timestamps`` (ms) parallel to ``values`` or None."""

    @abstractmethod
    def flush(self, end_of_input: bool) -> None:
        """Make written records durable and, at the end of input, visible."""

    def close(self) -> None:  # noqa: B027 (an optional hook)
        """Release resources. Called after success and failure; must not raise for a writer never opened."""


class Sink(ABC):
    """Base class of every unified data sink (PyFlink ``Sink``; Flink ``Sink``)."""

    @abstractmethod
    def create_writer(self) -> SinkWriter:
        """A fresh writer for one subtask; called on the worker."""


class DeliveryGuarantee(Enum):
    """The delivery guarantee a sink offers (PyFlink ``DeliveryGuarantee``).

    - ``EXACTLY_ONCE``: records are delivered exactly once, also after failover (needs checkpoints).
    - ``AT_LEAST_ONCE``: records are delivered, possibly more than once after failover.
    - ``NONE``: best effort; records may be lost or duplicated.
    """

    EXACTLY_ONCE = 0
    AT_LEAST_ONCE = 1
    NONE = 2
