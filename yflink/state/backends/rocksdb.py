"""The RocksDB keyed state backend (Flink ``EmbeddedRocksDBStateBackend``): keyed state on local disk.

Selected by ``state.backend.type: rocksdb`` (see :func:`yflink.state.backends.create_keyed_state_backend`). State
lives in a RocksDB database (rocksdict ``Rdict``) in a working directory of its own under
``state.backend.rocksdb.localdir`` (else ``io.tmp.dirs``, else the system temp directory), so keyed state may be
larger than memory. Layout, as Flink's:

* one **column family per state name**;
* a RocksDB key is the key group (2 bytes, big-endian) followed by the pickled key, so a key-group range is a
  contiguous key range (iterated when rescaling, Flink ``RocksDBKeyedStateBackend``);
* values are pickled (protocol 5). Two keys are the same key when their pickles are equal (Flink compares
  serialized bytes too): ``1`` and ``1.0`` are one key in the hashmap backend and two here.

The backend *is* a :class:`~yflink.state.backends.hashmap.HashMapKeyedStateBackend` whose tables are
:class:`RocksDBTable` mappings instead of dicts, so every state kind, TTL and the operators that use raw tables
(reduce, windows, interval join) behave exactly as on the heap. A table keeps the values read or written since
its last write-back in a small cache, so values fetched for the current key may be mutated in place (as the heap
handles do); the cache is written back and emptied (all but the current key's entries) when it holds more than
``cache_entries`` values and the current key changes, when it holds four times that many at any access (operators
such as the keyed sum touch tables without setting a current key: all but the accessed key's entries go), and
before every snapshot or full iteration.

**Timers** stay on the heap (tables of kind ``timers`` are dicts), as Flink allows with
``state.backend.rocksdb.timer-service.factory: HEAP``; they are snapshotted with the rest.

**Snapshots** (:meth:`RocksDBKeyedStateBackend.snapshot`) take a RocksDB checkpoint (hard links of the immutable
SST files, after a memtable flush) synchronously and return a :class:`RocksDBSnapshot`, a lazily materialised
:class:`~yflink.state.snapshot.KeyedStateSnapshot`: reading its ``groups`` (or pickling it) produces the canonical
snapshot by key group, which restores into either backend (Flink "Savepoints" > canonical format). With
``execution.checkpointing.incremental`` the checkpoint upload (:mod:`yflink.checkpoint.incremental`) sends only the
SST files not uploaded before. Restoring a :class:`RocksDBSnapshot` of the same key-group range opens its files
directly; any other range copies the entries of the needed key groups.

Source of the semantics: Flink documentation "State Backends" (EmbeddedRocksDBStateBackend), "Incremental
checkpoints" and ``RocksDBKeyedStateBackend``, ``RocksIncrementalSnapshotStrategy``.
"""

from __future__ import annotations

import copy
import os
import pickle
import re
import shutil
import tempfile
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any, Optional

import rocksdict

from yflink.state.backends.hashmap import HashMapKeyedStateBackend
from yflink.state.backends.ttl import _MISSING as _TTL_MISSING
from yflink.state.backends.ttl import live_entry
from yflink.state.key_groups import assign_to_key_group
from yflink.state.snapshot import CompositeKeyedSnapshot, KeyedStateSnapshot, keyed_state_for

__all__ = ["DEFAULT_CACHE_ENTRIES", "RocksDBKeyedStateBackend", "RocksDBSnapshot", "RocksDBTable", "UploadRegistry"]

#: Values a backend keeps in its write-back cache before it writes them back at the next key change.
DEFAULT_CACHE_ENTRIES = 4096
#: Local snapshot directories kept before the oldest is deleted (uploads release theirs as soon as they finish).
_LOCAL_SNAPSHOTS_KEPT = 4
_HEAP_KINDS = frozenset({"timers"})
_ABSENT = object()   # not in the cache
_NONE = object()     # cached: not in the database either
_DELETED = object()  # cached: deleted, to be deleted from the database at write-back
_DUMPS = pickle.dumps
_LOADS = pickle.loads
_PROTOCOL = 5


def _raw_options() -> Any:
    options = rocksdict.Options(raw_mode=True)
    options.create_if_missing(True)
    options.create_missing_column_families(True)
    return options


