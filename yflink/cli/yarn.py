"""The YARN verbs of the ``yflink`` command line (Flink's ``flink run -t yarn-*``, ``run-application`` and
``yarn-session.sh``)::

    yflink run -t yarn-application [-d] [-D key=value]... job.py [args]
    yflink run-application -t yarn-application [-d] [-D key=value]... job.py [args]
    yflink run -t yarn-session [-D yarn.application.id=<id>] job.py [args]
    yflink yarn-session start [-d] [-nm name] [-qu queue] [-D key=value]...
    yflink yarn-session stop [<applicationId>]
    yflink yarn-session status [<applicationId>]
    yflink yarn-session list|cancel|savepoint [-D yarn.application.id=<id>] [ARGS]...   (yflink list -m <its REST>)
    yflink yarn-pack [--no-upload]      (a prebuilt environment for yarn.provided.lib.dirs)

Without ``yarn.application.id`` the session is the last one started from this machine, recorded in Flink's
``.yarn-properties-<user>`` file (``yarn.properties-file.location``, default the temp directory). The work is
in :mod:`yflink.deploy.yarn.descriptor`; this module parses and prints. Exit codes as in
:mod:`yflink.cli.main`: 0 success (application SUCCEEDED), 1 failure (FAILED/KILLED, YARN unreachable),
2 bad usage or configuration.
"""

from __future__ import annotations

import getpass
import os
import tempfile
from pathlib import Path
from typing import Any, Optional

import click

from yflink.common import config_options as opts
from yflink.common.configuration import Configuration, load_configuration
from yflink.common.errors import ConfigurationError, YFlinkError

YARN_TARGETS = ("yarn-application", "yarn-session")
EXIT_FAILURE = 1
EXIT_USAGE = 2


def _fail(command: str, message: str, code: int = EXIT_FAILURE) -> None:
    click.echo(f"yflink {command}: {message}", err=True)
    raise SystemExit(code)


def _load(conf_dir: Optional[str], dynamic: tuple[str, ...]) -> Configuration:
    from yflink.deploy.yarn import options  # noqa: F401 - registers the yarn.* keys before validation

    return load_configuration(conf_dir, list(dynamic))


# --- the last session (.yarn-properties-<user>) -----------------------------------------------------------------
def properties_file(config: Configuration) -> Path:
    """Flink's ``.yarn-properties-<user>`` in ``yarn.properties-file.location`` or the temp directory."""
    from yflink.deploy.yarn import options as yopts

    directory = config.get(yopts.PROPERTIES_FILE) or tempfile.gettempdir()
    return Path(directory) / f".yarn-properties-{getpass.getuser()}"


def write_last_session(config: Configuration, app_id: str) -> Path:
    path = properties_file(config)
    path.write_text(f"#Generated YARN properties file\napplicationID={app_id}\n")
    return path


def last_session(config: Configuration) -> Optional[str]:
    path = properties_file(config)
    if not path.is_file():
        return None
    for line in path.read_text().splitlines():
        if line.startswith("applicationID="):
            return line.split("=", 1)[1].strip() or None
    return None


def session_id(config: Configuration, given: Optional[str] = None) -> str:
    """The session's application id: ``given``, ``yarn.application.id`` or the last session; raises
    ConfigurationError when there is none."""
    from yflink.deploy.yarn import options as yopts

    app_id = given or config.get(yopts.APPLICATION_ID) or last_session(config)
    if not app_id:
        raise ConfigurationError("no YARN session: give -D yarn.application.id=<applicationId> or start one with "
                                 f"`yflink yarn-session start` (none recorded in {properties_file(config)})")
    if not app_id.startswith("application_"):
        raise ConfigurationError(f"'{app_id}' is not a YARN application id (application_<timestamp>_<n>)")
    return app_id


# --- run -t yarn-* --------------------------------------------------------------------------------------------
def run_on_yarn(target: str, conf_dir: Optional[str], dynamic: tuple[str, ...], detached: bool,
                parallelism: Optional[int], quiet: bool, python_file: Optional[str], args: tuple[str, ...]) -> None:
    """``yflink run -t yarn-application|yarn-session ...`` (called by ``yflink run``)."""
    if target not in YARN_TARGETS:
        _fail("run", f"unknown YARN target {target!r}; expected one of {', '.join(YARN_TARGETS)}", EXIT_USAGE)
    if python_file is not None:
        script, script_args = python_file, tuple(args)
    elif args:
        script, script_args = args[0], tuple(args[1:])
    else:
        _fail("run", "no job file given; usage: yflink run -t yarn-application [OPTIONS] job.py [ARGS]...",
              EXIT_USAGE)
    if not os.path.isfile(script):
        _fail("run", f"job file '{script}' not found", EXIT_USAGE)
    try:
        config = _load(conf_dir, dynamic)
    except ConfigurationError as exc:
        _fail("run", str(exc), EXIT_USAGE)
    if parallelism is not None:
        config.set(opts.PARALLELISM_DEFAULT, parallelism)
    if target == "yarn-session":
        _run_in_session(config, detached, quiet, script, script_args)
    else:
        _run_application(config, detached, quiet, script, script_args)


