"""The RocksDB keyed state backend behaves as the hashmap backend, and their snapshots restore into each other.

Semantics: Flink documentation "State Backends" (EmbeddedRocksDBStateBackend: same state, serialized, on local
disk; timers on the heap with ``state.backend.rocksdb.timer-service.factory: HEAP``), "Working with State" (state
kinds, TTL, key groups) and "Savepoints" (the canonical format restores into any backend).
"""

from __future__ import annotations

import os
import pickle
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tests.unit.test_state_ttl as ttl_tests
from yflink.common.errors import ConfigurationError
from yflink.datastream import (
    AggregateFunction,
    AggregatingStateDescriptor,
    ListStateDescriptor,
    MapStateDescriptor,
    ReducingStateDescriptor,
    ValueStateDescriptor,
)
from yflink.state.backends import backend_type, create_keyed_state_backend
from yflink.state.backends.hashmap import HashMapKeyedStateBackend
from yflink.state.backends.rocksdb import RocksDBKeyedStateBackend, RocksDBSnapshot
from yflink.state.key_groups import assign_to_key_group, key_group_range
from yflink.streaming.operators.base import TaskInfo


class Average(AggregateFunction):
    def create_accumulator(self) -> list[int]:
        return [0, 0]

    def add(self, value: int, accumulator: list[int]) -> list[int]:
        accumulator[0] += value  # mutates in place, as many user functions do
        accumulator[1] += 1
        return accumulator

    def get_result(self, accumulator: list[int]) -> float:
        return accumulator[0] / accumulator[1]

    def merge(self, a: list[int], b: list[int]) -> list[int]:
        return [a[0] + b[0], a[1] + b[1]]


@pytest.fixture
def rocks(tmp_path: Path) -> Iterator[Any]:
    made: list[RocksDBKeyedStateBackend] = []

    def make(max_parallelism: int = 128, groups: Any = None, **kwargs: Any) -> RocksDBKeyedStateBackend:
        kwargs.setdefault("cache_entries", 7)  # tiny: write-backs happen all the time
        backend = RocksDBKeyedStateBackend(max_parallelism, groups, local_dir=str(tmp_path), **kwargs)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.dispose()


def descriptors() -> list[Any]:
    return [ValueStateDescriptor("value"), ListStateDescriptor("list"), MapStateDescriptor("map"),
            ReducingStateDescriptor("reducing", lambda a, b: a + b),
            AggregatingStateDescriptor("aggregating", Average())]


def run_operations(backend: Any, seed: int, steps: int = 3000) -> list[Any]:
    """A random sequence over every state kind; what each read returned."""
    rng = random.Random(seed)
    states = [backend.get_state(d) for d in descriptors()]
    value, list_state, map_state, reducing, aggregating = states
    seen: list[Any] = []
    for _ in range(steps):
        backend.set_current_key(rng.choice([f"k{i}" for i in range(40)] + [(1, "t"), 7]))
        op, x = rng.randrange(17), rng.randrange(100)
        if op == 0:
            value.update(x)
        elif op == 1:
            seen.append(value.value())
        elif op == 2:
            value.clear()
        elif op == 3:
            list_state.add(x)
        elif op == 4:
            list_state.add_all([x, x + 1])
        elif op == 5:
            seen.append(list(list_state.get()))
        elif op == 6:
            list_state.update([x] if x % 3 else [])
        elif op == 7:
            map_state.put(x % 5, x)
        elif op == 8:
            map_state.remove(x % 5)
        elif op == 9:
            seen.append((map_state.get(x % 5), map_state.contains(x % 5), sorted(map_state.items()),
                         map_state.is_empty()))
        elif op == 10:
            reducing.add(x)
        elif op == 11:
            seen.append(reducing.get())
        elif op == 12:
            aggregating.add(x)
        elif op == 13:
            seen.append(aggregating.get())
        elif op == 14:
            (reducing if x % 2 else aggregating).clear()
        elif op == 15:
            map_state.put_all({x % 7: -x})
        else:
            list_state.clear()
    return seen


def canonical(snapshot: Any) -> dict[int, dict[str, dict[Any, Any]]]:
    return {group: {name: dict(table) for name, table in states.items() if table}
            for group, states in snapshot.groups.items()}


@pytest.mark.parametrize("seed", [1, 2])
def test_state_operations_give_the_same_results_and_snapshot_as_hashmap(rocks: Any, seed: int) -> None:
    """State Backends: the backend changes where state lives, not what the state operations return."""
    heap = HashMapKeyedStateBackend(128)
    disk = rocks()
    assert run_operations(disk, seed) == run_operations(heap, seed)
    heap_snapshot, disk_snapshot = heap.snapshot(), disk.snapshot()
    assert isinstance(disk_snapshot, RocksDBSnapshot)
    assert canonical(disk_snapshot) == canonical(heap_snapshot)
    assert disk_snapshot.kinds == heap_snapshot.kinds
    assert {name: sorted(map(repr, disk.keys(name))) for name in disk.state_names()} == \
        {name: sorted(map(repr, heap.keys(name))) for name in heap.state_names()}


