"""A TaskManager container's program: ``python -m yflink.deploy.yarn.container``.

Reads the JobManager's RPC address from skein's key-value store (the application master publishes it), then
becomes ``python -m yflink.runtime.entrypoints taskmanager`` with the YARN container id as resource id (so
the ResourceManager's YARN driver knows which container a TaskManager lives in), the node's address as
``taskmanager.host``, the shipped ``config.yaml``; ``taskmanager.log``, ``taskmanager.out`` (what print sinks
write) and ``taskmanager.err`` go to the container's log directory.
Source: Flink ``YarnTaskExecutorRunner``.
"""

from __future__ import annotations

import os
import sys

from yflink.common.configuration import load_configuration
from yflink.deploy.yarn.appmaster import KV_RPC, log_dir, node_address, yarn_ha_cluster_id


def taskmanager_args(jobmanager: str) -> list[str]:
    """The entrypoint's arguments in this container."""
    resource_id = os.environ.get("CONTAINER_ID") or os.environ.get("SKEIN_CONTAINER_ID") or ""
    args = ["taskmanager", "--conf-dir", ".", "--jobmanager", jobmanager,
            "--log-file", str(log_dir() / "taskmanager.log"), "-D", f"taskmanager.host={node_address()}"]
    if resource_id:
        args += ["--resource-id", resource_id]
    cluster_id = yarn_ha_cluster_id(load_configuration(".", []))
    if cluster_id is not None:  # under ZooKeeper HA the leader is found through ZooKeeper, in this cluster
        args += ["-D", f"high-availability.cluster-id={cluster_id}"]
    return args


def main() -> None:
    import skein

    jobmanager = skein.ApplicationClient.from_current().kv.wait(KV_RPC).decode()
    args = [sys.executable, "-m", "yflink.runtime.entrypoints", *taskmanager_args(jobmanager)]
    # Flink's names: taskmanager.out / taskmanager.err (print sinks write to stdout); skein's own capture file
    # <service>.log would otherwise share taskmanager.log with the TaskManager's log.
    sys.stdout.flush()
    sys.stderr.flush()
    for fd, name in ((1, "taskmanager.out"), (2, "taskmanager.err")):
        target = os.open(str(log_dir() / name), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(target, fd)
        os.close(target)
    os.execv(sys.executable, args)


if __name__ == "__main__":
    main()
