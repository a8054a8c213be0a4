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
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional, Protocol

from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.common.errors import ConfigurationError, YFlinkError
from yflink.graph.job_graph import JobGraph

__all__ = ["CheckpointIDCounter", "CheckpointPointerStore", "HaConfiguration", "HighAvailabilityError",
           "HighAvailabilityServices", "JobGraphStore", "LeaderContender", "LeaderElection", "LeaderInformation",
           "LeaderRetrieval", "LeadershipLostError", "ZooKeeperPaths"]


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
                 keytab=config.get_string("security.kerberos.login.keytab", "") or None)
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

    def cleanup_job(self, job_id: str) -> None:
        """The job reached a globally terminal state: remove its job graph, checkpoint pointers and counter."""
        self.checkpoint_pointer_store(job_id).remove_all()
        self.checkpoint_id_counter(job_id).remove()
        self.job_graph_store().remove(job_id)

    @abstractmethod
    def close(self) -> None: ...
