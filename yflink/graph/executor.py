"""Pipeline executors: the seam between ``env.execute()`` and a cluster.

Source of the semantics: Flink ``PipelineExecutor``, ``PipelineExecutorServiceLoader`` and ``JobClient``.
The user API hands a StreamGraph and the job's configuration to the executor named by ``execution.target``
(``local`` by default: the embedded cluster; ``remote``: a running cluster at ``rest.address:rest.port``).
Executors live in :mod:`yflink.deploy` and are found by name, so the API imports no runtime code.

A *context configuration* lets ``yflink run`` (like Flink's ``ContextEnvironment``) tell the user's
program where to submit: the CLI sets it before running the script, and
``StreamExecutionEnvironment.get_execution_environment()`` starts from it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Optional, Protocol

from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.common.errors import ConfigurationError
from yflink.common.job_execution_result import JobExecutionResult

if TYPE_CHECKING:
    from yflink.graph.stream_graph import StreamGraph


class JobClient(Protocol):
    """A handle on a submitted job (PyFlink ``JobClient``)."""

    def get_job_id(self) -> str: ...

    def get_job_status(self) -> str:
        """The current JobStatus name (``RUNNING``, ``FINISHED``, ...)."""

    def cancel(self) -> None: ...

    def get_job_execution_result(self) -> JobExecutionResult:
        """Block until the job ends; raises JobExecutionError when it did not FINISH."""

    def collect(self, operator_id: str) -> Iterator[Any]:
        """Records of the collect sink ``operator_id`` (``execute_and_collect``), blocking until the job ends."""


class PipelineExecutor(Protocol):
    def execute(self, stream_graph: StreamGraph, config: Configuration) -> JobClient:
        """Submit the job; returns once it is accepted. Raises JobSubmissionError."""


_EXECUTORS = {
    "local": "yflink.deploy.local:LocalExecutor",
    "remote": "yflink.deploy.remote:RemoteExecutor",
}

_context_config: Optional[Configuration] = None


def set_context_configuration(config: Optional[Configuration]) -> None:
    """Set (or clear with None) the configuration that new environments start from."""
    global _context_config
    _context_config = config


def get_context_configuration() -> Configuration:
    """A copy of the context configuration (empty when none is set)."""
    return Configuration(_context_config) if _context_config is not None else Configuration()


def get_executor(config: Configuration) -> PipelineExecutor:
    """The executor for ``execution.target``; raises ConfigurationError for an unknown target."""
    target = (config.get(opts.EXECUTION_TARGET) or "local").lower()
    if target not in _EXECUTORS:
        raise ConfigurationError(
            f"Bad value for 'execution.target': {target!r}; expected one of {', '.join(sorted(_EXECUTORS))}")
    module_name, _, class_name = _EXECUTORS[target].partition(":")
    executor_class: Any = getattr(importlib.import_module(module_name), class_name)
    return executor_class()  # type: ignore[no-any-return]
