"""Flink's YARN configuration keys (``YarnConfigOptions``, ``ResourceManagerOptions``) as yflink options.

They live here, not in :mod:`yflink.common.config_options`, so that the YARN deployment is one package;
importing this module registers them (so ``-D yarn.tags=...`` is not reported as an unknown key).
Source: Flink 2 documentation, "Configuration" -> "YARN" and "ResourceManager".
"""

from __future__ import annotations

from yflink.common.config_options import (
    ConfigOption,
    _parse_bool,
    _parse_int,
    _parse_str,
    _parse_str_list,
    option,
    parse_duration_ms,
)

APPLICATION_NAME = option("yarn.application.name", _parse_str, None,
                          "Name of the YARN application (default: yflink-<mode> <job script>).")
APPLICATION_QUEUE = option("yarn.application.queue", _parse_str, "default", "YARN queue of the application.")
APPLICATION_PRIORITY = option("yarn.application.priority", _parse_int, -1,
                              "YARN priority of the application (>= 0; -1: the queue's default).")
APPLICATION_TAGS = option("yarn.tags", _parse_str, "", "Comma-separated YARN application tags.")
APPLICATION_ATTEMPTS = option("yarn.application-attempts", _parse_int, 1,
                              "Attempts of the application master (Flink: 1 without high availability).")
APPLICATION_ID = option("yarn.application.id", _parse_str, None,
                        "The YARN session to submit to (yarn-session target); default: the last session started "
                        "from this machine (yarn.properties-file.location).")
APPMASTER_VCORES = option("yarn.appmaster.vcores", _parse_int, 1, "Virtual cores of the application master.")
CONTAINER_VCORES = option("yarn.containers.vcores", _parse_int, -1,
                          "Virtual cores of a TaskManager container (-1: taskmanager.numberOfTaskSlots).")
MAX_FAILED_CONTAINERS = option(
    "yarn.maximum-failed-containers", _parse_int, 10,
    "TaskManager containers that may fail before no more are requested and waiting jobs fail. Flink 1.x "
    "defaults to the initial number of TaskManagers; yflink starts none up front and takes 10 (the failures per "
    "minute Flink 1.12+ allows by resourcemanager.start-worker-max-failure-rate).")
SHIP_FILES: ConfigOption[list[str]] = option("yarn.ship-files", _parse_str_list, [],
                    "Local files and directories (';'-separated) shipped into every container's working directory.")
PROVIDED_LIB_DIRS: ConfigOption[list[str]] = option(
    "yarn.provided.lib.dirs", _parse_str_list, [],
    "A prebuilt Python environment archive (a .tar/.tar.gz/.zip made by `yflink yarn-pack`, on HDFS) used "
    "instead of packing this machine's environment.")
PROPERTIES_FILE = option("yarn.properties-file.location", _parse_str, None,
                         "Directory of the last-session file .yarn-properties-<user> (default: the temp dir).")
STAGING_DIRECTORY = option("yarn.staging-directory", _parse_str, None,
                           "Unused by yflink (skein stages in ~/.skein on the default file system).")
PYTHON_EXECUTABLE = option("python.executable", _parse_str, None,
                           "Python interpreter in YARN containers (default: this machine's base interpreter).")
KERBEROS_PRINCIPAL = option("security.kerberos.login.principal", _parse_str, None,
                            "Kerberos principal skein submits as (with the keytab).")
KERBEROS_KEYTAB = option("security.kerberos.login.keytab", _parse_str, None,
                         "Keytab of security.kerberos.login.principal.")
TASKMANAGER_TIMEOUT = option("resourcemanager.taskmanager-timeout", parse_duration_ms, 30_000,
                             "A TaskManager container idle (no slot in use) this long is released, ms.")
DETACHED_SHUTDOWN = option("execution.shutdown-on-attached-exit", _parse_bool, False,
                           "Kill the application when an attached client is interrupted (Ctrl-C).")

#: Memory of containers when jobmanager/taskmanager.memory.process.size is not set, MiB (Flink's defaults
#: are 1600m/1728m for JVMs; a Python JobManager or TaskManager with one slot worker needs far less).
DEFAULT_JM_MEMORY_MB = 512
DEFAULT_TM_MEMORY_MB = 768
