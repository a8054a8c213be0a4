"""Fixtures for tests against the real dev stack: Hadoop (HDFS + YARN), ZooKeeper x3 and an MIT KDC.

Services start once per session, only when a test asks for them, through the project's own scripts;
plain-mode tests run before secure-mode (Kerberos) ones so each stack switches mode at most once.
Each test gets its own HDFS directory, ZooKeeper chroot and YARN applications, removed or killed
afterwards even when it fails; a failed test's report carries the daemons' log tails. Everything the
session started is stopped at its end.

Run: ``bash yarn/setup.sh && python -m pytest tests/hadoop -m hadoop``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hadoop import devstack
from tests.hadoop.devstack import Service

MARKERS = {
    "hadoop": "needs the real dev stack (yarn/setup.sh installs it); selects every test in tests/hadoop",
    "hdfs": "uses the dev cluster's HDFS",
    "yarn": "runs applications on the dev cluster's YARN",
    "zookeeper": "uses the 3-server ZooKeeper ensemble",
    "kerberos": "runs the stack in secure mode against the throwaway MIT KDC",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    ours = [it for it in items if here in Path(str(it.fspath)).parents]
    for item in ours:
        item.add_marker(pytest.mark.hadoop)
    # Plain-mode tests first, Kerberos ones last: each stack changes mode at most once per session.
    ours_sorted = sorted(ours, key=lambda it: it.get_closest_marker("kerberos") is not None)
    pos = iter(i for i, it in enumerate(items) if here in Path(str(it.fspath)).parents)
    for i, item in zip(pos, ours_sorted, strict=True):
        items[i] = item


class Stack:
    """The services of one test session."""

    def __init__(self) -> None:
        self.hadoop = devstack.hadoop_service()
        self.zookeeper = devstack.zookeeper_service()
        self.kdc = devstack.kdc_service()
        self.used: list[Service] = []

    def use(self, service: Service, mode: str) -> None:
        if service not in self.used:
            self.used.append(service)
        service.ensure(mode)

    def close(self) -> None:
        errors = []
        for service in [*self.used, self.kdc]:
            try:
                service.stop()
            except devstack.CommandFailed as exc:
                errors.append(str(exc))
        if errors:
            raise RuntimeError("stopping the dev stack failed:\n" + "\n".join(errors))


_STACKS: list[Stack] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How long each service took to start, so CI logs show it."""
    for s in _STACKS:
        for service in s.used:
            if service.timings:
                times = ", ".join(f"{k} {v:.1f}s" for k, v in service.timings.items())
                terminalreporter.write_line(f"[dev stack] {service.name}: {times}")


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    s = Stack()
    _STACKS.append(s)
    try:
        yield s
    finally:
        s.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    s = getattr(item, "funcargs", {}).get("stack")
    if isinstance(s, Stack):
        for service in s.used:
            tails = service.log_tails()
            if tails:
                report.sections.append((f"{service.name} logs (tail)", tails))


# --- Hadoop -------------------------------------------------------------------------------------


@pytest.fixture
def hadoop(stack: Stack) -> dict[str, str]:
    """A plain (no Kerberos) dev cluster; returns the environment for its CLIs."""
    stack.use(stack.hadoop, "plain")
    return devstack.hadoop_env(secure=False)


@pytest.fixture
def secure_hadoop(stack: Stack, tmp_path: Path) -> dict[str, str]:
    """The dev cluster with Kerberos; returns an environment with a private, empty ticket cache."""
    stack.use(stack.hadoop, "secure")
    return devstack.hadoop_env(secure=True, ccache=tmp_path / "krb5cc")


def _hdfs_dir(env: dict[str, str], request: pytest.FixtureRequest, base: str) -> Iterator[str]:
    path = f"{base}/{request.node.name.replace('[', '-').replace(']', '')}-{uuid.uuid4().hex[:8]}"
    devstack.run(["hdfs", "dfs", "-mkdir", "-p", path], env=env)
    try:
        yield path
    finally:
        devstack.run(["hdfs", "dfs", "-rm", "-r", "-f", "-skipTrash", path], env=env, check=False)


@pytest.fixture
def hdfs_dir(hadoop: dict[str, str], request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh HDFS directory for this test, removed afterwards."""
    yield from _hdfs_dir(hadoop, request, "/tmp/yflink-tests")


@pytest.fixture
def skein_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """skein reads its driver's environment from os.environ: keep its state in this test's tmp dir."""
    monkeypatch.setenv("SKEIN_CONFIG", str(tmp_path / "skein"))


@pytest.fixture
def yarn_apps(stack: Stack) -> Iterator[list[tuple[str, dict[str, str]]]]:
    """Tests append (application id, env); applications not finished at teardown are killed."""
    apps: list[tuple[str, dict[str, str]]] = []
    yield apps
    for app_id, env in apps:
        status = devstack.run(["yarn", "application", "-status", app_id], env=env, check=False)
        if "State : FINISHED" not in status.stdout and "State : KILLED" not in status.stdout:
            devstack.run(["yarn", "application", "-kill", app_id], env=env, check=False)


# --- ZooKeeper ----------------------------------------------------------------------------------


@pytest.fixture
def zookeeper(stack: Stack) -> str:
    """The plain 3-server ensemble; returns its connection string."""
    stack.use(stack.zookeeper, "plain")
    return devstack.zk_connect_string()


@pytest.fixture
def secure_zookeeper(stack: Stack, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The ensemble with SASL/Kerberos; returns an environment with a private, empty ticket cache
    (kazoo's GSSAPI reads KRB5_CONFIG/KRB5CCNAME from os.environ, so they are set there too)."""
    stack.use(stack.zookeeper, "secure")
    env = devstack.hadoop_env(secure=True, ccache=tmp_path / "krb5cc")
    saved = {k: os.environ.get(k) for k in ("KRB5_CONFIG", "KRB5CCNAME")}
    os.environ.update({k: env[k] for k in saved})
    try:
        yield env
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def zk_chroot(zookeeper: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A connection string with this test's own chroot; the chroot is deleted afterwards."""
    from kazoo.client import KazooClient

    chroot = f"/yflink-tests/{request.node.name.replace('[', '-').replace(']', '')}-{uuid.uuid4().hex[:8]}"
    admin = KazooClient(hosts=zookeeper, timeout=15)
    admin.start(timeout=30)
    try:
        admin.ensure_path(chroot)
        yield zookeeper + chroot
    finally:
        admin.delete(chroot, recursive=True)
        admin.stop()
        admin.close()
