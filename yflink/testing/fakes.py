"""Reusable fakes of the runtime's gateways, for tests without processes or sockets.

:class:`FakeDispatcher` implements :class:`yflink.runtime.gateways.DispatcherGateway` over real
:class:`~yflink.runtime.jobmaster.execution_graph.ExecutionGraph` state machines, which a test drives with
``run_job``, ``finish_job``, ``fail_task`` and ``add_collected`` instead of TaskManagers.
Source of the pattern: Flink's ``TestingDispatcherGateway``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Optional, TypeVar

from yflink.common.configuration import Configuration
from yflink.common.errors import JobSubmissionError
from yflink.common.ids import IntermediateDataSetID, JobID, JobVertexID
from yflink.graph.job_graph import JobEdge, JobGraph, JobVertex
from yflink.rest.server import start_rest_server
from yflink.runtime.gateways import CollectedRecords, TaskManagerInfo
from yflink.runtime.jobmaster.execution_graph import ExecutionGraph, SlotAssignment
from yflink.runtime.states import ExecutionState, JobStatus

T = TypeVar("T")


def _now_ms() -> int:
    return int(time.time() * 1000)


def small_job_graph(name: str = "Test Job", parallelism: int = 2, job_id: Optional[str] = None) -> JobGraph:
    """A JobGraph of two vertices, ``Source: Collection -> Map`` (parallelism 1) and ``Keyed Reduce``
    (``parallelism``), joined by a HASH edge. The chains are empty: nothing here can run on a TaskManager."""
    source = JobVertex(id=JobVertexID.generate().hex, name="Source: Collection -> Map", parallelism=1,
                       max_parallelism=128, slot_sharing_group="default", is_source=True, bounded=True,
                       operator_names=["Source: Collection", "Map"], chain=b"")
    reduce = JobVertex(id=JobVertexID.generate().hex, name="Keyed Reduce", parallelism=parallelism,
                       max_parallelism=128, slot_sharing_group="default", is_source=False, bounded=True,
                       operator_names=["Keyed Reduce"], chain=b"")
    edge = JobEdge(id=IntermediateDataSetID.generate().hex, source_vertex_id=source.id, target_vertex_id=reduce.id,
                   ship_strategy="HASH", pointwise=False)
    source.outputs.append(edge)
    reduce.inputs.append(edge)
    return JobGraph(job_id=job_id or JobID.generate().hex, job_name=name, config={}, vertices=[source, reduce])


@dataclass
class _Collected:
    records: list[Any] = field(default_factory=list)
    finished: bool = False


class FakeDispatcher:
    """A DispatcherGateway whose jobs move only when the test says so.

    Args:
        config: what ``configuration()`` returns.
        task_managers: what ``task_managers()`` returns (default: one TaskManager with 2 slots, 1 free).
    """

    def __init__(self, config: Optional[Configuration] = None,
                 task_managers: Optional[list[TaskManagerInfo]] = None) -> None:
        self.config = config if config is not None else Configuration().set_string("rest.port", "8081")
        self.tms = task_managers if task_managers is not None else [TaskManagerInfo(
            resource_id="tm-0", address="127.0.0.1:40001", hostname="localhost", pid=4242, slots_total=2,
            slots_free=1, last_heartbeat_ms=_now_ms())]
        self.graphs: dict[str, ExecutionGraph] = {}
        self.collected: dict[tuple[str, str], _Collected] = {}
        self.cancelled: list[str] = []

    # --- DispatcherGateway ---------------------------------------------------------------------------------
    async def submit_job(self, job_graph: JobGraph) -> str:
        self.add_job(job_graph)
        return job_graph.job_id

    def job_ids(self) -> list[str]:
        return list(self.graphs)

    def execution_graph(self, job_id: str) -> ExecutionGraph:
        return self.graphs[job_id]

    async def cancel_job(self, job_id: str) -> None:
        graph = self.graphs[job_id]
        self.cancelled.append(job_id)
        now = _now_ms()
        graph.cancel(now)
        for ex in graph.executions_to_cancel():  # the TaskManagers confirm at once
            graph.mark_canceling(ex.id, now)
            graph.update_state(ex.id, ExecutionState.CANCELED, now)

    def task_managers(self) -> list[TaskManagerInfo]:
        return list(self.tms)

    def configuration(self) -> Configuration:
        return self.config

    def collect(self, job_id: str, operator_id: str, offset: int, max_records: int) -> CollectedRecords:
        graph = self.graphs[job_id]
        buffer = self.collected.get((job_id, operator_id), _Collected())
        chunk = buffer.records[offset:offset + max_records]
        next_offset = offset + len(chunk)
        done = (buffer.finished or graph.status.is_globally_terminal) and next_offset >= len(buffer.records)
        return CollectedRecords(chunk, next_offset, done)

    # --- what a test drives ---------------------------------------------------------------------------------
    def add_job(self, job_graph: Optional[JobGraph] = None, now_ms: Optional[int] = None) -> ExecutionGraph:
        """Register a job in CREATED; raises JobSubmissionError for a duplicate id, like the Dispatcher."""
        job_graph = job_graph or small_job_graph()
        if job_graph.job_id in self.graphs:
            raise JobSubmissionError(f"Job {job_graph.job_id} was already submitted")
        graph = ExecutionGraph(job_graph, now_ms if now_ms is not None else _now_ms())
        self.graphs[job_graph.job_id] = graph
        return graph

    def run_job(self, job_id: str, records_per_task: int = 0) -> ExecutionGraph:
        """Deploy every execution to ``tm-0`` and make it RUNNING, with ``records_per_task`` records in/out."""
        graph = self.graphs[job_id]
        now = _now_ms()
        graph.start_scheduling(now)
        for i, ex in enumerate(graph.executions()):
            slot = SlotAssignment(f"alloc-{i}", "tm-0", "127.0.0.1:40001", f"127.0.0.1:{41000 + i}")
            graph.mark_deploying(ex.id, slot, now)
            graph.update_state(ex.id, ExecutionState.RUNNING, now)
            ex.records_in = 0 if ex.vertex.job_vertex.is_source else records_per_task
            ex.records_out = records_per_task
        return graph

    def finish_job(self, job_id: str) -> ExecutionGraph:
        graph = self.graphs[job_id]
        now = _now_ms()
        for ex in list(graph.executions()):
            graph.update_state(ex.id, ExecutionState.FINISHED, now)
        return graph

    def fail_task(self, job_id: str, vertex_index: int, subtask_index: int, failure: str) -> ExecutionGraph:
        """Fail one running execution with ``failure``; the others are cancelled, and the job ends FAILED."""
        graph = self.graphs[job_id]
        now = _now_ms()
        failing = graph.vertices[vertex_index].executions[subtask_index]
        graph.update_state(failing.id, ExecutionState.FAILED, now, failure)
        for ex in graph.executions_to_cancel():
            graph.mark_canceling(ex.id, now)
            graph.update_state(ex.id, ExecutionState.CANCELED, now)
        assert graph.status is JobStatus.FAILED
        return graph

    def add_collected(self, job_id: str, operator_id: str, records: list[Any], finished: bool = False) -> None:
        buffer = self.collected.setdefault((job_id, operator_id), _Collected())
        buffer.records.extend(records)
        buffer.finished = buffer.finished or finished


class RestServerThread:
    """The REST server over a dispatcher (usually a FakeDispatcher), on its own event loop in a thread.

    Use as a context manager; ``address`` is ``127.0.0.1:<port>``. ``call(fn)`` runs ``fn()`` on the server's
    loop and returns its result, so a test changes the dispatcher's jobs without racing the handlers.
    """

    def __init__(self, dispatcher: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.dispatcher = dispatcher
        self.host = host
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="rest-server", daemon=True)
        self._runner: Any = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def __enter__(self) -> RestServerThread:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(start_rest_server(self.dispatcher, self.host, self.port), self._loop)
        self._runner, self.port = future.result(timeout=10)
        return self

    def call(self, fn: Callable[[], T]) -> T:
        async def run() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=10)

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
