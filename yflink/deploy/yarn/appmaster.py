"""The skein application master's program: ``python -m yflink.deploy.yarn.appmaster application|session``.

It starts the JobManager (Dispatcher, ResourceManager with the YARN driver, REST) as a child process bound on
the node's address, publishes its addresses in skein's key-value store (``yflink.rest.address``,
``yflink.jobmanager.rpc-address``) and as a page of skein's web UI (so the application's tracking URL, through
the YARN ResourceManager's proxy, reaches the JobManager's REST API), then

* ``application``: runs the job script's ``main`` against it (Flink's application mode: the ``main`` runs in
  the cluster), waits until every job it submitted is terminal, and ends the application SUCCEEDED when all
  FINISHED, FAILED (diagnostics: the job's root cause) otherwise;
* ``session``: serves until the application is stopped (``yflink yarn-session stop``, ``yarn application
  -kill``) or the JobManager dies.

A later attempt of the application (``yarn.application-attempts`` > 1, the master was lost):

* with ``high-availability.type: zookeeper`` (Flink "High Availability" > YARN): ``high-availability.cluster-id``
  defaults to the application id, so every attempt is the same HA cluster. The new attempt's JobManager contends
  (the former one's ZooKeeper session must expire first), recovers every job of the JobGraphStore from its
  newest completed checkpoint in the HA store, and only then is published. In application mode the job id is
  fixed (``$internal.pipeline.job-id``, Flink's ``new JobID(clusterId.hashCode(), 0)``), so the ``main`` run again
  submits the recovered job's id and attaches to it; when the JobResultStore already has the job's result, the
  ``main`` is not run again and the application ends with that result. Application clusters keep job results
  while they run (``job-result-store.delete-on-commit: false``); the application's end removes all of its HA
  data (znodes, job graph blobs, job results: Flink's ``closeAndCleanupAllData``).
* without HA (application mode only): with ``execution.checkpointing.dir`` the checkpoints go to
  ``<dir>/<application id>/<job id>/chk-<n>`` and the ``main`` runs again from the newest completed checkpoint
  there (``execution.state-recovery.path``), which is right for applications that run one job.

Logs: the JobManager writes ``jobmanager.log`` into the container's log directory, this program
``appmaster.log``; ``yarn logs -applicationId`` shows both after the application ends.
Source: Flink ``YarnApplicationClusterEntryPoint``, ``YarnSessionClusterEntrypoint``,
``ApplicationDispatcherBootstrap``.
"""

from __future__ import annotations

import argparse
import logging
import os
import runpy
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Optional

from yflink.common import config_options as opts
from yflink.common.configuration import Configuration, load_configuration
from yflink.common.errors import JobExecutionError

log = logging.getLogger("yflink.yarn.appmaster")

KV_REST = "yflink.rest.address"
KV_RPC = "yflink.jobmanager.rpc-address"
KV_RESULT = "yflink.application.result"
KV_STOP = "yflink.stop"  # set by a client that stops the session (yflink yarn-session stop): its diagnostics
DIAGNOSTICS_MAX = 8000  # characters of the failure cause kept as the application's diagnostics
LEADER_WAIT_S = 120.0  # beyond the ZooKeeper session timeout: how long a new attempt waits to lead, s
TERMINAL = ("FINISHED", "FAILED", "CANCELED")


def node_address() -> str:
    """This container's node as an IP address (YARN's ``NM_HOST``, resolved)."""
    host = os.environ.get("NM_HOST") or socket.gethostname()
    try:
        return socket.gethostbyname(host)
    except OSError:
        return host


def log_dir() -> Path:
    """The container's first log directory (``LOG_DIRS``), or ./log outside YARN."""
    dirs = os.environ.get("LOG_DIRS", "")
    return Path(dirs.split(",")[0]) if dirs else Path("log").absolute()


def attempt_number() -> int:
    """This application attempt's number (1, 2, ...) from YARN's ``CONTAINER_ID``
    (``container_[e<epoch>_]<cluster ts>_<app>_<attempt>_<container>``); 1 outside YARN."""
    parts = os.environ.get("CONTAINER_ID", "").split("_")
    try:
        return int(parts[-2])
    except (IndexError, ValueError):
        return 1


