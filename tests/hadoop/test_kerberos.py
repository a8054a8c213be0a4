"""Secure mode: the MIT KDC, Kerberos HDFS (CLI and hdfs-native), skein under Kerberos, ZooKeeper SASL."""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hadoop import devstack
from tests.hadoop.devstack import run
from tests.hadoop.test_yarn import _skein_spec, aggregated_logs, app_state, submit_skein, watch_states

pytestmark = pytest.mark.kerberos


@pytest.fixture
def secure_hdfs_dir(secure_hadoop: dict[str, str]) -> Iterator[str]:
    """A directory under the test user's home, made and removed with the user's ticket."""
    devstack.kinit(secure_hadoop)
    path = f"/user/{devstack.TEST_USER}/test-{uuid.uuid4().hex[:8]}"
    run(["hdfs", "dfs", "-mkdir", "-p", path], env=secure_hadoop)
    try:
        yield path
    finally:
        devstack.kinit(secure_hadoop)
        run(["hdfs", "dfs", "-rm", "-r", "-f", "-skipTrash", path], env=secure_hadoop, check=False)


def test_kdc_status_names_realm_krb5_conf_and_keytabs(secure_hadoop: dict[str, str]) -> None:
    out = run([devstack.YARN_DIR / "kdc.sh", "status"]).stdout
    assert f"realm       {devstack.REALM}" in out
    assert str(devstack.KDC_DIR / "krb5.conf") in out
    assert str(devstack.KDC_DIR / "keytabs") in out
    assert "running" in out


def test_keytab_login_gives_a_ticket(secure_hadoop: dict[str, str]) -> None:
    assert run(["klist", "-s"], env=secure_hadoop, check=False).returncode != 0  # empty cache at first
    devstack.kinit(secure_hadoop)
    out = run(["klist"], env=secure_hadoop).stdout
    assert f"Default principal: {devstack.TEST_PRINCIPAL}" in out
    assert f"krbtgt/{devstack.REALM}@{devstack.REALM}" in out


def test_hdfs_dfs_needs_a_ticket(secure_hadoop: dict[str, str], secure_hdfs_dir: str, tmp_path: Path) -> None:
    local = tmp_path / "f.txt"
    local.write_text("kerberized\n")
    run(["hdfs", "dfs", "-put", local, f"{secure_hdfs_dir}/f.txt"], env=secure_hadoop)
    assert run(["hdfs", "dfs", "-cat", f"{secure_hdfs_dir}/f.txt"], env=secure_hadoop).stdout == "kerberized\n"
    listing = run(["hdfs", "dfs", "-ls", secure_hdfs_dir], env=secure_hadoop).stdout
    assert "f.txt" in listing and f" {devstack.TEST_USER} " in listing  # owned by the Kerberos user

    run(["kdestroy"], env=secure_hadoop, check=False)
    refused = run(["hdfs", "dfs", "-ls", secure_hdfs_dir], env=secure_hadoop, check=False)
    assert refused.returncode != 0
    assert "Client cannot authenticate via:[TOKEN, KERBEROS]" in refused.stderr


def test_the_test_user_is_not_an_hdfs_superuser(secure_hadoop: dict[str, str]) -> None:
    devstack.kinit(secure_hadoop)
    denied = run(["hdfs", "dfs", "-mkdir", f"/not-yours-{uuid.uuid4().hex[:6]}"], env=secure_hadoop, check=False)
    assert denied.returncode != 0 and "Permission denied: user=yflink" in denied.stderr


