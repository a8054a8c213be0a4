"""The JobManager's REST endpoint (aiohttp) on Flink's paths, backed by the Dispatcher.

Source: Flink ``WebMonitorEndpoint`` / ``DispatcherRestEndpoint`` and the "REST API" page of the Flink
documentation. The JSON comes from :mod:`yflink.rest.messages`; this module only routes, parses requests
and maps errors to Flink's ``{"errors": [...]}`` body with a proper status (never an HTML page):

* 400 a malformed request (bad job id, a body that is not a pickled JobGraph, an unknown cancel mode, a
  savepoint request without a target directory when ``state.savepoints.dir`` is not set),
* 404 an unknown path, job, vertex or savepoint trigger id,
* 409 cancelling a job that already ended otherwise; a savepoint or stop of a job that already ended,
* 413 a body larger than ``rest.server.max-content-length`` (bytes),
* 500 anything else, with the server-side traceback in the message.

Handlers run on the JobManager's event loop, the same loop as the Dispatcher, so they read the
ExecutionGraphs without locks. Submission takes ``pickle.dumps(JobGraph, protocol=5)``; like Flink's
job submission (which runs the user's jar), it executes code chosen by the client: expose the port only
to trusted clients.
"""

from __future__ import annotations

import base64
import errno
import logging
import os
import pickle
import socket
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any, Optional

import cloudpickle
from aiohttp import web

import yflink
from yflink.common.errors import ClusterError, JobSubmissionError, PortInUseError, RpcError
from yflink.graph.job_graph import JobGraph
from yflink.rest import messages
from yflink.runtime.dispatcher import SAVEPOINT_FORMATS
from yflink.runtime.gateways import DispatcherGateway, TaskManagerInfo
from yflink.runtime.jobmaster.execution_graph import ExecutionGraph
from yflink.runtime.states import JobStatus

log = logging.getLogger(__name__)

MAX_CONTENT_LENGTH_KEY = "rest.server.max-content-length"
DEFAULT_MAX_CONTENT_LENGTH = 104_857_600  # bytes, Flink's default for rest.server.max-content-length
DEFAULT_COLLECT_BATCH = 10_000  # records per collect reply when the client names no maxRecords
CANCEL_MODES = ("cancel",)
FLINK_COMMIT = "unknown"  # yflink is not built from a Flink commit; /overview and /config say so
_DISPATCHER_KEY = web.AppKey("dispatcher", DispatcherGateway)
_MAX_LENGTH_KEY = web.AppKey("max_content_length", int)


class RestError(Exception):
    """A request the handlers refuse, answered as ``{"errors": [message]}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _now_ms() -> int:
    return int(time.time() * 1000)


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


# --- request helpers -----------------------------------------------------------------------------------------
def _dispatcher(request: web.Request) -> DispatcherGateway:
    return request.app[_DISPATCHER_KEY]


def _job_id(request: web.Request) -> str:
    job_id = request.match_info["jobid"].strip().lower()
    if len(job_id) != 32 or any(c not in "0123456789abcdef" for c in job_id):
        raise RestError(400, f"Invalid job id '{request.match_info['jobid']}': a JobID is 32 hex digits.")
    return job_id


def _graph(request: web.Request) -> ExecutionGraph:
    job_id = _job_id(request)
    try:
        return _dispatcher(request).execution_graph(job_id)
    except KeyError:
        raise RestError(404, f"Job {job_id} not found") from None


def _graphs(dispatcher: DispatcherGateway) -> list[ExecutionGraph]:
    graphs = []
    for job_id in dispatcher.job_ids():
        try:
            graphs.append(dispatcher.execution_graph(job_id))
        except KeyError:  # dropped between the two calls
            continue
    return graphs


def host_hardware() -> dict[str, int]:
    """This host's Flink ``HardwareDescription``: cores, physical and free memory (bytes), managed memory 0."""
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        physical = page * os.sysconf("SC_PHYS_PAGES")
        free = page * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        physical = free = -1
    return {"cpuCores": os.cpu_count() or -1, "physicalMemory": physical, "freeMemory": free, "managedMemory": 0}


