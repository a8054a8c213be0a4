"""CheckpointConfig (PyFlink ``pyflink.datastream.checkpoint_config``), backed by the environment's
configuration, so every setting is the Flink key the runtime reads.

Source: Flink documentation, "Checkpointing" (enabling and configuring checkpointing) and Flink's
``CheckpointConfig``. Durations are in milliseconds. Unaligned checkpoints are not supported: enabling them
raises NotImplementedError rather than silently running aligned ones.
"""

from __future__ import annotations

from typing import Optional

from yflink.checkpoint.options import CheckpointingMode, ExternalizedCheckpointRetention
from yflink.common import config_options as opts
from yflink.common.configuration import Configuration

__all__ = ["CheckpointConfig", "ExternalizedCheckpointRetention"]


class CheckpointConfig:
    """Checkpoint settings of one StreamExecutionEnvironment."""

    def __init__(self, configuration: Configuration) -> None:
        self._config = configuration

    # --- interval and mode ------------------------------------------------------------------------------
    def is_checkpointing_enabled(self) -> bool:
        return bool(self._config.get(opts.CHECKPOINTING_INTERVAL))

    def get_checkpoint_interval(self) -> int:
        """The interval in ms, or -1 when checkpointing is disabled (as PyFlink)."""
        return self._config.get(opts.CHECKPOINTING_INTERVAL) or -1

    def set_checkpoint_interval(self, checkpoint_interval: int) -> CheckpointConfig:
        """Checkpoint every ``checkpoint_interval`` ms; raises ValueError below 10 ms (Flink's minimum)."""
        if checkpoint_interval < 10:
            raise ValueError(f"Checkpoint interval must be at least 10 ms, got {checkpoint_interval}")
        self._config.set(opts.CHECKPOINTING_INTERVAL, int(checkpoint_interval))
        return self

    def get_checkpointing_mode(self) -> CheckpointingMode:
        return CheckpointingMode(self._config.get(opts.CHECKPOINTING_MODE))

    def set_checkpointing_mode(self, checkpointing_mode: CheckpointingMode) -> CheckpointConfig:
        self._config.set(opts.CHECKPOINTING_MODE, CheckpointingMode(checkpointing_mode).value)
        return self

    # --- timing -------------------------------------------------------------------------------------------------
    def get_checkpoint_timeout(self) -> int:
        return int(self._config.get(opts.CHECKPOINTING_TIMEOUT) or 0)

    def set_checkpoint_timeout(self, checkpoint_timeout: int) -> CheckpointConfig:
        """A checkpoint not complete after ``checkpoint_timeout`` ms expires."""
        if checkpoint_timeout < 10:
            raise ValueError(f"Checkpoint timeout must be at least 10 ms, got {checkpoint_timeout}")
        self._config.set(opts.CHECKPOINTING_TIMEOUT, int(checkpoint_timeout))
        return self

    def get_min_pause_between_checkpoints(self) -> int:
        return int(self._config.get(opts.CHECKPOINTING_MIN_PAUSE) or 0)

    def set_min_pause_between_checkpoints(self, min_pause_between_checkpoints: int) -> CheckpointConfig:
        """At least ``min_pause_between_checkpoints`` ms between the end of one checkpoint and the next."""
        if min_pause_between_checkpoints < 0:
            raise ValueError(f"Pause must be >= 0, got {min_pause_between_checkpoints}")
        self._config.set(opts.CHECKPOINTING_MIN_PAUSE, int(min_pause_between_checkpoints))
        return self

    def get_max_concurrent_checkpoints(self) -> int:
        return int(self._config.get(opts.CHECKPOINTING_MAX_CONCURRENT))

    def set_max_concurrent_checkpoints(self, max_concurrent_checkpoints: int) -> CheckpointConfig:
        if max_concurrent_checkpoints < 1:
            raise ValueError(f"At least one concurrent checkpoint, got {max_concurrent_checkpoints}")
        self._config.set(opts.CHECKPOINTING_MAX_CONCURRENT, int(max_concurrent_checkpoints))
        return self

    def get_tolerable_checkpoint_failure_number(self) -> int:
        return int(self._config.get(opts.CHECKPOINTING_TOLERABLE_FAILURES))

    def set_tolerable_checkpoint_failure_number(self, tolerable_checkpoint_failure_number: int) -> CheckpointConfig:
        if tolerable_checkpoint_failure_number < 0:
            raise ValueError(f"Must be >= 0, got {tolerable_checkpoint_failure_number}")
        self._config.set(opts.CHECKPOINTING_TOLERABLE_FAILURES, int(tolerable_checkpoint_failure_number))
        return self

    # --- retention and storage ------------------------------------------------------------------------------------
    def set_externalized_checkpoint_retention(self, retention_mode: ExternalizedCheckpointRetention
                                              ) -> CheckpointConfig:
        self._config.set(opts.CHECKPOINTING_EXTERNALIZED_RETENTION,
                         ExternalizedCheckpointRetention(retention_mode).value)
        return self

    def enable_externalized_checkpoints(self, cleanup_mode: ExternalizedCheckpointRetention) -> CheckpointConfig:
        """PyFlink 1.x spelling of :meth:`set_externalized_checkpoint_retention`."""
        return self.set_externalized_checkpoint_retention(cleanup_mode)

    def get_externalized_checkpoint_retention(self) -> ExternalizedCheckpointRetention:
        return ExternalizedCheckpointRetention(self._config.get(opts.CHECKPOINTING_EXTERNALIZED_RETENTION))

    def is_externalized_checkpoints_enabled(self) -> bool:
        return (self.get_externalized_checkpoint_retention()
                is not ExternalizedCheckpointRetention.NO_EXTERNALIZED_CHECKPOINTS)

    def set_checkpoint_storage_dir(self, checkpoint_path: str) -> CheckpointConfig:
        """Where checkpoints go (``execution.checkpointing.dir``): ``file://...`` (``hdfs://`` later)."""
        self._config.set(opts.CHECKPOINTS_DIRECTORY, checkpoint_path)
        return self

    def get_checkpoint_storage_dir(self) -> Optional[str]:
        return self._config.get(opts.CHECKPOINTS_DIRECTORY)

    def enable_unaligned_checkpoints(self, enabled: bool = True) -> CheckpointConfig:
        """Unaligned checkpoints are not supported by yflink.

        Raises:
            NotImplementedError: when ``enabled``.
        """
        if enabled:
            raise NotImplementedError("yflink does not support unaligned checkpoints; barriers are aligned "
                                      "(EXACTLY_ONCE) or tracked (AT_LEAST_ONCE)")
        return self

    def is_unaligned_checkpoints_enabled(self) -> bool:
        return False
