"""How ``FileSource`` finds files, cuts them into splits and reads lines (the machinery behind
:mod:`yflink.datastream.connectors.file_system`).

Enumeration (Flink ``NonSplittingRecursiveEnumerator`` / ``BlockSplittingRecursiveEnumerator`` with
``DefaultFileFilter``): directories are listed recursively; files and directories whose name starts with ``.`` or
``_`` are skipped (Flink's hidden files, e.g. a sink's in-progress ``.part-*`` files and ``_SUCCESS`` markers);
files come in sorted path order so every subtask computes the same list.

Splits (Flink ``FileSourceSplit``): a byte range ``[offset, offset + length)`` of one file. Uncompressed files
larger than the split size are cut into equal byte ranges; compressed files (``.gz``, ``.gzip``, ``.bz2``, ``.xz``)
are one split each. A split reads exactly the lines that *start* inside its range: it skips the partial line at
its start (unless the range starts at 0 or right after a newline) and reads past its end to finish its last line,
so each line of a file is read by exactly one split whatever the cut points.

Position (Flink ``CheckpointedPosition``): the byte offset where the current chunk of lines starts (always a line
start) and how many lines after it were already emitted; with the split index this is what a checkpoint needs.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from yflink.datastream.connectors.base import SourceReader
from yflink.streaming.operators.base import TaskInfo

#: Files with these extensions are decompressed while read and never split (Flink ``StandardDeCompressors``).
#: ``.deflate`` is not supported yet.
DECOMPRESSORS: dict[str, Callable[[str], io.BufferedIOBase]] = {
    ".gz": lambda p: gzip.open(p, "rb"),  # noqa: SIM115
    ".gzip": lambda p: gzip.open(p, "rb"),  # noqa: SIM115
    ".bz2": lambda p: bz2.open(p, "rb"),  # noqa: SIM115
    ".xz": lambda p: lzma.open(p, "rb"),  # noqa: SIM115
}

#: Smallest byte range a file is cut into (bytes); files below it are never split.
MIN_SPLIT_BYTES = 1 << 20
#: Splits per subtask to aim for when cutting large files, so static round-robin assignment stays balanced.
SPLITS_PER_SUBTASK = 4
#: Split size in continuous mode (bytes): fixed, so every subtask cuts a newly found file the same way.
CONTINUOUS_SPLIT_BYTES = 32 << 20
#: Bytes read per chunk; a chunk's lines are decoded with one call and handed out in slices.
CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class FileSourceSplit:
    """A byte range of one file (Flink ``FileSourceSplit``).

    Attributes:
        path: the file's path.
        offset: first byte of the range.
        length: bytes in the range; None means to the end of the file (compressed or unsplittable files).
    """

    path: str
    offset: int
    length: int | None

    @property
    def end(self) -> int | None:
        """One past the last byte of the range, or None for the whole (rest of the) file."""
        return None if self.length is None else self.offset + self.length

    @property
    def split_id(self) -> str:
        return f"{self.path}:{self.offset}"


def strip_scheme(path: str) -> str:
    """``file:///a/b`` -> ``/a/b``; other schemes (hdfs://, s3://) are not supported yet."""
    if path.startswith("file://"):
        return path[len("file://"):] or "/"
    if "://" in path:
        scheme = path.split("://", 1)[0]
        raise ValueError(f"FileSource: unsupported file system scheme {scheme!r} in {path!r}: only local paths "
                         "(plain or file://) are supported for now")
    return path


def is_hidden(name: str) -> bool:
    """Flink's ``DefaultFileFilter``: names starting with ``.`` or ``_`` are hidden."""
    return name.startswith((".", "_"))


