"""The TCP side of the data plane: frames, the partition registry and the data server.

Frame: 4-byte big-endian payload length, 1 type byte, payload. A consumer opens one connection per remote
input channel and sends REQUEST(partition id, subpartition, initial credit); the server answers OK or
NOT_FOUND (the consumer retries: its producer may not be deployed yet), then sends DATA frames (pickle
protocol 5 of ``(values, timestamps)``) only while the consumer has credit, plus EVENT/ERROR frames.
"""

from __future__ import annotations

import asyncio
import marshal
import pickle
import struct
from typing import Any, Optional

import cloudpickle

from yflink.runtime.network import DATA, ERROR, EVENT
from yflink.runtime.network.events import END_OF_PARTITION, UpstreamError
from yflink.runtime.network.partition import ENCODED, ResultPartition
from yflink.state.key_groups import speedups

FRAME_REQUEST = 1
FRAME_OK = 2
FRAME_NOT_FOUND = 3
FRAME_CREDIT = 4
FRAME_DATA = 5
FRAME_EVENT = 6
FRAME_ERROR = 7
FRAME_DATA_MARSHAL = 8  # a batch of only built-in values (str, int, float, tuple, list, dict, ...), marshal-encoded
FRAME_DATA_COMPACT = 9  # a batch of str/int/float/bool/None/bytes and tuples of them, yflink/_speedups.c's codec

_HEADER = struct.Struct("!IB")
NOT_FOUND_WAIT_S = 2.0  # the server waits this long for a partition before answering NOT_FOUND
_DRAIN_ABOVE = 1 << 20  # bytes buffered in the transport before the sender waits for the socket
CLOSE_WAIT_S = 30.0  # after the last frame, how long the server waits for the consumer to close


def encode_frame(kind: int, payload: bytes) -> bytes:
    return _HEADER.pack(len(payload), kind) + payload


class _EncodeHints:
    """Per connection: which encodings still work for its batches (each stops being tried after a failure), and
    whether the consumer reads the compact codec (it says so in its partition request)."""

    __slots__ = ("use_compact", "use_marshal", "use_cloudpickle")

    def __init__(self, compact: bool = False) -> None:
        self.use_compact = compact and speedups is not None
        self.use_marshal = True
        self.use_cloudpickle = False


def encode_batch(values: list[Any], timestamps: Optional[list[int]], hints: _EncodeHints) -> bytes:
    """A DATA frame for a batch: the compact C codec for tuples of str/int/float/bool/None/bytes (3-4x faster to
    write than marshal, the usual keyed-shuffle record), marshal when every value is another built-in type (about
    twice as fast as pickle for tuples of str/int), else pickle protocol 5 (any picklable object)."""
    if hints.use_compact:
        assert speedups is not None
        payload = speedups.encode_batch(values, timestamps)
        if payload is not None:
            return encode_frame(FRAME_DATA_COMPACT, payload)
        hints.use_compact = False  # a value it does not know (a list, a Row, a big int): marshal from now on
    if hints.use_marshal:
        try:
            return encode_frame(FRAME_DATA_MARSHAL, marshal.dumps((values, timestamps)))
        except ValueError:  # a value marshal does not know (a Row, a user class): pickle from now on
            hints.use_marshal = False
    if not hints.use_cloudpickle:
        try:
            return encode_frame(FRAME_DATA, pickle.dumps((values, timestamps), protocol=5))
        except (pickle.PicklingError, AttributeError, TypeError):
            # A class defined in the job script (``__main__``) exists here only by value: cloudpickle ships it;
            # its output loads with plain pickle.
            hints.use_cloudpickle = True
    return encode_frame(FRAME_DATA, cloudpickle.dumps((values, timestamps), protocol=5))


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    header = await reader.readexactly(_HEADER.size)
    length, kind = _HEADER.unpack(header)
    payload = await reader.readexactly(length) if length else b""
    return kind, payload


class PartitionRegistry:
    """The result partitions a slot worker currently serves, by partition id."""

    def __init__(self) -> None:
        self._partitions: dict[str, ResultPartition] = {}
        self._waiters: dict[str, list[asyncio.Future[ResultPartition]]] = {}

    def register(self, partition: ResultPartition) -> None:
        self._partitions[partition.partition_id] = partition
        for fut in self._waiters.pop(partition.partition_id, []):
            if not fut.done():
                fut.set_result(partition)

    def release(self, partition_id: str) -> None:
        self._partitions.pop(partition_id, None)

    def get(self, partition_id: str) -> Optional[ResultPartition]:
        return self._partitions.get(partition_id)

    async def wait_for(self, partition_id: str, timeout_s: float) -> Optional[ResultPartition]:
        partition = self._partitions.get(partition_id)
        if partition is not None:
            return partition
        fut: asyncio.Future[ResultPartition] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(partition_id, []).append(fut)
        try:
            return await asyncio.wait_for(fut, timeout_s)
        except TimeoutError:
            return None
        finally:
            waiters = self._waiters.get(partition_id)
            if waiters and fut in waiters:
                waiters.remove(fut)

    def __len__(self) -> int:
        return len(self._partitions)