def latest_checkpoint(base: str) -> Optional[str]:
    """The newest completed checkpoint (``<base>/<job-id>/chk-<n>`` with its ``_metadata``) under ``base``."""
    from yflink.fs.base import get_file_system, join

    fs = get_file_system(base)
    best: tuple[int, str] | None = None
    for job in fs.list_dir(base):
        for name in fs.list_dir(join(base, job)):
            if name.startswith("chk-") and name[4:].isdigit() and fs.exists(join(base, job, name, "_metadata")):
                if best is None or int(name[4:]) > best[0]:
                    best = (int(name[4:]), join(base, job, name))
    return best[1] if best else None


def high_availability(config: Configuration) -> bool:
    """Whether ``high-availability.type`` is zookeeper (no other option is validated here)."""
    return str(config.get(opts.HA_TYPE)).upper() == "ZOOKEEPER"


def yarn_ha_cluster_id(config: Configuration) -> Optional[str]:
    """The ``high-availability.cluster-id`` to add in a container of this application: the application id
    (``SKEIN_APPLICATION_ID``) under ZooKeeper HA when none is configured (Flink's YARN default); else None."""
    app_id = os.environ.get("SKEIN_APPLICATION_ID")
    if app_id and high_availability(config) and not config.contains_key(opts.HA_CLUSTER_ID.key):
        return app_id
    return None


def cluster_configuration(mode: str, conf_dir: str = ".") -> Configuration:
    """The shipped config.yaml with what a JobManager in a YARN container needs: any free ports, bound on all
    interfaces, advertised with the node's address, the YARN driver instead of local TaskManagers; under HA the
    application id as cluster id and, in application mode, the fixed job id (see the module docstring)."""
    config = load_configuration(conf_dir, [])
    address = node_address()
    config.set(opts.EXECUTION_TARGET, f"yarn-{mode}")
    config.set(opts.JM_RPC_PORT, 0).set(opts.REST_PORT, 0)
    config.set(opts.JM_BIND_HOST, "0.0.0.0").set(opts.REST_BIND_ADDRESS, "0.0.0.0")
    config.set(opts.JM_RPC_ADDRESS, address).set(opts.REST_ADDRESS, address)
    config.set(opts.LOCAL_TMS_ENABLED, False)
    if not config.contains_key(opts.LOCAL_TMS_DELAY.key):
        config.set(opts.LOCAL_TMS_DELAY, 100)  # containers take seconds to start: ask YARN at once
    app_id = os.environ.get("SKEIN_APPLICATION_ID")
    ha = high_availability(config)
    cluster_id = yarn_ha_cluster_id(config)
    if cluster_id is not None:
        config.set(opts.HA_CLUSTER_ID, cluster_id)
    if ha and mode == "application":
        from yflink.runtime.highavailability import application_job_id

        if not config.get(opts.PIPELINE_FIXED_JOB_ID):
            config.set(opts.PIPELINE_FIXED_JOB_ID, application_job_id(config.get(opts.HA_CLUSTER_ID)))
        config.set(opts.JOB_RESULT_STORE_DELETE_ON_COMMIT, False)  # kept until the application's end
    checkpoints = config.get(opts.CHECKPOINTS_DIRECTORY)
    if mode == "application" and checkpoints and app_id:
        # One directory per application, so a later attempt finds this application's latest checkpoint.
        from yflink.fs.base import join

        base = join(checkpoints, app_id)
        config.set(opts.CHECKPOINTS_DIRECTORY, base)
        if not ha and attempt_number() > 1 and not config.get(opts.STATE_RECOVERY_PATH):
            latest = latest_checkpoint(base)
            if latest is not None:
                log.info("Attempt %d: the job restarts from %s", attempt_number(), latest)
                config.set(opts.STATE_RECOVERY_PATH, latest)
    return config