def _hardware_of(tm: TaskManagerInfo, local: dict[str, int]) -> dict[str, int]:
    if tm.hostname in (socket.gethostname(), "localhost", "127.0.0.1"):
        return local
    return {"cpuCores": -1, "physicalMemory": -1, "freeMemory": -1, "managedMemory": 0}


# --- handlers ------------------------------------------------------------------------------------------------------
async def submit_job(request: web.Request) -> web.Response:
    """``POST /jobs``: body ``pickle.dumps(JobGraph, protocol=5)``; 202 ``{"jobUrl": "/jobs/<id>"}``."""
    body = await request.read()
    if not body:
        raise RestError(400, "The request body is empty; POST /jobs expects a pickled JobGraph "
                             "(application/octet-stream).")
    try:
        job_graph = pickle.loads(body)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is the client's bad body
        raise RestError(400, f"The request body is not a pickled JobGraph: {type(exc).__name__}: {exc}") from None
    if not isinstance(job_graph, JobGraph):
        raise RestError(400, f"The request body is a pickled {type(job_graph).__name__}, not a JobGraph.")
    try:
        job_id = await _dispatcher(request).submit_job(job_graph)
    except JobSubmissionError as exc:
        raise RestError(400, f"Job submission failed: {exc}") from None
    return _json({"jobUrl": f"/jobs/{job_id}"}, status=202)


async def list_jobs(request: web.Request) -> web.Response:
    """``GET /jobs``: ``{"jobs": [{"id", "status"}]}``."""
    return _json({"jobs": [messages.job_id_with_status(g) for g in _graphs(_dispatcher(request))]})


async def jobs_overview(request: web.Request) -> web.Response:
    """``GET /jobs/overview``: ``{"jobs": [JobDetails]}``."""
    now = _now_ms()
    return _json({"jobs": [messages.job_overview(g, now) for g in _graphs(_dispatcher(request))]})


async def job_details(request: web.Request) -> web.Response:
    return _json(messages.job_details(_graph(request), _now_ms()))


async def job_plan(request: web.Request) -> web.Response:
    return _json({"plan": messages.job_plan(_graph(request))})


async def job_exceptions(request: web.Request) -> web.Response:
    max_exceptions = _int_query(request, "maxExceptions", 20)
    return _json(messages.job_exceptions(_graph(request), max_exceptions))


async def execution_result(request: web.Request) -> web.Response:
    return _json(messages.execution_result(_graph(request), _now_ms()))


async def vertex_details(request: web.Request) -> web.Response:
    graph = _graph(request)
    vertex_id = request.match_info["vertexid"]
    try:
        return _json(messages.vertex_details(graph, vertex_id, _now_ms()))
    except KeyError:
        raise RestError(404, f"Vertex {vertex_id} not found in job {graph.job_graph.job_id}") from None


async def cancel_job(request: web.Request) -> web.Response:
    """``PATCH /jobs/{jobid}?mode=cancel``: 202 ``{}``; the job goes CANCELLING, then CANCELED."""
    mode = request.query.get("mode", "cancel").lower()
    if mode not in CANCEL_MODES:
        raise RestError(400, f"Unsupported termination mode '{mode}'; allowed: {', '.join(CANCEL_MODES)}.")
    graph = _graph(request)
    if graph.status.is_globally_terminal and graph.status is not JobStatus.CANCELED:
        raise RestError(409, f"Job cancellation failed because the job has already reached another terminal "
                             f"state ({graph.status.value}).")
    await _dispatcher(request).cancel_job(graph.job_graph.job_id)
    return _json({}, status=202)


async def trigger_checkpoint(request: web.Request) -> web.Response:
    """``POST /jobs/{jobid}/checkpoints``: trigger a checkpoint now (Flink 1.19+); 202 ``{"request-id": id}``.

    The id is the checkpoint's id; its outcome shows in ``GET /jobs/{jobid}/checkpoints``. A job that is not
    running with every task RUNNING answers 409.
    """
    graph = _graph(request)
    try:
        checkpoint_id = await _dispatcher(request).trigger_checkpoint(graph.job_graph.job_id)
    except (RuntimeError, RpcError) as exc:  # not running, or a task could not be reached
        raise RestError(409, str(exc)) from None
    return _json({"request-id": str(checkpoint_id)}, status=202)


