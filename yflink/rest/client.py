"""A synchronous client of the JobManager's REST API (Flink ``RestClusterClient``), on the standard library.

Every method is one HTTP request to Flink's paths (see :mod:`yflink.rest.server`) and returns the decoded
JSON. Transport and HTTP failures are translated here, in one place, into yflink errors whose messages say
what to do:

* nobody listens at the address -> :class:`~yflink.common.errors.ClusterError` "No JobManager at host:port ...",
* the job is unknown -> :class:`JobNotFoundError` (a ClusterError),
* the cluster refuses a submission -> :class:`~yflink.common.errors.JobSubmissionError`,
* any other HTTP error -> ClusterError carrying Flink's ``errors`` text.

Proxies from the environment (``http_proxy``) are ignored: the JobManager is reached directly.
"""

from __future__ import annotations

import base64
import http.client
import json
import pickle
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Optional

from yflink.common.errors import ClusterError, ConfigurationError, JobSubmissionError

DEFAULT_TIMEOUT_S = 60.0  # Flink's client.timeout default
START_HINT = "is the cluster running? start one with `yflink cluster start`"


class JobNotFoundError(ClusterError):
    """The JobManager does not know the job id (HTTP 404 on a ``/jobs/{jobid}`` path)."""

    def __init__(self, job_id: str, message: str) -> None:
        super().__init__(message)
        self.job_id = job_id


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
