"""OperatorChain: the operators of one task wired to each other and to the task's record writers.

Inside a chain an operator's output is a direct call of the next operator's ``process_batch`` (Flink's
``ChainingOutput``), so records are never serialized there. At the chain's end the output goes to the
record writers of the task's outgoing edges.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional

from yflink.graph.job_graph import ChainSpec
from yflink.runtime.network.events import Watermark, WatermarkStatus
from yflink.runtime.network.partition import RecordWriter
from yflink.streaming.operators.base import StreamOperator, TaskInfo


class ChainOutput:
    """The output of one operator: its chained successors and its record writers."""

    def __init__(self, targets: list[StreamOperator], writers: list[RecordWriter],
                 side_targets: Optional[dict[str, list[StreamOperator]]] = None,
                 side_writers: Optional[dict[str, list[RecordWriter]]] = None) -> None:
        self.targets = targets
        self.writers = writers
        self.side_targets = side_targets or {}
        self.side_writers = side_writers or {}
        self._side: dict[str, list[Callable[[list[Any], Optional[list[int]]], None]]] = {}
        for tag in set(self.side_targets) | set(self.side_writers):
            self._side[tag] = ([t.process_batch for t in self.side_targets.get(tag, [])]
                               + [w.emit for w in self.side_writers.get(tag, [])])
        receivers: list[Callable[[list[Any], Optional[list[int]]], None]] = (
            [t.process_batch for t in targets] + [w.emit for w in writers])
        if len(receivers) == 1:
            self.emit = receivers[0]  # type: ignore[method-assign,assignment]
        elif not receivers:
            self.emit = _discard  # type: ignore[method-assign,assignment]
        else:
            self._receivers = receivers

    def emit(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        for receive in self._receivers:
            receive(values, timestamps)

    def emit_side(self, tag: Any, values: list[Any], timestamps: Optional[list[int]]) -> None:
        """Send a batch to the side output ``tag`` (an OutputTag or its id); dropped when nothing reads it."""
        for receive in self._side.get(getattr(tag, "tag_id", tag), ()):
            receive(values, timestamps)

    def emit_watermark_status(self, idle: bool) -> None:
        """The operator's output went idle (True) or active again (False); passed to every output."""
        for t in [*self.targets, *(t for ts in self.side_targets.values() for t in ts)]:
            t.process_watermark_status(idle)
        for w in [*self.writers, *(w for ws in self.side_writers.values() for w in ws)]:
            w.broadcast_event(WatermarkStatus(idle))

    def emit_watermark(self, watermark: int) -> None:
        """Watermarks go to every output, side outputs included (Flink broadcasts them)."""
        targets = [*self.targets, *(t for ts in self.side_targets.values() for t in ts)]
        writers = [*self.writers, *(w for ws in self.side_writers.values() for w in ws)]
        for t in targets:
            t.process_watermark(watermark)
        for w in writers:
            w.broadcast_event(Watermark(watermark))


def _discard(values: list[Any], timestamps: Optional[list[int]]) -> None:
    pass


class OperatorChain:
    """Builds and drives the operators of a ChainSpec.

    Args:
        spec: the chain (unpickled per subtask: every subtask has its own operator objects).
        writers: one RecordWriter per outgoing JobEdge, indexed like the vertex's outputs.
        task_info: passed to every operator's ``setup``.
        keyed_backend_factory: makes a keyed state backend for an operator with keyed input.
        configure: called with each operator before ``setup`` (the runtime injects services, e.g. collect).
    """

    def __init__(self, spec: ChainSpec, writers: list[RecordWriter], task_info: TaskInfo,
                 keyed_backend_factory: Callable[[StreamOperator], Any],
                 configure: Callable[[StreamOperator], None]) -> None:
        self.spec = spec
        self.operators = [spec.operators[nid].operator for nid in spec.order]
        self.head = spec.operators[spec.head_id].operator
        for nid in spec.order:
            node = spec.operators[nid]
            op = node.operator
            targets = [spec.operators[t].operator for t in node.chained_outputs]
            node_writers = [writers[index] for index, _ in node.network_outputs]
            side_targets = {tag: [spec.operators[t].operator for t in ids] for tag, ids in node.side_chained.items()}
            side_writers = {tag: [writers[index] for index, _ in outs] for tag, outs in node.side_network.items()}
            keyed = any(k is not None for k in node.key_selectors) or op.is_keyed
            configure(op)
            output = ChainOutput(targets, node_writers, side_targets, side_writers)
            op.setup(task_info, output, keyed_backend_factory(op) if keyed else None)

    def open(self) -> None:
        """Open operators last to first, so an operator's successors are ready when it emits."""
        for op in reversed(self.operators):
            op.open()

    def end_input(self) -> None:
        """Flink's ``endInput``: head first, so what an operator flushes reaches successors still open."""
        for op in self.operators:
            op.end_input()

    def close(self) -> list[BaseException]:
        """Close every operator, even when one raises; returns what they raised."""
        errors: list[BaseException] = []
        for op in self.operators:
            try:
                op.close()
            except BaseException as exc:  # noqa: BLE001 - closing must reach every operator
                errors.append(exc)
            dispose = getattr(getattr(op, "keyed_backend", None), "dispose", None)
            if callable(dispose):  # a rocksdb backend's local files
                try:
                    dispose()
                except Exception as exc:  # noqa: BLE001
                    errors.append(exc)
        return errors
