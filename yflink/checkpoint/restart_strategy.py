"""Restart strategies: after a failure, may the job restart, and after how long? (pure; time is passed in)

Flink documentation, "Task Failure Recovery" > "Restart Strategies", and Flink's ``RestartBackoffTimeStrategy``
implementations. A JobMaster calls, for each failure::

    new_attempt = strategy.notify_failure(now_ms)   # False: merged into the restart already scheduled
    if not strategy.can_restart(now_ms): fail the job (root cause in /jobs/<id>/exceptions)
    elif new_attempt: cancel the tasks, wait strategy.backoff_time_ms(now_ms), redeploy from the latest checkpoint

or just ``strategy.on_failure(now_ms)`` -> :class:`RestartDecision`.

* ``none`` (also ``off``, ``disable``): never restart.
* ``fixed-delay``: at most ``attempts`` restarts, each after ``delay``.
* ``failure-rate``: restart unless more than ``max-failures-per-interval`` failures fall within
  ``failure-rate-interval``; each restart after ``delay``.
* ``exponential-delay``: the wait starts at ``initial-backoff`` and is multiplied by ``backoff-multiplier`` per
  restart up to ``max-backoff``, +/- ``jitter-factor``; failures during the wait join the scheduled restart;
  ``reset-backoff-threshold`` of running without failure resets the wait and the attempt count; at most
  ``attempts-before-reset-backoff`` restarts in a row.

Default (``restart-strategy.type`` unset): ``exponential-delay`` when checkpointing is enabled, else ``none``.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from typing import Any, Optional, Protocol

from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.common.errors import ConfigurationError

__all__ = [
    "ExponentialDelayRestartBackoffTimeStrategy",
    "FailureRateRestartBackoffTimeStrategy",
    "FixedDelayRestartBackoffTimeStrategy",
    "NoRestartBackoffTimeStrategy",
    "RestartBackoffTimeStrategy",
    "RestartDecision",
    "restart_strategy_from_configuration",
]

_ALIASES = {
    "none": "none", "off": "none", "disable": "none",
    "fixed-delay": "fixed-delay", "fixeddelay": "fixed-delay",
    "failure-rate": "failure-rate", "failurerate": "failure-rate",
    "exponential-delay": "exponential-delay", "exponentialdelay": "exponential-delay",
}


@dataclass(frozen=True)
class RestartDecision:
    """What to do about one failure.

    Attributes:
        restart: whether the job restarts (False: it fails for good).
        delay_ms: how long to wait before redeploying.
        new_attempt: False when the failure was merged into a restart already scheduled (exponential-delay).
    """

    restart: bool
    delay_ms: int
    new_attempt: bool = True


class RestartBackoffTimeStrategy(Protocol):
    """Flink's ``RestartBackoffTimeStrategy`` with the clock passed in."""

    def notify_failure(self, now_ms: int) -> bool:
        """Record a failure at ``now_ms``; whether it counts as a new restart attempt."""
        ...

    def can_restart(self, now_ms: int) -> bool:
        """Whether the job may restart after the failures recorded."""
        ...

    def backoff_time_ms(self, now_ms: int) -> int:
        """How long to wait before restarting, from ``now_ms``."""
        ...

    def on_failure(self, now_ms: int) -> RestartDecision:
        """:meth:`notify_failure`, :meth:`can_restart` and :meth:`backoff_time_ms` in one call."""
        ...


class _Base:
    def notify_failure(self, now_ms: int) -> bool:
        raise NotImplementedError

    def can_restart(self, now_ms: int) -> bool:
        raise NotImplementedError

    def backoff_time_ms(self, now_ms: int) -> int:
        raise NotImplementedError

    def on_failure(self, now_ms: int) -> RestartDecision:
        new_attempt = self.notify_failure(now_ms)
        if not self.can_restart(now_ms):
            return RestartDecision(False, 0, new_attempt)
        return RestartDecision(True, self.backoff_time_ms(now_ms), new_attempt)


class NoRestartBackoffTimeStrategy(_Base):
    """``none``: the first failure fails the job."""

    def notify_failure(self, now_ms: int) -> bool:
        return True

    def can_restart(self, now_ms: int) -> bool:
        return False

    def backoff_time_ms(self, now_ms: int) -> int:
        return 0

    def __repr__(self) -> str:
        return "NoRestartBackoffTimeStrategy"


