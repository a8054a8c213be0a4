"""The ``yflink`` command line (Flink's ``bin/flink`` and the standalone scripts), built with click.

::

    yflink run [-m host:port] [-t local|remote] [-d] [-p N] [-D key=value]... [--conf-dir D] [-q] job.py [args]
    yflink run ... -py job.py [args]               (Flink's --python spelling)
    yflink run ... -s <savepointPath> [-n] job.py  (restore from a savepoint or retained checkpoint)
    yflink list [-m host:port] [-r] [-s] [-a]
    yflink cancel [-m host:port] <jobId>
    yflink savepoint [-m host:port] [-type canonical|native] <jobId> [targetDirectory]
    yflink savepoint [-m host:port] -d <savepointPath>
    yflink stop [-m host:port] [-p <targetDirectory>] [-d] <jobId>
    yflink cluster start [--taskmanagers N] | stop
    yflink jobmanager start|stop
    yflink taskmanager start|stop

Source: Flink's "Command-Line Interface" documentation and ``CliFrontend``. This module parses and prints;
the work is in :mod:`yflink.deploy.standalone`, :mod:`yflink.rest.client` and the user's script.

Exit codes: 0 success, 1 a failure (job FAILED, cluster unreachable, the script raised), 2 bad usage or
configuration (missing job file, malformed ``-D``, a bad config value: the message names the key), 130 Ctrl-C.
yflink errors are printed as messages, never as bare tracebacks; the script's own exceptions are printed as the
script's traceback.
"""

from __future__ import annotations

import functools
import os
import runpy
import socket
import sys
import time
import traceback
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any, NoReturn, Optional, TypeVar

import click

import yflink
from yflink.common import config_options as opts
from yflink.common.configuration import Configuration, load_configuration
from yflink.common.errors import ConfigurationError, JobExecutionError, YFlinkError
from yflink.graph.executor import set_context_configuration

F = TypeVar("F", bound=Callable[..., Any])
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
CANCEL_WAIT_S = 10.0  # `yflink cancel` waits this long for the job to reach CANCELED
FORMAT_TYPES = ("canonical", "native")  # Flink's SavepointFormatType, -type
TARGETS = ("local", "remote")


def _fail(command: str, message: str, code: int = EXIT_FAILURE) -> NoReturn:
    click.echo(f"yflink {command}: {message}", err=True)
    raise SystemExit(code)


def _errors_to_exit_codes(command: str) -> Callable[[F], F]:
    """Turn yflink errors into a message on stderr and an exit code (2 for configuration, 1 otherwise)."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except ConfigurationError as exc:
                _fail(command, str(exc), EXIT_USAGE)
            except YFlinkError as exc:
                _fail(command, str(exc))
            except KeyboardInterrupt:
                _fail(command, "interrupted", EXIT_INTERRUPTED)

        return wrapper  # type: ignore[return-value]

    return decorate


def _load_config(conf_dir: Optional[str], dynamic: tuple[str, ...]) -> Configuration:
    return load_configuration(conf_dir, list(dynamic))


def _rest_address(config: Configuration, jobmanager: Optional[str]) -> str:
    """-m, else the YARN session's JobManager (-t yarn-session), else the leading JobManager from ZooKeeper
    (high-availability.type: zookeeper), else rest.address:port.

    Raises:
        YFlinkError: -t yarn-session without a session (no yarn.application.id and no last session), or YARN
            cannot be reached.
    """
    if jobmanager:
        return jobmanager
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.meta.get("yflink.target") == "yarn-session":
        from yflink.cli.yarn import session_rest_address

        return session_rest_address(config)
    from yflink.runtime.highavailability import retrieve_rest_address

    leader = retrieve_rest_address(config)
    if leader:
        return leader
    return f"{config.get(opts.REST_ADDRESS)}:{config.get(opts.REST_PORT)}"


def _config_options(fn: F) -> F:
    fn = click.option("-D", "dynamic", multiple=True, metavar="key=value",
                      help="Set a configuration key (repeatable), e.g. -D parallelism.default=2.")(fn)
    fn = click.option("--conf-dir", type=click.Path(file_okay=False),
                      help="Directory of config.yaml (default: $YFLINK_CONF_DIR, $FLINK_CONF_DIR or ./conf).")(fn)
    return fn


def _address_options(fn: F) -> F:
    fn = _config_options(fn)
    fn = click.option("-m", "--jobmanager", metavar="host:port",
                      help="REST address of the JobManager (default: rest.address:rest.port).")(fn)
    return fn


def _remember_target(ctx: click.Context, _param: click.Parameter, value: Optional[str]) -> Optional[str]:
    if value:
        ctx.meta["yflink.target"] = value
    if value == "yarn-session":
        from yflink.deploy.yarn import options  # noqa: F401 - registers the yarn.* keys before -D is read
    return value


def _target_option(fn: F) -> F:
    """Flink's ``-t`` of the job verbs: ``yarn-session`` finds the session's JobManager through YARN
    (``-D yarn.application.id=<id>``, else the last session started from this machine)."""
    return click.option("-t", "--target", type=click.Choice(["remote", "yarn-session"]), expose_value=False,
                        callback=_remember_target, is_eager=True,
                        help="remote (default: -m or rest.address) or yarn-session "
                             "(-D yarn.application.id=<id>, else the last session).")(fn)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(yflink.__version__, prog_name="yflink")
def cli() -> None:
    """yflink: Apache Flink's architecture in Python, for Hadoop."""


