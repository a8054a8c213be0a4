"""The HA services' interfaces and their pure parts: configuration, znode layout, leader information.

Source: Flink "High Availability" and "ZooKeeper HA Services"; ``HighAvailabilityServices``,
``LeaderContender`` / ``LeaderElectionDriver`` / ``LeaderRetrievalDriver``, ``JobGraphStore``,
``CheckpointIDCounter``, ``CompletedCheckpointStore``. Every method here may block (ZooKeeper, HDFS): asyncio
callers run them with ``asyncio.to_thread``.

Errors (all :class:`~yflink.common.errors.YFlinkError`)::

    HighAvailabilityError          the HA services failed (ZooKeeper unreachable, a blob unreadable)
     +-- LeadershipLostError       a write by a component that is no longer the leader (fenced off)
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Optional, Protocol

from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.common.errors import ConfigurationError, YFlinkError
from yflink.graph.job_graph import JobGraph

__all__ = ["CheckpointIDCounter", "CheckpointPointerStore", "HaConfiguration", "HighAvailabilityError",
           "HighAvailabilityServices", "JobGraphStore", "JobResult", "JobResultStore", "LeaderContender",
           "LeaderElection", "LeaderInformation", "LeaderRetrieval", "LeadershipLostError", "ZooKeeperPaths",
           "application_job_id"]


class HighAvailabilityError(YFlinkError):
    """The HA services failed: ZooKeeper is unreachable beyond its retries, or an HA blob cannot be read."""


class LeadershipLostError(HighAvailabilityError):
    """A write by a component that is no longer the leader (its ZooKeeper session ended or it was revoked):
    rejected so that a former leader cannot act (Flink's fencing)."""


@dataclass(frozen=True)
class HaConfiguration:
    """The ``high-availability.*`` options, validated (durations in ms).

    Raises (``from_configuration``):
        ConfigurationError: ZOOKEEPER without ``high-availability.zookeeper.quorum`` or
            ``high-availability.storageDir``, a bad ACL name, or a non-positive timeout (each names its key).
    """

    type: str = "NONE"
    quorum: Optional[str] = None
    root: str = "/flink"
    cluster_id: str = "/default"
    storage_dir: Optional[str] = None
    session_timeout_ms: int = 60_000
    connection_timeout_ms: int = 15_000
    retry_wait_ms: int = 5_000
    max_retry_attempts: int = 3
    acl: str = "open"
    tolerate_suspended: bool = False
    #: Kerberos service name for SASL (GSSAPI) to ZooKeeper; None: no SASL. On with a ``Client`` login context
    #: (``security.kerberos.login.contexts``) unless ``zookeeper.sasl.disable`` (Flink "Kerberos Authentication
    #: Setup and Configuration", ZooKeeper section). The ticket comes from the cache, or from
    #: ``security.kerberos.login.keytab`` (``keytab``).
    sasl_service: Optional[str] = None
    keytab: Optional[str] = None
    #: ``job-result-store.storage-path``; None: ``<storageDir>/job-result-store/<cluster-id>``.
    job_result_store_path: Optional[str] = None
    #: ``job-result-store.delete-on-commit``: a cleaned-up job's entry is deleted (else kept as ``<id>.json``).
    job_result_delete_on_commit: bool = True

    @property
    def enabled(self) -> bool:
        return self.type == "ZOOKEEPER"

    @classmethod
    def from_configuration(cls, config: Configuration) -> HaConfiguration:
        ha = cls(type=config.get(opts.HA_TYPE), quorum=config.get(opts.HA_ZK_QUORUM),
                 root=config.get(opts.HA_ZK_ROOT), cluster_id=config.get(opts.HA_CLUSTER_ID),
                 storage_dir=config.get(opts.HA_STORAGE_DIR),
                 session_timeout_ms=config.get(opts.HA_ZK_SESSION_TIMEOUT),
                 connection_timeout_ms=config.get(opts.HA_ZK_CONNECTION_TIMEOUT),
                 retry_wait_ms=config.get(opts.HA_ZK_RETRY_WAIT), max_retry_attempts=config.get(opts.HA_ZK_MAX_RETRIES),
                 acl=config.get(opts.HA_ZK_ACL), tolerate_suspended=config.get(opts.HA_ZK_TOLERATE_SUSPENDED),
                 sasl_service=_sasl_service(config),
                 keytab=config.get_string("security.kerberos.login.keytab", "") or None,
                 job_result_store_path=config.get(opts.JOB_RESULT_STORE_STORAGE_PATH) or None,
                 job_result_delete_on_commit=config.get(opts.JOB_RESULT_STORE_DELETE_ON_COMMIT))
        if not ha.enabled:
            return ha
        if not ha.quorum:
            raise ConfigurationError(f"{opts.HA_TYPE.key}: zookeeper needs {opts.HA_ZK_QUORUM.key} "
                                     "(host:port[,host:port...] of the ZooKeeper ensemble).")
        if not ha.storage_dir:
            raise ConfigurationError(f"{opts.HA_TYPE.key}: zookeeper needs {opts.HA_STORAGE_DIR.key} (a file:// or "
                                     "hdfs:// directory every JobManager can read, for the submitted job graphs).")
        if ha.acl not in ("open", "creator"):
            raise ConfigurationError(f"Bad value for '{opts.HA_ZK_ACL.key}': {ha.acl!r}; expected open or creator.")
        if ha.acl == "creator" and ha.sasl_service is None:
            raise ConfigurationError(f"'{opts.HA_ZK_ACL.key}: creator' needs SASL to ZooKeeper (an unauthenticated "
                                     "creator could not read its own znodes): add Client to "
                                     f"{opts.KERBEROS_LOGIN_CONTEXTS.key}, or use open.")
        for option, value in ((opts.HA_ZK_SESSION_TIMEOUT, ha.session_timeout_ms),
                              (opts.HA_ZK_CONNECTION_TIMEOUT, ha.connection_timeout_ms)):
            if value <= 0:
                raise ConfigurationError(f"Bad value for '{option.key}': {value} ms; it must be positive.")
        if ha.max_retry_attempts < 0:
            raise ConfigurationError(f"Bad value for '{opts.HA_ZK_MAX_RETRIES.key}': {ha.max_retry_attempts}; "
                                     "it must be >= 0.")
        return ha


def application_job_id(cluster_id: str) -> str:
    """The fixed job id of an application-mode job under HA: Flink's ``new JobID(clusterId.hashCode(), 0)``
    (``ApplicationDispatcherBootstrap``), as 32 hex digits, so that every attempt of the application submits
    the same job id. ``cluster_id`` is ``high-availability.cluster-id`` (on YARN: the application id)."""
    h = 0
    units = cluster_id.encode("utf-16-be")
    for i in range(0, len(units), 2):  # Java's String.hashCode over UTF-16 code units
        h = (31 * h + int.from_bytes(units[i:i + 2], "big")) & 0xFFFFFFFF
    lower = h - (1 << 32) if h >= 1 << 31 else h  # the int, sign-extended to the JobID's lower long
    return f"{lower & 0xFFFFFFFFFFFFFFFF:016x}{0:016x}"


def _sasl_service(config: Configuration) -> Optional[str]:
    contexts = [c.strip() for c in (config.get(opts.KERBEROS_LOGIN_CONTEXTS) or "").split(",")]
    if "Client" not in contexts or config.get(opts.HA_ZK_SASL_DISABLE):
        return None
    return str(config.get(opts.HA_ZK_SASL_SERVICE_NAME))


def _clean(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    return "/" + "/".join(parts) if parts else ""


@dataclass(frozen=True)
class ZooKeeperPaths:
    """The znodes of one cluster, under ``<path.root>/<cluster-id>`` (Flink's layout since 1.15)."""

    root: str
    cluster_id: str

    @property
    def base(self) -> str:
        return _clean(self.root) + _clean(self.cluster_id) or "/"

    @property
    def latch(self) -> str:
        """Parent of the contenders' ephemeral sequential nodes; the lowest is the leader."""
        return f"{self.base}/leader/latch"

    @property
    def connection_info(self) -> str:
        """The leader's :class:`LeaderInformation` (ephemeral)."""
        return f"{self.base}/leader/connection_info"

    @property
    def job_graphs(self) -> str:
        return f"{self.base}/jobgraphs"

    def job_graph(self, job_id: str) -> str:
        return f"{self.job_graphs}/{job_id}"

    def checkpoints(self, job_id: str) -> str:
        return f"{self.base}/checkpoints/{job_id}"

    def checkpoint(self, job_id: str, checkpoint_id: int) -> str:
        """Zero-padded so that znode names sort as ids do (Flink pads to 19 digits)."""
        return f"{self.checkpoints(job_id)}/{checkpoint_id:019d}"

    def checkpoint_id_counter(self, job_id: str) -> str:
        return f"{self.base}/checkpoint_id_counter/{job_id}"


@dataclass(frozen=True)
class LeaderInformation:
    """Who leads: the leader session id (the fencing token) and where its endpoints are (``host:port``)."""

    session_id: str
    rpc_address: str
    rest_address: str

    def to_bytes(self) -> bytes:
        return json.dumps({"session_id": self.session_id, "address": self.rpc_address,
                           "rest_address": self.rest_address}, sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: Optional[bytes]) -> Optional[LeaderInformation]:
        """None for an empty node (no leader published yet).

        Raises:
            ValueError: the bytes are not leader information (the message shows their start).
        """
        if not data:
            return None
        try:
            raw = json.loads(data)
            return cls(str(raw["session_id"]), str(raw["address"]), str(raw["rest_address"]))
        except (ValueError, KeyError, TypeError):
            raise ValueError(f"not leader information: {data[:80]!r}") from None


class LeaderContender(Protocol):
    """A component that runs while it leads (Flink ``LeaderContender``). Both calls come from the election's own
    thread and must not block; an asyncio component hops to its loop (``call_soon_threadsafe``)."""

    def grant_leadership(self, session_id: str) -> None: ...

    def revoke_leadership(self) -> None: ...


class LeaderElection(ABC):
    """Contends for leadership on behalf of one contender (Flink ``LeaderElection``)."""

    @abstractmethod
    def start(self, contender: LeaderContender) -> None:
        """Begin contending; ``contender.grant_leadership(session_id)`` follows when this one leads."""

    @abstractmethod
    def confirm_leadership(self, info: LeaderInformation) -> None:
        """Publish ``info`` for retrieval (clients, TaskManagers).

        Raises:
            LeadershipLostError: ``info.session_id`` is not the current leader session.
        """

    @abstractmethod
    def has_leadership(self, session_id: str) -> bool: ...

    @abstractmethod
    def stop(self) -> None:
        """Stop contending; a leader is revoked first."""


class LeaderRetrieval(ABC):
    """Finds the current leader (Flink ``LeaderRetrievalService``)."""

    @abstractmethod
    def start(self, listener: Optional[Callable[[Optional[LeaderInformation]], None]] = None) -> None:
        """Begin watching; ``listener`` (from a driver thread, must not block) gets every change."""

    @abstractmethod
    def current(self) -> Optional[LeaderInformation]: ...

    def wait_for_leader(self, timeout_s: float) -> LeaderInformation:
        """The current leader, waiting up to ``timeout_s`` for one.

        Raises:
            HighAvailabilityError: no leader within the timeout.
        """
        import time

        deadline = time.monotonic() + timeout_s
        while True:
            info = self.current()
            if info is not None:
                return info
            if time.monotonic() > deadline:
                raise HighAvailabilityError(f"No JobManager leader was published within {timeout_s:.0f} s; is a "
                                            "JobManager running with the same high-availability.cluster-id?")
            time.sleep(0.05)

    @abstractmethod
    def stop(self) -> None: ...


class JobGraphStore(ABC):
    """Submitted jobs that a new leader must recover (Flink ``JobGraphStore``)."""

    @abstractmethod
    def put(self, job_graph: JobGraph) -> None:
        """Raises LeadershipLostError when the caller no longer leads."""

    @abstractmethod
    def get(self, job_id: str) -> JobGraph:
        """Raises KeyError (unknown job) or HighAvailabilityError (its blob cannot be read)."""

    @abstractmethod
    def job_ids(self) -> list[str]: ...

    @abstractmethod
    def remove(self, job_id: str) -> None:
        """Remove the job (pointer first, then blob); nothing when unknown."""


class CheckpointIDCounter(ABC):
    """Checkpoint ids of one job, never reused across leaders (Flink ``CheckpointIDCounter``)."""

    @abstractmethod
    def get(self) -> int:
        """The next id to use (1 for a new job)."""

    @abstractmethod
    def advance_to(self, next_id: int) -> None:
        """Make the next id at least ``next_id`` (a compare-and-set loop). Raises LeadershipLostError."""

    @abstractmethod
    def remove(self) -> None: ...


class CheckpointPointerStore(ABC):
    """The completed checkpoints of one job as (id, external pointer) — the part of Flink's
    ``CompletedCheckpointStore`` that outlives the leader; the ``_metadata`` stays in checkpoint storage."""

    @abstractmethod
    def add(self, checkpoint_id: int, pointer: str) -> None:
        """Raises LeadershipLostError when the caller no longer leads (the checkpoint then fails)."""

    @abstractmethod
    def remove(self, checkpoint_id: int) -> None: ...

    @abstractmethod
    def pointers(self) -> list[tuple[int, str]]:
        """Retained checkpoints, oldest first."""

    @abstractmethod
    def remove_all(self) -> None: ...


GLOBALLY_TERMINAL_STATES = ("FINISHED", "FAILED", "CANCELED")
APPLICATION_STATUS = {"FINISHED": "SUCCEEDED", "FAILED": "FAILED", "CANCELED": "CANCELED"}  # Flink's mapping


@dataclass(frozen=True)
class JobResult:
    """The end of a globally terminated job as the JobResultStore keeps it (Flink ``JobResult``).

    ``state`` is FINISHED, FAILED or CANCELED; times are ms since the epoch; ``failure_cause`` is the root cause
    (with the user's traceback) of a FAILED job.

    Raises (constructor):
        ValueError: ``state`` is not globally terminal.
    """

    job_id: str
    job_name: str
    state: str
    start_time_ms: int
    end_time_ms: int
    failure_cause: Optional[str] = None

    def __post_init__(self) -> None:
        if self.state not in GLOBALLY_TERMINAL_STATES:
            raise ValueError(f"A job result needs a globally terminal state ({', '.join(GLOBALLY_TERMINAL_STATES)}),"
                             f" not {self.state!r} (job {self.job_id}).")

    @property
    def application_status(self) -> str:
        """Flink's ``ApplicationStatus``: SUCCEEDED, FAILED or CANCELED."""
        return APPLICATION_STATUS[self.state]

    def to_json(self) -> bytes:
        """Flink's ``FileSystemJobResultStore`` entry (``{"result": {...}, "version": 1}``) plus yflink's name,
        state and times."""
        net_runtime = max(0, self.end_time_ms - self.start_time_ms)
        result: dict[str, Any] = {"id": self.job_id, "application-status": self.application_status,
                                  "accumulator-results": {}, "net-runtime": net_runtime, "name": self.job_name,
                                  "state": self.state, "start-time": self.start_time_ms, "end-time": self.end_time_ms}
        if self.failure_cause is not None:
            result["failure-cause"] = {"class": "", "stack-trace": self.failure_cause, "serialized-throwable": ""}
        return json.dumps({"result": result, "version": 1}, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> JobResult:
        """Raises ValueError: not a job result entry (the message shows its start)."""
        try:
            raw = json.loads(data)["result"]
            cause = raw.get("failure-cause")
            return cls(str(raw["id"]), str(raw.get("name", "")), str(raw["state"]), int(raw.get("start-time", -1)),
                       int(raw.get("end-time", -1)), str(cause["stack-trace"]) if cause else None)
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"not a job result entry ({exc}): {data[:80]!r}") from None

    @classmethod
    def now(cls, job_id: str, job_name: str, state: str, start_time_ms: int,
            failure_cause: Optional[str] = None) -> JobResult:
        return cls(job_id, job_name, state, start_time_ms, int(time.time() * 1000), failure_cause)


class JobResultStore(ABC):
    """Results of globally terminated jobs, so that no leader runs such a job again (Flink ``JobResultStore``,
    "High Availability" > "JobResultStore"). An entry is *dirty* from the moment the job is globally terminal
    until its HA data is cleaned up, then *clean* (or deleted: ``job-result-store.delete-on-commit``)."""

    @abstractmethod
    def create_dirty_result(self, result: JobResult) -> None:
        """Record ``result`` as dirty. Raises ValueError: the store already has an entry for the job."""

    @abstractmethod
    def mark_result_as_clean(self, job_id: str) -> None:
        """The job's HA data is gone: mark its entry clean (or delete it). Nothing when it is clean already.

        Raises:
            KeyError: no entry for ``job_id``.
        """

    @abstractmethod
    def has_dirty_job_result_entry(self, job_id: str) -> bool: ...

    @abstractmethod
    def has_clean_job_result_entry(self, job_id: str) -> bool: ...

    def has_job_result_entry(self, job_id: str) -> bool:
        return self.has_dirty_job_result_entry(job_id) or self.has_clean_job_result_entry(job_id)

    @abstractmethod
    def get_result(self, job_id: str) -> Optional[JobResult]:
        """The entry (dirty or clean) of ``job_id``, or None."""

    @abstractmethod
    def get_dirty_results(self) -> list[JobResult]: ...

    @abstractmethod
    def get_clean_results(self) -> list[JobResult]:
        """Entries kept after their cleanup (only with ``delete-on-commit: false``)."""

    @abstractmethod
    def remove_all(self) -> None:
        """Remove every entry (the cluster's HA data is removed as a whole)."""


class HighAvailabilityServices(ABC):
    """Everything HA of one cluster (Flink ``HighAvailabilityServices``)."""

    #: False for the standalone services: nothing survives the JobManager.
    highly_available: bool = False

    @abstractmethod
    def leader_election(self) -> LeaderElection: ...

    @abstractmethod
    def leader_retrieval(self) -> LeaderRetrieval: ...

    @abstractmethod
    def job_graph_store(self) -> JobGraphStore: ...

    @abstractmethod
    def checkpoint_id_counter(self, job_id: str) -> CheckpointIDCounter: ...

    @abstractmethod
    def checkpoint_pointer_store(self, job_id: str) -> CheckpointPointerStore: ...

    @abstractmethod
    def job_result_store(self) -> JobResultStore: ...

    def cleanup_job(self, job_id: str) -> None:
        """The job reached a globally terminal state: remove its job graph, checkpoint pointers and counter."""
        self.checkpoint_pointer_store(job_id).remove_all()
        self.checkpoint_id_counter(job_id).remove()
        self.job_graph_store().remove(job_id)

    @abstractmethod
    def cleanup_all_data(self) -> None:
        """Remove everything this cluster keeps in the HA services (every job's metadata, the job result store,
        the blobs), as Flink's ``closeAndCleanupAllData`` when an application cluster ends."""

    @abstractmethod
    def close(self) -> None: ...
