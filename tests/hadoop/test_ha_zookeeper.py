"""The ZooKeeper HA services on the real 3-server ensemble (each test in its own chroot): leader election and
retrieval, failover when the leader's session expires, fencing of a former leader's writes, the checkpoint id
counter across a ZooKeeper leader change, and the job graph store with its blobs on HDFS."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tests.hadoop import devstack
from tests.hadoop.devstack import run, wait_for
from yflink.common.configuration import Configuration
from yflink.graph.job_graph import JobGraph
from yflink.runtime.highavailability import LeaderInformation, LeadershipLostError, create_ha_services
from yflink.runtime.highavailability.zookeeper import ZooKeeperHaServices

pytestmark = pytest.mark.zookeeper
JOB = "b" * 32


class Contender:
    """Records grants and revocations (called from the election's thread)."""

    def __init__(self) -> None:
        self.sessions: list[str] = []
        self.granted = threading.Event()
        self.revoked = threading.Event()

    def grant_leadership(self, session_id: str) -> None:
        self.sessions.append(session_id)
        self.revoked.clear()
        self.granted.set()

    def revoke_leadership(self) -> None:
        self.granted.clear()
        self.revoked.set()


def ha_config(quorum: str, storage_dir: str = "file:///tmp/yflink-ha-tests", **extra: str) -> Configuration:
    c = Configuration()
    c.set("high-availability.type", "zookeeper")
    c.set("high-availability.zookeeper.quorum", quorum)
    c.set("high-availability.storageDir", storage_dir)
    c.set("high-availability.zookeeper.client.session-timeout", "6 s")
    for k, v in extra.items():
        c.set(k, v)
    return c


@pytest.fixture
def services(zk_chroot: str) -> Iterator[list[ZooKeeperHaServices]]:
    made: list[ZooKeeperHaServices] = []
    yield made
    for s in made:
        s.close()


def make(made: list[ZooKeeperHaServices], config: Configuration) -> ZooKeeperHaServices:
    s = create_ha_services(config)
    assert isinstance(s, ZooKeeperHaServices)
    made.append(s)
    return s


def test_one_leader_publishes_and_a_standby_takes_over_when_its_session_expires(
        zk_chroot: str, services: list[ZooKeeperHaServices]) -> None:
    a, b, client = (make(services, ha_config(zk_chroot)) for _ in range(3))
    ca, cb = Contender(), Contender()
    ea, eb = a.leader_election(), b.leader_election()
    ea.start(ca)
    assert ca.granted.wait(20), "the first contender was not granted leadership"
    eb.start(cb)
    info_a = LeaderInformation(ca.sessions[0], "127.0.0.1:1", "127.0.0.1:2")
    ea.confirm_leadership(info_a)
    retrieval = client.leader_retrieval()
    seen: list[LeaderInformation | None] = []
    retrieval.start(seen.append)
    wait_for(lambda: retrieval.current() == info_a, 20, "retrieval sees A")
    assert not cb.granted.is_set()
    a.guard()  # A leads: its writes pass the fence

    a.expire_session_for_tests()
    assert ca.revoked.wait(30), "A kept leadership after its session expired"
    assert cb.granted.wait(30), "B was not granted leadership after A's session expired"
    with pytest.raises(LeadershipLostError):
        ea.confirm_leadership(info_a)  # A's old session id is fenced off
    with pytest.raises(LeadershipLostError):
        a.checkpoint_pointer_store(JOB).add(1, "file:///stale")
    info_b = LeaderInformation(cb.sessions[0], "127.0.0.1:3", "127.0.0.1:4")
    eb.confirm_leadership(info_b)
    wait_for(lambda: retrieval.current() == info_b, 20, "retrieval sees B")
    assert info_a in seen and seen[-1] == info_b
    assert b.checkpoint_pointer_store(JOB).pointers() == []  # A's write never landed
    # A contends again (a new session) and stands by
    wait_for(lambda: len(b.client.get_children(b.paths.latch)) == 2, 30, "A back as a standby")
    assert not ca.granted.is_set()


def test_stopping_the_leader_hands_over_and_removes_its_connection_info(
        zk_chroot: str, services: list[ZooKeeperHaServices]) -> None:
    a, b = make(services, ha_config(zk_chroot)), make(services, ha_config(zk_chroot))
    ca, cb = Contender(), Contender()
    a.leader_election().start(ca)
    assert ca.granted.wait(20)
    b.leader_election().start(cb)
    a.leader_election().confirm_leadership(LeaderInformation(ca.sessions[0], "h:1", "h:2"))
    a.leader_election().stop()
    assert ca.revoked.is_set()
    assert cb.granted.wait(20), "B did not take over from a stopped leader"
    assert b.client.exists(b.paths.connection_info) is None  # A's information is gone, B publishes its own


def test_checkpoint_id_counter_and_pointer_store_survive_a_zookeeper_leader_change(
        zk_chroot: str, services: list[ZooKeeperHaServices]) -> None:
    s = make(services, ha_config(zk_chroot))
    contender = Contender()
    s.leader_election().start(contender)
    assert contender.granted.wait(20)
    counter, pointers = s.checkpoint_id_counter(JOB), s.checkpoint_pointer_store(JOB)
    assert counter.get() == 1
    counter.advance_to(4)
    pointers.add(3, "hdfs:///cp/chk-3")
    modes = devstack.zk_server_modes()
    zk_leader = next(n for n, m in modes.items() if m == "leader")
    run([devstack.ZK_DIR / "ensemble.sh", "stop-server", str(zk_leader)], timeout=60)
    try:
        wait_for(lambda: "leader" in devstack.zk_server_modes().values(), 60, "a new ZooKeeper leader")
        # the client reconnects within its session: leadership may be suspended and regained, the data stays
        wait_for(contender.granted.is_set, 30, "leadership after the ZooKeeper leader change")
        wait_for(lambda: _try(lambda: counter.advance_to(6)), 30, "the counter to accept a write")
        assert counter.get() == 6
        counter.advance_to(5)  # never backwards
        assert counter.get() == 6
        wait_for(lambda: _try(lambda: pointers.add(5, "hdfs:///cp/chk-5")), 30, "a pointer write")
        assert pointers.pointers() == [(3, "hdfs:///cp/chk-3"), (5, "hdfs:///cp/chk-5")]
    finally:
        run([devstack.ZK_DIR / "ensemble.sh", "start-server", str(zk_leader)], timeout=120)
    s.cleanup_job(JOB)
    assert pointers.pointers() == [] and counter.get() == 1


def _try(action: object) -> bool:
    try:
        action()  # type: ignore[operator]
        return True
    except LeadershipLostError:
        return False


@pytest.mark.hdfs
def test_job_graph_store_keeps_the_graph_on_hdfs_and_a_pointer_in_zookeeper(
        zk_chroot: str, hdfs_dir: str, hadoop: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        services: list[ZooKeeperHaServices]) -> None:
    from yflink.fs import base as fs_base

    monkeypatch.setenv("HADOOP_CONF_DIR", hadoop["HADOOP_CONF_DIR"])
    fs_base._INSTANCES.pop("hdfs", None)  # a fresh client that reads this HADOOP_CONF_DIR
    s = make(services, ha_config(zk_chroot, f"hdfs://{hdfs_dir}/ha"))
    contender = Contender()
    s.leader_election().start(contender)
    assert contender.granted.wait(20)
    graph = JobGraph(job_id=JOB, job_name="stored job", vertices=[], config={"k": "v"})
    store = s.job_graph_store()
    store.put(graph)
    assert store.job_ids() == [JOB]
    pointer = s.client.get(s.paths.job_graph(JOB))[0].decode()
    assert pointer.startswith(f"hdfs://{hdfs_dir}/ha/default/submittedJobGraph-{JOB}-")
    other = make(services, ha_config(zk_chroot, f"hdfs://{hdfs_dir}/ha"))  # another JobManager reads it back
    got = other.job_graph_store().get(JOB)
    assert (got.job_id, got.job_name, got.config) == (JOB, "stored job", {"k": "v"})
    store.remove(JOB)
    assert store.job_ids() == []
    with pytest.raises(KeyError):
        store.get(JOB)
    assert not fs_base.get_file_system(pointer).exists(pointer)


@pytest.mark.kerberos
def test_sasl_with_a_keytab_and_creator_acl_on_the_secure_ensemble(secure_zookeeper: dict[str, str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """``security.kerberos.login.contexts: Client`` + a keytab (no kinit: the ticket cache is empty): the HA
    services authenticate with SASL GSSAPI, lead, and their znodes carry the creator-only ACL."""
    import uuid

    # The services set KRB5_CLIENT_KTNAME for the process; undo it after the test (setenv records "absent", so the
    # teardown removes it), else later tests' subprocesses authenticate from the keytab without a ticket.
    monkeypatch.setenv("KRB5_CLIENT_KTNAME", "unset-by-teardown")
    monkeypatch.delenv("KRB5_CLIENT_KTNAME")
    root = f"/yflink-tests/ha-sasl-{uuid.uuid4().hex[:8]}"
    config = ha_config(devstack.zk_connect_string(), **{
        "high-availability.zookeeper.path.root": root, "high-availability.zookeeper.client.acl": "creator",
        "security.kerberos.login.contexts": "Client", "security.kerberos.login.keytab": str(devstack.TEST_KEYTAB)})
    s = create_ha_services(config)
    assert isinstance(s, ZooKeeperHaServices)
    try:
        contender = Contender()
        s.leader_election().start(contender)
        assert contender.granted.wait(30), "no leadership over SASL"
        s.checkpoint_pointer_store(JOB).add(1, "hdfs:///cp/chk-1")
        acls, _ = s.client.get_acls(s.paths.checkpoint(JOB, 1))
        assert [(a.id.scheme, a.perms) for a in acls] == [("sasl", 31)], acls  # creator only, all permissions
        assert acls[0].id.id.startswith(devstack.TEST_USER)
    finally:
        try:
            s.client.delete(root, recursive=True)
        finally:
            s.close()
