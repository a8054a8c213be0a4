"""What ``env.execute_async()`` returns (PyFlink ``pyflink.common.JobClient``, ``CompletableFuture``, ``JobStatus``).

PyFlink's JobClient answers with futures::

    job_client = env.execute_async("my job")
    print(job_client.get_job_id())                         # 32 hex digits
    status = job_client.get_job_status().result()          # JobStatus.RUNNING, ...
    result = job_client.get_job_execution_result().result()  # blocks until the job ends

:class:`JobClient` gives that shape over the executor's client (:class:`yflink.graph.executor.JobClient`, which
answers directly). A future computes its value when first asked (``result()``), and keeps it.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any, Generic, Optional, TypeVar

from yflink.common.ids import JobID
from yflink.common.job_execution_result import JobExecutionResult

__all__ = ["CompletableFuture", "JobClient", "JobStatus"]

T = TypeVar("T")


class JobStatus(Enum):
    """A job's state (Flink ``JobStatus``); PyFlink returns these from ``get_job_status().result()``."""

    INITIALIZING = 0
    CREATED = 1
    RUNNING = 2
    FAILING = 3
    FAILED = 4
    CANCELLING = 5
    CANCELED = 6
    FINISHED = 7
    RESTARTING = 8
    SUSPENDED = 9
    RECONCILING = 10

    def is_globally_terminal_state(self) -> bool:
        """FINISHED, CANCELED or FAILED: the job will not run again."""
        return self in (JobStatus.FINISHED, JobStatus.CANCELED, JobStatus.FAILED)

    def is_terminal_state(self) -> bool:
        """A globally terminal state, or SUSPENDED."""
        return self.is_globally_terminal_state() or self is JobStatus.SUSPENDED


class CompletableFuture(Generic[T]):
    """A value computed on first ``result()`` (PyFlink ``CompletableFuture``; yflink's client calls block)."""

    def __init__(self, compute: Callable[[], T]) -> None:
        self._compute: Optional[Callable[[], T]] = compute
        self._value: Any = None
        self._exception: Optional[BaseException] = None

    def _run(self) -> None:
        compute, self._compute = self._compute, None
        if compute is not None:
            try:
                self._value = compute()
            except Exception as e:  # noqa: BLE001 - kept and re-raised by result(), as a future does
                self._exception = e

    def result(self) -> T:
        """The value; raises what computing it raised."""
        self._run()
        if self._exception is not None:
            raise self._exception
        return self._value  # type: ignore[no-any-return]

    def exception(self) -> Optional[BaseException]:
        self._run()
        return self._exception

    def done(self) -> bool:
        return self._compute is None

    def cancel(self) -> bool:
        """A started computation cannot be cancelled."""
        return False

    def cancelled(self) -> bool:
        return False


class JobClient:
    """A handle on one submitted job, with PyFlink's future-returning methods.

    Args:
        client: the executor's job client (``get_job_id``, ``get_job_status``, ``cancel``,
            ``get_job_execution_result``, ``start_savepoint``, ``wait_for_savepoint``, answering directly).
    """

    def __init__(self, client: Any) -> None:
        self._client = client

    def get_job_id(self) -> JobID:
        return JobID(str(self._client.get_job_id()))

    def get_job_status(self) -> CompletableFuture[JobStatus]:
        return CompletableFuture(lambda: JobStatus[str(self._client.get_job_status())])

    def cancel(self) -> CompletableFuture[None]:
        """Ask the cluster to cancel the job now; the future's value is None."""
        self._client.cancel()
        return CompletableFuture(lambda: None)

    def trigger_savepoint(self, savepoint_directory: Optional[str] = None) -> CompletableFuture[str]:
        """Trigger a savepoint now; the future's value is the savepoint's directory URI (``result()`` blocks
        until it completed and raises SavepointFailedError when it failed).

        ``savepoint_directory`` None uses ``execution.checkpointing.savepoint-dir`` (``state.savepoints.dir``).
        Source: PyFlink ``JobClient.trigger_savepoint``; Flink "Savepoints".
        """
        trigger_id = self._client.start_savepoint(savepoint_directory)
        return CompletableFuture(lambda: str(self._client.wait_for_savepoint(trigger_id)))

    def stop_with_savepoint(self, advance_to_end_of_event_time: bool = False,
                            savepoint_directory: Optional[str] = None) -> CompletableFuture[str]:
        """Stop the job with a savepoint, requested now; the future's value is the savepoint's URI, and the job
        then ends FINISHED. ``advance_to_end_of_event_time`` emits the MAX watermark first (Flink's ``--drain``).

        Source: PyFlink ``JobClient.stop_with_savepoint``.
        """
        trigger_id = self._client.start_savepoint(savepoint_directory, stop=True, drain=advance_to_end_of_event_time)
        return CompletableFuture(lambda: str(self._client.wait_for_savepoint(trigger_id)))

    def get_job_execution_result(self) -> CompletableFuture[JobExecutionResult]:
        """``result()`` blocks until the job ends; it raises when the job did not FINISH."""
        return CompletableFuture(self._client.get_job_execution_result)

    def __repr__(self) -> str:
        return f"JobClient({self._client.get_job_id()})"
