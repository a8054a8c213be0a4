"""JobResultStore implementations: in memory (no HA) and on a file system (ZooKeeper HA).

Source: Flink "High Availability" > "JobResultStore", ``EmbeddedJobResultStore`` and ``FileSystemJobResultStore``
(configuration ``job-result-store.storage-path``, ``job-result-store.delete-on-commit``). The file-system store
keeps one JSON file per globally terminated job under its base path::

    <job id>_DIRTY.json     written when the job reaches FINISHED, FAILED or CANCELED (before its HA cleanup)
    <job id>.json           the same entry after the cleanup, with delete-on-commit false (else deleted)

Every method may block (HDFS): asyncio callers use ``asyncio.to_thread``. File system failures raise
:class:`~yflink.fs.base.FileSystemError`; an unreadable entry is logged and skipped by the listing methods.
"""

from __future__ import annotations

import logging
import threading
from typing import Optional

from yflink.fs.base import FileSystem, get_file_system, join, normalize
from yflink.runtime.highavailability.api import JobResult, JobResultStore

__all__ = ["CLEAN_SUFFIX", "DIRTY_SUFFIX", "FileSystemJobResultStore", "InMemoryJobResultStore"]

log = logging.getLogger(__name__)
DIRTY_SUFFIX = "_DIRTY.json"  # Flink's FileSystemJobResultStore.DIRTY_FILE_EXTENSION
CLEAN_SUFFIX = ".json"


class InMemoryJobResultStore(JobResultStore):
    """Flink's ``EmbeddedJobResultStore``: this process only (``high-availability.type: NONE``)."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[JobResult, bool]] = {}  # job id -> (result, dirty)
        self._lock = threading.Lock()

    def create_dirty_result(self, result: JobResult) -> None:
        with self._lock:
            if result.job_id in self._entries:
                raise ValueError(f"The JobResultStore already has an entry for job {result.job_id}")
            self._entries[result.job_id] = (result, True)

    def mark_result_as_clean(self, job_id: str) -> None:
        with self._lock:
            if job_id not in self._entries:
                raise KeyError(f"No job result entry for job {job_id} to mark clean")
            self._entries[job_id] = (self._entries[job_id][0], False)

    def has_dirty_job_result_entry(self, job_id: str) -> bool:
        entry = self._entries.get(job_id)
        return entry is not None and entry[1]

    def has_clean_job_result_entry(self, job_id: str) -> bool:
        entry = self._entries.get(job_id)
        return entry is not None and not entry[1]

    def get_result(self, job_id: str) -> Optional[JobResult]:
        entry = self._entries.get(job_id)
        return entry[0] if entry is not None else None

    def get_dirty_results(self) -> list[JobResult]:
        return [r for r, dirty in list(self._entries.values()) if dirty]

    def get_clean_results(self) -> list[JobResult]:
        return [r for r, dirty in list(self._entries.values()) if not dirty]

    def remove_all(self) -> None:
        with self._lock:
            self._entries.clear()


class FileSystemJobResultStore(JobResultStore):
    """Flink's ``FileSystemJobResultStore`` on any yflink file system (``file://``, ``hdfs://``).

    Args:
        base_path: the directory of the entries (``job-result-store.storage-path``; the HA services default it
            to ``<high-availability.storageDir>/job-result-store/<cluster-id>``).
        delete_on_commit: ``job-result-store.delete-on-commit``: delete an entry when it is marked clean
            (True, Flink's default) or keep it as ``<job id>.json``.
    """

    def __init__(self, base_path: str, delete_on_commit: bool = True) -> None:
        self.base_path = normalize(base_path)
        self.delete_on_commit = delete_on_commit
        self._file_system: Optional[FileSystem] = None

    @property
    def _fs(self) -> FileSystem:
        """Resolved on first use: clients that only look up the leader never touch the store's file system."""
        if self._file_system is None:
            self._file_system = get_file_system(self.base_path)
        return self._file_system

    def dirty_path(self, job_id: str) -> str:
        return join(self.base_path, job_id + DIRTY_SUFFIX)

    def clean_path(self, job_id: str) -> str:
        return join(self.base_path, job_id + CLEAN_SUFFIX)

    def create_dirty_result(self, result: JobResult) -> None:
        if self.has_job_result_entry(result.job_id):
            raise ValueError(f"The JobResultStore at {self.base_path} already has an entry for job {result.job_id}")
        self._fs.mkdirs(self.base_path)
        self._fs.write_atomic(self.dirty_path(result.job_id), result.to_json())

    def mark_result_as_clean(self, job_id: str) -> None:
        dirty = self.dirty_path(job_id)
        if not self._fs.exists(dirty):
            if self._fs.exists(self.clean_path(job_id)):
                return
            raise KeyError(f"No job result entry for job {job_id} under {self.base_path} to mark clean")
        if self.delete_on_commit:
            self._fs.delete(dirty)
        else:
            self._fs.rename(dirty, self.clean_path(job_id))

    def has_dirty_job_result_entry(self, job_id: str) -> bool:
        return self._fs.exists(self.dirty_path(job_id))

    def has_clean_job_result_entry(self, job_id: str) -> bool:
        return self._fs.exists(self.clean_path(job_id))

    def get_result(self, job_id: str) -> Optional[JobResult]:
        for path in (self.dirty_path(job_id), self.clean_path(job_id)):
            if self._fs.exists(path):
                return JobResult.from_json(self._fs.read(path))
        return None

    def _results(self, dirty: bool) -> list[JobResult]:
        out = []
        for name in self._fs.list_dir(self.base_path):
            if name.startswith(".") or name.endswith(DIRTY_SUFFIX) != dirty or not name.endswith(CLEAN_SUFFIX):
                continue
            path = join(self.base_path, name)
            try:
                out.append(JobResult.from_json(self._fs.read(path)))
            except Exception as exc:  # noqa: BLE001 - one unreadable entry must not hide the others
                log.error("Skipping the unreadable job result entry %s: %s", path, exc)
        return out

    def get_dirty_results(self) -> list[JobResult]:
        return self._results(dirty=True)

    def get_clean_results(self) -> list[JobResult]:
        return self._results(dirty=False)

    def remove_all(self) -> None:
        self._fs.delete(self.base_path, recursive=True)
