"""Submitting to a running cluster over REST: ``execution.target: remote`` (``yflink run -m host:port``).

:class:`RemoteExecutor` turns the StreamGraph into a JobGraph and posts it to ``rest.address:rest.port``;
:class:`RestJobClient` is the handle on the submitted job (Flink ``RestClusterClient`` with
``ClusterClientJobClientAdapter``).
The embedded local cluster (:mod:`yflink.deploy.local`) hands out the same RestJobClient, so waiting, progress,
failures and ``execute_and_collect`` behave alike everywhere.

While :meth:`RestJobClient.get_job_execution_result` waits and ``client.progress.enabled`` is true, one line per
change goes to stderr every ``client.progress.interval`` ms: the job status and, per vertex, its running
subtasks and records in/out. Stdout stays the job's own.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from typing import Any, Optional, TextIO

from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.common.errors import ClusterError, JobExecutionError
from yflink.common.job_execution_result import JobExecutionResult
from yflink.graph.executor import JobClient
from yflink.graph.job_graph import create_job_graph
from yflink.graph.stream_graph import StreamGraph
from yflink.rest.client import RestClusterClient

POLL_MIN_S = 0.02  # first poll of a job's result; doubles up to POLL_MAX_S
POLL_MAX_S = 0.05
LEADER_WAIT_S = 60.0  # with ZooKeeper HA, how long past the session timeout a client waits for a new leader, s
LEADER_POLL_S = 0.5  # how often it asks ZooKeeper meanwhile, s
COLLECT_BATCH = 10_000  # records per collect request
CANCEL_ON_CLOSE_TIMEOUT_S = 5.0


def format_count(n: int) -> str:
    """12000 -> ``12,000``."""
    return f"{n:,}"


def progress_line(details: dict[str, Any]) -> str:
    """One progress line from a ``GET /jobs/{jobid}`` body (Flink ``JobDetailsInfo``).

    ``RUNNING  Source: Collection -> Map (2/2 running) in=0 out=12,000 | Keyed Reduce (2/2 running) in=12,000 ...``;
    each vertex shows how many of its subtasks are in the vertex's status.
    """
    parts = []
    for v in details.get("vertices", []):
        status = str(v.get("status", "?"))
        count = int(v.get("tasks", {}).get(status, 0))
        metrics = v.get("metrics", {})
        parts.append(f"{v.get('name', '?')} ({count}/{v.get('parallelism', '?')} {status.lower()}) "
                     f"in={format_count(int(metrics.get('read-records', 0)))} "
                     f"out={format_count(int(metrics.get('write-records', 0)))}")
    return f"{details.get('state', '?'):<9} {' | '.join(parts)}".rstrip()


class ProgressReporter:
    """Prints :func:`progress_line` to ``stream`` when it changed, at most every ``interval_s`` seconds."""

    def __init__(self, client: RestClusterClient, job_id: str, interval_s: float, stream: Optional[TextIO] = None):
        self.client = client
        self.job_id = job_id
        self.interval_s = interval_s
        self.stream = stream
        self._last_line = ""
        self._next_at = 0.0

    def _write(self, text: str) -> None:
        stream = self.stream if self.stream is not None else sys.stderr
        stream.write(text + "\n")
        stream.flush()

    def announce(self) -> None:
        self._write(f"Job has been submitted with JobID {self.job_id}")

    def maybe_report(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now < self._next_at:
            return
        self._next_at = now + self.interval_s
        try:
            line = progress_line(self.client.job_details(self.job_id))
        except ClusterError:
            return  # progress is best effort; the result poll reports a lost JobManager
        if line != self._last_line:
            self._last_line = line
            self._write(line)


class RestJobClient:
    """A submitted job, reached through the JobManager's REST API (a :class:`~yflink.graph.executor.JobClient`).

    Args:
        client: the REST client of the JobManager that runs the job.
        job_id: the job's id (32 hex digits).
        config: the program's configuration (``client.progress.enabled``, ``client.progress.interval``).
    """

    def __init__(self, client: RestClusterClient, job_id: str, config: Configuration) -> None:
        self.client = client
        self.job_id = job_id
        self.config = config
        self._result: Optional[JobExecutionResult] = None
        self._error: Optional[JobExecutionError] = None

    def get_job_id(self) -> str:
        return self.job_id

    def get_job_status(self) -> str:
        """The JobStatus name (``RUNNING``, ``FINISHED``, ...). Raises ClusterError (JobNotFoundError)."""
        return str(self.client.job_details(self.job_id)["state"])

    def cancel(self) -> None:
        """Ask the JobManager to cancel; returns at once (the job goes CANCELLING, then CANCELED)."""
        self.client.cancel(self.job_id)

    # --- savepoints (PyFlink JobClient.trigger_savepoint / stop_with_savepoint) --------------------------------
    def start_savepoint(self, savepoint_directory: Optional[str] = None, *, stop: bool = False, drain: bool = False,
                        format_type: str = "CANONICAL") -> str:
        """Ask the JobManager for a savepoint (``stop``: stop-with-savepoint, ``drain``: sources end their input
        first); returns the trigger id at once, for :meth:`wait_for_savepoint`.

        Raises:
            ClusterError: unknown job (JobNotFoundError), the job already ended, no ``savepoint_directory`` and no
                ``state.savepoints.dir``, or the JobManager is unreachable.
        """
        if stop:
            return self.client.stop_with_savepoint(self.job_id, savepoint_directory, drain, format_type)
        return self.client.trigger_savepoint(self.job_id, savepoint_directory, format_type=format_type)

    def wait_for_savepoint(self, trigger_id: str, timeout_s: Optional[float] = None) -> str:
        """Block until savepoint ``trigger_id`` completed; returns its directory URI (``yflink run -s`` takes it).
        Raises SavepointFailedError (the JobManager's cause) or ClusterError."""
        return self.client.wait_for_savepoint(self.job_id, trigger_id, timeout_s)

    def trigger_savepoint(self, savepoint_directory: Optional[str] = None, format_type: str = "CANONICAL") -> str:
        """Take a savepoint of the running job and return its directory URI (blocks until it completed).

        Args:
            savepoint_directory: URI of the directory the savepoint goes under; None: the cluster's or job's
                ``execution.checkpointing.savepoint-dir`` (``state.savepoints.dir``).
            format_type: CANONICAL or NATIVE (Flink's ``SavepointFormatType``).

        Raises:
            SavepointFailedError: the savepoint failed (the job keeps running).
            ClusterError: as :meth:`start_savepoint`.
        """
        return self.wait_for_savepoint(self.start_savepoint(savepoint_directory, format_type=format_type))

    def stop_with_savepoint(self, advance_to_end_of_event_time: bool = False,
                            savepoint_directory: Optional[str] = None) -> str:
        """Stop the job with a savepoint and return the savepoint's URI; the job then ends FINISHED.

        ``advance_to_end_of_event_time`` (Flink's ``--drain``) makes the sources emit the MAX watermark first, so
        every event-time timer and window fires. Raises SavepointFailedError (the job keeps running) or
        ClusterError.
        """
        trigger = self.start_savepoint(savepoint_directory, stop=True, drain=advance_to_end_of_event_time)
        return self.wait_for_savepoint(trigger)

    def get_job_execution_result(self) -> JobExecutionResult:
        """Block until the job ends.

        Returns:
            the result of a FINISHED job (net runtime in ms).

        Raises:
            JobExecutionError: the job ended FAILED (``root_cause`` holds the root exception text, including
                the user's traceback) or CANCELED.
            ClusterError: the JobManager could not be reached while waiting.
        """
        return self._wait(report_progress=self.config.get(opts.CLIENT_PROGRESS))

    def _wait(self, report_progress: bool) -> JobExecutionResult:
        if self._result is not None:
            return self._result
        if self._error is not None:
            raise self._error
        progress: Optional[ProgressReporter] = None
        if report_progress:
            progress = ProgressReporter(self.client, self.job_id, self.config.get(opts.CLIENT_PROGRESS_INTERVAL) / 1000)
            progress.announce()
        poll_s = POLL_MIN_S
        while True:
            try:
                reply = self.client.execution_result(self.job_id)
            except ClusterError as exc:
                leader = self._follow_leader()
                if leader is None:
                    raise ClusterError(f"Lost the JobManager while waiting for job {self.job_id}: {exc}") from None
                self.client = leader
                if progress is not None:
                    progress.client = leader
                continue
            if reply.get("status", {}).get("id") == "COMPLETED":
                break
            if progress is not None:
                progress.maybe_report()
            time.sleep(poll_s)
            poll_s = min(poll_s * 2, POLL_MAX_S)
        if progress is not None:
            progress.maybe_report(force=True)
        return self._complete(reply.get("job-execution-result", {}))

    def _follow_leader(self) -> Optional[RestClusterClient]:
        """With ZooKeeper HA: the REST client of the (new) leader once it knows the job (it recovers it after
        taking over), waiting up to the session timeout + LEADER_WAIT_S; None without HA or when none came."""
        from yflink.runtime.highavailability import HaConfiguration, HighAvailabilityError, retrieve_rest_address

        ha = HaConfiguration.from_configuration(self.config)
        if not ha.enabled:
            return None
        deadline = time.monotonic() + ha.session_timeout_ms / 1000.0 + LEADER_WAIT_S
        while time.monotonic() < deadline:
            try:
                address = retrieve_rest_address(self.config, timeout_s=max(1.0, deadline - time.monotonic()))
                if address is not None:
                    client = RestClusterClient(address)
                    client.job_details(self.job_id)
                    print(f"Following the JobManager leader at {address} for job {self.job_id}", file=sys.stderr)
                    return client
            except (ClusterError, HighAvailabilityError):
                pass
            time.sleep(LEADER_POLL_S)
        return None

    def _complete(self, result: dict[str, Any]) -> JobExecutionResult:
        status = str(result.get("application-status", "UNKNOWN"))
        if status == "SUCCEEDED":
            self._result = JobExecutionResult(self.job_id, int(result.get("net-runtime", 0)),
                                              dict(result.get("accumulator-results") or {}))
            return self._result
        if status == "FAILED":
            cause = result.get("failure-cause") or {}
            root = str(cause.get("stack-trace") or cause.get("class") or "The job failed without a recorded cause.")
            self._error = JobExecutionError(self.job_id, "FAILED", root)
        elif status == "CANCELED":
            self._error = JobExecutionError(self.job_id, "CANCELED", "The job was cancelled.")
        else:
            self._error = JobExecutionError(self.job_id, status, "The job ended in an unknown state.")
        raise self._error

    def collect(self, operator_id: str) -> Iterator[Any]:
        """Records of the collect sink ``operator_id`` as they arrive, until the job ends.

        Closing the iterator early cancels the job (as Flink's collect iterator does). When the job did not
        FINISH, the iterator raises JobExecutionError after the records that did arrive.
        """
        offset = 0
        finished = False
        idle_s = POLL_MIN_S
        try:
            while not finished:
                records, offset, finished = self.client.collect(self.job_id, operator_id, offset, COLLECT_BATCH)
                yield from records
                if records:
                    idle_s = POLL_MIN_S
                elif not finished:
                    time.sleep(idle_s)
                    idle_s = min(idle_s * 2, POLL_MAX_S)
        finally:
            if not finished:
                self._cancel_quietly()
        self._wait(report_progress=False)

    def _cancel_quietly(self) -> None:
        try:
            if self._result is None and self._error is None:
                self.client.cancel(self.job_id)
        except ClusterError:
            pass


class RemoteExecutor:
    """``execution.target: remote``: submit to the cluster at ``rest.address``:``rest.port``."""

    def execute(self, stream_graph: StreamGraph, config: Configuration) -> JobClient:
        """Build the JobGraph, submit it, and return its client.

        Raises:
            ClusterError: no JobManager at the address ("No JobManager at host:port ...").
            JobSubmissionError: the JobManager refused the job.
        """
        from yflink.runtime.highavailability import retrieve_rest_address

        address = retrieve_rest_address(config) or f"{config.get(opts.REST_ADDRESS)}:{config.get(opts.REST_PORT)}"
        client = RestClusterClient(address)
        # $internal.pipeline.job-id: application mode with HA fixes the id (Flink ApplicationDispatcherBootstrap)
        job_graph = create_job_graph(stream_graph, job_id=config.get(opts.PIPELINE_FIXED_JOB_ID) or None)
        job_id = client.submit_job(job_graph)
        if not config.get(opts.EXECUTION_ATTACHED):
            print(f"Job has been submitted with JobID {job_id}", flush=True)
        return RestJobClient(client, job_id, config)
