"""Task: one subtask running in a slot worker, from deployment to a terminal ExecutionState.

Source of the semantics: Flink ``Task`` and ``StreamTask`` (``SourceStreamTask``/``OneInputStreamTask``):
DEPLOYING -> INITIALIZING (operators set up, partitions registered, inputs connected) -> RUNNING -> FINISHED,
or FAILED with the error, or CANCELED. With periodic checkpoints a task at the end of its input stays RUNNING
until its final checkpoint completed (FLIP-147; see ``Task._finish_with_final_checkpoint``). A task reads its
input gate, passes each batch through its operator chain, and waits while its output subpartitions are full
(backpressure). Busy, idle and backpressured time
are measured as Flink's ``busyTimeMsPerSecond`` / ``idleTimeMsPerSecond`` / ``backPressuredTimeMsPerSecond``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import pickle
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Optional, Protocol

import cloudpickle

from yflink.checkpoint.barriers import CancelCheckpointMarker, CheckpointBarrier, SnapshotType
from yflink.checkpoint.errors import CheckpointFailureReason
from yflink.checkpoint.handles import KeyGroupRange
from yflink.checkpoint.options import CheckpointingMode
from yflink.checkpoint.storage import CheckpointStorage
from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.graph.job_graph import ChainSpec
from yflink.runtime.deployment import TaskDeploymentDescriptor
from yflink.runtime.network import DATA, ERROR, EVENT
from yflink.runtime.network.events import EndOfPartition, UpstreamError, Watermark, WatermarkStatus
from yflink.runtime.network.gate import InputGate, LocalInputChannel, RemoteInputChannel, UpstreamFailure
from yflink.runtime.network.partition import RecordWriter, ResultPartition
from yflink.runtime.network.transport import PartitionRegistry
from yflink.runtime.states import ExecutionState
from yflink.runtime.taskexecutor.checkpointing import TaskCheckpointer
from yflink.state.key_groups import key_group_range
from yflink.streaming.operator_chain import OperatorChain
from yflink.streaming.operators.base import SinkOperator, SourceOperator, StreamOperator, TaskInfo
from yflink.streaming.operators.collect import CollectSinkOperator
from yflink.streaming.watermark_valve import MAX_WATERMARK, WatermarkValve

log = logging.getLogger(__name__)

PROCESSING_TIME_TICK_S = 0.05  # longest wait between processing-time callbacks (timers, periodic watermarks)
SOURCE_STEP_BUDGET_S = 0.02  # a source step (emit_next through its chain) longer than this gets fewer records

StateReporter = Callable[[str, ExecutionState, Optional[str]], None]
class CheckpointReporter(Protocol):
    """Where a task's checkpoint acknowledgements and declines go (its slot worker, then the JobMaster)."""

    def acknowledge(self, tdd: TaskDeploymentDescriptor, checkpoint_id: int, state: bytes, sync_ms: int,
                    alignment_ms: int) -> None: ...

    def decline(self, tdd: TaskDeploymentDescriptor, checkpoint_id: int, reason: str) -> None: ...


#: (deployment, operator id, subtask index, records, end of input)
TaskCollectSender = Callable[[TaskDeploymentDescriptor, str, int, list[Any], bool], None]


@dataclass
class TaskMetrics:
    records_in: int = 0
    busy_ms: float = 0.0
    idle_ms: float = 0.0
    backpressured_ms: float = 0.0


