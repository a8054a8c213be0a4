"""yflink on the dev cluster's real YARN (issue 6): application mode, TaskManager containers on demand,
replacement of a killed TaskManager container, a failing job.

Each test submits through the real CLI (``python -m yflink run -t yarn-application ...``) with its own skein
credentials directory and watches the application through YARN itself (``yarn application -status``, the
ResourceManager's REST API for containers, ``yarn logs``).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.hadoop.devstack import REPO, run, wait_for
from tests.hadoop.test_yarn import aggregated_logs, app_state

pytestmark = pytest.mark.yarn
pytest.importorskip("skein", reason="the YARN client needs skein: bash yarn/setup.sh (or pip install 'yflink[yarn]')")

JOBS = Path(__file__).parent / "jobs"
INTEGRATION_JOBS = REPO / "tests" / "integration" / "jobs"
RM_WEB = "http://localhost:8088"
RUN_TIMEOUT_S = 240
#: Small containers and quick idle release, so the tests stay short on 2 cores.
FLAGS = ("-D", "jobmanager.memory.process.size=384m", "-D", "taskmanager.memory.process.size=384m",
         "-D", "heartbeat.timeout=20 s")


@pytest.fixture
def yarn_env(hadoop: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return dict(hadoop, SKEIN_CONFIG=str(tmp_path / "skein"), PYTHONUNBUFFERED="1")


def yflink_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "yflink", *args]


def app_id_of(text: str) -> str:
    found = re.search(r"Submitted application (application_\d+_\d+)", text)
    assert found, text[-3000:]
    return found.group(1)


def rm_get(path: str) -> dict:
    with urllib.request.urlopen(f"{RM_WEB}{path}", timeout=10) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


def running_taskmanager_containers(app_id: str) -> int | None:
    """Live containers of the application's current attempt except the master's (YARN's REST API)."""
    try:
        attempts = rm_get(f"/ws/v1/cluster/apps/{app_id}/appattempts")["appAttempts"]["appAttempt"]
        attempt = attempts[-1]["appAttemptId"]
        containers = rm_get(f"/ws/v1/cluster/apps/{app_id}/appattempts/{attempt}/containers") or {}
    except (OSError, KeyError, IndexError, ValueError):
        return None
    listed = containers.get("container") or []
    return sum(1 for c in listed if not c["containerId"].endswith("_000001"))


def kill_application_master(app_id: str) -> None:
    """SIGKILL the skein application master's JVM of ``app_id`` (as if its container were lost)."""
    import psutil

    def application_master() -> psutil.Process | None:
        for p in psutil.process_iter(["cmdline"]):
            cmd = " ".join(p.info["cmdline"] or [])
            try:
                if "com.anaconda.skein.ApplicationMaster" in cmd and app_id in p.cwd():
                    return p
            except psutil.Error:
                continue
        return None

    master = wait_for(application_master, 30, "the application master's JVM")
    master.send_signal(signal.SIGKILL)  # type: ignore[attr-defined]


def committed_numbers(output: Path) -> list[int]:
    files = [p for p in output.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))]
    return sorted(int(line) for p in files for line in p.read_text().split())