def _run_job_script(script: str, args: list[str], rest_address: str, config: Configuration) -> Optional[str]:
    """Run the job's main as ``__main__`` against the JobManager; returns None on success, else the cause."""
    from yflink.graph.executor import set_context_configuration

    host, _, port = rest_address.rpartition(":")
    job_config = Configuration(config)
    job_config.set(opts.EXECUTION_TARGET, "remote").set(opts.REST_ADDRESS, host).set(opts.REST_PORT, int(port))
    job_config.set(opts.EXECUTION_ATTACHED, True).set(opts.CLIENT_PROGRESS, False)
    set_context_configuration(job_config)
    sys.argv = [script, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    try:
        runpy.run_path(script, run_name="__main__")
        return None
    except SystemExit as exc:
        if exc.code in (None, 0):
            return None
        return f"The job script exited with {exc.code!r}"
    except JobExecutionError as exc:
        return f"Job {exc.job_id} {exc.status}\n{exc.root_cause}"
    except BaseException as exc:  # noqa: BLE001 - the user's main raised: its traceback is the cause
        return "The job script raised:\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    finally:
        set_context_configuration(None)


def _wait_jobs(rest_address: str) -> Optional[str]:
    """Wait until every job of the JobManager is terminal (jobs submitted with execute_async too)."""
    from yflink.rest.client import RestClusterClient

    client = RestClusterClient(rest_address)
    while True:
        jobs = client.jobs_overview()
        if all(j["state"] in TERMINAL for j in jobs):
            bad = [j for j in jobs if j["state"] != "FINISHED"]
            if bad:
                return "; ".join(f"Job {j['jid']} ({j['name']}) {j['state']}" for j in bad)
            return None
        time.sleep(0.5)


def wait_until_leading(jobmanager: Any, ready_file: Path, timeout_s: float) -> tuple[str, str]:
    """Under HA: wait until our JobManager leads and recovered its jobs (it rewrites its ready file then);
    returns its (REST, RPC) addresses. ZooKeeper may still name a former attempt's JobManager meanwhile.

    Raises:
        RuntimeError: the JobManager died, or did not lead within ``timeout_s``.
    """
    import json

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not jobmanager.alive():
            raise RuntimeError("the JobManager process died before it led; see jobmanager.log")
        try:
            ready = json.loads(ready_file.read_text())
        except (OSError, ValueError):
            ready = {}
        if ready.get("rest_address"):
            return str(ready["rest_address"]), str(ready["rpc_address"])
        time.sleep(0.2)
    raise RuntimeError(f"the JobManager did not become the leader within {timeout_s:.0f} s (is ZooKeeper "
                       "reachable? a former attempt's session must expire first)")


def recorded_result(ha: Any, job_id: str) -> Optional[Any]:
    """The JobResultStore's entry of ``job_id`` (a former attempt finished it), or None."""
    result = ha.job_result_store().get_result(job_id)
    if result is not None:
        log.info("Attempt %d: job %s already reached %s (JobResultStore); main is not run again",
                 attempt_number(), job_id, result.state)
    return result


MASTER_CHECK_S = 2.0  # how often the program checks that skein's application master (the JVM) still answers, s
MASTER_LOST_AFTER = 3  # consecutive failed checks before it counts as gone


def watch_application_master(ping: Any, on_lost: Any, interval_s: float = MASTER_CHECK_S,
                             failures: int = MASTER_LOST_AFTER) -> threading.Thread:
    """Call ``on_lost()`` once ``ping()`` raised ``failures`` times in a row (checked every ``interval_s`` s).

    The skein application master (a JVM) runs this program as its child. When YARN loses that container (the JVM
    killed, its node gone) the NodeManager normally kills the container's processes too, but not always (it may not
    find the container's pid): a surviving JobManager would keep leading the HA cluster and the next attempt could
    never take over. So this program ends itself, and its JobManager with it, when the JVM stops answering.
    """

    def watch() -> None:
        failed = 0
        while True:
            time.sleep(interval_s)
            try:
                ping()
                failed = 0
            except Exception as exc:  # noqa: BLE001 - skein's ConnectionError, gRPC errors: the master is gone
                failed += 1
                log.warning("skein's application master does not answer (%d/%d): %s", failed, failures, exc)
                if failed >= failures:
                    on_lost()
                    return

    thread = threading.Thread(target=watch, name="appmaster-watch", daemon=True)
    thread.start()
    return thread


def _master_lost() -> None:
    log.error("skein's application master is gone: ending this attempt (its JobManager dies with it)")
    logging.shutdown()
    os._exit(3)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m yflink.deploy.yarn.appmaster")
    parser.add_argument("mode", choices=["application", "session"])
    parser.add_argument("script", nargs="?")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    ns = parser.parse_args(argv)
    logs = log_dir()
    logs.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(filename=str(logs / "appmaster.log"), level=logging.INFO,
                        format="%(asctime)s %(levelname)-5s [appmaster %(process)d] %(name)s: %(message)s")
    import skein

    from yflink.deploy.process import spawn

    app = skein.ApplicationClient.from_current()
    watch_application_master(lambda: app.kv.get(KV_RESULT), _master_lost)
    status, diagnostics = "FAILED", "the application master stopped before its JobManager was ready"
    jobmanager: Any = None
    ha: Any = None
    try:
        config = cluster_configuration(ns.mode)
        started = time.monotonic()
        run_dir = Path("yflink-run").absolute()
        jobmanager = spawn("jobmanager", config, run_dir, "jobmanager", [],
                           die_with_parent=True, detached=False, inherit_stdout=True, log_dir=logs)
        rest, rpc = str(jobmanager.ready["rest_address"]), str(jobmanager.ready["rpc_address"])
        if high_availability(config):
            from yflink.runtime.highavailability import create_ha_services

            ha = create_ha_services(config)
            rest, rpc = wait_until_leading(jobmanager, run_dir / "jobmanager.ready",
                                           LEADER_WAIT_S + config.get(opts.HA_ZK_SESSION_TIMEOUT) / 1000.0)
        log.info("JobManager ready in %.1f s: REST %s, RPC %s (attempt %d)", time.monotonic() - started, rest, rpc,
                 attempt_number())
        app.kv[KV_RPC] = rpc.encode()
        app.kv[KV_REST] = rest.encode()
        try:
            app.ui.add_page("jobmanager", f"http://{rest}", link_name="yflink JobManager")
        except Exception as exc:  # noqa: BLE001 - the UI link is a convenience
            log.warning("could not add the JobManager page to skein's web UI: %s", exc)
        if ns.mode == "application":
            if not ns.script:
                raise SystemExit("application mode needs the job script")
            fixed_job_id = config.get(opts.PIPELINE_FIXED_JOB_ID)
            prior = recorded_result(ha, fixed_job_id) if ha is not None and fixed_job_id else None
            if prior is not None:
                cause = None if prior.state == "FINISHED" else (
                    f"Job {prior.job_id} {prior.state}\n{prior.failure_cause or ''}".rstrip())
            else:
                cause = _run_job_script(ns.script, list(ns.args), rest, config)
                if cause is None:
                    cause = _wait_jobs(rest)
            if cause is None:
                status, diagnostics = "SUCCEEDED", "The application's jobs finished."
            else:
                print(cause, file=sys.stderr, flush=True)
                status, diagnostics = "FAILED", cause[-DIAGNOSTICS_MAX:]
        else:
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())

            def stop_requested() -> None:  # the client's yflink yarn-session stop
                try:
                    app.kv.wait(KV_STOP)
                except Exception:  # noqa: BLE001 - the master went away: SIGTERM follows
                    return
                stop.set()

            threading.Thread(target=stop_requested, name="session-stop", daemon=True).start()
            while not stop.wait(1.0):
                if not jobmanager.alive():
                    raise RuntimeError("the JobManager process died; see jobmanager.log")
            status, diagnostics = "SUCCEEDED", "The session was stopped."
    except BaseException as exc:  # noqa: BLE001 - whatever ends the master ends the application with its cause
        log.exception("application master failed")
        diagnostics = f"The application master failed: {type(exc).__name__}: {exc}"
        print(diagnostics, file=sys.stderr, flush=True)
    finally:
        if jobmanager is not None:
            jobmanager.stop()
    log.info("Shutting down the application: %s", status)
    try:
        app.kv[KV_RESULT] = status.encode()
    except Exception as exc:  # noqa: BLE001 - killed by YARN (`yarn application -kill`, a lost attempt)
        log.info("the application master is gone (%s); the application was killed", exc)
        if ha is not None:
            ha.close()  # its HA data stays: a next attempt recovers through it
        return 0 if status == "SUCCEEDED" else 1
    if ha is not None:  # the application ends for good: its HA data goes (Flink closeAndCleanupAllData)
        try:
            ha.cleanup_all_data()
            log.info("Removed the application's HA data")
        except Exception as exc:  # noqa: BLE001 - logged; it is the last thing the application does
            log.error("could not remove the application's HA data: %s", exc)
        ha.close()
    try:
        app.shutdown(status, diagnostics)
    except Exception as exc:  # noqa: BLE001 - killed by YARN meanwhile: the master is gone
        log.info("the application master is gone (%s); the application was killed", exc)
    return 0 if status == "SUCCEEDED" else 1


if __name__ == "__main__":
    sys.exit(main())
