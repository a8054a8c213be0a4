"""Standalone HA services (``high-availability.type: NONE``): today's single JobManager, in memory.

The election grants leadership at once with one fixed session id; retrieval answers the configured addresses;
the stores keep their data in this process only (Flink ``StandaloneHaServices``, ``StandaloneJobGraphStore``,
``StandaloneCheckpointIDCounter``, ``StandaloneCompletedCheckpointStore``, ``EmbeddedJobResultStore``).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Optional

from yflink.graph.job_graph import JobGraph
from yflink.runtime.highavailability.api import (
    CheckpointIDCounter,
    CheckpointPointerStore,
    HighAvailabilityServices,
    JobGraphStore,
    JobResultStore,
    LeaderContender,
    LeaderElection,
    LeaderInformation,
    LeaderRetrieval,
    LeadershipLostError,
)
from yflink.runtime.highavailability.job_result_store import InMemoryJobResultStore

__all__ = ["StandaloneHaServices"]


class StandaloneLeaderElection(LeaderElection):
    def __init__(self, published: Callable[[LeaderInformation], None]) -> None:
        self.session_id = uuid.uuid4().hex
        self._contender: Optional[LeaderContender] = None
        self._published = published

    def start(self, contender: LeaderContender) -> None:
        self._contender = contender
        contender.grant_leadership(self.session_id)

    def confirm_leadership(self, info: LeaderInformation) -> None:
        if info.session_id != self.session_id or self._contender is None:
            raise LeadershipLostError(f"leader session {info.session_id} is not the current one")
        self._published(info)

    def has_leadership(self, session_id: str) -> bool:
        return self._contender is not None and session_id == self.session_id

    def stop(self) -> None:
        contender, self._contender = self._contender, None
        if contender is not None:
            contender.revoke_leadership()


class StandaloneLeaderRetrieval(LeaderRetrieval):
    """Answers a fixed leader (the configured addresses, or what the local election published)."""

    def __init__(self, fixed: Optional[LeaderInformation] = None) -> None:
        self.info = fixed
        self._listener: Optional[Callable[[Optional[LeaderInformation]], None]] = None

    def start(self, listener: Optional[Callable[[Optional[LeaderInformation]], None]] = None) -> None:
        self._listener = listener
        if listener is not None and self.info is not None:
            listener(self.info)

    def publish(self, info: LeaderInformation) -> None:
        self.info = info
        if self._listener is not None:
            self._listener(info)

    def current(self) -> Optional[LeaderInformation]:
        return self.info

    def stop(self) -> None:
        self._listener = None


class _MemoryJobGraphStore(JobGraphStore):
    def __init__(self) -> None:
        self._graphs: dict[str, JobGraph] = {}

    def put(self, job_graph: JobGraph) -> None:
        self._graphs[job_graph.job_id] = job_graph

    def get(self, job_id: str) -> JobGraph:
        return self._graphs[job_id]

    def job_ids(self) -> list[str]:
        return list(self._graphs)

    def remove(self, job_id: str) -> None:
        self._graphs.pop(job_id, None)


class _MemoryCounter(CheckpointIDCounter):
    def __init__(self) -> None:
        self._next = 1
        self._lock = threading.Lock()

    def get(self) -> int:
        return self._next

    def advance_to(self, next_id: int) -> None:
        with self._lock:
            self._next = max(self._next, next_id)

    def remove(self) -> None:
        self._next = 1


class _MemoryPointers(CheckpointPointerStore):
    def __init__(self) -> None:
        self._pointers: dict[int, str] = {}

    def add(self, checkpoint_id: int, pointer: str) -> None:
        self._pointers[checkpoint_id] = pointer

    def remove(self, checkpoint_id: int) -> None:
        self._pointers.pop(checkpoint_id, None)

    def pointers(self) -> list[tuple[int, str]]:
        return sorted(self._pointers.items())

    def remove_all(self) -> None:
        self._pointers.clear()


class StandaloneHaServices(HighAvailabilityServices):
    """No high availability. ``fixed_leader``: what retrieval answers before (or without) a local election."""

    highly_available = False

    def __init__(self, fixed_leader: Optional[LeaderInformation] = None) -> None:
        self._retrieval = StandaloneLeaderRetrieval(fixed_leader)
        self._graphs = _MemoryJobGraphStore()
        self._counters: dict[str, _MemoryCounter] = {}
        self._pointers: dict[str, _MemoryPointers] = {}
        self._results = InMemoryJobResultStore()

    def leader_election(self) -> LeaderElection:
        return StandaloneLeaderElection(self._retrieval.publish)

    def leader_retrieval(self) -> LeaderRetrieval:
        return self._retrieval

    def job_graph_store(self) -> JobGraphStore:
        return self._graphs

    def checkpoint_id_counter(self, job_id: str) -> CheckpointIDCounter:
        return self._counters.setdefault(job_id, _MemoryCounter())

    def checkpoint_pointer_store(self, job_id: str) -> CheckpointPointerStore:
        return self._pointers.setdefault(job_id, _MemoryPointers())

    def job_result_store(self) -> JobResultStore:
        return self._results

    def cleanup_job(self, job_id: str) -> None:
        super().cleanup_job(job_id)
        self._counters.pop(job_id, None)
        self._pointers.pop(job_id, None)

    def cleanup_all_data(self) -> None:
        for job_id in self._graphs.job_ids():
            self.cleanup_job(job_id)
        self._counters.clear()
        self._pointers.clear()
        self._results.remove_all()

    def close(self) -> None:
        pass