class FixedDelayRestartBackoffTimeStrategy(_Base):
    """``fixed-delay``: at most ``max_attempts`` restarts, each after ``delay_ms``."""

    def __init__(self, max_attempts: int, delay_ms: int) -> None:
        _check(max_attempts >= 0, opts.RESTART_FIXED_DELAY_ATTEMPTS, "must be at least 0", max_attempts)
        _check(delay_ms >= 0, opts.RESTART_FIXED_DELAY_DELAY, "must be at least 0 ms", delay_ms)
        self.max_attempts = max_attempts
        self.delay_ms = delay_ms
        self.attempt = 0

    def notify_failure(self, now_ms: int) -> bool:
        self.attempt += 1
        return True

    def can_restart(self, now_ms: int) -> bool:
        return self.attempt <= self.max_attempts

    def backoff_time_ms(self, now_ms: int) -> int:
        return self.delay_ms

    def __repr__(self) -> str:
        return f"FixedDelayRestartBackoffTimeStrategy(max_attempts={self.max_attempts}, delay_ms={self.delay_ms})"


class FailureRateRestartBackoffTimeStrategy(_Base):
    """``failure-rate``: the job fails when more than ``max_failures_per_interval`` failures happened within
    ``interval_ms`` of the latest one; otherwise it restarts after ``delay_ms``."""

    def __init__(self, max_failures_per_interval: int, interval_ms: int, delay_ms: int) -> None:
        _check(max_failures_per_interval > 0, opts.RESTART_FAILURE_RATE_MAX_FAILURES, "must be at least 1",
               max_failures_per_interval)
        _check(interval_ms > 0, opts.RESTART_FAILURE_RATE_INTERVAL, "must be more than 0 ms", interval_ms)
        _check(delay_ms >= 0, opts.RESTART_FAILURE_RATE_DELAY, "must be at least 0 ms", delay_ms)
        self.max_failures = max_failures_per_interval
        self.interval_ms = interval_ms
        self.delay_ms = delay_ms
        self._failures: deque[int] = deque()

    def _full(self) -> bool:
        return len(self._failures) > self.max_failures

    def notify_failure(self, now_ms: int) -> bool:
        if self._full():
            self._failures.popleft()
        self._failures.append(now_ms)
        return True

    def can_restart(self, now_ms: int) -> bool:
        return not self._full() or now_ms - self._failures[0] > self.interval_ms

    def backoff_time_ms(self, now_ms: int) -> int:
        return self.delay_ms

    def __repr__(self) -> str:
        return (f"FailureRateRestartBackoffTimeStrategy(max_failures={self.max_failures}, "
                f"interval_ms={self.interval_ms}, delay_ms={self.delay_ms})")