def _write_options() -> Any:
    options = rocksdict.WriteOptions()
    # a property at runtime (the stub says method); Flink disables the WAL too: checkpoints flush the memtables
    options.disable_wal = True  # type: ignore[method-assign,assignment]
    return options


def group_prefix(group: int) -> bytes:
    """The 2-byte big-endian key-group prefix of every RocksDB key of ``group`` (Flink's, for < 32768 groups)."""
    return group.to_bytes(2, "big")


def open_db(path: str, read_only: bool = False) -> Any:
    """Open (or create) a raw-mode Rdict at ``path`` with every column family it has."""
    options = _raw_options()
    families: dict[str, Any] = {}
    if os.path.exists(os.path.join(path, "CURRENT")):
        families = {name: rocksdict.Options(raw_mode=True)
                    for name in rocksdict.Rdict.list_cf(path, rocksdict.Options(raw_mode=True)) if name != "default"}
    access = rocksdict.AccessType.read_only() if read_only else rocksdict.AccessType.read_write()
    return rocksdict.Rdict(path, options, column_families=families or None, access_type=access)


def _iterate(db: Any, start: bytes = b"", end: Optional[bytes] = None) -> Iterator[tuple[bytes, bytes]]:
    """Raw ``(key, value)`` pairs of a column family from ``start`` (inclusive) to ``end`` (exclusive)."""
    it = db.iter()
    if start:
        it.seek(start)
    else:
        it.seek_to_first()
    while it.valid():
        key = it.key()
        if end is not None and key >= end:
            return
        yield key, it.value()
        it.next()


def _iterate_keys(db: Any) -> Iterator[bytes]:
    """Raw keys of a column family, in order (values are not read into Python)."""
    it = db.iter()
    it.seek_to_first()
    while it.valid():
        yield it.key()
        it.next()


def _cf_name(state: str) -> str:
    return "s:" + state


def _state_of_cf(cf: str) -> Optional[str]:
    return cf[2:] if cf.startswith("s:") else None


