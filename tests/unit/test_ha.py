"""The pure parts of the HA services: options, znode layout, leader information, the standalone services, and
the checkpoint storage wrapper that records checkpoints in the HA stores (with in-memory stores)."""

from __future__ import annotations

from pathlib import Path

import pytest

from yflink.checkpoint.metadata import CheckpointMetadata
from yflink.checkpoint.storage import CheckpointStorage
from yflink.common.configuration import Configuration
from yflink.common.errors import ConfigurationError
from yflink.runtime.highavailability import (
    HaConfiguration,
    HighAvailabilityError,
    LeaderInformation,
    LeadershipLostError,
    StandaloneHaServices,
    create_ha_services,
    retrieve_rest_address,
)
from yflink.runtime.highavailability.api import ZooKeeperPaths
from yflink.runtime.highavailability.checkpoints import HaCheckpointStorage, JobHighAvailability, checkpoint_id_of

JOB = "a" * 32


def conf(**values: str) -> Configuration:
    c = Configuration()
    for k, v in values.items():
        c.set(k.replace("_", "."), v)
    return c


def test_defaults_are_flinks() -> None:
    ha = HaConfiguration.from_configuration(Configuration())
    assert (ha.type, ha.root, ha.cluster_id, ha.session_timeout_ms, ha.connection_timeout_ms, ha.retry_wait_ms,
            ha.max_retry_attempts, ha.acl, ha.tolerate_suspended) == \
        ("NONE", "/flink", "/default", 60_000, 15_000, 5_000, 3, "open", False)
    assert not ha.enabled


def test_zookeeper_options_are_read_with_their_units() -> None:
    c = Configuration()
    c.set("high-availability.type", "zookeeper")
    c.set("high-availability.zookeeper.quorum", "h1:2181,h2:2181")
    c.set("high-availability.storageDir", "hdfs:///flink/ha")
    c.set("high-availability.cluster-id", "/c1")
    c.set("high-availability.zookeeper.client.session-timeout", "6 s")
    c.set("high-availability.zookeeper.client.acl", "creator")
    c.set("security.kerberos.login.contexts", "Client")
    ha = HaConfiguration.from_configuration(c)
    assert ha.enabled and ha.quorum == "h1:2181,h2:2181" and ha.session_timeout_ms == 6000 and ha.acl == "creator"


def test_deprecated_key_high_availability_is_accepted() -> None:
    c = Configuration()
    c.set("high-availability", "ZOOKEEPER")
    c.set("high-availability.zookeeper.quorum", "h:1")
    c.set("high-availability.storageDir", "file:///tmp/ha")
    assert HaConfiguration.from_configuration(c).enabled


@pytest.mark.parametrize("missing, named", [("high-availability.zookeeper.quorum", "quorum"),
                                            ("high-availability.storageDir", "storageDir")])
def test_zookeeper_without_quorum_or_storage_dir_names_the_key(missing: str, named: str) -> None:
    c = Configuration()
    c.set("high-availability.type", "zookeeper")
    for key, value in (("high-availability.zookeeper.quorum", "h:1"), ("high-availability.storageDir", "file:///x")):
        if key != missing:
            c.set(key, value)
    with pytest.raises(ConfigurationError, match=named):
        HaConfiguration.from_configuration(c)


def test_bad_type_and_bad_acl_are_named() -> None:
    c = Configuration()
    c.set("high-availability.type", "kubernetes")
    with pytest.raises(ConfigurationError, match="high-availability.type"):
        HaConfiguration.from_configuration(c)
    with pytest.raises(ConfigurationError, match="open or creator"):
        HaConfiguration.from_configuration(_zk_conf(**{"high-availability.zookeeper.client.acl": "world"}))


def test_znode_layout_under_root_and_cluster_id() -> None:
    paths = ZooKeeperPaths("/flink/", "/default")
    assert paths.latch == "/flink/default/leader/latch"
    assert paths.connection_info == "/flink/default/leader/connection_info"
    assert paths.job_graph(JOB) == f"/flink/default/jobgraphs/{JOB}"
    assert paths.checkpoint(JOB, 42) == f"/flink/default/checkpoints/{JOB}/{42:019d}"
    assert paths.checkpoint_id_counter(JOB) == f"/flink/default/checkpoint_id_counter/{JOB}"
    # zero padding keeps the lexical order of znode names equal to the order of ids
    assert sorted([paths.checkpoint(JOB, 10), paths.checkpoint(JOB, 9)])[0].endswith("9")


def test_leader_information_round_trip_and_bad_bytes() -> None:
    info = LeaderInformation("s1", "127.0.0.1:6123", "127.0.0.1:8081")
    assert LeaderInformation.from_bytes(info.to_bytes()) == info
    assert LeaderInformation.from_bytes(b"") is None
    with pytest.raises(ValueError, match="not leader information"):
        LeaderInformation.from_bytes(b'{"address": "x"}')


def test_standalone_election_grants_at_once_and_publishes_to_retrieval() -> None:
    services = create_ha_services(Configuration())
    assert isinstance(services, StandaloneHaServices) and not services.highly_available
    granted: list[str] = []
    revoked: list[bool] = []

    class Contender:
        def grant_leadership(self, session_id: str) -> None:
            granted.append(session_id)

        def revoke_leadership(self) -> None:
            revoked.append(True)

    election = services.leader_election()
    election.start(Contender())
    assert len(granted) == 1 and election.has_leadership(granted[0])
    with pytest.raises(LeadershipLostError):
        election.confirm_leadership(LeaderInformation("other", "a:1", "a:2"))
    election.confirm_leadership(LeaderInformation(granted[0], "a:1", "a:2"))
    assert services.leader_retrieval().current() == LeaderInformation(granted[0], "a:1", "a:2")
    election.stop()
    assert revoked == [True] and not election.has_leadership(granted[0])


