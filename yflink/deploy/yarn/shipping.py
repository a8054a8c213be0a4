"""What travels to YARN containers as localized resources (Flink: ``yarn.ship-files``, ``yarn.provided.lib.dirs``).

Containers must run on nodes where yflink is not installed, so they get:

* ``pyenv/`` — the Python environment: either a prebuilt archive named by ``yarn.provided.lib.dirs`` (on HDFS)
  or this machine's environment packed by :func:`pack_environment`: the ``site-packages`` of the running
  interpreter (yflink, its dependencies and whatever the job imports) as ``pyenv/site-packages``; when yflink is
  installed editable (a development checkout) its source package is copied in, so nothing points back at the
  checkout. Tools a container never runs (pip, setuptools, mypy, ruff...) are left out. The archive is cached by a
  digest of its contents' names, sizes and modification times, so the second submission packs nothing, and
  uploaded once to ``hdfs:///user/<user>/.yflink/lib/`` (:func:`cache_on_hdfs`), so it is neither uploaded nor
  unpacked again by the NodeManagers while it does not change.
* ``config.yaml`` — the client's effective configuration.
* the job script (application mode) and every ``yarn.ship-files`` entry, in the working directory.

The interpreter itself is not shipped (like venv-pack): containers run ``python.executable`` (default: this
machine's base interpreter, which must exist with the same minor version on the nodes) with ``PYTHONPATH``
pointing into ``pyenv/``; :func:`python_command` builds that line.
"""

from __future__ import annotations

import hashlib
import os
import site
import sys
import sysconfig
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

from yflink.common.errors import ConfigurationError

#: Top-level entries of site-packages a container never needs (build, lint and install tools).
EXCLUDED = ("pip", "setuptools", "wheel", "_distutils_hack", "distutils-precedence.pth", "mypy", "mypyc",
            "ruff", "grpc_tools", "_pytest", "pytest", "py.py", "pygments", "pkg_resources")
ENV_DIR = "pyenv"  # the archive's link name in a container's working directory


def cache_dir() -> Path:
    """Where packed environments are kept: ``$YFLINK_CACHE_DIR`` or ``~/.cache/yflink/yarn``."""
    base = os.environ.get("YFLINK_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "yflink")
    return Path(base) / "yarn"


def site_packages() -> list[Path]:
    """The running interpreter's site-packages directories (purelib and platlib, de-duplicated)."""
    paths = []
    for key in ("purelib", "platlib"):
        p = Path(sysconfig.get_paths()[key])
        if p.is_dir() and p not in paths:
            paths.append(p)
    if not paths:
        paths = [Path(p) for p in site.getsitepackages() if Path(p).is_dir()]
    return paths


def _excluded(name: str) -> bool:
    lowered = name.lower()
    if lowered.startswith("__editable__") or lowered.endswith(".egg-link") or "__mypyc" in lowered:
        return True
    stem = lowered.split("-", 1)[0] if lowered.endswith((".dist-info", ".egg-info")) else lowered
    return stem in EXCLUDED or lowered in EXCLUDED


def _entries() -> Iterator[tuple[Path, str]]:
    """(local path, name in the archive) of everything that is packed."""
    import yflink

    yflink_dir = Path(yflink.__file__).resolve().parent
    seen = set()
    for sp in site_packages():
        for child in sorted(sp.iterdir()):
            if _excluded(child.name) or child.name in seen or child.name == "yflink":
                continue
            seen.add(child.name)
            yield child, f"site-packages/{child.name}"
    yield yflink_dir, "site-packages/yflink"  # installed or editable: the package itself, never a link to it


def _walk(path: Path) -> Iterator[Path]:
    if path.is_dir() and not path.is_symlink():
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for f in sorted(files):
                yield Path(root) / f
    else:
        yield path


def environment_digest() -> str:
    """A digest of what :func:`pack_environment` would pack (names, sizes, mtimes): equal digests, equal archives."""
    h = hashlib.sha256(sys.version.encode())
    for path, arcname in _entries():
        for f in _walk(path):
            try:
                st = f.stat()
            except OSError:
                continue
            h.update(f"{arcname}/{f.relative_to(path) if f != path else ''}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:20]


def pack_environment(directory: Path | None = None) -> Path:
    """Pack this interpreter's site-packages (and yflink's source) into ``pyenv-<digest>.tar``; reuse a cached one.

    Returns:
        the archive's path (uncompressed tar: packing and unpacking cost less than the bytes saved on a LAN).
    Raises:
        OSError: the cache directory cannot be written.
    """
    directory = directory or cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"pyenv-py{sys.version_info.major}{sys.version_info.minor}-{environment_digest()}.tar"
    if target.exists():
        return target
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    os.close(fd)
    try:
        with tarfile.open(tmp, "w") as tar:
            for path, arcname in _entries():
                tar.add(path, arcname=arcname)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def cache_on_hdfs(archive: Path) -> str | None:
    """Upload a packed environment once to ``hdfs:///user/<user>/.yflink/lib/<name>`` (the default file system
    of ``HADOOP_CONF_DIR``) and return its URI, or None when that is not possible (then skein uploads the local
    archive with each application). Shipped with PRIVATE visibility, the NodeManagers keep the unpacked archive
    across applications, so neither the upload nor the unpacking repeats (the name carries the digest).
    """
    import getpass
    import logging

    try:
        from yflink.fs.hdfs import HdfsFileSystem

        uri = f"hdfs:///user/{getpass.getuser()}/.yflink/lib/{archive.name}"
        fs = HdfsFileSystem()
        if not (fs.exists(uri) and fs.size(uri) == archive.stat().st_size):
            fs.write_atomic(uri, archive.read_bytes())
        return uri
    except Exception as exc:  # noqa: BLE001 - no HDFS client or no HDFS: fall back to the per-application upload
        logging.getLogger(__name__).info("packed environment not cached on HDFS (%s); skein uploads it", exc)
        return None


def python_command(executable: str) -> str:
    """The shell prefix that runs the shipped environment's Python in a container's working directory."""
    return (f'PYTHONPATH="$PWD/{ENV_DIR}/site-packages" PYTHONNOUSERSITE=1 PYTHONUNBUFFERED=1 '
            f"PYTHONDONTWRITEBYTECODE=1 {executable}")


def default_python() -> str:
    """This machine's base interpreter (not a virtual environment's launcher)."""
    return str(getattr(sys, "_base_executable", None) or sys.executable)


def ship_files(entries: list[str]) -> dict[str, str]:
    """``yarn.ship-files`` entries -> {name in the working directory: local absolute path}.

    Raises:
        ConfigurationError: an entry does not exist, or two entries have the same name.
    """
    out: dict[str, str] = {}
    for entry in entries:
        path = Path(entry).expanduser()
        if not path.exists():
            raise ConfigurationError(f"yarn.ship-files: {entry!r} does not exist (local files or directories, "
                                     "separated by ';')")
        name = path.resolve().name
        if name in out:
            raise ConfigurationError(f"yarn.ship-files: two entries are named {name!r}; rename one")
        out[name] = str(path.resolve())
    return out


def archive_directory(path: Path, directory: Path) -> Path:
    """A directory to ship, as ``<name>.tar`` (YARN localizes archives, not directories)."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{path.name}.tar"
    with tarfile.open(target, "w") as tar:
        for f in _walk(path):
            if "__pycache__" not in f.parts:
                tar.add(f, arcname=str(f.relative_to(path)), recursive=False)
    return target
