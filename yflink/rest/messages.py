"""Flink's REST API messages as pure functions: runtime objects in, JSON-ready dicts out.

No I/O, no clocks of their own (callers pass ``now_ms``, milliseconds since the epoch), so the server and the
tests build the same JSON from the same ExecutionGraph. Field names and shapes follow Flink's
``flink-runtime/.../rest/messages`` (the "REST API" page of the Flink documentation):

==========================================  =============================================================
path                                        Flink message
==========================================  =============================================================
``GET /jobs``                               ``JobIdsWithStatusOverview``
``GET /jobs/overview``                      ``MultipleJobsDetails`` of ``JobDetails``
``GET /jobs/{jobid}``                       ``JobDetailsInfo`` (vertices: ``JobVertexDetailsInfo``)
``GET /jobs/{jobid}/plan``                  ``JobPlanInfo`` (``JsonPlanGenerator``)
``GET /jobs/{jobid}/vertices/{vertexid}``   ``JobVertexDetailsInfo`` (``SubtaskExecutionAttemptDetailsInfo``)
``GET /jobs/{jobid}/exceptions``            ``JobExceptionsInfoWithHistory``
``GET /jobs/{jobid}/execution-result``      ``JobExecutionResultResponseBody``
``GET /overview``                           ``ClusterOverviewWithVersion``
``GET /taskmanagers``                       ``TaskManagersInfo``
``GET /config``                             ``DashboardConfiguration``
``GET /jobmanager/config``                  ``ClusterConfigurationInfo``
``POST /jobs/{jobid}/savepoints``, ``/stop`` ``TriggerResponse`` (``{"request-id": ...}``)
``GET /jobs/{jobid}/savepoints/{triggerid}`` ``AsynchronousOperationResult<SavepointInfo>``
``GET /savepoint-disposal/{triggerid}``     ``AsynchronousOperationResult<AsynchronousOperationInfo>``
errors                                      ``ErrorResponseBody`` (``{"errors": [...]}``)
==========================================  =============================================================

The client side (:mod:`yflink.rest.client`, :mod:`yflink.deploy.remote`) reads these same shapes.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Optional

from yflink.common.configuration import Configuration
from yflink.runtime.gateways import TaskManagerInfo
from yflink.runtime.jobmaster.execution_graph import Execution, ExecutionGraph, ExecutionJobVertex
from yflink.runtime.operation_cache import OperationResult, OperationStatus
from yflink.runtime.states import ExecutionState, JobStatus

#: Flink's ``JobResult`` application status per terminal JobStatus (``ApplicationStatus.fromJobStatus``).
APPLICATION_STATUS = {
    JobStatus.FINISHED: "SUCCEEDED",
    JobStatus.FAILED: "FAILED",
    JobStatus.CANCELED: "CANCELED",
}
#: The ``exchange`` Flink's ``JsonPlanGenerator`` writes for a streaming edge.
PIPELINED_EXCHANGE = "pipelined_bounded"
#: Fallback ``exceptionName`` when a failure's text names no exception class (Flink's ``JobException``).
GENERIC_EXCEPTION_NAME = "JobException"
_EXCEPTION_NAME = re.compile(
    r"(?:^|: )([A-Za-z_][\w.]*(?:Error|Exception|Failure|Interrupt|Exit|Timeout))(?::|$)")


def errors(*messages: str) -> dict[str, list[str]]:
    """Flink's ``ErrorResponseBody``: ``{"errors": [message, ...]}``."""
    return {"errors": list(messages)}


# --- times ------------------------------------------------------------------------------------------------
def job_start_time(graph: ExecutionGraph) -> int:
    """When the job was submitted (its INITIALIZING timestamp), ms since the epoch."""
    ts = graph.status_timestamps
    return ts.get(JobStatus.INITIALIZING.value, ts.get(JobStatus.CREATED.value, -1))


