"""PyFlink's checkpointing API maps onto Flink's configuration keys (Flink documentation, "Checkpointing")."""

import pytest

from yflink.datastream import CheckpointingMode, ExternalizedCheckpointRetention, StreamExecutionEnvironment
from yflink.graph.stream_graph import generate_stream_graph


def test_enable_checkpointing_and_checkpoint_config_set_flink_keys() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    assert env.get_checkpoint_interval() == -1 and not env.get_checkpoint_config().is_checkpointing_enabled()
    env.enable_checkpointing(1000, CheckpointingMode.AT_LEAST_ONCE)
    config = env.get_checkpoint_config()
    config.set_checkpoint_timeout(60_000).set_min_pause_between_checkpoints(500)
    config.set_max_concurrent_checkpoints(2).set_tolerable_checkpoint_failure_number(3)
    config.set_externalized_checkpoint_retention(ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION)
    config.set_checkpoint_storage_dir("file:///tmp/checkpoints")
    env.from_collection([1]).print()
    raw = generate_stream_graph(env._transformations, env._config).config.raw()
    assert raw["execution.checkpointing.interval"] == 1000
    assert raw["execution.checkpointing.mode"] == "AT_LEAST_ONCE"
    assert raw["execution.checkpointing.timeout"] == 60_000
    assert raw["execution.checkpointing.min-pause"] == 500
    assert raw["execution.checkpointing.max-concurrent-checkpoints"] == 2
    assert raw["execution.checkpointing.tolerable-failed-checkpoints"] == 3
    assert raw["execution.checkpointing.externalized-checkpoint-retention"] == "RETAIN_ON_CANCELLATION"
    assert raw["execution.checkpointing.dir"] == "file:///tmp/checkpoints"
    assert env.get_checkpointing_mode() is CheckpointingMode.AT_LEAST_ONCE


def test_bad_values_and_unaligned_checkpoints_are_refused() -> None:
    config = StreamExecutionEnvironment.get_execution_environment().get_checkpoint_config()
    with pytest.raises(ValueError, match="at least 10 ms"):
        config.set_checkpoint_interval(5)
    with pytest.raises(NotImplementedError, match="unaligned"):
        config.enable_unaligned_checkpoints()
