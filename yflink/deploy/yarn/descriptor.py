"""The YARN client side: describe, submit, follow and stop yflink applications (Flink ``YarnClusterDescriptor``).

An application is a skein ApplicationSpec with

* a master running :mod:`yflink.deploy.yarn.appmaster` (``application`` or ``session``) with
  ``jobmanager.memory.process.size`` MiB and ``yarn.appmaster.vcores``;
* a service ``taskmanager`` with 0 instances (the ResourceManager's YARN driver adds containers as jobs need
  slots) running :mod:`yflink.deploy.yarn.container` with ``taskmanager.memory.process.size`` MiB and
  ``yarn.containers.vcores`` (default: the slots per TaskManager);
* localized files from :mod:`yflink.deploy.yarn.shipping` (Python environment, config.yaml, job script,
  ``yarn.ship-files``); name, queue, tags and attempts from ``yarn.application.*``, ``yarn.tags``,
  ``yarn.application-attempts``; ``yarn.application.priority`` is set through the YARN ResourceManager's REST
  API after submission (skein's spec has no priority).

Errors: :class:`~yflink.common.errors.ConfigurationError` for bad options, :class:`~yflink.common.errors.ClusterError`
when YARN refuses or the application does not come up within ``client.timeout``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlparse

from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.common.errors import ClusterError, ConfigurationError
from yflink.deploy.yarn import options as yopts
from yflink.deploy.yarn import shipping
from yflink.deploy.yarn.appmaster import KV_REST, KV_STOP

log = logging.getLogger(__name__)

START_TIMEOUT_S = 120.0  # default wait for the application's JobManager (client.timeout when set)
POLL_S = 0.5
TERMINAL_STATES = ("FINISHED", "FAILED", "KILLED")
STOP_WAIT_S = 60.0  # how long a stopped session may take to end itself before skein's master ends it, s


@dataclass
class ApplicationStatus:
    """The end of an application: YARN's state and final status, and the diagnostics the master left."""

    app_id: str
    state: str
    final_status: str
    diagnostics: str

    @property
    def succeeded(self) -> bool:
        return self.final_status == "SUCCEEDED"


def _mib(value_bytes: Optional[int], default_mb: int, key: str) -> int:
    if value_bytes is None:
        return default_mb
    mb = int(value_bytes) >> 20
    if mb < 64:
        raise ConfigurationError(f"Bad value for '{key}': {value_bytes} bytes is below the 64 MiB a yflink process "
                                 "needs; give a size such as '768m'")
    return mb


