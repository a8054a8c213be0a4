"""`yflink run` without a cluster: argument handling, the context configuration, and every error path."""

from __future__ import annotations

import socket
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from yflink.cli.main import cli
from yflink.graph.executor import get_context_configuration


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def script(tmp_path: Path, body: str, name: str = "job.py") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return str(path)


SHOW_CONTEXT = """
    import sys
    from yflink.graph.executor import get_context_configuration
    conf = get_context_configuration().to_dict()
    keys = ("execution.target", "rest.address", "rest.port", "parallelism.default", "execution.attached",
            "client.progress.enabled", "my.key")
    print("argv", sys.argv[1:])
    for key in keys:
        print(key, conf.get(key))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_missing_job_file_exits_2() -> None:
    result = invoke("run", "does_not_exist.py")
    assert result.exit_code == 2
    assert "yflink run: job file 'does_not_exist.py' not found" in result.output


def test_no_job_file_exits_2() -> None:
    result = invoke("run")
    assert result.exit_code == 2 and "no job file given" in result.output


def test_unknown_option_before_the_script_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("run", "--bogus", script(tmp_path, "print('hi')"))
    assert result.exit_code == 2 and "unknown option '--bogus'" in result.output


def test_script_runs_as_main_with_its_args_and_local_context(tmp_path: Path) -> None:
    job = script(tmp_path, SHOW_CONTEXT)
    result = invoke("run", "-p", "3", "-D", "my.key=42", job, "--input", "x", "-p", "9")
    assert result.exit_code == 0, result.output
    assert "argv ['--input', 'x', '-p', '9']" in result.output
    assert "execution.target local" in result.output
    assert "parallelism.default 3" in result.output
    assert "client.progress.enabled True" in result.output
    assert "my.key 42" in result.output
    assert get_context_configuration().to_dict() == {}  # cleared after the run


def test_python_option_spelling_and_remote_target(tmp_path: Path) -> None:
    job = script(tmp_path, SHOW_CONTEXT)
    result = invoke("run", "-m", "jm.example.com:9081", "-d", "-q", "-py", job, "a", "b")
    assert result.exit_code == 0, result.output
    assert "argv ['a', 'b']" in result.output
    for line in ("execution.target remote", "rest.address jm.example.com", "rest.port 9081",
                 "execution.attached False", "client.progress.enabled False"):
        assert line in result.output


def test_script_directory_is_importable(tmp_path: Path) -> None:
    script(tmp_path, "VALUE = 'from helper'\n", name="helper.py")
    result = invoke("run", script(tmp_path, "import helper\nprint(helper.VALUE)\n"))
    assert result.exit_code == 0 and "from helper" in result.output


@pytest.mark.parametrize("args, message", [
    (["-D", "parallelism.default"], "-D expects key=value"),
    (["-D", "parallelism.default=many"], "'parallelism.default'"),
    (["-t", "moon"], "'execution.target'"),
    (["-d"], "-d/--detached needs a running cluster"),
    (["-m", "no-port-here"], "-m/--jobmanager expects host:port"),
])
def test_bad_configuration_exits_2_naming_the_problem(tmp_path: Path, args: list[str], message: str) -> None:
    result = invoke("run", *args, script(tmp_path, "print('never runs')"))
    assert result.exit_code == 2, result.output
    assert message in result.output and "never runs" not in result.output
    assert "Traceback" not in result.output


def test_bad_value_in_config_yaml_exits_2_naming_the_key(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "config.yaml").write_text("heartbeat:\n  interval: soon\n")
    result = invoke("run", "--conf-dir", str(conf), script(tmp_path, "print('never runs')"))
    assert result.exit_code == 2 and "'heartbeat.interval'" in result.output


def test_unreachable_jobmanager_is_a_clear_error(tmp_path: Path) -> None:
    port = free_port()
    job = script(tmp_path, """
        from yflink.graph.executor import get_context_configuration, get_executor
        from yflink.graph.stream_graph import StreamGraph
        conf = get_context_configuration()
        get_executor(conf).execute(StreamGraph("unreachable", conf), conf)
    """)
    result = invoke("run", "-m", f"127.0.0.1:{port}", job)
    assert result.exit_code == 1
    assert f"yflink run: No JobManager at 127.0.0.1:{port} (is the cluster running?" in result.output
    assert "Traceback" not in result.output


def test_script_error_shows_the_scripts_traceback_only(tmp_path: Path) -> None:
    job = script(tmp_path, """
        def helper():
            raise RuntimeError("the user's bug")

        helper()
    """)
    result = invoke("run", job)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1].startswith(f'  File "{job}", line 5, in <module>')
    assert "RuntimeError: the user's bug" in result.output
    assert "runpy" not in result.output and "cli/main.py" not in result.output


def test_job_failure_prints_job_id_and_root_cause(tmp_path: Path) -> None:
    job = script(tmp_path, """
        from yflink.common.errors import JobExecutionError
        raise JobExecutionError("ab" * 16, "FAILED", "Map (1/2) failed: ValueError: bad record\\n  File job.py")
    """)
    result = invoke("run", job)
    assert result.exit_code == 1
    assert f"Job {'ab' * 16} FAILED\nMap (1/2) failed: ValueError: bad record" in result.output
    assert "Traceback" not in result.output


def test_script_exit_code_and_ctrl_c(tmp_path: Path) -> None:
    assert invoke("run", script(tmp_path, "import sys\nsys.exit(3)\n")).exit_code == 3
    assert invoke("run", script(tmp_path, "import sys\nsys.exit(0)\n", name="ok.py")).exit_code == 0
    result = invoke("run", script(tmp_path, "raise KeyboardInterrupt\n", name="ctrl_c.py"))
    assert result.exit_code == 130 and "interrupted" in result.output


def test_version_and_python_dash_m(tmp_path: Path) -> None:
    import subprocess
    import sys

    import yflink

    assert yflink.__version__ in invoke("--version").output
    done = subprocess.run([sys.executable, "-m", "yflink", "run", str(tmp_path / "missing.py")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "job file" in done.stderr and "not found" in done.stderr
