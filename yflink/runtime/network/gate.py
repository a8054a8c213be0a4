"""Input gates (the consumer side): local and remote input channels.

A task reads one :class:`InputGate` holding every input channel of every input edge. Channels announce
data to the gate; the gate hands out items in the order channels became available (round robin among
busy channels). A local channel reads the producer's subpartition in the same slot worker; a remote channel
receives frames from the producer's data server and returns one credit for each buffer the task consumed
(Flink's credit-based flow control, "Network Stack" in the Flink documentation / FLINK-7282).
"""

from __future__ import annotations

import asyncio
import marshal
import pickle
from collections import deque
from typing import Any, Optional

from yflink.runtime.deployment import InputChannelDescriptor
from yflink.runtime.network import DATA, ERROR, EVENT
from yflink.runtime.network.events import EndOfPartition, UpstreamError
from yflink.runtime.network.partition import Item, Subpartition
from yflink.runtime.network.transport import (
    FRAME_CREDIT,
    FRAME_DATA,
    FRAME_DATA_COMPACT,
    FRAME_DATA_MARSHAL,
    FRAME_ERROR,
    FRAME_EVENT,
    FRAME_OK,
    FRAME_REQUEST,
    PartitionRegistry,
    encode_frame,
    read_frame,
)
from yflink.state.key_groups import speedups

PARTITION_REQUEST_TIMEOUT_S = 60.0  # how long a consumer waits for its producer's partition to appear
_BACKOFF_S = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0)


class UpstreamFailure(RuntimeError):
    """A producer failed or its connection was lost; the consuming task fails with this cause.

    ``consequential`` is True when the producer itself stopped (failed or cancelled): the consumer then ends
    CANCELED, since the producer's own report carries the root cause.
    """

    def __init__(self, message: str, consequential: bool = False) -> None:
        super().__init__(message)
        self.consequential = consequential


