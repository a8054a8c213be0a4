"""Typed configuration options with Flink's key names, defaults and units.

Every option is a :class:`ConfigOption`: a key, a value type, a default and a description, plus the
deprecated keys Flink still accepts. Durations are parsed from Flink's duration syntax (``"10 s"``,
``"100ms"``, ``"1 min"``, a bare number meaning milliseconds) and returned in **milliseconds**; memory sizes
from Flink's memory syntax (``"1g"``, ``"512 mb"``, a bare number meaning bytes) and returned in **bytes**.

Source of the keys and defaults: Flink 2 documentation, "Configuration" (flink-docs-release-2.x/docs/deployment/config).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from yflink.common.errors import ConfigurationError

T = TypeVar("T")

_DURATION_UNITS_MS = {
    "": 1, "ms": 1, "milli": 1, "millis": 1, "millisecond": 1, "milliseconds": 1,
    "s": 1000, "sec": 1000, "secs": 1000, "second": 1000, "seconds": 1000,
    "min": 60_000, "m": 60_000, "minute": 60_000, "minutes": 60_000,
    "h": 3_600_000, "hour": 3_600_000, "hours": 3_600_000,
    "d": 86_400_000, "day": 86_400_000, "days": 86_400_000,
}
_MEMORY_UNITS = {
    "": 1, "b": 1, "bytes": 1,
    "k": 1 << 10, "kb": 1 << 10, "kibibytes": 1 << 10,
    "m": 1 << 20, "mb": 1 << 20, "mebibytes": 1 << 20,
    "g": 1 << 30, "gb": 1 << 30, "gibibytes": 1 << 30,
    "t": 1 << 40, "tb": 1 << 40, "tebibytes": 1 << 40,
}
_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_duration_ms(value: Any) -> int:
    """Parse Flink's duration syntax into milliseconds; raises ValueError on bad input."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as '10 s' or '100 ms', got {value!r}")
    if isinstance(value, (int, float)):
        return int(value)
    match = _AMOUNT.match(str(value))
    if not match or match.group(2).lower() not in _DURATION_UNITS_MS:
        raise ValueError(f"expected a duration such as '10 s' or '100 ms', got {value!r}")
    return int(float(match.group(1)) * _DURATION_UNITS_MS[match.group(2).lower()])


def parse_memory_bytes(value: Any) -> int:
    """Parse Flink's memory size syntax into bytes; raises ValueError on bad input."""
    if isinstance(value, bool):
        raise ValueError(f"expected a memory size such as '1g' or '512 mb', got {value!r}")
    if isinstance(value, (int, float)):
        return int(value)
    match = _AMOUNT.match(str(value))
    if not match or match.group(2).lower() not in _MEMORY_UNITS:
        raise ValueError(f"expected a memory size such as '1g' or '512 mb', got {value!r}")
    return int(float(match.group(1)) * _MEMORY_UNITS[match.group(2).lower()])


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _parse_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueError(f"expected an integer, got {value!r}")
    return int(text)


def _parse_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected a number, got {value!r}") from None


def _parse_str(value: Any) -> str:
    return str(value)