def test_hdfs_native_works_with_a_ticket_and_is_refused_without(
    secure_hadoop: dict[str, str], secure_hdfs_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hdfs_native

    for key in ("HADOOP_CONF_DIR", "KRB5_CONFIG", "KRB5CCNAME"):
        monkeypatch.setenv(key, secure_hadoop[key])
    devstack.kinit(secure_hadoop)
    client = hdfs_native.Client()
    path = f"{secure_hdfs_dir}/native.txt"
    with client.create(path) as f:  # block write with SASL data-transfer protection
        f.write(b"hdfs-native under kerberos\n")
    with client.read(path) as f:
        assert f.read() == b"hdfs-native under kerberos\n"
    assert "native.txt" in run(["hdfs", "dfs", "-ls", secure_hdfs_dir], env=secure_hadoop).stdout

    # Without a ticket, in a fresh process (this one keeps its authenticated connections):
    run(["kdestroy"], env=secure_hadoop, check=False)
    probe = "import hdfs_native; print(list(hdfs_native.Client().list_status('/user')))"
    refused = run([sys.executable, "-c", probe], env=secure_hadoop, check=False)
    assert refused.returncode != 0
    assert "No Kerberos credentials available" in refused.stderr, refused.stderr[-2000:]


@pytest.mark.usefixtures("skein_env")
def test_skein_submits_under_kerberos(
    secure_hadoop: dict[str, str], monkeypatch: pytest.MonkeyPatch, yarn_apps: list[tuple[str, dict[str, str]]]
) -> None:
    devstack.kinit(secure_hadoop)
    marker = f"yflink-secure-skein-{time.time_ns()}"
    script = f"{sys.executable} -c 'print(\"{marker}\")'"
    app_id = submit_skein(_skein_spec("yflink-secure-skein-test", script), secure_hadoop, monkeypatch, yarn_apps)
    states = watch_states(app_id, secure_hadoop, {"FINISHED", "FAILED", "KILLED"})
    assert app_state(app_id, secure_hadoop) == ("FINISHED", "SUCCEEDED"), states
    status = run(["yarn", "application", "-status", app_id], env=secure_hadoop).stdout
    assert f"User : {devstack.TEST_USER}" in status
    assert marker in aggregated_logs(app_id, secure_hadoop, marker)


def test_kazoo_connects_with_sasl_gssapi_and_is_refused_without(secure_zookeeper: dict[str, str]) -> None:
    from kazoo.client import KazooClient
    from kazoo.exceptions import AuthFailedError, SessionClosedRequireSaslError

    hosts = devstack.zk_connect_string()
    assert hosts.startswith("localhost:2181")  # SASL names the server by the host a client dials
    devstack.kinit(secure_zookeeper)
    node = f"/yflink-tests/sasl-{uuid.uuid4().hex[:8]}"
    zk = KazooClient(hosts=hosts, timeout=15, sasl_options={"mechanism": "GSSAPI", "service": "zookeeper"})
    zk.start(timeout=30)
    try:
        zk.create(node, b"sasl-ok", makepath=True)
        assert zk.get(node)[0] == b"sasl-ok"
        zk.delete(node)
    finally:
        zk.stop()
        zk.close()

    anonymous = KazooClient(hosts=hosts, timeout=15)
    anonymous.start(timeout=30)
    try:
        with pytest.raises((SessionClosedRequireSaslError, AuthFailedError)):
            anonymous.get("/")
    finally:
        anonymous.stop()
        anonymous.close()


def _spnego_get(url: str) -> tuple[int, bytes]:
    """GET ``url`` with a SPNEGO token for HTTP/localhost from the current ticket cache."""
    import kerberos

    _, ctx = kerberos.authGSSClientInit("HTTP@localhost")
    kerberos.authGSSClientStep(ctx, "")
    token = kerberos.authGSSClientResponse(ctx)
    request = urllib.request.Request(url, headers={"Authorization": f"Negotiate {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read()


@pytest.mark.parametrize(
    "url, expected",
    [
        ("http://localhost:9870/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo", b'"Safemode" : ""'),
        ("http://localhost:8088/ws/v1/cluster/info", b'"state":"STARTED"'),
    ],
    ids=["namenode-jmx", "rm-rest"],
)
def test_web_endpoints_need_spnego(
    secure_hadoop: dict[str, str], monkeypatch: pytest.MonkeyPatch, url: str, expected: bytes
) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=30)
    assert refused.value.code == 401
    for key in ("KRB5_CONFIG", "KRB5CCNAME"):
        monkeypatch.setenv(key, secure_hadoop[key])
    devstack.kinit(secure_hadoop)
    status, body = _spnego_get(url)
    assert status == 200 and expected in body, body[:500]