def job_end_time(graph: ExecutionGraph) -> int:
    """When the job reached its globally terminal status, ms since the epoch; -1 while it has not."""
    if not graph.status.is_globally_terminal:
        return -1
    return graph.status_timestamps.get(graph.status.value, -1)


def _duration(start: int, end: int, now_ms: int) -> int:
    if start < 0:
        return -1
    return (end if end >= 0 else now_ms) - start


def net_runtime_ms(graph: ExecutionGraph, now_ms: int) -> int:
    """Wall time from submission to end (or to ``now_ms`` while running), ms."""
    return max(0, _duration(job_start_time(graph), job_end_time(graph), now_ms))


def _execution_start(ex: Execution) -> int:
    return ex.state_timestamps.get(ExecutionState.DEPLOYING.value, -1)


def _execution_end(ex: Execution) -> int:
    return ex.state_timestamps.get(ex.state.value, -1) if ex.state.is_terminal else -1


def _vertex_times(vertex: ExecutionJobVertex) -> tuple[int, int]:
    starts = [s for s in (_execution_start(e) for e in vertex.executions) if s >= 0]
    start = min(starts) if starts else -1
    if vertex.executions and all(e.state.is_terminal for e in vertex.executions):
        ends = [_execution_end(e) for e in vertex.executions]
        end = max(ends) if ends else -1
    else:
        end = -1
    return start, end


# --- counts and metrics -------------------------------------------------------------------------------
def _state_counts(executions: Iterable[Execution]) -> dict[str, int]:
    counts = {s.value: 0 for s in ExecutionState}
    for ex in executions:
        counts[ex.state.value] += 1
    return counts


def io_metrics(executions: Iterable[Execution], complete: bool) -> dict[str, Any]:
    """Flink's ``IOMetricsInfo`` summed over ``executions``.

    Records are counts; bytes are not measured by yflink yet and read 0; the accumulated times are ms.
    ``complete`` says whether every execution reported its final numbers (the ``*-complete`` flags).
    """
    exs = list(executions)
    return {
        "read-bytes": 0,
        "read-bytes-complete": complete,
        "write-bytes": 0,
        "write-bytes-complete": complete,
        "read-records": sum(e.records_in for e in exs),
        "read-records-complete": complete,
        "write-records": sum(e.records_out for e in exs),
        "write-records-complete": complete,
        "accumulated-backpressured-time": sum(e.backpressured_ms for e in exs),
        "accumulated-idle-time": sum(e.idle_ms for e in exs),
        "accumulated-busy-time": float(sum(e.busy_ms for e in exs)),
    }


# --- jobs --------------------------------------------------------------------------------------------------
def job_id_with_status(graph: ExecutionGraph) -> dict[str, str]:
    """One entry of ``GET /jobs`` (``JobIdWithStatus``)."""
    return {"id": graph.job_graph.job_id, "status": graph.status.value}


def job_overview(graph: ExecutionGraph, now_ms: int) -> dict[str, Any]:
    """One entry of ``GET /jobs/overview`` (Flink ``JobDetails``): ``tasks`` counts lower-case states."""
    start, end = job_start_time(graph), job_end_time(graph)
    executions = list(graph.executions())
    tasks: dict[str, int] = {"total": len(executions)}
    for state, count in _state_counts(executions).items():
        tasks[state.lower()] = count
    return {
        "jid": graph.job_graph.job_id,
        "name": graph.job_graph.job_name,
        "state": graph.status.value,
        "start-time": start,
        "end-time": end,
        "duration": _duration(start, end, now_ms),
        "last-modification": last_modification(graph),
        "tasks": tasks,
    }


def last_modification(graph: ExecutionGraph) -> int:
    """The latest timestamp of any job status or execution state change, ms since the epoch."""
    stamps = list(graph.status_timestamps.values())
    for ex in graph.executions():
        stamps.extend(ex.state_timestamps.values())
    return max(stamps) if stamps else -1


