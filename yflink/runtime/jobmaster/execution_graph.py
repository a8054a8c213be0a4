"""ExecutionGraph: the JobGraph expanded to one Execution per subtask, as a pure state machine.

No I/O and no clocks of its own: callers pass ``now_ms``. The JobMaster feeds it events (deployments,
task state updates, failures, cancellation) and reads back what to do (which executions to cancel, whether
the job reached a terminal status).

Source of the semantics: Flink ``ExecutionGraph``, ``ExecutionJobVertex``, ``ExecutionVertex``, ``Execution``
and the JobStatus transitions of ``DefaultExecutionGraph`` (no restart strategy: the first task failure fails
the job after every other task has been cancelled).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Optional

from yflink.common.ids import ExecutionAttemptID
from yflink.graph.job_graph import JobGraph, JobVertex
from yflink.runtime.states import EXECUTION_TRANSITIONS, JOB_TRANSITIONS, ExecutionState, JobStatus


class IllegalTransition(RuntimeError):
    """A state change the state machine does not allow (a bug in the caller)."""


@dataclass
class SlotAssignment:
    """Where an execution runs."""

    allocation_id: str
    resource_id: str
    task_executor_address: str
    data_address: str


@dataclass
class Execution:
    """One attempt of one subtask."""

    vertex: ExecutionJobVertex
    subtask_index: int
    attempt_number: int = 0
    id: str = field(default_factory=lambda: ExecutionAttemptID.generate().hex)
    state: ExecutionState = ExecutionState.CREATED
    state_timestamps: dict[str, int] = field(default_factory=dict)
    slot: Optional[SlotAssignment] = None
    failure: Optional[str] = None
    records_in: int = 0
    records_out: int = 0
    busy_ms: int = 0
    backpressured_ms: int = 0
    idle_ms: int = 0

    @property
    def name(self) -> str:
        return f"{self.vertex.job_vertex.name} ({self.subtask_index + 1}/{self.vertex.parallelism})"


@dataclass
class ExecutionJobVertex:
    """The executions of one JobVertex."""

    job_vertex: JobVertex
    executions: list[Execution] = field(default_factory=list)

    @property
    def parallelism(self) -> int:
        return self.job_vertex.parallelism

    def aggregate_state(self) -> ExecutionState:
        """Flink's vertex status: the 'least advanced' non-terminal state, FAILED/CANCELED win, else FINISHED."""
        states = [e.state for e in self.executions]
        for s in (ExecutionState.FAILED, ExecutionState.CANCELING, ExecutionState.CANCELED):
            if s in states:
                return s
        for s in (ExecutionState.CREATED, ExecutionState.SCHEDULED, ExecutionState.DEPLOYING,
                  ExecutionState.INITIALIZING, ExecutionState.RUNNING):
            if s in states:
                return s
        return ExecutionState.FINISHED


