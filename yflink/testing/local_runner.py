"""Run a whole bounded job in this process, subtask by subtask, through the operator test harnesses.

::

    env = StreamExecutionEnvironment.get_execution_environment()
    result = a.join(b).where(...).equal_to(...).window(...).apply(...)
    values = LocalGraphRunner(env.get_stream_graph()).run().values_of(result)

For tests of whole pipelines without processes or sockets: every subtask of every operator runs once, in
topological order, and its output events (records, watermarks, side outputs) are kept. Each edge routes them
with its own partitioner (key groups, broadcast, rebalance, forward), so parallelism and keying behave as on a
cluster. A consumer reads its input channels one after the other (a legal interleaving: each channel's order
is kept) and combines watermarks per input as the task's watermark valves do: the minimum over its channels.
Operators are not chained (chaining changes no results). Sources must be bounded.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any, Optional

from yflink.graph.stream_graph import StreamEdge, StreamGraph, StreamNode
from yflink.testing.harness import OneInputOperatorTestHarness, TwoInputOperatorTestHarness

__all__ = ["LocalGraphRunner"]

MIN_WATERMARK = -(1 << 63)
BATCH = 1024

Events = list[tuple[Any, ...]]


def _batches(events: Events, tag: Optional[str]) -> Iterator[tuple[str, Any, Any]]:
    """``("records", values, timestamps)`` batches and ``("watermark", ms, None)`` of one output (main output
    when ``tag`` is None, else the side output ``tag``)."""
    values: list[Any] = []
    stamps: list[Optional[int]] = []

    def flush() -> Iterator[tuple[str, Any, Any]]:
        if values:
            ts = None if all(t is None for t in stamps) else list(stamps)
            yield "records", list(values), ts
            values.clear()
            stamps.clear()

    for event in events:
        kind = event[0]
        if (kind == "record" and tag is None) or (kind == "side" and event[1] == tag):
            values.append(event[-2])
            stamps.append(event[-1])
            if len(values) >= BATCH:
                yield from flush()
        elif kind == "watermark":
            yield from flush()
            yield "watermark", event[1], None
    yield from flush()


class LocalGraphRunner:
    """Runs a StreamGraph of bounded sources to the end and keeps every subtask's output events.

    Args:
        graph: the job's StreamGraph (``env.get_stream_graph()``).
    """

    def __init__(self, graph: StreamGraph) -> None:
        self.graph = graph
        self.events: dict[tuple[int, int], Events] = {}
        self._routed: dict[tuple[int, int], list[list[tuple[str, Any, Any]]]] = {}

    def run(self) -> LocalGraphRunner:
        for node in self.graph.topological_order():
            for index in range(node.parallelism):
                self.events[(node.id, index)] = self._run_subtask(node, index)
        return self

    # --- results ----------------------------------------------------------------------------------------
    def outputs_of(self, node_id: int, tag: Optional[str] = None) -> list[tuple[Any, Optional[int]]]:
        """``(value, timestamp)`` of every subtask of node ``node_id`` (main output, or side output ``tag``)."""
        node = self.graph.nodes[node_id]
        result: list[tuple[Any, Optional[int]]] = []
        for index in range(node.parallelism):
            for event in self.events[(node_id, index)]:
                if (event[0] == "record" and tag is None) or (event[0] == "side" and event[1] == tag):
                    result.append((event[-2], event[-1]))
        return result

    def values_of(self, stream: Any) -> list[Any]:
        """The values of a DataStream of the job (its operator's output, or the side output it names)."""
        t = stream._transformation
        tag = getattr(t, "tag_id", None)
        if tag is not None:
            t = t.inputs[0]
        return [v for v, _ in self.outputs_of(t.id, tag)]

    # --- one subtask ------------------------------------------------------------------------------------
    def _run_subtask(self, node: StreamNode, index: int) -> Events:
        two_inputs = any(e.type_number == 2 for e in node.in_edges)
        cls = TwoInputOperatorTestHarness if two_inputs else OneInputOperatorTestHarness
        harness = cls(node.operator, node.parallelism, index, node.max_parallelism, task_name=node.name)
        harness.open()
        if node.is_source:
            harness.run_source()
        else:
            self._feed(harness, node, index, two_inputs)
        harness.end_input()
        harness.close()
        return harness.get_events()

    def _channels(self, node: StreamNode, index: int) -> list[tuple[int, list[tuple[str, Any, Any]]]]:
        """Per input channel (producer subtask x edge): its type number and what it delivers to ``index``."""
        channels = []
        for edge in node.in_edges:
            producer = self.graph.nodes[edge.source_id]
            for source_index in range(producer.parallelism):
                delivered = self._route(edge, producer, source_index, node.parallelism, index)
                if delivered is not None:
                    channels.append((edge.type_number, delivered))
        return channels

    def _route(self, edge: StreamEdge, producer: StreamNode, source_index: int, parallelism: int,
               index: int) -> Optional[list[tuple[str, Any, Any]]]:
        """What producer subtask ``source_index`` sends over ``edge`` to consumer subtask ``index`` (routed once
        per producer subtask, as its record writer would)."""
        if edge.partitioner.is_pointwise:
            if producer.parallelism != parallelism:
                raise NotImplementedError("LocalGraphRunner wires pointwise edges only between equal parallelisms")
            if source_index != index:
                return None
        cache_key = (id(edge), source_index)
        routed = self._routed.get(cache_key)
        if routed is None:
            partitioner = copy.deepcopy(edge.partitioner)
            partitioner.setup(1 if partitioner.is_pointwise else parallelism)
            routed = self._routed[cache_key] = [[] for _ in range(parallelism)]
            for kind, payload, ts in _batches(self.events[(producer.id, source_index)], edge.output_tag):
                if kind == "watermark":
                    for channel_events in routed:
                        channel_events.append((kind, payload, None))
                    continue
                for channel, values, stamps in partitioner.route(payload, ts):
                    routed[source_index if partitioner.is_pointwise else channel].append(("records", values, stamps))
        return routed[index]

    def _feed(self, harness: Any, node: StreamNode, index: int, two_inputs: bool) -> None:
        channels = self._channels(node, index)
        marks: dict[int, list[int]] = {}
        combined: dict[int, int] = {}
        for number, _ in channels:
            marks.setdefault(number, [])
        positions = []
        for number, _ in channels:
            positions.append(len(marks[number]))
            marks[number].append(MIN_WATERMARK)
        for (number, delivered), position in zip(channels, positions, strict=True):
            for kind, payload, ts in delivered:
                if kind == "records":
                    if number == 2:
                        harness.process_batch2(payload, ts)
                    elif number == 1:
                        harness.process_batch1(payload, ts)
                    else:
                        harness.process_batch(payload, ts)
                    continue
                marks[number][position] = max(marks[number][position], payload)
                low = min(marks[number])
                if low > combined.get(number, MIN_WATERMARK):
                    combined[number] = low
                    if number == 2:
                        harness.process_watermark2(low)
                    elif number == 1:
                        harness.process_watermark1(low)
                    else:
                        harness.process_watermark(low)