def _vertex_summary(vertex: ExecutionJobVertex, now_ms: int) -> dict[str, Any]:
    jv = vertex.job_vertex
    start, end = _vertex_times(vertex)
    terminal = all(e.state.is_terminal for e in vertex.executions)
    return {
        "id": jv.id,
        "name": jv.name,
        "maxParallelism": jv.max_parallelism,
        "parallelism": jv.parallelism,
        "status": vertex.aggregate_state().value,
        "start-time": start,
        "end-time": end,
        "duration": _duration(start, end, now_ms),
        "tasks": _state_counts(vertex.executions),
        "metrics": io_metrics(vertex.executions, terminal),
    }


def job_plan(graph: ExecutionGraph) -> dict[str, Any]:
    """The job's plan as Flink's ``JsonPlanGenerator`` writes it (vertices in topological order)."""
    nodes = []
    for jv in graph.job_graph.vertices:
        node: dict[str, Any] = {
            "id": jv.id,
            "parallelism": jv.parallelism,
            "operator": "",
            "operator_strategy": "",
            "description": jv.name,
            "optimizer_properties": {},
        }
        if jv.inputs:
            node["inputs"] = [{"num": i, "id": edge.source_vertex_id, "ship_strategy": edge.ship_strategy,
                               "exchange": PIPELINED_EXCHANGE} for i, edge in enumerate(jv.inputs)]
        nodes.append(node)
    return {"jid": graph.job_graph.job_id, "name": graph.job_graph.job_name, "type": "STREAMING", "nodes": nodes}


def _job_max_parallelism(graph: ExecutionGraph) -> int:
    value = graph.job_graph.config.get("pipeline.max-parallelism", -1)
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def job_details(graph: ExecutionGraph, now_ms: int) -> dict[str, Any]:
    """``GET /jobs/{jobid}`` (Flink ``JobDetailsInfo``)."""
    start, end = job_start_time(graph), job_end_time(graph)
    return {
        "jid": graph.job_graph.job_id,
        "name": graph.job_graph.job_name,
        "isStoppable": False,
        "state": graph.status.value,
        "job-type": "STREAMING",
        "start-time": start,
        "end-time": end,
        "duration": _duration(start, end, now_ms),
        "maxParallelism": _job_max_parallelism(graph),
        "now": now_ms,
        "timestamps": {s.value: graph.status_timestamps.get(s.value, 0) for s in JobStatus},
        "vertices": [_vertex_summary(v, now_ms) for v in graph.vertices],
        "status-counts": _state_counts(graph.executions()),
        "plan": job_plan(graph),
    }


def _status_durations(ex: Execution, now_ms: int) -> dict[str, int]:
    """How long the execution spent in each state it reached, ms (the current one: until ``now_ms``)."""
    reached = sorted(ex.state_timestamps.items(), key=lambda item: item[1])
    durations = {}
    for i, (state, since) in enumerate(reached):
        if i + 1 < len(reached):
            durations[state] = reached[i + 1][1] - since
        else:
            durations[state] = 0 if ex.state.is_terminal else max(0, now_ms - since)
    return durations


def vertex_details(graph: ExecutionGraph, vertex_id: str, now_ms: int) -> dict[str, Any]:
    """``GET /jobs/{jobid}/vertices/{vertexid}`` (Flink ``JobVertexDetailsInfo``); KeyError when unknown."""
    vertex = graph.vertex(vertex_id)
    jv = vertex.job_vertex
    subtasks = []
    for ex in vertex.executions:
        start, end = _execution_start(ex), _execution_end(ex)
        endpoint = ex.slot.data_address if ex.slot is not None else "(unassigned)"
        subtasks.append({
            "subtask": ex.subtask_index,
            "status": ex.state.value,
            "attempt": ex.attempt_number,
            "endpoint": endpoint,
            "host": endpoint.rsplit(":", 1)[0],
            "start-time": start,
            "end-time": end,
            "duration": _duration(start, end, now_ms),
            "metrics": io_metrics([ex], ex.state.is_terminal),
            "taskmanager-id": ex.slot.resource_id if ex.slot is not None else "(unassigned)",
            "status-duration": _status_durations(ex, now_ms),
        })
    return {"id": jv.id, "name": jv.name, "parallelism": jv.parallelism, "maxParallelism": jv.max_parallelism,
            "now": now_ms, "subtasks": subtasks}


