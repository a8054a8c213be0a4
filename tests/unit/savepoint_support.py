"""A fake JobMaster with the savepoint API, behind a real Dispatcher (Flink's ``TestingJobMasterGateway`` idea).

The Dispatcher's operation cache, validation and the REST handlers run for real; only the JobMaster is fake:
its savepoints are names under the target directory (a test decides whether they block or fail), and its job
moves when the test or a stop/cancel says so.
"""

from __future__ import annotations

import asyncio
from typing import Optional

from yflink.checkpoint.errors import CheckpointError, CheckpointFailureReason
from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.fs.base import join
from yflink.graph.job_graph import JobGraph
from yflink.runtime.dispatcher import Dispatcher
from yflink.runtime.jobmaster.execution_graph import ExecutionGraph
from yflink.testing.fakes import FakeDispatcher, small_job_graph

__all__ = ["FakeJobMaster", "dispatcher_with_job", "not_running_failure"]


def not_running_failure() -> CheckpointError:
    return CheckpointError(CheckpointFailureReason.NOT_ALL_REQUIRED_TASKS_RUNNING, "(a task restarts)")


class FakeJobMaster:
    """The JobMaster's savepoint API over a FakeDispatcher-driven ExecutionGraph.

    Attributes:
        calls: ``("savepoint", target, format)``, ``("stop", target, drain)``, ``("cancel",)`` in call order.
        block: when True, savepoints wait until ``release`` is set (set it on the Dispatcher's loop).
        failure: raised by the next savepoints instead of completing (the job keeps running).
    """

    def __init__(self, job_graph: JobGraph, config: Configuration) -> None:
        self._jobs = FakeDispatcher()
        self.graph: ExecutionGraph = self._jobs.add_job(job_graph)
        self._jobs.run_job(job_graph.job_id)
        self.job_id = job_graph.job_id
        self.config = config
        self.calls: list[tuple[object, ...]] = []
        self.block = False
        self.release = asyncio.Event()
        self.failure: Optional[BaseException] = None
        self._count = 0

    async def _savepoint(self, target_directory: Optional[str]) -> str:
        if self.block:
            await self.release.wait()
        if self.failure is not None:
            raise self.failure
        base = target_directory or self.config.get(opts.SAVEPOINT_DIRECTORY)
        assert base, "the Dispatcher lets no savepoint without a directory through"
        self._count += 1
        return join(base, f"savepoint-{self.job_id[:6]}-{self._count:012x}")

    async def trigger_savepoint(self, target_directory: Optional[str], *, format_type: str = "CANONICAL") -> str:
        self.calls.append(("savepoint", target_directory, format_type))
        return await self._savepoint(target_directory)

    async def stop_with_savepoint(self, target_directory: Optional[str], *, drain: bool = False) -> str:
        self.calls.append(("stop", target_directory, drain))
        path = await self._savepoint(target_directory)
        self._jobs.finish_job(self.job_id)
        return path

    async def cancel(self) -> None:
        self.calls.append(("cancel",))
        await self._jobs.cancel_job(self.job_id)

    def finish(self) -> None:
        self._jobs.finish_job(self.job_id)


def dispatcher_with_job(config: Optional[Configuration] = None,
                        job_config: Optional[dict[str, str]] = None) -> tuple[Dispatcher, FakeJobMaster]:
    """A real Dispatcher (never started: no ResourceManager work) holding one RUNNING job on a FakeJobMaster whose
    configuration is ``config`` overlaid with ``job_config``, as the Dispatcher builds a JobMaster's."""
    cluster = config if config is not None else Configuration()
    dispatcher = Dispatcher(cluster, "127.0.0.1:0")
    job_graph = small_job_graph("Savepointed Job")
    jm_config = Configuration(cluster)
    for key, value in (job_config or {}).items():
        jm_config.set(key, value)
    jm = FakeJobMaster(job_graph, jm_config)
    dispatcher.job_masters[job_graph.job_id] = jm  # type: ignore[assignment]
    return dispatcher, jm
