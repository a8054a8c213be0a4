"""ZooKeeper HA services (``high-availability.type: zookeeper``) — the one module that imports kazoo.

Layout under ``<high-availability.zookeeper.path.root>/<high-availability.cluster-id>`` (Flink "ZooKeeper HA
Services"; :class:`~yflink.runtime.highavailability.api.ZooKeeperPaths`)::

    leader/latch/latch-<seq>          ephemeral sequential: the contenders; the lowest leads (a leader latch)
    leader/connection_info            ephemeral: the leader's LeaderInformation (JSON: session id, RPC, REST)
    jobgraphs/<job id>                pointer to <storageDir>/<cluster-id>/submittedJobGraph-<job id>-<rand>
    checkpoints/<job id>/<id:019d>    pointer to the completed checkpoint's directory (its _metadata)
    checkpoint_id_counter/<job id>    the next checkpoint id (decimal), changed by compare-and-set

The JobResultStore is Flink's file-system one, under ``job-result-store.storage-path`` (default
``<storageDir>/job-result-store/<cluster-id>``; :mod:`.job_result_store`).

Fencing: every write of the leader is a ZooKeeper transaction that first checks that the leader's latch node
still exists (version 0), as Flink's ``ZooKeeperStateHandleStore`` does with its leader-latch check. A leader
whose session expired has lost that node, so its writes fail with :class:`LeadershipLostError`.

Leadership is revoked when the session is LOST, and, unless
``high-availability.zookeeper.client.tolerate-suspended-connections`` is true, when the connection stays
SUSPENDED for more than half the session timeout. Flink revokes at the first SUSPENDED, which restarts every job
when one ZooKeeper server of a healthy ensemble goes away (the client reconnects to another within milliseconds);
the grace period avoids that without allowing two leaders (the session cannot expire before it ends).
"""

from __future__ import annotations

import logging
import os
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
    JobResultStore,
    LeaderContender,
    LeaderElection,
    LeaderInformation,
    LeaderRetrieval,
    LeadershipLostError,
    ZooKeeperPaths,
)
from yflink.runtime.highavailability.job_result_store import FileSystemJobResultStore

__all__ = ["ZooKeeperHaServices", "connect"]

log = logging.getLogger(__name__)
POLL_S = 0.2  # how often the election thread looks at stop/lost flags while it waits


def command_retry(ha: HaConfiguration) -> KazooRetry:
    """Flink's (Curator's) ExponentialBackoffRetry: ``max-retry-attempts`` retries, the first after
    ``retry-wait``, doubling."""
    return KazooRetry(max_tries=ha.max_retry_attempts, delay=ha.retry_wait_ms / 1000.0, backoff=2,
                      max_delay=ha.retry_wait_ms / 1000.0 * 2 ** max(ha.max_retry_attempts, 0))


def connect(ha: HaConfiguration) -> KazooClient:
    """A started kazoo client for ``ha`` (session timeout, retries and ACL from its options).

    Raises:
        HighAvailabilityError: no connection within ``connection-timeout``.
    """
    retry_wait_s = ha.retry_wait_ms / 1000.0
    sasl: dict[str, str] = {}
    if ha.sasl_service is not None:
        sasl = {"mechanism": "GSSAPI", "service": ha.sasl_service}
        if ha.keytab:  # MIT Kerberos initiates from this client keytab when the cache has no ticket
            os.environ.setdefault("KRB5_CLIENT_KTNAME", ha.keytab)
    client = KazooClient(
        sasl_options=sasl or None,
        hosts=ha.quorum, timeout=ha.session_timeout_ms / 1000.0,
        connection_retry=KazooRetry(max_tries=-1, delay=0.1, backoff=2, max_delay=retry_wait_s),
        command_retry=command_retry(ha),
        default_acl=CREATOR_ALL_ACL if ha.acl == "creator" else OPEN_ACL_UNSAFE)
    try:
        client.start(timeout=ha.connection_timeout_ms / 1000.0)
    except KazooException as exc:  # e.g. AuthFailedError: SASL refused
        client.close()
        raise HighAvailabilityError(f"Could not connect to ZooKeeper at {ha.quorum}"
                                    f"{' with SASL (' + ha.sasl_service + ')' if ha.sasl_service else ''}: "
                                    f"{type(exc).__name__}: {exc}") from None
    except KazooTimeoutError:
        client.close()
        raise HighAvailabilityError(f"Could not connect to ZooKeeper at {ha.quorum} within "
                                    f"high-availability.zookeeper.client.connection-timeout "
                                    f"({ha.connection_timeout_ms} ms)") from None
    return client