# --- failures ------------------------------------------------------------------------------------------------
def exception_name(text: str) -> str:
    """The exception class a failure's text names (``"ValueError: bad record"`` -> ``ValueError``).

    yflink failures are Python tracebacks rendered as text; the first line that names an exception
    class wins. Returns :data:`GENERIC_EXCEPTION_NAME` when none does (a lost TaskManager, a slot timeout).
    """
    for line in text.splitlines():
        match = _EXCEPTION_NAME.search(line.strip())
        if match:
            return match.group(1)
    return GENERIC_EXCEPTION_NAME


def failed_executions(graph: ExecutionGraph) -> list[Execution]:
    """Executions that FAILED, earliest failure first."""
    failed = [e for e in graph.executions() if e.state is ExecutionState.FAILED]
    return sorted(failed, key=lambda e: e.state_timestamps.get(ExecutionState.FAILED.value, 0))


def root_execution(graph: ExecutionGraph) -> Optional[Execution]:
    """The execution whose failure became the job's root cause, if the root cause came from a task."""
    if graph.failure is None:
        return None
    for ex in failed_executions(graph):
        if ex.failure is not None and graph.failure.startswith(f"{ex.name} failed: "):
            return ex
    for ex in failed_executions(graph):
        if ex.failure is not None and ex.failure in graph.failure:
            return ex
    return None


def _exception_info(ex: Execution) -> dict[str, Any]:
    text = ex.failure or ""
    info: dict[str, Any] = {
        "exceptionName": exception_name(text),
        "stacktrace": text,
        "timestamp": ex.state_timestamps.get(ExecutionState.FAILED.value, 0),
        "failureLabels": {},
        "taskName": ex.name,
    }
    if ex.slot is not None:
        info["location"] = info["endpoint"] = ex.slot.data_address
        info["taskManagerId"] = ex.slot.resource_id
    return info


def job_exceptions(graph: ExecutionGraph, max_exceptions: int = 20) -> dict[str, Any]:
    """``GET /jobs/{jobid}/exceptions`` (Flink ``JobExceptionsInfoWithHistory``).

    The job's root cause (the first failure; yflink has no restarts yet, so the history holds at most
    one entry) with the other task failures as its ``concurrentExceptions``; the deprecated top-level
    ``root-exception``/``all-exceptions`` fields are filled too, for older clients.

    Args:
        graph: the job.
        max_exceptions: at most this many task failures are listed (``truncated`` says when more exist).
    """
    failed = failed_executions(graph)
    truncated = len(failed) > max_exceptions
    shown = failed[:max_exceptions]
    all_exceptions = []
    for ex in shown:
        endpoint = ex.slot.data_address if ex.slot is not None else "(unassigned)"
        all_exceptions.append({
            "exception": ex.failure or "",
            "task": ex.name,
            "location": endpoint,
            "endpoint": endpoint,
            "timestamp": ex.state_timestamps.get(ExecutionState.FAILED.value, 0),
            "taskManagerId": ex.slot.resource_id if ex.slot is not None else "(unassigned)",
        })
    entries: list[dict[str, Any]] = []
    if graph.failure is not None:
        root = root_execution(graph)
        entry: dict[str, Any]
        if root is not None:
            entry = _exception_info(root)
            entry["stacktrace"] = graph.failure
        else:
            entry = {"exceptionName": exception_name(graph.failure), "stacktrace": graph.failure,
                     "timestamp": graph.failure_timestamp or 0, "failureLabels": {}}
        entry["concurrentExceptions"] = [_exception_info(e) for e in shown if e is not root]
        entries.append(entry)
    return {
        "root-exception": graph.failure,
        "timestamp": graph.failure_timestamp,
        "all-exceptions": all_exceptions,
        "truncated": truncated,
        "exceptionHistory": {"entries": entries, "truncated": False},
    }


