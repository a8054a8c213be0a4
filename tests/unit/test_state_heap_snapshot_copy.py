"""The heap backend's snapshot is a copy: later changes of the live state do not reach it, whether a value is
shared (immutable) or deep-copied (mutable), and every key lands in its own key group."""

from __future__ import annotations

from yflink.state.backends.hashmap import HashMapKeyedStateBackend
from yflink.state.key_groups import assign_to_key_group


def test_snapshot_is_isolated_from_later_changes() -> None:
    backend = HashMapKeyedStateBackend(128)
    counts = backend.table("count", "value")
    lists = backend.table("seen", "list")
    shared = [1]
    for k in range(50):
        counts[k] = (k, k * 2)
        lists[k] = shared if k < 2 else [k]  # two values share one list
    counts[("t", frozenset({1}))] = "x"

    first = backend.snapshot()
    lists[0].append(99)
    lists[5].append(99)
    counts[3] = (3, -1)
    del counts[4]
    second = backend.snapshot()

    def flat(snapshot: object, name: str) -> dict[object, object]:
        found: dict[object, object] = {}
        for group, states in snapshot.groups.items():  # type: ignore[attr-defined]
            for key, value in states.get(name, {}).items():
                assert assign_to_key_group(key, 128) == group
                found[key] = value
        return found

    old_counts, old_lists = flat(first, "count"), flat(first, "seen")
    assert old_counts[3] == (3, 6) and old_counts[4] == (4, 8) and old_counts[("t", frozenset({1}))] == "x"
    assert old_lists[0] == [1] and old_lists[5] == [5]
    assert old_lists[0] is old_lists[1]  # sharing inside the state is kept in the copy
    new_counts, new_lists = flat(second, "count"), flat(second, "seen")
    assert new_counts[3] == (3, -1) and 4 not in new_counts
    assert new_lists[0] == [1, 99] and new_lists[5] == [5, 99]
    lists[6].append(7)
    assert new_lists[6] == [6]


class Key:
    def __init__(self, n: int) -> None:
        self.n = n

    def __hash__(self) -> int:
        return self.n

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Key) and other.n == self.n


def test_snapshot_with_mutable_keys_copies_them() -> None:
    backend = HashMapKeyedStateBackend(128)
    table = backend.table("v", "value")
    key = Key(1)
    table[key] = [1]
    snapshot = backend.snapshot()
    [(copied_key, value)] = [kv for states in snapshot.groups.values() for kv in states["v"].items()]
    assert copied_key == key and copied_key is not key and value == [1]
