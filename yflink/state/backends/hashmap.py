"""The heap keyed state backend (Flink ``HashMapStateBackend``): state as Python dicts.

Layout: one *table* per state name, ``{key: value}`` (a list for list state, a dict for map state, the
accumulator for aggregating state). The backend holds the *current key*; a state handle reads and writes
``table[current_key]``. Tables are plain dicts reachable through :meth:`HashMapKeyedStateBackend.table`, so a
fast operator (reduce) may use them directly, and :meth:`snapshot_by_key_group` can split them by key group
(Flink's unit of redistribution, :mod:`yflink.state.key_groups`).

State descriptors are duck-typed (``name``, ``state_kind`` and, for reducing/aggregating state,
``get_reduce_function()``/``get_agg_function()``), so this module imports nothing of the user API. A descriptor
with an enabled ``StateTtlConfig`` gets a TTL handle (:mod:`yflink.state.backends.ttl`) whose processing time
comes from :attr:`HashMapKeyedStateBackend.ttl_time_provider` (a test sets a controlled clock there).

:meth:`HashMapKeyedStateBackend.snapshot` copies every table into a
:class:`~yflink.state.snapshot.KeyedStateSnapshot` by key group (the checkpoint's synchronous part, on the task's
loop: immutable values -- numbers, strings, bytes, None, tuples and frozensets of them -- are shared with the
snapshot, the rest deep-copied, as Flink's ``CopyOnWriteStateTable`` copies only what may still change; each key's
key group is remembered from the previous snapshot); :meth:`HashMapKeyedStateBackend.restore` loads
the key groups of this subtask's range from the snapshots of any number of old subtasks.

Source of the semantics: Flink ``HeapKeyedStateBackend`` and "Working with State".
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable
from typing import Any, Optional

from yflink.state.backends.ttl import TTL_STATES, TtlSettings, without_expired
from yflink.state.key_groups import assign_to_key_group
from yflink.state.snapshot import KeyedStateSnapshot, keyed_state_for

_MISSING = object()
_ATOMIC = frozenset({int, float, complex, bool, str, bytes, type(None)})


def _immutable(value: Any) -> bool:
    """Whether ``value`` can never change: an atomic value, or a tuple/frozenset of such values."""
    kind = type(value)
    if kind in _ATOMIC:
        return True
    if kind is tuple or kind is frozenset:
        for item in value:
            if type(item) not in _ATOMIC and not _immutable(item):
                return False
        return True
    return False


class HashMapValueState:
    """ValueState over one table."""

    __slots__ = ("_backend", "_table")

    def __init__(self, backend: HashMapKeyedStateBackend, table: dict[Any, Any]) -> None:
        self._backend = backend
        self._table = table

    def value(self) -> Any:
        return self._table.get(self._backend.current_key)

    def update(self, value: Any) -> None:
        if value is None:
            self._table.pop(self._backend.current_key, None)
        else:
            self._table[self._backend.current_key] = value

    def clear(self) -> None:
        self._table.pop(self._backend.current_key, None)


class HashMapListState:
    """ListState over one table of lists."""

    __slots__ = ("_backend", "_table")

    def __init__(self, backend: HashMapKeyedStateBackend, table: dict[Any, Any]) -> None:
        self._backend = backend
        self._table = table

    def get(self) -> list[Any]:
        return self._table.get(self._backend.current_key) or []

    def add(self, value: Any) -> None:
        if value is None:
            raise ValueError("You cannot add null to a ListState.")
        key = self._backend.current_key
        values = self._table.get(key)
        if values is None:
            self._table[key] = [value]
        else:
            values.append(value)

    def add_all(self, values: list[Any]) -> None:
        if values:
            key = self._backend.current_key
            current = self._table.get(key)
            if current is None:
                self._table[key] = list(values)
            else:
                current.extend(values)

    def update(self, values: list[Any]) -> None:
        if values:
            self._table[self._backend.current_key] = list(values)
        else:
            self.clear()

    def clear(self) -> None:
        self._table.pop(self._backend.current_key, None)

    def __iter__(self) -> Any:
        return iter(self.get())


class HashMapMapState:
    """MapState over one table of dicts."""

    __slots__ = ("_backend", "_table")

    def __init__(self, backend: HashMapKeyedStateBackend, table: dict[Any, Any]) -> None:
        self._backend = backend
        self._table = table

    def _map(self) -> dict[Any, Any]:
        return self._table.get(self._backend.current_key) or {}

    def _map_for_write(self) -> dict[Any, Any]:
        key = self._backend.current_key
        mapping = self._table.get(key)
        if mapping is None:
            mapping = self._table[key] = {}
        return mapping

    def get(self, key: Any) -> Any:
        return self._map().get(key)

    def put(self, key: Any, value: Any) -> None:
        self._map_for_write()[key] = value

    def put_all(self, dict_value: dict[Any, Any]) -> None:
        if dict_value:
            self._map_for_write().update(dict_value)

    def remove(self, key: Any) -> None:
        mapping = self._table.get(self._backend.current_key)
        if mapping is not None:
            mapping.pop(key, None)
            if not mapping:
                del self._table[self._backend.current_key]

    def contains(self, key: Any) -> bool:
        return key in self._map()

    def items(self) -> Iterable[tuple[Any, Any]]:
        return list(self._map().items())

    def keys(self) -> Iterable[Any]:
        return list(self._map().keys())

    def values(self) -> Iterable[Any]:
        return list(self._map().values())

    def is_empty(self) -> bool:
        return not self._map()

    def clear(self) -> None:
        self._table.pop(self._backend.current_key, None)

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


class HashMapReducingState:
    """ReducingState: ``add`` combines with the descriptor's ReduceFunction."""

    __slots__ = ("_backend", "_reduce", "_table")

    def __init__(self, backend: HashMapKeyedStateBackend, table: dict[Any, Any], reduce_function: Any) -> None:
        self._backend = backend
        self._table = table
        self._reduce = reduce_function.reduce

    def get(self) -> Any:
        return self._table.get(self._backend.current_key)

    def add(self, value: Any) -> None:
        key = self._backend.current_key
        current = self._table.get(key, _MISSING)
        self._table[key] = value if current is _MISSING else self._reduce(current, value)

    def clear(self) -> None:
        self._table.pop(self._backend.current_key, None)