class InputChannel:
    type_number: int = 0

    def poll(self) -> Optional[Item]:
        raise NotImplementedError

    def has_data(self) -> bool:
        raise NotImplementedError

    async def connect(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class InputGate:
    """All input channels of one task."""

    def __init__(self) -> None:
        self.channels: list[InputChannel] = []
        self._available: deque[int] = deque()
        self._queued: list[bool] = []
        self._event = asyncio.Event()
        self._blocked: set[int] = set()  # channels held back for barrier alignment
        self._parked: set[int] = set()  # blocked channels that have data waiting

    def add_channel(self, channel: InputChannel) -> int:
        self.channels.append(channel)
        self._queued.append(False)
        return len(self.channels) - 1

    def notify(self, index: int) -> None:
        if not self._queued[index]:
            self._queued[index] = True
            self._available.append(index)
            self._event.set()

    async def connect(self) -> None:
        await asyncio.gather(*(c.connect() for c in self.channels))

    def block(self, index: int) -> None:
        """Stop handing out items of channel ``index`` (exactly-once barrier alignment). Its data stays
        queued; a local producer then waits for space and a remote one for credit, as in Flink."""
        self._blocked.add(index)

    def unblock_all(self) -> None:
        """Hand out items of every channel again."""
        self._blocked.clear()
        for index in self._parked:
            self.notify(index)
        self._parked.clear()

    def poll_now(self) -> Optional[tuple[int, Item]]:
        """The next item if one is available without waiting."""
        available = self._available
        while available:
            index = available.popleft()
            self._queued[index] = False
            if self._blocked and index in self._blocked:
                self._parked.add(index)
                continue
            channel = self.channels[index]
            item = channel.poll()
            if channel.has_data():
                self.notify(index)
            if item is not None:
                return index, item
        return None

    async def next(self) -> tuple[int, Item]:
        """Wait for the next item of any channel: (channel index, item)."""
        while True:
            got = self.poll_now()
            if got is not None:
                return got
            self._event.clear()
            await self._event.wait()

    def close(self) -> None:
        for c in self.channels:
            c.close()


class LocalInputChannel(InputChannel):
    """Reads a subpartition of a producer in the same slot worker: no serialization, no socket."""

    def __init__(self, gate: InputGate, desc: InputChannelDescriptor, registry: PartitionRegistry,
                 type_number: int) -> None:
        self.gate = gate
        self.desc = desc
        self.registry = registry
        self.type_number = type_number
        self.index = gate.add_channel(self)
        self.sub: Optional[Subpartition] = None

    async def connect(self) -> None:
        partition = await self.registry.wait_for(self.desc.partition_id, PARTITION_REQUEST_TIMEOUT_S)
        if partition is None:
            raise UpstreamFailure(f"partition of '{self.desc.producer_name}' did not appear within "
                                  f"{PARTITION_REQUEST_TIMEOUT_S:.0f} s")
        sub = partition.subpartitions[self.desc.subpartition_index]
        index = self.index
        gate = self.gate
        sub.listener = lambda: gate.notify(index)
        self.sub = sub
        if sub.items:
            gate.notify(index)

    def poll(self) -> Optional[Item]:
        assert self.sub is not None
        return self.sub.poll()

    def has_data(self) -> bool:
        return self.sub is not None and bool(self.sub.items)

    def close(self) -> None:
        if self.sub is not None:
            self.sub.listener = None


class RemoteInputChannel(InputChannel):
    """Receives a remote subpartition over TCP; grants one credit per consumed buffer."""

    def __init__(self, gate: InputGate, desc: InputChannelDescriptor, initial_credit: int, type_number: int) -> None:
        self.gate = gate
        self.desc = desc
        self.initial_credit = initial_credit
        self.type_number = type_number
        self.index = gate.add_channel(self)
        self.items: deque[Item] = deque()
        self._writer: Optional[asyncio.StreamWriter] = None
        self._reader_task: Optional[asyncio.Task[None]] = None
        self._done = False

    async def connect(self) -> None:
        host, _, port = self.desc.data_address.rpartition(":")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PARTITION_REQUEST_TIMEOUT_S
        attempt = 0
        while True:
            try:
                reader, writer = await asyncio.open_connection(host, int(port))
                writer.write(encode_frame(FRAME_REQUEST, pickle.dumps(
                    (self.desc.partition_id, self.desc.subpartition_index, self.initial_credit,
                     speedups is not None))))
                kind, _ = await read_frame(reader)
                if kind == FRAME_OK:
                    break
                writer.close()
            except (OSError, asyncio.IncompleteReadError):
                pass
            if loop.time() > deadline:
                raise UpstreamFailure(f"could not reach the partition of '{self.desc.producer_name}' at "
                                      f"{self.desc.data_address} within {PARTITION_REQUEST_TIMEOUT_S:.0f} s")
            await asyncio.sleep(_BACKOFF_S[min(attempt, len(_BACKOFF_S) - 1)])
            attempt += 1
        self._writer = writer
        self._reader_task = asyncio.get_running_loop().create_task(self._read_loop(reader))

    async def _read_loop(self, reader: asyncio.StreamReader) -> None:
        items = self.items
        notify = self.gate.notify
        index = self.index
        loads = pickle.loads
        marshal_loads = marshal.loads
        decode_compact: Any = speedups.decode_batch if speedups is not None else None  # asked for only with it
        try:
            while True:
                kind, payload = await read_frame(reader)
                if kind == FRAME_DATA_COMPACT:
                    values, timestamps = decode_compact(payload)
                    items.append((DATA, values, timestamps))
                elif kind == FRAME_DATA_MARSHAL:
                    values, timestamps = marshal_loads(payload)
                    items.append((DATA, values, timestamps))
                elif kind == FRAME_DATA:
                    values, timestamps = loads(payload)
                    items.append((DATA, values, timestamps))
                elif kind == FRAME_EVENT:
                    event = loads(payload)
                    items.append((EVENT, event, None))
                    if isinstance(event, EndOfPartition):
                        self._finish()
                        notify(index)
                        return
                elif kind == FRAME_ERROR:
                    items.append((ERROR, loads(payload), None))
                    self._finish()
                    notify(index)
                    return
                notify(index)
        except (asyncio.IncompleteReadError, ConnectionError, OSError) as exc:
            if not self._done:
                items.append((ERROR, UpstreamError(
                    f"connection to '{self.desc.producer_name}' at {self.desc.data_address} lost "
                    f"({type(exc).__name__}); its TaskManager may have died", consequential=False), None))
                notify(index)

    def _finish(self) -> None:
        """The last frame arrived: close our side, which tells the server it may close too."""
        self._done = True
        if self._writer is not None:
            self._writer.close()

    def poll(self) -> Optional[Item]:
        if not self.items:
            return None
        item = self.items.popleft()
        if item[0] == DATA and self._writer is not None and not self._done:
            self._writer.write(_CREDIT_ONE)
        return item

    def has_data(self) -> bool:
        return bool(self.items)

    def close(self) -> None:
        if self._reader_task is not None:
            self._reader_task.cancel()
        if self._writer is not None:
            self._writer.close()


_CREDIT_ONE = encode_frame(FRAME_CREDIT, (1).to_bytes(4, "big"))

