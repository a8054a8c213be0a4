"""A sink that drops every record (Flink ``org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink``;
the Nexmark benchmark's ``blackhole`` connector). PyFlink has no Python wrapper for it; yflink does.

Use it to run a pipeline for its cost alone (benchmarks), or to end a stream whose output does not matter.
"""

from __future__ import annotations

from typing import Any

from yflink.datastream.connectors.base import Sink, SinkWriter
from yflink.streaming.operators.base import TaskInfo

__all__ = ["DiscardingSink"]


class DiscardingSink(Sink):
    """Accepts records and drops them. Each writer counts what it dropped in ``records_discarded``."""

    def create_writer(self) -> DiscardingWriter:
        return DiscardingWriter()

    def __repr__(self) -> str:
        return "DiscardingSink()"


class DiscardingWriter(SinkWriter):
    """Drops records; :attr:`records_discarded` counts them."""

    def __init__(self) -> None:
        self.records_discarded = 0

    def open(self, task_info: TaskInfo) -> None:
        pass

    def write_batch(self, values: list[Any], timestamps: list[int] | None) -> None:
        self.records_discarded += len(values)

    def flush(self, end_of_input: bool) -> None:
        pass
