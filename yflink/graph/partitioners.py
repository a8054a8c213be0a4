"""Stream partitioners: which downstream channel(s) each record of a batch goes to.

Source of the semantics: Flink ``org.apache.flink.streaming.runtime.partitioner`` (ForwardPartitioner,
RebalancePartitioner, RescalePartitioner, ShufflePartitioner, BroadcastPartitioner, GlobalPartitioner,
KeyGroupStreamPartitioner) and the DataStream documentation, "Physical Partitioning".

Partitioners work on a batch: ``route(values, timestamps)`` returns ``[(channel, values, timestamps), ...]``
where ``timestamps`` is a list parallel to ``values`` or None. ``setup(num_channels)`` is called once per
producing subtask before the first batch. Forward and rescale are *pointwise* (a producer subtask is wired
to a subset of consumers); the others connect every producer to every consumer.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, Optional

from yflink.state.key_groups import assign_to_key_group, fast_key_selector, speedups, tuple_field

Routed = list[tuple[int, list[Any], Optional[list[int]]]]


class StreamPartitioner:
    """Base class; subclasses implement :meth:`route`."""

    #: True when producers connect to a subset of consumers (Flink's DistributionPattern.POINTWISE).
    is_pointwise = False
    #: True when every record goes to every channel.
    is_broadcast = False

    def __init__(self) -> None:
        self.num_channels = 1

    def setup(self, num_channels: int) -> None:
        self.num_channels = num_channels

    def route(self, values: list[Any], timestamps: Optional[list[int]]) -> Routed:
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.name()

    def name(self) -> str:
        """Flink's display name (``FORWARD``, ``REBALANCE``, ``HASH``, ...)."""
        return type(self).__name__.replace("Partitioner", "").upper()


class ForwardPartitioner(StreamPartitioner):
    """One-to-one: subtask i sends to subtask i of an equal-parallelism consumer."""

    is_pointwise = True

    def route(self, values: list[Any], timestamps: Optional[list[int]]) -> Routed:
        return [(0, values, timestamps)]


class GlobalPartitioner(StreamPartitioner):
    """Everything to the consumer's first subtask."""

    def route(self, values: list[Any], timestamps: Optional[list[int]]) -> Routed:
        return [(0, values, timestamps)]


class _RoundRobin(StreamPartitioner):
    def setup(self, num_channels: int) -> None:
        super().setup(num_channels)
        self._next = random.randrange(num_channels)

    def route(self, values: list[Any], timestamps: Optional[list[int]]) -> Routed:
        n = self.num_channels
        if n == 1:
            return [(0, values, timestamps)]
        start = self._next
        out: Routed = []
        for i in range(min(n, len(values))):
            channel = (start + i) % n
            out.append((channel, values[i::n], timestamps[i::n] if timestamps is not None else None))
        self._next = (start + len(values)) % n
        return out


class RebalancePartitioner(_RoundRobin):
    """Round robin over all consumer subtasks."""


class RescalePartitioner(_RoundRobin):
    """Round robin over the consumer subtasks this producer is wired to (pointwise)."""

    is_pointwise = True


class ShufflePartitioner(StreamPartitioner):
    """A uniformly random channel per record."""

    def route(self, values: list[Any], timestamps: Optional[list[int]]) -> Routed:
        n = self.num_channels
        if n == 1:
            return [(0, values, timestamps)]
        choice = random.randrange
        channels = [choice(n) for _ in values]
        return _group(channels, values, timestamps, n)


class BroadcastPartitioner(StreamPartitioner):
    """Every record to every consumer subtask."""

    is_broadcast = True

    def route(self, values: list[Any], timestamps: Optional[list[int]]) -> Routed:
        return [(c, values, timestamps) for c in range(self.num_channels)]


