"""Snapshots of keyed and operator state, and their redistribution when the parallelism changes.

Semantics: Flink documentation, "Working with State" (Keyed State is organized in key groups; Operator State
redistribution: even-split for list state, union for union list state), "The Broadcast State Pattern"
(every task holds the same broadcast state), and "Stateful Stream Processing" (Keyed State, key groups).
"""

from __future__ import annotations

from yflink.common import Types
from yflink.datastream import ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor
from yflink.state.backends import create_keyed_state_backend
from yflink.state.backends.hashmap import HashMapKeyedStateBackend
from yflink.state.backends.operator import OperatorStateBackend
from yflink.state.key_groups import assign_to_key_group, key_group_range
from yflink.state.snapshot import OperatorStateSnapshot, keyed_state_for, operator_state_for
from yflink.streaming.operators.base import TaskInfo


def task(index: int, parallelism: int, max_parallelism: int = 16) -> TaskInfo:
    return TaskInfo("j", "job", "t", index, parallelism, max_parallelism)


def test_keyed_snapshot_is_a_copy_by_key_group() -> None:
    """Stateful Stream Processing > Keyed State: state is snapshotted per key group; a snapshot is a copy."""
    backend = HashMapKeyedStateBackend(max_parallelism=16)
    counts = backend.get_state(ValueStateDescriptor("count", Types.INT()))
    seen = backend.get_state(ListStateDescriptor("seen", Types.STRING()))
    for key in ("a", "b", "c"):
        backend.set_current_key(key)
        counts.update(len(key))
        seen.add(key)
    snapshot = backend.snapshot()
    backend.set_current_key("a")
    seen.add("later")
    assert snapshot.kinds == {"count": "value", "seen": "list"}
    for key in ("a", "b", "c"):
        assert snapshot.groups[assign_to_key_group(key, 16)]["seen"][key] == [key]


def test_keyed_state_rescales_by_key_group_range() -> None:
    """Working with State / Stateful Stream Processing: on rescaling each subtask restores the key groups of its
    range; together the new subtasks hold every key exactly once."""
    keys = [f"k{i}" for i in range(200)]
    old = []
    for index in range(2):
        backend = create_keyed_state_backend(task(index, 2))
        state = backend.get_state(ValueStateDescriptor("v"))
        for key in keys:
            if assign_to_key_group(key, 16) in backend.key_group_range:
                backend.set_current_key(key)
                state.update(key.upper())
        old.append(backend.snapshot())
    restored: dict[str, str] = {}
    for index in range(3):
        backend = create_keyed_state_backend(task(index, 3))
        backend.restore(old)
        table = backend.tables()["v"]
        assert all(assign_to_key_group(k, 16) in key_group_range(16, 3, index) for k in table)
        assert not restored.keys() & table.keys()
        restored.update(table)
        backend.set_current_key(next(iter(table)))
        assert backend.get_state(ValueStateDescriptor("v")).value() is not None
    assert restored == {k: k.upper() for k in keys}


def test_keyed_state_for_rejects_mixed_max_parallelism() -> None:
    """Working with State: the max parallelism (number of key groups) of keyed state cannot change on restore."""
    a, b = HashMapKeyedStateBackend(8).snapshot(), HashMapKeyedStateBackend(16).snapshot()
    try:
        keyed_state_for([a, b], range(8))
    except ValueError as exc:
        assert "max parallelism" in str(exc)
    else:
        raise AssertionError("expected ValueError")


def test_operator_list_state_split_union_and_broadcast_on_rescale() -> None:
    """Working with State > Operator State: list state even-split redistribution, union redistribution; The Broadcast
    State Pattern: each new task gets a copy of the broadcast state."""
    old = []
    for index in range(2):
        backend = OperatorStateBackend()
        backend.get_list_state(ListStateDescriptor("offsets")).add_all([f"s{index}-{i}" for i in range(3)])
        backend.get_union_list_state(ListStateDescriptor("all")).add(index)
        backend.get_broadcast_state(MapStateDescriptor("rules", Types.STRING(), Types.INT())).put("r", 1)
        old.append(backend.snapshot())
    shares = [operator_state_for(list(old), i, 4) for i in range(4)]
    assert [s.list_states["offsets"] for s in shares] == [["s0-0", "s0-1"], ["s0-2", "s1-0"], ["s1-1"], ["s1-2"]]
    assert all(s.union_states["all"] == [0, 1] for s in shares)
    assert all(s.broadcast_states["rules"] == {"r": 1} for s in shares)
    same = [operator_state_for(list(old), i, 2) for i in range(2)]
    assert same[1].list_states["offsets"] == ["s1-0", "s1-1", "s1-2"]  # unchanged parallelism keeps each its own
    restored = OperatorStateBackend()
    state = restored.get_list_state(ListStateDescriptor("offsets"))
    restored.restore(shares[0])
    assert state.get() == ["s0-0", "s0-1"] and restored.restored


def test_operator_state_names_are_unique_across_kinds() -> None:
    """Working with State > Operator State: a state name identifies one piece of state."""
    backend = OperatorStateBackend()
    backend.get_list_state(ListStateDescriptor("x"))
    try:
        backend.get_union_list_state(ListStateDescriptor("x"))
    except ValueError as exc:
        assert "already registered" in str(exc)
    else:
        raise AssertionError("expected ValueError")
    assert operator_state_for([], 0, 1) == OperatorStateSnapshot()


def test_read_only_broadcast_state_refuses_writes() -> None:
    """The Broadcast State Pattern: the non-broadcast side has read-only access to the broadcast state."""
    backend = OperatorStateBackend()
    descriptor = MapStateDescriptor("rules", Types.STRING(), Types.INT())
    backend.get_broadcast_state(descriptor).put("a", 1)
    view = backend.get_read_only_broadcast_state(descriptor)
    assert view.get("a") == 1 and "a" in view and list(view.items()) == [("a", 1)]
    try:
        view.put("b", 2)
    except RuntimeError as exc:
        assert "read-only" in str(exc)
    else:
        raise AssertionError("expected RuntimeError")