class DataServer:
    """Serves this slot worker's subpartitions to remote consumers."""

    def __init__(self, registry: PartitionRegistry, host: str) -> None:
        self.registry = registry
        self.host = host
        self.port = 0
        self._server: Optional[asyncio.AbstractServer] = None
        self.bytes_sent = 0

    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._serve, self.host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            kind, payload = await read_frame(reader)
            if kind != FRAME_REQUEST:
                return
            request = pickle.loads(payload)  # (partition id, subpartition, credit[, reads the compact codec])
            partition_id, sub_index, credit = request[:3]
            compact = len(request) > 3 and bool(request[3])
            partition = await self.registry.wait_for(partition_id, NOT_FOUND_WAIT_S)
            if partition is None:
                writer.write(encode_frame(FRAME_NOT_FOUND, b""))
                await writer.drain()
                return
            writer.write(encode_frame(FRAME_OK, b""))
            await self._send(partition, sub_index, credit, reader, writer, compact)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        except Exception as exc:  # noqa: BLE001 - e.g. a record that cannot be serialized: tell the consumer
            error = UpstreamError(f"could not send a record: {type(exc).__name__}: {exc}", consequential=False)
            try:
                writer.write(encode_frame(FRAME_ERROR, pickle.dumps(error, protocol=5)))
                await writer.drain()
            except (ConnectionError, OSError):
                pass
        finally:
            writer.close()

    async def _send(self, partition: ResultPartition, sub_index: int, credit: int,
                    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, compact: bool = False) -> None:
        sub = partition.subpartitions[sub_index]
        available = asyncio.Event()
        credit_event = asyncio.Event()
        state = {"credit": credit}

        async def read_credits() -> None:
            try:
                while True:
                    kind, payload = await read_frame(reader)
                    if kind == FRAME_CREDIT:
                        state["credit"] += int.from_bytes(payload, "big")
                        credit_event.set()
            except (asyncio.IncompleteReadError, ConnectionError, OSError):
                state["credit"] = -(1 << 30)
                credit_event.set()
                available.set()

        credit_task = asyncio.get_running_loop().create_task(read_credits())
        sub.listener = available.set
        dumps = pickle.dumps
        hints = _EncodeHints(compact)

        def encode_eagerly(values: list[Any], timestamps: Optional[list[int]]) -> Optional[bytes]:
            try:
                return encode_batch(values, timestamps, hints)
            except Exception:  # noqa: BLE001 - left to the send below, which tells the consumer what failed
                return None

        sub.encoder = encode_eagerly
        transport = writer.transport
        try:
            while True:
                while not sub.items:
                    available.clear()
                    if state["credit"] < -1:
                        return
                    await available.wait()
                item = sub.items[0]
                if item[0] == DATA:
                    while state["credit"] <= 0:
                        if state["credit"] < -1:
                            return
                        credit_event.clear()
                        await credit_event.wait()
                    sub.poll()
                    state["credit"] -= 1
                    frame = item[1] if item[2] is ENCODED else encode_batch(item[1], item[2], hints)
                elif item[0] == EVENT:
                    sub.poll()
                    frame = encode_frame(FRAME_EVENT, dumps(item[1], protocol=5))
                else:
                    assert item[0] == ERROR
                    sub.poll()
                    frame = encode_frame(FRAME_ERROR, dumps(item[1], protocol=5))
                writer.write(frame)
                self.bytes_sent += len(frame)
                if item[0] == ERROR or (item[0] == EVENT and item[1] is END_OF_PARTITION):
                    await writer.drain()
                    # The consumer closes first, once it has read the last frame: closing here could make its
                    # pending credit writes fail and discard data it has not read yet.
                    try:
                        await asyncio.wait_for(asyncio.shield(credit_task), CLOSE_WAIT_S)
                    except TimeoutError:
                        pass
                    return
                if transport.get_write_buffer_size() > _DRAIN_ABOVE:
                    await writer.drain()
        finally:
            sub.listener = None
            sub.encoder = None
            credit_task.cancel()
