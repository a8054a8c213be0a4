"""YARN deployment without YARN: the skein specification, the packed environment, the last-session file, and the
ResourceManager's YARN driver against a fake skein application master (tests/hadoop/test_yarn_deploy.py runs the
real thing)."""

from __future__ import annotations

import asyncio
import sys
import tarfile
from collections import OrderedDict
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from yflink.common.configuration import Configuration
from yflink.common.errors import ConfigurationError
from yflink.deploy.yarn import options as yopts
from yflink.deploy.yarn import shipping
from yflink.runtime.resourcemanager import ResourceManager, SlotRequest, TaskExecutorRecord

REPO = Path(__file__).resolve().parents[2]


# --- the ApplicationSpec ---------------------------------------------------------------------------------------
@pytest.fixture
def descriptor_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    pytest.importorskip("skein")
    from yflink.deploy.yarn.descriptor import YarnClusterDescriptor

    archive = tmp_path / "pyenv.tar"
    archive.write_bytes(b"")
    monkeypatch.setattr(shipping, "pack_environment", lambda directory=None: archive)
    monkeypatch.setattr(shipping, "cache_on_hdfs", lambda local: None)
    made = []

    def make(**conf: Any) -> YarnClusterDescriptor:
        config = Configuration()
        for k, v in conf.items():
            config.set(k, v)
        d = YarnClusterDescriptor(config)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


def test_application_spec_carries_flinks_yarn_options(descriptor_for: Any, tmp_path: Path) -> None:
    job = tmp_path / "job.py"
    job.write_text("print('hi')\n")
    shipped_dir = tmp_path / "lib"
    (shipped_dir / "pkg").mkdir(parents=True)
    (shipped_dir / "pkg" / "m.py").write_text("X = 1\n")
    spec = descriptor_for(**{
        "yarn.application.name": "my app", "yarn.application.queue": "etl", "yarn.tags": "a, b",
        "yarn.application-attempts": 2, "jobmanager.memory.process.size": "1g", "yarn.appmaster.vcores": 2,
        "taskmanager.memory.process.size": "1536m", "taskmanager.numberOfTaskSlots": 3,
        "yarn.ship-files": str(shipped_dir)}).application_spec("application", str(job), ("--n", "5"))
    assert (spec.name, spec.queue, spec.tags, spec.max_attempts) == ("my app", "etl", {"a", "b"}, 2)
    assert (spec.master.resources.memory, spec.master.resources.vcores) == (1024, 2)
    tm = spec.services["taskmanager"]
    assert (tm.instances, tm.max_restarts) == (0, -1)  # containers on demand; a failed one does not end the app
    assert (tm.resources.memory, tm.resources.vcores) == (1536, 3)  # yarn.containers.vcores -1: the slots
    assert spec.master.script.endswith("-m yflink.deploy.yarn.appmaster application job.py --n 5")
    assert str(spec.master.files["pyenv"].type) == "ARCHIVE"
    assert set(spec.master.files) == {"pyenv", "config.yaml", "lib", "job.py"}
    assert set(tm.files) == {"pyenv", "config.yaml", "lib"}
    with tarfile.open(spec.master.files["lib"].source.removeprefix("file://")) as tar:
        assert tar.getnames() == ["pkg/m.py"]
    # Containers must not depend on this checkout or this virtual environment.
    for script in (spec.master.script, tm.script):
        assert str(REPO) not in script
        if sys.prefix != sys.base_prefix:
            assert sys.prefix not in script
        assert 'PYTHONPATH="$PWD/pyenv/site-packages"' in script


def test_defaults_and_python_executable(descriptor_for: Any) -> None:
    spec = descriptor_for(**{"python.executable": "python3.11"}).application_spec("session")
    assert spec.name == "yflink-session" and spec.queue == "default" and spec.max_attempts == 1
    assert spec.master.resources.memory == yopts.DEFAULT_JM_MEMORY_MB
    assert spec.services["taskmanager"].resources.memory == yopts.DEFAULT_TM_MEMORY_MB
    assert " python3.11 -m yflink.deploy.yarn.appmaster session" in spec.master.script


