"""``NexmarkSource``: the Nexmark generator as a parallel DataStream source (Nexmark ``NexmarkSource``)."""

from __future__ import annotations

import time
from typing import Any

from yflink.connectors.nexmark.generator import DEFAULT_EVENTS_PER_SECOND, NexmarkConfig, NexmarkGenerator
from yflink.datastream.connectors.base import PolledBatch, Source, SourceReader
from yflink.streaming.operators.base import TaskInfo


class NexmarkSource(Source):
    """Generates Nexmark events (:class:`~yflink.connectors.nexmark.model.Person`, ``Auction``, ``Bid``), each
    with its event time (ms) as the record's timestamp.

    Subtask ``i`` of ``p`` generates events ``i, i + p, i + 2p, ...`` of one global sequence, so the union of all
    subtasks' events is the same for every parallelism (see :mod:`yflink.connectors.nexmark.generator`).

    Args:
        max_events: how many events in total (over all subtasks); None for an unbounded source.
        events_per_second: the total rate. When given, event times are spaced by ``1 / events_per_second`` s and
            the source emits no faster than that (each event no earlier than its event time, relative to when the
            reader started). When None, events are emitted as fast as possible and event times are spaced as at
            Nexmark's default rate of 10,000 events/s.
        seed: selects the random stream; the same seed gives the same events.
        first_event_time_ms: event time of the first event, ms since the epoch; None means the wall clock when
            this object is created (as Nexmark's ``baseTime``). Pass a value for reproducible event times.
        config: the generator's knobs (proportions, ratios, sizes); Nexmark's defaults when None.

    Attributes:
        first_event_time_ms: the resolved event time of event 0, ms since the epoch.
    """

    def __init__(self, max_events: int | None, events_per_second: float | None = None, seed: int = 0,
                 first_event_time_ms: int | None = None, config: NexmarkConfig | None = None) -> None:
        if max_events is not None and max_events < 0:
            raise ValueError(f"max_events must be >= 0 or None (unbounded), got {max_events}")
        if events_per_second is not None and events_per_second <= 0:
            raise ValueError(f"events_per_second must be positive or None (as fast as possible), got "
                             f"{events_per_second}")
        self.max_events = max_events
        self.events_per_second = events_per_second
        self.seed = seed
        self.first_event_time_ms = time.time_ns() // 1_000_000 if first_event_time_ms is None \
            else int(first_event_time_ms)
        self.config = config or NexmarkConfig()

    def generator(self) -> NexmarkGenerator:
        """A generator producing exactly this source's events (for reference computations in tests)."""
        return NexmarkGenerator(self.seed, self.first_event_time_ms,
                                self.events_per_second or DEFAULT_EVENTS_PER_SECOND, self.config)

    def events(self, start: int = 0, stop: int | None = None) -> list[Any]:
        """Events ``start ... stop - 1`` of this source in index order (``stop`` defaults to ``max_events``); for
        plain-Python reference computations."""
        if stop is None:
            if self.max_events is None:
                raise ValueError("an unbounded NexmarkSource needs an explicit stop")
            stop = self.max_events
        return self.generator().generate(start, stop)[0]

    def is_bounded(self) -> bool:
        return self.max_events is not None

    def create_reader(self) -> NexmarkSourceReader:
        return NexmarkSourceReader(self)

    def __repr__(self) -> str:
        rate = "max speed" if self.events_per_second is None else f"{self.events_per_second}/s"
        return f"NexmarkSource(max_events={self.max_events}, {rate}, seed={self.seed})"


class NexmarkSourceReader(SourceReader):
    """Generates one subtask's events. Position: :attr:`next_index` (global index of the next event to emit).

    Rate-limited readers never block: when no event is due yet, :meth:`poll_batch` returns ``([], None)``.
    """

    def __init__(self, source: NexmarkSource) -> None:
        self.source = source
        self.next_index = 0
        self.step = 1
        self.stop: int | None = source.max_events
        self.generator: NexmarkGenerator | None = None
        self._wall_base_ms = 0.0

    def open(self, task_info: TaskInfo) -> None:
        self.next_index = task_info.subtask_index
        self.step = task_info.parallelism
        self.generator = self.source.generator()
        self._wall_base_ms = time.monotonic() * 1000.0

    def snapshot_state(self) -> int:
        """The position to resume from: :attr:`next_index` (the global index of the next event)."""
        return self.next_index

    def restore_state(self, state: int) -> None:
        """Resume at event ``state`` (called after :meth:`open`). With ``events_per_second`` the pacing resumes
        at once: the wall-clock base moves back by the restored events' time, so they are not waited for again."""
        self.next_index = int(state)
        if self.generator is not None:
            restored_ms = self.next_index * self.generator.inter_event_delay_us / 1000
            self._wall_base_ms = time.monotonic() * 1000.0 - restored_ms

    def poll_batch(self, max_records: int) -> PolledBatch:
        generator = self.generator
        assert generator is not None, "NexmarkSourceReader.open() was not called"
        first, step = self.next_index, self.step
        stop = first + max_records * step
        if self.stop is not None:
            if first >= self.stop:
                return None
            stop = min(stop, self.stop)
        if self.source.events_per_second is not None:
            # Events whose event-time offset is at most the elapsed wall time are due.
            elapsed_ms = time.monotonic() * 1000.0 - self._wall_base_ms
            due = int((int(elapsed_ms) + 1) * 1000 / generator.inter_event_delay_us)
            stop = min(stop, due)
            if stop <= first:
                return [], None
        events, timestamps = generator.generate(first, stop, step)
        self.next_index = first + len(events) * step
        return events, timestamps
