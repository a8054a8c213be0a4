"""YARN of the dev cluster: DistributedShell and skein applications, `yarn application/logs/node`."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest

from tests.hadoop import devstack
from tests.hadoop.devstack import run, wait_for

pytestmark = pytest.mark.yarn

APP_TIMEOUT_S = 180


def app_state(app_id: str, env: dict[str, str]) -> tuple[str, str]:
    """(State, Final-State) from `yarn application -status`."""
    out = run(["yarn", "application", "-status", app_id], env=env).stdout
    state = re.search(r"^\s*State : (\S+)", out, re.M)
    final = re.search(r"^\s*Final-State : (\S+)", out, re.M)
    assert state and final, out
    return state.group(1), final.group(1)


def aggregated_logs(app_id: str, env: dict[str, str], marker: str) -> str:
    """`yarn logs` output once it contains ``marker`` (aggregation finishes after the application)."""

    def fetch() -> str | None:
        out = run(["yarn", "logs", "-applicationId", app_id], env=env, check=False).stdout
        return out if marker in out else None

    return str(wait_for(fetch, 90, f"{marker!r} in the aggregated logs of {app_id}", interval_s=2))


def test_yarn_node_list_shows_one_running_nodemanager(hadoop: dict[str, str]) -> None:
    out = run(["yarn", "node", "-list"], env=hadoop).stdout
    assert "Total Nodes:1" in out
    assert re.search(r"localhost:8041\s+RUNNING", out), out


def test_yarn_classpath_glob_lists_existing_jars(hadoop: dict[str, str]) -> None:
    entries = run(["yarn", "classpath", "--glob"], env=hadoop).stdout.strip().split(":")
    jars = [e for e in entries if e.endswith(".jar")]
    assert any("hadoop-yarn-client-" in j for j in jars)
    assert all(Path(e).exists() for e in entries), [e for e in entries if not Path(e).exists()]


def test_distributed_shell_runs_to_completion_and_yarn_logs_shows_its_output(
    hadoop: dict[str, str], tmp_path: Path, yarn_apps: list[tuple[str, dict[str, str]]]
) -> None:
    # DistributedShell 3.4.2 links Jersey 1, which Hadoop 3.5 dropped: its client and AM get the two jars
    # from apps/lib through a copy of the configuration with a longer yarn.application.classpath.
    conf = tmp_path / "conf"
    conf.mkdir()
    for f in Path(hadoop["HADOOP_CONF_DIR"]).iterdir():
        text = f.read_text()
        if f.name == "yarn-site.xml":
            text = re.sub(
                r"(<name>yarn.application.classpath</name><value>)([^<]*)", rf"\g<1>\g<2>,{devstack.DSHELL_LIB}/*", text
            )
        (conf / f.name).write_text(text)
    env = dict(
        hadoop,
        HADOOP_CONF_DIR=str(conf),
        HADOOP_CLASSPATH=f"{devstack.DSHELL_LIB}/*",
        HADOOP_ROOT_LOGGER="INFO,console",
    )
    marker = f"hello-from-dshell-{time.time_ns()}"
    proc = run(
        [
            "yarn",
            "jar",
            devstack.DSHELL_JAR,
            "org.apache.hadoop.yarn.applications.distributedshell.Client",
            "-jar",
            devstack.DSHELL_JAR,
            "-appname",
            "yflink-dshell-test",
            "-shell_command",
            "echo",
            "-shell_args",
            marker,
            "-num_containers",
            "1",
            "-container_memory",
            "128",
            "-master_memory",
            "256",
            "-timeout",
            "150000",
        ],
        env=env,
        timeout=APP_TIMEOUT_S,
        check=False,
    )
    found = re.search(r"application_\d+_\d+", proc.stdout + proc.stderr)
    assert found, proc.stderr[-3000:]
    app_id = found.group(0)
    yarn_apps.append((app_id, hadoop))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert app_state(app_id, hadoop) == ("FINISHED", "SUCCEEDED")
    logs = aggregated_logs(app_id, hadoop, marker)
    assert re.search(rf"LogType:stdout\n.*\nLogLength:\d+\nLogContents:\n{marker}\n", logs), logs[-3000:]


def _skein_spec(name: str, script: str):  # -> skein.ApplicationSpec
    import skein

    return skein.ApplicationSpec(
        name=name,
        queue="default",
        master=skein.Master(resources=skein.Resources(memory=256, vcores=1)),
        services={"py": skein.Service(resources=skein.Resources(memory=256, vcores=1), script=script)},
    )


def submit_skein(spec, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, apps: list) -> str:
    import skein

    for key in ("PATH", "HADOOP_CONF_DIR", "JAVA_HOME", "KRB5_CONFIG", "KRB5CCNAME", "SKEIN_DRIVER_JAVA_OPTIONS"):
        if key in env:
            monkeypatch.setenv(key, env[key])
        else:
            monkeypatch.delenv(key, raising=False)
    with skein.Client() as client:
        app_id = client.submit(spec)
    apps.append((app_id, env))
    return str(app_id)


def watch_states(app_id: str, env: dict[str, str], until: set[str]) -> list[str]:
    """Distinct YARN states the application passes through until one of ``until``."""
    seen: list[str] = []

    def step() -> bool:
        state, _ = app_state(app_id, env)
        if not seen or seen[-1] != state:
            seen.append(state)
        return state in until

    wait_for(step, APP_TIMEOUT_S, f"{app_id} to reach {until}", interval_s=1)
    return seen


@pytest.mark.usefixtures("skein_env")
def test_skein_python_service_runs_then_succeeds_and_yarn_logs_shows_its_output(
    hadoop: dict[str, str], monkeypatch: pytest.MonkeyPatch, yarn_apps: list[tuple[str, dict[str, str]]]
) -> None:
    marker = f"yflink-skein-service-{time.time_ns()}"
    script = f"{sys.executable} -c 'import time; time.sleep(4); print(\"{marker}\")'"
    app_id = submit_skein(_skein_spec("yflink-skein-test", script), hadoop, monkeypatch, yarn_apps)
    states = watch_states(app_id, hadoop, {"FINISHED", "FAILED", "KILLED"})
    assert "RUNNING" in states and states[-1] == "FINISHED", states
    assert app_state(app_id, hadoop) == ("FINISHED", "SUCCEEDED")
    listed = run(["yarn", "application", "-list", "-appStates", "FINISHED"], env=hadoop).stdout
    assert app_id in listed
    assert marker in aggregated_logs(app_id, hadoop, marker)


@pytest.mark.usefixtures("skein_env")
def test_yarn_application_kill_stops_a_running_application(
    hadoop: dict[str, str], monkeypatch: pytest.MonkeyPatch, yarn_apps: list[tuple[str, dict[str, str]]]
) -> None:
    app_id = submit_skein(_skein_spec("yflink-kill-test", "sleep 600"), hadoop, monkeypatch, yarn_apps)
    watch_states(app_id, hadoop, {"RUNNING"})
    assert app_id in run(["yarn", "application", "-list"], env=hadoop).stdout  # default: running ones
    run(["yarn", "application", "-kill", app_id], env=hadoop)
    assert app_state(app_id, hadoop) == ("KILLED", "KILLED")
