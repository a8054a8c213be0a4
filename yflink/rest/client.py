"""A synchronous client of the JobManager's REST API (Flink ``RestClusterClient``), on the standard library.

Every method is one HTTP request to Flink's paths (see :mod:`yflink.rest.server`) and returns the decoded
JSON. Transport and HTTP failures are translated here, in one place, into yflink errors whose messages say
what to do:

* nobody listens at the address -> :class:`~yflink.common.errors.ClusterError` "No JobManager at host:port ...",
* the job is unknown -> :class:`JobNotFoundError` (a ClusterError),
* the cluster refuses a submission -> :class:`~yflink.common.errors.JobSubmissionError`,
* any other HTTP error -> ClusterError carrying Flink's ``errors`` text,
* a savepoint, stop-with-savepoint or disposal the JobManager reports as failed -> :class:`SavepointFailedError`
  carrying the failure cause.

Proxies from the environment (``http_proxy``) are ignored: the JobManager is reached directly.
"""

from __future__ import annotations

import base64
import http.client
import json
import pickle
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any, Optional

from yflink.common.errors import ClusterError, ConfigurationError, JobSubmissionError, YFlinkError

DEFAULT_TIMEOUT_S = 60.0  # Flink's client.timeout default
OPERATION_POLL_MIN_S = 0.05  # first poll of an asynchronous operation; doubles up to OPERATION_POLL_MAX_S
OPERATION_POLL_MAX_S = 0.5
START_HINT = "is the cluster running? start one with `yflink cluster start`"


class JobNotFoundError(ClusterError):
    """The JobManager does not know the job id (HTTP 404 on a ``/jobs/{jobid}`` path)."""

    def __init__(self, job_id: str, message: str) -> None:
        super().__init__(message)
        self.job_id = job_id


class SavepointFailedError(YFlinkError):
    """The JobManager reports that a savepoint, stop-with-savepoint or savepoint disposal failed.

    Attributes:
        failure_class: the failure's class name on the JobManager (e.g. ``yflink.checkpoint.errors.CheckpointError``).
        stack_trace: the failure's text as the JobManager rendered it (message first, then its traceback).
    """

    def __init__(self, message: str, failure_class: str = "", stack_trace: str = "") -> None:
        super().__init__(message)
        self.failure_class = failure_class
        self.stack_trace = stack_trace


def parse_address(address: str) -> tuple[str, int]:
    """``host:port`` (also ``http://host:port``, ``[::1]:port``) -> (host, port).

    Raises:
        ConfigurationError: no port, or a port that is not a number in 1..65535.
    """
    text = address.strip()
    if "://" not in text:
        text = "http://" + text
    parsed = urllib.parse.urlsplit(text)
    try:
        port = parsed.port
    except ValueError:
        port = None
    if not parsed.hostname or port is None or not 0 < port < 65536:
        raise ConfigurationError(f"Bad JobManager address {address!r}: expected host:port, e.g. localhost:8081")
    return parsed.hostname, port


def _error_text(body: bytes) -> str:
    try:
        payload = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace").strip()
    if isinstance(payload, dict) and isinstance(payload.get("errors"), list):
        return "\n".join(str(e) for e in payload["errors"])
    return json.dumps(payload)


