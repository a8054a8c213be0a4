"""``file://`` URIs: the local (or NFS-mounted) filesystem.

Atomic writes go to a temporary file in the target directory (``.<name>.<random>.inprogress``), are flushed
and fsync'ed, then renamed over the target with ``os.replace`` (atomic on POSIX), and the directory is fsync'ed
so the rename survives a crash of the machine, not only of the process.
"""

from __future__ import annotations

import errno
import os
import shutil
import uuid
from typing import Optional
from urllib.parse import urlsplit

from yflink.fs.base import FileSystemError, normalize

__all__ = ["LocalFileSystem"]


def _path(uri: str) -> str:
    return urlsplit(normalize(uri)).path


def _fail(action: str, uri: str, exc: OSError) -> FileSystemError:
    error = FileSystemError(f"Could not {action} {uri}: {exc.strerror or exc}")
    error.errno = exc.errno
    return error


class LocalFileSystem:
    """:class:`yflink.fs.base.FileSystem` on the local filesystem."""

    def exists(self, uri: str) -> bool:
        return os.path.exists(_path(uri))

    def is_dir(self, uri: str) -> bool:
        return os.path.isdir(_path(uri))

    def mkdirs(self, uri: str) -> None:
        try:
            os.makedirs(_path(uri), exist_ok=True)
        except OSError as exc:
            raise _fail("create directory", uri, exc) from None

    def write_atomic(self, uri: str, data: bytes) -> None:
        path = _path(uri)
        directory, name = os.path.split(path)
        tmp = os.path.join(directory, f".{name}.{uuid.uuid4().hex[:12]}.inprogress")
        try:
            os.makedirs(directory, exist_ok=True)
            with open(tmp, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
            self._fsync_dir(directory)
        except OSError as exc:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise _fail("write", uri, exc) from None

    @staticmethod
    def _fsync_dir(directory: str) -> None:
        try:
            fd = os.open(directory, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def read(self, uri: str, offset: int = 0, length: Optional[int] = None) -> bytes:
        try:
            with open(_path(uri), "rb") as f:
                if offset:
                    f.seek(offset)
                return f.read() if length is None else f.read(length)
        except OSError as exc:
            raise _fail("read", uri, exc) from None

    def size(self, uri: str) -> int:
        try:
            return os.path.getsize(_path(uri))
        except OSError as exc:
            raise _fail("stat", uri, exc) from None

    def list_dir(self, uri: str) -> list[str]:
        try:
            return sorted(os.listdir(_path(uri)))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise _fail("list", uri, exc) from None

    def delete(self, uri: str, recursive: bool = False) -> None:
        path = _path(uri)
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                if recursive:
                    shutil.rmtree(path)
                else:
                    os.rmdir(path)
            else:
                os.unlink(path)
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return
            raise _fail("delete", uri, exc) from None

    def rename(self, src: str, dst: str) -> None:
        try:
            os.replace(_path(src), _path(dst))
        except OSError as exc:
            raise _fail(f"rename {src} to", dst, exc) from None