class Task:
    """Runs one TaskDeploymentDescriptor.

    Args:
        tdd: what to run and how it is wired.
        registry: this slot worker's result partitions (local consumers read them directly).
        data_address: this slot worker's data server ("host:port"); channels from it are local.
        report: callback (execution id, new state, failure text) to the TaskExecutor.
        collect_sender: where collect sinks send records.
    """

    def __init__(self, tdd: TaskDeploymentDescriptor, registry: PartitionRegistry, data_address: str,
                 report: StateReporter, collect_sender: TaskCollectSender,
                 checkpoint_reporter: Optional[CheckpointReporter] = None) -> None:
        self.tdd = tdd
        self.registry = registry
        self.data_address = data_address
        self.report = report
        self.collect_sender = collect_sender
        self.state = ExecutionState.DEPLOYING
        self.metrics = TaskMetrics()
        self.writers: list[RecordWriter] = []
        self.partitions: list[ResultPartition] = []
        self.gate = InputGate()
        self._asyncio_task: Optional[asyncio.Task[None]] = None
        self._timer_error: Optional[BaseException] = None
        self.checkpoint_reporter = checkpoint_reporter
        self.checkpointer: Optional[TaskCheckpointer] = None
        config = Configuration()
        for k, v in tdd.config.items():
            config.set_string(k, v)
        self.batch_size = max(1, config.get(opts.BATCH_SIZE))
        self.buffer_timeout_s = (config.get(opts.BUFFER_TIMEOUT) / 1000.0
                                 if config.get(opts.BUFFER_TIMEOUT_ENABLED) else None)
        self.credits = max(1, config.get(opts.BUFFERS_PER_CHANNEL)) + 2
        self.capacity = max(1, config.get(opts.BUFFERS_PER_CHANNEL))
        self._checkpointing_mode = CheckpointingMode(config.get(opts.CHECKPOINTING_MODE))
        self._checkpoint_timeout_ms = config.get(opts.CHECKPOINTING_TIMEOUT) or None
        self._inline_threshold = config.get(opts.CHECKPOINTING_DATA_INLINE_THRESHOLD)
        #: FLIP-147: periodic checkpoints go on after tasks finish, so a task at the end of its input waits for
        #: its final checkpoint and two-phase-commit sinks commit then (without them: at the end of input)
        self._final_checkpoint = bool(config.get(opts.CHECKPOINTING_INTERVAL)) and bool(
            config.get(opts.CHECKPOINTS_AFTER_TASKS_FINISH))
        #: set when a source ended by stop-with-savepoint: its kind (no MAX watermark without --drain)
        self._stopped_by: Optional[SnapshotType] = None

    @property
    def execution_id(self) -> str:
        return self.tdd.execution_id

    @property
    def records_out(self) -> int:
        return sum(w.records_out for w in self.writers)

    def start(self) -> asyncio.Task[None]:
        self._asyncio_task = asyncio.get_running_loop().create_task(self.run(), name=self.tdd.task_name)
        self._asyncio_task.add_done_callback(self._report_if_cancelled_before_start)
        return self._asyncio_task

    def _report_if_cancelled_before_start(self, task: asyncio.Task[None]) -> None:
        """A cancel that arrives before ``run`` began never enters its handlers: report CANCELED here."""
        if task.cancelled() and not self.state.is_terminal:
            self._abort(None, "canceled")
            self._transition(ExecutionState.CANCELED)

    def cancel(self) -> None:
        if self._asyncio_task is not None and not self._asyncio_task.done():
            self._asyncio_task.cancel()

    def _transition(self, state: ExecutionState, failure: Optional[str] = None) -> None:
        self.state = state
        self.report(self.execution_id, state, failure)

    # --- the life of a task ----------------------------------------------------------------------
    async def run(self) -> None:
        chain: Optional[OperatorChain] = None
        flusher: Optional[asyncio.Task[None]] = None
        ticker: Optional[asyncio.Task[None]] = None
        try:
            self._transition(ExecutionState.INITIALIZING)
            chain = self._build()
            self._restore(chain)
            chain.open()
            await self.gate.connect()
            self._transition(ExecutionState.RUNNING)
            if self.buffer_timeout_s is not None:
                flusher = asyncio.get_running_loop().create_task(self._flush_periodically())
            ticker = self._start_processing_time_service(chain)
            if isinstance(chain.head, SourceOperator):
                await self._run_source(chain.head)
                # A bounded source ends with the final watermark, so every event-time timer and window fires
                # (Flink: SourceOperator emits Watermark.MAX_WATERMARK at the end of input); stop-with-savepoint
                # without --drain does not (the windows stay in the savepoint).
                if self._stopped_by is not SnapshotType.SAVEPOINT_SUSPEND:
                    chain.head.output.emit_watermark(MAX_WATERMARK)
            else:
                await self._run_input(chain.head)
            if ticker is not None:
                ticker.cancel()
            if self.checkpointer is None or not self.checkpointer.suspended:  # stop without --drain: no end
                chain.end_input()
            if self.checkpointer is not None and self._stopped_by is None:  # FLIP-147: checkpoints go on
                await self.checkpointer.wait_for_uploads()
                self.checkpointer.snapshot_at_end(required=self._final_checkpoint)
            for writer in self.writers:
                writer.finish()
            await self._finish_with_final_checkpoint(chain)
            errors = chain.close()
            chain = None
            if errors:
                raise errors[0]
            self._transition(ExecutionState.FINISHED)
        except asyncio.CancelledError:
            if self._timer_error is not None:  # a processing-time callback failed: that is a task failure
                failure = _describe(self._timer_error, self.tdd.task_name, self.tdd.subtask_index,
                                    self.tdd.parallelism)
                self._abort(chain, failure)
                self._transition(ExecutionState.FAILED, failure)
            else:
                self._abort(chain, "canceled")
                self._transition(ExecutionState.CANCELED)
        except UpstreamFailure as exc:
            if not exc.consequential:
                failure = _describe(exc, self.tdd.task_name, self.tdd.subtask_index, self.tdd.parallelism)
                self._abort(chain, failure)
                self._transition(ExecutionState.FAILED, failure)
            else:  # the producer stopped and reports its own cause: this task is cancelled, as in Flink
                self._abort(chain, "canceled")
                self._transition(ExecutionState.CANCELED)
        except BaseException as exc:  # noqa: BLE001 - every failure of user code fails the task
            failure = _describe(exc, self.tdd.task_name, self.tdd.subtask_index, self.tdd.parallelism)
            log.warning("Task %s failed: %s", self.tdd.task_name, failure)
            self._abort(chain, failure)
            self._transition(ExecutionState.FAILED, failure)
        finally:
            if flusher is not None:
                flusher.cancel()
            if ticker is not None:
                ticker.cancel()
            if self.checkpointer is not None:
                self.checkpointer.close()
            self.gate.close()

    async def _finish_with_final_checkpoint(self, chain: OperatorChain) -> None:
        """FLIP-147 (Flink "Checkpointing" > "Checkpointing with parts of the graph finished"): the final state was
        acknowledged and the outputs ended; with periodic checkpoints the task stays RUNNING until a checkpoint
        holding that state completed (its notification commits what sinks prepared at the end of input), so a
        failure before it restores a checkpoint that replays this input without committing it twice. After a
        completed stop-with-savepoint no checkpoint follows: sinks commit what is left at once. A cancel while
        waiting cancels the task (nothing committed). Without periodic checkpoints nothing waits."""
        if not self._final_checkpoint or self.checkpointer is None:
            return
        await self.checkpointer.wait_for_final_checkpoint()
        if self.checkpointer.stopped_by_savepoint:
            for op in chain.operators:
                if isinstance(op, SinkOperator):
                    op.commit_all_prepared()

    def _abort(self, chain: Optional[OperatorChain], reason: str) -> None:
        for partition in self.partitions:
            partition.fail(f"producer '{self.tdd.task_name} ({self.tdd.subtask_index + 1}/"
                           f"{self.tdd.parallelism})' did not finish: {reason.splitlines()[0] if reason else ''}")
            # Consumers already reading keep their subpartition; new requests are refused (no leak in the worker).
            self.registry.release(partition.partition_id)
        if chain is not None:
            for err in chain.close():
                log.debug("error closing operator after failure: %r", err)

    def _build(self) -> OperatorChain:
        tdd = self.tdd
        spec: ChainSpec = cloudpickle.loads(tdd.chain)
        for desc in tdd.partitions:
            partition = ResultPartition(desc.partition_id, desc.num_subpartitions, self.capacity,
                                        on_released=self.registry.release)
            self.partitions.append(partition)
            self.registry.register(partition)
        partitioners = {}
        for node in spec.operators.values():
            side = [o for outs in node.side_network.values() for o in outs]
            for index, partitioner in [*node.network_outputs, *side]:
                partitioners[index] = partitioner
        self.writers = [RecordWriter(p, partitioners[d.edge_index], self.batch_size)
                        for d, p in zip(tdd.partitions, self.partitions)]
        for gate_desc in tdd.gates:
            for ch in gate_desc.channels:
                if ch.data_address == self.data_address:
                    LocalInputChannel(self.gate, ch, self.registry, gate_desc.type_number)
                else:
                    RemoteInputChannel(self.gate, ch, self.credits, gate_desc.type_number)
        info = TaskInfo(job_id=tdd.job_id, job_name=tdd.job_name, task_name=tdd.task_name,
                        subtask_index=tdd.subtask_index, parallelism=tdd.parallelism,
                        max_parallelism=tdd.max_parallelism, attempt_number=tdd.attempt_number,
                        job_parameters={k: str(v) for k, v in tdd.config.items()})
        self._task_info = info
        chain = OperatorChain(spec, self.writers, info, self._keyed_backend, self._configure)
        self.checkpointer = TaskCheckpointer(
            self._checkpointing_mode, self.gate if self.gate.channels else None, self.writers,
            ack=self._ack_checkpoint, decline=self._decline_checkpoint, timeout_ms=self._checkpoint_timeout_ms,
            operator_ids=tdd.operator_ids, storage=CheckpointStorage(tdd.job_id, None),
            key_groups=KeyGroupRange.of(key_group_range(tdd.max_parallelism, tdd.parallelism, tdd.subtask_index)),
            inline_threshold=self._inline_threshold, name=f"{tdd.task_name} ({tdd.subtask_index + 1}/"
                                                           f"{tdd.parallelism})")
        self.checkpointer.chain = chain
        if isinstance(chain.head, SourceOperator):
            head = chain.head
            self.checkpointer.drain_hook = lambda: head.output.emit_watermark(MAX_WATERMARK)
        return chain

    def _restore(self, chain: OperatorChain) -> None:
        """Initialize every operator's state from the checkpoint the JobMaster restores (a fresh start without)."""
        if self.tdd.restored_state is None:
            return
        from yflink.streaming.operators.state_handling import initialize_state

        snapshots: dict[int, list[Any]] = pickle.loads(self.tdd.restored_state)
        for node_id in chain.spec.order:
            initialize_state(chain.spec.operators[node_id].operator, snapshots.get(node_id) or None)

    # --- checkpoints ------------------------------------------------------------------------------------------
    def trigger_checkpoint(self, checkpoint_id: int, timestamp: int, options: Any) -> None:
        """The JobMaster triggers checkpoint ``checkpoint_id`` at this source task (taken between batches; a task
        still initializing takes it at its first batch). A task not built yet or ended declines it as not ready."""
        if self.checkpointer is None or self.state not in (ExecutionState.INITIALIZING, ExecutionState.RUNNING):
            not_ready = CheckpointFailureReason.CHECKPOINT_DECLINED_TASK_NOT_READY.value
            self._decline_checkpoint(checkpoint_id, f"{not_ready}: task is {self.state.value}")
            return
        self.checkpointer.trigger_at_source(CheckpointBarrier(checkpoint_id, timestamp, options))

    def notify_checkpoint(self, checkpoint_id: int, completed: bool) -> None:
        if self.checkpointer is not None:
            self.checkpointer.notify(checkpoint_id, completed)

    def _ack_checkpoint(self, checkpoint_id: int, state: bytes, sync_ms: int, alignment_ms: int) -> None:
        if self.checkpoint_reporter is not None:
            self.checkpoint_reporter.acknowledge(self.tdd, checkpoint_id, state, sync_ms, alignment_ms)

    def _decline_checkpoint(self, checkpoint_id: int, reason: str) -> None:
        if self.checkpoint_reporter is not None:
            self.checkpoint_reporter.decline(self.tdd, checkpoint_id, reason)

    def _configure(self, op: StreamOperator) -> None:
        if isinstance(op, CollectSinkOperator):
            op.sender = functools.partial(self.collect_sender, self.tdd)
        if isinstance(op, SinkOperator):
            op.commit_at_final_checkpoint = self._final_checkpoint

    def _keyed_backend(self, op: StreamOperator) -> Any:
        from yflink.state.backends import create_keyed_state_backend

        return create_keyed_state_backend(self._task_info)

    async def _wait_for_output_space(self) -> None:
        for writer in self.writers:
            if not writer.partition.has_space():
                start = time.perf_counter()
                await writer.partition.wait_for_space()
                self.metrics.backpressured_ms += (time.perf_counter() - start) * 1000.0

    async def _run_source(self, head: SourceOperator) -> None:
        batch_size = self.batch_size
        metrics = self.metrics
        clock = time.perf_counter
        writers = self.writers
        checkpointer = self.checkpointer
        step = batch_size
        while True:
            if checkpointer is not None and checkpointer.pending_trigger is not None:
                kind = checkpointer.pending_trigger.options.snapshot_type
                checkpointer.take_pending_trigger()
                if checkpointer.stopping:  # stop-with-savepoint: emit nothing until the savepoint's outcome
                    if await checkpointer.wait_for_stop():
                        self._stopped_by = kind
                        return
            start = clock()
            n = head.emit_next(step)
            elapsed = clock() - start
            metrics.busy_ms += elapsed * 1000.0
            if n is None:
                return
            # Flink's mailbox takes control messages (checkpoint triggers, RPCs) between records; here a source
            # step holds the slot worker's loop, so slow chained functions get smaller steps (fast ones keep
            # whole batches) and a trigger waits at most about SOURCE_STEP_BUDGET_S.
            if elapsed > SOURCE_STEP_BUDGET_S and step > 1:
                step = max(1, step // 2)
            elif elapsed < SOURCE_STEP_BUDGET_S / 4 and step < batch_size:
                step = min(batch_size, step * 2)
            metrics.records_in += n  # a source's input: what it read (Flink's numRecordsIn of FLIP-27 sources)
            if n == 0:
                start = clock()
                await asyncio.sleep(0.001)
                metrics.idle_ms += (clock() - start) * 1000.0
                continue
            for writer in writers:
                if not writer.partition.has_space():
                    await self._wait_for_output_space()
                    break
            else:
                await asyncio.sleep(0)

    async def _run_input(self, head: StreamOperator) -> None:
        gate = self.gate
        channels = gate.channels
        remaining = len(channels)
        if remaining == 0:
            return
        metrics = self.metrics
        clock = time.perf_counter
        writers = self.writers
        two_input = any(c.type_number for c in channels)
        process = head.process_batch
        process1 = getattr(head, "process_batch1", None)
        process2 = getattr(head, "process_batch2", None)
        # One watermark valve per input (type number 0, or 1 and 2 of a two-input operator).
        valves: dict[int, WatermarkValve] = {}
        local_index: list[int] = []
        for channel in channels:
            local_index.append(valves.setdefault(channel.type_number, WatermarkValve(0)).add_channel())
        watermark_handlers = {0: head.process_watermark,
                              1: getattr(head, "process_watermark1", head.process_watermark),
                              2: getattr(head, "process_watermark2", head.process_watermark)}
        checkpointer = self.checkpointer
        assert checkpointer is not None
        status_handlers = {0: head.process_watermark_status,
                           1: getattr(head, "process_watermark_status1", head.process_watermark_status),
                           2: getattr(head, "process_watermark_status2", head.process_watermark_status)}
        yield_every = 0
        while remaining:
            got = gate.poll_now()
            if got is None:
                start = clock()
                got = await gate.next()
                metrics.idle_ms += (clock() - start) * 1000.0
                yield_every = 0
            index, item = got
            kind = item[0]
            if kind == DATA:
                values = item[1]
                metrics.records_in += len(values)
                start = clock()
                if two_input:
                    (process1 if channels[index].type_number == 1 else process2)(values, item[2])  # type: ignore[misc]
                else:
                    process(values, item[2])
                metrics.busy_ms += (clock() - start) * 1000.0
                for writer in writers:
                    if not writer.partition.has_space():
                        await self._wait_for_output_space()
                        break
                else:
                    yield_every += 1
                    if yield_every >= 8:
                        yield_every = 0
                        await asyncio.sleep(0)
            elif kind == EVENT:
                event = item[1]
                valve = valves[channels[index].type_number]
                local = local_index[index]
                if isinstance(event, Watermark):
                    advanced = valve.input_watermark(local, event.timestamp)
                elif isinstance(event, WatermarkStatus):
                    advanced, idleness = valve.input_status(local, event.idle)
                    if idleness is not None:
                        status_handlers[channels[index].type_number](idleness)
                elif isinstance(event, CheckpointBarrier):
                    advanced = None
                    checkpointer.on_barrier(index, event)
                elif isinstance(event, CancelCheckpointMarker):
                    advanced = None
                    checkpointer.on_cancellation_marker(index, event)
                elif isinstance(event, EndOfPartition):
                    remaining -= 1
                    checkpointer.on_end_of_partition(index)
                    advanced = None  # a finished input must not push event time to +infinity by itself
                    valve.ended[local] = True
                else:
                    advanced = None
                if advanced is not None:
                    watermark_handlers[channels[index].type_number](advanced)
            elif kind == ERROR:
                error = item[1]
                if isinstance(error, UpstreamError):
                    raise UpstreamFailure(error.message, error.consequential)
                raise UpstreamFailure(str(error))

    def _start_processing_time_service(self, chain: OperatorChain) -> Optional[asyncio.Task[None]]:
        """Call ``on_processing_time(now_ms)`` of the operators that have it, also while input is idle.

        Flink's ProcessingTimeService: processing-time timers, periodic watermarks and idleness checks fire on
        the wall clock. Here a coroutine of the task's own loop ticks every PROCESSING_TIME_TICK_S (sooner when
        an operator's ``next_processing_time()`` is due earlier), only between batches, never inside one.
        """
        handlers: list[Any] = [op for op in chain.operators if callable(getattr(op, "on_processing_time", None))]
        if not handlers:
            return None
        main = self._asyncio_task

        async def tick() -> None:
            try:
                while True:
                    now_ms = int(time.time() * 1000)
                    due = [n for n in (getattr(op, "next_processing_time", lambda: None)() for op in handlers)
                           if n is not None]
                    delay = PROCESSING_TIME_TICK_S if not due else max(0.0, min(due) - now_ms) / 1000.0
                    await asyncio.sleep(min(delay, PROCESSING_TIME_TICK_S))
                    if self.checkpointer is not None and self.checkpointer.stopping:
                        # A source that took a stop-with-savepoint emits nothing until its outcome, not even a
                        # periodic watermark: windows after the barrier would fire here and again after the restore.
                        continue
                    now_ms = int(time.time() * 1000)
                    for op in handlers:
                        op.on_processing_time(now_ms)
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # noqa: BLE001 - a user timer raised: fail the task
                self._timer_error = exc
                if main is not None:
                    main.cancel()

        return asyncio.get_running_loop().create_task(tick())

    async def _flush_periodically(self) -> None:
        assert self.buffer_timeout_s is not None
        while True:
            await asyncio.sleep(self.buffer_timeout_s)
            for writer in self.writers:
                writer.flush_all()


def _describe(exc: BaseException, task_name: str, subtask_index: int, parallelism: int) -> str:
    """The failure text shown by the CLI and ``GET /jobs/{id}/exceptions``: where, what, and the traceback."""
    tb = "".join(traceback.format_exception(exc))
    return f"{type(exc).__name__}: {exc}\n  in task '{task_name}' ({subtask_index + 1}/{parallelism})\n\n{tb}"
