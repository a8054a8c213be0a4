"""The contract between the runtime and every stream operator.

A task runs a *chain* of operators (Flink: ``OperatorChain``). Records move through the chain in batches:
``process_batch(values, timestamps)`` receives a list of records and a parallel list of their timestamps (ms
since the epoch) or None when the records carry none; the operator emits through ``self.output.emit`` to the
next operator in the chain (a plain function call, nothing serialized) or to the network at the chain's end.

Lifecycle (Flink ``StreamOperator``): ``setup`` -> ``open`` -> ``process_batch``/``process_watermark``* ->
``end_input`` (bounded input exhausted) -> ``close``. Errors raised by user code propagate and fail the task.

Source of the semantics: Flink ``AbstractStreamOperator``, ``OneInputStreamOperator``, ``BoundedOneInput``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Optional, Protocol


class ChainingStrategy(Enum):
    """Flink's ``ChainingStrategy``: whether an operator may be chained to its predecessor / successor."""

    ALWAYS = "ALWAYS"  # chain to predecessor and successors where the edge allows
    HEAD = "HEAD"  # start a new chain, but successors may chain to it
    NEVER = "NEVER"  # neither


class Output(Protocol):
    """Where an operator sends its results."""

    def emit(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        """Pass a batch on; ``timestamps`` parallel to ``values`` (ms) or None."""

    def emit_watermark(self, watermark: int) -> None:
        """Pass a watermark (ms) on."""

    def emit_side(self, tag: Any, values: list[Any], timestamps: Optional[list[int]]) -> None:
        """Send a batch to the side output ``tag`` (an OutputTag or its id)."""

    def emit_watermark_status(self, idle: bool) -> None:
        """The output went idle (True: it holds no watermark back) or active again (False)."""


@dataclass
class TaskInfo:
    """What an operator may know about the subtask it runs in (Flink ``TaskInfo`` + job facts)."""

    job_id: str
    job_name: str
    task_name: str
    subtask_index: int
    parallelism: int
    max_parallelism: int
    attempt_number: int = 0
    job_parameters: dict[str, str] = field(default_factory=dict)

    @property
    def task_name_with_subtasks(self) -> str:
        return f"{self.task_name} ({self.subtask_index + 1}/{self.parallelism})"


class StreamOperator:
    """Base class of every operator. Subclasses override what they need.

    Attributes set by :meth:`setup`: ``task_info``, ``output``, ``keyed_backend`` (a keyed state backend when
    the operator's input is keyed, else None).
    """

    chaining_strategy: ChainingStrategy = ChainingStrategy.ALWAYS
    #: True when the operator reads keyed state; the task then gives it a keyed state backend.
    is_keyed: bool = False

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.task_info: TaskInfo
        self.output: Output
        self.keyed_backend: Any = None

    def setup(self, task_info: TaskInfo, output: Output, keyed_backend: Any = None) -> None:
        self.task_info = task_info
        self.output = output
        self.keyed_backend = keyed_backend

    def open(self) -> None:
        """Called once before the first record; user functions' ``open(runtime_context)`` runs here."""

    def process_batch(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        """Process a batch of records; the default passes it on unchanged."""
        self.output.emit(values, timestamps)

    def process_watermark(self, watermark: int) -> None:
        """A watermark (ms) arrived; the default passes it on."""
        self.output.emit_watermark(watermark)

    def process_watermark_status(self, idle: bool) -> None:
        """Every input went idle (True) or one became active again (False); the default passes it on."""
        emit = getattr(self.output, "emit_watermark_status", None)
        if emit is not None:
            emit(idle)

    def end_input(self) -> None:
        """The (bounded) input is exhausted: emit anything still buffered."""

    def close(self) -> None:
        """Release resources; user functions' ``close()`` runs here. Called after success and failure."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class SourceReader(Protocol):
    """Reads records for one source subtask (Flink FLIP-27 ``SourceReader``, polled in batches)."""

    def open(self, task_info: TaskInfo) -> None:
        """Prepare to read; splits are assigned statically from ``task_info``'s index and parallelism."""

    def poll_batch(self, max_records: int) -> Optional[tuple[list[Any], Optional[list[int]]]]:
        """Up to ``max_records`` records and their timestamps (ms) or None for none; ``([], None)`` when nothing is
        available right now; None when the input has ended (bounded sources only)."""

    def close(self) -> None:
        """Release files, sockets, threads."""


class Source(Protocol):
    """A source of records (Flink ``Source``): bounded or not, creates one reader per subtask."""

    def is_bounded(self) -> bool:
        ...

    def create_reader(self) -> SourceReader:
        ...


class SinkWriter(Protocol):
    """Writes the records of one sink subtask (Flink ``SinkWriter``)."""

    def open(self, task_info: TaskInfo) -> None:
        ...

    def write_batch(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        ...

    def flush(self, end_of_input: bool) -> None:
        """Make written records durable/visible (called at end of input; at checkpoints later)."""

    def close(self) -> None:
        ...


class Sink(Protocol):
    """A sink (Flink ``Sink``): creates one writer per subtask."""

    def create_writer(self) -> SinkWriter:
        ...


class _StateName:
    def __init__(self, name: str) -> None:
        self.name = name


#: The operator list state holding a source reader's position (one element per subtask).
_READER_STATE = _StateName("source-reader-position")
#: The union list state of readers that redistribute their work on restore (``restore_positions``): every new
#: subtask gets every old subtask's position and takes its own share.
_READER_POSITIONS = _StateName("source-reader-positions")
#: The operator list state holding a two-phase-commit sink's prepared, not yet committed committables.
_COMMITTABLES = _StateName("sink-committables")


class SourceOperator(StreamOperator):
    """The head of a source task: polls its reader and emits what it reads."""

    chaining_strategy = ChainingStrategy.HEAD

    def __init__(self, source: Source, name: str = "Source") -> None:
        super().__init__(name)
        self.source = source
        self.reader: SourceReader | None = None

    def open(self) -> None:
        self.reader = self.source.create_reader()
        self.reader.open(self.task_info)
        backend = getattr(self, "operator_state_backend", None)
        restore = getattr(self.reader, "restore_state", None)
        restore_all = getattr(self.reader, "restore_positions", None)
        if backend is not None and backend.restored:
            positions = backend.get_list_state(_READER_STATE).get()  # one per subtask (older snapshots too)
            if callable(restore_all):  # every old subtask's position: the reader takes its share at any parallelism
                union = backend.get_union_list_state(_READER_POSITIONS).get()
                if union or not positions:
                    restore_all(union)
                    return
            if positions and callable(restore):
                restore(positions[0])

    def prepare_snapshot(self, checkpoint_id: int = 0) -> None:
        """Before a snapshot: keep the reader's position in operator state (Flink keeps split states there)."""
        snapshot = getattr(self.reader, "snapshot_state", None)
        if callable(snapshot):
            from yflink.streaming.operators.state_handling import operator_state_backend_of

            backend = operator_state_backend_of(self)
            if callable(getattr(self.reader, "restore_positions", None)):
                backend.get_union_list_state(_READER_POSITIONS).update([snapshot()])
            else:
                backend.get_list_state(_READER_STATE).update([snapshot()])

    def emit_next(self, max_records: int) -> Optional[int]:
        """Read and emit up to ``max_records``; returns how many, or None at end of input."""
        assert self.reader is not None
        polled = self.reader.poll_batch(max_records)
        if polled is None:
            return None
        values, timestamps = polled
        if values:
            self.output.emit(values, timestamps)
        return len(values)

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()


class SinkOperator(StreamOperator):
    """The end of a chain that writes to a :class:`Sink`.

    Writers with ``prepare_commit(flush) -> committables`` and ``commit(committables)`` get Flink's two-phase
    commit (``TwoPhaseCommittingSink``): at each checkpoint the writer prepares what it wrote (for the FileSink:
    closes its part files into pending files) and the committables go into operator state; they are committed
    when that checkpoint completes, and on a restore the restored committables are committed again
    (idempotently) before writing resumes. Records written after the last completed checkpoint of a failed
    attempt stay uncommitted, so committed output holds each record exactly once.

    At the end of a bounded input (Flink "Checkpointing" > "Checkpointing with parts of the graph finished",
    FLIP-147): with :attr:`commit_at_final_checkpoint` (the task sets it when periodic checkpoints go on after
    tasks finish) the writer prepares everything it still holds under the id *after* the last checkpoint this
    subtask took part in, and the final checkpoint commits it: every checkpoint with a larger id that completes
    holds this subtask's final state (no barrier reaches a task after the end of its input). Without it (no
    periodic checkpoints: batch semantics) everything is committed at the end of input.
    """

    def __init__(self, sink: Sink, name: str = "Sink") -> None:
        super().__init__(name)
        self.sink = sink
        self.writer: SinkWriter | None = None
        self._prepared: dict[int, list[Any]] = {}  # checkpoint id -> committables prepared at its snapshot
        self._latest_checkpoint_id = 0  # the newest checkpoint this subtask snapshotted (0: none yet)
        #: set by the task: defer the commit at the end of input to the final checkpoint (FLIP-147)
        self.commit_at_final_checkpoint = False

    def open(self) -> None:
        self.writer = self.sink.create_writer()
        self.writer.open(self.task_info)
        backend = getattr(self, "operator_state_backend", None)
        commit = getattr(self.writer, "commit", None)
        if backend is not None and backend.restored and callable(commit):
            restored = backend.get_list_state(_COMMITTABLES).get()
            if restored:
                commit([c for committables in restored for c in committables])

    @property
    def final_checkpoint_id(self) -> int:
        """The id what is prepared at the end of input is registered under: the newest checkpoint this subtask
        took part in, plus one (FLIP-147)."""
        return self._latest_checkpoint_id + 1

    def prepare_snapshot(self, checkpoint_id: int = 0) -> None:
        """Prepare the writer's committables for checkpoint ``checkpoint_id`` and keep every uncommitted one in
        operator state; ``checkpoint_id`` 0 is the final snapshot at the end of input (its committables are
        registered under :attr:`final_checkpoint_id`)."""
        prepare = getattr(self.writer, "prepare_commit", None)
        if not callable(prepare):
            return
        from yflink.streaming.operators.state_handling import operator_state_backend_of

        if checkpoint_id > 0:
            self._latest_checkpoint_id = max(self._latest_checkpoint_id, checkpoint_id)
            target = checkpoint_id
        else:
            target = self.final_checkpoint_id
        self._prepared.setdefault(target, []).extend(prepare(True))
        operator_state_backend_of(self).get_list_state(_COMMITTABLES).update(list(self._prepared.values()))

    def notify_checkpoint_complete(self, checkpoint_id: int) -> None:
        """Commit what was prepared at this checkpoint and the ones before it (a final checkpoint also commits
        what the end of input prepared)."""
        commit = getattr(self.writer, "commit", None)
        if not callable(commit):
            return
        done = [cid for cid in self._prepared if cid <= checkpoint_id]
        committables = [c for cid in sorted(done) for c in self._prepared.pop(cid)]
        if committables:
            commit(committables)

    def commit_all_prepared(self) -> None:
        """Commit every committable prepared so far, whichever checkpoint it waits for: the end of input without
        periodic checkpoints, or after a stop-with-savepoint completed (no checkpoint follows it)."""
        commit = getattr(self.writer, "commit", None)
        if callable(commit) and self._prepared:
            commit([c for cid in sorted(self._prepared) for c in self._prepared.pop(cid)])

    def process_batch(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        assert self.writer is not None
        self.writer.write_batch(values, timestamps)

    def process_watermark(self, watermark: int) -> None:
        pass

    def end_input(self) -> None:
        """End of a bounded input. With :attr:`commit_at_final_checkpoint` a two-phase-commit writer prepares
        everything it holds (the FileSink closes its in-progress files into pending files) under
        :attr:`final_checkpoint_id`, committed by the final checkpoint (Flink: ``SinkWriter.flush(true)`` in
        ``endInput``, the committer at the next completed checkpoint); otherwise everything prepared and the
        rest are committed now."""
        if self.writer is None:
            return
        if self.commit_at_final_checkpoint and callable(getattr(self.writer, "prepare_commit", None)):
            self.prepare_snapshot(0)
            return
        self.commit_all_prepared()
        self.writer.flush(True)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