@pytest.mark.parametrize("conf,message", [
    ({"taskmanager.memory.process.size": "10m"}, "taskmanager.memory.process.size"),
    ({"yarn.application-attempts": 0}, "yarn.application-attempts"),
    ({"yarn.ship-files": "/no/such/file"}, "yarn.ship-files"),
    ({"yarn.provided.lib.dirs": "hdfs:///a.tar;hdfs:///b.tar"}, "yarn.provided.lib.dirs"),
])
def test_bad_options_are_named(descriptor_for: Any, conf: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        descriptor_for(**conf).application_spec("session")


def test_provided_lib_dir_replaces_the_packed_environment(descriptor_for: Any) -> None:
    spec = descriptor_for(**{"yarn.provided.lib.dirs": "hdfs:///envs/pyenv.tar.gz"}).application_spec("session")
    assert spec.master.files["pyenv"].source == "hdfs:///envs/pyenv.tar.gz"


# --- the packed environment ----------------------------------------------------------------------------------
def test_packed_environment_holds_yflink_itself_and_no_install_tools(tmp_path: Path) -> None:
    archive = shipping.pack_environment(tmp_path)
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "site-packages/yflink/__init__.py" in names
    assert "site-packages/yflink/deploy/yarn/container.py" in names
    assert not any(n.startswith(("site-packages/pip/", "site-packages/__editable__")) for n in names)
    assert shipping.pack_environment(tmp_path) == archive  # cached by digest


# --- the last session --------------------------------------------------------------------------------------------
def test_last_session_file_is_flinks_yarn_properties(tmp_path: Path) -> None:
    from yflink.cli.yarn import last_session, properties_file, session_id, write_last_session

    config = Configuration().set(yopts.PROPERTIES_FILE, str(tmp_path))
    with pytest.raises(ConfigurationError, match="no YARN session"):
        session_id(config)
    write_last_session(config, "application_1_0007")
    assert properties_file(config).name.startswith(".yarn-properties-")
    assert "applicationID=application_1_0007" in properties_file(config).read_text()
    assert last_session(config) == session_id(config) == "application_1_0007"
    assert session_id(config, "application_1_0009") == "application_1_0009"
    with pytest.raises(ConfigurationError, match="not a YARN application id"):
        session_id(config, "job_1")


# --- the driver against a fake skein application master ------------------------------------------------------------
class FakeApp:
    """skein's ApplicationClient for the ``taskmanager`` service: containers and their states."""

    def __init__(self) -> None:
        self.containers: list[SimpleNamespace] = []
        self.killed: list[str] = []

    def add_container(self, service: str) -> SimpleNamespace:
        c = SimpleNamespace(id=f"{service}_{len(self.containers)}", state="REQUESTED", yarn_container_id="",
                            exit_message="")
        self.containers.append(c)
        return c

    def get_containers(self, services: list[str], states: list[str]) -> list[SimpleNamespace]:
        return [c for c in self.containers if c.state in states]

    def kill_container(self, skein_id: str) -> None:
        self.killed.append(skein_id)
        next(c for c in self.containers if c.id == skein_id).state = "KILLED"

    def run(self, index: int) -> str:
        c = self.containers[index]
        c.state, c.yarn_container_id = "RUNNING", f"container_1_0001_01_{index + 2:06d}"
        return str(c.yarn_container_id)


class FakeJobMaster:
    def __init__(self) -> None:
        self.graph = SimpleNamespace(status=SimpleNamespace(is_globally_terminal=False))
        self.failed: list[str] = []

    async def fail(self, cause: str) -> None:
        self.failed.append(cause)
        self.graph.status.is_globally_terminal = True


def _driver(**conf: Any) -> tuple[Any, FakeApp, ResourceManager, FakeJobMaster]:
    from yflink.deploy.yarn.driver import YarnTaskManagerDriver

    lost: list[tuple[str, str]] = []

    async def on_lost(rid: str, cause: str) -> None:
        lost.append((rid, cause))

    config = Configuration()
    for k, v in conf.items():
        config.set(k, v)
    rm = ResourceManager(config, on_lost)
    jm = FakeJobMaster()
    app = FakeApp()
    driver = YarnTaskManagerDriver(config, SimpleNamespace(resource_manager=rm, job_masters={"j1": jm}), app)
    return driver, app, rm, jm


def _register(rm: ResourceManager, resource_id: str, slots: int = 1) -> TaskExecutorRecord:
    te = TaskExecutorRecord(resource_id=resource_id, address="127.0.0.1:1", hostname="h", pid=1, slots=[None] * slots)
    rm.task_executors[resource_id] = te
    return te


def test_pending_slots_count_containers_until_their_taskmanager_registers() -> None:
    async def scenario() -> None:
        driver, app, rm, _ = _driver(**{"taskmanager.numberOfTaskSlots": 2})
        await driver.start_task_manager()
        await driver.start_task_manager()
        assert driver.pending_slots == 4
        yarn_id = app.run(0)
        await driver.check()
        assert driver.pending_slots == 4  # running, not registered yet
        _register(rm, yarn_id, 2)
        assert driver.pending_slots == 2

    asyncio.run(scenario())


def test_resource_manager_requests_only_the_missing_taskmanagers() -> None:
    async def scenario() -> None:
        driver, app, rm, _ = _driver(**{"taskmanager.numberOfTaskSlots": 2,
                                        "resourcemanager.local-taskmanagers.delay": 0})
        rm.driver = driver
        for i in range(3):
            rm.pending[f"a{i}"] = SlotRequest("j1", f"a{i}", "jm", "id")
        await rm._grow()
        assert len(app.containers) == 2  # 3 slots at 2 per TaskManager
        await rm._grow()
        assert len(app.containers) == 2  # still coming: no request storm

    asyncio.run(scenario())


def test_idle_taskmanager_containers_are_released_after_the_timeout() -> None:
    async def scenario() -> None:
        driver, app, rm, _ = _driver(**{"resourcemanager.taskmanager-timeout": 0})
        await driver.start_task_manager()
        busy = _register(rm, app.run(0))
        busy.slots[0] = SlotRequest("j1", "a", "jm", "id")
        await driver.check()
        assert app.killed == []
        busy.slots[0] = None
        await driver.check()  # idle since now
        await driver.check()  # ... and longer than the timeout (0 ms)
        assert app.killed == ["taskmanager_0"] and rm.task_executors == OrderedDict()

    asyncio.run(scenario())


def test_failed_containers_beyond_the_maximum_stop_requests_and_fail_waiting_jobs() -> None:
    async def scenario() -> None:
        driver, app, rm, jm = _driver(**{"yarn.maximum-failed-containers": 1})
        rm.pending["a"] = SlotRequest("j1", "a", "jm", "id")
        for i in range(2):
            await driver.start_task_manager()
            app.run(i)
            await driver.check()
            app.containers[i].state, app.containers[i].exit_message = "FAILED", "Container killed on request. " \
                "Exit code is 137; Container is running beyond physical memory limits."
            await driver.check()
        assert len(driver.failures) == 2 and not driver.can_start()
        assert "beyond physical memory limits" in driver.failures[-1]
        assert jm.failed and "yarn.maximum-failed-containers (1)" in jm.failed[0]
        assert "a" not in rm.pending

    asyncio.run(scenario())


def test_skeins_own_replacement_of_a_failed_container_is_taken_instead_of_a_new_request() -> None:
    async def scenario() -> None:
        driver, app, rm, _ = _driver()
        await driver.start_task_manager()
        app.run(0)
        await driver.check()
        app.containers[0].state = "FAILED"
        app.add_container("taskmanager")  # what skein does by itself (max_restarts: -1)
        await driver.start_task_manager()  # the ResourceManager asks before the driver's next look
        assert len(app.containers) == 2
        await driver.check()
        assert driver.pending_slots == 1 and len(driver.failures) == 1

    asyncio.run(scenario())


def test_yarn_pack_writes_the_environment_archive_and_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``yflink yarn-pack --no-upload``: the archive of yarn.provided.lib.dirs (Flink "YARN" > "provided lib dirs")."""
    from click.testing import CliRunner

    from yflink.cli.main import cli
    from yflink.deploy.yarn import shipping

    package = tmp_path / "site" / "somepkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("VALUE = 1\n")
    monkeypatch.setenv("YFLINK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(shipping, "_entries", lambda: iter([(tmp_path / "site", "site-packages")]))
    result = CliRunner().invoke(cli, ["yarn-pack", "--no-upload"])
    assert result.exit_code == 0, result.output
    archive = Path(result.output.split("Packed environment: ", 1)[1].split(" (", 1)[0])
    assert archive.parent.parent == tmp_path / "cache" and archive.name.startswith("pyenv-")
    with tarfile.open(archive) as tar:
        assert "site-packages/somepkg/__init__.py" in tar.getnames()
    again = CliRunner().invoke(cli, ["yarn-pack", "--no-upload"])  # cached: the same archive
    assert str(archive) in again.output


@pytest.mark.parametrize("verb", [["list"], ["savepoint", "0" * 32], ["stop", "0" * 32], ["cancel", "0" * 32]])
def test_job_verbs_with_target_yarn_session_need_a_session(verb: list[str], tmp_path: Path) -> None:
    """Flink's ``flink list|cancel|savepoint|stop -t yarn-session``: without ``yarn.application.id`` and without a
    last session (``.yarn-properties-<user>``) the verb says how to name one (exit 2), before contacting YARN."""
    from click.testing import CliRunner

    from yflink.cli.main import cli

    result = CliRunner().invoke(cli, [verb[0], "-t", "yarn-session", "-D",
                                      f"yarn.properties-file.location={tmp_path}", *verb[1:]])
    assert result.exit_code == 2, result.output
    assert "no YARN session: give -D yarn.application.id=<applicationId>" in result.output
    assert "Unknown configuration key" not in result.output


def test_the_application_master_program_ends_itself_when_skeins_master_stops_answering() -> None:
    import threading

    from yflink.deploy.yarn.appmaster import watch_application_master

    answers = iter([None, ConnectionError("x"), None, ConnectionError("x"), ConnectionError("x"),
                    ConnectionError("x")])
    calls: list[int] = []
    lost = threading.Event()

    def ping() -> None:
        calls.append(1)
        answer = next(answers)
        if answer is not None:
            raise answer

    thread = watch_application_master(ping, lost.set, interval_s=0.001, failures=3)
    thread.join(timeout=10)
    assert lost.is_set() and len(calls) == 6  # one failure alone is forgiven; three in a row are not