# --- run -----------------------------------------------------------------------------------------------------------
@cli.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@_address_options
@click.option("-t", "--target", help="Where the job runs: local (an embedded cluster) or remote (-m).")
@click.option("-d", "--detached", is_flag=True, help="Submit and return without waiting for the job's end.")
@click.option("-p", "--parallelism", type=click.IntRange(min=1), help="Default parallelism of the job.")
@click.option("-py", "--python", "python_file", metavar="job.py", help="The job script (Flink's spelling).")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines on stderr.")
@click.option("-s", "--fromSavepoint", "from_savepoint", metavar="savepointPath",
              help="Restore the job from this savepoint or retained checkpoint (execution.state-recovery.path).")
@click.option("-n", "--allowNonRestoredState", "allow_non_restored", is_flag=True,
              help="With -s: skip savepoint state of operators the job no longer has "
                   "(execution.state-recovery.ignore-unclaimed-state).")
@click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="JOB.PY [ARGS]...")
def run(jobmanager: Optional[str], conf_dir: Optional[str], dynamic: tuple[str, ...], target: Optional[str],
        detached: bool, parallelism: Optional[int], python_file: Optional[str], quiet: bool,
        from_savepoint: Optional[str], allow_non_restored: bool, args: tuple[str, ...]) -> None:
    """Run a Python job script: `yflink run job.py [args]` or `yflink run -py job.py [args]`.

    With no cluster configured the job runs on an embedded local cluster started for it; with -m host:port
    (or execution.target: remote) it is submitted to that running cluster. With -s <savepointPath> the job
    starts from that savepoint's state (state maps to operators by uid; another parallelism is fine).
    """
    if (target or "").startswith("yarn-"):  # YARN deployment: yflink/cli/yarn.py
        from yflink.cli.yarn import run_on_yarn
        return run_on_yarn(target or "", conf_dir, dynamic, detached, parallelism, quiet, python_file, args)
    if python_file is not None:
        script, script_args = python_file, list(args)
    elif args:
        script, script_args = args[0], list(args[1:])
        if script.startswith("-"):
            _fail("run", f"unknown option {script!r} (see `yflink run --help`)", EXIT_USAGE)
    else:
        _fail("run", "no job file given; usage: yflink run [OPTIONS] job.py [ARGS]...", EXIT_USAGE)
    if not os.path.isfile(script):
        _fail("run", f"job file '{script}' not found", EXIT_USAGE)
    try:
        config = _run_configuration(conf_dir, dynamic, jobmanager, target, detached, parallelism, quiet)
        _restore_configuration(config, from_savepoint, allow_non_restored)
    except ConfigurationError as exc:
        _fail("run", str(exc), EXIT_USAGE)
    set_context_configuration(config)
    try:
        code = _run_script(script, script_args)
    finally:
        set_context_configuration(None)
        _shutdown_embedded_cluster()
    if code:
        raise SystemExit(code)