def is_compressed(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in DECOMPRESSORS


def enumerate_files(paths: list[str], must_exist: bool = True) -> list[tuple[str, int]]:
    """All visible files under ``paths`` as ``(path, size in bytes)``, sorted by path, each listed once.

    Raises:
        FileNotFoundError: a path does not exist and ``must_exist`` is True.
    """
    found: dict[str, int] = {}

    def walk(path: str) -> None:
        with os.scandir(path) as entries:
            for entry in entries:
                if is_hidden(entry.name):
                    continue
                if entry.is_dir():
                    walk(entry.path)
                elif entry.is_file():
                    found[entry.path] = entry.stat().st_size

    for raw in paths:
        path = strip_scheme(raw)
        if is_hidden(os.path.basename(os.path.normpath(path))):
            continue
        if os.path.isdir(path):
            walk(path)
        elif os.path.isfile(path):
            found[path] = os.path.getsize(path)
        elif must_exist:
            raise FileNotFoundError(f"FileSource: input path {raw!r} does not exist")
    return sorted(found.items())


def create_splits(files: list[tuple[str, int]], parallelism: int, splittable: bool = True,
                  min_split_bytes: int = MIN_SPLIT_BYTES, split_bytes: int | None = None) -> list[FileSourceSplit]:
    """Cut ``files`` into splits, in file order.

    The target split size is ``split_bytes`` if given, else ``total bytes / (parallelism * SPLITS_PER_SUBTASK)``
    but at least ``min_split_bytes``; a larger file is cut into equal parts of at most about that size. Compressed
    files, and all files when ``splittable`` is False, are one split each; empty files give no split.
    """
    if split_bytes is None:
        total = sum(size for _, size in files)
        split_bytes = max(min_split_bytes, -(-total // (max(1, parallelism) * SPLITS_PER_SUBTASK)))
    target = max(1, split_bytes)
    splits: list[FileSourceSplit] = []
    for path, size in files:
        if not splittable or is_compressed(path):
            splits.append(FileSourceSplit(path, 0, None))
            continue
        if size == 0:
            continue
        parts = max(1, -(-size // target))
        for k in range(parts):
            start, stop = size * k // parts, size * (k + 1) // parts
            splits.append(FileSourceSplit(path, start, stop - start))
    return splits


class LineSplitReader:
    """Reads the lines of one split, a chunk at a time (Flink ``TextLineInputFormat.Reader``).

    Lines end at ``\\n``, ``\\r\\n`` or ``\\r`` (Java's ``BufferedReader.readLine``); terminators are removed.
    Splits are aligned on ``\\n`` bytes, so only ASCII-compatible charsets are supported.

    Attributes:
        chunk_offset: byte offset of the first line of the current chunk (a line start).
    """

    def __init__(self, split: FileSourceSplit, charset: str, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.split = split
        self.charset = charset
        self.chunk_bytes = chunk_bytes
        self.chunk_offset = split.offset
        self._file: io.BufferedIOBase | None = None
        self._read_pos = split.offset  # offset of the next byte to read from the file
        self._carry = b""  # bytes of a line begun but not finished by the last read
        self._eof = False
        self._done = False

    def open(self, start_offset: int | None = None) -> None:
        """Open the file at the split's start, or at ``start_offset`` (a line start recorded earlier)."""
        split = self.split
        ext = os.path.splitext(split.path)[1].lower()
        opener = DECOMPRESSORS.get(ext)
        f = opener(split.path) if opener else open(split.path, "rb")  # noqa: SIM115 (closed by close())
        self._file = f
        if start_offset is not None:
            if start_offset:
                f.seek(start_offset)
            self._read_pos = start_offset
        elif split.offset > 0:
            # Skip the line that began before this split (it belongs to the previous one).
            f.seek(split.offset - 1)
            f.readline()
            self._read_pos = f.tell()
        self.chunk_offset = self._read_pos

    def read_chunk(self) -> list[str] | None:
        """The lines of the next chunk (possibly empty), or None when the split is exhausted."""
        f = self._file
        assert f is not None, "LineSplitReader.open() was not called"
        end = self.split.end
        while not self._done:
            remaining = self.chunk_bytes if end is None else min(self.chunk_bytes, end - self._read_pos)
            if remaining <= 0 or self._eof:
                # The split's bytes are consumed: finish the line that began inside it, if any.
                self._done = True
                if not self._carry:
                    return None
                self.chunk_offset = self._read_pos - len(self._carry)
                rest = b"" if self._eof else f.readline()
                self._read_pos += len(rest)
                data, self._carry = self._carry + rest, b""
                return self._decode(data)
            data = f.read(remaining)
            if not data:
                self._eof = True
                continue
            self._read_pos += len(data)
            if self._carry:
                data = self._carry + data
            nl = data.rfind(b"\n")
            if nl < 0:
                self._carry = data  # a line longer than a chunk: keep reading
                continue
            self.chunk_offset = self._read_pos - len(data)
            self._carry = data[nl + 1:]
            return self._decode(memoryview(data)[:nl + 1])
        return None

    def _decode(self, data: bytes | memoryview) -> list[str]:
        text = str(data, self.charset)
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()
        return lines

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def is_ascii_compatible(charset: str) -> bool:
    """True when ``\\n`` and ASCII letters are single bytes in ``charset`` (UTF-8, Latin-1, CP1252, ...)."""
    try:
        return "\na".encode(charset) == b"\na"
    except (LookupError, UnicodeError):
        return False


def stable_hash(text: str) -> int:
    """A hash that is the same in every process (Python's ``hash`` of str is salted per process)."""
    return zlib.crc32(text.encode("utf-8"))


class FileSourceReader(SourceReader):
    """Reads one subtask's splits of a ``FileSource`` (Flink ``FileSourceReader`` + ``StaticFileSplitEnumerator``
    or ``ContinuousFileSplitEnumerator``, computed locally).

    Bounded mode: on open, every subtask lists the same files, cuts the same splits and takes splits
    ``i, i + p, i + 2p, ...`` (``i`` its index, ``p`` the parallelism). Continuous mode: every
    ``discovery_interval_ms`` the paths are listed again; a file not seen before is cut into splits and each split
    goes to subtask ``crc32(split id) % p``; files are read once, so they should appear atomically (write
    elsewhere, then rename into the directory).

    Position attributes (for checkpoints): :attr:`split_index` (index into :attr:`splits`), and the current
    split's ``chunk_offset`` plus :attr:`records_in_chunk` (lines of that chunk already emitted); in continuous
    mode also :attr:`seen_paths`.

    Args:
        paths: files or directories to read.
        charset: the (ASCII-compatible) charset to decode with.
        parse: turns a list of lines into records; ``where`` names the file and byte offset for error messages.
        discovery_interval_ms: None for bounded mode, else the interval between listings in ms.
        splittable: False to read every file as one split.
        min_split_bytes: smallest byte range a file is cut into.
    """

    def __init__(self, paths: list[str], charset: str, parse: Callable[[list[str], str], list[Any]],
                 discovery_interval_ms: int | None = None, splittable: bool = True,
                 min_split_bytes: int = MIN_SPLIT_BYTES) -> None:
        self.paths = paths
        self.charset = charset
        self.parse = parse
        self.discovery_interval_ms = discovery_interval_ms
        self.splittable = splittable
        self.min_split_bytes = min_split_bytes
        self.subtask_index = 0
        self.parallelism = 1
        self.splits: list[FileSourceSplit] = []
        self.split_index = 0
        self.records_in_chunk = 0
        self.seen_paths: set[str] = set()
        self._reader: LineSplitReader | None = None
        self._lines: list[str] = []
        self._next_discovery = 0.0

    # -- lifecycle -----------------------------------------------------------------------------------------------

    def open(self, task_info: TaskInfo) -> None:
        self.subtask_index = task_info.subtask_index
        self.parallelism = task_info.parallelism
        if self.discovery_interval_ms is None:
            files = enumerate_files(self.paths)
            all_splits = create_splits(files, self.parallelism, self.splittable, self.min_split_bytes)
            self.splits = all_splits[self.subtask_index::self.parallelism]
        else:
            self._discover()

    def poll_batch(self, max_records: int) -> tuple[list[Any], None] | None:
        while True:
            lines = self._lines
            if self.records_in_chunk < len(lines):
                first = self.records_in_chunk
                batch = lines[first:first + max_records] if first or len(lines) > max_records else lines
                self.records_in_chunk = first + len(batch)
                reader = self._reader
                assert reader is not None
                return self.parse(batch, f"{reader.split.path} (lines after byte {reader.chunk_offset})"), None
            if not self._advance():
                if self.discovery_interval_ms is None:
                    return None
                self._maybe_discover()
                if self.split_index >= len(self.splits):
                    return [], None

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    # -- checkpoints (Flink keeps a FileSourceSplit's offset and records to skip in the split state) -------------

    def snapshot_state(self) -> dict[str, Any]:
        """The position: the split being read, the byte offset where its current chunk's lines begin and how many
        of those lines were emitted; with monitoring, also the splits found so far."""
        reader = self._reader
        return {"split_index": self.split_index,
                "chunk_offset": reader.chunk_offset if reader is not None else None,
                "records_in_chunk": self.records_in_chunk,
                "splits": list(self.splits) if self.discovery_interval_ms is not None else None,
                "seen_paths": sorted(self.seen_paths) if self.discovery_interval_ms is not None else None}

    def restore_state(self, state: dict[str, Any]) -> None:
        """Resume at a position from :meth:`snapshot_state` (called after :meth:`open`)."""
        if state.get("splits") is not None:
            self.splits = list(state["splits"])
            self.seen_paths = set(state["seen_paths"] or [])
        self.split_index = int(state["split_index"])
        offset = state.get("chunk_offset")
        if offset is None or self.split_index >= len(self.splits):
            return
        self._reader = LineSplitReader(self.splits[self.split_index], self.charset)
        self._reader.open(start_offset=int(offset))
        skip = int(state.get("records_in_chunk") or 0)
        while True:  # the chunk now starts at the same line; its end may differ, so skip across chunks
            lines = self._reader.read_chunk()
            if lines is None:
                self._lines, self.records_in_chunk = [], 0
                return
            if skip <= len(lines):
                self._lines, self.records_in_chunk = lines, skip
                return
            skip -= len(lines)

    # -- internals -----------------------------------------------------------------------------------------------

    def _advance(self) -> bool:
        """Load the next non-exhausted chunk into ``_lines``; False when no split has lines left right now."""
        while self.split_index < len(self.splits):
            if self._reader is None:
                self._reader = LineSplitReader(self.splits[self.split_index], self.charset)
                self._reader.open()
            lines = self._reader.read_chunk()
            if lines is not None:
                self._lines = lines
                self.records_in_chunk = 0
                if lines:
                    return True
                continue
            self._reader.close()
            self._reader = None
            self._lines = []
            self.records_in_chunk = 0
            self.split_index += 1
        return False

    def _maybe_discover(self) -> None:
        if time.monotonic() >= self._next_discovery:
            self._discover()

    def _discover(self) -> None:
        assert self.discovery_interval_ms is not None
        self._next_discovery = time.monotonic() + self.discovery_interval_ms / 1000.0
        files = [(path, size) for path, size in enumerate_files(self.paths, must_exist=False)
                 if path not in self.seen_paths]
        if not files:
            return
        self.seen_paths.update(path for path, _ in files)
        split_bytes = max(self.min_split_bytes, CONTINUOUS_SPLIT_BYTES)
        for split in create_splits(files, self.parallelism, self.splittable, split_bytes=split_bytes):
            if stable_hash(split.split_id) % self.parallelism == self.subtask_index:
                self.splits.append(split)