class BoundedClient:
    """kazoo calls with the command retry policy (``max-retry-attempts`` after ``retry-wait``, doubling) and a
    timeout per attempt (``connection-timeout``): a plain synchronous kazoo call waits forever when its request
    is lost with a broken connection, which would stall a JobMaster's checkpoint I/O."""

    def __init__(self, client: KazooClient, retry: KazooRetry, timeout_s: float) -> None:
        self.client = client
        self._retry = retry
        self._timeout_s = timeout_s

    def _run(self, name: str, *args: Any, **kwargs: Any) -> Any:
        def once() -> Any:
            return getattr(self.client, f"{name}_async")(*args, **kwargs).get(timeout=self._timeout_s)

        return self._retry.copy()(once)

    def get(self, path: str) -> tuple[bytes, Any]:
        return self._run("get", path)  # type: ignore[no-any-return]

    def get_children(self, path: str) -> list[str]:
        return self._run("get_children", path)  # type: ignore[no-any-return]

    def exists(self, path: str, watch: Optional[Callable[[Any], None]] = None) -> Any:
        return self._run("exists", path, watch=watch)

    def delete(self, path: str, version: int = -1) -> None:
        self._run("delete", path, version)

    def delete_recursive(self, path: str) -> None:
        self._retry.copy()(self.client.delete, path, recursive=True)

    def create(self, path: str, value: bytes = b"", ephemeral: bool = False, sequence: bool = False) -> str:
        """Not retried: a retried sequential create could leave a second node behind."""
        return self.client.create_async(path, value, ephemeral=ephemeral, sequence=sequence).get(  # type: ignore[no-any-return]
            timeout=self._timeout_s)

    def ensure_path(self, path: str) -> None:
        self._run("ensure_path", path)

    def commit(self, guard: Optional[str], build: Callable[[Any], None]) -> None:
        """Run the operations ``build`` adds to a transaction, after checking the leader's latch node ``guard``.

        Raises:
            LeadershipLostError: the latch node is gone (the session that owned it ended).
            KazooException: another operation failed (its own error, e.g. NodeExistsError).
        """

        def once() -> list[Any]:
            tx = self.client.transaction()
            if guard is not None:
                tx.check(guard, 0)
            build(tx)
            return tx.commit_async().get(timeout=self._timeout_s)  # type: ignore[no-any-return]

        results = self._retry.copy()(once)
        errors = [r for r in results if isinstance(r, Exception)]
        if not errors:
            return
        if guard is not None and isinstance(results[0], NoNodeError):
            raise LeadershipLostError(f"leadership lost: the leader latch node {guard} no longer exists")
        raise next((e for e in errors if type(e).__name__ != "RolledBackError"), errors[0])


def _set_data(path: str, data: bytes, version: int) -> Callable[[Any], None]:
    """A transaction step: set ``data`` if the node still has ``version`` (compare-and-set)."""
    return lambda tx: tx.set_data(path, data, version)


def _setter(event: threading.Event) -> Callable[[Any], None]:
    """A watch callback that sets ``event``."""
    return lambda _watched: event.set()