class RocksDBTable(MutableMapping[Any, Any]):
    """The ``{key: value}`` table of one state, in one column family, behind a write-back cache.

    Behaves like the dict of the hashmap backend: ``get``, ``[]``, ``pop``, ``in``, iteration (keys in RocksDB
    order: by key group, then pickled key), ``len`` (a scan). A value read through the table stays cached until
    the next write-back, so mutating it in place is seen (as with the heap backend).
    """

    def __init__(self, backend: RocksDBKeyedStateBackend, name: str, db: Any) -> None:
        self._backend = backend
        self.name = name
        self._db = db
        self._cache: dict[Any, Any] = {}

    def _load(self, key: Any) -> Any:
        backend = self._backend
        if backend.cached > backend.hard_limit:  # an operator that never sets the current key (keyed sum)
            backend.write_back(key)
        raw = self._db.get(backend.raw_key(key))
        value = _NONE if raw is None else _LOADS(raw)
        self._cache[key] = value
        backend.cached += 1
        return value

    # --- mapping ------------------------------------------------------------------------------------------
    def get(self, key: Any, default: Any = None) -> Any:
        value = self._cache.get(key, _ABSENT)
        if value is _ABSENT:
            value = self._load(key)
        return default if value is _NONE or value is _DELETED else value

    def __getitem__(self, key: Any) -> Any:
        value = self.get(key, _ABSENT)
        if value is _ABSENT:
            raise KeyError(key)
        return value

    def __setitem__(self, key: Any, value: Any) -> None:
        cache = self._cache
        if key not in cache:
            backend = self._backend
            if backend.cached > backend.hard_limit:
                backend.write_back(key)
            backend.cached += 1
        cache[key] = value

    def __delitem__(self, key: Any) -> None:
        if self.get(key, _ABSENT) is _ABSENT:
            raise KeyError(key)
        self._cache[key] = _DELETED

    def pop(self, key: Any, default: Any = _ABSENT) -> Any:
        value = self.get(key, _ABSENT)
        if value is _ABSENT:
            if default is _ABSENT:
                raise KeyError(key)
            return default
        self._cache[key] = _DELETED
        return value

    def __contains__(self, key: object) -> bool:
        return self.get(key, _ABSENT) is not _ABSENT

    def __iter__(self) -> Iterator[Any]:
        self.write_back()
        return iter([_LOADS(key[2:]) for key in _iterate_keys(self._db)])

    def items(self) -> Any:
        self.write_back()
        return [(_LOADS(key[2:]), _LOADS(value)) for key, value in _iterate(self._db)]

    def values(self) -> Any:
        return [value for _, value in self.items()]

    def keys(self) -> Any:
        return list(iter(self))

    def __len__(self) -> int:
        self.write_back()
        return sum(1 for _ in _iterate_keys(self._db))

    def __bool__(self) -> bool:
        for value in self._cache.values():
            if value is not _NONE and value is not _DELETED:
                return True
        for key in _iterate_keys(self._db):
            if self._cache.get(_LOADS(key[2:]), _ABSENT) is not _DELETED:
                return True
        return False

    def __repr__(self) -> str:
        return f"RocksDBTable({self.name!r})"

    # --- write-back ---------------------------------------------------------------------------------------
    def write_back(self, keep: Any = _ABSENT) -> None:
        """Write cached values to RocksDB; then forget them all, except ``keep``'s entry when given (the current
        key, whose values the operator may still hold), or keep everything when ``keep`` is not given."""
        cache = self._cache
        if not cache:
            return
        batch = rocksdict.WriteBatch(raw_mode=True)
        batch.set_default_column_family(self._backend.cf_handle(self.name))
        dirty = False
        raw_key = self._backend.raw_key
        for key, value in cache.items():
            if value is _NONE:
                continue
            dirty = True
            if value is _DELETED:
                batch.delete(raw_key(key))
            else:
                batch.put(raw_key(key), _DUMPS(value, _PROTOCOL))
        if dirty:
            self._backend.db.write(batch, self._backend.write_options)
        if keep is _ABSENT:
            for key, value in list(cache.items()):
                if value is _DELETED:
                    cache[key] = _NONE
        else:
            kept = cache.get(keep, _ABSENT)
            cache.clear()
            if kept is not _ABSENT and kept is not _DELETED:
                cache[keep] = kept