def _run_in_session(config: Configuration, detached: bool, quiet: bool, script: str,
                    script_args: tuple[str, ...]) -> None:
    from yflink.deploy.yarn.descriptor import YarnClusterDescriptor

    descriptor = YarnClusterDescriptor(config)
    try:
        app_id = session_id(config)
        rest = descriptor.wait_for_jobmanager(app_id, timeout_s=30, kill_on_timeout=False)
    except ConfigurationError as exc:
        _fail("run", str(exc), EXIT_USAGE)
    except YFlinkError as exc:
        _fail("run", str(exc))
    finally:
        descriptor.close()
    click.echo(f"Found YARN session {app_id}: JobManager REST at http://{rest}", err=True)
    ctx = click.get_current_context()
    ctx.invoke(ctx.command, jobmanager=rest, conf_dir=None, dynamic=tuple(f"{k}={v}" for k, v in
                                                                           config.to_dict().items()),
               target=None, detached=detached, parallelism=None, python_file=None, quiet=quiet,
               args=(script, *script_args))


def _run_application(config: Configuration, detached: bool, quiet: bool, script: str,
                     script_args: tuple[str, ...]) -> None:
    from yflink.deploy.yarn.descriptor import YarnClusterDescriptor

    descriptor = YarnClusterDescriptor(config)
    app_id = ""
    try:
        app_id = descriptor.deploy("application", script, script_args)
        click.echo(f"Submitted application {app_id}")
        click.echo(f"Tracking URL: {descriptor.tracking_url(app_id)}")
        if detached:
            click.echo(f"The application runs detached; stop it with `yarn application -kill {app_id}`.")
            return
        rest = descriptor.wait_for_jobmanager(app_id)
        click.echo(f"JobManager REST at http://{rest}", err=True)
        follower = _JobFollower(rest, quiet)
        status = descriptor.wait_for_end(app_id, follower.poll)
        follower.poll()
    except ConfigurationError as exc:
        _fail("run", str(exc), EXIT_USAGE)
    except YFlinkError as exc:
        _fail("run", str(exc))
    except KeyboardInterrupt:
        if app_id:
            click.echo(f"Interrupted; application {app_id} keeps running (yarn application -kill {app_id}).",
                       err=True)
        raise SystemExit(130) from None
    finally:
        descriptor.close()
    click.echo(f"Application {app_id} {status.state} with final status {status.final_status}")
    if not status.succeeded:
        click.echo(status.diagnostics.rstrip(), err=True)
        raise SystemExit(EXIT_FAILURE)


class _JobFollower:
    """Prints each job's state changes (from the JobManager's REST API) to stderr while the application runs."""

    def __init__(self, rest: str, quiet: bool) -> None:
        from yflink.rest.client import RestClusterClient

        self.client = RestClusterClient(rest)
        self.quiet = quiet
        self.states: dict[str, str] = {}

    def poll(self) -> None:
        try:
            jobs = self.client.jobs_overview()
        except YFlinkError:
            return  # the JobManager is gone once the application ends
        for job in jobs:
            if self.states.get(job["jid"]) != job["state"]:
                self.states[job["jid"]] = job["state"]
                if not self.quiet:
                    click.echo(f"Job {job['jid']} ({job['name']}) {job['state']}", err=True)


# --- commands -------------------------------------------------------------------------------------------------
def _options(fn: Any) -> Any:
    fn = click.option("-D", "dynamic", multiple=True, metavar="key=value",
                      help="Set a configuration key (repeatable), e.g. -D yarn.application.queue=default.")(fn)
    fn = click.option("--conf-dir", type=click.Path(file_okay=False), help="Directory of config.yaml.")(fn)
    return fn


@click.command("run-application", context_settings={"ignore_unknown_options": True,
                                                     "allow_interspersed_args": False})
