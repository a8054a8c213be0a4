"""Result partitions (the producer side) and record writers.

A task writes each outgoing JobEdge into one :class:`ResultPartition` with one :class:`Subpartition` per
consumer channel. A subpartition holds at most ``capacity`` buffers; a producer whose subpartitions are full
waits (that wait is backpressure). A consumer reads a subpartition directly when it lives in the same slot
worker (no serialization), or through the data server, which sends only against the consumer's credit.

Source of the semantics: Flink ``ResultPartition``, ``PipelinedSubpartition``, ``RecordWriter``,
``ChannelSelectorRecordWriter`` / ``BroadcastRecordWriter`` and the buffer timeout of ``OutputFlusher``
("Network Buffer Tuning" in the Flink documentation).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any, Optional

from yflink.graph.partitioners import StreamPartitioner
from yflink.runtime.network import DATA, ERROR, EVENT
from yflink.runtime.network.events import END_OF_PARTITION, UpstreamError

Item = tuple[int, Any, Any]
#: Third field of a DATA item whose second field is its network frame already (see ``Subpartition.encoder``).
ENCODED = object()


class Subpartition:
    """A bounded queue of buffers for one consumer channel."""

    __slots__ = ("items", "capacity", "listener", "encoder", "space", "eop_consumed", "on_consumed")

    def __init__(self, capacity: int) -> None:
        self.items: deque[Item] = deque()
        self.capacity = capacity
        self.listener: Optional[Callable[[], None]] = None  # called when an item is added
        #: Set while a remote consumer reads this subpartition: turns a batch into its network frame as it is added,
        #: while the records are still in the CPU's cache (None: the batch stays as it is, encoded when sent).
        self.encoder: Optional[Callable[[list[Any], Optional[list[int]]], Optional[bytes]]] = None
        self.space = asyncio.Event()
        self.space.set()
        self.eop_consumed = False
        self.on_consumed: Optional[Callable[[], None]] = None

    def add(self, item: Item) -> None:
        encoder = self.encoder
        if encoder is not None and item[0] == DATA:
            frame = encoder(item[1], item[2])
            if frame is not None:
                item = (DATA, frame, ENCODED)
        self.items.append(item)
        if len(self.items) >= self.capacity:
            self.space.clear()
        if self.listener is not None:
            self.listener()

    def poll(self) -> Optional[Item]:
        if not self.items:
            return None
        item = self.items.popleft()
        if len(self.items) < self.capacity:
            self.space.set()
        if item[0] == EVENT and item[1] is END_OF_PARTITION:
            self.eop_consumed = True
            if self.on_consumed is not None:
                self.on_consumed()
        return item

    def has_space(self) -> bool:
        return len(self.items) < self.capacity


class ResultPartition:
    """The data one producer subtask writes for one JobEdge."""

    def __init__(self, partition_id: str, num_subpartitions: int, capacity: int,
                 on_released: Optional[Callable[[str], None]] = None) -> None:
        self.partition_id = partition_id
        self.subpartitions = [Subpartition(capacity) for _ in range(num_subpartitions)]
        self._on_released = on_released
        for sub in self.subpartitions:
            sub.on_consumed = self._check_consumed

    def _check_consumed(self) -> None:
        if all(s.eop_consumed for s in self.subpartitions) and self._on_released is not None:
            self._on_released(self.partition_id)

    def has_space(self) -> bool:
        for sub in self.subpartitions:
            if len(sub.items) >= sub.capacity:
                return False
        return True

    async def wait_for_space(self) -> None:
        for sub in self.subpartitions:
            while not sub.has_space():
                await sub.space.wait()

    def finish(self) -> None:
        for sub in self.subpartitions:
            sub.add((EVENT, END_OF_PARTITION, None))

    def fail(self, message: str) -> None:
        """The producer stopped abnormally (failed or cancelled): consumers get an UpstreamError."""
        error = UpstreamError(message, consequential=True)
        for sub in self.subpartitions:
            sub.add((ERROR, error, None))


class RecordWriter:
    """Routes batches to subpartitions through a partitioner, batching records up to ``batch_size``.

    Args:
        partition: where the buffers go.
        partitioner: picks channels; ``setup`` is called here with the number of subpartitions.
        batch_size: records per buffer; a full pending buffer is handed over at once.
    """

    def __init__(self, partition: ResultPartition, partitioner: StreamPartitioner, batch_size: int) -> None:
        self.partition = partition
        self.subs = partition.subpartitions
        n = len(self.subs)
        partitioner.setup(n)
        self.partitioner = partitioner
        self.batch_size = batch_size
        self.pending: list[list[Any]] = [[] for _ in range(n)]
        self.pending_ts: list[Optional[list[int]]] = [None] * n
        self.records_out = 0

    def emit(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        self.records_out += len(values)
        batch_size = self.batch_size
        pending = self.pending
        for channel, vals, ts in self.partitioner.route(values, timestamps):
            buf = pending[channel]
            buf_ts = self.pending_ts[channel]
            if ts is None:
                if buf_ts is not None:
                    self.flush_channel(channel)
                    buf = pending[channel]
                if not buf and len(vals) >= batch_size:
                    self.subs[channel].add((DATA, vals, None))
                    continue
                buf.extend(vals)
            else:
                if buf_ts is None:
                    if buf:
                        self.flush_channel(channel)
                        buf = pending[channel]
                    buf_ts = self.pending_ts[channel] = []
                buf.extend(vals)
                buf_ts.extend(ts)
            if len(buf) >= batch_size:
                self.flush_channel(channel)

    def flush_channel(self, channel: int) -> None:
        buf = self.pending[channel]
        if buf:
            self.subs[channel].add((DATA, buf, self.pending_ts[channel]))
            self.pending[channel] = []
            self.pending_ts[channel] = None

    def flush_all(self) -> None:
        for channel in range(len(self.subs)):
            if self.pending[channel]:
                self.flush_channel(channel)

    def broadcast_event(self, event: Any) -> None:
        self.flush_all()
        for sub in self.subs:
            sub.add((EVENT, event, None))

    def finish(self) -> None:
        self.flush_all()
        self.partition.finish()
