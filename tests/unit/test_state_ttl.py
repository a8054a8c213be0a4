"""State time-to-live on the heap keyed state backend, under a controlled processing-time clock.

Semantics: Flink documentation, "Working with State" > "State Time-To-Live (TTL)" (update type, state
visibility, cleanup of expired state on read, in full snapshots, incrementally), and Flink's ``TtlValueState``,
``TtlListState``, ``TtlMapState``, ``TtlReduceFunction``, ``TtlAggregateFunction``.
"""

from __future__ import annotations

from typing import Any

import pytest

from yflink.common import Duration, Time, Types
from yflink.datastream import (
    AggregateFunction,
    AggregatingStateDescriptor,
    ListStateDescriptor,
    MapStateDescriptor,
    ReducingStateDescriptor,
    ValueStateDescriptor,
)
from yflink.datastream.state import StateTtlConfig
from yflink.state.backends.hashmap import HashMapKeyedStateBackend

UpdateType = StateTtlConfig.UpdateType
Visibility = StateTtlConfig.StateVisibility


class Clock:
    def __init__(self) -> None:
        self.now = 1_000

    def __call__(self) -> int:
        return self.now


def backend_with_clock() -> tuple[HashMapKeyedStateBackend, Clock]:
    backend = HashMapKeyedStateBackend(max_parallelism=128)
    clock = Clock()
    backend.ttl_time_provider = clock
    backend.set_current_key("k")
    return backend, clock


def ttl(ms: int = 100, update: UpdateType = UpdateType.OnCreateAndWrite,
        visibility: Visibility = Visibility.NeverReturnExpired, **options: Any) -> StateTtlConfig:
    builder = StateTtlConfig.new_builder(Duration.of_millis(ms)).set_update_type(update) \
        .set_state_visibility(visibility)
    if options.get("full_snapshot"):
        builder.cleanup_full_snapshot()
    if "incremental" in options:
        builder.cleanup_incrementally(*options["incremental"])
    if options.get("no_background"):
        builder.disable_cleanup_in_background()
    return builder.build()


def with_ttl(descriptor: Any, config: StateTtlConfig) -> Any:
    descriptor.enable_time_to_live(config)
    return descriptor


def test_builder_defaults_and_accessors() -> None:
    """State TTL: the builder defaults to OnCreateAndWrite, NeverReturnExpired, processing time, background cleanup."""
    config = StateTtlConfig.new_builder(Time.seconds(1)).build()
    assert config.get_update_type() is UpdateType.OnCreateAndWrite
    assert config.get_state_visibility() is Visibility.NeverReturnExpired
    assert config.get_ttl_time_characteristic() is StateTtlConfig.TtlTimeCharacteristic.ProcessingTime
    assert config.is_enabled() and config.get_ttl_millis() == 1000
    strategies = config.get_cleanup_strategies()
    assert not strategies.in_full_snapshot() and strategies.is_cleanup_in_background()
    assert strategies.get_incremental_cleanup_strategy().get_cleanup_size() == 5  # type: ignore[union-attr]
    assert StateTtlConfig.new_builder(Duration.of_seconds(1)).disable_cleanup_in_background().build() \
        .get_cleanup_strategies().get_incremental_cleanup_strategy() is None
    with pytest.raises(ValueError):
        StateTtlConfig.new_builder(Duration.of_millis(0))
    with pytest.raises(TypeError):
        ValueStateDescriptor("v", Types.INT()).enable_time_to_live("1s")  # type: ignore[arg-type]


def test_value_expires_on_create_and_write() -> None:
    """State TTL: with OnCreateAndWrite a read does not prolong the value; it expires ttl ms after the last write."""
    backend, clock = backend_with_clock()
    state = backend.get_state(with_ttl(ValueStateDescriptor("v", Types.INT()), ttl(100)))
    state.update(1)
    clock.now += 99
    assert state.value() == 1  # read: does not refresh
    clock.now += 1
    assert state.value() is None  # 100 ms after the write: expired
    state.update(2)
    clock.now += 50
    state.update(3)  # a write refreshes
    clock.now += 60
    assert state.value() == 3


def test_value_prolonged_on_read_and_write() -> None:
    """State TTL: OnReadAndWrite refreshes the last access timestamp on every read of an unexpired value."""
    backend, clock = backend_with_clock()
    state = backend.get_state(with_ttl(ValueStateDescriptor("v"), ttl(100, UpdateType.OnReadAndWrite)))
    state.update("x")
    for _ in range(5):
        clock.now += 90
        assert state.value() == "x"
    clock.now += 100
    assert state.value() is None


def test_return_expired_if_not_cleaned_up_returns_it_once() -> None:
    """State TTL: ReturnExpiredIfNotCleanedUp returns an expired value still stored; the read cleans it up."""
    backend, clock = backend_with_clock()
    config = ttl(10, visibility=Visibility.ReturnExpiredIfNotCleanedUp, no_background=True)
    state = backend.get_state(with_ttl(ValueStateDescriptor("v"), config))
    state.update("old")
    clock.now += 10
    assert state.value() == "old"
    assert state.value() is None
    assert backend.tables()["v"] == {}


