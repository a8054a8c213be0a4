"""Durations, the deprecated ``Time`` and ``Instant`` (PyFlink ``pyflink.common.time``).

PyFlink wraps ``java.time.Duration``; yflink keeps the length in **nanoseconds** and gives it in
milliseconds through :meth:`Duration.to_milliseconds`, which is what every yflink setting uses.
"""

from __future__ import annotations

__all__ = ["Duration", "Instant", "Time"]

_NANOS_PER_MILLI = 1_000_000


class Duration:
    """An amount of time, such as 34.5 seconds (PyFlink ``Duration``; Java ``java.time.Duration``)."""

    __slots__ = ("_nanos",)

    def __init__(self, nanos: int) -> None:
        self._nanos = int(nanos)

    @staticmethod
    def of_days(days: int) -> Duration:
        return Duration(days * 86_400 * 10**9)

    @staticmethod
    def of_hours(hours: int) -> Duration:
        return Duration(hours * 3_600 * 10**9)

    @staticmethod
    def of_minutes(minutes: int) -> Duration:
        return Duration(minutes * 60 * 10**9)

    @staticmethod
    def of_seconds(seconds: int) -> Duration:
        return Duration(round(seconds * 10**9))

    @staticmethod
    def of_millis(millis: int) -> Duration:
        return Duration(round(millis * _NANOS_PER_MILLI))

    @staticmethod
    def of_nanos(nanos: int) -> Duration:
        return Duration(nanos)

    def to_milliseconds(self) -> int:
        """The length in ms (rounded down, like Java's ``toMillis``)."""
        return self._nanos // _NANOS_PER_MILLI

    def to_nanos(self) -> int:
        return self._nanos

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Duration) and other._nanos == self._nanos

    def __hash__(self) -> int:
        return hash(self._nanos)

    def __repr__(self) -> str:
        return f"Duration({self.to_milliseconds()} ms)"


class Time:
    """A length of time in ms (PyFlink 1.x ``Time``, deprecated in Flink in favour of Duration)."""

    __slots__ = ("_milliseconds",)

    def __init__(self, milliseconds: int) -> None:
        self._milliseconds = int(milliseconds)

    def to_milliseconds(self) -> int:
        return self._milliseconds

    @staticmethod
    def milliseconds(milliseconds: int) -> Time:
        return Time(milliseconds)

    @staticmethod
    def seconds(seconds: int) -> Time:
        return Time(seconds * 1000)

    @staticmethod
    def minutes(minutes: int) -> Time:
        return Time(minutes * 60_000)

    @staticmethod
    def hours(hours: int) -> Time:
        return Time(hours * 3_600_000)

    @staticmethod
    def days(days: int) -> Time:
        return Time(days * 86_400_000)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Time) and other._milliseconds == self._milliseconds

    def __hash__(self) -> int:
        return hash(self._milliseconds)

    def __repr__(self) -> str:
        return f"Time({self._milliseconds} ms)"


class Instant:
    """A point on the time line, seconds and nanoseconds since the epoch (PyFlink ``Instant``)."""

    __slots__ = ("seconds", "nanos")

    def __init__(self, seconds: int, nanos: int) -> None:
        self.seconds = int(seconds)
        self.nanos = int(nanos)

    @staticmethod
    def of_epoch_milli(epoch_milli: int) -> Instant:
        secs, millis = divmod(int(epoch_milli), 1000)
        return Instant(secs, millis * _NANOS_PER_MILLI)

    def to_epoch_milli(self) -> int:
        return self.seconds * 1000 + self.nanos // _NANOS_PER_MILLI

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Instant) and (other.seconds, other.nanos) == (self.seconds, self.nanos)

    def __hash__(self) -> int:
        return hash((self.seconds, self.nanos))

    def __repr__(self) -> str:
        return f"Instant<{self.seconds}, {self.nanos}>"