class KeyGroupStreamPartitioner(StreamPartitioner):
    """Sends each record to the subtask owning its key's key group (Flink's ``HASH`` edge).

    Args:
        key_selector: record -> key; keys must be hashable.
        max_parallelism: the number of key groups of the consuming operator.
    """

    _CACHE_LIMIT = 1 << 16  # str keys remembered per producer (pure-Python routing): a dict hit is cheaper

    def __init__(self, key_selector: Callable[[Any], Any], max_parallelism: int) -> None:
        super().__init__()
        self.key_selector = key_selector
        self._select = fast_key_selector(key_selector)  # the same function, maybe as an itemgetter
        self._field = tuple_field(self._select)  # k when it is itemgetter(k) with an int k >= 0, else -1
        self.max_parallelism = max_parallelism
        self._cache: dict[Any, int] = {}

    def name(self) -> str:
        return "HASH"

    def __setstate__(self, state: dict[str, Any]) -> None:  # a graph pickled by an older yflink (HA recovery)
        self.__dict__.update(state)
        if "_select" not in state:
            self._select = fast_key_selector(self.key_selector)
            self._field = tuple_field(self._select)

    def setup(self, num_channels: int) -> None:
        super().setup(num_channels)
        self._cache = {}

    def channel_for_key(self, key: Any) -> int:
        """The consumer subtask of ``key``. Only ``str`` keys are cached: keys of other types can be equal
        without hashing alike (``0``, ``False`` and ``0.0``), and a cache hit must not depend on arrival order."""
        if type(key) is str:
            channel = self._cache.get(key)
            if channel is not None:
                return channel
        else:
            hash(key)  # keyed state needs hashable keys: TypeError otherwise
        channel = assign_to_key_group(key, self.max_parallelism) * self.num_channels // self.max_parallelism
        if type(key) is str and len(self._cache) < self._CACHE_LIMIT:
            self._cache[key] = channel
        return channel

    def route(self, values: list[Any], timestamps: Optional[list[int]]) -> Routed:
        n = self.num_channels
        if n == 1:
            return [(0, values, timestamps)]
        select = self._select
        if speedups is not None and type(values) is list and (timestamps is None or type(timestamps) is list):
            try:  # the same routing in C: yflink/_speedups.c
                routed, routed_ts = speedups.route_key_groups(values, select, n, self.max_parallelism, timestamps,
                                                                self._field)
            except TypeError:
                self._explain_unhashable(values)
                raise
            if routed_ts is None:
                return [(c, b, None) for c, b in enumerate(routed) if b]
            return [(c, b, routed_ts[c]) for c, b in enumerate(routed) if b]
        # Without the compiled helper: the same rule in Python, str keys' channels cached.
        lookup = self._cache.get
        channel_for_key = self.channel_for_key
        buckets: list[list[Any]] = [[] for _ in range(n)]
        appends = [b.append for b in buckets]
        try:
            if timestamps is None:  # one pass, no per-record tuple
                for value in values:
                    key = select(value)
                    channel = lookup(key) if type(key) is str else None
                    appends[channel if channel is not None else channel_for_key(key)](value)
                return [(c, b, None) for c, b in enumerate(buckets) if b]
            ts_buckets: list[list[int]] = [[] for _ in range(n)]
            for value, ts in zip(values, timestamps):
                key = select(value)
                channel = lookup(key) if type(key) is str else None
                if channel is None:
                    channel = channel_for_key(key)
                buckets[channel].append(value)
                ts_buckets[channel].append(ts)
            return [(c, b, ts_buckets[c]) for c, b in enumerate(buckets) if b]
        except TypeError:
            self._explain_unhashable(values)
            raise

    def _explain_unhashable(self, values: list[Any]) -> None:
        """Raise a TypeError naming the first record whose key is not hashable, if there is one."""
        for value in values:
            key = self._select(value)
            try:
                hash(key)
            except TypeError:
                raise TypeError(
                    f"key {key!r} of record {value!r} is not hashable; key_by needs a hashable key") from None


class CustomPartitionerWrapper(StreamPartitioner):
    """Sends each record to ``partition(key_selector(record), num_channels)`` (Flink ``partitionCustom``).

    Args:
        partition: (key, number of channels) -> channel.
        key_selector: record -> key.
    """

    def __init__(self, partition: Callable[[Any, int], int], key_selector: Callable[[Any], Any]) -> None:
        super().__init__()
        self.partition = partition
        self.key_selector = key_selector

    def name(self) -> str:
        return "CUSTOM"

    def route(self, values: list[Any], timestamps: Optional[list[int]]) -> Routed:
        n = self.num_channels
        partition, select = self.partition, self.key_selector
        channels = [partition(select(value), n) for value in values]
        for channel, value in zip(channels, values):
            if not isinstance(channel, int) or not 0 <= channel < n:
                raise ValueError(f"the custom partitioner returned {channel!r} for record {value!r}; "
                                 f"partitions are 0 ... {n - 1}")
        return _group(channels, values, timestamps, n)


def _group(channels: list[int], values: list[Any], timestamps: Optional[list[int]], n: int) -> Routed:
    buckets: list[list[Any]] = [[] for _ in range(n)]
    if timestamps is None:
        for channel, value in zip(channels, values):
            buckets[channel].append(value)
        return [(c, b, None) for c, b in enumerate(buckets) if b]
    ts_buckets: list[list[int]] = [[] for _ in range(n)]
    for channel, value, ts in zip(channels, values, timestamps):
        buckets[channel].append(value)
        ts_buckets[channel].append(ts)
    return [(c, b, ts_buckets[c]) for c, b in enumerate(buckets) if b]
