"""A job's checkpoints in the HA services: the pointer store and the id counter wired to checkpoint storage.

:class:`HaCheckpointStorage` wraps the job's :class:`~yflink.checkpoint.storage.CheckpointStorage` so that the
coordinator's driver needs no change (Flink's ``CompletedCheckpointStore`` / ``CheckpointIDCounter`` sit at the
same points):

* ``initialize_location`` (before a checkpoint's barriers go out) first advances the id counter past its id, so a
  later leader never reuses an id;
* ``write_metadata`` writes ``_metadata`` and then adds the pointer to the store. The add is fenced by the
  leader's latch node; when it fails (this JobManager no longer leads, ZooKeeper unreachable) the checkpoint
  fails (``HighAvailabilityError`` is a YFlinkError, which the driver turns into a failed checkpoint), so its
  tasks are never told it completed and two-phase-commit sinks do not commit it;
* ``discard_location`` of a subsumed ``chk-<n>`` removes its pointer before its files.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

from yflink.checkpoint.metadata import CheckpointMetadata
from yflink.checkpoint.storage import CheckpointStorage, CheckpointStorageLocation
from yflink.fs.base import name_of
from yflink.runtime.highavailability.api import (
    CheckpointIDCounter,
    CheckpointPointerStore,
    HighAvailabilityError,
    LeadershipLostError,
)

__all__ = ["HaCheckpointStorage", "JobHighAvailability", "checkpoint_id_of"]

log = logging.getLogger(__name__)


@dataclass
class JobHighAvailability:
    """What one JobMaster keeps in the HA services."""

    pointers: CheckpointPointerStore
    counter: CheckpointIDCounter


def checkpoint_id_of(directory: str) -> int | None:
    """``n`` for a ``.../chk-<n>`` directory, else None."""
    name = name_of(directory.rstrip("/"))
    if name.startswith("chk-") and name[4:].isdigit():
        return int(name[4:])
    return None


class HaCheckpointStorage:
    """Delegates everything to ``storage`` except the three calls above (see the module docstring)."""

    def __init__(self, storage: CheckpointStorage, ha: JobHighAvailability) -> None:
        self._storage = storage
        self._ha = ha

    @classmethod
    def wrap(cls, storage: CheckpointStorage, ha: JobHighAvailability) -> CheckpointStorage:
        return cast(CheckpointStorage, cls(storage, ha))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._storage, name)

    def initialize_location(self, location: CheckpointStorageLocation) -> None:
        if not location.is_savepoint:
            try:
                self._ha.counter.advance_to(location.checkpoint_id + 1)
            except LeadershipLostError:
                raise
            except Exception as exc:  # noqa: BLE001 - kazoo errors become the one HA error the driver knows
                raise HighAvailabilityError(f"checkpoint id counter: {type(exc).__name__}: {exc}") from exc
        self._storage.initialize_location(location)

    def write_metadata(self, location: CheckpointStorageLocation, metadata: CheckpointMetadata) -> str:
        pointer = self._storage.write_metadata(location, metadata)
        if location.is_savepoint or not location.persistent:
            return pointer
        try:
            self._ha.pointers.add(location.checkpoint_id, pointer)
        except LeadershipLostError:
            raise
        except Exception as exc:  # noqa: BLE001 - see initialize_location
            raise HighAvailabilityError(f"could not add checkpoint {location.checkpoint_id} to the HA store: "
                                        f"{type(exc).__name__}: {exc}") from exc
        return pointer

    def discard_location(self, location: CheckpointStorageLocation | str) -> None:
        directory = location.exclusive_dir if isinstance(location, CheckpointStorageLocation) else location
        checkpoint_id = checkpoint_id_of(directory) if directory else None
        if checkpoint_id is not None:
            try:
                self._ha.pointers.remove(checkpoint_id)
            except Exception as exc:  # noqa: BLE001 - the files go anyway; a dangling pointer is skipped on recovery
                log.warning("could not remove checkpoint %d from the HA store: %s", checkpoint_id, exc)
        self._storage.discard_location(location)
