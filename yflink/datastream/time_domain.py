"""TimeDomain (PyFlink ``pyflink.datastream.time_domain``): which clock a timer was set on."""

from __future__ import annotations

from enum import Enum

__all__ = ["TimeDomain"]


class TimeDomain(Enum):
    """``EVENT_TIME``: fires when the watermark passes it; ``PROCESSING_TIME``: when the wall clock does."""

    EVENT_TIME = 0
    PROCESSING_TIME = 1