def test_values_read_for_the_current_key_may_be_mutated_in_place(rocks: Any) -> None:
    """Raw tables (window contents, reduce) hand out values that operators mutate; the change must persist
    across the write-backs of later keys."""
    backend = rocks(cache_entries=2)
    contents = backend.table("window-contents", "window-contents")
    for i in range(50):
        key = f"k{i % 10}"
        backend.set_current_key(key)
        per_key = contents.get(key)
        if per_key is None:
            per_key = contents[key] = {}
        per_key.setdefault("w", []).append(i)
    assert {k: v["w"] for k, v in contents.items()} == {f"k{j}": list(range(j, 50, 10)) for j in range(10)}
    assert len(contents) == 10 and bool(contents)


def test_state_larger_than_the_cache_lives_on_disk(rocks: Any) -> None:
    """EmbeddedRocksDBStateBackend: state is on disk; only the write-back cache is in memory."""
    backend = rocks(cache_entries=100)
    state = backend.get_state(ValueStateDescriptor("big"))
    for i in range(5000):
        backend.set_current_key(i)
        state.update("x" * 100 + str(i))
    assert backend.cached <= 101
    backend.set_current_key(4321)
    assert state.value().endswith("4321")
    assert len(backend.table("big")) == 5000


def test_a_table_used_without_a_current_key_stays_bounded(rocks: Any) -> None:
    """The keyed sum/min/max path reads and writes its table without setting a current key: the cache must not
    grow with the number of keys."""
    backend = rocks(cache_entries=10)
    table = backend.table("sum")
    largest = 0
    for _ in range(2):
        for key in range(1000):
            table[key] = table.get(key, 0) + key
            largest = max(largest, backend.cached)
    assert largest <= 4 * 10 + 2
    assert dict(table.items()) == {key: 2 * key for key in range(1000)}


def test_timers_stay_on_the_heap_and_are_snapshotted(rocks: Any) -> None:
    """state.backend.rocksdb.timer-service.factory HEAP: timer tables are dicts, part of the snapshot."""
    backend = rocks()
    timers = backend.table("_timers/user/event", "timers")
    assert type(timers) is dict
    timers["a"] = {(10, None)}
    backend.set_current_key("a")
    backend.get_state(ValueStateDescriptor("v")).update(1)
    group = assign_to_key_group("a", 128)
    assert backend.snapshot().groups[group] == {"_timers/user/event": {"a": {(10, None)}}, "v": {"a": 1}}


@pytest.mark.parametrize("test", [getattr(ttl_tests, name) for name in dir(ttl_tests)
                                  if name.startswith("test_") and "builder" not in name])
def test_ttl_semantics_are_those_of_the_hashmap_backend(test: Any, monkeypatch: pytest.MonkeyPatch,
                                                        rocks: Any) -> None:
    """State TTL: every TTL test of the hashmap backend passes on the RocksDB backend."""
    monkeypatch.setattr(ttl_tests, "HashMapKeyedStateBackend", lambda max_parallelism=128: rocks(max_parallelism))
    test()


@pytest.mark.parametrize("direction", ["heap->rocksdb", "rocksdb->heap", "rocksdb->rocksdb"])
def test_snapshots_restore_into_the_other_backend(rocks: Any, direction: str) -> None:
    """Savepoints > canonical format: state written by one backend restores into the other, also after pickling
    (how a snapshot travels)."""
    source = HashMapKeyedStateBackend(128) if direction.startswith("heap") else rocks()
    expected = run_operations(HashMapKeyedStateBackend(128), 3)
    assert run_operations(source, 3) == expected
    snapshot = source.snapshot()
    travelled = pickle.loads(pickle.dumps(snapshot))
    assert type(travelled).__name__ == "KeyedStateSnapshot"
    for restored_from in (snapshot, travelled):
        target = HashMapKeyedStateBackend(128) if direction.endswith("heap") else rocks()
        target.restore([restored_from])
        assert canonical(target.snapshot()) == canonical(source.snapshot())
        # and it goes on identically
        assert run_operations(target, 4, 500) == run_operations(source_clone(source, rocks), 4, 500)


def source_clone(source: Any, rocks: Any) -> Any:
    clone = HashMapKeyedStateBackend(128)
    clone.restore([pickle.loads(pickle.dumps(source.snapshot()))])
    return clone


def task(index: int, parallelism: int, **parameters: str) -> TaskInfo:
    return TaskInfo("job", "job", "t", index, parallelism, 16, job_parameters=dict(parameters))