def test_application_mode_runs_jobs_in_containers_requested_on_demand_and_released_when_idle(
    yarn_env: dict[str, str], tmp_path: Path, yarn_apps: list[tuple[str, dict[str, str]]]
) -> None:
    n, output, name = 20_000, tmp_path / "out", f"yflink-app-test-{time.time_ns()}"
    proc = subprocess.Popen(
        yflink_cmd("run", "-t", "yarn-application", *FLAGS, "-D", f"yarn.application.name={name}",
                   "-D", "yarn.tags=yflink-test,app-mode", "-D", "yarn.application.queue=default",
                   "-D", "resourcemanager.taskmanager-timeout=2 s",
                   str(JOBS / "two_phases.py"), str(n), str(output), "10"),
        env=yarn_env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    timeline: list[int] = []
    app: dict[str, str] = {}

    def watch() -> None:  # TaskManager containers over time, as YARN's ResourceManager reports them
        while proc.poll() is None:
            if "id" in app:
                count = running_taskmanager_containers(app["id"])
                if count is not None and (not timeline or timeline[-1] != count):
                    timeline.append(count)
            time.sleep(0.3)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out_lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        out_lines.append(line)
        if "Submitted application" in line:
            app["id"] = app_id_of(line)
            yarn_apps.append((app["id"], yarn_env))
    err = proc.stderr.read() if proc.stderr else ""
    proc.wait(timeout=RUN_TIMEOUT_S)
    watcher.join(timeout=5)
    out = "".join(out_lines)
    assert proc.returncode == 0, out + err
    app_id = app["id"]
    assert f"Tracking URL: http://localhost:8088/proxy/{app_id}/" in out
    assert "FINISHED with final status SUCCEEDED" in out
    assert app_state(app_id, yarn_env) == ("FINISHED", "SUCCEEDED")
    assert committed_numbers(output) == list(range(1, n + 1))
    # Containers on demand: 2 for phase 1 (parallelism 2, one slot each), none while idle, 1 for phase 2.
    assert timeline, "the ResourceManager never listed the application's containers"
    assert max(timeline) == 2, timeline
    first_two = timeline.index(2)
    assert 0 in timeline[first_two:], f"idle TaskManagers were not released: {timeline}"
    after_idle = timeline[first_two:][timeline[first_two:].index(0):]
    assert 1 in after_idle, f"phase 2 got no container: {timeline}"
    # YARN's own view of the application (the ResourceManager's REST API): name, queue, tags, type.
    report = rm_get(f"/ws/v1/cluster/apps/{app_id}")["app"]
    assert report["name"] == name
    assert report["queue"] in ("default", "root.default")
    assert set(report["applicationTags"].split(",")) == {"yflink-test", "app-mode"}
    assert app_id in run(["yarn", "application", "-list", "-appStates", "FINISHED"], env=yarn_env).stdout
    logs = aggregated_logs(app_id, yarn_env, "phase2:30")
    # The containers ran the shipped environment, not this checkout or this virtualenv.
    yflink_from = re.search(r"yflink-from:(\S+)", logs)
    assert yflink_from, logs[-3000:]
    assert "/pyenv/site-packages/yflink/" in yflink_from.group(1)
    assert not yflink_from.group(1).startswith(str(REPO / "yflink"))
    assert sys.prefix not in re.search(r"python-from:(\S+)", logs).group(1)  # type: ignore[union-attr]
    assert "LogType:jobmanager.log" in logs and "LogType:taskmanager.log" in logs
    requested = re.findall(r"Requested TaskManager container", logs)
    assert len(requested) == 3, f"expected 2 + 1 container requests, got {len(requested)}"


def test_a_failing_job_ends_the_application_failed_with_its_traceback(
    yarn_env: dict[str, str], tmp_path: Path, yarn_apps: list[tuple[str, dict[str, str]]]
) -> None:
    proc = subprocess.run(yflink_cmd("run", "-t", "yarn-application", *FLAGS,
                                     str(INTEGRATION_JOBS / "fails_on_record.py")),
                          env=yarn_env, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    app_id = app_id_of(proc.stdout)
    yarn_apps.append((app_id, yarn_env))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "ValueError: bad record 7" in proc.stderr
    assert app_state(app_id, yarn_env) == ("FINISHED", "FAILED")
    logs = aggregated_logs(app_id, yarn_env, "ValueError: bad record 7")
    assert "Traceback" in logs


def test_a_killed_taskmanager_container_is_replaced_and_the_job_recovers_exactly_once(
    yarn_env: dict[str, str], tmp_path: Path, yarn_apps: list[tuple[str, dict[str, str]]]
) -> None:
    import psutil

    n, output = 60_000, tmp_path / "out"
    proc = subprocess.Popen(
        yflink_cmd("run", "-t", "yarn-application", *FLAGS, "-D", "execution.checkpointing.interval=300 ms",
                   "-D", "restart-strategy.type=fixed-delay", "-D", "restart-strategy.fixed-delay.attempts=5",
                   "-D", "restart-strategy.fixed-delay.delay=200 ms",
                   str(INTEGRATION_JOBS / "slow_numbers_to_files.py"), str(n), str(output)),
        env=yarn_env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        app_id = app_id_of(proc.stdout.readline())
        yarn_apps.append((app_id, yarn_env))
        container_prefix = "container_" + app_id.removeprefix("application_") + "_"

        def busy_taskmanager() -> psutil.Process | None:
            if not any(p.is_file() and p.name.startswith(".") for p in output.rglob("*")):
                return None  # the sink has not written yet
            for p in psutil.process_iter(["cmdline"]):
                cmd = p.info["cmdline"] or []
                if "taskmanager" in cmd and any(c.startswith(container_prefix) for c in cmd) and p.children():
                    return p
            return None

        victim = wait_for(busy_taskmanager, 120, "a TaskManager container running tasks", interval_s=0.2)
        time.sleep(1.0)  # let a checkpoint complete
        victim.send_signal(signal.SIGKILL)  # type: ignore[attr-defined]
        out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
    assert proc.returncode == 0, out + err
    assert app_state(app_id, yarn_env) == ("FINISHED", "SUCCEEDED")
    assert committed_numbers(output) == list(range(1, n + 1))
    logs = aggregated_logs(app_id, yarn_env, "RESTARTING")
    assert re.search(r"TaskManager container container_\S+ failed", logs), "the driver did not see the failure"
    assert re.search(r"RUNNING: taskmanager_[2-9]", logs), "no replacement container ran"


def test_a_session_runs_two_jobs_at_once_and_its_containers_grow_and_shrink(
    yarn_env: dict[str, str], tmp_path: Path, yarn_apps: list[tuple[str, dict[str, str]]]
) -> None:
    conf = ("-D", f"yarn.properties-file.location={tmp_path}")
    started = subprocess.run(
        yflink_cmd("yarn-session", "start", "-d", "-nm", "yflink-session-test", *FLAGS, *conf,
                   "-D", "resourcemanager.taskmanager-timeout=2 s"),
        env=yarn_env, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    app_id = app_id_of(started.stdout)
    yarn_apps.append((app_id, yarn_env))
    assert started.returncode == 0, started.stdout + started.stderr
    rest = re.search(r"JobManager REST at http://(\S+)", started.stdout)
    assert rest, started.stdout
    assert f"applicationID={app_id}" in (tmp_path / next(p.name for p in tmp_path.glob(".yarn-properties-*"))
                                         ).read_text()
    assert running_taskmanager_containers(app_id) == 0  # a session starts without TaskManagers
    job_ids = []
    for _ in range(2):  # the last session is found through the properties file
        submitted = subprocess.run(
            yflink_cmd("run", "-t", "yarn-session", "-d", *conf, str(JOBS / "until_cancelled.py")),
            env=yarn_env, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
        assert submitted.returncode == 0, submitted.stdout + submitted.stderr
        found = re.search(r"JobID ([0-9a-f]{32})", submitted.stdout + submitted.stderr)
        assert found, submitted.stdout + submitted.stderr
        job_ids.append(found.group(1))
    # Two jobs of parallelism 2 at once, one slot per TaskManager: 4 containers, never more.
    wait_for(lambda: running_taskmanager_containers(app_id) == 4, 120, "4 TaskManager containers", interval_s=0.3)
    for lister in (("yarn-session", "list"), ("list", "-t", "yarn-session")):  # ours and Flink's spelling
        listed = subprocess.run(yflink_cmd(*lister, *conf), env=yarn_env, capture_output=True, text=True, timeout=60)
        assert all(j in listed.stdout for j in job_ids) and listed.stdout.count("(RUNNING)") == 2, listed.stdout
    cancellers = (("yarn-session", "cancel"), ("cancel", "-t", "yarn-session", "-D", f"yarn.application.id={app_id}"))
    for job_id, canceller in zip(job_ids, cancellers):
        cancelled = subprocess.run(yflink_cmd(*canceller, *conf, job_id), env=yarn_env,
                                   capture_output=True, text=True, timeout=60)
        assert f"Cancelled job {job_id}." in cancelled.stdout, cancelled.stdout + cancelled.stderr
    assert (running_taskmanager_containers(app_id) or 0) <= 4
    direct = subprocess.run(yflink_cmd("list", "-a", "-m", rest.group(1)), env=yarn_env, capture_output=True,
                            text=True, timeout=60)
    assert direct.stdout.count("(CANCELED)") == 2, direct.stdout
    wait_for(lambda: running_taskmanager_containers(app_id) == 0, 60, "idle TaskManagers to be released")
    assert app_state(app_id, yarn_env) == ("RUNNING", "UNDEFINED")  # the session outlives its jobs
    stopped = subprocess.run(yflink_cmd("yarn-session", "stop", *conf), env=yarn_env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert app_state(app_id, yarn_env) == ("FINISHED", "SUCCEEDED")
    assert not list(tmp_path.glob(".yarn-properties-*"))


def test_a_submission_that_waits_past_client_timeout_kills_its_application(
    yarn_env: dict[str, str], tmp_path: Path, yarn_apps: list[tuple[str, dict[str, str]]]
) -> None:
    proc = subprocess.run(yflink_cmd("run", "-t", "yarn-application", *FLAGS, "-D", "client.timeout=1 s",
                                     str(INTEGRATION_JOBS / "fails_on_record.py")),
                          env=yarn_env, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    app_id = app_id_of(proc.stdout)
    yarn_apps.append((app_id, yarn_env))
    assert proc.returncode == 1
    assert "did not start its JobManager within 1 s" in proc.stderr and "it was killed" in proc.stderr
    assert app_state(app_id, yarn_env) == ("KILLED", "KILLED")  # no zombie that starts later


def test_a_lost_application_master_gets_a_second_attempt_that_recovers_the_job_from_its_checkpoint(
    yarn_env: dict[str, str], tmp_path: Path, yarn_apps: list[tuple[str, dict[str, str]]]
) -> None:

    n, output, checkpoints = 60_000, tmp_path / "out", tmp_path / "chk"
    proc = subprocess.Popen(
        yflink_cmd("run", "-t", "yarn-application", *FLAGS, "-D", "yarn.application-attempts=2",
                   "-D", "execution.checkpointing.interval=300 ms", "-D", f"execution.checkpointing.dir={checkpoints}",
                   str(INTEGRATION_JOBS / "slow_numbers_to_files.py"), str(n), str(output)),
        env=yarn_env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        app_id = app_id_of(proc.stdout.readline())
        yarn_apps.append((app_id, yarn_env))
        wait_for(lambda: list(checkpoints.glob(f"{app_id}/*/chk-*/_metadata")), 120, "a completed checkpoint",
                 interval_s=0.2)
        kill_application_master(app_id)
        out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
    assert proc.returncode == 0, out + err
    attempts = rm_get(f"/ws/v1/cluster/apps/{app_id}/appattempts")["appAttempts"]["appAttempt"]
    assert len(attempts) == 2
    assert app_state(app_id, yarn_env) == ("FINISHED", "SUCCEEDED")
    assert committed_numbers(output) == list(range(1, n + 1))
    logs = aggregated_logs(app_id, yarn_env, "Attempt 2: the job restarts from")
    assert f"{checkpoints}/{app_id}/" in logs


def test_failing_taskmanager_containers_stop_after_the_maximum_and_fail_the_job_with_that_cause(
    yarn_env: dict[str, str], tmp_path: Path, yarn_apps: list[tuple[str, dict[str, str]]]
) -> None:
    # A TaskManager that cannot start (a bad taskmanager.rpc.port) fails its container; the JobManager is fine.
    proc = subprocess.run(yflink_cmd("run", "-t", "yarn-application", *FLAGS, "-D", "taskmanager.rpc.port=notaport",
                                     "-D", "yarn.maximum-failed-containers=1", str(JOBS / "two_phases.py"), "10",
                                     str(tmp_path / "out"), "0"),
                          env=yarn_env, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    app_id = app_id_of(proc.stdout)
    yarn_apps.append((app_id, yarn_env))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "more than yarn.maximum-failed-containers (1); no more containers are requested" in proc.stderr
    assert "Last failure: TaskManager container container_" in proc.stderr
    assert app_state(app_id, yarn_env) == ("FINISHED", "FAILED")


def test_nexmark_q1_in_application_mode_with_its_query_module_shipped_gives_the_reference_result(
    yarn_env: dict[str, str], tmp_path: Path, yarn_apps: list[tuple[str, dict[str, str]]]
) -> None:
    from collections import Counter

    from yflink.connectors.nexmark import NexmarkSource
    from yflink.connectors.nexmark import queries as reference

    events, output = 5_000, tmp_path / "out"
    proc = subprocess.run(yflink_cmd("run", "-t", "yarn-application", *FLAGS,
                                     "-D", f"yarn.ship-files={REPO / 'examples' / 'nexmark_q1.py'}",
                                     str(JOBS / "nexmark_q1_to_files.py"), str(events), str(output)),
                          env=yarn_env, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    app_id = app_id_of(proc.stdout)
    yarn_apps.append((app_id, yarn_env))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert app_state(app_id, yarn_env) == ("FINISHED", "SUCCEEDED")
    want = reference.q1(NexmarkSource(events, seed=3, first_event_time_ms=1_700_000_000_000).events())
    files = [p for p in output.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))]
    got = Counter(line for p in files for line in p.read_text().splitlines())
    assert want and got == Counter(repr(row) for row in want)
