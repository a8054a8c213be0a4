"""Events that travel in-band with records (Flink ``EndOfPartitionEvent``; watermarks and barriers later)."""

from __future__ import annotations

from dataclasses import dataclass


class EndOfPartition:
    """The producer wrote everything it will write to this subpartition."""

    _instance: EndOfPartition | None = None

    def __new__(cls) -> EndOfPartition:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __reduce__(self) -> tuple[type, tuple[()]]:
        return (EndOfPartition, ())

    def __repr__(self) -> str:
        return "EndOfPartition"


END_OF_PARTITION = EndOfPartition()


@dataclass(frozen=True)
class Watermark:
    """Event time has reached ``timestamp`` ms on this channel."""

    timestamp: int


@dataclass(frozen=True)
class WatermarkStatus:
    """The channel went idle (no records, no watermarks for a while) or became active again.

    Idle channels do not hold back the combined watermark (Flink ``WatermarkStatus``, "Dealing With Idle
    Sources" in the documentation "Generating Watermarks").
    """

    idle: bool


@dataclass(frozen=True)
class UpstreamError:
    """Sent instead of the rest of the data when a producer stops abnormally.

    ``consequential`` is True when the producer was cancelled or failed on its own (its own report carries the
    cause, so the consumer is cancelled rather than failed); False when the connection to it was lost.
    """

    message: str
    consequential: bool = True
