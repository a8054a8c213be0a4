"""Drive the dev stack's own scripts (yarn/cluster.sh, zookeeper/ensemble.sh, yarn/kdc.sh) from tests.

The tests in this folder use nothing but these scripts to start and stop services, so they test the
scripts as much as the services. One :class:`Service` per script remembers the mode (plain or secure)
it started, switches modes by stopping first, and stops at the end of the session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
YARN_DIR = REPO / "yarn"
ZK_DIR = REPO / "zookeeper"
RUN_DIR = Path(os.environ.get("YFLINK_DEV_RUN", YARN_DIR / "run"))
ZK_RUN_DIR = Path(os.environ.get("YFLINK_ZK_RUN", ZK_DIR / "run"))
KDC_DIR = RUN_DIR / "kdc"
REALM = os.environ.get("YF_REALM", "YFLINK.DEV")
TEST_USER = "yflink"
TEST_PRINCIPAL = f"{TEST_USER}@{REALM}"
TEST_KEYTAB = KDC_DIR / "keytabs" / f"{TEST_USER}.keytab"
DSHELL_JAR = YARN_DIR / "build/hadoop/share/hadoop/apps/hadoop-yarn-applications-distributedshell.jar"
DSHELL_LIB = YARN_DIR / "build/hadoop/share/hadoop/apps/lib"

#: Seconds one script call may take (a cold `start` runs Maven on first use).
SCRIPT_TIMEOUT_S = 600
#: Seconds one Hadoop CLI call may take.
CLI_TIMEOUT_S = 120


class CommandFailed(AssertionError):
    """A command exited non-zero; the message carries its output."""


def run(
    args: Sequence[str | os.PathLike[str]],
    env: Mapping[str, str] | None = None,
    timeout: float = CLI_TIMEOUT_S,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capture stdout and stderr as text; raise :class:`CommandFailed` if ``check``."""
    proc = subprocess.run(
        [str(a) for a in args],
        env=dict(env) if env is not None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if check and proc.returncode != 0:
        raise CommandFailed(
            f"{' '.join(map(str, args))} exited {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"
        )
    return proc


def wait_for(condition: Callable[[], object], timeout_s: float, what: str, interval_s: float = 0.5) -> object:
    """Poll ``condition`` until it returns a truthy value; raise ``TimeoutError`` naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(interval_s)


def java_home() -> str:
    """A Java 17 home: $JAVA_HOME, Debian's OpenJDK 17, or the `java` on PATH."""
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    for cand in ("/usr/lib/jvm/java-17-openjdk-amd64", "/usr/lib/jvm/java-17-openjdk-arm64"):
        if Path(cand, "bin/java").exists():
            return cand
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("no Java: run yarn/setup.sh")
    return str(Path(java).resolve().parents[1])


@dataclass
class Service:
    """One of the stack's scripts, started in at most one mode at a time."""

    script: Path
    name: str
    logs: Callable[[], list[Path]]
    mode: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def ensure(self, mode: str) -> None:
        """Start in ``mode`` ("plain" or "secure"), stopping first if running in the other mode."""
        if self.mode == mode:
            return
        if self.mode is not None:
            self.stop()
        # A stack left running in the other mode by someone else: the script refuses; stop it first.
        status = run([self.script, "status"], check=False, timeout=60)
        if "running" in status.stdout and f"mode {mode}" not in " ".join(status.stdout.split()):
            run([self.script, "stop"], timeout=SCRIPT_TIMEOUT_S)
        start = time.monotonic()
        run([self.script, "start", *(["--secure"] if mode == "secure" else [])], timeout=SCRIPT_TIMEOUT_S)
        self.timings[f"start {mode}"] = time.monotonic() - start
        self.mode = mode

    def stop(self) -> None:
        run([self.script, "stop"], timeout=SCRIPT_TIMEOUT_S)
        self.mode = None

    def log_tails(self, lines: int = 30) -> str:
        """The last ``lines`` of each of the service's logs, for a failed test's report."""
        out = []
        for path in self.logs():
            try:
                text = path.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                continue
            out.append(f"==> {path} <==\n" + "\n".join(text))
        return "\n".join(out)


def hadoop_service() -> Service:
    return Service(YARN_DIR / "cluster.sh", "hadoop", lambda: sorted((RUN_DIR / "logs").glob("*.log")))


def zookeeper_service() -> Service:
    return Service(ZK_DIR / "ensemble.sh", "zookeeper", lambda: sorted((ZK_RUN_DIR / "logs").glob("zk*.log")))


def kdc_service() -> Service:
    return Service(YARN_DIR / "kdc.sh", "kdc", lambda: [KDC_DIR / "kdc.log"])


def hadoop_env(secure: bool, ccache: Path | None = None) -> dict[str, str]:
    """Environment for the Hadoop CLIs and skein against the dev cluster."""
    env = dict(os.environ)
    env["HADOOP_CONF_DIR"] = str(RUN_DIR / "conf")
    env["JAVA_HOME"] = java_home()
    env["PATH"] = f"{YARN_DIR / 'bin'}:{env.get('PATH', '')}"
    for var in ("KRB5_CONFIG", "KRB5CCNAME", "SKEIN_DRIVER_JAVA_OPTIONS"):
        env.pop(var, None)
    if secure:
        env["KRB5_CONFIG"] = str(KDC_DIR / "krb5.conf")
        env["SKEIN_DRIVER_JAVA_OPTIONS"] = f"-Djava.security.krb5.conf={KDC_DIR / 'krb5.conf'}"
        if ccache is not None:
            env["KRB5CCNAME"] = f"FILE:{ccache}"
    return env


def kinit(env: Mapping[str, str]) -> None:
    """Log the test user in from its keytab into ``env``'s ticket cache."""
    run(["kinit", "-kt", TEST_KEYTAB, TEST_PRINCIPAL], env=env)


def zk_server_modes() -> dict[int, str]:
    """Server number -> mode ("leader", "follower", "stopped", ...) from `ensemble.sh status`."""
    out = run([ZK_DIR / "ensemble.sh", "status"], check=False, timeout=60).stdout
    modes: dict[int, str] = {}
    for line in out.splitlines():
        if line.startswith("server "):
            num = int(line.split()[1])
            modes[num] = line.rsplit("mode: ", 1)[1].strip() if "mode: " in line else "stopped"
    return modes


def zk_connect_string() -> str:
    return run([ZK_DIR / "ensemble.sh", "connect-string"], timeout=30).stdout.strip()
