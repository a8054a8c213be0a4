"""The checkpoint settings of one job, read and validated once from its configuration.

The keys themselves are typed options in :mod:`yflink.common.config_options` (Flink 2's
``CheckpointingOptions`` names, older keys such as ``state.checkpoints.dir`` accepted as deprecated spellings).
:class:`CheckpointCoordinatorConfiguration` (Flink's runtime class of the same name) is what the coordinator,
the storage and the barrier handlers take, with every duration in **milliseconds**.

Source: Flink documentation "Checkpointing" (Enabling and Configuring Checkpointing), "Checkpoints" (Retained
Checkpoints) and the configuration reference (Checkpointing section).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional

from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.common.errors import ConfigurationError

__all__ = [
    "MINIMAL_CHECKPOINT_TIME_MS",
    "CheckpointCoordinatorConfiguration",
    "CheckpointingMode",
    "ExternalizedCheckpointRetention",
]

MINIMAL_CHECKPOINT_TIME_MS = 10  # Flink CheckpointConfig.MINIMAL_CHECKPOINT_TIME: shortest interval/timeout


class CheckpointingMode(enum.Enum):
    """EXACTLY_ONCE aligns barriers at tasks with several inputs; AT_LEAST_ONCE only counts them."""

    EXACTLY_ONCE = "EXACTLY_ONCE"
    AT_LEAST_ONCE = "AT_LEAST_ONCE"


class ExternalizedCheckpointRetention(enum.Enum):
    """What happens to the retained checkpoints when the job reaches a terminal state (Flink's enum).

    * DELETE_ON_CANCELLATION: kept when the job FAILED, deleted when it was CANCELED or FINISHED;
    * RETAIN_ON_CANCELLATION: kept when the job FAILED or was CANCELED, deleted when it FINISHED;
    * NO_EXTERNALIZED_CHECKPOINTS: deleted whenever the job ends.
    """

    DELETE_ON_CANCELLATION = "DELETE_ON_CANCELLATION"
    RETAIN_ON_CANCELLATION = "RETAIN_ON_CANCELLATION"
    NO_EXTERNALIZED_CHECKPOINTS = "NO_EXTERNALIZED_CHECKPOINTS"


@dataclass(frozen=True)
class CheckpointCoordinatorConfiguration:
    """A job's checkpoint settings (durations in ms).

    Attributes:
        interval_ms: base interval of periodic checkpoints; None when checkpointing is disabled.
        mode: exactly-once (aligned barriers) or at-least-once.
        timeout_ms: a pending checkpoint older than this expires.
        min_pause_ms: least time between the completion of one checkpoint and the next periodic trigger.
        max_concurrent: periodic checkpoints in flight at most (savepoints do not count against it).
        tolerable_failures: consecutive failed checkpoints tolerated; one more fails the job.
        num_retained: completed checkpoints kept.
        retention: what happens to retained checkpoints when the job ends.
        incremental: whether backends that can should upload only changed files.
        checkpoints_dir: URI of ``execution.checkpointing.dir`` (None: checkpoints cannot be stored).
        savepoints_dir: URI of ``execution.checkpointing.savepoint-dir`` (None: savepoints need a target).
        create_subdir: checkpoints go under ``<checkpoints_dir>/<job-id>``.
        checkpoints_after_tasks_finish: finished input channels count as aligned (FLIP-147).
        state_backend: ``hashmap`` or ``rocksdb``.
    """

    interval_ms: Optional[int] = None
    mode: CheckpointingMode = CheckpointingMode.EXACTLY_ONCE
    timeout_ms: int = 600_000
    min_pause_ms: int = 0
    max_concurrent: int = 1
    tolerable_failures: int = 0
    num_retained: int = 1
    retention: ExternalizedCheckpointRetention = ExternalizedCheckpointRetention.NO_EXTERNALIZED_CHECKPOINTS
    incremental: bool = False
    checkpoints_dir: Optional[str] = None
    savepoints_dir: Optional[str] = None
    create_subdir: bool = True
    checkpoints_after_tasks_finish: bool = True
    state_backend: str = "hashmap"

    def __post_init__(self) -> None:
        if self.interval_ms is not None and self.interval_ms < MINIMAL_CHECKPOINT_TIME_MS:
            raise ConfigurationError(
                f"'{opts.CHECKPOINTING_INTERVAL.key}' must be at least {MINIMAL_CHECKPOINT_TIME_MS} ms, "
                f"got {self.interval_ms} ms")
        if self.timeout_ms < MINIMAL_CHECKPOINT_TIME_MS:
            raise ConfigurationError(
                f"'{opts.CHECKPOINTING_TIMEOUT.key}' must be at least {MINIMAL_CHECKPOINT_TIME_MS} ms, "
                f"got {self.timeout_ms} ms")
        for option, value, least in ((opts.CHECKPOINTING_MIN_PAUSE, self.min_pause_ms, 0),
                                     (opts.CHECKPOINTING_MAX_CONCURRENT, self.max_concurrent, 1),
                                     (opts.CHECKPOINTING_TOLERABLE_FAILURES, self.tolerable_failures, 0),
                                     (opts.CHECKPOINTING_NUM_RETAINED, self.num_retained, 1)):
            if value < least:
                raise ConfigurationError(f"'{option.key}' must be at least {least}, got {value}")
        if self.state_backend not in ("hashmap", "rocksdb"):
            raise ConfigurationError(
                f"'{opts.STATE_BACKEND.key}' must be hashmap or rocksdb, got {self.state_backend!r}")

    @property
    def enabled(self) -> bool:
        """Whether periodic checkpoints are configured."""
        return self.interval_ms is not None

    @property
    def effective_max_concurrent(self) -> int:
        """A min pause makes at most one checkpoint run at a time (Flink's rule)."""
        return 1 if self.min_pause_ms > 0 else self.max_concurrent

    @classmethod
    def from_configuration(cls, conf: Configuration) -> CheckpointCoordinatorConfiguration:
        """The settings in ``conf`` (defaults for unset keys).

        Raises:
            ConfigurationError: a bad value, naming its key.
        """
        return cls(
            interval_ms=conf.get(opts.CHECKPOINTING_INTERVAL),
            mode=CheckpointingMode(conf.get(opts.CHECKPOINTING_MODE)),
            timeout_ms=conf.get(opts.CHECKPOINTING_TIMEOUT) or 0,
            min_pause_ms=conf.get(opts.CHECKPOINTING_MIN_PAUSE) or 0,
            max_concurrent=conf.get(opts.CHECKPOINTING_MAX_CONCURRENT) or 0,
            tolerable_failures=conf.get(opts.CHECKPOINTING_TOLERABLE_FAILURES) or 0,
            num_retained=conf.get(opts.CHECKPOINTING_NUM_RETAINED) or 0,
            retention=ExternalizedCheckpointRetention(conf.get(opts.CHECKPOINTING_EXTERNALIZED_RETENTION)),
            incremental=bool(conf.get(opts.CHECKPOINTING_INCREMENTAL)),
            checkpoints_dir=conf.get(opts.CHECKPOINTS_DIRECTORY),
            savepoints_dir=conf.get(opts.SAVEPOINT_DIRECTORY),
            create_subdir=bool(conf.get(opts.CHECKPOINTS_CREATE_SUBDIR)),
            checkpoints_after_tasks_finish=bool(conf.get(opts.CHECKPOINTS_AFTER_TASKS_FINISH)),
            state_backend=conf.get(opts.STATE_BACKEND) or "hashmap",
        )
