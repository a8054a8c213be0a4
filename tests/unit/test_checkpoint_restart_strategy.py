"""Restart strategies with Flink's semantics, decided from failure times alone.

Flink documentation, "Task Failure Recovery" > "Restart Strategies" (Fixed Delay, Failure Rate, Exponential
Delay, No Restart; the default is exponential-delay when checkpointing is enabled, none otherwise).
"""

from __future__ import annotations

import random

import pytest

from yflink.checkpoint.restart_strategy import (
    ExponentialDelayRestartBackoffTimeStrategy,
    FailureRateRestartBackoffTimeStrategy,
    FixedDelayRestartBackoffTimeStrategy,
    NoRestartBackoffTimeStrategy,
    RestartDecision,
    restart_strategy_from_configuration,
)
from yflink.common.configuration import Configuration
from yflink.common.errors import ConfigurationError


def test_none_never_restarts() -> None:
    assert NoRestartBackoffTimeStrategy().on_failure(0) == RestartDecision(False, 0)


def test_fixed_delay_restarts_attempts_times_then_fails() -> None:
    """Fixed Delay: 'attempts' restarts, each 'delay' after the failure; the next failure fails the job."""
    strategy = FixedDelayRestartBackoffTimeStrategy(max_attempts=3, delay_ms=10_000)
    assert [strategy.on_failure(t) for t in (0, 1, 2)] == [RestartDecision(True, 10_000)] * 3
    assert strategy.on_failure(3).restart is False


def test_failure_rate_fails_when_too_many_failures_fall_in_the_interval() -> None:
    """Failure Rate: max 3 failures per 5 min; restarts spread out enough never fail the job."""
    strategy = FailureRateRestartBackoffTimeStrategy(3, interval_ms=300_000, delay_ms=10_000)
    assert all(strategy.on_failure(t).restart for t in (0, 60_000, 120_000))
    assert strategy.on_failure(180_000).restart is False  # 4 failures within 5 min
    spread = FailureRateRestartBackoffTimeStrategy(3, interval_ms=300_000, delay_ms=10_000)
    times = list(range(0, 3_600_000, 100_001))  # never 4 within 5 min
    assert all(spread.on_failure(t).restart for t in times)
    assert spread.on_failure(times[-1] + 100_001) == RestartDecision(True, 10_000)


def test_failure_rate_of_one_per_interval() -> None:
    strategy = FailureRateRestartBackoffTimeStrategy(1, interval_ms=1000, delay_ms=0)
    assert strategy.on_failure(0).restart
    assert not strategy.on_failure(500).restart
    assert strategy.on_failure(2000).restart  # the failure at 500 is more than 1 s ago


def test_exponential_delay_grows_caps_and_resets() -> None:
    """Exponential Delay: 1 s, 1.5 s, 2.25 s, ... up to max-backoff; a quiet reset-backoff-threshold resets it."""
    strategy = ExponentialDelayRestartBackoffTimeStrategy(1000, 5000, 1.5, 60_000, 0.0, 2**31 - 1)
    now, delays = 0, []
    for _ in range(6):
        decision = strategy.on_failure(now)
        assert decision.restart and decision.new_attempt
        delays.append(decision.delay_ms)
        now += decision.delay_ms + 1  # fails again right after the restart
    assert delays == [1000, 1500, 2250, 3375, 5000, 5000]
    assert strategy.on_failure(now + 60_000).delay_ms == 1000  # a quiet reset-backoff-threshold (here 1 min)


def test_exponential_delay_merges_failures_during_the_wait() -> None:
    """FLIP-364: failures while a restart is scheduled (e.g. every task of a lost TaskManager) count once."""
    strategy = ExponentialDelayRestartBackoffTimeStrategy(1000, 60_000, 2.0, 3_600_000, 0.0, 2)
    first = strategy.on_failure(0)
    merged = strategy.on_failure(400)
    assert first == RestartDecision(True, 1000, True)
    assert merged == RestartDecision(True, 600, False)  # the same restart, 600 ms from now
    assert strategy.on_failure(1001) == RestartDecision(True, 2000, True)
    assert strategy.on_failure(3002).restart is False  # attempts-before-reset-backoff = 2


def test_exponential_delay_jitter_stays_within_its_factor() -> None:
    strategy = ExponentialDelayRestartBackoffTimeStrategy(10_000, 60_000, 2.0, 3_600_000, 0.1, 100,
                                                          rng=random.Random(7))
    delay = strategy.on_failure(0).delay_ms
    assert 9000 <= delay <= 11_000
    with pytest.raises(RuntimeError, match="before any notify_failure"):
        ExponentialDelayRestartBackoffTimeStrategy(1, 2, 2.0, 1, 0.0, 1).backoff_time_ms(0)


def test_defaults_follow_checkpointing_and_types_are_read_with_aliases() -> None:
    conf = Configuration()
    assert isinstance(restart_strategy_from_configuration(conf, checkpointing_enabled=False),
                      NoRestartBackoffTimeStrategy)
    default = restart_strategy_from_configuration(conf, checkpointing_enabled=True)
    assert isinstance(default, ExponentialDelayRestartBackoffTimeStrategy)
    assert (default.initial_backoff_ms, default.max_backoff_ms, default.multiplier) == (1000, 60_000, 1.5)
    conf.set_string("restart-strategy.type", "fixeddelay").set_string("restart-strategy.fixed-delay.attempts", "4")
    fixed = restart_strategy_from_configuration(conf, True)
    assert isinstance(fixed, FixedDelayRestartBackoffTimeStrategy) and fixed.max_attempts == 4
    old_key = Configuration().set_string("restart-strategy", "failure-rate")
    assert isinstance(restart_strategy_from_configuration(old_key, False), FailureRateRestartBackoffTimeStrategy)
    assert isinstance(restart_strategy_from_configuration(Configuration().set_string("restart-strategy.type", "off"),
                                                          True), NoRestartBackoffTimeStrategy)


@pytest.mark.parametrize("key,value,message", [
    ("restart-strategy.type", "sometimes", "expected one of none"),
    ("restart-strategy.exponential-delay.backoff-multiplier", "1.0", "greater than 1"),
    ("restart-strategy.exponential-delay.initial-backoff", "2 min", "cannot be higher than"),
    ("restart-strategy.exponential-delay.jitter-factor", "2", "between 0 and 1"),
])
def test_bad_settings_name_the_key(key: str, value: str, message: str) -> None:
    conf = Configuration().set_string(key, value)
    if key != "restart-strategy.type":
        conf.set_string("restart-strategy.type", "exponential-delay")
    with pytest.raises(ConfigurationError, match=message) as info:
        restart_strategy_from_configuration(conf, True)
    assert key in str(info.value)
