"""Keyed state with time-to-live on the heap backend (Flink ``TtlValueState``, ``TtlListState``, ...).

A TTL state stores its user values wrapped with their *last access timestamp* (ms of processing time, from the
backend's ``ttl_time_provider``): ``(value, ts)`` for value, reducing and aggregating state, a list of
``(element, ts)`` for list state, ``{user key: (value, ts)}`` for map state. A value is expired when
``ts + ttl <= now``. Reads remove expired values (list elements and map entries one by one); with
``ReturnExpiredIfNotCleanedUp`` that read still returns the expired value, after which it is gone.
``OnReadAndWrite`` refreshes the timestamp of what a read returns. Incremental cleanup checks a few further
keys of the state on every access (:class:`IncrementalCleanup`).

The TTL configuration is read duck-typed (``get_ttl()``, ``get_update_type().name``, ...), so this module
imports nothing of the user API. Source of the semantics: Flink ``AbstractTtlDecorator``, ``TtlListState``,
``TtlMapState``, ``TtlReduceFunction``, ``TtlAggregateFunction`` and "Working with State" (State TTL).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Optional

_MISSING = object()


@dataclass(frozen=True)
class TtlSettings:
    """A StateTtlConfig reduced to what the backend needs.

    Attributes:
        ttl_ms: time to live after the last access, ms.
        update_on_read: reads refresh the last access timestamp (``OnReadAndWrite``).
        return_expired: an expired value not yet removed is returned once (``ReturnExpiredIfNotCleanedUp``).
        cleanup_in_snapshot: expired values are left out of snapshots (``cleanup_full_snapshot``).
        incremental_size: keys checked per state access (0: none).
        incremental_per_record: also check keys for every record the operator processes.
    """

    ttl_ms: int
    update_on_read: bool = False
    return_expired: bool = False
    cleanup_in_snapshot: bool = False
    incremental_size: int = 0
    incremental_per_record: bool = False

    @staticmethod
    def from_config(config: Any) -> Optional[TtlSettings]:
        """The settings of a StateTtlConfig, or None when ``config`` is None or TTL is disabled."""
        if config is None or not config.is_enabled():
            return None
        strategies = config.get_cleanup_strategies()
        incremental = strategies.get_incremental_cleanup_strategy()
        return TtlSettings(
            ttl_ms=int(config.get_ttl().to_milliseconds()),
            update_on_read=config.get_update_type().name == "OnReadAndWrite",
            return_expired=config.get_state_visibility().name == "ReturnExpiredIfNotCleanedUp",
            cleanup_in_snapshot=strategies.in_full_snapshot(),
            incremental_size=incremental.get_cleanup_size() if incremental is not None else 0,
            incremental_per_record=bool(incremental is not None and incremental.run_cleanup_for_every_record()),
        )


def live_entry(kind: str, stored: Any, now: int, ttl_ms: int) -> Any:
    """What is left of ``stored`` (a TTL table value of state ``kind``) at ``now``: the value itself when
    nothing expired, a trimmed copy for list/map state, or ``_MISSING`` when everything expired."""
    if kind == "list":
        live = [e for e in stored if e[1] + ttl_ms > now]
        return live if live else _MISSING
    if kind == "map":
        live_map = {k: e for k, e in stored.items() if e[1] + ttl_ms > now}
        return live_map if live_map else _MISSING
    return stored if stored[1] + ttl_ms > now else _MISSING


def without_expired(kind: str, table: dict[Any, Any], now: int, ttl_ms: int) -> dict[Any, Any]:
    """A copy of ``table`` without its expired values (the full-snapshot cleanup)."""
    result = {}
    for key, stored in table.items():
        live = live_entry(kind, stored, now, ttl_ms)
        if live is not _MISSING:
            result[key] = live
    return result


class IncrementalCleanup:
    """Walks the keys of one table a few at a time and removes what has expired (Flink ``TtlIncrementalCleanup``)."""

    __slots__ = ("_keys", "_kind", "_position", "_settings", "_table", "_time")

    def __init__(self, kind: str, table: dict[Any, Any], settings: TtlSettings, time: Callable[[], int]) -> None:
        self._kind = kind
        self._table = table
        self._settings = settings
        self._time = time
        self._keys: list[Any] = []
        self._position = 0

    def step(self) -> None:
        """Check the next ``incremental_size`` keys."""
        size = self._settings.incremental_size
        if size <= 0 or not self._table:
            return
        now = self._time()
        table, kind, ttl_ms = self._table, self._kind, self._settings.ttl_ms
        for _ in range(size):
            if self._position >= len(self._keys):
                self._keys = list(table)
                self._position = 0
                if not self._keys:
                    return
            key = self._keys[self._position]
            self._position += 1
            stored = table.get(key, _MISSING)
            if stored is _MISSING:
                continue
            live = live_entry(kind, stored, now, ttl_ms)
            if live is _MISSING:
                del table[key]
            elif live is not stored:
                table[key] = live


class _TtlState:
    __slots__ = ("_backend", "_cleanup", "_now", "_return_expired", "_table", "_ttl", "_update_on_read")

    kind = ""

    def __init__(self, backend: Any, table: dict[Any, Any], settings: TtlSettings) -> None:
        self._backend = backend
        self._table = table
        self._ttl = settings.ttl_ms
        self._update_on_read = settings.update_on_read
        self._return_expired = settings.return_expired
        self._now: Callable[[], int] = lambda: backend.ttl_time_provider()
        self._cleanup = IncrementalCleanup(self.kind, table, settings, self._now) \
            if settings.incremental_size > 0 else None

    def _access(self) -> int:
        if self._cleanup is not None:
            self._cleanup.step()
        return self._now()

    def _checked(self, now: int) -> Any:
        """The current key's wrapped ``(value, ts)`` after the TTL check (Flink ``getWrappedWithTtlCheckAndUpdate``),
        or ``_MISSING``."""
        key = self._backend.current_key
        stored = self._table.get(key, _MISSING)
        if stored is _MISSING:
            return _MISSING
        if stored[1] + self._ttl <= now:
            del self._table[key]
            return stored if self._return_expired else _MISSING
        if self._update_on_read:
            self._table[key] = (stored[0], now)
        return stored

    def _unexpired_value(self, now: int) -> Any:
        """The current key's value for an update (Flink ``getUnexpired``): expired values count as absent unless
        they may still be returned."""
        stored = self._table.get(self._backend.current_key, _MISSING)
        if stored is _MISSING or (stored[1] + self._ttl <= now and not self._return_expired):
            return _MISSING
        return stored[0]

    def clear(self) -> None:
        self._access()
        self._table.pop(self._backend.current_key, None)


class TtlValueState(_TtlState):
    kind = "value"

    def value(self) -> Any:
        stored = self._checked(self._access())
        return None if stored is _MISSING else stored[0]

    def update(self, value: Any) -> None:
        now = self._access()
        if value is None:
            self._table.pop(self._backend.current_key, None)
        else:
            self._table[self._backend.current_key] = (value, now)


class TtlReducingState(_TtlState):
    kind = "reducing"
    __slots__ = ("_reduce",)

    def __init__(self, backend: Any, table: dict[Any, Any], settings: TtlSettings, reduce_function: Any) -> None:
        super().__init__(backend, table, settings)
        self._reduce = reduce_function.reduce

    def get(self) -> Any:
        stored = self._checked(self._access())
        return None if stored is _MISSING else stored[0]

    def add(self, value: Any) -> None:
        now = self._access()
        current = self._unexpired_value(now)
        result = value if current is _MISSING else self._reduce(current, value)
        self._table[self._backend.current_key] = (result, now)


class TtlAggregatingState(_TtlState):
    kind = "aggregating"
    __slots__ = ("_function",)

    def __init__(self, backend: Any, table: dict[Any, Any], settings: TtlSettings, agg_function: Any) -> None:
        super().__init__(backend, table, settings)
        self._function = agg_function

    def get(self) -> Any:
        stored = self._checked(self._access())
        return None if stored is _MISSING else self._function.get_result(stored[0])

    def add(self, value: Any) -> None:
        now = self._access()
        accumulator = self._unexpired_value(now)
        if accumulator is _MISSING:
            accumulator = self._function.create_accumulator()
        self._table[self._backend.current_key] = (self._function.add(value, accumulator), now)


class TtlListState(_TtlState):
    kind = "list"

    def get(self) -> list[Any]:
        now = self._access()
        key = self._backend.current_key
        entries = self._table.get(key)
        if not entries:
            return []
        ttl = self._ttl
        live = [e[0] for e in entries if e[1] + ttl > now]
        result = [e[0] for e in entries] if self._return_expired else live
        if not live:
            del self._table[key]
        elif self._update_on_read:
            self._table[key] = [(v, now) for v in live]
        return result

    def add(self, value: Any) -> None:
        if value is None:
            raise ValueError("You cannot add null to a ListState.")
        now = self._access()
        key = self._backend.current_key
        entries = self._table.get(key)
        if entries is None:
            self._table[key] = [(value, now)]
        else:
            entries.append((value, now))

    def add_all(self, values: list[Any]) -> None:
        if values is None:
            raise ValueError("List of values to add cannot be null.")
        if values:
            now = self._access()
            key = self._backend.current_key
            self._table.setdefault(key, []).extend((v, now) for v in values)

    def update(self, values: list[Any]) -> None:
        if values is None:
            raise ValueError("List of values to update cannot be null.")
        now = self._access()
        if values:
            self._table[self._backend.current_key] = [(v, now) for v in values]
        else:
            self._table.pop(self._backend.current_key, None)

    def __iter__(self) -> Any:
        return iter(self.get())


class TtlMapState(_TtlState):
    kind = "map"

    def _map(self) -> Optional[dict[Any, Any]]:
        return self._table.get(self._backend.current_key)

    def _drop(self, mapping: dict[Any, Any], user_key: Any) -> None:
        mapping.pop(user_key, None)
        if not mapping:
            self._table.pop(self._backend.current_key, None)

    def _checked_entry(self, mapping: dict[Any, Any], user_key: Any, now: int) -> Any:
        entry = mapping.get(user_key, _MISSING)
        if entry is _MISSING:
            return _MISSING
        if entry[1] + self._ttl <= now:
            self._drop(mapping, user_key)
            return entry if self._return_expired else _MISSING
        if self._update_on_read:
            mapping[user_key] = (entry[0], now)
        return entry

    def get(self, key: Any) -> Any:
        now = self._access()
        mapping = self._map()
        if mapping is None:
            return None
        entry = self._checked_entry(mapping, key, now)
        return None if entry is _MISSING else entry[0]

    def contains(self, key: Any) -> bool:
        now = self._access()
        mapping = self._map()
        return mapping is not None and self._checked_entry(mapping, key, now) is not _MISSING

    def put(self, key: Any, value: Any) -> None:
        now = self._access()
        self._table.setdefault(self._backend.current_key, {})[key] = (value, now)

    def put_all(self, dict_value: dict[Any, Any]) -> None:
        if dict_value:
            now = self._access()
            mapping = self._table.setdefault(self._backend.current_key, {})
            for k, v in dict_value.items():
                mapping[k] = (v, now)

    def remove(self, key: Any) -> None:
        self._access()
        mapping = self._map()
        if mapping is not None:
            self._drop(mapping, key)

    def items(self) -> Iterable[tuple[Any, Any]]:
        now = self._access()
        mapping = self._map()
        if mapping is None:
            return []
        result = []
        for user_key in list(mapping):
            entry = self._checked_entry(mapping, user_key, now)
            if entry is not _MISSING:
                result.append((user_key, entry[0]))
        return result

    def keys(self) -> Iterable[Any]:
        return [k for k, _ in self.items()]

    def values(self) -> Iterable[Any]:
        return [v for _, v in self.items()]

    def is_empty(self) -> bool:
        return not self.items()

    def __getitem__(self, key: Any) -> Any:
        return self.get(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.put(key, value)

    def __delitem__(self, key: Any) -> None:
        self.remove(key)

    def __contains__(self, key: Any) -> bool:
        return self.contains(key)

    def __iter__(self) -> Any:
        return iter(self.keys())


TTL_STATES: dict[str, type[_TtlState]] = {
    "value": TtlValueState, "list": TtlListState, "map": TtlMapState,
    "reducing": TtlReducingState, "aggregating": TtlAggregatingState,
}
