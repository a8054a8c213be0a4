"""ZooKeeper HA services (``high-availability.type: zookeeper``) — the one module that imports kazoo.

Layout under ``<high-availability.zookeeper.path.root>/<high-availability.cluster-id>`` (Flink "ZooKeeper HA
Services"; :class:`~yflink.runtime.highavailability.api.ZooKeeperPaths`)::

    leader/latch/latch-<seq>          ephemeral sequential: the contenders; the lowest leads (a leader latch)
    leader/connection_info            ephemeral: the leader's LeaderInformation (JSON: session id, RPC, REST)
    jobgraphs/<job id>                pointer to <storageDir>/<cluster-id>/submittedJobGraph-<job id>-<rand>
    checkpoints/<job id>/<id:019d>    pointer to the completed checkpoint's directory (its _metadata)
    checkpoint_id_counter/<job id>    the next checkpoint id (decimal), changed by compare-and-set

Fencing: every write of the leader is a ZooKeeper transaction that first checks that the leader's latch node
still exists (version 0), as Flink's ``ZooKeeperStateHandleStore`` does with its leader-latch check. A leader
whose session expired has lost that node, so its writes fail with :class:`LeadershipLostError`.

Leadership is revoked when the session is LOST, and also when the connection is SUSPENDED unless
``high-availability.zookeeper.client.tolerate-suspended-connections`` is true.
"""

from __future__ import annotations

import logging
import pickle
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Optional

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import BadVersionError, KazooException, NodeExistsError, NoNodeError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.retry import KazooRetry
from kazoo.security import CREATOR_ALL_ACL, OPEN_ACL_UNSAFE

from yflink.fs.base import get_file_system, join, normalize
from yflink.graph.job_graph import JobGraph
from yflink.runtime.highavailability.api import (
    CheckpointIDCounter,
    CheckpointPointerStore,
    HaConfiguration,
    HighAvailabilityError,
    HighAvailabilityServices,
    JobGraphStore,
    LeaderContender,
    LeaderElection,
    LeaderInformation,
    LeaderRetrieval,
    LeadershipLostError,
    ZooKeeperPaths,
)

__all__ = ["ZooKeeperHaServices", "connect"]

log = logging.getLogger(__name__)
POLL_S = 0.2  # how often the election thread looks at stop/lost flags while it waits


def connect(ha: HaConfiguration) -> KazooClient:
    """A started kazoo client for ``ha`` (session timeout, retries and ACL from its options).

    Raises:
        HighAvailabilityError: no connection within ``connection-timeout``.
    """
    retry_wait_s = ha.retry_wait_ms / 1000.0
    client = KazooClient(
        hosts=ha.quorum, timeout=ha.session_timeout_ms / 1000.0,
        connection_retry=KazooRetry(max_tries=-1, delay=0.1, backoff=2, max_delay=retry_wait_s),
        command_retry=KazooRetry(max_tries=ha.max_retry_attempts, delay=0.1, backoff=2, max_delay=retry_wait_s),
        default_acl=CREATOR_ALL_ACL if ha.acl == "creator" else OPEN_ACL_UNSAFE)
    try:
        client.start(timeout=ha.connection_timeout_ms / 1000.0)
    except KazooTimeoutError:
        client.close()
        raise HighAvailabilityError(f"Could not connect to ZooKeeper at {ha.quorum} within "
                                    f"high-availability.zookeeper.client.connection-timeout "
                                    f"({ha.connection_timeout_ms} ms)") from None
    return client