def execution_result(graph: ExecutionGraph, now_ms: int) -> dict[str, Any]:
    """``GET /jobs/{jobid}/execution-result`` (Flink ``JobExecutionResultResponseBody``).

    ``{"status": {"id": "IN_PROGRESS"}}`` until the job is globally terminal; then ``COMPLETED`` with the
    ``job-execution-result``: ``application-status`` (SUCCEEDED, FAILED, CANCELED), ``net-runtime`` (ms),
    ``accumulator-results`` and, for a FAILED job, ``failure-cause`` whose ``stack-trace`` is the root cause
    including the user's traceback (``serialized-throwable`` stays empty: there is no Java throwable).
    """
    if not graph.status.is_globally_terminal:
        return {"status": {"id": "IN_PROGRESS"}}
    result: dict[str, Any] = {
        "id": graph.job_graph.job_id,
        "application-status": APPLICATION_STATUS.get(graph.status, "UNKNOWN"),
        "accumulator-results": {},
        "net-runtime": net_runtime_ms(graph, now_ms),
    }
    if graph.status is JobStatus.FAILED:
        cause = graph.failure or "The job failed without a recorded cause."
        result["failure-cause"] = {"class": exception_name(cause), "stack-trace": cause, "serialized-throwable": ""}
    return {"status": {"id": "COMPLETED"}, "job-execution-result": result}


# --- cluster -------------------------------------------------------------------------------------------------
def cluster_overview(graphs: Iterable[ExecutionGraph], task_managers: Iterable[TaskManagerInfo], version: str,
                     commit: str) -> dict[str, Any]:
    """``GET /overview`` (Flink ``ClusterOverviewWithVersion``)."""
    tms = list(task_managers)
    statuses = [g.status for g in graphs]
    return {
        "taskmanagers": len(tms),
        "slots-total": sum(t.slots_total for t in tms),
        "slots-available": sum(t.slots_free for t in tms),
        "jobs-running": sum(1 for s in statuses if not s.is_globally_terminal),
        "jobs-finished": statuses.count(JobStatus.FINISHED),
        "jobs-cancelled": statuses.count(JobStatus.CANCELED),
        "jobs-failed": statuses.count(JobStatus.FAILED),
        "flink-version": version,
        "flink-commit": commit,
    }


def _resource(slots: int) -> dict[str, Any]:
    # yflink sizes slots by process, not by memory pools: one CPU core per slot, memory not partitioned yet.
    return {"cpuCores": float(slots), "taskHeapMemory": 0, "taskOffHeapMemory": 0, "managedMemory": 0,
            "networkMemory": 0, "extendedResources": {}}


def task_manager_info(tm: TaskManagerInfo, hardware: dict[str, int]) -> dict[str, Any]:
    """One entry of ``GET /taskmanagers`` (Flink ``TaskManagerInfo``).

    Like Flink, ``timeSinceLastHeartbeat`` holds the time of the last heartbeat (ms since the epoch), not an
    interval. ``dataPort`` is the port of the TaskManager's gateway address. ``hardware`` is Flink's
    ``HardwareDescription``: ``cpuCores``, ``physicalMemory``, ``freeMemory``, ``managedMemory`` (bytes).
    """
    port_text = tm.address.rsplit(":", 1)[-1]
    return {
        "id": tm.resource_id,
        "path": f"grpc://{tm.address}",
        "dataPort": int(port_text) if port_text.isdigit() else -1,
        "jmxPort": -1,
        "timeSinceLastHeartbeat": tm.last_heartbeat_ms,
        "slotsNumber": tm.slots_total,
        "freeSlots": tm.slots_free,
        "totalResource": _resource(tm.slots_total),
        "freeResource": _resource(tm.slots_free),
        "hardware": dict(hardware),
        "blocked": False,
    }


