"""Remote input channels over a loopback data server: credit-based flow control (Flink "Network Stack")."""

import asyncio

from yflink.graph.partitioners import RebalancePartitioner
from yflink.runtime.deployment import InputChannelDescriptor
from yflink.runtime.network import DATA, EVENT
from yflink.runtime.network.gate import InputGate, RemoteInputChannel
from yflink.runtime.network.partition import RecordWriter, ResultPartition
from yflink.runtime.network.transport import DataServer, PartitionRegistry


def test_remote_channel_receives_all_records_and_sender_respects_credit() -> None:
    async def run() -> tuple[list[int], int]:
        registry = PartitionRegistry()
        server = DataServer(registry, "127.0.0.1")
        port = await server.start()
        gate = InputGate()
        RemoteInputChannel(gate, InputChannelDescriptor("rp", 0, f"127.0.0.1:{port}", "producer"), 2, 0)
        connect = asyncio.create_task(gate.connect())  # before the partition exists: the consumer retries
        await asyncio.sleep(0.05)
        part = ResultPartition("rp", 1, capacity=2)
        registry.register(part)
        await connect
        writer = RecordWriter(part, RebalancePartitioner(), batch_size=10)
        max_in_flight = 0

        async def produce() -> None:
            for start in range(0, 5000, 100):
                writer.emit(list(range(start, start + 100)), None)
                await part.wait_for_space()
            writer.finish()

        async def consume() -> list[int]:
            nonlocal max_in_flight
            got: list[int] = []
            channel = gate.channels[0]
            while True:
                await asyncio.sleep(0.001)  # a slow consumer
                in_flight = sum(1 for i in channel.items if i[0] == DATA)  # type: ignore[attr-defined]
                max_in_flight = max(max_in_flight, in_flight)
                _, item = await gate.next()
                if item[0] == EVENT:
                    return got
                got.extend(item[1])

        _, got = await asyncio.gather(produce(), consume())
        gate.close()
        await server.close()
        return got, max_in_flight

    got, max_in_flight = asyncio.run(run())
    assert got == list(range(5000))
    assert max_in_flight <= 2  # never more buffers than credits granted


def test_lost_connection_becomes_an_error_naming_the_producer() -> None:
    async def run() -> tuple:
        registry = PartitionRegistry()
        server = DataServer(registry, "127.0.0.1")
        port = await server.start()
        part = ResultPartition("lp", 1, capacity=2)
        registry.register(part)
        gate = InputGate()
        channel = RemoteInputChannel(gate, InputChannelDescriptor("lp", 0, f"127.0.0.1:{port}", "Map (1/2)"), 2, 0)
        await gate.connect()
        await server.close()
        assert channel._writer is not None
        channel._writer.transport.abort()  # what a SIGKILLed producer process looks like from here
        item = (await gate.next())[1]
        return item

    kind, error, _ = asyncio.run(run())
    assert "Map (1/2)" in error.message and "lost" in error.message
    assert not error.consequential  # a lost TaskManager fails the consumer (it may be the first to notice)
