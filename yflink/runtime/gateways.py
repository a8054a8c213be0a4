"""The gateways of the runtime's components, as Python Protocols.

Each is declared for the wire in ``yflink/rpc/protos/gateways.proto``; components in one process call each
other through these same methods, so moving a component to another process changes no caller.
Source: Flink ``DispatcherGateway``, ``ResourceManagerGateway``, ``JobMasterGateway``, ``TaskExecutorGateway``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional, Protocol

from yflink.common.configuration import Configuration
from yflink.graph.job_graph import JobGraph
from yflink.runtime.operation_cache import OperationResult

if TYPE_CHECKING:
    from yflink.runtime.jobmaster.execution_graph import ExecutionGraph


@dataclass
class TaskManagerInfo:
    """What the REST API shows of one TaskManager (``GET /taskmanagers``)."""

    resource_id: str
    address: str  # host:port of its TaskExecutorGateway
    hostname: str
    pid: int
    slots_total: int
    slots_free: int
    last_heartbeat_ms: int  # ms since the epoch


@dataclass
class CollectedRecords:
    """A page of records of one collect sink (``execute_and_collect``)."""

    records: list[Any]
    next_offset: int
    finished: bool  # every subtask of the sink reached end of input, and nothing is left after next_offset


class DispatcherGateway(Protocol):
    """Job submission and the REST API's view of the cluster."""

    async def submit_job(self, job_graph: JobGraph) -> str:
        """Start a JobMaster for the job; returns the job id. Raises JobSubmissionError (duplicate id, ...)."""

    def job_ids(self) -> list[str]:
        """Every job this Dispatcher knows, running or archived, oldest first."""

    def execution_graph(self, job_id: str) -> ExecutionGraph:
        """The (live or archived) ExecutionGraph of ``job_id``; raises KeyError when unknown."""

    async def cancel_job(self, job_id: str) -> None:
        """Cancel the job; raises KeyError when unknown. Returns at once (the job goes CANCELLING)."""

    def task_managers(self) -> list[TaskManagerInfo]:
        ...

    def configuration(self) -> Configuration:
        ...

    def collect(self, job_id: str, operator_id: str, offset: int, max_records: int) -> CollectedRecords:
        """Records of a collect sink from ``offset`` on; raises KeyError for an unknown job."""

    async def trigger_checkpoint(self, job_id: str) -> int:
        """Trigger a checkpoint now; returns its id. KeyError: unknown job; RuntimeError: not running."""

    def checkpoint_statistics(self, job_id: str) -> dict[str, Any]:
        """Flink's ``CheckpointingStatistics`` of the job (``GET /jobs/{jobid}/checkpoints``)."""

    async def trigger_savepoint(self, job_id: str, target_directory: Optional[str], *, cancel_job: bool = False,
                                format_type: str = "CANONICAL", trigger_id: Optional[str] = None) -> str:
        """Start a savepoint; returns its trigger id. KeyError: unknown job; RuntimeError: the job ended;
        ValueError: no target directory and no savepoint directory configured, or an unknown format_type."""

    async def stop_with_savepoint(self, job_id: str, target_directory: Optional[str], *, drain: bool = False,
                                  trigger_id: Optional[str] = None) -> str:
        """Start stop-with-savepoint; returns its trigger id. KeyError: unknown job; RuntimeError: the job ended;
        ValueError: no target directory and no savepoint directory configured."""

    def savepoint_status(self, job_id: str, trigger_id: str) -> OperationResult:
        """Outcome of a savepoint or stop-with-savepoint; KeyError when the trigger id is unknown or expired."""

    async def dispose_savepoint(self, savepoint_path: str, trigger_id: Optional[str] = None) -> str:
        """Start deleting a savepoint; returns its trigger id."""

    def disposal_status(self, trigger_id: str) -> OperationResult:
        """Outcome of a savepoint disposal; KeyError when unknown or expired."""


class ResourceManagerGateway(Protocol):
    async def request_slot(self, job_id: str, allocation_id: str, job_master_address: str,
                           job_master_id: str) -> None:
        """Find or wait for a free slot; the TaskExecutor owning it then offers it to the JobMaster."""

    async def cancel_slot_request(self, allocation_id: str) -> None: ...

    def free_slot_count(self) -> tuple[int, int]:
        """(free slots, all slots) over the registered TaskManagers."""


class JobMasterGateway(Protocol):
    async def offer_slots(self, resource_id: str, task_executor_address: str,
                          offers: list[tuple[str, int, str]]) -> list[str]:
        """Offers of (allocation id, slot index, data address); returns the accepted allocation ids."""

    async def update_task_execution_state(self, execution_id: str, state: str, failure: Optional[str]) -> None: ...

    def heartbeat_from_task_manager(self, resource_id: str) -> bool: ...

    async def disconnect_task_manager(self, resource_id: str, cause: str) -> None: ...


class TaskExecutorGateway(Protocol):
    async def request_slot(self, slot_index: int, allocation_id: str, job_id: str, job_master_address: str,
                           job_master_id: str) -> bool: ...

    async def submit_task(self, allocation_id: str, deployment: bytes) -> None: ...

    async def cancel_task(self, execution_id: str) -> None: ...

    async def free_slot(self, allocation_id: str, cause: str) -> None: ...