def _commit(client: KazooClient, guard: Optional[str], build: Callable[[Any], None]) -> None:
    """Run the operations ``build`` adds to a transaction, after checking the leader's latch node ``guard``.

    Raises:
        LeadershipLostError: the latch node is gone (the session that owned it ended).
        KazooException: another operation failed (its own error, e.g. NodeExistsError).
    """
    tx = client.transaction()
    if guard is not None:
        tx.check(guard, 0)
    build(tx)
    results = tx.commit()
    errors = [r for r in results if isinstance(r, Exception)]
    if not errors:
        return
    if guard is not None and isinstance(results[0], NoNodeError):
        raise LeadershipLostError(f"leadership lost: the leader latch node {guard} no longer exists")
    first = next((e for e in errors if type(e).__name__ != "RolledBackError"), errors[0])
    raise first


def _set_data(path: str, data: bytes, version: int) -> Callable[[Any], None]:
    """A transaction step: set ``data`` if the node still has ``version`` (compare-and-set)."""
    return lambda tx: tx.set_data(path, data, version)


class ZooKeeperLeaderElection(LeaderElection):
    """A leader latch: each contender creates an ephemeral sequential node; the lowest leads and gets a fresh
    session id (the fencing token); the others watch their predecessor."""

    def __init__(self, services: ZooKeeperHaServices) -> None:
        self._services = services
        self._client = services.client
        self._paths = services.paths
        self._tolerate_suspended = services.ha.tolerate_suspended
        self.contender_id = uuid.uuid4().hex
        self._contender: Optional[LeaderContender] = None
        self._stopped = threading.Event()
        self._lost = threading.Event()
        self._lock = threading.Lock()
        self.session_id: Optional[str] = None
        self.node: Optional[str] = None  # our latch node while we lead
        self._stale: list[str] = []  # our latch nodes we could not delete yet
        self._thread: Optional[threading.Thread] = None

    def start(self, contender: LeaderContender) -> None:
        self._contender = contender
        self._client.add_listener(self._on_state)
        self._thread = threading.Thread(target=self._run, name="zk-leader-election", daemon=True)
        self._thread.start()

    def _on_state(self, state: str) -> None:  # kazoo's thread: must not block
        if state == KazooState.LOST or (state == KazooState.SUSPENDED and not self._tolerate_suspended):
            self._lost.set()

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self._contend_once()
            except (KazooException, KazooTimeoutError) as exc:
                log.warning("leader election: %s: %s; contending again", type(exc).__name__, exc)
                self._stopped.wait(POLL_S)

    def _contend_once(self) -> None:
        while not self._client.connected and not self._stopped.is_set():
            self._stopped.wait(POLL_S)
        if self._stopped.is_set():
            return
        self._lost.clear()
        for stale in list(self._stale):
            try:
                self._client.delete(stale)
            except NoNodeError:
                pass
            self._stale.remove(stale)
        self._client.ensure_path(self._paths.latch)
        node = self._client.create(f"{self._paths.latch}/latch-", self.contender_id.encode(), ephemeral=True,
                                   sequence=True)
        name = node.rsplit("/", 1)[1]
        leading = False
        try:
            while not self._stopped.is_set() and not self._lost.is_set():
                children = sorted(self._client.get_children(self._paths.latch))
                if name not in children:
                    return  # our session ended: contend again with a new node
                index = children.index(name)
                if index == 0:
                    leading = True
                    break
                changed = threading.Event()
                if self._client.exists(f"{self._paths.latch}/{children[index - 1]}",
                                       watch=lambda _event, ev=changed: ev.set()) is not None:
                    changed.wait(POLL_S * 5)
            if not leading or self._stopped.is_set() or self._lost.is_set():
                return
            session_id = uuid.uuid4().hex
            with self._lock:
                self.session_id, self.node = session_id, node
            log.info("Granted leadership (session %s, latch node %s)", session_id, node)
            assert self._contender is not None
            self._contender.grant_leadership(session_id)
            while not self._stopped.is_set() and not self._lost.is_set():
                self._lost.wait(POLL_S)
        finally:
            with self._lock:
                was_leader, self.session_id, self.node = self.session_id is not None, None, None
            if was_leader:
                log.warning("Leadership revoked (%s)", "stopped" if self._stopped.is_set() else
                            "ZooKeeper connection suspended or session lost")
                assert self._contender is not None
                self._contender.revoke_leadership()
                self._delete_connection_info()
            try:
                self._client.delete(node)
            except NoNodeError:
                pass
            except (KazooException, KazooTimeoutError):
                self._stale.append(node)

    def _delete_connection_info(self) -> None:
        try:
            stat = self._client.exists(self._paths.connection_info)
            if stat is not None and stat.owner_session_id == self._client.client_id[0]:
                self._client.delete(self._paths.connection_info, version=stat.version)
        except (KazooException, KazooTimeoutError, TypeError):
            pass  # without a connection the ephemeral node goes with the session

    def guard(self) -> str:
        """Our latch node while we lead. Raises LeadershipLostError otherwise."""
        with self._lock:
            if self.node is None:
                raise LeadershipLostError("this JobManager is not the leader")
            return self.node

    def confirm_leadership(self, info: LeaderInformation) -> None:
        try:
            self._confirm(info)
        except (KazooException, KazooTimeoutError) as exc:
            if not self.has_leadership(info.session_id):
                raise LeadershipLostError(f"leader session {info.session_id} ended: {type(exc).__name__}") from exc
            raise HighAvailabilityError(f"could not publish {info}: {type(exc).__name__}: {exc}") from exc

    def _confirm(self, info: LeaderInformation) -> None:
        path = self._paths.connection_info
        with self._lock:
            if info.session_id != self.session_id:
                raise LeadershipLostError(f"leader session {info.session_id} is not the current one")
        self._client.ensure_path(path.rsplit("/", 1)[0])
        deadline = time.monotonic() + self._services.ha.session_timeout_ms / 1000.0 + 10
        while True:
            with self._lock:
                if info.session_id != self.session_id or self.node is None:
                    raise LeadershipLostError(f"leader session {info.session_id} is not the current one")
                guard = self.node
            try:
                _commit(self._client, guard, lambda tx: tx.create(path, info.to_bytes(), ephemeral=True))
                log.info("Published leader information %s", info)
                return
            except NodeExistsError:
                stat = self._client.exists(path)
                if stat is not None and stat.owner_session_id == self._client.client_id[0]:
                    _commit(self._client, guard, _set_data(path, info.to_bytes(), stat.version))
                    return
            if time.monotonic() > deadline:  # the former leader's node outlived its session timeout
                raise HighAvailabilityError(f"{path} still belongs to another session; cannot publish {info}")
            time.sleep(POLL_S)  # the former leader's ephemeral node goes with its session

    def has_leadership(self, session_id: str) -> bool:
        with self._lock:
            return self.session_id == session_id and not self._lost.is_set()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(10)
        self._client.remove_listener(self._on_state)


