"""High availability: leader election and retrieval, and the job metadata a new leader recovers.

``create_ha_services(config)`` gives :class:`~.standalone.StandaloneHaServices` for ``high-availability.type:
NONE`` (the default) and :class:`~.zookeeper.ZooKeeperHaServices` for ``zookeeper`` (needs the ``ha`` extra,
kazoo). Interfaces and errors are in :mod:`.api`. Source: Flink "High Availability", "ZooKeeper HA Services".
"""

from __future__ import annotations

from typing import Optional

from yflink.common.configuration import Configuration
from yflink.common.errors import ConfigurationError
from yflink.runtime.highavailability.api import (
    CheckpointIDCounter,
    CheckpointPointerStore,
    HaConfiguration,
    HighAvailabilityError,
    HighAvailabilityServices,
    JobGraphStore,
    JobResult,
    JobResultStore,
    LeaderContender,
    LeaderElection,
    LeaderInformation,
    LeaderRetrieval,
    LeadershipLostError,
    application_job_id,
)
from yflink.runtime.highavailability.standalone import StandaloneHaServices

__all__ = ["CheckpointIDCounter", "CheckpointPointerStore", "HaConfiguration", "HighAvailabilityError",
           "HighAvailabilityServices", "JobGraphStore", "JobResult", "JobResultStore", "LeaderContender",
           "LeaderElection", "LeaderInformation", "LeaderRetrieval", "LeadershipLostError", "StandaloneHaServices",
           "application_job_id", "create_ha_services", "retrieve_rest_address"]


def create_ha_services(config: Configuration,
                       fixed_leader: Optional[LeaderInformation] = None) -> HighAvailabilityServices:
    """The HA services ``high-availability.type`` names.

    Raises:
        ConfigurationError: bad ``high-availability.*`` options, or zookeeper without kazoo installed.
        HighAvailabilityError: ZooKeeper unreachable within the connection timeout.
    """
    ha = HaConfiguration.from_configuration(config)
    if not ha.enabled:
        return StandaloneHaServices(fixed_leader)
    try:
        from yflink.runtime.highavailability.zookeeper import ZooKeeperHaServices
    except ImportError as exc:
        raise ConfigurationError(f"high-availability.type: zookeeper needs kazoo ({exc}); install yflink[ha] "
                                 "(pip install 'kazoo>=2.10').") from None
    return ZooKeeperHaServices(ha)


def retrieve_rest_address(config: Configuration, timeout_s: float = 30.0) -> Optional[str]:
    """The leading JobManager's REST ``host:port`` from ZooKeeper, or None when HA is not configured.

    Raises:
        HighAvailabilityError: no leader published within ``timeout_s``, or ZooKeeper unreachable.
    """
    if not HaConfiguration.from_configuration(config).enabled:
        return None
    services = create_ha_services(config)
    try:
        return services.leader_retrieval().wait_for_leader(timeout_s).rest_address
    finally:
        services.close()