class UploadRegistry:
    """The SST files a backend uploaded to ``shared/``, per checkpoint id (Flink's ``uploadedSstFiles``).

    The incremental upload (in the task's upload thread) records what it uploaded; a later checkpoint reuses
    the files of the newest earlier checkpoint that completed (one whose ``_metadata`` exists, so it is
    registered with the JobMaster's SharedStateRegistry and not yet subsumed). Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_checkpoint: dict[int, dict[str, Any]] = {}

    def record(self, checkpoint_id: int, shared: dict[str, Any]) -> None:
        with self._lock:
            self._by_checkpoint[checkpoint_id] = dict(shared)

    def reusable(self, checkpoint_id: int, completed: Callable[[int], bool]) -> dict[str, Any]:
        """``{local file name: handle}`` of the newest checkpoint before ``checkpoint_id`` for which
        ``completed(id)`` holds; older records are dropped."""
        with self._lock:
            for cid in sorted((c for c in self._by_checkpoint if c < checkpoint_id), reverse=True):
                if completed(cid):
                    for older in [c for c in self._by_checkpoint if c < cid]:
                        del self._by_checkpoint[older]
                    return dict(self._by_checkpoint[cid])
            return {}

    def checkpoints(self) -> list[int]:
        with self._lock:
            return sorted(self._by_checkpoint)


class RocksDBSnapshot(KeyedStateSnapshot):
    """A point-in-time copy of a RocksDB backend: a RocksDB checkpoint directory plus the heap (timer) tables.

    Reading :attr:`groups` materialises the canonical snapshot (``{key group: {state: {key: value}}}``) from the
    files, once; pickling it pickles the canonical :class:`KeyedStateSnapshot`, so a snapshot sent anywhere is
    backend-portable. :mod:`yflink.checkpoint.incremental` uploads its files instead when checkpoints are
    incremental.

    A snapshot restored from storage may be *remote*: ``path`` is None and ``fetcher(directory)`` writes its files
    into a new local directory on first use (:meth:`ensure_local`); pickled before that, it stays remote, so the
    JobMaster hands it to the task without downloading it.

    Attributes:
        path: the local checkpoint directory (removed by :meth:`release`); None while remote.
        fetcher: writes the files of a remote snapshot into a directory (picklable), or None.
        key_group_range: the key groups of the subtask that took it.
        heap_groups: the timer tables by key group (canonical already).
        incremental: whether checkpoints upload the files incrementally.
        backend_id: the id of the backend that took it (None for a downloaded one).
        checkpoint_id: the checkpoint it was taken for (0 outside checkpoints).
        uploads: the taking backend's :class:`UploadRegistry` (None for a downloaded one).
        ttl_cleanup: ``{state: (kind, ttl ms)}`` of TTL states that leave expired values out of full snapshots.
        now: the TTL clock when it was taken, ms.
        owned: :meth:`release` also happens after materialising (a downloaded, single-use copy).
    """

    def __init__(self, max_parallelism: int, kinds: dict[str, str], ttl_states: set[str], path: Optional[str],
                 key_group_range: range, heap_groups: dict[int, dict[str, dict[Any, Any]]], *,
                 incremental: bool = False, backend_id: Optional[str] = None, checkpoint_id: int = 0,
                 uploads: Optional[UploadRegistry] = None, ttl_cleanup: Optional[dict[str, tuple[str, int]]] = None,
                 now: int = 0, owned: bool = False, fetcher: Optional[Callable[[str], None]] = None) -> None:
        super().__init__(max_parallelism=max_parallelism, kinds=kinds, ttl_states=ttl_states)
        self.path = path
        self.key_group_range = key_group_range
        self.heap_groups = heap_groups
        self.incremental = incremental
        self.backend_id = backend_id
        self.checkpoint_id = checkpoint_id
        self.uploads = uploads
        self.ttl_cleanup = ttl_cleanup or {}
        self.now = now
        self.owned = owned
        self.fetcher = fetcher
        if path is None and fetcher is None:
            raise ValueError("a RocksDBSnapshot needs a local path or a fetcher of its files")
        self._groups: Optional[dict[int, dict[str, dict[Any, Any]]]] = None
        self._lock = threading.RLock()

    @property  # type: ignore[override]
    def groups(self) -> dict[int, dict[str, dict[Any, Any]]]:
        """The canonical ``{key group: {state name: {key: value}}}`` (materialised from the files once).

        Raises:
            FileNotFoundError: the checkpoint directory was released before the snapshot was read.
        """
        with self._lock:
            if self._groups is None:
                self._groups = self._materialize()
                if self.owned:
                    self.release()
            return self._groups

    @groups.setter
    def groups(self, value: dict[int, dict[str, dict[Any, Any]]]) -> None:
        self._groups = value

    def ensure_local(self, parent: Optional[str] = None) -> str:
        """The local directory of the files, fetched first into a new directory under ``parent`` (else the
        system temp directory) when the snapshot is remote.

        Raises:
            FileSystemError: a remote file cannot be read.
        """
        with self._lock:
            if self.path is None:
                assert self.fetcher is not None
                root = parent if parent is not None else os.path.join(tempfile.gettempdir(), "yflink-rocksdb")
                os.makedirs(root, exist_ok=True)
                path = tempfile.mkdtemp(prefix=f"restore-{self.checkpoint_id}-", dir=root)
                try:
                    self.fetcher(path)
                except BaseException:
                    shutil.rmtree(path, ignore_errors=True)
                    raise
                self.path = path
            return self.path

    def files(self) -> list[str]:
        """The names of the files of the checkpoint directory."""
        return sorted(os.listdir(self.ensure_local()))

    def iter_raw(self, groups: range) -> Iterator[tuple[str, bytes, bytes]]:
        """``(state name, raw key, raw value)`` of the RocksDB entries in key groups ``groups`` (no TTL filter)."""
        path = self.ensure_local()
        db = open_db(path, read_only=True)
        try:
            for cf in rocksdict.Rdict.list_cf(path, rocksdict.Options(raw_mode=True)):
                name = _state_of_cf(cf)
                if name is None:
                    continue
                start, end = group_prefix(groups.start), group_prefix(groups.stop) if groups.stop < 65536 else None
                for key, value in _iterate(db.get_column_family(cf), start, end):
                    yield name, key, value
        finally:
            db.close()

    def iter_groups(self, groups: range) -> Iterator[tuple[int, dict[str, dict[Any, Any]]]]:
        """``(key group, {state name: {key: value}})`` for every group of ``groups`` in order (empty dicts too),
        canonical (TTL snapshot cleanup applied, heap tables included), one key group in memory at a time.

        Raises:
            FileNotFoundError: the checkpoint directory was released before the snapshot was read.
        """
        if self._groups is not None:
            for group in groups:
                yield group, self._groups.get(group, {})
            return
        if self.path is not None and not os.path.isdir(self.path):
            raise FileNotFoundError(f"RocksDB snapshot files at {self.path} were released before the snapshot was "
                                    "read; read or upload a snapshot before the backend takes four more")
        path = self.ensure_local()
        db = open_db(path, read_only=True)
        try:
            families = [(name, db.get_column_family(cf))
                        for cf in rocksdict.Rdict.list_cf(path, rocksdict.Options(raw_mode=True))
                        if (name := _state_of_cf(cf)) is not None]
            for group in groups:
                start, end = group_prefix(group), group_prefix(group + 1) if group + 1 < 1 << 16 else None
                states: dict[str, dict[Any, Any]] = {}
                for name, family in families:
                    table = {_LOADS(key[2:]): _LOADS(value) for key, value in _iterate(family, start, end)}
                    cleanup = self.ttl_cleanup.get(name)
                    if cleanup is not None:
                        kind, ttl_ms = cleanup
                        for key in list(table):
                            live = live_entry(kind, table[key], self.now, ttl_ms)
                            if live is _TTL_MISSING:
                                del table[key]
                            else:
                                table[key] = live
                    if table:
                        states[name] = table
                heap = self.heap_groups.get(group)
                if heap:
                    states.update(copy.deepcopy(heap))
                yield group, states
        finally:
            db.close()

    def _materialize(self) -> dict[int, dict[str, dict[Any, Any]]]:
        return {group: states for group, states in self.iter_groups(range(self.max_parallelism)) if states}

    def to_canonical(self) -> KeyedStateSnapshot:
        """The canonical snapshot (the format both backends restore)."""
        return KeyedStateSnapshot(self.max_parallelism, dict(self.kinds), set(self.ttl_states), self.groups)

    def release(self) -> None:
        """Delete the local checkpoint directory (after upload or materialisation), and the backend's working
        directory when that was the last thing in it (the backend was disposed)."""
        if self.path is None:
            return
        shutil.rmtree(self.path, ignore_errors=True)
        try:
            os.rmdir(os.path.dirname(self.path))
        except OSError:
            pass

    def __reduce__(self) -> Any:
        if self.fetcher is not None and self.path is None and self._groups is None:  # still remote: stays so
            return (_remote_snapshot, (self.max_parallelism, dict(self.kinds), set(self.ttl_states),
                                       self.key_group_range, self.heap_groups, self.checkpoint_id, self.fetcher))
        return (KeyedStateSnapshot, (self.max_parallelism, dict(self.kinds), set(self.ttl_states), self.groups))

    def __repr__(self) -> str:
        return (f"RocksDBSnapshot(path={self.path!r}, checkpoint_id={self.checkpoint_id}, "
                f"key_groups={self.key_group_range.start}..{self.key_group_range.stop - 1})")


def _remote_snapshot(max_parallelism: int, kinds: dict[str, str], ttl_states: set[str], key_group_range: range,
                     heap_groups: dict[int, dict[str, dict[Any, Any]]], checkpoint_id: int,
                     fetcher: Callable[[str], None]) -> RocksDBSnapshot:
    return RocksDBSnapshot(max_parallelism, kinds, ttl_states, None, key_group_range, heap_groups,
                           checkpoint_id=checkpoint_id, owned=True, fetcher=fetcher)


def _cleanup_dir(db: Any, path: str) -> None:
    """Close ``db`` and delete the database files under ``path``; snapshot directories still being uploaded stay
    (their upload releases them), and ``path`` goes once empty."""
    try:
        db.close()
    except Exception:  # noqa: BLE001 - closing at interpreter exit may fail; the files go anyway
        pass
    for entry in os.listdir(path) if os.path.isdir(path) else ():
        if entry.startswith("db"):
            shutil.rmtree(os.path.join(path, entry), ignore_errors=True)
    try:
        os.rmdir(path)
    except OSError:
        pass


_PID = re.compile(r"_pid(\d+)_")


def _sweep_dead(root: str) -> None:
    """Delete working directories left by processes that no longer exist (a slot worker killed by SIGKILL)."""
    for entry in os.listdir(root):
        match = _PID.search(entry)
        if match is None or int(match.group(1)) == os.getpid():
            continue
        try:
            os.kill(int(match.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(root, entry), ignore_errors=True)
        except OSError:
            pass


class RocksDBKeyedStateBackend(HashMapKeyedStateBackend):
    """Keyed state of one operator subtask in RocksDB (same methods as the hashmap backend).

    Args:
        max_parallelism: the operator's number of key groups.
        key_group_range: the key groups this subtask owns.
        local_dir: the directory under which this backend creates its working directory
            (``state.backend.rocksdb.localdir``); the system temp directory when None.
        incremental: whether checkpoints upload only new SST files (``execution.checkpointing.incremental``).
        cache_entries: values kept in the write-back cache before a write-back at the next key change.
        name: part of the working directory's name (job and task), for people looking at the disk.

    The database is deleted when the backend is disposed (:meth:`dispose`, when its operator chain closes) or
    garbage collected; snapshot directories when their upload is done; directories of dead processes (named with
    their pid) by the next backend created under the same ``local_dir``.

    Raises:
        OSError: the working directory cannot be created.
    """

    def __init__(self, max_parallelism: int = 128, key_group_range: Optional[range] = None, *,
                 local_dir: Optional[str] = None, incremental: bool = False,
                 cache_entries: int = DEFAULT_CACHE_ENTRIES, name: str = "backend") -> None:
        super().__init__(max_parallelism, key_group_range)
        if max_parallelism > 1 << 15:
            raise ValueError(f"max parallelism {max_parallelism} exceeds 32768, the most 2-byte key groups allow")
        self.backend_id = uuid.uuid4().hex
        root = os.path.join(local_dir or tempfile.gettempdir(), "yflink-rocksdb")
        os.makedirs(root, exist_ok=True)
        _sweep_dead(root)
        safe = "".join(c if c.isalnum() or c in "-." else "-" for c in name)[:80]
        self.working_dir = tempfile.mkdtemp(prefix=f"{safe}_pid{os.getpid()}_{self.backend_id[:8]}_", dir=root)
        self.incremental = incremental
        self.cache_entries = cache_entries
        #: cached values beyond which a write-back happens at any access, keeping only the accessed key's values
        #: (the normal write-back is at the next key change once ``cache_entries`` is exceeded)
        self.hard_limit = 4 * cache_entries
        self.cached = 0
        self._raw_keys: dict[Any, bytes] = {}
        self.write_options = _write_options()
        self.uploads = UploadRegistry()
        self._checkpoints: list[RocksDBSnapshot] = []
        self._snapshot_count = 0
        self._open(os.path.join(self.working_dir, "db"))

    def _open(self, db_path: str) -> None:
        self.db = open_db(db_path)
        self._families: dict[str, Any] = {}
        self._cf_handles: dict[str, Any] = {}
        self._finalizer = weakref.finalize(self, _cleanup_dir, self.db, self.working_dir)
        for cf in rocksdict.Rdict.list_cf(db_path, rocksdict.Options(raw_mode=True)):
            if _state_of_cf(cf) is not None:
                self._families[cf] = self.db.get_column_family(cf)

    def _family(self, name: str) -> Any:
        cf = _cf_name(name)
        family = self._families.get(cf)
        if family is None:
            family = self._families[cf] = self.db.create_column_family(cf, rocksdict.Options(raw_mode=True))
        return family

    def raw_key(self, key: Any) -> bytes:
        """The RocksDB key of ``key``: its key group (2 bytes, big-endian) + its pickle; remembered until the
        next write-back."""
        raw = self._raw_keys.get(key)
        if raw is None:
            raw = self._raw_keys[key] = \
                group_prefix(assign_to_key_group(key, self.max_parallelism)) + _DUMPS(key, _PROTOCOL)
        return raw

    def cf_handle(self, name: str) -> Any:
        """The column-family handle of state ``name`` (for write batches)."""
        handle = self._cf_handles.get(name)
        if handle is None:
            self._family(name)
            handle = self._cf_handles[name] = self.db.get_column_family_handle(_cf_name(name))
        return handle

    # --- current key: write back a full cache when the key changes -----------------------------------------
    def set_current_key(self, key: Any) -> None:
        self.current_key = key
        if self.cached > self.cache_entries:
            self.write_back(key)

    def _set_current_key_with_cleanup(self, key: Any) -> None:
        RocksDBKeyedStateBackend.set_current_key(self, key)
        for step in self._per_record_cleanups:
            step()

    def write_back(self, keep: Any = _ABSENT) -> None:
        """Write every table's cache to RocksDB; forget it unless ``keep`` is absent (then keep it all), keeping
        the entries of key ``keep``."""
        for table in self._tables.values():
            if isinstance(table, RocksDBTable):
                table.write_back(keep)
        if keep is not _ABSENT:
            self.cached = sum(len(t._cache) for t in self._tables.values() if isinstance(t, RocksDBTable))
            kept = self._raw_keys.get(keep)
            self._raw_keys = {keep: kept} if kept is not None else {}

    # --- tables -----------------------------------------------------------------------------------------
    def table(self, name: str, kind: str = "value") -> Any:
        """The table of state ``name``: a :class:`RocksDBTable`, or a dict for heap kinds (timers).

        Raises:
            ValueError: ``name`` is already used by state of another kind.
        """
        existing = self._kinds.get(name)
        if existing is None:
            self._kinds[name] = kind
            self._tables[name] = {} if kind in _HEAP_KINDS else \
                RocksDBTable(self, name, self._family(name))  # type: ignore[assignment]
        elif existing != kind:
            raise ValueError(f"State '{name}' is already registered as {existing} state, not {kind} state; "
                             "use a different name for each piece of state")
        return self._tables[name]

    def clear_key(self, key: Any) -> None:
        for table in self._tables.values():
            table.pop(key, None)

    def snapshot_by_key_group(self) -> dict[int, dict[str, dict[Any, Any]]]:
        snapshot = self.snapshot()
        try:
            return snapshot.groups
        finally:
            snapshot.release()

    # --- snapshots -----------------------------------------------------------------------------------------
    def snapshot(self, checkpoint_id: int = 0) -> RocksDBSnapshot:
        """Write the caches back, flush the memtables and take a RocksDB checkpoint (hard links); the heap tables
        are copied. The returned snapshot stays readable until two more snapshots are taken, or until it is
        released (the upload does that); older ones are deleted when more than four exist.

        Raises:
            rocksdict exceptions: RocksDB cannot flush or checkpoint (disk full, ...).
        """
        self.write_back()
        for family in self._families.values():
            family.flush()
        self._snapshot_count += 1
        path = os.path.join(self.working_dir, f"chk-{checkpoint_id}-{self._snapshot_count}")
        rocksdict.Checkpoint(self.db).create_checkpoint(path)
        heap: dict[int, dict[str, dict[Any, Any]]] = {}
        for name, table in self._tables.items():
            if isinstance(table, dict):
                for key, value in copy.deepcopy(table).items():
                    group = assign_to_key_group(key, self.max_parallelism)
                    heap.setdefault(group, {}).setdefault(name, {})[key] = value
        cleanup = {name: (self._kinds[name], ttl.ttl_ms) for name, ttl in self._ttl.items() if ttl.cleanup_in_snapshot}
        snapshot = RocksDBSnapshot(self.max_parallelism, dict(self._kinds), set(self._ttl) | self._ttl_restored,
                                   path, self.key_group_range, heap, incremental=self.incremental,
                                   backend_id=self.backend_id, checkpoint_id=checkpoint_id, uploads=self.uploads,
                                   ttl_cleanup=cleanup, now=self.ttl_time_provider())
        self._checkpoints.append(snapshot)
        while len(self._checkpoints) > _LOCAL_SNAPSHOTS_KEPT:
            self._checkpoints.pop(0).release()
        return snapshot

    def restore(self, snapshots: list[KeyedStateSnapshot]) -> None:
        """Load the key groups of this subtask's range from ``snapshots`` (canonical ones of either backend, or
        :class:`RocksDBSnapshot` ones). One RocksDB snapshot of exactly this range is opened as the working
        database (no copying of entries); otherwise the entries of this range are copied in.

        Raises:
            ValueError: the snapshots disagree on the max parallelism, or it differs from this backend's.
        """
        if not snapshots:
            return
        for snapshot in snapshots:
            if snapshot.max_parallelism != self.max_parallelism:
                raise ValueError(f"Cannot restore keyed state taken with max parallelism {snapshot.max_parallelism}"
                                 f" into an operator with max parallelism {self.max_parallelism}")
        snapshots = [part for s in snapshots for part in (s.parts if isinstance(s, CompositeKeyedSnapshot) else [s])]
        rocks = [s for s in snapshots if isinstance(s, RocksDBSnapshot)]
        canonical = [s for s in snapshots if not isinstance(s, RocksDBSnapshot)]
        own = self.key_group_range
        if len(rocks) == 1 and not canonical and rocks[0].key_group_range == own and not self._tables:
            self._adopt(rocks[0])
        else:
            for snapshot in rocks:
                self._copy_raw(snapshot)
        for snapshot in snapshots:
            for name, kind in snapshot.kinds.items():
                self.table(name, kind)
        self._ttl_restored |= {n for s in snapshots for n in s.ttl_states} - set(self._ttl)
        for snapshot in rocks:
            for group, states in snapshot.heap_groups.items():
                if group in own:
                    for name, table in states.items():
                        self._tables[name].update(copy.deepcopy(table))
            if snapshot.owned:
                snapshot.release()
        if canonical:
            merged = keyed_state_for(canonical, own)
            for group, states in merged.groups.items():
                for name, table in states.items():
                    target = self.table(name, merged.kinds.get(name, "value"))
                    if isinstance(target, dict):
                        target.update(table)
                        continue
                    batch = rocksdict.WriteBatch(raw_mode=True)
                    batch.set_default_column_family(self.cf_handle(name))
                    prefix = group_prefix(group)
                    for key, value in table.items():
                        batch.put(prefix + _DUMPS(key, _PROTOCOL), _DUMPS(value, _PROTOCOL))
                    self.db.write(batch, self.write_options)

    def _adopt(self, snapshot: RocksDBSnapshot) -> None:
        """Replace the (empty) working database by the snapshot's files (hard links where possible)."""
        source_dir = snapshot.ensure_local(self.working_dir)  # a remote one is downloaded beside the database
        self._finalizer.detach()
        self.db.close()
        db_path = os.path.join(self.working_dir, f"db-{uuid.uuid4().hex[:8]}")
        os.makedirs(db_path)
        for name in snapshot.files():
            source, target = os.path.join(source_dir, name), os.path.join(db_path, name)
            try:
                os.link(source, target)
            except OSError:
                shutil.copy2(source, target)
        shutil.rmtree(os.path.join(self.working_dir, "db"), ignore_errors=True)
        self._open(db_path)

    def _copy_raw(self, snapshot: RocksDBSnapshot) -> None:
        own = self.key_group_range
        batch, count = rocksdict.WriteBatch(raw_mode=True), 0
        for name, key, value in snapshot.iter_raw(own):
            batch.put(key, value, self.cf_handle(name))
            count += 1
            if count >= 10_000:
                self.db.write(batch, self.write_options)
                batch, count = rocksdict.WriteBatch(raw_mode=True), 0
        if count:
            self.db.write(batch, self.write_options)

    # --- lifecycle ----------------------------------------------------------------------------------------
    def dispose(self) -> None:
        """Close the database and delete its files (the backend is unusable afterwards); snapshots still being
        uploaded keep their files until their upload releases them."""
        self._finalizer()

    def __repr__(self) -> str:
        return f"RocksDBKeyedStateBackend({self.working_dir!r}, states={sorted(self._kinds)})"
