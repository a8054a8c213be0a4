"""Filesystems behind one interface (checkpoints, savepoints, HA storage): ``file://`` and ``hdfs://``.

See :mod:`yflink.fs.base` for the interface, :mod:`yflink.fs.local` for ``file://`` and :mod:`yflink.fs.hdfs` for ``hdfs://``.
"""

from yflink.fs.base import (
    FileSystem,
    FileSystemError,
    UnsupportedFileSystemError,
    get_file_system,
    join,
    name_of,
    normalize,
    parent_of,
    register_file_system,
    relative_to,
    scheme_of,
)

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