class ZooKeeperLeaderRetrieval(LeaderRetrieval):
    """Watches ``leader/connection_info``."""

    def __init__(self, client: KazooClient, paths: ZooKeeperPaths) -> None:
        self._client = client
        self._path = paths.connection_info
        self._info: Optional[LeaderInformation] = None
        self._listener: Optional[Callable[[Optional[LeaderInformation]], None]] = None
        self._started = False
        self._stopped = False

    def start(self, listener: Optional[Callable[[Optional[LeaderInformation]], None]] = None) -> None:
        self._listener = listener
        if self._started:
            return
        self._started = True

        def on_change(data: Optional[bytes], _stat: Any) -> bool:
            if self._stopped:
                return False  # ends the watch
            try:
                info = LeaderInformation.from_bytes(data)
            except ValueError as exc:
                log.error("%s holds no leader information: %s", self._path, exc)
                info = None
            if info != self._info:
                self._info = info
                if self._listener is not None:
                    self._listener(info)
            return True

        self._client.DataWatch(self._path, on_change)

    def current(self) -> Optional[LeaderInformation]:
        if not self._started:
            self.start()
        return self._info

    def stop(self) -> None:
        self._stopped = True
        self._listener = None


class ZooKeeperJobGraphStore(JobGraphStore):
    def __init__(self, services: ZooKeeperHaServices) -> None:
        self._s = services

    def put(self, job_graph: JobGraph) -> None:
        self._s.guard()
        blob = join(self._s.blob_dir, f"submittedJobGraph-{job_graph.job_id}-{uuid.uuid4().hex[:8]}")
        fs = get_file_system(blob)
        fs.mkdirs(self._s.blob_dir)
        fs.write_atomic(blob, pickle.dumps(job_graph, protocol=5))
        path = self._s.paths.job_graph(job_graph.job_id)
        self._s.client.ensure_path(self._s.paths.job_graphs)
        try:
            _commit(self._s.client, self._s.guard(), lambda tx: tx.create(path, blob.encode()))
        except NodeExistsError:
            old, stat = self._s.client.get(path)
            _commit(self._s.client, self._s.guard(), lambda tx: tx.set_data(path, blob.encode(), stat.version))
            self._delete_blob(old.decode())
        except BaseException:
            self._delete_blob(blob)
            raise

    def get(self, job_id: str) -> JobGraph:
        try:
            data, _ = self._s.client.get(self._s.paths.job_graph(job_id))
        except NoNodeError:
            raise KeyError(job_id) from None
        blob = data.decode()
        try:
            graph = pickle.loads(get_file_system(blob).read(blob))
        except Exception as exc:  # noqa: BLE001 - any unreadable blob is the same failure to the caller
            raise HighAvailabilityError(f"The job graph of job {job_id} at {blob} cannot be read: "
                                        f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(graph, JobGraph):
            raise HighAvailabilityError(f"{blob} holds a {type(graph).__name__}, not a JobGraph")
        return graph

    def job_ids(self) -> list[str]:
        try:
            return sorted(self._s.client.get_children(self._s.paths.job_graphs))
        except NoNodeError:
            return []

    def remove(self, job_id: str) -> None:
        path = self._s.paths.job_graph(job_id)
        try:
            data, _ = self._s.client.get(path)
            self._s.client.delete(path)
        except NoNodeError:
            return
        self._delete_blob(data.decode())

    @staticmethod
    def _delete_blob(blob: str) -> None:
        try:
            get_file_system(blob).delete(blob)
        except Exception as exc:  # noqa: BLE001 - a leftover blob is logged, not fatal
            log.warning("could not delete HA blob %s: %s", blob, exc)


class ZooKeeperCheckpointIDCounter(CheckpointIDCounter):
    def __init__(self, services: ZooKeeperHaServices, job_id: str) -> None:
        self._s = services
        self._path = services.paths.checkpoint_id_counter(job_id)

    def get(self) -> int:
        try:
            data, _ = self._s.client.get(self._path)
        except NoNodeError:
            return 1
        return int(data.decode())

    def advance_to(self, next_id: int) -> None:
        self._s.guard()
        try:
            self._advance_to(next_id)
        except (KazooException, KazooTimeoutError):
            self._s.guard()  # raises LeadershipLostError when the session ended meanwhile
            raise

    def _advance_to(self, next_id: int) -> None:
        client = self._s.client
        while True:
            try:
                data, stat = client.get(self._path)
            except NoNodeError:
                client.ensure_path(self._path.rsplit("/", 1)[0])
                try:
                    _commit(client, self._s.guard(), lambda tx: tx.create(self._path, str(next_id).encode()))
                    return
                except NodeExistsError:
                    continue
            if int(data.decode()) >= next_id:
                return
            try:
                _commit(client, self._s.guard(), _set_data(self._path, str(next_id).encode(), stat.version))
                return
            except BadVersionError:
                continue  # someone else moved it: read again

    def remove(self) -> None:
        try:
            self._s.client.delete(self._path)
        except NoNodeError:
            pass


class ZooKeeperCheckpointPointerStore(CheckpointPointerStore):
    def __init__(self, services: ZooKeeperHaServices, job_id: str) -> None:
        self._s = services
        self._job_id = job_id

    def add(self, checkpoint_id: int, pointer: str) -> None:
        guard = self._s.guard()  # fenced before anything touches ZooKeeper
        path = self._s.paths.checkpoint(self._job_id, checkpoint_id)
        try:
            self._s.client.ensure_path(self._s.paths.checkpoints(self._job_id))
            _commit(self._s.client, guard, lambda tx: tx.create(path, pointer.encode()))
        except (KazooException, KazooTimeoutError):
            self._s.guard()  # raises LeadershipLostError when the session ended meanwhile
            raise

    def remove(self, checkpoint_id: int) -> None:
        try:
            self._s.client.delete(self._s.paths.checkpoint(self._job_id, checkpoint_id))
        except NoNodeError:
            pass

    def pointers(self) -> list[tuple[int, str]]:
        parent = self._s.paths.checkpoints(self._job_id)
        try:
            names = self._s.client.get_children(parent)
        except NoNodeError:
            return []
        out = []
        for name in sorted(names):
            try:
                data, _ = self._s.client.get(f"{parent}/{name}")
            except NoNodeError:
                continue
            out.append((int(name), data.decode()))
        return out

    def remove_all(self) -> None:
        try:
            self._s.client.delete(self._s.paths.checkpoints(self._job_id), recursive=True)
        except NoNodeError:
            pass


class ZooKeeperHaServices(HighAvailabilityServices):
    """One kazoo client per process, shared by the election, retrieval and stores.

    Raises:
        HighAvailabilityError: ZooKeeper unreachable within the connection timeout.
    """

    highly_available = True

    def __init__(self, ha: HaConfiguration, client: Optional[KazooClient] = None) -> None:
        self.ha = ha
        self.paths = ZooKeeperPaths(ha.root, ha.cluster_id)
        assert ha.storage_dir is not None  # HaConfiguration validated it
        self.blob_dir = join(normalize(ha.storage_dir), ha.cluster_id.strip("/") or "default")
        self.client = client or connect(ha)
        self._election: Optional[ZooKeeperLeaderElection] = None
        self._retrieval: Optional[ZooKeeperLeaderRetrieval] = None

    def leader_election(self) -> LeaderElection:
        if self._election is None:
            self._election = ZooKeeperLeaderElection(self)
        return self._election

    def guard(self) -> Optional[str]:
        """The latch node writes are fenced by; None when this process never contends (tools, tests).

        Raises:
            LeadershipLostError: this process contends but does not lead.
        """
        return self._election.guard() if self._election is not None else None

    def leader_retrieval(self) -> LeaderRetrieval:
        if self._retrieval is None:
            self._retrieval = ZooKeeperLeaderRetrieval(self.client, self.paths)
        return self._retrieval

    def job_graph_store(self) -> JobGraphStore:
        return ZooKeeperJobGraphStore(self)

    def checkpoint_id_counter(self, job_id: str) -> CheckpointIDCounter:
        return ZooKeeperCheckpointIDCounter(self, job_id)

    def checkpoint_pointer_store(self, job_id: str) -> CheckpointPointerStore:
        return ZooKeeperCheckpointPointerStore(self, job_id)

    def expire_session_for_tests(self) -> None:
        """Expire this client's ZooKeeper session from outside (as kazoo's test harness does)."""
        session_id, password = self.client.client_id
        other = KazooClient(hosts=self.ha.quorum, client_id=(session_id, password), timeout=5)
        other.start(timeout=15)
        other.stop()
        other.close()

    def close(self) -> None:
        if self._election is not None:
            self._election.stop()
        if self._retrieval is not None:
            self._retrieval.stop()
        try:
            self.client.stop()
            self.client.close()
        except KazooException:
            pass