def _run_configuration(conf_dir: Optional[str], dynamic: tuple[str, ...], jobmanager: Optional[str],
                       target: Optional[str], detached: bool, parallelism: Optional[int],
                       quiet: bool) -> Configuration:
    """The context configuration of ``yflink run``; ConfigurationError names the bad key or option."""
    from yflink.rest.client import parse_address

    config = _load_config(conf_dir, dynamic)
    if not jobmanager and not target:  # with ZooKeeper HA the leader's REST address comes from ZooKeeper
        from yflink.runtime.highavailability import retrieve_rest_address

        jobmanager = retrieve_rest_address(config)
    if jobmanager:
        try:
            host, port = parse_address(jobmanager)
        except ConfigurationError:
            raise ConfigurationError(f"-m/--jobmanager expects host:port, got {jobmanager!r}") from None
        config.set(opts.REST_ADDRESS, host).set(opts.REST_PORT, port).set(opts.EXECUTION_TARGET, "remote")
    elif target:
        config.set(opts.EXECUTION_TARGET, target)
    chosen = (config.get(opts.EXECUTION_TARGET) or "local").lower()
    if chosen not in TARGETS:
        raise ConfigurationError(f"Bad value for 'execution.target' (-t): {chosen!r}; expected one of "
                                 f"{', '.join(TARGETS)}")
    config.set(opts.EXECUTION_TARGET, chosen)
    if parallelism is not None:
        config.set(opts.PARALLELISM_DEFAULT, parallelism)
    if detached:
        if chosen == "local":
            raise ConfigurationError("-d/--detached needs a running cluster (-m host:port or -t remote): an "
                                     "embedded cluster stops when `yflink run` exits")
        config.set(opts.EXECUTION_ATTACHED, False)
    if quiet:
        config.set(opts.CLIENT_PROGRESS, False)
    elif not config.contains_key(opts.CLIENT_PROGRESS.key):
        config.set(opts.CLIENT_PROGRESS, True)
    return config


def _restore_configuration(config: Configuration, from_savepoint: Optional[str], allow_non_restored: bool) -> None:
    """``-s``/``-n`` into the job's configuration (Flink's ``SavepointRestoreSettings``); ConfigurationError for
    ``-n`` without ``-s``."""
    if from_savepoint is not None:
        config.set(opts.STATE_RECOVERY_PATH, _absolute_uri(from_savepoint))
    if allow_non_restored:
        if from_savepoint is None and not config.get(opts.STATE_RECOVERY_PATH):
            raise ConfigurationError("-n/--allowNonRestoredState needs a savepoint to restore from (-s <path>)")
        config.set(opts.STATE_RECOVERY_IGNORE_UNCLAIMED, True)


def _absolute_uri(path: str) -> str:
    """A plain relative path made absolute (the JobManager runs elsewhere); URIs and absolute paths unchanged."""
    if "://" in path or os.path.isabs(path):
        return path
    return os.path.abspath(path)


def _user_traceback(tb: Optional[TracebackType]) -> Optional[TracebackType]:
    """Drop the CLI's and runpy's frames from the front of a traceback, so it starts in the user's script."""
    while tb is not None and tb.tb_frame.f_globals.get("__name__") in (__name__, "runpy"):
        tb = tb.tb_next
    return tb