def _parse_str_list(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [part.strip() for part in str(value).split(";") if part.strip()]


@dataclass(frozen=True)
class ConfigOption(Generic[T]):
    """One configuration key: its type (through ``parser``), default, unit and meaning.

    Attributes:
        key: Flink's key name.
        parser: turns a YAML/CLI value into T; raises ValueError with what would be right.
        default: the default, already of type T (None when the option has no default).
        description: one line, including the unit.
        deprecated_keys: older spellings still accepted.
        choices: for enumerated options, the allowed values (upper-case as Flink writes them).
    """

    key: str
    parser: Callable[[Any], T]
    default: T | None
    description: str
    deprecated_keys: tuple[str, ...] = ()
    choices: tuple[str, ...] = field(default=())

    def parse(self, value: Any) -> T:
        """Parse ``value``; raises ConfigurationError naming the key and the expected form."""
        try:
            parsed = self.parser(value)
        except ValueError as exc:
            raise ConfigurationError(f"Bad value for '{self.key}': {exc}") from None
        if self.choices and str(parsed).upper() not in self.choices:
            raise ConfigurationError(
                f"Bad value for '{self.key}': {value!r}; expected one of {', '.join(self.choices)}"
            )
        return parsed


def _enum(value: Any) -> str:
    return str(value).strip().upper()


REGISTRY: dict[str, ConfigOption[Any]] = {}


def option(key: str, parser: Callable[[Any], T], default: T | None, description: str,
           deprecated_keys: tuple[str, ...] = (), choices: tuple[str, ...] = ()) -> ConfigOption[T]:
    opt: ConfigOption[T] = ConfigOption(key, parser, default, description, deprecated_keys, choices)
    REGISTRY[key] = opt
    for old in deprecated_keys:
        REGISTRY[old] = opt
    return opt


# --- core / pipeline --------------------------------------------------------------------------
PARALLELISM_DEFAULT = option("parallelism.default", _parse_int, 1,
                             "Default parallelism of operators that set none.")
MAX_PARALLELISM = option("pipeline.max-parallelism", _parse_int, -1,
                         "Number of key groups; -1 derives it from the parallelism (at least 128).")
PIPELINE_NAME = option("pipeline.name", _parse_str, None, "Name of the job.")
OPERATOR_CHAINING = option("pipeline.operator-chaining.enabled", _parse_bool, True,
                           "Whether operators are chained into tasks.",
                           deprecated_keys=("pipeline.operator-chaining",))
AUTO_WATERMARK_INTERVAL = option("pipeline.auto-watermark-interval", parse_duration_ms, 200,
                                 "Interval of periodic watermarks, ms.")
RUNTIME_MODE = option("execution.runtime-mode", _enum, "STREAMING",
                      "STREAMING, BATCH or AUTOMATIC.", choices=("STREAMING", "BATCH", "AUTOMATIC"))
BUFFER_TIMEOUT = option("execution.buffer-timeout.interval", parse_duration_ms, 100,
                        "Longest time a partly filled network buffer waits before it is sent, ms.",
                        deprecated_keys=("execution.buffer-timeout",))
BUFFER_TIMEOUT_ENABLED = option("execution.buffer-timeout.enabled", _parse_bool, True,
                                "Whether buffers are flushed on a timer (false: only when full).")
BATCH_SIZE = option("taskmanager.network.batch-size", _parse_int, 1024,
                    "yflink: records per network buffer (Flink sizes buffers in bytes).")
BUFFERS_PER_CHANNEL = option("taskmanager.network.memory.buffers-per-channel", _parse_int, 2,
                             "Exclusive buffers (credits) per input channel.")

# --- JobManager ---------------------------------------------------------------------------------
JM_RPC_ADDRESS = option("jobmanager.rpc.address", _parse_str, "localhost",
                        "Host of the JobManager's RPC endpoint.")
JM_RPC_PORT = option("jobmanager.rpc.port", _parse_int, 6123, "Port of the JobManager's RPC endpoint.")
JM_BIND_HOST = option("jobmanager.bind-host", _parse_str, "127.0.0.1",
                      "Address the JobManager's RPC endpoint binds to.")
REST_ADDRESS = option("rest.address", _parse_str, "localhost", "Host clients use to reach the REST API.")
REST_PORT = option("rest.port", _parse_int, 8081, "Port of the REST API (0: any free port).")
REST_BIND_ADDRESS = option("rest.bind-address", _parse_str, "127.0.0.1",
                           "Address the REST server binds to.")
JM_MEMORY = option("jobmanager.memory.process.size", parse_memory_bytes, None,
                   "Total memory of the JobManager process, bytes.")

# --- TaskManager --------------------------------------------------------------------------------
TM_SLOTS = option("taskmanager.numberOfTaskSlots", _parse_int, 1,
                  "Slots per TaskManager; each slot is one slot-worker OS process.")
TM_HOST = option("taskmanager.host", _parse_str, "127.0.0.1", "Address of the TaskManager's endpoints.")
TM_RPC_PORT = option("taskmanager.rpc.port", _parse_str, "0", "Port (or range) of the TaskManager RPC endpoint.")
TM_DATA_PORT = option("taskmanager.data.port", _parse_int, 0, "Port of the data server (0: any).")
TM_MEMORY = option("taskmanager.memory.process.size", parse_memory_bytes, None,
                   "Total memory of a TaskManager process, bytes.")
MINICLUSTER_TMS = option("minicluster.number-of-taskmanagers", _parse_int, 1,
                         "TaskManagers the embedded local cluster starts.",
                         deprecated_keys=("local.number-taskmanager",))

# --- heartbeats and timeouts ------------------------------------------------------------------
HEARTBEAT_INTERVAL = option("heartbeat.interval", parse_duration_ms, 10_000,
                            "Interval between heartbeats, ms.")
HEARTBEAT_TIMEOUT = option("heartbeat.timeout", parse_duration_ms, 50_000,
                           "A peer silent this long is considered lost, ms.")
RPC_ASK_TIMEOUT = option("rpc.ask-timeout", parse_duration_ms, 10_000,
                         "Timeout of one gateway call, ms.", deprecated_keys=("akka.ask.timeout",))
SLOT_REQUEST_TIMEOUT = option("slot.request.timeout", parse_duration_ms, 300_000,
                              "How long a job waits for slots before it fails, ms.")
TM_REGISTRATION_TIMEOUT = option("taskmanager.registration.timeout", parse_duration_ms, 300_000,
                                 "How long a TaskManager tries to register before it exits, ms.")

# --- deployment ---------------------------------------------------------------------------------
EXECUTION_TARGET = option("execution.target", _parse_str, None,
                          "Where jobs go: local (embedded), remote, yarn-session, yarn-application.")
EXECUTION_ATTACHED = option("execution.attached", _parse_bool, True,
                            "Whether the client waits for the job's end.")
RESTART_STRATEGY = option("restart-strategy.type", _parse_str, "none",
                          "Restart strategy: none (until the checkpointing issue adds more).",
                          deprecated_keys=("restart-strategy",))
CLASSPATHS: ConfigOption[list[str]] = option("pipeline.classpaths", _parse_str_list, [],
                                              "Ignored: yflink ships Python files.")


def default_max_parallelism(parallelism: int) -> int:
    """Flink's derived max parallelism: roundUpToPowerOfTwo(p + p/2), clamped to [128, 32768].

    Source: Flink ``KeyGroupRangeAssignment.computeDefaultMaxParallelism``.
    """
    target = parallelism + parallelism // 2
    power = 1
    while power < target:
        power <<= 1
    return min(max(power, 128), 1 << 15)

# --- client --------------------------------------------------------------------------------------
CLIENT_PROGRESS = option("client.progress.enabled", _parse_bool, False,
                         "yflink: the client prints job status and records in/out per vertex on stderr.")
CLIENT_PROGRESS_INTERVAL = option("client.progress.interval", parse_duration_ms, 1000,
                                  "yflink: how often the client polls and prints progress, ms.")
ENV_PID_DIR = option("env.pid.dir", _parse_str, "/tmp", "Directory of standalone cluster pid files.")
ENV_LOG_DIR = option("env.log.dir", _parse_str, None,
                     "Directory of standalone cluster logs (default: <tmp>/yflink-<user>/log).")
REST_MAX_CONTENT_LENGTH = option("rest.server.max-content-length", parse_memory_bytes, 104_857_600,
                                 "Largest request body the REST server accepts (a JobGraph), bytes.")
CLIENT_TIMEOUT = option("client.timeout", parse_duration_ms, 60_000, "Timeout of one REST call of the client, ms.")

# --- checkpointing (Flink 2 CheckpointingOptions; older keys accepted as deprecated) ------------------
CHECKPOINTING_INTERVAL = option("execution.checkpointing.interval", parse_duration_ms, None,
                                "Interval of periodic checkpoints, ms; unset: checkpointing is disabled.")
CHECKPOINTING_MODE = option("execution.checkpointing.mode", _enum, "EXACTLY_ONCE",
                            "EXACTLY_ONCE (barriers aligned) or AT_LEAST_ONCE (barriers only counted).",
                            choices=("EXACTLY_ONCE", "AT_LEAST_ONCE"))
CHECKPOINTING_TIMEOUT = option("execution.checkpointing.timeout", parse_duration_ms, 600_000,
                               "A checkpoint not complete after this long is expired (aborted), ms.")
CHECKPOINTING_MIN_PAUSE = option("execution.checkpointing.min-pause", parse_duration_ms, 0,
                                 "Least time from the completion of one checkpoint to the next trigger, ms.")
CHECKPOINTING_MAX_CONCURRENT = option("execution.checkpointing.max-concurrent-checkpoints", _parse_int, 1,
                                      "Checkpoints that may be in progress at once.")
CHECKPOINTING_TOLERABLE_FAILURES = option(
    "execution.checkpointing.tolerable-failed-checkpoints", _parse_int, 0,
    "Consecutive failed checkpoints (declined, expired, I/O errors) tolerated before the job fails.")
CHECKPOINTING_NUM_RETAINED = option("execution.checkpointing.num-retained", _parse_int, 1,
                                    "Completed checkpoints kept; older ones are subsumed and deleted.",
                                    deprecated_keys=("state.checkpoints.num-retained",))
CHECKPOINTING_EXTERNALIZED_RETENTION = option(
    "execution.checkpointing.externalized-checkpoint-retention", _enum, "NO_EXTERNALIZED_CHECKPOINTS",
    "What happens to retained checkpoints when the job ends: DELETE_ON_CANCELLATION, RETAIN_ON_CANCELLATION "
    "or NO_EXTERNALIZED_CHECKPOINTS (deleted whenever the job ends).",
    choices=("DELETE_ON_CANCELLATION", "RETAIN_ON_CANCELLATION", "NO_EXTERNALIZED_CHECKPOINTS"))
CHECKPOINTING_INCREMENTAL = option("execution.checkpointing.incremental", _parse_bool, False,
                                   "Incremental checkpoints where the state backend supports them (rocksdb).",
                                   deprecated_keys=("state.backend.incremental",))
CHECKPOINTS_DIRECTORY = option("execution.checkpointing.dir", _parse_str, None,
                               "Directory (URI) of checkpoint data and metadata: <dir>/<job-id>/chk-<n>.",
                               deprecated_keys=("state.checkpoints.dir", "state.backend.fs.checkpointdir"))
SAVEPOINT_DIRECTORY = option("execution.checkpointing.savepoint-dir", _parse_str, None,
                             "Default directory (URI) of savepoints.",
                             deprecated_keys=("state.savepoints.dir", "savepoints.state.backend.fs.dir"))
CHECKPOINTS_CREATE_SUBDIR = option("execution.checkpointing.create-subdir", _parse_bool, True,
                                   "Whether checkpoints go to a sub-directory named by the job id.",
                                   deprecated_keys=("state.checkpoints.create-subdir",))
CHECKPOINTS_AFTER_TASKS_FINISH = option(
    "execution.checkpointing.checkpoints-after-tasks-finish", _parse_bool, True,
    "Whether checkpoints continue after some tasks finished (ended input channels count as aligned).",
    deprecated_keys=("execution.checkpointing.checkpoints-after-tasks-finish.enabled",))
CHECKPOINTING_DATA_INLINE_THRESHOLD = option(
    "execution.checkpointing.data-inline-threshold", parse_memory_bytes, 20 * 1024,
    "State streams smaller than this stay inline in the checkpoint's _metadata instead of becoming files, bytes.",
    deprecated_keys=("state.storage.fs.memory-threshold",))
STATE_RECOVERY_PATH = option("execution.state-recovery.path", _parse_str, None,
                             "Savepoint or retained checkpoint (directory or _metadata URI) the job starts from.",
                             deprecated_keys=("execution.savepoint.path",))
STATE_RECOVERY_IGNORE_UNCLAIMED = option(
    "execution.state-recovery.ignore-unclaimed-state", _parse_bool, False,
    "Start even when the restored state has operators the job no longer has (the CLI's --allowNonRestoredState).",
    deprecated_keys=("execution.savepoint.ignore-unclaimed-state",))
STATE_BACKEND = option("state.backend.type", lambda v: str(v).strip().lower(), "hashmap",
                       "State backend: hashmap (objects on the heap) or rocksdb (on local disk); Flink's older "
                       "names jobmanager and filesystem mean hashmap.",
                       deprecated_keys=("state.backend",), choices=("HASHMAP", "ROCKSDB", "JOBMANAGER", "FILESYSTEM"))
ROCKSDB_LOCAL_DIR = option("state.backend.rocksdb.localdir", _parse_str, None,
                           "Directory of the rocksdb backend's working files (default: io.tmp.dirs, else the "
                           "system temp directory).")
ROCKSDB_TIMER_SERVICE_FACTORY = option("state.backend.rocksdb.timer-service.factory", _enum, "HEAP",
                                       "Where the rocksdb backend keeps timers: only HEAP is supported.",
                                       choices=("HEAP",))

# --- restart strategies (Flink 2 RestartStrategyOptions; the type is RESTART_STRATEGY above) ----------
RESTART_FIXED_DELAY_ATTEMPTS = option("restart-strategy.fixed-delay.attempts", _parse_int, 1,
                                      "fixed-delay: restarts before the job fails.")
RESTART_FIXED_DELAY_DELAY = option("restart-strategy.fixed-delay.delay", parse_duration_ms, 1000,
                                   "fixed-delay: wait before each restart, ms.")
RESTART_FAILURE_RATE_MAX_FAILURES = option("restart-strategy.failure-rate.max-failures-per-interval", _parse_int, 1,
                                           "failure-rate: restarts allowed within one interval.")
RESTART_FAILURE_RATE_INTERVAL = option("restart-strategy.failure-rate.failure-rate-interval", parse_duration_ms,
                                       60_000, "failure-rate: the interval failures are counted in, ms.")
RESTART_FAILURE_RATE_DELAY = option("restart-strategy.failure-rate.delay", parse_duration_ms, 1000,
                                    "failure-rate: wait before each restart, ms.")
RESTART_EXP_INITIAL_BACKOFF = option("restart-strategy.exponential-delay.initial-backoff", parse_duration_ms, 1000,
                                     "exponential-delay: first wait, ms.")
RESTART_EXP_MAX_BACKOFF = option("restart-strategy.exponential-delay.max-backoff", parse_duration_ms, 60_000,
                                 "exponential-delay: longest wait, ms.")
RESTART_EXP_MULTIPLIER = option("restart-strategy.exponential-delay.backoff-multiplier", _parse_float, 1.5,
                                "exponential-delay: the wait grows by this factor per restart.")
RESTART_EXP_RESET_THRESHOLD = option("restart-strategy.exponential-delay.reset-backoff-threshold",
                                     parse_duration_ms, 3_600_000,
                                     "exponential-delay: running this long without failure resets the wait, ms.")
RESTART_EXP_JITTER = option("restart-strategy.exponential-delay.jitter-factor", _parse_float, 0.1,
                            "exponential-delay: random +/- share of the wait.")
RESTART_EXP_ATTEMPTS = option("restart-strategy.exponential-delay.attempts-before-reset-backoff", _parse_int,
                              2_147_483_647, "exponential-delay: restarts before the job fails (reset with the wait).")

# --- local TaskManagers started by the ResourceManager (embedded and standalone clusters) -----------------------
LOCAL_TMS_ENABLED = option("resourcemanager.local-taskmanagers.enabled", _parse_bool, True,
                           "yflink: the ResourceManager of an embedded or standalone cluster starts TaskManager "
                           "processes on this host when slot requests cannot be served (as YARN gives containers).")
LOCAL_TMS_MAX = option("resourcemanager.local-taskmanagers.max", _parse_int, 8,
                       "yflink: at most this many TaskManagers the ResourceManager starts itself.")
LOCAL_TMS_DELAY = option("resourcemanager.local-taskmanagers.delay", parse_duration_ms, 2000,
                         "yflink: how long a slot request waits for a free slot before a TaskManager is started, ms.")

# --- high availability (Flink "High Availability" > "ZooKeeper HA Services"; HighAvailabilityOptions) ----------
HA_TYPE = option("high-availability.type", _enum, "NONE",
                 "NONE (one JobManager, no recovery after its loss) or ZOOKEEPER (leader election, job graphs, "
                 "checkpoint pointers and the checkpoint id counter in ZooKeeper).",
                 deprecated_keys=("high-availability", "high-availability.mode", "recovery.mode"),
                 choices=("NONE", "ZOOKEEPER"))
HA_CLUSTER_ID = option("high-availability.cluster-id", _parse_str, "/default",
                       "Id of this cluster below the root path; clusters sharing a ZooKeeper need their own.",
                       deprecated_keys=("high-availability.zookeeper.path.namespace",
                                        "recovery.zookeeper.path.namespace"))
HA_STORAGE_DIR = option("high-availability.storageDir", _parse_str, None,
                        "Directory URI (file:// or hdfs://) of the HA blobs (submitted job graphs); ZooKeeper keeps "
                        "pointers to them.", deprecated_keys=("high-availability.zookeeper.storageDir",
                                                              "recovery.zookeeper.storageDir"))
HA_ZK_QUORUM = option("high-availability.zookeeper.quorum", _parse_str, None,
                      "ZooKeeper connection string host:port[,host:port...].",
                      deprecated_keys=("recovery.zookeeper.quorum",))
HA_ZK_ROOT = option("high-availability.zookeeper.path.root", _parse_str, "/flink",
                    "Root znode under which clusters keep their HA data.",
                    deprecated_keys=("recovery.zookeeper.path.root",))
HA_ZK_SESSION_TIMEOUT = option("high-availability.zookeeper.client.session-timeout", parse_duration_ms, 60_000,
                               "ZooKeeper session timeout, ms: a leader whose session expires loses leadership.",
                               deprecated_keys=("recovery.zookeeper.client.session-timeout",))
HA_ZK_CONNECTION_TIMEOUT = option("high-availability.zookeeper.client.connection-timeout", parse_duration_ms,
                                  15_000, "ZooKeeper connection timeout, ms.",
                                  deprecated_keys=("recovery.zookeeper.client.connection-timeout",))
HA_ZK_RETRY_WAIT = option("high-availability.zookeeper.client.retry-wait", parse_duration_ms, 5_000,
                          "Pause between connection retries, ms.",
                          deprecated_keys=("recovery.zookeeper.client.retry-wait",))
HA_ZK_MAX_RETRIES = option("high-availability.zookeeper.client.max-retry-attempts", _parse_int, 3,
                           "Connection attempts before an operation fails.",
                           deprecated_keys=("recovery.zookeeper.client.max-retry-attempts",))
HA_ZK_ACL = option("high-availability.zookeeper.client.acl", lambda v: str(v).strip().lower(), "open",
                   "ACL of the HA znodes: open (world) or creator (only the authenticated creator; needs SASL).")
HA_ZK_TOLERATE_SUSPENDED = option("high-availability.zookeeper.client.tolerate-suspended-connections", _parse_bool,
                                  False, "true: keep leadership while the ZooKeeper connection is suspended "
                                         "(lose it only when the session expires); false: lose it when a "
                                         "suspension lasts more than half the session timeout (Flink: at once).")
HA_ZK_SASL_DISABLE = option("zookeeper.sasl.disable", _parse_bool, False,
                            "Never authenticate to ZooKeeper with SASL, even with a Client login context.")
HA_ZK_SASL_SERVICE_NAME = option("zookeeper.sasl.service-name", _parse_str, "zookeeper",
                                 "Kerberos service name of the ZooKeeper servers (principal <name>/<host>).")
KERBEROS_LOGIN_CONTEXTS = option("security.kerberos.login.contexts", _parse_str, None,
                                 "Comma-separated login contexts Kerberos credentials go to; 'Client' makes the "
                                 "HA services authenticate to ZooKeeper with SASL (GSSAPI).")
JOB_RESULT_STORE_STORAGE_PATH = option(
    "job-result-store.storage-path", _parse_str, None,
    "Where the file-system JobResultStore keeps one JSON entry per globally terminated job (ZooKeeper HA); "
    "default <high-availability.storageDir>/job-result-store/<high-availability.cluster-id>.")
JOB_RESULT_STORE_DELETE_ON_COMMIT = option(
    "job-result-store.delete-on-commit", _parse_bool, True,
    "true: a job's result entry is deleted once its HA data is cleaned up; false: it is kept, marked clean "
    "(<job id>.json), and removing it is left to the user.")
PIPELINE_FIXED_JOB_ID = option(
    "$internal.pipeline.job-id", _parse_str, None,
    "The job id the next submitted job gets (32 hex digits); set by application mode with HA, where it derives "
    "from high-availability.cluster-id so that a new attempt re-running main finds the same job.")