class RestClusterClient:
    """Talks to one JobManager's REST endpoint.

    Args:
        address: ``host:port`` of the REST endpoint (``rest.address``:``rest.port``).
        timeout_s: per-request timeout, seconds.

    Raises:
        ConfigurationError: ``address`` is not ``host:port``.
    """

    def __init__(self, address: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        host, port = parse_address(address)
        self.host = host
        self.port = port
        self.timeout_s = timeout_s
        netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.address = netloc
        self._base = f"http://{netloc}"
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def __repr__(self) -> str:
        return f"RestClusterClient({self.address!r})"

    # --- transport ------------------------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: Optional[bytes] = None,
                 content_type: str = "application/json", job_id: Optional[str] = None,
                 submission: bool = False) -> Any:
        request = urllib.request.Request(self._base + path, data=body, method=method)
        if body is not None:
            request.add_header("Content-Type", content_type)
        request.add_header("Accept", "application/json")
        try:
            with self._opener.open(request, timeout=self.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            text = _error_text(exc.read())
            if exc.code == 404 and job_id is not None and "not found" in text.lower():
                raise JobNotFoundError(job_id, f"Job {job_id} not found on the JobManager at {self.address}."
                                       ) from None
            if submission:
                raise JobSubmissionError(f"The JobManager at {self.address} refused the job "
                                         f"(HTTP {exc.code}): {text}") from None
            raise ClusterError(f"{method} {path} failed at the JobManager at {self.address} "
                               f"(HTTP {exc.code}): {text}") from None
        except urllib.error.URLError as exc:
            raise self._transport_error(method, path, exc.reason) from None
        except (OSError, http.client.HTTPException) as exc:
            raise self._transport_error(method, path, exc) from None
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise ClusterError(f"{method} {path} at {self.address} answered with something that is not JSON: "
                               f"{raw[:200]!r}") from None

    def _transport_error(self, method: str, path: str, reason: object) -> ClusterError:
        if isinstance(reason, ConnectionRefusedError):
            return ClusterError(f"No JobManager at {self.address} ({START_HINT})")
        if isinstance(reason, socket.gaierror):
            return ClusterError(f"No JobManager at {self.address}: the host name {self.host!r} does not resolve "
                                f"({reason}).")
        if isinstance(reason, (TimeoutError, socket.timeout)):
            return ClusterError(f"The JobManager at {self.address} did not answer {method} {path} within "
                                f"{self.timeout_s:g} s.")
        if isinstance(reason, (ConnectionResetError, http.client.RemoteDisconnected)):
            return ClusterError(f"The JobManager at {self.address} closed the connection during {method} {path} "
                                f"(did it stop?).")
        return ClusterError(f"Cannot reach the JobManager at {self.address} ({START_HINT}): {reason}")

    # --- jobs -----------------------------------------------------------------------------------------------------
    def submit_job(self, job_graph: Any) -> str:
        """``POST /jobs`` with the pickled JobGraph; returns the job id. Raises JobSubmissionError, ClusterError."""
        body = pickle.dumps(job_graph, protocol=5)
        reply = self._request("POST", "/jobs", body, "application/octet-stream", submission=True)
        job_url = str((reply or {}).get("jobUrl", ""))
        job_id = job_url.rstrip("/").rsplit("/", 1)[-1]
        if not job_id:
            raise JobSubmissionError(f"The JobManager at {self.address} accepted the job but sent no jobUrl: {reply}")
        return job_id

    def list_jobs(self) -> list[dict[str, str]]:
        """``GET /jobs``: ``[{"id", "status"}]``."""
        return list(self._request("GET", "/jobs")["jobs"])

    def jobs_overview(self) -> list[dict[str, Any]]:
        """``GET /jobs/overview``: Flink ``JobDetails`` per job (jid, name, state, start-time, tasks, ...)."""
        return list(self._request("GET", "/jobs/overview")["jobs"])

    def job_details(self, job_id: str) -> dict[str, Any]:
        """``GET /jobs/{jobid}`` (Flink ``JobDetailsInfo``). Raises JobNotFoundError."""
        return dict(self._request("GET", f"/jobs/{job_id}", job_id=job_id))

    def job_exceptions(self, job_id: str) -> dict[str, Any]:
        """``GET /jobs/{jobid}/exceptions`` (Flink ``JobExceptionsInfoWithHistory``). Raises JobNotFoundError."""
        return dict(self._request("GET", f"/jobs/{job_id}/exceptions", job_id=job_id))

    def execution_result(self, job_id: str) -> dict[str, Any]:
        """``GET /jobs/{jobid}/execution-result``: ``{"status": {"id": "IN_PROGRESS" | "COMPLETED"}, ...}``."""
        return dict(self._request("GET", f"/jobs/{job_id}/execution-result", job_id=job_id))

    def cancel(self, job_id: str) -> None:
        """``PATCH /jobs/{jobid}?mode=cancel``; returns once the JobManager accepted (the job goes CANCELLING)."""
        self._request("PATCH", f"/jobs/{job_id}?mode=cancel", job_id=job_id)

    def collect(self, job_id: str, operator_id: str, offset: int, max_records: int) -> tuple[list[Any], int, bool]:
        """A page of the collect sink ``operator_id``: (records, next offset, finished)."""
        body = json.dumps({"offset": offset, "maxRecords": max_records}).encode()
        reply = self._request("POST", f"/jobs/{job_id}/coordinators/{urllib.parse.quote(operator_id, safe='')}",
                              body, job_id=job_id)
        records = pickle.loads(base64.b64decode(reply["records"]))
        return list(records), int(reply["nextOffset"]), bool(reply["finished"])

    # --- savepoints (asynchronous operations: trigger, then poll) -------------------------------------------------
    def trigger_savepoint(self, job_id: str, target_directory: Optional[str] = None, cancel_job: bool = False,
                          format_type: str = "CANONICAL") -> str:
        """``POST /jobs/{jobid}/savepoints``; returns the trigger id (poll with :meth:`savepoint_status` or
        :meth:`wait_for_savepoint`).

        Raises:
            JobNotFoundError: unknown job.
            ClusterError: the job already ended (HTTP 409), no target directory and no ``state.savepoints.dir``
                (HTTP 400), or the JobManager is unreachable; the message carries the JobManager's reason.
        """
        body: dict[str, Any] = {"cancel-job": cancel_job, "formatType": format_type}
        if target_directory is not None:
            body["target-directory"] = target_directory
        reply = self._request("POST", f"/jobs/{job_id}/savepoints", json.dumps(body).encode(), job_id=job_id)
        return str(reply["request-id"])

    def stop_with_savepoint(self, job_id: str, target_directory: Optional[str] = None, drain: bool = False,
                            format_type: str = "CANONICAL") -> str:
        """``POST /jobs/{jobid}/stop``; returns the trigger id, polled like a savepoint's. Raises as
        :meth:`trigger_savepoint`."""
        body: dict[str, Any] = {"drain": drain, "formatType": format_type}
        if target_directory is not None:
            body["targetDirectory"] = target_directory
        reply = self._request("POST", f"/jobs/{job_id}/stop", json.dumps(body).encode(), job_id=job_id)
        return str(reply["request-id"])

    def savepoint_status(self, job_id: str, trigger_id: str) -> dict[str, Any]:
        """``GET /jobs/{jobid}/savepoints/{triggerid}``: ``{"status": {"id": ...}, "operation": ...}``."""
        return dict(self._request("GET", f"/jobs/{job_id}/savepoints/{trigger_id}", job_id=job_id))

    def wait_for_savepoint(self, job_id: str, trigger_id: str, timeout_s: Optional[float] = None) -> str:
        """Poll until the savepoint (or stop-with-savepoint) ``trigger_id`` completed; returns its location.

        Args:
            timeout_s: give up after this many seconds (None: wait as long as it takes).

        Raises:
            SavepointFailedError: the JobManager reports a failure (the message carries its cause).
            ClusterError: the JobManager became unreachable, or ``timeout_s`` passed (the savepoint may still
                complete).
        """
        operation = self._poll(lambda: self.savepoint_status(job_id, trigger_id), timeout_s,
                               f"savepoint {trigger_id} of job {job_id}")
        self._raise_failure(operation, f"Savepoint of job {job_id} failed")
        location = operation.get("location")
        if not location:
            raise ClusterError(f"The JobManager at {self.address} completed savepoint {trigger_id} of job {job_id} "
                               f"without a location: {operation}")
        return str(location)

    def dispose_savepoint(self, savepoint_path: str, timeout_s: Optional[float] = None) -> None:
        """``POST /savepoint-disposal`` and poll ``GET /savepoint-disposal/{triggerid}`` until done.

        Raises:
            SavepointFailedError: nothing to dispose there, or the deletion failed (the message says which).
            ClusterError: the JobManager is unreachable, or ``timeout_s`` passed.
        """
        body = json.dumps({"savepoint-path": savepoint_path}).encode()
        trigger_id = str(self._request("POST", "/savepoint-disposal", body)["request-id"])
        operation = self._poll(lambda: dict(self._request("GET", f"/savepoint-disposal/{trigger_id}")), timeout_s,
                               f"disposal of savepoint {savepoint_path}")
        self._raise_failure(operation, f"Disposing savepoint '{savepoint_path}' failed")

    def _poll(self, status: Callable[[], dict[str, Any]], timeout_s: Optional[float], what: str) -> dict[str, Any]:
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        poll_s = OPERATION_POLL_MIN_S
        while True:
            reply = status()
            if reply.get("status", {}).get("id") == "COMPLETED":
                return dict(reply.get("operation") or {})
            if deadline is not None and time.monotonic() >= deadline:
                raise ClusterError(f"The {what} did not complete within {timeout_s:g} s at the JobManager at "
                                   f"{self.address}; it may still complete.")
            time.sleep(poll_s)
            poll_s = min(poll_s * 2, OPERATION_POLL_MAX_S)

    @staticmethod
    def _raise_failure(operation: dict[str, Any], headline: str) -> None:
        cause = operation.get("failure-cause")
        if not cause:
            return
        stack = str(cause.get("stack-trace") or cause.get("class") or "no cause given")
        first = stack.splitlines()[0] if stack else ""
        raise SavepointFailedError(f"{headline}: {first}", str(cause.get("class", "")), stack)

    # --- cluster -------------------------------------------------------------------------------------------------
    def overview(self) -> dict[str, Any]:
        """``GET /overview`` (Flink ``ClusterOverviewWithVersion``)."""
        return dict(self._request("GET", "/overview"))

    def taskmanagers(self) -> list[dict[str, Any]]:
        """``GET /taskmanagers``: Flink ``TaskManagerInfo`` per TaskManager."""
        return list(self._request("GET", "/taskmanagers")["taskmanagers"])

    def jobmanager_config(self) -> dict[str, str]:
        """``GET /jobmanager/config`` as a dict."""
        return {e["key"]: e["value"] for e in self._request("GET", "/jobmanager/config")}