class ZooKeeperLeaderElection(LeaderElection):
    """A leader latch: each contender creates an ephemeral sequential node; the lowest leads and gets a fresh
    session id (the fencing token); the others watch their predecessor."""

    def __init__(self, services: ZooKeeperHaServices) -> None:
        self._services = services
        self._client = services.client
        self._zk = services.zk
        self._paths = services.paths
        self._tolerate_suspended = services.ha.tolerate_suspended
        #: How long a suspended connection may last before leadership is given up (tolerate-suspended-connections
        #: false): half the session timeout, so a leader steps down before its session can expire.
        self._suspension_grace_s = services.ha.session_timeout_ms / 2000.0
        self._suspension_timer: Optional[threading.Timer] = None
        self.contender_id = uuid.uuid4().hex
        self._contender: Optional[LeaderContender] = None
        self._stopped = threading.Event()
        self._lost = threading.Event()
        self._lock = threading.Lock()
        self.session_id: Optional[str] = None
        self.node: Optional[str] = None  # our latch node while we lead
        self._thread: Optional[threading.Thread] = None

    def start(self, contender: LeaderContender) -> None:
        self._contender = contender
        self._client.add_listener(self._on_state)
        self._thread = threading.Thread(target=self._run, name="zk-leader-election", daemon=True)
        self._thread.start()

    def _on_state(self, state: str) -> None:  # kazoo's thread: must not block
        if state == KazooState.LOST:
            self._lost.set()
        elif state == KazooState.SUSPENDED and not self._tolerate_suspended:
            # A suspension is usually one server going away; the client moves to another within the session.
            # Only one that lasts beyond the grace period costs leadership (well before the session can expire
            # and another contender be granted leadership).
            self._cancel_suspension_timer()
            timer = threading.Timer(self._suspension_grace_s, self._suspended_too_long)
            timer.daemon = True
            self._suspension_timer = timer
            timer.start()
        elif state == KazooState.CONNECTED:
            self._cancel_suspension_timer()

    def _cancel_suspension_timer(self) -> None:
        timer, self._suspension_timer = self._suspension_timer, None
        if timer is not None:
            timer.cancel()

    def _suspended_too_long(self) -> None:
        if not self._client.connected:
            log.warning("ZooKeeper connection suspended for more than %.1f s: giving up leadership",
                        self._suspension_grace_s)
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
        self._zk.ensure_path(self._paths.latch)
        self._delete_own_nodes()  # left by a create whose answer was lost, or a delete that failed
        node = self._zk.create(f"{self._paths.latch}/latch-", self.contender_id.encode(), ephemeral=True,
                               sequence=True)
        name = node.rsplit("/", 1)[1]
        leading = False
        try:
            while not self._stopped.is_set() and not self._lost.is_set():
                children = sorted(self._zk.get_children(self._paths.latch))
                if name not in children:
                    return  # our session ended: contend again with a new node
                index = children.index(name)
                if index == 0:
                    leading = True
                    break
                changed = threading.Event()
                if self._zk.exists(f"{self._paths.latch}/{children[index - 1]}", watch=_setter(changed)) is not None:
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
                self._zk.delete(node)
            except (KazooException, KazooTimeoutError):
                pass  # gone with the session, or deleted by the next round's _delete_own_nodes

    def _delete_own_nodes(self) -> None:
        for name in self._zk.get_children(self._paths.latch):
            path = f"{self._paths.latch}/{name}"
            try:
                if self._zk.get(path)[0] == self.contender_id.encode():
                    self._zk.delete(path)
            except NoNodeError:
                pass

    def _delete_connection_info(self) -> None:
        try:
            stat = self._zk.exists(self._paths.connection_info)
            if stat is not None and stat.owner_session_id == self._client.client_id[0]:
                self._zk.delete(self._paths.connection_info, version=stat.version)
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
        self._zk.ensure_path(path.rsplit("/", 1)[0])
        deadline = time.monotonic() + self._services.ha.session_timeout_ms / 1000.0 + 10
        while True:
            with self._lock:
                if info.session_id != self.session_id or self.node is None:
                    raise LeadershipLostError(f"leader session {info.session_id} is not the current one")
                guard = self.node
            try:
                self._zk.commit(guard, lambda tx: tx.create(path, info.to_bytes(), ephemeral=True))
                log.info("Published leader information %s", info)
                return
            except NodeExistsError:
                stat = self._zk.exists(path)
                if stat is not None and stat.owner_session_id == self._client.client_id[0]:
                    self._zk.commit(guard, _set_data(path, info.to_bytes(), stat.version))
                    return
            if time.monotonic() > deadline:  # the former leader's node outlived its session timeout
                raise HighAvailabilityError(f"{path} still belongs to another session; cannot publish {info}")
            time.sleep(POLL_S)  # the former leader's ephemeral node goes with its session

    def has_leadership(self, session_id: str) -> bool:
        with self._lock:
            return self.session_id == session_id and not self._lost.is_set()

    def stop(self) -> None:
        self._stopped.set()
        self._cancel_suspension_timer()
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
        try:
            self._s.zk.ensure_path(self._s.paths.job_graphs)
            self._s.zk.commit(self._s.guard(), lambda tx: tx.create(path, blob.encode()))
        except NodeExistsError:
            old, stat = self._s.zk.get(path)
            if old.decode() != blob:  # not our own create, retried after a lost answer
                self._s.zk.commit(self._s.guard(), _set_data(path, blob.encode(), stat.version))
                self._delete_blob(old.decode())
        except BaseException:
            self._delete_blob(blob)
            raise

    def get(self, job_id: str) -> JobGraph:
        try:
            data, _ = self._s.zk.get(self._s.paths.job_graph(job_id))
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
            return sorted(self._s.zk.get_children(self._s.paths.job_graphs))
        except NoNodeError:
            return []

    def remove(self, job_id: str) -> None:
        path = self._s.paths.job_graph(job_id)
        try:
            data, _ = self._s.zk.get(path)
            self._s.zk.delete(path)
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
            data, _ = self._s.zk.get(self._path)
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
        zk = self._s.zk
        while True:
            try:
                data, stat = zk.get(self._path)
            except NoNodeError:
                zk.ensure_path(self._path.rsplit("/", 1)[0])
                try:
                    zk.commit(self._s.guard(), lambda tx: tx.create(self._path, str(next_id).encode()))
                    return
                except NodeExistsError:
                    continue
            if int(data.decode()) >= next_id:
                return
            try:
                zk.commit(self._s.guard(), _set_data(self._path, str(next_id).encode(), stat.version))
                return
            except BadVersionError:
                continue  # someone else moved it: read again

    def remove(self) -> None:
        try:
            self._s.zk.delete(self._path)
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
            self._s.zk.ensure_path(self._s.paths.checkpoints(self._job_id))
            self._s.zk.commit(guard, lambda tx: tx.create(path, pointer.encode()))
        except NodeExistsError:
            if self._s.zk.get(path)[0] != pointer.encode():  # else: our own create, retried after a lost answer
                raise
        except (KazooException, KazooTimeoutError):
            self._s.guard()  # raises LeadershipLostError when the session ended meanwhile
            raise

    def remove(self, checkpoint_id: int) -> None:
        try:
            self._s.zk.delete(self._s.paths.checkpoint(self._job_id, checkpoint_id))
        except NoNodeError:
            pass

    def pointers(self) -> list[tuple[int, str]]:
        parent = self._s.paths.checkpoints(self._job_id)
        try:
            names = self._s.zk.get_children(parent)
        except NoNodeError:
            return []
        out = []
        for name in sorted(names):
            try:
                data, _ = self._s.zk.get(f"{parent}/{name}")
            except NoNodeError:
                continue
            out.append((int(name), data.decode()))
        return out

    def remove_all(self) -> None:
        try:
            self._s.zk.delete_recursive(self._s.paths.checkpoints(self._job_id))
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
        cluster = ha.cluster_id.strip("/") or "default"
        self.blob_dir = join(normalize(ha.storage_dir), cluster)
        self.job_result_store_path = normalize(ha.job_result_store_path or join(
            normalize(ha.storage_dir), "job-result-store", cluster))
        self._job_results = FileSystemJobResultStore(self.job_result_store_path, ha.job_result_delete_on_commit)
        self.client = client or connect(ha)
        self.zk = BoundedClient(self.client, command_retry(ha), ha.connection_timeout_ms / 1000.0)
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

    def job_result_store(self) -> JobResultStore:
        return self._job_results

    def cleanup_all_data(self) -> None:
        """Remove this cluster's znodes (``<path.root>/<cluster-id>``), job graph blobs and job results."""
        try:
            self.zk.delete_recursive(self.paths.base)
        except NoNodeError:
            pass
        get_file_system(self.blob_dir).delete(self.blob_dir, recursive=True)
        self._job_results.remove_all()

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