def test_list_elements_expire_one_by_one() -> None:
    """State TTL: list state elements carry their own timestamps and expire separately."""
    backend, clock = backend_with_clock()
    state = backend.get_state(with_ttl(ListStateDescriptor("l", Types.INT()), ttl(100)))
    state.add(1)
    clock.now += 60
    state.add_all([2, 3])
    clock.now += 50
    assert list(state.get()) == [2, 3]
    clock.now += 60
    assert list(state) == []
    assert "k" not in backend.tables()["l"]  # cleared when nothing is left
    state.update([7])
    assert state.get() == [7]
    with pytest.raises(ValueError):
        state.add(None)


def test_list_read_refreshes_unexpired_elements() -> None:
    """State TTL: OnReadAndWrite on list state refreshes the elements a read returns and drops expired ones."""
    backend, clock = backend_with_clock()
    state = backend.get_state(with_ttl(ListStateDescriptor("l"), ttl(100, UpdateType.OnReadAndWrite)))
    state.add("a")
    clock.now += 60
    state.add("b")
    clock.now += 50  # a expired, b alive
    assert state.get() == ["b"]
    clock.now += 90  # b was refreshed by the read
    assert state.get() == ["b"]


def test_map_entries_expire_one_by_one() -> None:
    """State TTL: map state entries expire separately; contains/keys/items skip and remove expired entries."""
    backend, clock = backend_with_clock()
    state = backend.get_state(with_ttl(MapStateDescriptor("m", Types.STRING(), Types.INT()), ttl(100)))
    state.put("a", 1)
    clock.now += 60
    state.put_all({"b": 2})
    assert sorted(state.items()) == [("a", 1), ("b", 2)]
    clock.now += 50
    assert state.get("a") is None and not state.contains("a") and "b" in state
    assert list(state.keys()) == ["b"] and list(state.values()) == [2]
    clock.now += 60
    assert state.is_empty()
    assert backend.tables()["m"] == {}


def test_reducing_and_aggregating_restart_after_expiry() -> None:
    """State TTL: an expired reducing/aggregating value counts as absent when the next value is added."""
    class Average(AggregateFunction):
        def create_accumulator(self) -> Any:
            return (0, 0)

        def add(self, value: Any, accumulator: Any) -> Any:
            return accumulator[0] + value, accumulator[1] + 1

        def get_result(self, accumulator: Any) -> Any:
            return accumulator[0] / accumulator[1]

        def merge(self, acc_a: Any, acc_b: Any) -> Any:
            return acc_a[0] + acc_b[0], acc_a[1] + acc_b[1]

    backend, clock = backend_with_clock()
    total = backend.get_state(with_ttl(ReducingStateDescriptor("sum", lambda a, b: a + b, Types.INT()), ttl(100)))
    avg = backend.get_state(with_ttl(AggregatingStateDescriptor("avg", Average(), Types.TUPLE([])), ttl(100)))
    for v in (2, 4):
        total.add(v)
        avg.add(v)
    assert (total.get(), avg.get()) == (6, 3.0)
    clock.now += 100
    total.add(10)
    avg.add(10)
    assert (total.get(), avg.get()) == (10, 10.0)
    clock.now += 100
    assert (total.get(), avg.get()) == (None, None)


def test_full_snapshot_cleanup_leaves_expired_values_out() -> None:
    """State TTL > Cleanup in full snapshot: expired values are not written to the snapshot."""
    backend, clock = backend_with_clock()
    state = backend.get_state(with_ttl(ValueStateDescriptor("v"), ttl(100, full_snapshot=True)))
    for key in ("a", "b"):
        backend.set_current_key(key)
        state.update(key)
        clock.now += 60
    snapshot = backend.snapshot()
    values = {k: v[0] for states in snapshot.groups.values() for k, v in states.get("v", {}).items()}
    assert values == {"b": "b"}
    assert "v" in snapshot.ttl_states


def test_incremental_cleanup_removes_untouched_keys() -> None:
    """State TTL > Incremental cleanup: each state access checks a few more keys and removes expired ones."""
    backend, clock = backend_with_clock()
    state = backend.get_state(with_ttl(ValueStateDescriptor("v"), ttl(100, incremental=(2, False))))
    for key in range(6):
        backend.set_current_key(key)
        state.update(key)
    clock.now += 100
    backend.set_current_key("other")
    for _ in range(3):
        state.value()  # 3 accesses x 2 keys
    assert backend.tables()["v"] == {}


def test_incremental_cleanup_for_every_record() -> None:
    """State TTL > Incremental cleanup: run_cleanup_for_every_record also checks keys when a record's key is set."""
    backend, clock = backend_with_clock()
    state = backend.get_state(with_ttl(ValueStateDescriptor("v"), ttl(100, incremental=(1, True))))
    for key in range(3):
        backend.set_current_key(key)
        state.update(key)
    clock.now += 100
    for _ in range(3):
        backend.set_current_key("x")  # a record arrives; no state access
    assert backend.tables()["v"] == {}


def test_enabling_ttl_on_existing_state_is_an_error() -> None:
    """State TTL: state written without TTL cannot be read with TTL (Flink fails the same way on restore)."""
    backend, _ = backend_with_clock()
    backend.get_state(ValueStateDescriptor("v")).update(1)
    other = HashMapKeyedStateBackend()
    other.restore([backend.snapshot()])
    with pytest.raises(ValueError, match="time-to-live"):
        other.get_state(with_ttl(ValueStateDescriptor("v"), ttl(100)))