def _run_script(script: str, script_args: list[str]) -> int:
    """Run ``script`` as ``__main__`` with ``sys.argv = [script, *script_args]``; returns the exit code."""
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [script, *script_args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    try:
        runpy.run_path(script, run_name="__main__")
        return 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        click.echo(str(exc.code), err=True)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        _shutdown_embedded_cluster()
        click.echo("yflink run: interrupted", err=True)
        return EXIT_INTERRUPTED
    except JobExecutionError as exc:
        click.echo(f"Job {exc.job_id} {exc.status}", err=True)
        click.echo(exc.root_cause.rstrip("\n"), err=True)
        return EXIT_FAILURE
    except ConfigurationError as exc:
        click.echo(f"yflink run: {exc}", err=True)
        return EXIT_USAGE
    except YFlinkError as exc:
        click.echo(f"yflink run: {exc}", err=True)
        return EXIT_FAILURE
    except Exception as exc:  # noqa: BLE001 - the user's script raised: show its traceback, not ours
        sys.stderr.write("".join(traceback.format_exception(type(exc), exc, _user_traceback(exc.__traceback__))))
        sys.stderr.flush()
        return EXIT_FAILURE
    finally:
        sys.argv = saved_argv
        sys.path[:] = saved_path


def _shutdown_embedded_cluster() -> None:
    """Stop the embedded cluster the script may have started (also runs at exit; safe to repeat)."""
    try:
        from yflink.deploy.local import shutdown_embedded_cluster
    except ImportError:
        return
    shutdown_embedded_cluster()


# --- list / cancel --------------------------------------------------------------------------------------------------
def _print_jobs(jobs: list[dict[str, Any]]) -> None:
    for job in sorted(jobs, key=lambda j: j.get("start-time", 0)):
        started = datetime.fromtimestamp(max(0, int(job.get("start-time", 0))) / 1000).strftime("%d.%m.%Y %H:%M:%S")
        click.echo(f"{started} : {job['jid']} : {job['name']} ({job['state']})")


@cli.command("list")
@_address_options
@_target_option
@click.option("-r", "--running", is_flag=True, help="Show only running jobs.")
@click.option("-s", "--scheduled", is_flag=True, help="Show only scheduled (CREATED) jobs.")
@click.option("-a", "--all", "show_all", is_flag=True, help="Show running, scheduled and terminated jobs.")
@_errors_to_exit_codes("list")
def list_command(jobmanager: Optional[str], conf_dir: Optional[str], dynamic: tuple[str, ...], running: bool,
                 scheduled: bool, show_all: bool) -> None:
    """List the cluster's jobs, in Flink's `flink list` format."""
    from yflink.rest.client import RestClusterClient

    config = _load_config(conf_dir, dynamic)
    jobs = RestClusterClient(_rest_address(config, jobmanager)).jobs_overview()
    if not (running or scheduled):
        running = scheduled = True
    terminal = {"FINISHED", "FAILED", "CANCELED"}
    running_jobs = [j for j in jobs if j["state"] not in terminal and j["state"] != "CREATED"]
    scheduled_jobs = [j for j in jobs if j["state"] == "CREATED"]
    terminated_jobs = [j for j in jobs if j["state"] in terminal]
    rule = "-" * 62
    if running or show_all:
        if running_jobs:
            click.echo("------------------ Running/Restarting Jobs -------------------")
            _print_jobs(running_jobs)
            click.echo(rule)
        else:
            click.echo("No running jobs.")
    if scheduled or show_all:
        if scheduled_jobs:
            click.echo("----------------------- Scheduled Jobs -----------------------")
            _print_jobs(scheduled_jobs)
            click.echo(rule)
        else:
            click.echo("No scheduled jobs.")
    if show_all:
        if terminated_jobs:
            click.echo("---------------------- Terminated Jobs -----------------------")
            _print_jobs(terminated_jobs)
            click.echo(rule)
        else:
            click.echo("No terminated jobs.")


@cli.command()
@_address_options
@_target_option
@click.argument("job_id", metavar="JOBID")
@_errors_to_exit_codes("cancel")
def cancel(jobmanager: Optional[str], conf_dir: Optional[str], dynamic: tuple[str, ...], job_id: str) -> None:
    """Cancel a running job and wait (up to 10 s) until it is CANCELED."""
    from yflink.common.ids import JobID
    from yflink.rest.client import RestClusterClient

    try:
        job_id = JobID.from_hex(job_id).hex
    except ValueError:
        _fail("cancel", f"'{job_id}' is not a job id (32 hex digits, as `yflink list` shows)", EXIT_USAGE)
    config = _load_config(conf_dir, dynamic)
    client = RestClusterClient(_rest_address(config, jobmanager))
    click.echo(f"Cancelling job {job_id}.")
    client.cancel(job_id)
    deadline = time.monotonic() + CANCEL_WAIT_S
    while time.monotonic() < deadline:
        status = next((j["status"] for j in client.list_jobs() if j["id"] == job_id), "CANCELED")
        if status in ("CANCELED", "FINISHED", "FAILED"):
            break
        time.sleep(0.1)
    else:
        click.echo(f"Job {job_id} is still {status}; it will be CANCELED once its tasks stop.", err=True)
        return
    click.echo(f"Cancelled job {job_id}.")


# --- savepoint / stop ------------------------------------------------------------------------------------------------
def _parse_job_id(command: str, text: str) -> str:
    from yflink.common.ids import JobID

    try:
        return JobID.from_hex(text).hex
    except ValueError:
        _fail(command, f"'{text}' is not a job id (32 hex digits, as `yflink list` shows)", EXIT_USAGE)


def _is_job_id(text: str) -> bool:
    return len(text) == 32 and all(c in "0123456789abcdefABCDEF" for c in text)


def _format_option(fn: F) -> F:
    return click.option("-type", "--type", "format_type", type=click.Choice(FORMAT_TYPES, case_sensitive=False),
                        default="canonical", show_default=True,
                        help="Savepoint format: canonical (portable across state backends) or native.")(fn)


@cli.command()
@_address_options
@_target_option
@click.option("-d", "--dispose", metavar="savepointPath", help="Delete the savepoint at this path instead.")
@_format_option
@click.argument("job_id", metavar="JOBID", required=False)
@click.argument("target_directory", metavar="[TARGETDIRECTORY]", required=False)
@_errors_to_exit_codes("savepoint")
def savepoint(jobmanager: Optional[str], conf_dir: Optional[str], dynamic: tuple[str, ...], dispose: Optional[str],
              format_type: str, job_id: Optional[str], target_directory: Optional[str]) -> None:
    """Trigger a savepoint of a running job: `yflink savepoint <jobId> [targetDirectory]`.

    Without a target directory the cluster's execution.checkpointing.savepoint-dir (state.savepoints.dir) is used.
    Waits up to client.timeout (60 s) for it. `yflink savepoint -d <savepointPath>` deletes a savepoint.
    """
    from yflink.rest.client import RestClusterClient

    config = _load_config(conf_dir, dynamic)
    client = RestClusterClient(_rest_address(config, jobmanager))
    timeout_s = config.get(opts.CLIENT_TIMEOUT) / 1000.0
    if dispose is not None:
        if job_id is not None:
            _fail("savepoint", "-d/--dispose takes only the savepoint's path, no job id", EXIT_USAGE)
        path = _absolute_uri(dispose)
        click.echo(f"Disposing savepoint '{path}'.")
        click.echo("Waiting for response...")
        client.dispose_savepoint(path, timeout_s)
        click.echo(f"Savepoint '{path}' disposed.")
        return
    if job_id is None:
        _fail("savepoint", "no job id given; usage: yflink savepoint [OPTIONS] JOBID [TARGETDIRECTORY]", EXIT_USAGE)
    job_id = _parse_job_id("savepoint", job_id)
    target = _absolute_uri(target_directory) if target_directory else None
    click.echo(f"Triggering savepoint for job {job_id}.")
    click.echo("Waiting for response...")
    trigger_id = client.trigger_savepoint(job_id, target, format_type=format_type.upper())
    path = client.wait_for_savepoint(job_id, trigger_id, timeout_s)
    click.echo(f"Savepoint completed. Path: {path}")
    click.echo("You can resume your program from this savepoint with the run command.")


@cli.command()
@_address_options
@_target_option
@click.option("-p", "--savepointPath", "savepoint_path", metavar="targetDirectory",
              help="Directory of the savepoint (default: execution.checkpointing.savepoint-dir / "
                   "state.savepoints.dir).")
@click.option("-d", "--drain", is_flag=True,
              help="Emit MAX_WATERMARK before the savepoint: every event-time timer and window fires (use it only "
                   "when the job ends for good).")
@_format_option
@click.argument("job_id", metavar="JOBID", required=False)
@_errors_to_exit_codes("stop")
def stop(jobmanager: Optional[str], conf_dir: Optional[str], dynamic: tuple[str, ...], savepoint_path: Optional[str],
         drain: bool, format_type: str, job_id: Optional[str]) -> None:
    """Stop a running job with a savepoint (it ends FINISHED): `yflink stop [-p dir] [-d] <jobId>`."""
    from yflink.rest.client import RestClusterClient

    if job_id is None and savepoint_path is not None and _is_job_id(savepoint_path):
        job_id, savepoint_path = savepoint_path, None  # Flink's `stop -p <jobId>`: -p without a directory
    if job_id is None:
        _fail("stop", "no job id given; usage: yflink stop [-p targetDirectory] [-d] JOBID", EXIT_USAGE)
    job_id = _parse_job_id("stop", job_id)
    config = _load_config(conf_dir, dynamic)
    client = RestClusterClient(_rest_address(config, jobmanager))
    click.echo(("Draining job " if drain else "Suspending job ") + f'"{job_id}" with a savepoint.')
    target = _absolute_uri(savepoint_path) if savepoint_path else None
    trigger_id = client.stop_with_savepoint(job_id, target, drain, format_type.upper())
    path = client.wait_for_savepoint(job_id, trigger_id, config.get(opts.CLIENT_TIMEOUT) / 1000.0)
    click.echo(f"Savepoint completed. Path: {path}")


# --- standalone cluster ---------------------------------------------------------------------------------------------
def _host() -> str:
    return socket.gethostname()


def _stop_report(role: str, pids: list[int]) -> None:
    if not pids:
        click.echo(f"No {role} daemon to stop on host {_host()}.")
    for pid in pids:
        click.echo(f"Stopped {role} daemon (pid {pid}) on host {_host()}.")


@cli.command()
@click.argument("action", type=click.Choice(["start", "stop"]))
@click.option("--taskmanagers", type=click.IntRange(min=0), default=1, show_default=True,
              help="TaskManagers to start with the JobManager.")
@click.option("--jobmanagers", type=click.IntRange(min=1), default=1, show_default=True,
              help="JobManagers to start (more than one needs high-availability.type: zookeeper: one leads, "
                   "the others stand by).")
@_config_options
@_errors_to_exit_codes("cluster")
def cluster(action: str, taskmanagers: int, jobmanagers: int, conf_dir: Optional[str],
            dynamic: tuple[str, ...]) -> None:
    """Start or stop a standalone session cluster on this host (Flink's start-cluster.sh / stop-cluster.sh)."""
    from yflink.deploy import standalone

    config = _load_config(conf_dir, dynamic)
    if action == "stop":
        stopped = standalone.stop_cluster(config)
        _stop_report("taskmanager", stopped["taskmanager"])
        _stop_report("jobmanager", stopped["jobmanager"])
        return
    click.echo("Starting cluster.")
    started = standalone.start_cluster(config, taskmanagers, jobmanagers)
    for jm in started.jobmanagers:
        click.echo(f"Started jobmanager daemon (pid {jm.pid}) on host {_host()}.")
    for tm in started.taskmanagers:
        click.echo(f"Started taskmanager daemon (pid {tm.pid}) on host {_host()}.")
    click.echo(f"REST API at http://{started.rest_address} (submit with `yflink run -m {started.rest_address} "
               f"job.py`); logs in {standalone.log_dir(config)}")


def _daemon_command(role: str) -> Callable[..., None]:
    @_config_options
    @_errors_to_exit_codes(role)
    def command(action: str, conf_dir: Optional[str], dynamic: tuple[str, ...]) -> None:
        from yflink.deploy import standalone

        config = _load_config(conf_dir, dynamic)
        if action == "stop":
            _stop_report(role, standalone.stop_role(config, role))
            return
        if role == "jobmanager":
            proc = standalone.start_jobmanager(config)
            where = proc.ready.get("rest_address") or "the leader's (see ZooKeeper; yflink list finds it)"
            click.echo(f"Started jobmanager daemon (pid {proc.pid}) on host {_host()}; REST API at http://{where}")
        else:
            proc = standalone.start_taskmanager(config)
            click.echo(f"Started taskmanager daemon (pid {proc.pid}) on host {_host()}.")

    command.__doc__ = (f"Start or stop a standalone {role} daemon on this host (Flink's {role}.sh); "
                       f"stop stops every {role} recorded in the pid file.")
    return click.argument("action", type=click.Choice(["start", "stop"]))(command)


cli.command("jobmanager")(_daemon_command("jobmanager"))
cli.command("taskmanager")(_daemon_command("taskmanager"))
from yflink.cli import yarn as _yarn  # noqa: E402 - run-application and yarn-session

_yarn.register(cli)


def main(argv: Optional[list[str]] = None) -> None:
    """The ``yflink`` console script."""
    cli.main(args=argv, prog_name="yflink")
