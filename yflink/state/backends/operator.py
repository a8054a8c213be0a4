"""Operator state: non-keyed state of one operator subtask (Flink ``DefaultOperatorStateBackend``).

Three kinds, each a named table of this subtask:

* list state (``get_list_state``): a list; on restore with another parallelism the elements of all subtasks
  are split evenly over the new subtasks (Flink's ``SPLIT_DISTRIBUTE``), e.g. a source's unread splits;
* union list state (``get_union_list_state``): a list; on restore every subtask gets all elements (``UNION``);
* broadcast state (``get_broadcast_state(MapStateDescriptor)``): a map that every subtask holds the same copy
  of (the broadcast state pattern); on restore every subtask gets one copy.

Descriptors are duck-typed (``name``), so this module imports nothing of the user API.
Source of the semantics: Flink ``OperatorStateStore``, ``PartitionableListState``, ``HeapBroadcastState``
and the documentation sections "Working with State" (Operator State) and "The Broadcast State Pattern".
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from typing import Any

from yflink.state.snapshot import OperatorStateSnapshot

__all__ = ["OperatorListState", "OperatorStateBackend", "ReadOnlyBroadcastStateView", "HeapBroadcastState"]


class OperatorListState:
    """A list held by one subtask (list or union list state)."""

    __slots__ = ("_values",)

    def __init__(self, values: list[Any]) -> None:
        self._values = values

    def get(self) -> list[Any]:
        return list(self._values)

    def add(self, value: Any) -> None:
        if value is None:
            raise ValueError("You cannot add null to a ListState.")
        self._values.append(value)

    def add_all(self, values: list[Any]) -> None:
        for value in values:
            self.add(value)

    def update(self, values: list[Any]) -> None:
        self._values[:] = list(values or [])

    def clear(self) -> None:
        self._values.clear()

    def __iter__(self) -> Iterator[Any]:
        return iter(self.get())


class HeapBroadcastState:
    """BroadcastState: a map with read/write access (the broadcast side of a broadcast process function)."""

    __slots__ = ("_map",)

    def __init__(self, mapping: dict[Any, Any]) -> None:
        self._map = mapping

    def get(self, key: Any) -> Any:
        return self._map.get(key)

    def contains(self, key: Any) -> bool:
        return key in self._map

    def items(self) -> Iterable[tuple[Any, Any]]:
        return list(self._map.items())

    def keys(self) -> Iterable[Any]:
        return list(self._map.keys())

    def values(self) -> Iterable[Any]:
        return list(self._map.values())

    def is_empty(self) -> bool:
        return not self._map

    def put(self, key: Any, value: Any) -> None:
        self._map[key] = value

    def put_all(self, dict_value: dict[Any, Any]) -> None:
        self._map.update(dict_value)

    def remove(self, key: Any) -> None:
        self._map.pop(key, None)

    def clear(self) -> None:
        self._map.clear()

    def __getitem__(self, key: Any) -> Any:
        return self.get(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.put(key, value)

    def __delitem__(self, key: Any) -> None:
        self.remove(key)

    def __contains__(self, key: Any) -> bool:
        return key in self._map

    def __iter__(self) -> Iterator[Any]:
        return iter(self.keys())


class ReadOnlyBroadcastStateView:
    """ReadOnlyBroadcastState: the non-broadcast side reads the broadcast state but must not change it, since
    every subtask has to hold the same copy."""

    __slots__ = ("_map",)

    def __init__(self, mapping: dict[Any, Any]) -> None:
        self._map = mapping

    def get(self, key: Any) -> Any:
        return self._map.get(key)

    def contains(self, key: Any) -> bool:
        return key in self._map

    def items(self) -> Iterable[tuple[Any, Any]]:
        return list(self._map.items())

    def keys(self) -> Iterable[Any]:
        return list(self._map.keys())

    def values(self) -> Iterable[Any]:
        return list(self._map.values())

    def is_empty(self) -> bool:
        return not self._map

    def _read_only(self, *_: Any) -> None:
        raise RuntimeError("The broadcast state is read-only on the non-broadcast side (process_element); "
                           "change it in process_broadcast_element")

    put = put_all = remove = clear = __setitem__ = __delitem__ = _read_only

    def __getitem__(self, key: Any) -> Any:
        return self.get(key)

    def __contains__(self, key: Any) -> bool:
        return key in self._map

    def __iter__(self) -> Iterator[Any]:
        return iter(self.keys())


class OperatorStateBackend:
    """The operator state of one subtask, created lazily by name."""

    def __init__(self) -> None:
        self._lists: dict[str, list[Any]] = {}
        self._unions: dict[str, list[Any]] = {}
        self._broadcasts: dict[str, dict[Any, Any]] = {}
        self.restored = False

    def _check_name(self, name: str, own: dict[str, Any]) -> None:
        for kind, tables in (("list", self._lists), ("union list", self._unions), ("broadcast", self._broadcasts)):
            if tables is not own and name in tables:
                raise ValueError(f"Operator state '{name}' is already registered as {kind} state")

    def get_list_state(self, descriptor: Any) -> OperatorListState:
        """List state redistributed evenly on rescaling (``SPLIT_DISTRIBUTE``)."""
        self._check_name(descriptor.name, self._lists)
        return OperatorListState(self._lists.setdefault(descriptor.name, []))

    def get_union_list_state(self, descriptor: Any) -> OperatorListState:
        """List state that every subtask gets whole on restore (``UNION``)."""
        self._check_name(descriptor.name, self._unions)
        return OperatorListState(self._unions.setdefault(descriptor.name, []))

    def get_broadcast_state(self, descriptor: Any) -> HeapBroadcastState:
        """The broadcast state named by a MapStateDescriptor, read/write."""
        self._check_name(descriptor.name, self._broadcasts)
        return HeapBroadcastState(self._broadcasts.setdefault(descriptor.name, {}))

    def get_read_only_broadcast_state(self, descriptor: Any) -> ReadOnlyBroadcastStateView:
        self._check_name(descriptor.name, self._broadcasts)
        return ReadOnlyBroadcastStateView(self._broadcasts.setdefault(descriptor.name, {}))

    def get_registered_state_names(self) -> set[str]:
        return set(self._lists) | set(self._unions)

    def get_registered_broadcast_state_names(self) -> set[str]:
        return set(self._broadcasts)

    def snapshot(self) -> OperatorStateSnapshot:
        return OperatorStateSnapshot(list_states=copy.deepcopy(self._lists), union_states=copy.deepcopy(self._unions),
                                     broadcast_states=copy.deepcopy(self._broadcasts))

    def restore(self, snapshot: OperatorStateSnapshot) -> None:
        """Load this subtask's share (see :func:`yflink.state.snapshot.operator_state_for`); tables already handed
        out are filled in place."""
        for source, target in ((snapshot.list_states, self._lists), (snapshot.union_states, self._unions)):
            for name, values in source.items():
                target.setdefault(name, [])[:] = list(values)
        for name, mapping in snapshot.broadcast_states.items():
            table = self._broadcasts.setdefault(name, {})
            table.clear()
            table.update(mapping)
        self.restored = True
