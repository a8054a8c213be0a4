"""Reference counting of shared state files (incremental checkpoints), so subsumption leaves no orphans.

An incremental backend uploads a file to ``<job>/shared/`` once and lists it again in every later checkpoint
that still needs it. A shared file may be deleted only when **no retained checkpoint** lists it any more
(Flink ``SharedStateRegistry``). The registry records, per file URI, the completed checkpoints that use it:

* :meth:`register_checkpoint` when a checkpoint completes (or is found again on recovery);
* :meth:`unregister_checkpoint` when it is subsumed or discarded: returns the files nobody uses any more, which
  the caller deletes;
* :meth:`unreferenced` filters the shared files of a checkpoint that never completed (aborted, expired, late
  acknowledgement): files a completed checkpoint registered stay, the rest may be deleted.

Pure bookkeeping; deleting is the caller's (the coordinator's driver's) job.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["SharedStateRegistry"]


class SharedStateRegistry:
    """Which completed checkpoints use which shared files."""

    def __init__(self) -> None:
        self._users: dict[str, set[int]] = {}
        self._files_of: dict[int, set[str]] = {}

    def register_checkpoint(self, checkpoint_id: int, shared_files: Iterable[str]) -> None:
        """Checkpoint ``checkpoint_id`` completed and uses ``shared_files``."""
        files = set(shared_files)
        self._files_of.setdefault(checkpoint_id, set()).update(files)
        for path in files:
            self._users.setdefault(path, set()).add(checkpoint_id)

    def unregister_checkpoint(self, checkpoint_id: int) -> list[str]:
        """Checkpoint ``checkpoint_id`` is gone; the shared files no retained checkpoint uses any more (sorted)."""
        unused = []
        for path in self._files_of.pop(checkpoint_id, set()):
            users = self._users.get(path)
            if users is None:
                continue
            users.discard(checkpoint_id)
            if not users:
                del self._users[path]
                unused.append(path)
        return sorted(unused)

    def is_registered(self, path: str) -> bool:
        return path in self._users

    def unreferenced(self, shared_files: Iterable[str]) -> list[str]:
        """Those of ``shared_files`` that no completed checkpoint uses (safe to delete), sorted."""
        return sorted({path for path in shared_files if path not in self._users})

    def registered_files(self) -> set[str]:
        return set(self._users)

    def __len__(self) -> int:
        return len(self._users)