@_options
@click.option("-t", "--target", required=True, type=click.Choice(["yarn-application"]),
              help="Where the application runs (yarn-application).")
@click.option("-d", "--detached", is_flag=True, help="Return once submitted.")
@click.option("-p", "--parallelism", type=click.IntRange(min=1), help="Default parallelism of the jobs.")
@click.option("-py", "--python", "python_file", metavar="job.py", help="The job script (Flink's spelling).")
@click.option("-q", "--quiet", is_flag=True, help="No job state lines on stderr.")
@click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="JOB.PY [ARGS]...")
def run_application(conf_dir: Optional[str], dynamic: tuple[str, ...], target: str, detached: bool,
                    parallelism: Optional[int], python_file: Optional[str], quiet: bool,
                    args: tuple[str, ...]) -> None:
    """Run a job script in application mode on YARN: its main runs in the application master."""
    run_on_yarn(target, conf_dir, dynamic, detached, parallelism, quiet, python_file, args)


@click.group("yarn-session")
def yarn_session() -> None:
    """Start, inspect or stop a yflink session on YARN (Flink's yarn-session.sh)."""


@yarn_session.command("start")
@_options
@click.option("-d", "--detached", is_flag=True, help="Return once the session runs (else stay until Ctrl-C).")
@click.option("-nm", "--name", help="yarn.application.name")
@click.option("-qu", "--queue", help="yarn.application.queue")
def session_start(conf_dir: Optional[str], dynamic: tuple[str, ...], detached: bool, name: Optional[str],
                  queue: Optional[str]) -> None:
    """Start a session: a JobManager in YARN that takes jobs (`yflink run -t yarn-session job.py`)."""
    from yflink.deploy.yarn import options as yopts
    from yflink.deploy.yarn.descriptor import YarnClusterDescriptor

    try:
        config = _load(conf_dir, dynamic)
    except ConfigurationError as exc:
        _fail("yarn-session", str(exc), EXIT_USAGE)
    if name:
        config.set(yopts.APPLICATION_NAME, name)
    if queue:
        config.set(yopts.APPLICATION_QUEUE, queue)
    descriptor = YarnClusterDescriptor(config)
    app_id = ""
    try:
        app_id = descriptor.deploy("session")
        click.echo(f"Submitted application {app_id}")
        rest = descriptor.wait_for_jobmanager(app_id)
        path = write_last_session(config, app_id)
        click.echo(f"Tracking URL: {descriptor.tracking_url(app_id)}")
        click.echo(f"JobManager REST at http://{rest}")
        click.echo(f"Session {app_id} recorded in {path}; submit with `yflink run -t yarn-session job.py`, stop "
                   f"with `yflink yarn-session stop {app_id}`.")
        if not detached:
            click.echo("Attached: Ctrl-C stops the session.", err=True)
            status = descriptor.wait_for_end(app_id)
            click.echo(f"Session {app_id} ended {status.state}/{status.final_status}")
    except ConfigurationError as exc:
        _fail("yarn-session", str(exc), EXIT_USAGE)
    except YFlinkError as exc:
        _fail("yarn-session", str(exc))
    except KeyboardInterrupt:
        if app_id:
            descriptor.shutdown(app_id)
            click.echo(f"Stopped session {app_id}.", err=True)
        raise SystemExit(130) from None
    finally:
        descriptor.close()


@yarn_session.command("stop")
@_options
@click.argument("app_id", required=False, metavar="[APPLICATION_ID]")
def session_stop(conf_dir: Optional[str], dynamic: tuple[str, ...], app_id: Optional[str]) -> None:
    """Stop a session (default: the last one started from this machine)."""
    from yflink.deploy.yarn.descriptor import YarnClusterDescriptor

    try:
        config = _load(conf_dir, dynamic)
        app_id = session_id(config, app_id)
    except ConfigurationError as exc:
        _fail("yarn-session", str(exc), EXIT_USAGE)
    assert app_id is not None
    descriptor = YarnClusterDescriptor(config)
    try:
        descriptor.shutdown(app_id)
        status = descriptor.wait_for_end(app_id)
    except YFlinkError as exc:
        _fail("yarn-session", str(exc))
    finally:
        descriptor.close()
    if last_session(config) == app_id:
        properties_file(config).unlink(missing_ok=True)
    click.echo(f"Stopped session {app_id} ({status.state}/{status.final_status}).")