def test_rescaling_moves_key_groups_between_rocksdb_backends(tmp_path: Path) -> None:
    """Working with State: restoring 2 subtasks into 3 gives each the key groups of its range, every key once; a
    subtask with an unchanged range opens the snapshot's files directly."""
    keys = [f"k{i}" for i in range(300)]
    params = {"state.backend.type": "rocksdb", "state.backend.rocksdb.localdir": str(tmp_path)}
    old = []
    for index in range(2):
        backend = create_keyed_state_backend(task(index, 2, **params))
        assert isinstance(backend, RocksDBKeyedStateBackend)
        state = backend.get_state(ListStateDescriptor("l"))
        for key in keys:
            if assign_to_key_group(key, 16) in backend.key_group_range:
                backend.set_current_key(key)
                state.add(key.upper())
        old.append(backend.snapshot())
    restored: dict[str, list[str]] = {}
    for index in range(3):
        backend = create_keyed_state_backend(task(index, 3, **params))
        backend.restore(old)
        table = dict(backend.table("l", "list").items())
        assert all(assign_to_key_group(k, 16) in key_group_range(16, 3, index) for k in table)
        assert not restored.keys() & table.keys()
        restored.update(table)
    assert restored == {k: [k.upper()] for k in keys}
    same = create_keyed_state_backend(task(1, 2, **params))
    same.restore([old[1]])
    assert os.path.basename(same.db.path()) != "db"  # adopted the checkpoint's files
    assert dict(same.table("l", "list").items()) == {k: v for k, v in restored.items()
                                                       if assign_to_key_group(k, 16) in key_group_range(16, 2, 1)}


def test_backend_type_and_aliases() -> None:
    """state.backend.type: hashmap | rocksdb; Flink's legacy names jobmanager/filesystem mean hashmap."""
    assert backend_type({}) == "hashmap"
    assert backend_type({"state.backend.type": "RocksDB"}) == "rocksdb"
    assert backend_type({"state.backend": "filesystem"}) == "hashmap"
    assert backend_type({"state.backend.type": "jobmanager"}) == "hashmap"
    with pytest.raises(ConfigurationError, match="state.backend.type.*hashmap or rocksdb"):
        backend_type({"state.backend.type": "forst"})
    assert type(create_keyed_state_backend(task(0, 1))) is HashMapKeyedStateBackend


def test_dispose_deletes_the_working_directory(rocks: Any) -> None:
    backend = rocks()
    backend.get_state(ValueStateDescriptor("v"))
    assert os.path.isdir(backend.working_dir)
    backend.dispose()
    assert not os.path.exists(backend.working_dir)


def test_a_snapshot_being_uploaded_outlives_its_disposed_backend(rocks: Any) -> None:
    """The operator chain closes (and disposes the backend) while the upload thread may still read the last
    snapshot: its files stay until it is released."""
    backend = rocks()
    backend.set_current_key("a")
    backend.get_state(ValueStateDescriptor("v")).update(1)
    snapshot = backend.snapshot()
    backend.dispose()
    assert not [p for p in os.listdir(backend.working_dir) if p.startswith("db")]
    assert snapshot.groups == {assign_to_key_group("a", 128): {"v": {"a": 1}}}
    snapshot.release()
    assert not os.path.exists(backend.working_dir)


def test_working_directories_of_dead_processes_are_swept(tmp_path: Path) -> None:
    """A slot worker killed with SIGKILL cannot clean up: the next backend under the same directory does."""
    root = tmp_path / "yflink-rocksdb"
    dead = root / "job-x_pid999999999_0123abcd_xyz"  # no such process
    (dead / "db").mkdir(parents=True)
    alive = root / f"job-y_pid{os.getppid()}_0123abcd_xyz"
    (alive / "db").mkdir(parents=True)
    backend = RocksDBKeyedStateBackend(128, local_dir=str(tmp_path))
    assert not dead.exists() and alive.exists()
    backend.dispose()


def test_pyflink_set_state_backend_writes_the_configuration(tmp_path: Path) -> None:
    """PyFlink: env.set_state_backend(EmbeddedRocksDBStateBackend(True)) selects rocksdb with incremental
    checkpoints; tasks create their backends from those keys."""
    from yflink.datastream import EmbeddedRocksDBStateBackend, HashMapStateBackend, StreamExecutionEnvironment

    env = StreamExecutionEnvironment.get_execution_environment()
    assert env.get_state_backend() == HashMapStateBackend()
    rocksdb = EmbeddedRocksDBStateBackend(True)
    rocksdb.set_db_storage_paths(str(tmp_path))
    env.set_state_backend(rocksdb)
    assert env.get_state_backend() == rocksdb and env.get_state_backend().is_incremental_checkpoints_enabled()
    parameters = {k: str(v) for k, v in env._config.raw().items()}  # as the tasks get them
    backend = create_keyed_state_backend(task(0, 1, **parameters))
    assert isinstance(backend, RocksDBKeyedStateBackend) and backend.incremental
    assert backend.working_dir.startswith(str(tmp_path))
    backend.dispose()
    with pytest.raises(TypeError, match="HashMapStateBackend or EmbeddedRocksDBStateBackend"):
        env.set_state_backend("rocksdb")
