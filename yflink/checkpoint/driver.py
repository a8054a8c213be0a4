"""Runs a :class:`~yflink.checkpoint.coordinator.CheckpointCoordinator` on the JobMaster's asyncio loop.

The coordinator decides; this driver does what it decides: it wakes at the coordinator's next deadline (an event
wait with a timeout, never a polling sleep), creates checkpoint directories and writes ``_metadata`` through
:class:`~yflink.checkpoint.storage.CheckpointStorage` off the loop (``run_io``, ``asyncio.to_thread`` by default),
calls tasks through a :class:`CheckpointTaskGateway`, deletes discarded state, resolves savepoint requests, and
hands "fail the job" to the JobMaster's callback. Every coordinator call happens on the loop, so the coordinator
needs no locks; I/O results come back to it as events.

The JobMaster calls :meth:`acknowledge` / :meth:`decline` from its gateway handlers (task acks), :meth:`start` when
the job is RUNNING, :meth:`abort_all` on failover, :meth:`trigger_checkpoint` / :meth:`trigger_savepoint` from
REST/CLI, :meth:`shutdown` when the job ends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Optional, Protocol, TypeVar

from yflink.checkpoint.barriers import CheckpointBarrier
from yflink.checkpoint.coordinator import (
    CheckpointCoordinator,
    CoordinatorInstruction,
    DiscardState,
    FailJob,
    NotifyCheckpointAborted,
    NotifyCheckpointComplete,
    SavepointCompleted,
    SavepointFailed,
    TriggerCheckpoint,
    WriteMetadata,
)
from yflink.checkpoint.errors import CheckpointError, CheckpointFailureReason
from yflink.checkpoint.handles import TaskStateSnapshot
from yflink.checkpoint.storage import CheckpointStorage
from yflink.common.errors import YFlinkError

__all__ = ["CheckpointCoordinatorDriver", "CheckpointTaskGateway"]

log = logging.getLogger(__name__)
T = TypeVar("T")


class CheckpointTaskGateway(Protocol):
    """The calls the coordinator makes to tasks (the JobMaster routes them to TaskExecutors by execution id)."""

    async def trigger_checkpoint(self, execution_id: str, barrier: CheckpointBarrier) -> None:
        """Ask a source task (or one whose inputs all ended) to inject ``barrier`` between two batches."""
        ...

    async def notify_checkpoint_complete(self, execution_id: str, checkpoint_id: int,
                                         last_subsumed: Optional[int]) -> None:
        """The checkpoint completed: operators commit (two-phase-commit sinks)."""
        ...

    async def notify_checkpoint_aborted(self, execution_id: str, checkpoint_id: int,
                                        reason: CheckpointFailureReason) -> None:
        """The checkpoint was aborted: drop its snapshot and alignment."""
        ...


def _wall_clock_ms() -> int:
    return int(time.time() * 1000)


async def _to_thread(function: Callable[[], T]) -> T:
    return await asyncio.to_thread(function)


class CheckpointCoordinatorDriver:
    """Drives one job's coordinator (see the module docstring).

    Args:
        coordinator: the pure coordinator.
        storage: the job's checkpoint storage (I/O).
        gateway: calls to tasks.
        fail_job: called with a message when the job must fail.
        clock_ms: the time, ms since the epoch.
        run_io: runs blocking storage I/O off the loop.
    """

    def __init__(self, coordinator: CheckpointCoordinator, storage: CheckpointStorage, gateway: CheckpointTaskGateway,
                 fail_job: Callable[[str], None], *, clock_ms: Callable[[], int] = _wall_clock_ms,
                 run_io: Callable[[Callable[[], Any]], Awaitable[Any]] = _to_thread) -> None:
        self.coordinator = coordinator
        self.storage = storage
        self.gateway = gateway
        self._fail_job = fail_job
        self._clock_ms = clock_ms
        self._run_io = run_io
        self._wakeup = asyncio.Event()
        self._loop_task: Optional[asyncio.Task[None]] = None
        self._stopping = False  # the loop ends at its next wakeup (Python 3.11's wait_for may swallow a cancel)
        self._work: set[asyncio.Task[None]] = set()
        self._savepoints: dict[str, asyncio.Future[str]] = {}
        self._next_request = 0

    # --- lifecycle -----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Create ``shared/`` and ``taskowned/`` and start periodic checkpoints (when the job is RUNNING)."""
        if self.storage.job_dir is not None:
            await self._run_io(self.storage.initialize_base_locations)
        self._dispatch(self.coordinator.start_scheduler(self._clock_ms()))
        self._wakeup.set()  # a new first deadline (after a failover the loop may be waiting without one)
        if self._loop_task is None:
            self._loop_task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop the timer loop and wait for the I/O in flight."""
        if self._loop_task is not None:
            self._stopping = True
            self._wakeup.set()
            self._loop_task.cancel()
            try:
                await self._loop_task
            except asyncio.CancelledError:
                pass
            self._loop_task = None
            self._stopping = False
        await self.drain()

    async def drain(self) -> None:
        """Wait until every instruction handed out so far has been carried out (and what it led to)."""
        while self._work:
            await asyncio.gather(*list(self._work), return_exceptions=True)

    async def _run(self) -> None:
        while not self._stopping:
            wake = self.coordinator.next_wakeup_ms()
            timeout = None if wake is None else max(0.0, (wake - self._clock_ms()) / 1000.0)
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout)
            except TimeoutError:
                pass
            if self._stopping:
                return
            self._wakeup.clear()
            self.poll()

    def poll(self) -> None:
        """Let the coordinator act on the current time now (the loop does this at every deadline)."""
        self._dispatch(self.coordinator.tick(self._clock_ms()))

    # --- events from the JobMaster -------------------------------------------------------------------
    def acknowledge(self, execution_id: str, checkpoint_id: int, state: Optional[TaskStateSnapshot]) -> None:
        self._dispatch(self.coordinator.acknowledge(execution_id, checkpoint_id, state, self._clock_ms()))

    def decline(self, execution_id: str, checkpoint_id: int, reason: CheckpointFailureReason, message: str) -> None:
        self._dispatch(self.coordinator.decline(execution_id, checkpoint_id, reason, message, self._clock_ms()))

    def abort_all(self, reason: CheckpointFailureReason = CheckpointFailureReason.JOB_FAILOVER_REGION) -> None:
        """Job failover: abort what is pending and stop periodic checkpoints until :meth:`start` again."""
        self.coordinator.stop_scheduler()
        self._dispatch(self.coordinator.abort_all(reason))

    def trigger_checkpoint(self) -> int:
        """Trigger a checkpoint now (REST ``POST /jobs/<id>/checkpoints``); its id. It completes later.

        Raises:
            CheckpointError: it could not start (not every task RUNNING, the job ended).
        """
        checkpoint_id, instructions = self.coordinator.trigger_checkpoint(self._clock_ms())
        self._dispatch(instructions)
        return checkpoint_id

    def drop_unreadable(self, checkpoint_id: int) -> None:
        """The retained checkpoint ``checkpoint_id`` cannot be read back: forget it and delete its files."""
        self._dispatch(self.coordinator.drop_unreadable(checkpoint_id))

    async def trigger_savepoint(self, target_dir: Optional[str] = None, *, stop: bool = False,
                                drain: bool = False) -> str:
        """Take a savepoint (``stop``: stop-with-savepoint); its directory.

        Raises:
            CheckpointError: the savepoint failed (reason and message of the coordinator).
        """
        self._next_request += 1
        request_id = f"savepoint-{self._next_request}"
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._savepoints[request_id] = future
        self._dispatch(self.coordinator.trigger_savepoint(self._clock_ms(), target_dir, request_id,
                                                          stop=stop, drain=drain))
        return await future

    async def shutdown(self, job_status: str) -> None:
        """The job ended in ``job_status`` (a JobStatus name): clean up as the retention policy says."""
        self._dispatch(self.coordinator.shutdown(job_status))
        await self.stop()

    # --- carrying out instructions -------------------------------------------------------------------
    def _dispatch(self, instructions: list[CoordinatorInstruction]) -> None:
        if not instructions:
            return
        task = asyncio.get_running_loop().create_task(self._execute(instructions))
        self._work.add(task)
        task.add_done_callback(self._work.discard)
        self._wakeup.set()  # deadlines may have changed

    async def _execute(self, instructions: list[CoordinatorInstruction]) -> None:
        for instruction in instructions:
            try:
                await self._execute_one(instruction)
            except Exception:  # noqa: BLE001 - one failed instruction must not stop the others
                log.exception("Checkpoint coordinator instruction %s failed", instruction)

    async def _execute_one(self, instruction: CoordinatorInstruction) -> None:
        if isinstance(instruction, TriggerCheckpoint):
            await self._trigger(instruction)
        elif isinstance(instruction, WriteMetadata):
            await self._write_metadata(instruction)
        elif isinstance(instruction, NotifyCheckpointComplete):
            await asyncio.gather(*(self.gateway.notify_checkpoint_complete(
                task, instruction.checkpoint_id, instruction.last_subsumed) for task in instruction.tasks),
                return_exceptions=True)
        elif isinstance(instruction, NotifyCheckpointAborted):
            await asyncio.gather(*(self.gateway.notify_checkpoint_aborted(
                task, instruction.checkpoint_id, instruction.reason) for task in instruction.tasks),
                return_exceptions=True)
        elif isinstance(instruction, DiscardState):
            await self._run_io(lambda: self._discard(instruction))
        elif isinstance(instruction, SavepointCompleted):
            self._resolve(instruction.request_id, result=instruction.path)
        elif isinstance(instruction, SavepointFailed):
            self._resolve(instruction.request_id, error=CheckpointError(instruction.reason, instruction.message))
        elif isinstance(instruction, FailJob):
            self._fail_job(instruction.message)

    async def _trigger(self, instruction: TriggerCheckpoint) -> None:
        checkpoint_id = instruction.checkpoint_id
        try:
            await self._run_io(lambda: self.storage.initialize_location(instruction.location))
        except (OSError, YFlinkError) as exc:
            self._dispatch(self.coordinator.location_failed(checkpoint_id, str(exc), self._clock_ms()))
            return
        results = await asyncio.gather(*(self.gateway.trigger_checkpoint(task, instruction.barrier)
                                         for task in instruction.tasks), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            self._dispatch(self.coordinator.trigger_failed(checkpoint_id, str(failures[0]), self._clock_ms()))

    async def _write_metadata(self, instruction: WriteMetadata) -> None:
        try:
            pointer = await self._run_io(
                lambda: self.storage.write_metadata(instruction.location, instruction.metadata))
        except (OSError, YFlinkError) as exc:
            self._dispatch(self.coordinator.metadata_failed(instruction.checkpoint_id, str(exc), self._clock_ms()))
            return
        self._dispatch(self.coordinator.metadata_written(instruction.checkpoint_id, pointer, self._clock_ms()))

    def _discard(self, instruction: DiscardState) -> None:
        for directory in instruction.plan.directories:
            try:
                self.storage.discard_location(directory)
            except (OSError, YFlinkError) as exc:
                log.warning("Could not delete %s of checkpoint %d: %s", directory, instruction.plan.checkpoint_id, exc)
        left = self.storage.delete_files(instruction.plan.files)
        if left:
            log.warning("Could not delete %d files of checkpoint %d: %s", len(left), instruction.plan.checkpoint_id,
                        left[:3])

    def _resolve(self, request_id: Optional[str], result: Optional[str] = None,
                 error: Optional[BaseException] = None) -> None:
        future = self._savepoints.pop(request_id or "", None)
        if future is None or future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result or "")
