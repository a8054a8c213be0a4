"""docker-compose.yml cannot run here (no Docker engine): check what can be checked without one.

It parses, mounts only files that exist, runs commands the scripts know, and the configuration
templates render for its hosts exactly as the containers will render them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from tests.hadoop import devstack
from tests.hadoop.devstack import REPO, run

COMPOSE = REPO / "docker-compose.yml"
EXPECTED = {"kdc", "zookeeper1", "zookeeper2", "zookeeper3", "namenode", "datanode", "resourcemanager",
            "nodemanager", "client"}  # fmt: skip


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_has_every_service(compose: dict) -> None:
    assert set(compose["services"]) == EXPECTED


def test_every_mounted_file_and_the_build_exist(compose: dict) -> None:
    named = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (REPO / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in named, f"{name} mounts undeclared volume {source}"
    build = compose["services"]["kdc"]["build"]
    dockerfile = REPO / build["context"] / build["dockerfile"]
    assert dockerfile.is_file()
    assert Path(f"{dockerfile}.dockerignore").is_file()
    # Every COPY source of the Dockerfile exists in the build context.
    for line in dockerfile.read_text().splitlines():
        if line.startswith("COPY "):
            src = line.split()[1]
            assert (REPO / build["context"] / src).exists(), line


def test_every_command_is_a_script_subcommand(compose: dict) -> None:
    for name, service in compose["services"].items():
        command = service["command"]
        if command[0] == "bash":
            scripts = re.findall(r"(yarn/\w+\.sh|zookeeper/\w+\.sh) ([\w-]+)", command[2])
        else:
            scripts = [(command[0], command[1])]
        assert scripts, name
        for script, sub in scripts:
            path = REPO / script
            assert path.is_file() and os.access(path, os.X_OK), f"{name}: {script}"
            usage = run([path, "no-such-subcommand"], check=False).stderr
            assert sub in usage, f"{name}: {script} does not know '{sub}': {usage}"


def _conf_value(conf: Path, file: str, key: str) -> str:
    found = re.search(rf"<name>{re.escape(key)}</name><value>([^<]*)</value>", (conf / file).read_text())
    assert found, f"{key} not in {file}"
    return found.group(1)


@pytest.mark.parametrize("mode", ["plain", "secure"])
def test_templates_render_for_the_compose_hosts(compose: dict, tmp_path: Path, mode: str) -> None:
    env = dict(os.environ)
    env.update({k: str(v) for k, v in compose["x-stack"]["environment"].items() if k != "YF_MODE"})
    env.update(YF_MODE=mode, YFLINK_DEV_RUN=str(tmp_path / "run"), JAVA_HOME=devstack.java_home())
    env.pop("HADOOP_CONF_DIR", None)
    run([devstack.YARN_DIR / "cluster.sh", "conf"], env=env)
    conf = tmp_path / "run" / "conf"
    assert not re.search(r"@[A-Z_]+@", "".join(p.read_text() for p in conf.glob("*.xml"))), "unrendered placeholder"
    assert _conf_value(conf, "core-site.xml", "fs.defaultFS") == "hdfs://namenode:8020"
    assert _conf_value(conf, "hdfs-site.xml", "dfs.datanode.address") == "0.0.0.0:9866"
    assert _conf_value(conf, "hdfs-site.xml", "dfs.datanode.hostname") == "datanode"
    assert _conf_value(conf, "yarn-site.xml", "yarn.resourcemanager.address") == "resourcemanager:8032"
    assert _conf_value(conf, "yarn-site.xml", "yarn.nodemanager.address") == "nodemanager:8041"
    if mode == "secure":
        assert "<value>kerberos</value>" in (conf / "core-site.xml").read_text()
        assert _conf_value(conf, "hdfs-site.xml", "dfs.namenode.kerberos.principal") == "nn/localhost@YFLINK.DEV"
    else:
        assert "kerberos" not in (conf / "core-site.xml").read_text()
