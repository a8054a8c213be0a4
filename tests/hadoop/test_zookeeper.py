"""The 3-server ZooKeeper ensemble: kazoo reads and writes, and a leader election that survives
losing one of three servers."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from kazoo.client import KazooClient

from tests.hadoop import devstack
from tests.hadoop.devstack import run, wait_for

pytestmark = pytest.mark.zookeeper


def client(hosts: str) -> KazooClient:
    zk = KazooClient(hosts=hosts, timeout=15)
    zk.start(timeout=30)
    return zk


@pytest.fixture
def clients(zk_chroot: str) -> Iterator[list[KazooClient]]:
    made: list[KazooClient] = []
    yield made
    for zk in made:
        zk.stop()
        zk.close()


def test_status_prints_connect_string_and_one_leader(zookeeper: str) -> None:
    out = run([devstack.ZK_DIR / "ensemble.sh", "status"]).stdout
    assert "127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183" in out
    modes = sorted(devstack.zk_server_modes().values())
    assert modes == ["follower", "follower", "leader"], out


def test_kazoo_writes_on_one_server_and_reads_on_another(zk_chroot: str, clients: list[KazooClient]) -> None:
    chroot = zk_chroot[zk_chroot.index("/") :]
    writer = client("127.0.0.1:2181" + chroot)
    reader = client("127.0.0.1:2183" + chroot)
    clients += [writer, reader]
    writer.create("/node", b"value-1", makepath=True)
    reader.sync("/node")
    assert reader.get("/node")[0] == b"value-1"


def test_leader_election_survives_stopping_the_zookeeper_leader(zk_chroot: str, clients: list[KazooClient]) -> None:
    a, b = client(zk_chroot), client(zk_chroot)
    clients += [a, b]
    leading: dict[str, threading.Event] = {"A": threading.Event(), "B": threading.Event()}
    resign: dict[str, threading.Event] = {"A": threading.Event(), "B": threading.Event()}

    def contend(zk: KazooClient, me: str) -> None:
        def lead() -> None:
            leading[me].set()
            resign[me].wait(120)

        zk.Election("/election", me).run(lead)

    ta = threading.Thread(target=contend, args=(a, "A"), daemon=True)
    ta.start()
    assert leading["A"].wait(30), "A never became leader"
    tb = threading.Thread(target=contend, args=(b, "B"), daemon=True)
    tb.start()
    wait_for(lambda: sorted(a.Election("/election").contenders()) == ["A", "B"], 30, "both contenders")
    assert not leading["B"].is_set()

    modes = devstack.zk_server_modes()
    zk_leader = next(n for n, m in modes.items() if m == "leader")
    run([devstack.ZK_DIR / "ensemble.sh", "stop-server", str(zk_leader)], timeout=60)
    try:
        # Two of three servers elect a new ZooKeeper leader; the sessions (and so A's leadership) survive.
        wait_for(lambda: "leader" in devstack.zk_server_modes().values(), 60, "a new ZooKeeper leader")
        a.create("/after-failover", b"still-writable")
        assert b.get("/after-failover")[0] == b"still-writable"
        assert leading["A"].is_set() and not leading["B"].is_set()
        # A resigns: B takes over while one server is still down.
        resign["A"].set()
        assert leading["B"].wait(30), "B did not take over leadership with 2 of 3 servers"
        assert a.Election("/election").contenders() == ["B"]
    finally:
        resign["A"].set()
        resign["B"].set()
        run([devstack.ZK_DIR / "ensemble.sh", "start-server", str(zk_leader)], timeout=120)
    ta.join(30)
    tb.join(30)
    assert sorted(devstack.zk_server_modes().values()) == ["follower", "follower", "leader"]