async def checkpoint_statistics(request: web.Request) -> web.Response:
    """``GET /jobs/{jobid}/checkpoints``: Flink's CheckpointingStatistics (counts and the latest ids)."""
    graph = _graph(request)
    return _json(_dispatcher(request).checkpoint_statistics(graph.job_graph.job_id))


# --- savepoints (Flink SavepointHandlers, StopWithSavepointHandlers, SavepointDisposalHandlers) --------------
async def _json_object(request: web.Request, shape: str) -> dict[str, Any]:
    """The request's JSON object body; an empty body is ``{}``. RestError 400 names the expected ``shape``."""
    if not await request.read():
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise RestError(400, f"The body must be JSON: {shape}.") from None
    if not isinstance(body, dict):
        raise RestError(400, f"The body must be a JSON object: {shape}.")
    return body


def _optional_str(body: dict[str, Any], name: str) -> Optional[str]:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise RestError(400, f"'{name}' must be a non-empty string (a directory URI), got {value!r}.")
    return value.strip()


def _bool(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise RestError(400, f"'{name}' must be true or false, got {value!r}.")
    return value


def _format_type(body: dict[str, Any]) -> str:
    value = body.get("formatType") or "CANONICAL"
    if not isinstance(value, str) or value.upper() not in SAVEPOINT_FORMATS:
        raise RestError(400, f"'formatType' must be one of {', '.join(SAVEPOINT_FORMATS)}, got {value!r}.")
    return value.upper()


def _trigger_id(body: dict[str, Any]) -> Optional[str]:
    value = body.get("triggerId")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 32 or any(c not in "0123456789abcdefABCDEF" for c in value):
        raise RestError(400, f"'triggerId' must be 32 hex digits, got {value!r}.")
    return value.lower()


async def _start_operation(request: web.Request, start: Callable[[], Awaitable[str]]) -> web.Response:
    job_id = _job_id(request)
    try:
        trigger_id = await start()
    except KeyError:
        raise RestError(404, f"Job {job_id} not found") from None
    except RuntimeError as exc:  # the job already ended
        raise RestError(409, str(exc)) from None
    except ValueError as exc:  # no target directory and no default; an unknown format
        raise RestError(400, str(exc)) from None
    return _json(messages.trigger_response(trigger_id), status=202)


async def trigger_savepoint(request: web.Request) -> web.Response:
    """``POST /jobs/{jobid}/savepoints``: start a savepoint; 202 ``{"request-id": triggerid}``.

    Body (all optional): ``{"target-directory": uri, "cancel-job": bool, "formatType": "CANONICAL"|"NATIVE",
    "triggerId": 32 hex}``. ``cancel-job`` cancels the job after the savepoint (Flink's deprecated
    cancel-with-savepoint). Poll ``GET /jobs/{jobid}/savepoints/{triggerid}``.
    """
    job_id = _job_id(request)
    _graph(request)
    body = await _json_object(request, '{"target-directory": <uri>, "cancel-job": <bool>, "formatType": '
                                       '"CANONICAL"|"NATIVE"}')
    target, cancel, fmt, trigger = (_optional_str(body, "target-directory"), _bool(body, "cancel-job"),
                                    _format_type(body), _trigger_id(body))
    return await _start_operation(request, lambda: _dispatcher(request).trigger_savepoint(
        job_id, target, cancel_job=cancel, format_type=fmt, trigger_id=trigger))


async def stop_with_savepoint(request: web.Request) -> web.Response:
    """``POST /jobs/{jobid}/stop``: stop-with-savepoint; 202 ``{"request-id": triggerid}``.

    Body (all optional): ``{"targetDirectory": uri, "drain": bool, "formatType": ..., "triggerId": 32 hex}``;
    ``drain`` ends the sources' input (MAX watermark) before the savepoint. Poll
    ``GET /jobs/{jobid}/savepoints/{triggerid}`` (as Flink does); the job then ends FINISHED.
    """
    job_id = _job_id(request)
    _graph(request)
    body = await _json_object(request, '{"targetDirectory": <uri>, "drain": <bool>}')
    target, drain, trigger = _optional_str(body, "targetDirectory"), _bool(body, "drain"), _trigger_id(body)
    _format_type(body)  # validated; the savepoint of a stop is written in yflink's one format
    return await _start_operation(request, lambda: _dispatcher(request).stop_with_savepoint(
        job_id, target, drain=drain, trigger_id=trigger))


async def savepoint_status(request: web.Request) -> web.Response:
    """``GET /jobs/{jobid}/savepoints/{triggerid}``: ``{"status": {"id": "IN_PROGRESS"|"COMPLETED"},
    "operation": {"location": uri} | {"failure-cause": {"class", "stack-trace", ...}}}``."""
    job_id = _job_id(request)
    _graph(request)
    trigger_id = request.match_info["triggerid"]
    try:
        result = _dispatcher(request).savepoint_status(job_id, trigger_id)
    except KeyError:
        raise RestError(404, f"There is no savepoint operation with triggerId={trigger_id} for job {job_id} (an "
                             "unknown id, or its result expired after rest.async.store-duration).") from None
    return _json(messages.savepoint_status(result))


async def dispose_savepoint(request: web.Request) -> web.Response:
    """``POST /savepoint-disposal``: body ``{"savepoint-path": uri}``; 202 ``{"request-id": triggerid}``."""
    body = await _json_object(request, '{"savepoint-path": <uri>}')
    path = _optional_str(body, "savepoint-path")
    if path is None:
        raise RestError(400, "'savepoint-path' is required: the savepoint directory (or its _metadata) to dispose.")
    trigger_id = await _dispatcher(request).dispose_savepoint(path, _trigger_id(body))
    return _json(messages.trigger_response(trigger_id), status=202)


async def disposal_status(request: web.Request) -> web.Response:
    """``GET /savepoint-disposal/{triggerid}``: ``{"status": ..., "operation": {} | {"failure-cause": ...}}``."""
    trigger_id = request.match_info["triggerid"]
    try:
        result = _dispatcher(request).disposal_status(trigger_id)
    except KeyError:
        raise RestError(404, f"There is no savepoint disposal with triggerId={trigger_id} (an unknown id, or its "
                             "result expired after rest.async.store-duration).") from None
    return _json(messages.disposal_status(result))


async def collect(request: web.Request) -> web.Response:
    """``POST /jobs/{jobid}/coordinators/{operatorid}``: a page of a collect sink's records.

    Body ``{"offset": int, "maxRecords": int}``; reply ``{"records": base64(pickle(list)), "nextOffset": int,
    "finished": bool}``. (Flink routes ``CollectCoordinationRequest``s through the same path.)
    """
    job_id = _job_id(request)
    try:
        body = await request.json()
    except ValueError:
        raise RestError(400, 'The body must be JSON: {"offset": <int>, "maxRecords": <int>}.') from None
    if not isinstance(body, dict):
        raise RestError(400, 'The body must be a JSON object: {"offset": <int>, "maxRecords": <int>}.')
    offset = body.get("offset", 0)
    max_records = body.get("maxRecords", DEFAULT_COLLECT_BATCH)
    for name, value in (("offset", offset), ("maxRecords", max_records)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise RestError(400, f"'{name}' must be a non-negative integer, got {value!r}.")
    try:
        page = _dispatcher(request).collect(job_id, request.match_info["operatorid"], offset, max_records)
    except KeyError:
        raise RestError(404, f"Job {job_id} not found") from None
    records = base64.b64encode(cloudpickle.dumps(page.records, protocol=5)).decode("ascii")
    return _json({"records": records, "nextOffset": page.next_offset, "finished": page.finished})


async def cluster_overview(request: web.Request) -> web.Response:
    dispatcher = _dispatcher(request)
    return _json(messages.cluster_overview(_graphs(dispatcher), dispatcher.task_managers(), yflink.__version__,
                                           FLINK_COMMIT))


async def task_managers(request: web.Request) -> web.Response:
    local = host_hardware()
    tms = _dispatcher(request).task_managers()
    return _json({"taskmanagers": [messages.task_manager_info(tm, _hardware_of(tm, local)) for tm in tms]})


async def dashboard_config(request: web.Request) -> web.Response:
    return _json(messages.dashboard_configuration(yflink.__version__, FLINK_COMMIT))


async def jobmanager_config(request: web.Request) -> web.Response:
    return _json(messages.cluster_configuration(_dispatcher(request).configuration()))


def _int_query(request: web.Request, name: str, default: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    if not text.isdigit():
        raise RestError(400, f"Query parameter '{name}' must be a non-negative integer, got {text!r}.")
    return int(text)


# --- errors ---------------------------------------------------------------------------------------------------------
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error as Flink's ``{"errors": [...]}`` JSON with its status; never an HTML page or a traceback page."""
    try:
        return await handler(request)
    except RestError as exc:
        return _json(messages.errors(exc.message), status=exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if exc.status == 404:
            message = f"Not found: {request.path}"
        elif exc.status == 405:
            message = f"Method {request.method} is not allowed for {request.path}"
        elif exc.status == 413:
            message = (f"The request body is larger than {request.app[_MAX_LENGTH_KEY]} bytes "
                       f"({MAX_CONTENT_LENGTH_KEY}).")
        else:
            message = exc.text or exc.reason
        return _json(messages.errors(message), status=exc.status)
    except Exception:
        log.exception("REST handler for %s %s failed", request.method, request.path)
        return _json(messages.errors("Internal server error.", "<Exception on server side:\n"
                                     f"{traceback.format_exc()}\nEnd of exception on server side>"), status=500)


# --- server ---------------------------------------------------------------------------------------------------------
def create_app(dispatcher: DispatcherGateway) -> web.Application:
    """The aiohttp application for ``dispatcher`` (separate from binding, so tests can serve it anywhere)."""
    max_length = dispatcher.configuration().get_integer(MAX_CONTENT_LENGTH_KEY, DEFAULT_MAX_CONTENT_LENGTH)
    app = web.Application(middlewares=[error_middleware], client_max_size=max_length)
    app[_DISPATCHER_KEY] = dispatcher
    app[_MAX_LENGTH_KEY] = max_length
    app.router.add_get("/jobs", list_jobs)
    app.router.add_post("/jobs", submit_job)
    app.router.add_get("/jobs/overview", jobs_overview)
    app.router.add_get("/jobs/{jobid}", job_details)
    app.router.add_patch("/jobs/{jobid}", cancel_job)
    app.router.add_get("/jobs/{jobid}/plan", job_plan)
    app.router.add_get("/jobs/{jobid}/exceptions", job_exceptions)
    app.router.add_get("/jobs/{jobid}/execution-result", execution_result)
    app.router.add_get("/jobs/{jobid}/vertices/{vertexid}", vertex_details)
    app.router.add_post("/jobs/{jobid}/coordinators/{operatorid}", collect)
    app.router.add_post("/jobs/{jobid}/checkpoints", trigger_checkpoint)
    app.router.add_get("/jobs/{jobid}/checkpoints", checkpoint_statistics)
    app.router.add_post("/jobs/{jobid}/savepoints", trigger_savepoint)
    app.router.add_get("/jobs/{jobid}/savepoints/{triggerid}", savepoint_status)
    app.router.add_post("/jobs/{jobid}/stop", stop_with_savepoint)
    app.router.add_post("/savepoint-disposal", dispose_savepoint)
    app.router.add_get("/savepoint-disposal/{triggerid}", disposal_status)
    app.router.add_get("/overview", cluster_overview)
    app.router.add_get("/taskmanagers", task_managers)
    app.router.add_get("/config", dashboard_config)
    app.router.add_get("/jobmanager/config", jobmanager_config)
    return app


async def start_rest_server(dispatcher: DispatcherGateway, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve the REST API for ``dispatcher`` on ``host:port`` (``port`` 0: any free port).

    Returns the runner (``await runner.cleanup()`` stops the server) and the bound port.

    Raises:
        PortInUseError: ``host:port`` is taken; the message names ``rest.port``.
        ClusterError: other bind failures (an address of another host, no permission).
    """
    runner = web.AppRunner(create_app(dispatcher), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(
                f"The REST server cannot listen on {host}:{port}: address already in use. Set another "
                f"'rest.port' (0 picks a free one), or stop the process that holds the port.") from None
        raise ClusterError(f"The REST server cannot listen on {host}:{port} ('rest.bind-address', 'rest.port'): "
                           f"{exc.strerror or exc}") from None
    bound = runner.addresses[0][1] if runner.addresses else port
    log.info("REST API listening on http://%s:%d", host, bound)
    return runner, int(bound)