class HashMapAggregatingState:
    """AggregatingState: ``add`` folds into the AggregateFunction's accumulator."""

    __slots__ = ("_backend", "_function", "_table")

    def __init__(self, backend: HashMapKeyedStateBackend, table: dict[Any, Any], agg_function: Any) -> None:
        self._backend = backend
        self._table = table
        self._function = agg_function

    def get(self) -> Any:
        accumulator = self._table.get(self._backend.current_key, _MISSING)
        return None if accumulator is _MISSING else self._function.get_result(accumulator)

    def add(self, value: Any) -> None:
        key = self._backend.current_key
        accumulator = self._table.get(key, _MISSING)
        if accumulator is _MISSING:
            accumulator = self._function.create_accumulator()
        self._table[key] = self._function.add(value, accumulator)

    def clear(self) -> None:
        self._table.pop(self._backend.current_key, None)


class HashMapKeyedStateBackend:
    """Keyed state of one operator subtask, held in dicts.

    Args:
        max_parallelism: the operator's number of key groups (for :meth:`snapshot_by_key_group`).
        key_group_range: the key groups this subtask owns (informational until restore arrives).

    Attributes:
        current_key: the key of the record being processed; set through :meth:`set_current_key`.
        ttl_time_provider: the processing time (ms) state TTL measures against; the wall clock by default.
    """

    def __init__(self, max_parallelism: int = 128, key_group_range: Optional[range] = None) -> None:
        self.max_parallelism = max_parallelism
        self.key_group_range = key_group_range if key_group_range is not None else range(max_parallelism)
        self.current_key: Any = None
        self.ttl_time_provider: Callable[[], int] = lambda: time.time_ns() // 1_000_000
        self._tables: dict[str, dict[Any, Any]] = {}
        self._kinds: dict[str, str] = {}
        self._handles: dict[str, Any] = {}
        self._ttl: dict[str, TtlSettings] = {}  # states with TTL: their settings
        self._ttl_restored: set[str] = set()  # restored states whose values carry TTL timestamps
        self._per_record_cleanups: list[Callable[[], None]] = []
        self._snapshot_groups: dict[Any, int] = {}  # key -> key group, as of the last snapshot

    # --- current key ----------------------------------------------------------------------------------
    def set_current_key(self, key: Any) -> None:
        self.current_key = key

    def _set_current_key_with_cleanup(self, key: Any) -> None:
        """set_current_key once a TTL state asks for cleanup on every record (``cleanup_incrementally(n, True)``)."""
        self.current_key = key
        for step in self._per_record_cleanups:
            step()

    def clear_key(self, key: Any) -> None:
        """Remove every state of ``key`` (BATCH execution discards a key's state once the key is done)."""
        for table in self._tables.values():
            table.pop(key, None)

    def get_current_key(self) -> Any:
        return self.current_key

    # --- state handles --------------------------------------------------------------------------------
    def table(self, name: str, kind: str = "value") -> dict[Any, Any]:
        """The raw ``{key: value}`` table of state ``name`` (created empty on first use).

        Raises:
            ValueError: ``name`` is already used by state of another kind.
        """
        existing = self._kinds.get(name)
        if existing is None:
            self._kinds[name] = kind
            self._tables[name] = {}
        elif existing != kind:
            raise ValueError(f"State '{name}' is already registered as {existing} state, not {kind} state; "
                             "use a different name for each piece of state")
        return self._tables[name]

    def get_state(self, descriptor: Any) -> Any:
        """The handle for ``descriptor`` (the same handle for the same name).

        Raises:
            ValueError: an unknown descriptor kind, or a name reused for another kind of state.
        """
        name, kind = descriptor.name, descriptor.state_kind
        handle = self._handles.get(name)
        if handle is not None and self._kinds.get(name) == kind:
            return handle
        table = self.table(name, kind)
        ttl = TtlSettings.from_config(getattr(descriptor, "_ttl_config", None))
        stored_with_ttl = name in self._ttl or name in self._ttl_restored
        if (ttl is not None) != stored_with_ttl and (table or name in self._ttl):
            raise ValueError(f"State '{name}' was created {'without' if ttl is not None else 'with'} time-to-live; "
                             "enabling or disabling TTL on existing state is not supported (as in Flink)")
        if ttl is not None:
            if kind not in TTL_STATES:
                raise ValueError(f"Unknown state kind {kind!r} of descriptor {descriptor!r}")
            self._ttl[name] = ttl
            self._ttl_restored.discard(name)
            args = (descriptor.get_reduce_function(),) if kind == "reducing" else \
                (descriptor.get_agg_function(),) if kind == "aggregating" else ()
            handle = TTL_STATES[kind](self, table, ttl, *args)
            if ttl.incremental_per_record and handle._cleanup is not None:
                self._per_record_cleanups.append(handle._cleanup.step)
                self.set_current_key = self._set_current_key_with_cleanup  # type: ignore[method-assign]
        elif kind == "value":
            handle = HashMapValueState(self, table)
        elif kind == "list":
            handle = HashMapListState(self, table)
        elif kind == "map":
            handle = HashMapMapState(self, table)
        elif kind == "reducing":
            handle = HashMapReducingState(self, table, descriptor.get_reduce_function())
        elif kind == "aggregating":
            handle = HashMapAggregatingState(self, table, descriptor.get_agg_function())
        else:
            raise ValueError(f"Unknown state kind {kind!r} of descriptor {descriptor!r}")
        self._handles[name] = handle
        return handle

    # --- inspection and snapshots ---------------------------------------------------------------------
    def state_names(self) -> list[str]:
        return list(self._tables)

    def tables(self) -> dict[str, dict[Any, Any]]:
        """Every table by state name (live dicts, not copies)."""
        return self._tables

    def keys(self, name: str) -> list[Any]:
        """The keys that have a value in state ``name``."""
        return list(self._tables.get(name, {}))

    def key_group_of(self, key: Any) -> int:
        return assign_to_key_group(key, self.max_parallelism)

    def snapshot_by_key_group(self) -> dict[int, dict[str, dict[Any, Any]]]:
        """``{key group: {state name: {key: value}}}``: the unit in which keyed state is redistributed."""
        result: dict[int, dict[str, dict[Any, Any]]] = {}
        groups: dict[Any, int] = {}
        for name, table in self._tables.items():
            for key, value in table.items():
                group = groups.get(key)
                if group is None:
                    group = groups[key] = assign_to_key_group(key, self.max_parallelism)
                result.setdefault(group, {}).setdefault(name, {})[key] = value
        return result

    def snapshot(self) -> KeyedStateSnapshot:
        """A copy of every table by key group; TTL states configured with ``cleanup_full_snapshot`` leave their
        expired values out."""
        now = self.ttl_time_provider()
        result = KeyedStateSnapshot(max_parallelism=self.max_parallelism, kinds=dict(self._kinds),
                                    ttl_states=set(self._ttl) | self._ttl_restored)
        groups: dict[Any, int] = {}
        known, max_parallelism, atomic = self._snapshot_groups, self.max_parallelism, _ATOMIC
        by_group = result.groups
        for name, table in self._tables.items():
            ttl = self._ttl.get(name)
            if ttl is not None and ttl.cleanup_in_snapshot:
                table = without_expired(self._kinds[name], table, now, ttl.ttl_ms)
            if not all(type(key) in atomic or _immutable(key) for key in table):
                table = copy.deepcopy(table)  # a key that may change: copy keys and values together, as before
            else:
                memo: dict[int, Any] = {}  # one memo: values sharing an object still share its copy
                table = {key: value if type(value) in atomic or _immutable(value) else copy.deepcopy(value, memo)
                         for key, value in table.items()}
            for key, value in table.items():
                group = groups.get(key)
                if group is None:
                    group = known.get(key)
                    if group is None:
                        group = assign_to_key_group(key, max_parallelism)
                    groups[key] = group
                states = by_group.get(group)
                if states is None:
                    states = by_group[group] = {}
                target = states.get(name)
                if target is None:
                    target = states[name] = {}
                target[key] = value
        self._snapshot_groups = groups
        return result

    def restore(self, snapshots: list[KeyedStateSnapshot]) -> None:
        """Load the key groups of this subtask's range from ``snapshots`` (taken by any number of subtasks).
        Call before the first access; tables already handed out are filled in place.

        Raises:
            ValueError: the snapshots disagree on the max parallelism, or it differs from this backend's.
        """
        if not snapshots:
            return
        merged = keyed_state_for(snapshots, self.key_group_range)
        if merged.max_parallelism != self.max_parallelism:
            raise ValueError(f"Cannot restore keyed state taken with max parallelism {merged.max_parallelism} "
                             f"into an operator with max parallelism {self.max_parallelism}")
        for name, kind in merged.kinds.items():
            self.table(name, kind)
        self._ttl_restored |= merged.ttl_states - set(self._ttl)
        for states in merged.groups.values():
            for name, table in states.items():
                self._tables[name].update(table)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}: {len(table)} keys" for name, table in self._tables.items())
        return f"HashMapKeyedStateBackend({sizes})"
