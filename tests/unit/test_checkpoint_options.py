"""Checkpoint settings: Flink's keys, defaults and units.

Flink documentation, "Checkpointing" > "Enabling and Configuring Checkpointing" and the configuration reference
(Checkpointing, State Backends, Fault Tolerance sections).
"""

from __future__ import annotations

import pytest

from yflink.checkpoint.options import (
    CheckpointCoordinatorConfiguration,
    CheckpointingMode,
    ExternalizedCheckpointRetention,
)
from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.common.errors import ConfigurationError


def test_defaults_are_flinks() -> None:
    """Checkpointing is off until an interval is set; exactly-once, 10 min timeout, no pause, one at a time,
    no tolerated failures, one retained, not externalized, full (not incremental) snapshots, hashmap."""
    config = CheckpointCoordinatorConfiguration.from_configuration(Configuration())
    assert not config.enabled and config.interval_ms is None
    assert config.mode is CheckpointingMode.EXACTLY_ONCE
    assert config.timeout_ms == 600_000
    assert (config.min_pause_ms, config.max_concurrent, config.tolerable_failures, config.num_retained) == (0, 1, 0, 1)
    assert config.retention is ExternalizedCheckpointRetention.NO_EXTERNALIZED_CHECKPOINTS
    assert config.incremental is False and config.state_backend == "hashmap"
    assert config.checkpoints_dir is None and config.savepoints_dir is None
    assert config.create_subdir and config.checkpoints_after_tasks_finish


def test_keys_units_and_deprecated_spellings() -> None:
    conf = Configuration()
    for key, value in {
        "execution.checkpointing.interval": "30 s",
        "execution.checkpointing.mode": "at_least_once",
        "execution.checkpointing.timeout": "2 min",
        "execution.checkpointing.min-pause": "500 ms",
        "execution.checkpointing.max-concurrent-checkpoints": "3",
        "execution.checkpointing.tolerable-failed-checkpoints": "2",
        "state.checkpoints.num-retained": "5",  # deprecated spelling still works
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        "state.backend.incremental": "true",
        "state.checkpoints.dir": "hdfs:///flink/checkpoints",
        "state.savepoints.dir": "file:///tmp/savepoints",
        "state.backend.type": "RocksDB",
    }.items():
        conf.set_string(key, value)
    assert conf.validate() == []
    config = CheckpointCoordinatorConfiguration.from_configuration(conf)
    assert config.interval_ms == 30_000 and config.timeout_ms == 120_000 and config.min_pause_ms == 500
    assert config.mode is CheckpointingMode.AT_LEAST_ONCE
    assert (config.max_concurrent, config.tolerable_failures, config.num_retained) == (3, 2, 5)
    assert config.effective_max_concurrent == 1  # a min pause implies one checkpoint at a time
    assert config.retention is ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION
    assert config.incremental and config.state_backend == "rocksdb"
    assert config.checkpoints_dir == "hdfs:///flink/checkpoints"
    assert config.savepoints_dir == "file:///tmp/savepoints"


def test_restart_strategy_keys_have_flinks_defaults() -> None:
    conf = Configuration()
    assert conf.get(opts.RESTART_FIXED_DELAY_ATTEMPTS) == 1 and conf.get(opts.RESTART_FIXED_DELAY_DELAY) == 1000
    assert conf.get(opts.RESTART_FAILURE_RATE_MAX_FAILURES) == 1
    assert conf.get(opts.RESTART_FAILURE_RATE_INTERVAL) == 60_000
    assert conf.get(opts.RESTART_FAILURE_RATE_DELAY) == 1000
    assert conf.get(opts.RESTART_EXP_INITIAL_BACKOFF) == 1000 and conf.get(opts.RESTART_EXP_MAX_BACKOFF) == 60_000
    assert conf.get(opts.RESTART_EXP_MULTIPLIER) == 1.5 and conf.get(opts.RESTART_EXP_JITTER) == 0.1
    assert conf.get(opts.RESTART_EXP_RESET_THRESHOLD) == 3_600_000
    assert conf.get(opts.RESTART_EXP_ATTEMPTS) == 2**31 - 1


@pytest.mark.parametrize("key,value,message", [
    ("execution.checkpointing.interval", "5 ms", "at least 10 ms"),
    ("execution.checkpointing.max-concurrent-checkpoints", "0", "at least 1"),
    ("execution.checkpointing.num-retained", "0", "at least 1"),
    ("execution.checkpointing.mode", "MOSTLY_ONCE", "EXACTLY_ONCE, AT_LEAST_ONCE"),
    ("state.backend.type", "forst", "HASHMAP, ROCKSDB"),
])
def test_bad_values_name_the_key(key: str, value: str, message: str) -> None:
    conf = Configuration().set_string(key, value)
    with pytest.raises(ConfigurationError, match=message) as info:
        CheckpointCoordinatorConfiguration.from_configuration(conf)
    assert key in str(info.value)
