"""Result partitions, record writers and local input channels in one process (no sockets).

Semantics: Flink "Network Stack" (pipelined subpartitions, bounded buffers as backpressure, end of partition).
"""

import asyncio
import collections

import pytest

from yflink.graph.partitioners import KeyGroupStreamPartitioner, RebalancePartitioner
from yflink.runtime.deployment import InputChannelDescriptor
from yflink.runtime.network import DATA, ERROR, EVENT
from yflink.runtime.network.events import END_OF_PARTITION
from yflink.runtime.network.gate import InputGate, LocalInputChannel
from yflink.runtime.network.partition import RecordWriter, ResultPartition
from yflink.runtime.network.transport import PartitionRegistry


def test_record_writer_batches_and_flushes() -> None:
    async def run() -> None:
        part = ResultPartition("p", 1, capacity=100)
        writer = RecordWriter(part, RebalancePartitioner(), batch_size=4)
        writer.emit([1, 2, 3], None)
        assert not part.subpartitions[0].items  # not full yet
        writer.emit([4, 5], None)
        assert [i[1] for i in part.subpartitions[0].items] == [[1, 2, 3, 4, 5]]
        writer.emit([6], [60])  # a timestamped batch never mixes with an untimestamped one
        writer.finish()
        items = list(part.subpartitions[0].items)
        assert items[1] == (DATA, [6], [60])
        assert items[2] == (EVENT, END_OF_PARTITION, None)
        assert writer.records_out == 6

    asyncio.run(run())


def test_local_channels_deliver_every_record_in_order_per_channel_with_backpressure() -> None:
    async def run() -> tuple[list[int], int]:
        registry = PartitionRegistry()
        part = ResultPartition("p1", 2, capacity=2)
        registry.register(part)
        writer = RecordWriter(part, KeyGroupStreamPartitioner(lambda x: x % 10, 128), batch_size=8)
        gates = []
        for sub in range(2):
            gate = InputGate()
            LocalInputChannel(gate, InputChannelDescriptor("p1", sub, "here", "producer"), registry, 0)
            gates.append(gate)
        await asyncio.gather(*(g.connect() for g in gates))
        waits = 0

        async def produce() -> None:
            nonlocal waits
            for start in range(0, 1000, 50):
                writer.emit(list(range(start, start + 50)), None)
                if not part.has_space():
                    waits += 1
                    await part.wait_for_space()
                    assert all(len(s.items) <= s.capacity for s in part.subpartitions)
            writer.finish()

        async def consume(gate: InputGate) -> list[int]:
            got: list[int] = []
            while True:
                _, item = await gate.next()
                if item[0] == EVENT:
                    return got
                got.extend(item[1])
                await asyncio.sleep(0)

        results = await asyncio.gather(produce(), consume(gates[0]), consume(gates[1]))
        return sorted(results[1] + results[2]), waits

    received, waits = asyncio.run(run())
    assert received == list(range(1000))
    assert waits > 0  # the producer had to wait for the consumers: bounded buffers are backpressure


def test_failed_producer_reaches_consumer_as_error() -> None:
    async def run() -> tuple:
        registry = PartitionRegistry()
        part = ResultPartition("p2", 1, capacity=2)
        registry.register(part)
        gate = InputGate()
        LocalInputChannel(gate, InputChannelDescriptor("p2", 0, "here", "producer"), registry, 0)
        await gate.connect()
        part.fail("producer 'Map (1/1)' did not finish: ValueError")
        return (await gate.next())[1]

    kind, error, _ = asyncio.run(run())
    assert kind == ERROR and "ValueError" in error.message
    assert error.consequential  # the producer reports its own failure; the consumer is cancelled


def test_partition_is_released_when_every_subpartition_consumed_end() -> None:
    async def run() -> int:
        registry = PartitionRegistry()
        part = ResultPartition("p3", 1, capacity=2, on_released=registry.release)
        registry.register(part)
        part.finish()
        part.subpartitions[0].poll()
        return len(registry)

    assert asyncio.run(run()) == 0


Point = collections.namedtuple("Point", "x y")


def test_batches_of_builtins_use_marshal_and_others_fall_back_to_pickle() -> None:
    import marshal
    import pickle

    from yflink.runtime.network.transport import FRAME_DATA, FRAME_DATA_MARSHAL, _EncodeHints, encode_batch

    hints = _EncodeHints()  # a consumer that did not ask for the compact codec
    frame = encode_batch([("a", 1), ("b", 2)], [5, 6], hints)
    assert frame[4] == FRAME_DATA_MARSHAL and marshal.loads(frame[5:]) == ([("a", 1), ("b", 2)], [5, 6])
    frame = encode_batch([Point(1, 2)], None, hints)  # a tuple subclass must keep its type: pickle
    assert frame[4] == FRAME_DATA and type(pickle.loads(frame[5:])[0][0]) is Point
    assert not hints.use_marshal


def test_consumers_that_ask_for_it_get_the_compact_codec_until_a_batch_needs_more() -> None:
    from yflink.runtime.network.transport import FRAME_DATA_COMPACT, FRAME_DATA_MARSHAL, _EncodeHints, encode_batch
    from yflink.state.key_groups import speedups

    if speedups is None:
        pytest.skip("yflink._speedups was not built")
    hints = _EncodeHints(compact=True)
    frame = encode_batch([("a", 1), ("b", 2)], [5, 6], hints)
    assert frame[4] == FRAME_DATA_COMPACT and speedups.decode_batch(frame[5:]) == ([("a", 1), ("b", 2)], [5, 6])
    frame = encode_batch([["a list"]], None, hints)
    assert frame[4] == FRAME_DATA_MARSHAL and not hints.use_compact


def test_blocked_channel_holds_its_data_until_unblocked() -> None:
    """Barrier alignment (Flink "Stateful Stream Processing", Barriers): a blocked channel is not read."""

    async def run() -> list[tuple[int, object]]:
        registry = PartitionRegistry()
        parts = []
        gate = InputGate()
        for name in ("a", "b"):
            part = ResultPartition(name, 1, capacity=10)
            registry.register(part)
            parts.append(part)
            LocalInputChannel(gate, InputChannelDescriptor(name, 0, "here", name), registry, 0)
        await gate.connect()
        gate.block(0)
        parts[0].subpartitions[0].add((DATA, ["a1"], None))
        parts[1].subpartitions[0].add((DATA, ["b1"], None))
        first = gate.poll_now()
        nothing = gate.poll_now()
        gate.unblock_all()
        second = gate.poll_now()
        assert nothing is None
        return [(first[0], first[1][1]), (second[0], second[1][1])]  # type: ignore[index]

    assert asyncio.run(run()) == [(1, ["b1"]), (0, ["a1"])]