class YarnClusterDescriptor:
    """Deploys yflink applications on the YARN of ``HADOOP_CONF_DIR`` through skein.

    Args:
        config: the client's configuration (the keys above; the whole of it is shipped as config.yaml).
    """

    def __init__(self, config: Configuration) -> None:
        self.config = Configuration(config)
        self._skein: Any = None
        self._staging = Path(tempfile.mkdtemp(prefix="yflink-yarn-"))

    # --- skein ----------------------------------------------------------------------------------------------
    def skein_client(self) -> Any:
        """The skein client (its Java driver starts on first use, about 2-4 s)."""
        if self._skein is None:
            try:
                import skein
            except ImportError:
                raise ConfigurationError("YARN deployment needs skein: pip install 'yflink[yarn]'") from None
            principal = self.config.get(yopts.KERBEROS_PRINCIPAL)
            keytab = self.config.get(yopts.KERBEROS_KEYTAB)
            if bool(principal) != bool(keytab):
                raise ConfigurationError("security.kerberos.login.principal and security.kerberos.login.keytab go "
                                         "together; set both or neither")
            try:
                self._skein = skein.Client(principal=principal, keytab=keytab) if principal else skein.Client()
            except Exception as exc:  # noqa: BLE001 - skein's driver errors (no Java, no HADOOP_CONF_DIR)
                raise ClusterError(f"Could not start skein's YARN client: {exc}") from None
        return self._skein

    def close(self) -> None:
        if self._skein is not None:
            self._skein.close()
            self._skein = None
        shutil.rmtree(self._staging, ignore_errors=True)

    # --- the specification -----------------------------------------------------------------------------------
    def files(self, script: Optional[str]) -> dict[str, Any]:
        """The localized resources of every container: {name in the working directory: skein File}."""
        import skein

        from yflink.deploy.process import write_config

        provided = self.config.get(yopts.PROVIDED_LIB_DIRS)
        if provided:
            if len(provided) != 1:
                raise ConfigurationError("yarn.provided.lib.dirs: yflink takes one Python environment archive, got "
                                         f"{len(provided)} entries")
            env_archive, visibility = provided[0], "private"
        else:
            local = shipping.pack_environment()
            cached = shipping.cache_on_hdfs(local)
            env_archive, visibility = (cached, "private") if cached else (str(local), "application")
        files: dict[str, Any] = {shipping.ENV_DIR: skein.File(source=env_archive, type="archive",
                                                              visibility=visibility)}
        shipped_config = Configuration(self.config)
        write_config(shipped_config, self._staging / "conf")
        files["config.yaml"] = skein.File(source=str(self._staging / "conf" / "config.yaml"), type="file")
        for name, path in shipping.ship_files(self.config.get(yopts.SHIP_FILES)).items():
            if name in files:
                raise ConfigurationError(f"yarn.ship-files: {name!r} clashes with a file yflink ships; rename it")
            if Path(path).is_dir():
                files[name] = skein.File(source=str(shipping.archive_directory(Path(path), self._staging / "ship")),
                                         type="archive")
            else:
                files[name] = skein.File(source=path, type="file")
        if script is not None:
            name = os.path.basename(script)
            if name in files:
                raise ConfigurationError(f"the job script's name {name!r} clashes with a shipped file; rename it")
            files[name] = skein.File(source=str(Path(script).resolve()), type="file")
        return files

    def application_spec(self, mode: str, script: Optional[str] = None, args: tuple[str, ...] = ()) -> Any:
        """The skein ApplicationSpec of a yflink ``application`` (runs ``script``) or ``session``.

        Raises:
            ConfigurationError: a bad option (memory too small, missing ship file, ...).
        """
        import shlex

        import skein

        if mode not in ("application", "session"):
            raise ConfigurationError(f"mode must be application or session, got {mode!r}")
        if mode == "application" and not script:
            raise ConfigurationError("application mode needs a job script")
        python = self.config.get(yopts.PYTHON_EXECUTABLE) or shipping.default_python()
        prefix = shipping.python_command(shlex.quote(python))
        jm_mb = _mib(self.config.get(opts.JM_MEMORY), yopts.DEFAULT_JM_MEMORY_MB, opts.JM_MEMORY.key)
        tm_mb = _mib(self.config.get(opts.TM_MEMORY), yopts.DEFAULT_TM_MEMORY_MB, opts.TM_MEMORY.key)
        slots = max(1, self.config.get(opts.TM_SLOTS))
        tm_vcores = self.config.get(yopts.CONTAINER_VCORES)
        tm_vcores = slots if tm_vcores is None or tm_vcores < 1 else tm_vcores
        am_vcores = max(1, self.config.get(yopts.APPMASTER_VCORES))
        attempts = self.config.get(yopts.APPLICATION_ATTEMPTS)
        if attempts < 1:
            raise ConfigurationError(f"Bad value for 'yarn.application-attempts': {attempts}; expected >= 1")
        files = self.files(script if mode == "application" else None)
        master_cmd = f"{prefix} -m yflink.deploy.yarn.appmaster {mode}"
        if script:
            master_cmd += " " + " ".join(shlex.quote(a) for a in (os.path.basename(script), *args))
        tm_files = {k: v for k, v in files.items() if script is None or k != os.path.basename(script)}
        name = self.config.get(yopts.APPLICATION_NAME) or (
            f"yflink-application {os.path.basename(script)}" if script else "yflink-session")
        tags = {t.strip() for t in self.config.get(yopts.APPLICATION_TAGS).split(",") if t.strip()}
        return skein.ApplicationSpec(
            name=name,
            queue=self.config.get(yopts.APPLICATION_QUEUE) or "default",
            tags=tags,
            max_attempts=attempts,
            master=skein.Master(resources=skein.Resources(memory=jm_mb, vcores=am_vcores), files=files,
                                script=master_cmd),
            services={"taskmanager": skein.Service(
                instances=0, max_restarts=-1, resources=skein.Resources(memory=tm_mb, vcores=tm_vcores),
                files=tm_files, script=f"{prefix} -m yflink.deploy.yarn.container")},
        )

    # --- submission and following ---------------------------------------------------------------------------
    def deploy(self, mode: str, script: Optional[str] = None, args: tuple[str, ...] = ()) -> str:
        """Submit; returns the application id. Raises ClusterError when YARN refuses."""
        spec = self.application_spec(mode, script, args)
        client = self.skein_client()
        try:
            app_id = str(client.submit(spec))
        except Exception as exc:  # noqa: BLE001 - skein raises its own error types
            raise ClusterError(f"YARN refused the application: {exc}") from None
        priority = self.config.get(yopts.APPLICATION_PRIORITY)
        if priority is not None and priority >= 0:
            self._set_priority(app_id, priority)
        return app_id

    def _set_priority(self, app_id: str, priority: int) -> None:
        url = self.tracking_url(app_id)
        if not url:
            log.warning("cannot set yarn.application.priority: no ResourceManager address for %s", app_id)
            return
        base = urlparse(url)
        req = urllib.request.Request(f"{base.scheme}://{base.netloc}/ws/v1/cluster/apps/{app_id}/priority",
                                     data=json.dumps({"priority": priority}).encode(), method="PUT",
                                     headers={"Content-Type": "application/json"})
        try:
            urllib.request.urlopen(req, timeout=10).read()
        except OSError as exc:
            log.warning("could not set yarn.application.priority %d on %s: %s", priority, app_id, exc)

    def report(self, app_id: str) -> Any:
        return self.skein_client().application_report(app_id)

    def tracking_url(self, app_id: str) -> str:
        return str(self.report(app_id).tracking_url or "")

    def wait_for_jobmanager(self, app_id: str, timeout_s: Optional[float] = None, kill_on_timeout: bool = True) -> str:
        """Wait until the application runs and its JobManager published its REST address; returns host:port.

        A submission that waits past ``timeout_s`` (``client.timeout``, default 120 s) kills the application it
        started, so no zombie starts later (a known Flink-on-YARN failure).

        Raises:
            ClusterError: the application ended first (with YARN's diagnostics) or the timeout passed.
        """
        timeout_s = timeout_s if timeout_s is not None else self._client_timeout_s()
        deadline = time.monotonic() + timeout_s
        app_client = None
        while True:
            report = self.report(app_id)
            state = str(report.state)
            if state in TERMINAL_STATES:
                raise ClusterError(f"Application {app_id} ended {state}/{report.final_status} before its "
                                   f"JobManager was up: {report.diagnostics}")
            if state == "RUNNING":
                try:
                    if app_client is None:
                        app_client = self.skein_client().connect(app_id, wait=False)
                    value = app_client.kv.get(KV_REST)
                    if value:
                        return bytes(value).decode()
                except Exception as exc:  # noqa: BLE001 - the master is still starting its gRPC server
                    log.debug("application master of %s not reachable yet: %s", app_id, exc)
                    app_client = None
            if time.monotonic() > deadline:
                if not kill_on_timeout:
                    raise ClusterError(f"Application {app_id} has no JobManager address after {timeout_s:.0f} s "
                                       f"(state {state})")
                self.kill(app_id)
                raise ClusterError(f"Application {app_id} did not start its JobManager within {timeout_s:.0f} s "
                                   f"(client.timeout; last state {state}); it was killed")
            time.sleep(POLL_S)

    def _client_timeout_s(self) -> float:
        if not self.config.contains_key(opts.CLIENT_TIMEOUT.key):
            return START_TIMEOUT_S  # Flink's 60 s is for one REST call; starting containers takes longer
        return self.config.get(opts.CLIENT_TIMEOUT) / 1000.0

    def wait_for_end(self, app_id: str, on_poll: Optional[Callable[[], None]] = None) -> ApplicationStatus:
        """Block until the application is FINISHED, FAILED or KILLED."""
        while True:
            report = self.report(app_id)
            if str(report.state) in TERMINAL_STATES:
                return ApplicationStatus(app_id, str(report.state), str(report.final_status),
                                         str(report.diagnostics or ""))
            if on_poll is not None:
                on_poll()
            time.sleep(POLL_S)

    def kill(self, app_id: str) -> None:
        """Kill the application (``yarn application -kill``); errors are logged, not raised."""
        try:
            self.skein_client().kill_application(app_id)
        except Exception as exc:  # noqa: BLE001
            log.warning("could not kill %s: %s", app_id, exc)

    def shutdown(self, app_id: str, diagnostics: str = "Stopped by the yflink client.") -> None:
        """End a running application gracefully (SUCCEEDED), else kill it.

        The application master is asked first (``yflink.stop`` in skein's key-value store): it stops its
        JobManager and, under ZooKeeper HA, removes the cluster's HA data before it ends the application (Flink
        stops a session cluster so). A master that has not ended it within ``STOP_WAIT_S`` is ended through skein.
        """
        try:
            app = self.skein_client().connect(app_id, wait=False)
            app.kv[KV_STOP] = diagnostics.encode()
            deadline = time.monotonic() + STOP_WAIT_S
            while time.monotonic() < deadline:
                if str(self.report(app_id).state) in TERMINAL_STATES:
                    return
                time.sleep(POLL_S)
            app.shutdown("SUCCEEDED", diagnostics)
        except Exception as exc:  # noqa: BLE001 - master unreachable: kill instead
            try:
                if str(self.report(app_id).state) in TERMINAL_STATES:
                    return  # it ended meanwhile (its master went away while answering)
            except Exception:  # noqa: BLE001, S110 - the ResourceManager did not answer either: kill
                pass
            log.info("graceful shutdown of %s failed (%s); killing it", app_id, exc)
            self.kill(app_id)