def test_standalone_stores_and_cleanup() -> None:
    services = StandaloneHaServices()
    counter = services.checkpoint_id_counter(JOB)
    assert counter.get() == 1
    counter.advance_to(5)
    counter.advance_to(3)  # never backwards
    assert counter.get() == 5
    pointers = services.checkpoint_pointer_store(JOB)
    pointers.add(2, "file:///c/chk-2")
    pointers.add(1, "file:///c/chk-1")
    assert pointers.pointers() == [(1, "file:///c/chk-1"), (2, "file:///c/chk-2")]
    services.cleanup_job(JOB)
    assert services.checkpoint_pointer_store(JOB).pointers() == []
    assert services.checkpoint_id_counter(JOB).get() == 1


def test_retrieve_rest_address_is_none_without_ha() -> None:
    assert retrieve_rest_address(Configuration()) is None


def test_checkpoint_id_of_chk_directories_only() -> None:
    assert checkpoint_id_of("hdfs://nn/c/job/chk-17") == 17
    assert checkpoint_id_of("file:///c/job/chk-3/") == 3
    assert checkpoint_id_of("file:///s/savepoint-abc-123") is None


def _metadata(checkpoint_id: int) -> CheckpointMetadata:
    return CheckpointMetadata(checkpoint_id=checkpoint_id, job_id=JOB, timestamp=1000 + checkpoint_id)


def test_ha_storage_records_checkpoints_not_savepoints_and_removes_subsumed(tmp_path: Path) -> None:
    services = StandaloneHaServices()
    ha = JobHighAvailability(services.checkpoint_pointer_store(JOB), services.checkpoint_id_counter(JOB))
    storage = HaCheckpointStorage.wrap(CheckpointStorage(JOB, f"file://{tmp_path}/cp", f"file://{tmp_path}/sp"), ha)
    location = storage.checkpoint_location(7)
    storage.initialize_location(location)
    assert ha.counter.get() == 8  # advanced before any barrier goes out
    pointer = storage.write_metadata(location, _metadata(7))
    assert ha.pointers.pointers() == [(7, pointer)]
    savepoint = storage.savepoint_location(8)
    storage.initialize_location(savepoint)
    storage.write_metadata(savepoint, _metadata(8))
    assert ha.pointers.pointers() == [(7, pointer)] and ha.counter.get() == 8  # savepoints stay the user's
    storage.discard_location(pointer)
    assert ha.pointers.pointers() == []
    assert not Path(pointer.removeprefix("file://")).exists()


def test_ha_storage_fails_the_checkpoint_when_the_pointer_cannot_be_added(tmp_path: Path) -> None:
    services = StandaloneHaServices()

    class Fenced:
        def add(self, checkpoint_id: int, pointer: str) -> None:
            raise LeadershipLostError("this JobManager is not the leader")

        def remove(self, checkpoint_id: int) -> None: ...

    ha = JobHighAvailability(Fenced(), services.checkpoint_id_counter(JOB))  # type: ignore[arg-type]
    storage = HaCheckpointStorage.wrap(CheckpointStorage(JOB, f"file://{tmp_path}/cp"), ha)
    location = storage.checkpoint_location(1)
    storage.initialize_location(location)
    with pytest.raises(LeadershipLostError):
        storage.write_metadata(location, _metadata(1))

    class Broken(Fenced):
        def add(self, checkpoint_id: int, pointer: str) -> None:
            raise RuntimeError("connection loss")

    ha.pointers = Broken()  # type: ignore[assignment]
    with pytest.raises(HighAvailabilityError, match="connection loss"):
        storage.write_metadata(location, _metadata(1))


def _zk_conf(**extra: str) -> Configuration:
    c = Configuration()
    for k, v in {"high-availability.type": "zookeeper", "high-availability.zookeeper.quorum": "h:1",
                 "high-availability.storageDir": "file:///x", **extra}.items():
        c.set(k, v)
    return c


def test_sasl_only_with_a_client_login_context_and_not_disabled() -> None:
    assert HaConfiguration.from_configuration(_zk_conf()).sasl_service is None
    ha = HaConfiguration.from_configuration(_zk_conf(**{"security.kerberos.login.contexts": "Client,KafkaClient",
                                                        "zookeeper.sasl.service-name": "zk"}))
    assert ha.sasl_service == "zk"
    assert HaConfiguration.from_configuration(_zk_conf(**{"security.kerberos.login.contexts": "Client",
                                                          "zookeeper.sasl.disable": "true"})).sasl_service is None


def test_creator_acl_needs_sasl() -> None:
    with pytest.raises(ConfigurationError, match="needs SASL"):
        HaConfiguration.from_configuration(_zk_conf(**{"high-availability.zookeeper.client.acl": "creator"}))
    ha = HaConfiguration.from_configuration(_zk_conf(**{"high-availability.zookeeper.client.acl": "creator",
                                                        "security.kerberos.login.contexts": "Client"}))
    assert ha.acl == "creator" and ha.sasl_service == "zookeeper"


def test_several_jobmanagers_need_zookeeper_ha(tmp_path: Path) -> None:
    from yflink.common.errors import ClusterError
    from yflink.deploy.standalone import start_cluster

    c = Configuration()
    c.set("env.pid.dir", str(tmp_path))
    with pytest.raises(ClusterError, match="high-availability.type: zookeeper"):
        start_cluster(c, 1, num_jobmanagers=2)
    assert list(tmp_path.iterdir()) == []  # nothing was started
