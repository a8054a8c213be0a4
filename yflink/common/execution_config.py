"""ExecutionConfig (PyFlink ``pyflink.common.ExecutionConfig``): a view on the job's Configuration.

Every setter writes Flink's configuration key into the environment's :class:`Configuration`, so what
``env.get_config().set_parallelism(4)`` sets is what the job is built and submitted with.

Keys: ``parallelism.default``, ``pipeline.max-parallelism``, ``pipeline.auto-watermark-interval`` (ms),
``pipeline.global-job-parameters`` (a ``{str: str}`` map), ``pipeline.object-reuse``.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any, Union

from yflink.common import config_options as opts
from yflink.common.configuration import Configuration

__all__ = [
    "GLOBAL_JOB_PARAMETERS",
    "ExecutionConfig",
    "global_job_parameters",
    "job_parameters_from",
    "parse_global_job_parameters",
]

#: Flink's key of the global job parameters (a map; Flink's text form is ``k1:v1,k2:v2``).
GLOBAL_JOB_PARAMETERS = "pipeline.global-job-parameters"
OBJECT_REUSE = "pipeline.object-reuse"


def parse_global_job_parameters(raw: Any) -> dict[str, str]:
    """``{str: str}`` from a dict, its ``str()`` (``{'k': 'v'}``) or Flink's text form ``k1:v1,k2:v2``."""
    if not raw:
        return {}
    if isinstance(raw, Mapping):
        return {str(k): str(v) for k, v in raw.items()}
    text = str(raw).strip()
    if text.startswith("{"):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = None
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
    params: dict[str, str] = {}
    for item in text.split(","):
        key, _, value = item.partition(":")
        if key.strip():
            params[key.strip()] = value.strip()
    return params


def job_parameters_from(settings: Mapping[str, Any]) -> dict[str, str]:
    """The global job parameters held in a key/value map of settings: under ``pipeline.global-job-parameters``
    (a dict, its ``str()`` or ``k1:v1,k2:v2``) or flattened from YAML as ``pipeline.global-job-parameters.<k>``."""
    params = parse_global_job_parameters(settings.get(GLOBAL_JOB_PARAMETERS))
    prefix = GLOBAL_JOB_PARAMETERS + "."
    for key, value in settings.items():
        if key.startswith(prefix):
            params[key[len(prefix):]] = str(value)
    return params


def global_job_parameters(config: Configuration) -> dict[str, str]:
    """The global job parameters of ``config`` as ``{str: str}``."""
    return job_parameters_from(config.raw())


class ExecutionConfig:
    """Settings of the program's execution, written through to the environment's Configuration."""

    def __init__(self, configuration: Configuration) -> None:
        self._config = configuration

    def get_parallelism(self) -> int:
        return self._config.get(opts.PARALLELISM_DEFAULT)

    def set_parallelism(self, parallelism: int) -> ExecutionConfig:
        """Default parallelism of operators that set none; must be at least 1."""
        if parallelism < 1:
            raise ValueError(f"parallelism must be at least 1, got {parallelism}")
        self._config.set(opts.PARALLELISM_DEFAULT, int(parallelism))
        return self

    def get_max_parallelism(self) -> int:
        """The number of key groups; -1 when derived from the parallelism."""
        return self._config.get(opts.MAX_PARALLELISM)

    def set_max_parallelism(self, max_parallelism: int) -> ExecutionConfig:
        """Number of key groups, 1..32768: the upper bound of rescaling keyed state."""
        if not 0 < max_parallelism <= 1 << 15:
            raise ValueError(f"max parallelism must be in 1..32768, got {max_parallelism}")
        self._config.set(opts.MAX_PARALLELISM, int(max_parallelism))
        return self

    def get_auto_watermark_interval(self) -> int:
        """Interval of periodic watermarks, ms."""
        return self._config.get(opts.AUTO_WATERMARK_INTERVAL)

    def set_auto_watermark_interval(self, interval: int) -> ExecutionConfig:
        """Interval of periodic watermarks in ms; 0 disables periodic watermarks."""
        self._config.set(opts.AUTO_WATERMARK_INTERVAL, int(interval))
        return self

    def get_global_job_parameters(self) -> dict[str, str]:
        return global_job_parameters(self._config)

    def set_global_job_parameters(self, global_job_parameters_dict: Union[Mapping[str, Any], Configuration]) \
            -> ExecutionConfig:
        """Parameters every function can read through ``RuntimeContext.get_job_parameter``."""
        if isinstance(global_job_parameters_dict, Configuration):
            params = global_job_parameters_dict.to_dict()
        else:
            params = {str(k): str(v) for k, v in global_job_parameters_dict.items()}
        self._config.set(GLOBAL_JOB_PARAMETERS, params)
        return self

    def enable_object_reuse(self) -> ExecutionConfig:
        self._config.set(OBJECT_REUSE, True)
        return self

    def disable_object_reuse(self) -> ExecutionConfig:
        self._config.set(OBJECT_REUSE, False)
        return self

    def is_object_reuse_enabled(self) -> bool:
        return self._config.get_boolean(OBJECT_REUSE, False)

    def __repr__(self) -> str:
        return f"ExecutionConfig(parallelism={self.get_parallelism()}, max_parallelism={self.get_max_parallelism()})"
