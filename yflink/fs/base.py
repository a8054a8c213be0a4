"""One filesystem interface for checkpoint, savepoint and (later) HA storage.

Everything above this layer names files by **URI** (``file:///tmp/chk``, ``hdfs://nn:8020/flink/chk``; a plain
absolute path means ``file://``) and reaches them through a :class:`FileSystem` found by scheme
(:func:`get_file_system`). Each scheme is one module that alone imports its client: ``file`` is
:mod:`yflink.fs.local`; ``hdfs`` is :mod:`yflink.fs.hdfs` (the only importer of hdfs-native), registered lazily
so that nothing imports an HDFS client unless an ``hdfs://`` path is used.

The interface is the small set of operations checkpointing needs, chosen so that HDFS can implement every one
of them directly: whole-file atomic writes (write a temporary file, then rename), ranged reads, listing,
recursive delete, rename. No appends, no open streams kept across calls.

Errors: :class:`FileSystemError` (an I/O failure, naming the path) and :class:`UnsupportedFileSystemError`
(no implementation for the scheme), both under :class:`yflink.common.errors.YFlinkError`.
"""

from __future__ import annotations

import importlib
import posixpath
from collections.abc import Callable
from typing import Optional, Protocol, runtime_checkable
from urllib.parse import urlsplit

from yflink.common.errors import YFlinkError

__all__ = [
    "FileSystem",
    "FileSystemError",
    "UnsupportedFileSystemError",
    "get_file_system",
    "join",
    "name_of",
    "normalize",
    "parent_of",
    "register_file_system",
    "relative_to",
    "scheme_of",
]


class FileSystemError(YFlinkError, OSError):
    """A file operation failed; the message names the path and the cause."""


class UnsupportedFileSystemError(FileSystemError):
    """No filesystem is available for a URI's scheme (or its client library is missing)."""


@runtime_checkable
class FileSystem(Protocol):
    """The operations checkpoint storage needs, on URIs of one scheme.

    Every method raises :class:`FileSystemError` on an I/O failure. Paths are URIs as :func:`normalize`
    returns them.
    """

    def exists(self, uri: str) -> bool:
        """Whether a file or directory exists at ``uri``."""
        ...

    def is_dir(self, uri: str) -> bool:
        """Whether ``uri`` is an existing directory."""
        ...

    def mkdirs(self, uri: str) -> None:
        """Create the directory and its parents; no error if it exists."""
        ...

    def write_atomic(self, uri: str, data: bytes) -> None:
        """Write ``data`` as the whole file ``uri``: readers see the old file, or none, or all of ``data``.

        Implemented as write-to-temporary-then-rename in the same directory; parents are created.
        """
        ...

    def read(self, uri: str, offset: int = 0, length: Optional[int] = None) -> bytes:
        """``length`` bytes from ``offset`` (to the end when None). Raises FileNotFoundError-like
        :class:`FileSystemError` when the file is missing."""
        ...

    def size(self, uri: str) -> int:
        """The file's length in bytes."""
        ...

    def list_dir(self, uri: str) -> list[str]:
        """Names (not paths) of the entries of directory ``uri``, sorted; empty when it does not exist."""
        ...

    def delete(self, uri: str, recursive: bool = False) -> None:
        """Delete a file, or a directory (with its contents when ``recursive``); no error when missing."""
        ...

    def rename(self, src: str, dst: str) -> None:
        """Move ``src`` to ``dst`` (same filesystem); replaces a file at ``dst``."""
        ...


_FACTORIES: dict[str, Callable[[], FileSystem] | str] = {
    "file": "yflink.fs.local:LocalFileSystem",
    "hdfs": "yflink.fs.hdfs:HdfsFileSystem",
    "viewfs": "yflink.fs.hdfs:HdfsFileSystem",
}
_INSTANCES: dict[str, FileSystem] = {}


def register_file_system(scheme: str, factory: Callable[[], FileSystem] | str) -> None:
    """Make ``scheme://`` URIs use ``factory()`` (a callable, or ``"module:attribute"`` imported on first use).

    Tests register in-memory or failing filesystems this way.
    """
    _FACTORIES[scheme.lower()] = factory
    _INSTANCES.pop(scheme.lower(), None)


def scheme_of(uri: str) -> str:
    """The URI's scheme, lower case (``file`` for a plain path)."""
    scheme = urlsplit(uri).scheme.lower()
    return scheme if scheme and len(scheme) > 1 else "file"  # "C:" style drive letters are not schemes


def normalize(uri: str) -> str:
    """The canonical URI: plain absolute paths become ``file:///...``; ``.``/``..`` and trailing slashes go.

    Raises:
        FileSystemError: a relative plain path (checkpoint paths must be absolute, as in Flink).
    """
    parts = urlsplit(uri)
    scheme = scheme_of(uri)
    if scheme == "file":
        path = parts.path if parts.scheme else uri
        if not path.startswith("/"):
            raise FileSystemError(f"Checkpoint paths must be absolute URIs or absolute paths, got {uri!r}")
        return "file://" + posixpath.normpath(path).replace("//", "/")
    path = posixpath.normpath(parts.path or "/")
    return f"{scheme}://{parts.netloc}{path}"


def join(uri: str, *names: str) -> str:
    """``uri`` with path segments appended (``join("file:///a", "b", "c")`` -> ``file:///a/b/c``)."""
    base = normalize(uri)
    return normalize(base.rstrip("/") + "/" + "/".join(n.strip("/") for n in names))


def parent_of(uri: str) -> str:
    """The directory that holds ``uri``."""
    parts = urlsplit(normalize(uri))
    return f"{parts.scheme}://{parts.netloc}{posixpath.dirname(parts.path) or '/'}"


def name_of(uri: str) -> str:
    """The last path segment of ``uri``."""
    return posixpath.basename(urlsplit(normalize(uri)).path)


def relative_to(uri: str, base: str) -> Optional[str]:
    """``uri``'s path relative to directory ``base`` when it lies inside it, else None."""
    target, root = urlsplit(normalize(uri)), urlsplit(normalize(base))
    if (target.scheme, target.netloc) != (root.scheme, root.netloc):
        return None
    prefix = root.path.rstrip("/") + "/"
    return target.path[len(prefix):] if target.path.startswith(prefix) else None


def get_file_system(uri: str) -> FileSystem:
    """The filesystem for ``uri``'s scheme (one shared instance per scheme).

    Raises:
        UnsupportedFileSystemError: no implementation is registered for the scheme, or its module (and client
            library) cannot be imported; the message says which.
    """
    scheme = scheme_of(uri)
    instance = _INSTANCES.get(scheme)
    if instance is not None:
        return instance
    factory = _FACTORIES.get(scheme)
    if factory is None:
        raise UnsupportedFileSystemError(
            f"No filesystem for scheme '{scheme}://' in {uri!r}; supported: "
            f"{', '.join(sorted(s + '://' for s in _FACTORIES))}")
    if isinstance(factory, str):
        module_name, _, attribute = factory.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attribute)
        except ImportError as exc:
            raise UnsupportedFileSystemError(
                f"'{scheme}://' paths need {module_name}, which cannot be loaded ({exc}); "
                "use a file:// path or install the client") from None
    assert callable(factory)
    instance = factory()
    _INSTANCES[scheme] = instance
    return instance
