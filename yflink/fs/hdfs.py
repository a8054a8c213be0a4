"""``hdfs://`` (and ``viewfs://``) URIs through hdfs-native, the only module that imports it.

hdfs-native speaks HDFS's RPC and data-transfer protocols natively (no JVM, no libhdfs). It reads the cluster's
configuration from ``$HADOOP_CONF_DIR`` (or ``$HADOOP_HOME/etc/hadoop``) as Hadoop clients do: ``fs.defaultFS``
for URIs without an authority (``hdfs:///flink/chk``), NameNode HA name services, and
``hadoop.security.authentication``. Under Kerberos it uses the ticket cache (``kinit``; ``$KRB5CCNAME``) unless
a keytab and principal are configured with Flink's keys ``security.kerberos.login.keytab`` and
``security.kerberos.login.principal`` (:func:`configure_kerberos`).

Atomic writes follow Flink's ``HadoopFileSystem`` usage for checkpoint metadata: write a hidden temporary file
(``.<name>.<random>.inprogress``) in the target directory, close it (the NameNode completes the file once its
blocks are acknowledged by the DataNodes), then rename over the target. HDFS renames are atomic.

Errors from hdfs-native (``FileNotFoundError``, ``PermissionError``, ``RuntimeError`` for protocol and
connection failures) become :class:`yflink.fs.base.FileSystemError` naming the URI.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any, Optional
from urllib.parse import urlsplit

from yflink.fs.base import FileSystemError, UnsupportedFileSystemError, normalize

__all__ = ["HdfsFileSystem", "configure_kerberos"]

_KERBEROS: dict[str, Optional[str]] = {"principal": None, "keytab": None}


def configure_kerberos(principal: Optional[str], keytab: Optional[str]) -> None:
    """Log in with a keytab for every HDFS client created afterwards (Flink: ``security.kerberos.login.keytab``,
    ``security.kerberos.login.principal``). Both None: the ticket cache (``kinit``) is used.

    Raises:
        ValueError: only one of the two is given.
    """
    if (principal is None) != (keytab is None):
        raise ValueError("security.kerberos.login.keytab and security.kerberos.login.principal must be set "
                         f"together (got principal={principal!r}, keytab={keytab!r})")
    _KERBEROS.update(principal=principal, keytab=keytab)


def _fail(action: str, uri: str, exc: BaseException) -> FileSystemError:
    text = str(exc).strip() or type(exc).__name__
    return FileSystemError(f"Could not {action} {uri}: {text}")


class HdfsFileSystem:
    """:class:`yflink.fs.base.FileSystem` on HDFS; one hdfs-native client per authority (NameNode or name
    service), created on first use and shared by threads (hdfs-native clients are thread-safe)."""

    def __init__(self) -> None:
        try:
            import hdfs_native
        except ImportError:
            raise UnsupportedFileSystemError(
                "hdfs:// paths need the hdfs-native package: pip install hdfs-native") from None
        self._module = hdfs_native
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _client(self, uri: str) -> tuple[Any, str]:
        """The client for ``uri``'s authority and the path within it."""
        parts = urlsplit(normalize(uri))
        key = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                try:
                    client = self._module.Client(key or None, kerberos_principal=_KERBEROS["principal"],
                                                 kerberos_keytab=_KERBEROS["keytab"])
                except Exception as exc:  # noqa: BLE001 - bad configuration, unknown name service, ...
                    raise _fail("connect to HDFS for", uri, exc) from None
                self._clients[key] = client
        return client, parts.path or "/"

    def _info(self, uri: str) -> Optional[Any]:
        client, path = self._client(uri)
        try:
            return client.get_file_info(path)
        except FileNotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001
            raise _fail("stat", uri, exc) from None

    def exists(self, uri: str) -> bool:
        return self._info(uri) is not None

    def is_dir(self, uri: str) -> bool:
        info = self._info(uri)
        return info is not None and bool(info.isdir)

    def mkdirs(self, uri: str) -> None:
        client, path = self._client(uri)
        try:
            client.mkdirs(path, create_parent=True)
        except Exception as exc:  # noqa: BLE001
            if not self.is_dir(uri):
                raise _fail("create directory", uri, exc) from None

    def write_atomic(self, uri: str, data: bytes) -> None:
        client, path = self._client(uri)
        directory, name = path.rsplit("/", 1)
        tmp = f"{directory}/.{name}.{uuid.uuid4().hex[:12]}.inprogress"
        options = self._module.WriteOptions()
        options.create_parent = True
        try:
            with client.create(tmp, options) as out:
                out.write(data)
            client.rename(tmp, path, overwrite=True)
        except Exception as exc:  # noqa: BLE001
            try:
                client.delete(tmp)
            except Exception:  # noqa: BLE001 - best effort; the temporary name is hidden and unique
                pass
            raise _fail("write", uri, exc) from None

    def read(self, uri: str, offset: int = 0, length: Optional[int] = None) -> bytes:
        client, path = self._client(uri)
        try:
            with client.read(path) as reader:
                if length is None:
                    if offset:
                        reader.seek(offset)
                    return bytes(reader.read())
                return bytes(reader.read_range(offset, max(0, min(length, reader.size - offset))))
        except Exception as exc:  # noqa: BLE001
            raise _fail("read", uri, exc) from None

    def size(self, uri: str) -> int:
        info = self._info(uri)
        if info is None:
            raise FileSystemError(f"Could not stat {uri}: no such file")
        return int(info.length)

    def list_dir(self, uri: str) -> list[str]:
        client, path = self._client(uri)
        try:
            return sorted(status.path.rstrip("/").rsplit("/", 1)[-1] for status in client.list_status(path))
        except FileNotFoundError:
            return []
        except Exception as exc:  # noqa: BLE001
            raise _fail("list", uri, exc) from None

    def delete(self, uri: str, recursive: bool = False) -> None:
        client, path = self._client(uri)
        try:
            client.delete(path, recursive)
        except FileNotFoundError:
            return
        except Exception as exc:  # noqa: BLE001
            if self._info(uri) is None:
                return
            raise _fail("delete", uri, exc) from None

    def rename(self, src: str, dst: str) -> None:
        client, src_path = self._client(src)
        _, dst_path = self._client(dst)
        try:
            client.rename(src_path, dst_path, overwrite=True)
        except Exception as exc:  # noqa: BLE001
            raise _fail(f"rename {src} to", dst, exc) from None