@yarn_session.command("status")
@_options
@click.argument("app_id", required=False, metavar="[APPLICATION_ID]")
def session_status(conf_dir: Optional[str], dynamic: tuple[str, ...], app_id: Optional[str]) -> None:
    """Print a session's state and its JobManager's REST address."""
    from yflink.deploy.yarn.descriptor import YarnClusterDescriptor

    try:
        config = _load(conf_dir, dynamic)
        app_id = session_id(config, app_id)
    except ConfigurationError as exc:
        _fail("yarn-session", str(exc), EXIT_USAGE)
    assert app_id is not None
    descriptor = YarnClusterDescriptor(config)
    try:
        report = descriptor.report(app_id)
        click.echo(f"{app_id} {report.state}/{report.final_status} tracking URL {report.tracking_url}")
        if str(report.state) == "RUNNING":
            click.echo(f"JobManager REST at http://{descriptor.wait_for_jobmanager(app_id, 10, False)}")
    except YFlinkError as exc:
        _fail("yarn-session", str(exc))
    finally:
        descriptor.close()


def session_rest_address(config: Configuration) -> str:
    """The REST address (host:port) of the YARN session named by ``yarn.application.id``, else of the last session
    started from this machine (``yflink list|cancel|savepoint|stop -t yarn-session``).

    Raises:
        ConfigurationError: no session id and no last-session file.
        YFlinkError: YARN cannot be reached, or the session's JobManager is not up within 30 s.
    """
    from yflink.deploy.yarn import options  # noqa: F401 - registers the yarn.* keys
    from yflink.deploy.yarn.descriptor import YarnClusterDescriptor

    app_id = session_id(config)
    descriptor = YarnClusterDescriptor(config)
    try:
        return descriptor.wait_for_jobmanager(app_id, 30, kill_on_timeout=False)
    finally:
        descriptor.close()


def _session_job_command(verb: str) -> click.Command:
    """``yflink yarn-session <verb> [ARGS]``: ``yflink <verb> -m <the session's REST address> [ARGS]``."""

    @click.command(verb, context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
    @_options
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def command(conf_dir: Optional[str], dynamic: tuple[str, ...], args: tuple[str, ...]) -> None:
        try:
            rest = session_rest_address(_load(conf_dir, dynamic))
        except ConfigurationError as exc:
            _fail(f"yarn-session {verb}", str(exc), EXIT_USAGE)
        except YFlinkError as exc:
            _fail(f"yarn-session {verb}", str(exc))
        ctx = click.get_current_context()
        root = ctx.find_root().command
        assert isinstance(root, click.Group)
        target = root.get_command(ctx, verb)
        assert target is not None
        target.main(args=["-m", rest, *args], prog_name=f"yflink {verb}", standalone_mode=False)

    command.help = (f"`yflink {verb}` against the session (yarn.application.id, else the last session): "
                    f"yflink yarn-session {verb} [-D yarn.application.id=<id>] [{verb.upper()} ARGS]...")
    return command


for _verb in ("list", "cancel", "savepoint"):
    yarn_session.add_command(_session_job_command(_verb))


@click.command("yarn-pack")
@click.option("--upload/--no-upload", default=True, show_default=True,
              help="Also copy the archive to hdfs:///user/<user>/.yflink/lib/ (HADOOP_CONF_DIR's file system).")
def yarn_pack(upload: bool) -> None:
    """Pack this Python environment (its site-packages and yflink) for YARN containers and print where it is.

    Name the printed HDFS URI with ``-D yarn.provided.lib.dirs=<uri>`` so later submissions ship it without packing
    (Flink's ``yarn.provided.lib.dirs``). Exit 1 when the archive cannot be written or uploaded.
    """
    from yflink.deploy.yarn.shipping import cache_on_hdfs, pack_environment

    try:
        archive = pack_environment()
    except OSError as exc:
        _fail("yarn-pack", f"cannot write the archive: {exc}")
    click.echo(f"Packed environment: {archive} ({archive.stat().st_size / 2**20:.1f} MiB)")
    if upload:
        uri = cache_on_hdfs(archive)
        if uri is None:
            _fail("yarn-pack", "the archive could not be copied to HDFS (is HADOOP_CONF_DIR set and HDFS up?); "
                               "use --no-upload and copy it yourself")
        click.echo(f"On HDFS: {uri}\nSubmit with: -D yarn.provided.lib.dirs={uri}")


def register(cli: click.Group) -> None:
    """Add the YARN commands to the ``yflink`` group."""
    cli.add_command(run_application)
    cli.add_command(yarn_session)
    cli.add_command(yarn_pack)