class ExecutionGraph:
    """The state of one job's executions.

    Args:
        job_graph: the submitted JobGraph.
        now_ms: creation time, ms since the epoch.
    """

    def __init__(self, job_graph: JobGraph, now_ms: int) -> None:
        self.job_graph = job_graph
        self.status = JobStatus.CREATED
        self.status_timestamps: dict[str, int] = {JobStatus.INITIALIZING.value: now_ms, JobStatus.CREATED.value: now_ms}
        self.failure: Optional[str] = None
        self.failure_timestamp: Optional[int] = None
        #: Set on a failure when ``restart_policy`` allows a restart: FAILING then ends in RESTARTING.
        self.restart_pending = False
        self.restart_policy: Optional[Callable[[int], bool]] = None
        #: (timestamp ms, cause) of every failure that led to a restart, oldest first.
        self.failure_history: list[tuple[int, str]] = []
        self.restarts = 0
        self.vertices: list[ExecutionJobVertex] = []
        self._by_id: dict[str, Execution] = {}
        for jv in job_graph.vertices:
            ejv = ExecutionJobVertex(jv)
            for i in range(jv.parallelism):
                ex = Execution(ejv, i)
                ex.state_timestamps[ExecutionState.CREATED.value] = now_ms
                ejv.executions.append(ex)
                self._by_id[ex.id] = ex
            self.vertices.append(ejv)

    # --- queries ----------------------------------------------------------------------------------
    def executions(self) -> Iterator[Execution]:
        for v in self.vertices:
            yield from v.executions

    def execution(self, execution_id: str) -> Optional[Execution]:
        return self._by_id.get(execution_id)

    def vertex(self, vertex_id: str) -> ExecutionJobVertex:
        for v in self.vertices:
            if v.job_vertex.id == vertex_id:
                return v
        raise KeyError(vertex_id)

    def executions_to_cancel(self) -> list[Execution]:
        """Executions running on a TaskManager that must be told to cancel."""
        return [e for e in self.executions() if e.state in (
            ExecutionState.DEPLOYING, ExecutionState.INITIALIZING, ExecutionState.RUNNING, ExecutionState.CANCELING)]

    def executions_on(self, resource_id: str) -> list[Execution]:
        return [e for e in self.executions() if e.slot is not None and e.slot.resource_id == resource_id
                and not e.state.is_terminal]

    # --- events ------------------------------------------------------------------------------------
    def _set_job_status(self, status: JobStatus, now_ms: int) -> None:
        if status == self.status:
            return
        if status not in JOB_TRANSITIONS[self.status]:
            raise IllegalTransition(f"job {self.job_graph.job_id}: {self.status.value} -> {status.value}")
        self.status = status
        self.status_timestamps[status.value] = now_ms

    def _set_execution_state(self, ex: Execution, state: ExecutionState, now_ms: int) -> bool:
        if ex.state == state:
            return False
        if state not in EXECUTION_TRANSITIONS[ex.state]:
            if ex.state.is_terminal or ex.state is ExecutionState.CANCELING:
                return False  # a late report (of a finished or cancelling attempt): ignored, as Flink does
            raise IllegalTransition(f"{ex.name}: {ex.state.value} -> {state.value}")
        ex.state = state
        ex.state_timestamps[state.value] = now_ms
        return True

    def start_scheduling(self, now_ms: int) -> None:
        """CREATED -> RUNNING for the job, CREATED -> SCHEDULED for every execution."""
        self._set_job_status(JobStatus.RUNNING, now_ms)
        for ex in self.executions():
            self._set_execution_state(ex, ExecutionState.SCHEDULED, now_ms)

    def mark_deploying(self, execution_id: str, slot: SlotAssignment, now_ms: int) -> None:
        ex = self._by_id[execution_id]
        ex.slot = slot
        self._set_execution_state(ex, ExecutionState.DEPLOYING, now_ms)

    def update_state(self, execution_id: str, state: ExecutionState, now_ms: int,
                     failure: Optional[str] = None) -> bool:
        """Apply a TaskManager's report. Returns False when ignored (unknown or already terminal).

        A FAILED execution moves a RUNNING job to FAILING (its failure becomes the job's root cause); once
        every execution is terminal the job becomes FINISHED, FAILED or CANCELED.
        """
        ex = self._by_id.get(execution_id)
        if ex is None or not self._set_execution_state(ex, state, now_ms):
            return False
        if state is ExecutionState.FAILED:
            ex.failure = failure or "unknown failure"
            self.fail(f"{ex.name} failed: {ex.failure}", now_ms)
        self._maybe_complete(now_ms)
        return True

    def fail(self, cause: str, now_ms: int) -> None:
        """Fail the job (first cause wins): RUNNING/CREATED -> FAILING; executions must then be cancelled.
        ``restart_policy(now_ms)``, when set, decides whether FAILING ends in RESTARTING instead of FAILED."""
        if self.status in (JobStatus.RUNNING, JobStatus.CREATED):
            self.restart_pending = bool(self.restart_policy is not None and self.restart_policy(now_ms))
            self.failure = cause
            self.failure_timestamp = now_ms
            self._set_job_status(JobStatus.FAILING, now_ms)
            self._cancel_undeployed(now_ms)
        self._maybe_complete(now_ms)

    def cancel(self, now_ms: int) -> None:
        """The user cancels: -> CANCELLING, undeployed executions become CANCELED at once."""
        if self.status.is_globally_terminal or self.status is JobStatus.CANCELLING:
            return
        self._set_job_status(JobStatus.CANCELLING, now_ms)
        self._cancel_undeployed(now_ms)
        self._maybe_complete(now_ms)

    def mark_canceling(self, execution_id: str, now_ms: int) -> None:
        ex = self._by_id[execution_id]
        if ex.state in (ExecutionState.DEPLOYING, ExecutionState.INITIALIZING, ExecutionState.RUNNING):
            self._set_execution_state(ex, ExecutionState.CANCELING, now_ms)

    def executions_lost(self, resource_id: str, cause: str, now_ms: int) -> None:
        """A TaskManager is gone: its executions failed with ``cause``."""
        for ex in self.executions_on(resource_id):
            self.update_state(ex.id, ExecutionState.FAILED, now_ms, cause)

    def restart(self, now_ms: int) -> None:
        """RESTARTING -> RUNNING with a new attempt of every subtask (Flink: a global failover of the one
        pipelined region of a streaming job). The failure goes to the history; executions start SCHEDULED.

        Raises:
            IllegalTransition: the job is not RESTARTING.
        """
        if self.status is not JobStatus.RESTARTING:
            raise IllegalTransition(f"job {self.job_graph.job_id}: restart while {self.status.value}")
        self.failure_history.append((self.failure_timestamp or now_ms, self.failure or ""))
        self.failure = None
        self.failure_timestamp = None
        self.restart_pending = False
        self.restarts += 1
        self._by_id.clear()
        for vertex in self.vertices:
            fresh = []
            for old in vertex.executions:
                ex = Execution(vertex, old.subtask_index, old.attempt_number + 1)
                ex.state_timestamps[ExecutionState.CREATED.value] = now_ms
                fresh.append(ex)
                self._by_id[ex.id] = ex
            vertex.executions = fresh
        self._set_job_status(JobStatus.RUNNING, now_ms)
        for ex in self.executions():
            self._set_execution_state(ex, ExecutionState.SCHEDULED, now_ms)

    def _cancel_undeployed(self, now_ms: int) -> None:
        for ex in self.executions():
            if ex.state in (ExecutionState.CREATED, ExecutionState.SCHEDULED):
                self._set_execution_state(ex, ExecutionState.CANCELED, now_ms)

    def _maybe_complete(self, now_ms: int) -> None:
        states = [e.state for e in self.executions()]
        if not all(s.is_terminal for s in states):
            return
        if self.status is JobStatus.RUNNING and all(s is ExecutionState.FINISHED for s in states):
            self._set_job_status(JobStatus.FINISHED, now_ms)
        elif self.status is JobStatus.FAILING:
            self._set_job_status(JobStatus.RESTARTING if self.restart_pending else JobStatus.FAILED, now_ms)
        elif self.status is JobStatus.CANCELLING:
            self._set_job_status(JobStatus.CANCELED, now_ms)
