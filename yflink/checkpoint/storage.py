"""Checkpoint storage: Flink's directory layout on one filesystem interface (:mod:`yflink.fs`).

Layout (Flink documentation "Checkpoints" > "Directory Structure"; ``FsCheckpointStorageAccess``)::

    <execution.checkpointing.dir>/<job-id>/        (no <job-id> level with create-subdir = false)
        shared/          files several checkpoints may use (incremental state), reference counted
        taskowned/       files the tasks own (never deleted by the JobMaster)
        chk-<n>/         files exclusive to checkpoint n, and its _metadata (written last)
    <execution.checkpointing.savepoint-dir or the given target>/
        savepoint-<first 6 of job-id>-<12 random hex>/_metadata   (everything of the savepoint in it)

A checkpoint or savepoint exists once its ``_metadata`` exists: the JobMaster writes it last, atomically
(temporary file, then rename), after every task acknowledged. A directory without ``_metadata`` is an
unfinished checkpoint and is never restored.

Without ``execution.checkpointing.dir`` a job uses :class:`JobManagerCheckpointStorage` (Flink's
``JobManagerCheckpointStorage``): checkpoints are kept in the JobMaster's memory only (tasks put all their state
inline into the acknowledgement as ``ByteStreamStateHandle`` objects, the coordinator's completed-checkpoint store
keeps the metadata, nothing is written to disk, the external pointer is :data:`NON_PERSISTENT_POINTER`); savepoints are
still written to their directory.

The class is used on both sides: the JobMaster computes locations (pure), creates them, writes and reads
metadata, finds the latest readable checkpoint and deletes discarded ones; a task writes state files into the
location its barrier names (:meth:`write_state_file`) and reads them back on restore (:meth:`read_stream`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Optional

from yflink.checkpoint.errors import CheckpointError, CheckpointFailureReason, CheckpointMetadataError
from yflink.checkpoint.handles import ByteStreamStateHandle, FileStateHandle, StreamStateHandle
from yflink.checkpoint.metadata import CheckpointMetadata, deserialize_metadata, serialize_metadata
from yflink.checkpoint.options import CheckpointCoordinatorConfiguration
from yflink.fs.base import FileSystem, FileSystemError, get_file_system, join, name_of, normalize, parent_of

__all__ = [
    "CHECKPOINT_DIR_PREFIX",
    "METADATA_FILE_NAME",
    "SHARED_STATE_DIR",
    "TASK_OWNED_STATE_DIR",
    "NON_PERSISTENT_POINTER",
    "CheckpointStorage",
    "CheckpointStorageLocation",
    "JobManagerCheckpointStorage",
]

CHECKPOINT_DIR_PREFIX = "chk-"
SHARED_STATE_DIR = "shared"
TASK_OWNED_STATE_DIR = "taskowned"
METADATA_FILE_NAME = "_metadata"
#: the external pointer of a checkpoint kept in memory (Flink ``NonPersistentMetadataCheckpointStorageLocation``)
NON_PERSISTENT_POINTER = "<checkpoint-not-externally-addressable>"
_CHECKPOINT_DIR = re.compile(r"^chk-(\d+)$")


@dataclass(frozen=True)
class CheckpointStorageLocation:
    """Where one checkpoint or savepoint goes.

    Attributes:
        checkpoint_id: its id.
        exclusive_dir: URI of ``chk-<n>`` or the savepoint directory; tasks write exclusive state here.
        shared_dir: URI of ``<job>/shared`` (None for savepoints, which are self-contained).
        taskowned_dir: URI of ``<job>/taskowned`` (None for savepoints).
        is_savepoint: whether it is a savepoint location.
        persistent: False for a checkpoint kept in the JobMaster's memory (:class:`JobManagerCheckpointStorage`):
            ``exclusive_dir`` is empty, tasks keep their state inline, no ``_metadata`` is written.
    """

    checkpoint_id: int
    exclusive_dir: str
    shared_dir: Optional[str] = None
    taskowned_dir: Optional[str] = None
    is_savepoint: bool = False
    persistent: bool = True

    @property
    def metadata_path(self) -> str:
        return join(self.exclusive_dir, METADATA_FILE_NAME)


class CheckpointStorage:
    """Checkpoint and savepoint storage of one job.

    Args:
        job_id: the job's id (32 hex digits).
        checkpoints_dir: ``execution.checkpointing.dir`` (None: checkpoints cannot be stored; savepoints still
            can, to an explicit target).
        savepoints_dir: ``execution.checkpointing.savepoint-dir`` (default target of savepoints).
        create_subdir: put checkpoints under ``<checkpoints_dir>/<job_id>``.
        fs_for: the filesystem for a URI (tests pass fakes); :func:`yflink.fs.get_file_system` by default.
        random_hex: source of the random part of savepoint directory names (tests pass a fixed one).
    """

    def __init__(self, job_id: str, checkpoints_dir: Optional[str], savepoints_dir: Optional[str] = None, *,
                 create_subdir: bool = True, fs_for: Callable[[str], FileSystem] = get_file_system,
                 random_hex: Callable[[], str] = lambda: uuid.uuid4().hex[:12]) -> None:
        self.job_id = job_id
        self._fs_for = fs_for
        self._random_hex = random_hex
        self.savepoints_dir = normalize(savepoints_dir) if savepoints_dir else None
        if checkpoints_dir:
            base = normalize(checkpoints_dir)
            self.job_dir: Optional[str] = join(base, job_id) if create_subdir else base
        else:
            self.job_dir = None

    @classmethod
    def from_config(cls, job_id: str, config: CheckpointCoordinatorConfiguration,
                    fs_for: Callable[[str], FileSystem] = get_file_system) -> CheckpointStorage:
        """File-system storage under ``execution.checkpointing.dir``, or :class:`JobManagerCheckpointStorage`
        when it is unset (Flink's default checkpoint storage)."""
        if not config.checkpoints_dir:
            return JobManagerCheckpointStorage(job_id, config.savepoints_dir, fs_for=fs_for)
        return cls(job_id, config.checkpoints_dir, config.savepoints_dir, create_subdir=config.create_subdir,
                   fs_for=fs_for)

    @property
    def is_persistent(self) -> bool:
        """Whether checkpoints (not savepoints) go to files that outlive the JobMaster."""
        return self.job_dir is not None

    # --- locations (pure) --------------------------------------------------------------------------------
    @property
    def shared_dir(self) -> Optional[str]:
        return join(self.job_dir, SHARED_STATE_DIR) if self.job_dir else None

    @property
    def taskowned_dir(self) -> Optional[str]:
        return join(self.job_dir, TASK_OWNED_STATE_DIR) if self.job_dir else None

    def checkpoint_location(self, checkpoint_id: int) -> CheckpointStorageLocation:
        """``<job dir>/chk-<n>``.

        Raises:
            CheckpointError: no checkpoint directory is configured (CHECKPOINT_STORAGE_NOT_CONFIGURED).
        """
        if self.job_dir is None:
            raise CheckpointError(CheckpointFailureReason.CHECKPOINT_STORAGE_NOT_CONFIGURED,
                                  "Set execution.checkpointing.dir (or state.checkpoints.dir).", checkpoint_id)
        return CheckpointStorageLocation(checkpoint_id, join(self.job_dir, f"{CHECKPOINT_DIR_PREFIX}{checkpoint_id}"),
                                         self.shared_dir, self.taskowned_dir)

    def savepoint_location(self, checkpoint_id: int, target_dir: Optional[str] = None) -> CheckpointStorageLocation:
        """``<target or savepoint dir>/savepoint-<jobid6>-<random>`` (a new name every call).

        Raises:
            CheckpointError: neither a target nor ``execution.checkpointing.savepoint-dir`` is given.
        """
        base = normalize(target_dir) if target_dir else self.savepoints_dir
        if base is None:
            raise CheckpointError(CheckpointFailureReason.CHECKPOINT_STORAGE_NOT_CONFIGURED,
                                  "No savepoint directory: pass a target directory or set "
                                  "execution.checkpointing.savepoint-dir (or state.savepoints.dir).", checkpoint_id)
        name = f"savepoint-{self.job_id[:6]}-{self._random_hex()}"
        return CheckpointStorageLocation(checkpoint_id, join(base, name), is_savepoint=True)

    # --- locations (I/O) ---------------------------------------------------------------------------------
    def initialize_base_locations(self) -> None:
        """Create ``shared/`` and ``taskowned/`` (at job start)."""
        for directory in (self.shared_dir, self.taskowned_dir):
            if directory is not None:
                self._fs_for(directory).mkdirs(directory)

    def initialize_location(self, location: CheckpointStorageLocation) -> None:
        """Create the location's exclusive directory (before the barriers go out); nothing for in-memory ones."""
        if location.persistent:
            self._fs_for(location.exclusive_dir).mkdirs(location.exclusive_dir)

    def discard_location(self, location: CheckpointStorageLocation | str) -> None:
        """Delete an exclusive directory with everything in it (a subsumed or failed checkpoint)."""
        directory = location.exclusive_dir if isinstance(location, CheckpointStorageLocation) else location
        if directory and directory != NON_PERSISTENT_POINTER:
            self._fs_for(directory).delete(directory, recursive=True)

    def delete_files(self, paths: Iterable[str]) -> list[str]:
        """Delete files (best effort); the URIs that could not be deleted."""
        failed = []
        for path in paths:
            try:
                self._fs_for(path).delete(path)
            except FileSystemError:
                failed.append(path)
        return failed

    # --- metadata ----------------------------------------------------------------------------------------
    def write_metadata(self, location: CheckpointStorageLocation, metadata: CheckpointMetadata) -> str:
        """Write ``_metadata`` atomically, last; returns the external pointer (the directory URI) that
        ``yflink run -s`` takes; an in-memory location writes nothing and returns :data:`NON_PERSISTENT_POINTER`."""
        if not location.persistent:
            return NON_PERSISTENT_POINTER
        data = serialize_metadata(metadata, base_dir=location.exclusive_dir)
        self._fs_for(location.metadata_path).write_atomic(location.metadata_path, data)
        return location.exclusive_dir

    def read_metadata(self, pointer: str) -> CheckpointMetadata:
        """The metadata of a checkpoint or savepoint given by its directory or its ``_metadata`` file.

        Raises:
            CheckpointMetadataError: missing, unreadable, corrupt, or from a newer yflink (message says which).
        """
        if pointer == NON_PERSISTENT_POINTER:
            raise CheckpointMetadataError(
                f"{pointer}: this checkpoint was kept in the JobMaster's memory (no execution.checkpointing.dir) "
                "and cannot be read back from storage")
        path = normalize(pointer)
        fs = self._fs_for(path)
        if name_of(path) != METADATA_FILE_NAME and (fs.is_dir(path) or not fs.exists(path)):
            path = join(path, METADATA_FILE_NAME)
        if not fs.exists(path):
            raise CheckpointMetadataError(
                f"No checkpoint or savepoint at {pointer}: {path} does not exist (the checkpoint never completed, "
                "or was deleted)")
        try:
            data = fs.read(path)
        except FileSystemError as exc:
            raise CheckpointMetadataError(f"Cannot read {path}: {exc}") from None
        return deserialize_metadata(data, path, base_dir=parent_of(path))

    def completed_checkpoint_dirs(self) -> list[tuple[int, str]]:
        """``(checkpoint id, directory)`` of every ``chk-<n>`` holding a ``_metadata`` file, newest first."""
        if self.job_dir is None:
            return []
        fs = self._fs_for(self.job_dir)
        found = []
        for name in fs.list_dir(self.job_dir):
            match = _CHECKPOINT_DIR.match(name)
            if match and fs.exists(join(self.job_dir, name, METADATA_FILE_NAME)):
                found.append((int(match.group(1)), join(self.job_dir, name)))
        return sorted(found, reverse=True)

    def latest_readable_checkpoint(self) -> tuple[Optional[CheckpointMetadata], list[str]]:
        """The newest checkpoint whose ``_metadata`` reads back, and why newer ones were skipped.

        Used to resume without HA (the JobMaster has no CompletedCheckpointStore of the previous run): a
        corrupt or unreadable newest ``_metadata`` falls back to the previous checkpoint.
        """
        problems: list[str] = []
        for _, directory in self.completed_checkpoint_dirs():
            try:
                return self.read_metadata(directory), problems
            except CheckpointMetadataError as exc:
                problems.append(str(exc))
        return None, problems

    # --- state files (task side) -------------------------------------------------------------------------
    def write_state_file(self, directory: str, data: bytes, name: Optional[str] = None) -> FileStateHandle:
        """Write ``data`` as a new file in ``directory`` (a random name unless given); its handle."""
        path = join(directory, name or uuid.uuid4().hex)
        self._fs_for(path).write_atomic(path, data)
        return FileStateHandle(path, len(data))

    def read_stream(self, handle: StreamStateHandle, offset: int = 0, length: Optional[int] = None) -> bytes:
        """Bytes of a stream handle (a file range, or the inline bytes)."""
        if isinstance(handle, ByteStreamStateHandle):
            return handle.data[offset:None if length is None else offset + length]
        return self._fs_for(handle.path).read(handle.path, offset, length)

    def list_shared_files(self) -> list[str]:
        """URIs of every file in ``shared/`` (to find orphans)."""
        if self.shared_dir is None:
            return []
        fs = self._fs_for(self.shared_dir)
        return [join(self.shared_dir, name) for name in fs.list_dir(self.shared_dir)]


class JobManagerCheckpointStorage(CheckpointStorage):
    """Checkpoints kept in the JobMaster's memory (Flink ``JobManagerCheckpointStorage``), savepoints in files.

    A checkpoint location is non-persistent (``persistent=False``, empty ``exclusive_dir``): the barrier carries
    no target directory, so tasks put every state stream inline (``ByteStreamStateHandle``) into their
    acknowledgement; ``_metadata`` is not written, the coordinator's completed-checkpoint store holds it. Such
    checkpoints survive task failures but not the JobMaster. Savepoints need a target directory or
    ``execution.checkpointing.savepoint-dir`` as with file-system storage.

    Args:
        job_id: the job's id.
        savepoints_dir: default savepoint directory (URI), or None.
        fs_for / random_hex: as :class:`CheckpointStorage`.
    """

    def __init__(self, job_id: str, savepoints_dir: Optional[str] = None, *,
                 fs_for: Callable[[str], FileSystem] = get_file_system,
                 random_hex: Callable[[], str] = lambda: uuid.uuid4().hex[:12]) -> None:
        super().__init__(job_id, None, savepoints_dir, fs_for=fs_for, random_hex=random_hex)

    def checkpoint_location(self, checkpoint_id: int) -> CheckpointStorageLocation:
        """A non-persistent location: the state stays inline, in memory."""
        return CheckpointStorageLocation(checkpoint_id, "", persistent=False)
