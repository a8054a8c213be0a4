"""State snapshots of one operator subtask, and how they are split when parallelism changes (pure data).

An :class:`OperatorSnapshot` is what a subtask hands to a checkpoint: its keyed state by **key group**
(:class:`KeyedStateSnapshot`; timers are part of it, as in Flink's heap backend) and its operator state
(:class:`OperatorStateSnapshot`: list, union list and broadcast state). Restoring N old snapshots into M new
subtasks follows Flink:

* keyed state: each new subtask takes the key groups of its own range (:func:`keyed_state_for`);
* list state (``SPLIT_DISTRIBUTE``): the elements of all old subtasks, in subtask order, are cut into M
  contiguous slices, the first ones one longer; with unchanged parallelism every subtask keeps its own;
* union list state: every new subtask gets all elements of all old subtasks;
* broadcast state: every new subtask gets one old subtask's copy (new ``i`` reads old ``i mod N``).

Source of the semantics: Flink ``KeyGroupRangeAssignment``, ``RoundRobinOperatorStateRepartitioner`` and the
documentation section "Working with State" (Operator State, redistribution schemes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

__all__ = ["CompositeKeyedSnapshot", "KeyedStateSnapshot", "OperatorSnapshot", "OperatorStateSnapshot",
           "keyed_state_for", "operator_state_for"]


@dataclass
class KeyedStateSnapshot:
    """Keyed state of one subtask.

    Attributes:
        max_parallelism: the number of key groups the keys were assigned with.
        kinds: the kind of every state (``value``, ``list``, ``map``, ``reducing``, ``aggregating``, ``timers``).
        ttl_states: names of the states whose values carry TTL timestamps.
        groups: ``{key group: {state name: {key: value}}}``; the values are copies.
    """

    max_parallelism: int
    kinds: dict[str, str] = field(default_factory=dict)
    ttl_states: set[str] = field(default_factory=set)
    groups: dict[int, dict[str, dict[Any, Any]]] = field(default_factory=dict)

    def key_groups(self) -> list[int]:
        return sorted(self.groups)


@dataclass
class OperatorStateSnapshot:
    """Operator (non-keyed) state of one subtask, by state name."""

    list_states: dict[str, list[Any]] = field(default_factory=dict)
    union_states: dict[str, list[Any]] = field(default_factory=dict)
    broadcast_states: dict[str, dict[Any, Any]] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not (self.list_states or self.union_states or self.broadcast_states)


@dataclass
class OperatorSnapshot:
    """Everything one operator subtask snapshots.

    Attributes:
        subtask_index: the subtask that took it.
        parallelism: the operator's parallelism then.
        keyed: its keyed state, or None when the operator has none.
        operator: its operator state, or None.
    """

    subtask_index: int
    parallelism: int
    keyed: Optional[KeyedStateSnapshot] = None
    operator: Optional[OperatorStateSnapshot] = None


class CompositeKeyedSnapshot(KeyedStateSnapshot):
    """The keyed state of ``key_groups`` gathered from several snapshots (``parts``) when ``groups`` is first read,
    not when it is put together: the JobMaster assembles it from handles, the restoring task reads it (a RocksDB
    part downloads its files only there; a RocksDB backend takes the parts one by one).

    Raises:
        ValueError: the parts were taken with different max parallelisms.
    """

    def __init__(self, parts: list[KeyedStateSnapshot], key_groups: range) -> None:
        max_parallelisms = {p.max_parallelism for p in parts}
        if len(max_parallelisms) != 1:
            raise ValueError(f"Keyed state snapshots disagree on the max parallelism: {sorted(max_parallelisms)}; "
                             "the max parallelism of an operator cannot change across restores")
        super().__init__(max_parallelism=max_parallelisms.pop())
        for part in parts:
            self.kinds.update(part.kinds)
            self.ttl_states |= part.ttl_states
        self.parts = parts
        self.key_groups_wanted = key_groups
        self._merged: Optional[dict[int, dict[str, dict[Any, Any]]]] = None

    @property  # type: ignore[override]
    def groups(self) -> dict[int, dict[str, dict[Any, Any]]]:
        if self._merged is None:
            merged: dict[int, dict[str, dict[Any, Any]]] = {}
            for part in self.parts:
                iter_groups = getattr(part, "iter_groups", None)  # a RocksDB part: only the wanted key groups
                if iter_groups is not None:
                    wanted = range(max(self.key_groups_wanted.start, part.key_group_range.start),  # type: ignore
                                   min(self.key_groups_wanted.stop, part.key_group_range.stop))  # type: ignore
                    pairs = list(iter_groups(wanted))
                    release = getattr(part, "release", None)
                    if getattr(part, "owned", False) and callable(release):
                        release()
                else:
                    pairs = [(g, t) for g, t in part.groups.items() if g in self.key_groups_wanted]
                for group, states in pairs:
                    if states:
                        target = merged.setdefault(group, {})
                        for name, table in states.items():
                            target.setdefault(name, {}).update(table)
            self._merged = merged
        return self._merged

    @groups.setter
    def groups(self, value: dict[int, dict[str, dict[Any, Any]]]) -> None:
        self._merged = value if value else None


def keyed_state_for(snapshots: list[KeyedStateSnapshot], key_groups: range) -> KeyedStateSnapshot:
    """The keyed state of the key groups in ``key_groups`` gathered from ``snapshots``.

    Raises:
        ValueError: the snapshots were taken with different max parallelisms.
    """
    if not snapshots:
        return KeyedStateSnapshot(max_parallelism=len(key_groups))
    max_parallelisms = {s.max_parallelism for s in snapshots}
    if len(max_parallelisms) != 1:
        raise ValueError(f"Keyed state snapshots disagree on the max parallelism: {sorted(max_parallelisms)}; "
                         "the max parallelism of an operator cannot change across restores")
    result = KeyedStateSnapshot(max_parallelism=snapshots[0].max_parallelism)
    for snapshot in snapshots:
        result.kinds.update(snapshot.kinds)
        result.ttl_states |= snapshot.ttl_states
        for group, states in snapshot.groups.items():
            if group in key_groups:
                target = result.groups.setdefault(group, {})
                for name, table in states.items():
                    target.setdefault(name, {}).update(table)
    return result


def _split(elements: list[Any], parts: int) -> list[list[Any]]:
    base, extra = divmod(len(elements), parts)
    slices, start = [], 0
    for i in range(parts):
        end = start + base + (1 if i < extra else 0)
        slices.append(elements[start:end])
        start = end
    return slices


def operator_state_for(snapshots: list[Optional[OperatorStateSnapshot]], subtask_index: int,
                       parallelism: int) -> OperatorStateSnapshot:
    """The operator state of new subtask ``subtask_index`` of ``parallelism`` from the old subtasks'
    ``snapshots`` (in old subtask order; None for a subtask without operator state)."""
    old = [s if s is not None else OperatorStateSnapshot() for s in snapshots]
    result = OperatorStateSnapshot()
    if not old:
        return result
    names = sorted({name for s in old for name in s.list_states})
    for name in names:
        if len(old) == parallelism:
            result.list_states[name] = list(old[subtask_index].list_states.get(name, []))
        else:
            everything = [e for s in old for e in s.list_states.get(name, [])]
            result.list_states[name] = _split(everything, parallelism)[subtask_index]
    for name in sorted({name for s in old for name in s.union_states}):
        result.union_states[name] = [e for s in old for e in s.union_states.get(name, [])]
    source = old[subtask_index % len(old)]
    for name in sorted({name for s in old for name in s.broadcast_states}):
        copy = source.broadcast_states.get(name)
        if copy is None:  # this old subtask never created it: any other copy is the same by contract
            copy = next(s.broadcast_states[name] for s in old if name in s.broadcast_states)
        result.broadcast_states[name] = dict(copy)
    return result