def task_managers(tms: Iterable[TaskManagerInfo], hardware: dict[str, int]) -> dict[str, Any]:
    """``GET /taskmanagers`` (Flink ``TaskManagersInfo``)."""
    return {"taskmanagers": [task_manager_info(tm, hardware) for tm in tms]}


def dashboard_configuration(version: str, commit: str, refresh_interval_ms: int = 3000) -> dict[str, Any]:
    """``GET /config`` (Flink ``DashboardConfiguration``); the time zone is this process's local one."""
    local = datetime.now().astimezone()
    offset = local.utcoffset()
    return {
        "refresh-interval": refresh_interval_ms,
        "timezone-name": local.tzname() or "UTC",
        "timezone-offset": int(offset.total_seconds() * 1000) if offset is not None else 0,
        "flink-version": version,
        "flink-revision": commit,
        "features": {"web-submit": False, "web-cancel": True, "web-rescale": False, "web-history": False},
    }


def cluster_configuration(config: Configuration) -> list[dict[str, str]]:
    """``GET /jobmanager/config`` (Flink ``ClusterConfigurationInfo``): ``[{"key", "value"}]`` sorted by key."""
    return [{"key": k, "value": v} for k, v in sorted(config.to_dict().items())]


# --- asynchronous operations: savepoints, stop-with-savepoint, disposal ---------------------------------------
def trigger_response(trigger_id: str) -> dict[str, str]:
    """Flink's ``TriggerResponse``: ``{"request-id": trigger_id}`` (202 of every asynchronous trigger)."""
    return {"request-id": trigger_id}


def serialized_throwable(error: BaseException) -> dict[str, str]:
    """An exception as Flink's ``SerializedThrowable`` JSON: ``class`` (qualified name), ``stack-trace`` (``class:
    message`` first, then the Python traceback when there is one) and an empty ``serialized-throwable`` (no Java
    object to serialize)."""
    cls = type(error)
    name = cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    head = f"{name}: {error}" if str(error) else name
    stack = head
    if error.__traceback__ is not None:
        stack += "\n" + "".join(traceback.format_exception(error)).rstrip("\n")
    return {"class": name, "stack-trace": stack, "serialized-throwable": ""}


def savepoint_status(result: OperationResult) -> dict[str, Any]:
    """``GET /jobs/{jobid}/savepoints/{triggerid}``: ``{"status": {"id": "IN_PROGRESS"}}`` while it runs; then
    ``COMPLETED`` with ``operation`` Flink's ``SavepointInfo``: ``{"location": uri}`` or
    ``{"failure-cause": SerializedThrowable}``."""
    if result.status is OperationStatus.IN_PROGRESS:
        return {"status": {"id": OperationStatus.IN_PROGRESS.value}}
    operation: dict[str, Any] = ({"failure-cause": serialized_throwable(result.error)} if result.error is not None
                                 else {"location": result.value})
    return {"status": {"id": OperationStatus.COMPLETED.value}, "operation": operation}


def disposal_status(result: OperationResult) -> dict[str, Any]:
    """``GET /savepoint-disposal/{triggerid}``: like :func:`savepoint_status`; a successful disposal's
    ``operation`` is ``{}`` (Flink's ``AsynchronousOperationInfo`` without a failure cause)."""
    if result.status is OperationStatus.IN_PROGRESS:
        return {"status": {"id": OperationStatus.IN_PROGRESS.value}}
    operation: dict[str, Any] = {}
    if result.error is not None:
        operation["failure-cause"] = serialized_throwable(result.error)
    return {"status": {"id": OperationStatus.COMPLETED.value}, "operation": operation}
