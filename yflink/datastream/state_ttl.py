"""StateTtlConfig: time-to-live of keyed state (PyFlink ``pyflink.datastream.state.StateTtlConfig``).

::

    ttl = StateTtlConfig.new_builder(Duration.of_seconds(10)) \\
        .set_update_type(StateTtlConfig.UpdateType.OnReadAndWrite) \\
        .set_state_visibility(StateTtlConfig.StateVisibility.NeverReturnExpired) \\
        .cleanup_full_snapshot() \\
        .build()
    descriptor.enable_time_to_live(ttl)

Semantics (Flink documentation, "Working with State", State Time-To-Live): a value's *last access timestamp*
is set when it is created and written (``OnCreateAndWrite``), and also when it is read (``OnReadAndWrite``);
it expires when processing time reaches ``last access + ttl``. An expired value is removed when it is read;
``NeverReturnExpired`` hides it, ``ReturnExpiredIfNotCleanedUp`` returns it that one last time. List elements
and map entries expire one by one. ``cleanup_full_snapshot`` leaves expired values out of snapshots;
``cleanup_incrementally(n, per_record)`` checks ``n`` further keys on each state access (and per record).
Only processing time is supported, as in Flink. The TTL is a ``Duration`` (Flink 2) or a ``Time`` (1.x).
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Optional

__all__ = ["StateTtlConfig"]


def _ttl_millis(ttl: Any) -> int:
    to_ms = getattr(ttl, "to_milliseconds", None)
    if to_ms is None:
        raise TypeError(f"The TTL must be a Duration or a Time, got {type(ttl).__name__}")
    millis = int(to_ms())
    if millis <= 0:
        raise ValueError(f"The TTL must be positive, got {millis} ms")
    return millis


class StateTtlConfig:
    """How long keyed state lives after its last access; build it with :meth:`new_builder`."""

    class UpdateType(Enum):
        """When the last access timestamp (which prolongs the TTL) is updated."""

        Disabled = 0
        OnCreateAndWrite = 1
        OnReadAndWrite = 2

    class StateVisibility(Enum):
        """Whether an expired value that is still stored may be returned."""

        ReturnExpiredIfNotCleanedUp = 0
        NeverReturnExpired = 1

    class TtlTimeCharacteristic(Enum):
        """The time scale of the TTL; Flink supports processing time only."""

        ProcessingTime = 0

    class CleanupStrategies:
        """Which cleanups run besides the removal of expired values on read."""

        class Strategies(Enum):
            FULL_STATE_SCAN_SNAPSHOT = 0
            INCREMENTAL_CLEANUP = 1
            ROCKSDB_COMPACTION_FILTER = 2

        class CleanupStrategy:
            """Base of the cleanup strategy settings."""

        class EmptyCleanupStrategy(CleanupStrategy):
            pass

        class IncrementalCleanupStrategy(CleanupStrategy):
            """Check ``cleanup_size`` keys on every state access (and per record when asked)."""

            def __init__(self, cleanup_size: int, run_cleanup_for_every_record: bool) -> None:
                if cleanup_size < 0:
                    raise ValueError(f"cleanup_size must not be negative, got {cleanup_size}")
                self._cleanup_size = int(cleanup_size)
                self._run_cleanup_for_every_record = bool(run_cleanup_for_every_record)

            def get_cleanup_size(self) -> int:
                return self._cleanup_size

            def run_cleanup_for_every_record(self) -> bool:
                return self._run_cleanup_for_every_record

        class RocksdbCompactFilterCleanupStrategy(CleanupStrategy):
            """Kept for API compatibility; yflink's heap backend has no compaction."""

            def __init__(self, query_time_after_num_entries: int, periodic_compaction_time: Any = None) -> None:
                self._query_time_after_num_entries = query_time_after_num_entries
                self._periodic_compaction_time = periodic_compaction_time

            def get_query_time_after_num_entries(self) -> int:
                return self._query_time_after_num_entries

            def get_periodic_compaction_time(self) -> Any:
                return self._periodic_compaction_time

        EMPTY_STRATEGY = EmptyCleanupStrategy()

        def __init__(self, strategies: dict[Any, Any], is_cleanup_in_background: bool) -> None:
            self._strategies = dict(strategies)
            self._is_cleanup_in_background = is_cleanup_in_background

        def is_cleanup_in_background(self) -> bool:
            return self._is_cleanup_in_background

        def in_full_snapshot(self) -> bool:
            return StateTtlConfig.CleanupStrategies.Strategies.FULL_STATE_SCAN_SNAPSHOT in self._strategies

        def get_incremental_cleanup_strategy(self) \
                -> Optional[StateTtlConfig.CleanupStrategies.IncrementalCleanupStrategy]:
            """The incremental cleanup; by default (cleanup in background) 5 keys per access, as in Flink."""
            cls = StateTtlConfig.CleanupStrategies
            default = cls.IncrementalCleanupStrategy(5, False) if self._is_cleanup_in_background else None
            strategy: Any = self._strategies.get(cls.Strategies.INCREMENTAL_CLEANUP, default)
            return strategy  # type: ignore[no-any-return]

        def get_rocksdb_compact_filter_cleanup_strategy(self) -> Any:
            cls = StateTtlConfig.CleanupStrategies
            default = cls.RocksdbCompactFilterCleanupStrategy(1000) if self._is_cleanup_in_background else None
            return self._strategies.get(cls.Strategies.ROCKSDB_COMPACTION_FILTER, default)

    def __init__(self, update_type: StateTtlConfig.UpdateType, state_visibility: StateTtlConfig.StateVisibility,
                 ttl_time_characteristic: StateTtlConfig.TtlTimeCharacteristic, ttl: Any,
                 cleanup_strategies: StateTtlConfig.CleanupStrategies) -> None:
        self._update_type = update_type
        self._state_visibility = state_visibility
        self._ttl_time_characteristic = ttl_time_characteristic
        self._ttl = ttl
        self._ttl_ms = _ttl_millis(ttl)
        self._cleanup_strategies = cleanup_strategies

    @staticmethod
    def new_builder(ttl: Any) -> StateTtlConfig.Builder:
        """A builder for a TTL of ``ttl`` (a Duration or Time): OnCreateAndWrite, NeverReturnExpired."""
        return StateTtlConfig.Builder(ttl)

    def get_update_type(self) -> StateTtlConfig.UpdateType:
        return self._update_type

    def get_state_visibility(self) -> StateTtlConfig.StateVisibility:
        return self._state_visibility

    def get_ttl(self) -> Any:
        return self._ttl

    def get_ttl_millis(self) -> int:
        """The TTL in ms (yflink helper)."""
        return self._ttl_ms

    def get_ttl_time_characteristic(self) -> StateTtlConfig.TtlTimeCharacteristic:
        return self._ttl_time_characteristic

    def is_enabled(self) -> bool:
        return self._update_type is not StateTtlConfig.UpdateType.Disabled

    def get_cleanup_strategies(self) -> StateTtlConfig.CleanupStrategies:
        return self._cleanup_strategies

    def __repr__(self) -> str:
        return (f"StateTtlConfig<update_type={self._update_type}, state_visibility={self._state_visibility}, "
                f"ttl_time_characteristic={self._ttl_time_characteristic}, ttl={self._ttl}>")

    class Builder:
        """Builds a :class:`StateTtlConfig`; every setter returns the builder."""

        def __init__(self, ttl: Any) -> None:
            _ttl_millis(ttl)
            self._ttl = ttl
            self._update_type = StateTtlConfig.UpdateType.OnCreateAndWrite
            self._state_visibility = StateTtlConfig.StateVisibility.NeverReturnExpired
            self._ttl_time_characteristic = StateTtlConfig.TtlTimeCharacteristic.ProcessingTime
            self._is_cleanup_in_background = True
            self._strategies: dict[Any, Any] = {}

        def set_update_type(self, update_type: StateTtlConfig.UpdateType) -> StateTtlConfig.Builder:
            self._update_type = update_type
            return self

        def update_ttl_on_create_and_write(self) -> StateTtlConfig.Builder:
            return self.set_update_type(StateTtlConfig.UpdateType.OnCreateAndWrite)

        def update_ttl_on_read_and_write(self) -> StateTtlConfig.Builder:
            return self.set_update_type(StateTtlConfig.UpdateType.OnReadAndWrite)

        def set_state_visibility(self, state_visibility: StateTtlConfig.StateVisibility) -> StateTtlConfig.Builder:
            self._state_visibility = state_visibility
            return self

        def return_expired_if_not_cleaned_up(self) -> StateTtlConfig.Builder:
            return self.set_state_visibility(StateTtlConfig.StateVisibility.ReturnExpiredIfNotCleanedUp)

        def never_return_expired(self) -> StateTtlConfig.Builder:
            return self.set_state_visibility(StateTtlConfig.StateVisibility.NeverReturnExpired)

        def set_ttl_time_characteristic(self, ttl_time_characteristic: StateTtlConfig.TtlTimeCharacteristic) \
                -> StateTtlConfig.Builder:
            self._ttl_time_characteristic = ttl_time_characteristic
            return self

        def use_processing_time(self) -> StateTtlConfig.Builder:
            return self.set_ttl_time_characteristic(StateTtlConfig.TtlTimeCharacteristic.ProcessingTime)

        def cleanup_full_snapshot(self) -> StateTtlConfig.Builder:
            """Leave expired values out of full snapshots."""
            strategies = StateTtlConfig.CleanupStrategies
            self._strategies[strategies.Strategies.FULL_STATE_SCAN_SNAPSHOT] = strategies.EMPTY_STRATEGY
            return self

        def cleanup_incrementally(self, cleanup_size: int, run_cleanup_for_every_record: bool) \
                -> StateTtlConfig.Builder:
            """On every access to the state check ``cleanup_size`` more keys for expiry (and on every record
            the operator processes when ``run_cleanup_for_every_record``)."""
            strategies = StateTtlConfig.CleanupStrategies
            self._strategies[strategies.Strategies.INCREMENTAL_CLEANUP] = strategies.IncrementalCleanupStrategy(
                cleanup_size, run_cleanup_for_every_record)
            return self

        def cleanup_in_rocksdb_compact_filter(self, query_time_after_num_entries: int,
                                              periodic_compaction_time: Any = None) -> StateTtlConfig.Builder:
            """Accepted for compatibility; has no effect on the heap backend (as in Flink)."""
            strategies = StateTtlConfig.CleanupStrategies
            self._strategies[strategies.Strategies.ROCKSDB_COMPACTION_FILTER] = \
                strategies.RocksdbCompactFilterCleanupStrategy(query_time_after_num_entries, periodic_compaction_time)
            return self

        def disable_cleanup_in_background(self) -> StateTtlConfig.Builder:
            """No default incremental cleanup; expired values are still removed when read."""
            self._is_cleanup_in_background = False
            return self

        def set_ttl(self, ttl: Any) -> StateTtlConfig.Builder:
            _ttl_millis(ttl)
            self._ttl = ttl
            return self

        def build(self) -> StateTtlConfig:
            return StateTtlConfig(self._update_type, self._state_visibility, self._ttl_time_characteristic, self._ttl,
                                  StateTtlConfig.CleanupStrategies(self._strategies, self._is_cleanup_in_background))
