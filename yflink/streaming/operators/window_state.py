"""Keyed state with a namespace: per-window state of triggers and process window functions.

A window operator's state is addressed by key *and* window (Flink: the namespace). Tables hold
``{key: {window: value}}``, so the keyed backend still snapshots and redistributes them by key group. A
handle reads the namespace from its *scope* (the trigger or process-window context, attribute ``current_window``)
at every access, so one handle serves every window. Merging windows merge the state of several namespaces
into one (:meth:`NamespacedState.merge_namespaces`): lists concatenate, reducing state reduces, aggregating
state merges accumulators; value and map state cannot merge.

Table names start with ``window/`` so they never collide with the operator's per-key (global) state.
State TTL is not applied to per-window state (windows expire by their own cleanup timers).

Source of the semantics: Flink ``InternalMergingState.mergeNamespaces`` / ``AbstractHeapMergingState`` and
``WindowOperator.WindowContext`` (windowState / globalState).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from yflink.datastream.functions import KeyedStateStore
from yflink.datastream.state import AggregatingState, ListState, MapState, ReducingState, ValueState

_MISSING = object()
TABLE_PREFIX = "window/"


class NamespacedState:
    """Base of the handles: the value of the current key in the scope's window."""

    __slots__ = ("_backend", "_scope", "_table")
    mergeable = False

    def __init__(self, backend: Any, table: dict[Any, dict[Any, Any]], scope: Any) -> None:
        self._backend = backend
        self._table = table
        self._scope = scope

    def _get(self) -> Any:
        per_key = self._table.get(self._backend.current_key)
        return _MISSING if per_key is None else per_key.get(self._scope.current_window, _MISSING)

    def _put(self, value: Any) -> None:
        key = self._backend.current_key
        per_key = self._table.get(key)
        if per_key is None:
            per_key = self._table[key] = {}
        per_key[self._scope.current_window] = value

    def clear(self) -> None:
        key = self._backend.current_key
        per_key = self._table.get(key)
        if per_key is not None:
            per_key.pop(self._scope.current_window, None)
            if not per_key:
                del self._table[key]

    def _combine(self, a: Any, b: Any) -> Any:
        raise ValueError("The given state descriptor does not refer to a mergeable state (MergingState)")

    def merge_namespaces(self, target: Any, sources: Iterable[Any]) -> None:
        """Move the current key's state of ``sources`` into ``target`` (Flink ``mergeNamespaces``).

        Raises:
            ValueError: this kind of state cannot be merged.
        """
        if not self.mergeable:
            self._combine(None, None)
        key = self._backend.current_key
        per_key = self._table.get(key)
        if per_key is None:
            return
        merged: Any = _MISSING
        for source in sources:
            value = per_key.pop(source, _MISSING)
            if value is not _MISSING:
                merged = value if merged is _MISSING else self._combine(merged, value)
        if merged is not _MISSING:
            previous = per_key.get(target, _MISSING)
            per_key[target] = merged if previous is _MISSING else self._combine(previous, merged)
        if not per_key:
            del self._table[key]


class NamespacedValueState(NamespacedState, ValueState[Any]):
    __slots__ = ()

    def value(self) -> Any:
        value = self._get()
        return None if value is _MISSING else value

    def update(self, value: Any) -> None:
        if value is None:
            self.clear()
        else:
            self._put(value)


class NamespacedListState(NamespacedState, ListState[Any]):
    __slots__ = ()
    mergeable = True

    def get(self) -> list[Any]:
        value = self._get()
        return [] if value is _MISSING else value  # type: ignore[no-any-return]

    def add(self, value: Any) -> None:
        if value is None:
            raise ValueError("You cannot add null to a ListState.")
        current = self._get()
        if current is _MISSING:
            self._put([value])
        else:
            current.append(value)

    def add_all(self, values: list[Any]) -> None:
        for value in values:
            self.add(value)

    def update(self, values: list[Any]) -> None:
        if values:
            self._put(list(values))
        else:
            self.clear()

    def _combine(self, a: Any, b: Any) -> Any:
        return a + b

    def __iter__(self) -> Iterator[Any]:
        return iter(self.get())


