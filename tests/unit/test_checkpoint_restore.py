"""Restore from checkpoint storage, with and without a change of parallelism.

Flink documentation, "Task Failure Recovery" (restart from the latest completed checkpoint), "Savepoints"
(state maps to operators by uid; --allowNonRestoredState; changing the parallelism), "Stateful Stream Processing"
> "Keyed State" (key groups are the unit of redistribution) and "Working with State" > "Operator State" (list
state: even-split redistribution; union list state: union redistribution) and "The Broadcast State Pattern".
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from yflink.checkpoint.assignment import assign_state
from yflink.checkpoint.errors import StateAssignmentError
from yflink.checkpoint.handles import (
    ByteStreamStateHandle,
    FileStateHandle,
    KeyGroupRange,
    KeyGroupsStateHandle,
    OperatorState,
    OperatorStateMode,
)
from yflink.checkpoint.metadata import CheckpointMetadata
from yflink.checkpoint.operator_ids import operator_id_from_uid
from yflink.checkpoint.pending import VertexInfo
from yflink.checkpoint.storage import CheckpointStorage
from yflink.checkpoint.task_state import restore_operator_snapshots, write_operator_snapshot
from yflink.common import Types
from yflink.datastream import KeyedProcessFunction, ListStateDescriptor, RuntimeContext, ValueStateDescriptor
from yflink.datastream.checkpointed_function import (
    CheckpointedFunction,
    FunctionInitializationContext,
    FunctionSnapshotContext,
)
from yflink.state.key_groups import assign_key_to_operator, assign_to_key_group, key_group_range
from yflink.state.snapshot import (
    KeyedStateSnapshot,
    OperatorSnapshot,
    OperatorStateSnapshot,
    keyed_state_for,
    operator_state_for,
)
from yflink.streaming.operators.process import KeyedProcessOperator
from yflink.testing import OneInputOperatorTestHarness as Harness

JOB = "cafe" * 8
OP = operator_id_from_uid("counts")


def storage_at(tmp_path: Path) -> CheckpointStorage:
    return CheckpointStorage(JOB, str(tmp_path / "chk"))


def written(storage: CheckpointStorage, snapshots: list[OperatorSnapshot], max_parallelism: int,
            inline_threshold: int = 0) -> OperatorState:
    """Write every old subtask's snapshot like tasks do; the operator's state as the metadata records it."""
    location = storage.checkpoint_location(1)
    storage.initialize_location(location)
    parallelism = len(snapshots)
    state = OperatorState(OP, parallelism, max_parallelism, uid="counts")
    for snapshot in snapshots:
        groups = KeyGroupRange.of(key_group_range(max_parallelism, parallelism, snapshot.subtask_index))
        state.subtasks[snapshot.subtask_index] = write_operator_snapshot(
            storage, location.exclusive_dir, snapshot, groups, inline_threshold=inline_threshold)
    return state


def random_snapshots(rng: random.Random, parallelism: int, max_parallelism: int) -> list[OperatorSnapshot]:
    snapshots = []
    for index in range(parallelism):
        groups = key_group_range(max_parallelism, parallelism, index)
        keyed = KeyedStateSnapshot(max_parallelism, kinds={"v": "value", "l": "list"}, ttl_states={"v"})
        for key in range(200):
            group = assign_to_key_group(key, max_parallelism)
            if group in groups and rng.random() < 0.5:
                keyed.groups.setdefault(group, {}).setdefault("v", {})[key] = (key * 7, 123)
                keyed.groups[group].setdefault("l", {})[key] = [key] * rng.randint(1, 3)
        operator = OperatorStateSnapshot(
            list_states={"offsets": [f"s{index}-{i}" for i in range(rng.randint(0, 5))]},
            union_states={"all": [index, index * 10]},
            broadcast_states={"rules": {"r": 1, "who": index}})
        snapshots.append(OperatorSnapshot(index, parallelism, keyed, operator))
    return snapshots


@pytest.mark.parametrize("old,new", [(2, 3), (3, 1), (2, 2), (4, 3), (1, 4), (3, 7)])
@pytest.mark.parametrize("inline", [0, 1 << 20])
def test_storage_round_trip_redistributes_exactly_like_the_in_memory_rules(
        tmp_path: Path, old: int, new: int, inline: int) -> None:
    """Rescaling through files and metadata gives every new subtask what redistributing the snapshots in memory
    gives it (key groups by range; list state split; union to all; broadcast copies)."""
    rng = random.Random(old * 10 + new)
    max_parallelism = 16
    originals = random_snapshots(rng, old, max_parallelism)
    storage = storage_at(tmp_path)
    state = written(storage, originals, max_parallelism, inline_threshold=inline)
    streams = [h.stream for s in state.subtasks.values() for h in s.keyed]
    assert all(isinstance(s, ByteStreamStateHandle if inline else FileStateHandle) for s in streams)
    metadata = CheckpointMetadata(1, JOB, 0, operators=[state])
    vertex = VertexInfo("v", new, max_parallelism, (OP,))
    assignment = assign_state(metadata, [vertex])
    seen_keys: set[int] = set()
    for index in range(new):
        restore = assignment[("v", index)].operators[OP]
        restored = restore_operator_snapshots(storage, restore, index, new)
        assert len(restored) == new
        groups = key_group_range(max_parallelism, new, index)
        expected_keyed = keyed_state_for([s.keyed for s in originals if s.keyed], groups)
        got_keyed = keyed_state_for([s.keyed for s in restored if s.keyed is not None], groups)
        assert got_keyed.groups == expected_keyed.groups
        if expected_keyed.groups:
            assert got_keyed.kinds == expected_keyed.kinds and got_keyed.ttl_states == {"v"}
        seen_keys |= {k for table in got_keyed.groups.values() for k in table.get("v", {})}
        assert operator_state_for([s.operator for s in restored], index, new) == operator_state_for(
            [s.operator for s in originals], index, new)
    assert seen_keys == {k for s in originals if s.keyed for t in s.keyed.groups.values() for k in t.get("v", {})}


def test_list_state_slices_follow_the_even_split() -> None:
    """Working with State: even-split redistribution of list state, 2 old subtasks of 3 elements onto 4."""
    from yflink.checkpoint.handles import OperatorStateHandle, OperatorSubtaskState, StateMetaInfo
    handles = [OperatorStateHandle({"offsets": StateMetaInfo(OperatorStateMode.SPLIT_DISTRIBUTE, 3)},
                                   ByteStreamStateHandle(f"h{i}", b"")) for i in range(2)]
    state = OperatorState(OP, 2, 128, {i: OperatorSubtaskState([], [handles[i]]) for i in range(2)})
    plan = assign_state(CheckpointMetadata(1, JOB, 0, operators=[state]), [VertexInfo("v", 4, 128, (OP,))])
    ranges = [[(s.handle.stream.name, s.start, s.end) for s in plan[("v", i)].operators[OP].operator_slices]  # type: ignore[union-attr]
              for i in range(4)]
    assert ranges == [[("h0", 0, 2)], [("h0", 2, 3), ("h1", 0, 1)], [("h1", 1, 2)], [("h1", 2, 3)]]


class Count(KeyedProcessFunction):
    """Counts per key and emits the running count."""

    def open(self, runtime_context: RuntimeContext) -> None:
        self.count = runtime_context.get_state(ValueStateDescriptor("count", Types.LONG()))

    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Any:
        self.count.update((self.count.value() or 0) + 1)
        yield value, self.count.value()


def run_keyed(harnesses: list[Harness], records: list[str], max_parallelism: int) -> dict[str, int]:
    latest: dict[str, int] = {}
    for record in records:
        harness = harnesses[assign_key_to_operator(record, max_parallelism, len(harnesses))]
        harness.clear_output()
        harness.process_element(record)
        for key, count in harness.get_output():
            latest[key] = count
    return latest


@pytest.mark.parametrize("old,new", [(2, 3), (3, 1), (1, 2)])
def test_keyed_job_restored_at_another_parallelism_counts_like_an_uninterrupted_run(
        tmp_path: Path, old: int, new: int) -> None:
    """Savepoints > changing the parallelism: restore at parallelism 3, 1, 2 gives the uninterrupted result."""
    max_parallelism = 32
    rng = random.Random(5)
    records = [f"key-{rng.randint(0, 40)}" for _ in range(600)]
    first, second = records[:350], records[350:]

    def harnesses(parallelism: int) -> list[Harness]:
        return [Harness(KeyedProcessOperator(Count(), lambda v: v), parallelism=parallelism, subtask_index=i,
                        max_parallelism=max_parallelism) for i in range(parallelism)]

    expected = run_keyed([h.open() for h in harnesses(1)], records, max_parallelism)
    before = [h.open() for h in harnesses(old)]
    run_keyed(before, first, max_parallelism)
    storage = storage_at(tmp_path)
    state = written(storage, [h.snapshot(1) for h in before], max_parallelism)
    location = storage.checkpoint_location(1)
    pointer = storage.write_metadata(location, CheckpointMetadata(1, JOB, 0, operators=[state]))
    metadata = storage.read_metadata(pointer)  # as a restarted JobMaster reads it
    assignment = assign_state(metadata, [VertexInfo("v", new, max_parallelism, (OP,))], location=pointer)
    after = harnesses(new)
    for index, harness in enumerate(after):
        restore = assignment[("v", index)].operators[OP]
        harness.initialize_state(restore_operator_snapshots(storage, restore, index, new))
        harness.open()
    final = run_keyed(after, second, max_parallelism)
    assert {k: v for k, v in final.items()} == {k: expected[k] for k in final}
    assert set(final) == set(second)


class Offsets(KeyedProcessFunction, CheckpointedFunction):
    """Keeps a list of 'offsets' in operator list state (like a source's unread splits)."""

    def __init__(self, mine: list[str]) -> None:
        self.mine = mine

    def snapshot_state(self, context: FunctionSnapshotContext) -> None:
        self.state.update(self.mine)

    def initialize_state(self, context: FunctionInitializationContext) -> None:
        self.state = context.get_operator_state_store().get_list_state(ListStateDescriptor("offsets", Types.STRING()))
        if context.is_restored():
            self.mine = list(self.state.get())

    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Any:
        yield from ()


def test_checkpointed_function_list_state_is_split_over_the_new_subtasks(tmp_path: Path) -> None:
    old = [Harness(KeyedProcessOperator(Offsets([f"s{i}-{j}" for j in range(3)]), lambda v: v), parallelism=2,
                   subtask_index=i) for i in range(2)]
    storage = storage_at(tmp_path)
    state = written(storage, [h.snapshot(1) for h in old], 128)
    assignment = assign_state(CheckpointMetadata(1, JOB, 0, operators=[state]), [VertexInfo("v", 4, 128, (OP,))])
    shares = []
    for index in range(4):
        harness = Harness(KeyedProcessOperator(Offsets([]), lambda v: v), parallelism=4, subtask_index=index,
                          copy_operator=False)
        harness.initialize_state(restore_operator_snapshots(storage, assignment[("v", index)].operators[OP],
                                                            index, 4))
        shares.append(harness.operator.function.mine)
    assert shares == [["s0-0", "s0-1"], ["s0-2", "s1-0"], ["s1-1"], ["s1-2"]]


def test_state_of_a_missing_operator_needs_allow_non_restored_state(tmp_path: Path) -> None:
    """Savepoints > allowing non-restored state."""
    storage = storage_at(tmp_path)
    state = written(storage, random_snapshots(random.Random(1), 1, 128), 128)
    metadata = CheckpointMetadata(1, JOB, 0, operators=[state])
    other = VertexInfo("v", 1, 128, (operator_id_from_uid("something-else"),))
    with pytest.raises(StateAssignmentError, match="uid 'counts'.*--allowNonRestoredState"):
        assign_state(metadata, [other])
    plan = assign_state(metadata, [other], allow_non_restored_state=True)
    assert plan[("v", 0)].operators == {}
    empty = OperatorState(operator_id_from_uid("stateless"), 1, 128)
    assert assign_state(CheckpointMetadata(1, JOB, 0, operators=[empty]), [other])  # nothing to lose: fine


def test_keyed_state_cannot_change_its_max_parallelism(tmp_path: Path) -> None:
    storage = storage_at(tmp_path)
    state = written(storage, random_snapshots(random.Random(2), 2, 16), 16)
    with pytest.raises(StateAssignmentError, match="max parallelism .* changed from 16 to 32"):
        assign_state(CheckpointMetadata(1, JOB, 0, operators=[state]), [VertexInfo("v", 2, 32, (OP,))])


def test_new_operators_start_empty_and_finished_ones_stay_finished() -> None:
    finished = OperatorState(OP, 2, 128, fully_finished=True)
    new_op = operator_id_from_uid("new")
    plan = assign_state(CheckpointMetadata(1, JOB, 0, operators=[finished]),
                        [VertexInfo("v", 2, 128, (OP, new_op))])
    assert plan[("v", 1)].operators[OP].fully_finished and plan[("v", 1)].operators[OP].is_empty()
    assert new_op not in plan[("v", 1)].operators and plan[("v", 1)].checkpoint_id == 1


def test_key_group_handles_are_cut_to_the_new_ranges() -> None:
    handle = KeyGroupsStateHandle(KeyGroupRange(0, 7), tuple(range(0, 80, 10)), ByteStreamStateHandle("k", b""))
    cut = handle.intersection(KeyGroupRange(5, 12))
    assert cut is not None and cut.key_groups == KeyGroupRange(5, 7) and cut.offsets == (50, 60, 70)
    assert handle.intersection(KeyGroupRange(8, 9)) is None
    assert handle.byte_range(7, 100) == (70, 30) and handle.byte_range(0, 100) == (0, 10)
    with pytest.raises(ValueError, match="offsets"):
        KeyGroupsStateHandle(KeyGroupRange(0, 1), (0,), ByteStreamStateHandle("k", b""))


def test_keyed_state_outside_the_subtask_range_is_a_bug(tmp_path: Path) -> None:
    snapshot = OperatorSnapshot(0, 2, KeyedStateSnapshot(8, groups={7: {"v": {"x": 1}}}))
    with pytest.raises(ValueError, match="outside the subtask's range"):
        write_operator_snapshot(storage_at(tmp_path), "file:///unused", snapshot, KeyGroupRange(0, 3))


def _graph(with_uid: bool, extra_map: bool = False) -> Any:
    from yflink.common.configuration import Configuration
    from yflink.datastream import StreamExecutionEnvironment
    env = StreamExecutionEnvironment.get_execution_environment(Configuration())
    stream = env.from_collection([1, 2]).map(lambda x: x)
    if with_uid:
        stream = stream.uid("the-map")
    if extra_map:
        stream = stream.map(lambda x: x)
    stream.key_by(lambda x: x).map(lambda x: x).print()
    return env.get_stream_graph()


def test_operator_ids_are_stable_and_follow_the_uid() -> None:
    """Savepoints > Assigning Operator IDs: ids come from the uid, else from the (unchanged) topology."""
    from yflink.checkpoint.operator_ids import stable_operator_ids
    first, again = stable_operator_ids(_graph(False)), stable_operator_ids(_graph(False))
    assert list(first.values()) == list(again.values()) and len(set(first.values())) == len(first)
    assert all(len(i) == 32 for i in first.values())
    with_uid = _graph(True)
    ids = stable_operator_ids(with_uid)
    the_map = next(n.id for n in with_uid.nodes.values() if n.uid == "the-map")
    assert ids[the_map] == operator_id_from_uid("the-map")
    changed = stable_operator_ids(_graph(True, extra_map=True))
    assert operator_id_from_uid("the-map") in changed.values()  # the uid keeps its id when the program changes
