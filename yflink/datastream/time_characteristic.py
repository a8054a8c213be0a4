"""TimeCharacteristic (PyFlink ``pyflink.datastream.time_characteristic``; deprecated in Flink 1.12, removed in 2.0).

Programs written for Flink 1.x call ``env.set_stream_time_characteristic(TimeCharacteristic.EventTime)``. Since
Flink 1.12 event time is the default and windows name their time domain themselves, so the setting only switches
periodic watermarks: ``ProcessingTime`` sets ``pipeline.auto-watermark-interval`` to 0 (none), the others to
200 ms (Flink ``StreamExecutionEnvironment.setStreamTimeCharacteristic``).
"""

from enum import Enum

__all__ = ["TimeCharacteristic"]


class TimeCharacteristic(Enum):
    """How time-dependent operations tell time (Flink ``TimeCharacteristic``)."""

    ProcessingTime = 0
    IngestionTime = 1
    EventTime = 2