class NamespacedMapState(NamespacedState, MapState[Any, Any]):
    __slots__ = ()

    def _map(self) -> dict[Any, Any]:
        value = self._get()
        return {} if value is _MISSING else value  # type: ignore[no-any-return]

    def _map_for_write(self) -> dict[Any, Any]:
        value = self._get()
        if value is _MISSING:
            value = {}
            self._put(value)
        return value  # type: ignore[no-any-return]

    def get(self, key: Any) -> Any:
        return self._map().get(key)

    def put(self, key: Any, value: Any) -> None:
        self._map_for_write()[key] = value

    def put_all(self, dict_value: dict[Any, Any]) -> None:
        self._map_for_write().update(dict_value)

    def remove(self, key: Any) -> None:
        mapping = self._map()
        mapping.pop(key, None)
        if not mapping:
            self.clear()

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


class NamespacedReducingState(NamespacedState, ReducingState[Any]):
    __slots__ = ("_reduce",)
    mergeable = True

    def __init__(self, backend: Any, table: dict[Any, dict[Any, Any]], scope: Any, reduce_function: Any) -> None:
        super().__init__(backend, table, scope)
        self._reduce = reduce_function.reduce

    def get(self) -> Any:
        value = self._get()
        return None if value is _MISSING else value

    def add(self, value: Any) -> None:
        current = self._get()
        self._put(value if current is _MISSING else self._reduce(current, value))

    def _combine(self, a: Any, b: Any) -> Any:
        return self._reduce(a, b)


class NamespacedAggregatingState(NamespacedState, AggregatingState[Any, Any]):
    __slots__ = ("_function",)
    mergeable = True

    def __init__(self, backend: Any, table: dict[Any, dict[Any, Any]], scope: Any, agg_function: Any) -> None:
        super().__init__(backend, table, scope)
        self._function = agg_function

    def get(self) -> Any:
        accumulator = self._get()
        return None if accumulator is _MISSING else self._function.get_result(accumulator)

    def add(self, value: Any) -> None:
        accumulator = self._get()
        if accumulator is _MISSING:
            accumulator = self._function.create_accumulator()
        self._put(self._function.add(value, accumulator))

    def _combine(self, a: Any, b: Any) -> Any:
        return self._function.merge(a, b)


class WindowStateRegistry:
    """The per-window state tables of one operator and the handles over them (one per scope and name).

    Args:
        backend: the operator's keyed state backend.
    """

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self._tables: dict[str, dict[Any, dict[Any, Any]]] = {}
        self._handles: dict[tuple[int, str], NamespacedState] = {}

    def handle(self, descriptor: Any, scope: Any) -> NamespacedState:
        """The handle of ``descriptor``'s state whose namespace is ``scope.current_window``.

        Raises:
            ValueError: an unknown descriptor kind, or a name reused for another kind of state.
        """
        name, kind = descriptor.name, descriptor.state_kind
        cached = self._handles.get((id(scope), name))
        if cached is not None and cached._table is self._tables.get(name):
            return cached
        table = self._backend.table(TABLE_PREFIX + name, "window-" + kind)
        self._tables[name] = table
        handle: NamespacedState
        if kind == "value":
            handle = NamespacedValueState(self._backend, table, scope)
        elif kind == "list":
            handle = NamespacedListState(self._backend, table, scope)
        elif kind == "map":
            handle = NamespacedMapState(self._backend, table, scope)
        elif kind == "reducing":
            handle = NamespacedReducingState(self._backend, table, scope, descriptor.get_reduce_function())
        elif kind == "aggregating":
            handle = NamespacedAggregatingState(self._backend, table, scope, descriptor.get_agg_function())
        else:
            raise ValueError(f"Unknown state kind {kind!r} of descriptor {descriptor!r}")
        self._handles[(id(scope), name)] = handle
        return handle

    def clear_window(self, key: Any, window: Any) -> None:
        """Drop every per-window state of ``key`` in ``window``."""
        for table in self._tables.values():
            per_key = table.get(key)
            if per_key is not None:
                per_key.pop(window, None)
                if not per_key:
                    del table[key]


class WindowStateStore(KeyedStateStore):
    """``context.window_state()``: the KeyedStateStore whose state is scoped to the context's window."""

    def __init__(self, registry: WindowStateRegistry, scope: Any) -> None:
        self._registry = registry
        self._scope = scope

    def get_state(self, state_descriptor: Any) -> Any:
        return self._registry.handle(state_descriptor, self._scope)

    def get_list_state(self, state_descriptor: Any) -> Any:
        return self._registry.handle(state_descriptor, self._scope)

    def get_map_state(self, state_descriptor: Any) -> Any:
        return self._registry.handle(state_descriptor, self._scope)

    def get_reducing_state(self, state_descriptor: Any) -> Any:
        return self._registry.handle(state_descriptor, self._scope)

    def get_aggregating_state(self, state_descriptor: Any) -> Any:
        return self._registry.handle(state_descriptor, self._scope)