class ExponentialDelayRestartBackoffTimeStrategy(_Base):
    """``exponential-delay`` as Flink 1.19+ (FLIP-364): see the module docstring.

    Args:
        rng: source of the jitter (a seeded ``random.Random`` in tests).
    """

    _NO_RESTART_YET = -(2**31)  # Flink DEFAULT_NEXT_RESTART_TIMESTAMP (Integer.MIN_VALUE)

    def __init__(self, initial_backoff_ms: int, max_backoff_ms: int, multiplier: float,
                 reset_threshold_ms: int, jitter_factor: float, attempts_before_reset: int,
                 rng: Optional[random.Random] = None) -> None:
        _check(initial_backoff_ms >= 1, opts.RESTART_EXP_INITIAL_BACKOFF, "must be at least 1 ms", initial_backoff_ms)
        _check(max_backoff_ms >= 1, opts.RESTART_EXP_MAX_BACKOFF, "must be at least 1 ms", max_backoff_ms)
        _check(initial_backoff_ms <= max_backoff_ms, opts.RESTART_EXP_INITIAL_BACKOFF,
               f"cannot be higher than {opts.RESTART_EXP_MAX_BACKOFF.key} ({max_backoff_ms} ms)", initial_backoff_ms)
        _check(multiplier > 1, opts.RESTART_EXP_MULTIPLIER, "must be greater than 1", multiplier)
        _check(reset_threshold_ms >= 1, opts.RESTART_EXP_RESET_THRESHOLD, "must be at least 1 ms", reset_threshold_ms)
        _check(0 <= jitter_factor <= 1, opts.RESTART_EXP_JITTER, "must be between 0 and 1", jitter_factor)
        _check(attempts_before_reset >= 1, opts.RESTART_EXP_ATTEMPTS, "must be at least 1", attempts_before_reset)
        self.initial_backoff_ms = initial_backoff_ms
        self.max_backoff_ms = max_backoff_ms
        self.multiplier = multiplier
        self.reset_threshold_ms = reset_threshold_ms
        self.jitter_factor = jitter_factor
        self.attempts_before_reset = attempts_before_reset
        self._rng = rng or random.Random()
        self.attempt = 0
        self.next_restart_ms = self._NO_RESTART_YET

    def notify_failure(self, now_ms: int) -> bool:
        if now_ms <= self.next_restart_ms:
            return False  # the tasks restart later anyway: one attempt for all these failures
        if now_ms - self.next_restart_ms >= self.reset_threshold_ms:
            self.attempt = 0
        self.next_restart_ms = now_ms + self._backoff()
        self.attempt += 1
        return True

    def can_restart(self, now_ms: int) -> bool:
        return self.attempt <= self.attempts_before_reset

    def backoff_time_ms(self, now_ms: int) -> int:
        if self.next_restart_ms == self._NO_RESTART_YET:
            raise RuntimeError("backoff_time_ms() before any notify_failure()")
        return max(0, self.next_restart_ms - now_ms)

    def _backoff(self) -> int:
        current = int(self.initial_backoff_ms * self.multiplier ** self.attempt)
        jitter = 0
        if self.jitter_factor:
            offset = int(current * self.jitter_factor)
            jitter = self._rng.randint(-offset, offset)
        return max(self.initial_backoff_ms, min(current + jitter, self.max_backoff_ms))

    def __repr__(self) -> str:
        return (f"ExponentialDelayRestartBackoffTimeStrategy(initial_backoff_ms={self.initial_backoff_ms}, "
                f"max_backoff_ms={self.max_backoff_ms}, multiplier={self.multiplier}, "
                f"reset_threshold_ms={self.reset_threshold_ms}, jitter_factor={self.jitter_factor}, "
                f"attempts_before_reset={self.attempts_before_reset}, attempt={self.attempt})")


def _check(condition: bool, option: opts.ConfigOption[Any], problem: str, value: object) -> None:
    if not condition:
        raise ConfigurationError(f"'{option.key}' {problem}, got {value!r}")


def restart_strategy_from_configuration(conf: Configuration, checkpointing_enabled: bool,
                                        rng: Optional[random.Random] = None) -> RestartBackoffTimeStrategy:
    """A fresh strategy for a job (one per job, kept across its restarts).

    Raises:
        ConfigurationError: an unknown type or a bad sub-key value, naming the key.
    """
    raw = conf.raw()
    value = raw.get(opts.RESTART_STRATEGY.key)
    for old in opts.RESTART_STRATEGY.deprecated_keys:
        value = value if value is not None else raw.get(old)
    if value is None:
        kind = "exponential-delay" if checkpointing_enabled else "none"
    else:
        kind = _ALIASES.get(str(value).strip().lower(), "")
        if not kind:
            raise ConfigurationError(
                f"Bad value for '{opts.RESTART_STRATEGY.key}': {value!r}; expected one of none, off, disable, "
                "fixed-delay, failure-rate, exponential-delay")
    if kind == "none":
        return NoRestartBackoffTimeStrategy()
    if kind == "fixed-delay":
        return FixedDelayRestartBackoffTimeStrategy(conf.get(opts.RESTART_FIXED_DELAY_ATTEMPTS) or 0,
                                                    conf.get(opts.RESTART_FIXED_DELAY_DELAY) or 0)
    if kind == "failure-rate":
        return FailureRateRestartBackoffTimeStrategy(conf.get(opts.RESTART_FAILURE_RATE_MAX_FAILURES) or 0,
                                                     conf.get(opts.RESTART_FAILURE_RATE_INTERVAL) or 0,
                                                     conf.get(opts.RESTART_FAILURE_RATE_DELAY) or 0)
    return ExponentialDelayRestartBackoffTimeStrategy(
        conf.get(opts.RESTART_EXP_INITIAL_BACKOFF) or 0, conf.get(opts.RESTART_EXP_MAX_BACKOFF) or 0,
        conf.get(opts.RESTART_EXP_MULTIPLIER) or 0.0, conf.get(opts.RESTART_EXP_RESET_THRESHOLD) or 0,
        conf.get(opts.RESTART_EXP_JITTER) or 0.0, conf.get(opts.RESTART_EXP_ATTEMPTS) or 0, rng)
