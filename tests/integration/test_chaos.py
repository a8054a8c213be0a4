"""Randomized failures (issue 5, items 7a and 7b): TaskManager processes are SIGKILLed at random moments while a
keyed job writes through the exactly-once FileSink; the job restarts from its latest completed checkpoint each time.

* 7(a) EXACTLY_ONCE: the committed part files equal the failure-free output exactly (no record lost, none twice,
  every running count restored right).
* 7(b) AT_LEAST_ONCE: every record of the failure-free output is committed (duplicates allowed).

A private standalone cluster (2 TaskManagers x 2 slots) runs ``jobs/chaos_counts_to_files.py``; its
ResourceManager starts a local TaskManager when a restart finds too few slots (Flink's active resource managers
do the same with containers). At least 5 kills per run of a TaskManager running the job's tasks, at a random
moment while all tasks run, one of them while a checkpoint is in progress (a ``chk-<n>`` directory without
``_metadata`` before and right after the kill), one right after a checkpoint completed (its ``_metadata``
appeared: the FileSink's commit may be lost with the process, so the restore must commit again); now and then
another TaskManager is killed while the job recovers. A third test kills slot workers instead: each kill must
cost exactly one restart. The job runs slowly until the kills are done (a marker file tells it to go fast), so
the number of kills does not depend on the machine's speed.

Flink documentation: "Task Failure Recovery" (fixed-delay), "Checkpointing" (exactly-once vs. at-least-once),
"FileSink" and "Fault Tolerance Guarantees of Data Sources and Sinks". The seed is printed; rerun one with
``YFLINK_CHAOS_SEED=<seed>``; ``YFLINK_CHAOS_KILLS=<n>`` kills more often.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.integration.conftest import CLUSTER_FLAGS, free_port, yflink
from tests.integration.test_failures import rest, wait_for

pytestmark = pytest.mark.integration
JOBS = Path(__file__).parent / "jobs"
KEYS = 13  # as in jobs/chaos_counts_to_files.py
N = 100_000
KILLS = int(os.environ.get("YFLINK_CHAOS_KILLS", 5))  # at least this many kills per run (more for a soak test)
CHECKPOINT_INTERVAL = "200 ms"
RATE = 1000  # numbers/s per source subtask until the kills are done: 50 s for N at parallelism 2


def expected_counts(n: int) -> Counter[tuple[int, int]]:
    """The failure-free run's ``(k, c)`` pairs in plain Python: the counts 1..n_k once each per key k.

    Which number gets which count depends on how the two source subtasks interleave, so numbers and counts are
    compared apart: every number once, and every ``(key, count)`` once."""
    sizes = Counter(x % KEYS for x in range(1, n + 1))
    return Counter((k, c) for k, size in sizes.items() for c in range(1, size + 1))


def parse(lines: list[str]) -> tuple[Counter[int], Counter[tuple[int, int]]]:
    """``"x k c"`` lines -> (how often each number came, how often each (key, count) came); checks k = x % KEYS."""
    numbers: Counter[int] = Counter()
    counts: Counter[tuple[int, int]] = Counter()
    for line in lines:
        x, k, c = map(int, line.split())
        assert k == x % KEYS, line
        numbers[x] += 1
        counts[(k, c)] += 1
    return numbers, counts


def out_of_order(lines: list[str], n: int) -> list[str]:
    """Lines whose count does not grow with the number within one source subtask's range (subtask i of 2 reads
    ``split_number_range(1, n, 2, i)`` in order, so each key sees its numbers from one range in order): a count
    restored wrongly shows here even when the multisets agree."""
    by_range_and_key: dict[tuple[bool, int], list[tuple[int, int]]] = {}
    for line in lines:
        x, k, c = map(int, line.split())
        by_range_and_key.setdefault((x > n // 2, k), []).append((x, c))
    bad = []
    for (_, k), pairs in by_range_and_key.items():
        pairs.sort()
        bad += [f"{x} {k} {c}" for (_, c0), (x, c) in zip(pairs, pairs[1:]) if c <= c0]
    return bad


def differences(got: Counter[Any], want: Counter[Any]) -> str:
    """'' when equal, else how they differ (a few examples of each kind)."""
    duplicates = sorted(item for item, c in got.items() if c > 1)
    missing, unexpected = sorted(want - got), sorted(got - want)
    if not (duplicates or missing or unexpected):
        return ""
    return (f"{len(duplicates)} twice or more {duplicates[:5]}, {len(missing)} missing {missing[:5]}, "
            f"{len(unexpected)} unexpected {unexpected[:5]}")


def committed_lines(output: Path) -> list[str]:
    """Lines of the finished part files (in-progress and pending files are hidden: ``.part-...inprogress...``)."""
    files = [p for p in output.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))]
    return [line for p in files for line in p.read_text().splitlines()]


@dataclass
class ChaosCluster:
    """A private standalone cluster and what the kills need: its processes and the job's REST views."""

    pid_dir: Path
    flags: list[str]
    address: str
    job_id: str = ""
    log: list[str] = field(default_factory=list)
    killed: list[psutil.Process] = field(default_factory=list)  # the victims and their children

    def kill(self, victim: psutil.Process) -> None:
        """SIGKILL ``victim``; it and its children (a TaskManager's slot workers) must be gone soon after."""
        try:
            self.killed += [victim, *victim.children(recursive=True)]
        except psutil.Error:
            self.killed.append(victim)
        victim.send_signal(signal.SIGKILL)

    def processes(self) -> list[psutil.Process]:
        """The JobManager, every TaskManager and their children."""
        found = [psutil.Process(self.jobmanager_pid())]
        for tm in self.taskmanagers():
            try:
                found += [tm, *tm.children(recursive=True)]
            except psutil.Error:
                continue
        return found

    def rest(self, path: str) -> Any:
        return rest(self.address, path)

    def jobmanager_pid(self) -> int:
        for p in psutil.process_iter(["cmdline"]):
            cmd = p.info["cmdline"] or []
            if "yflink.runtime.entrypoints" in cmd and "jobmanager" in cmd and str(self.pid_dir) in " ".join(cmd):
                return int(p.pid)
        raise AssertionError("the JobManager process is gone")

    def subtasks(self) -> list[dict[str, Any]]:
        vertices = self.rest(f"/jobs/{self.job_id}")["vertices"]
        return [s for v in vertices for s in self.rest(f"/jobs/{self.job_id}/vertices/{v['id']}")["subtasks"]]

    def running_attempts(self) -> list[int] | None:
        """The attempt numbers of every subtask when the job and all its subtasks run in live slot workers, else
        None (the JobMaster may not have noticed yet that a process died: its RUNNING would be stale)."""
        if self.rest(f"/jobs/{self.job_id}")["state"] != "RUNNING":
            return None
        subtasks = self.subtasks()
        if not subtasks or any(s["status"] != "RUNNING" for s in subtasks):
            return None
        live = self.live_worker_ports()
        if any(int(s["endpoint"].rsplit(":", 1)[1]) not in live for s in subtasks):
            return None
        return [s["attempt"] for s in subtasks]

    def live_worker_ports(self) -> set[int]:
        """The data ports the live slot workers of this cluster listen on."""
        ports: set[int] = set()
        for tm in self.taskmanagers():
            try:
                for worker in tm.children():
                    ports |= {c.laddr.port for c in worker.net_connections("tcp") if c.status == psutil.CONN_LISTEN}
            except psutil.Error:
                continue
        return ports

    def taskmanagers(self) -> list[psutil.Process]:
        """Every live TaskManager process of this cluster: started by ``cluster start`` or by its ResourceManager."""
        jobmanager = self.jobmanager_pid()
        found = []
        for p in psutil.process_iter(["cmdline", "ppid"]):
            cmd = p.info["cmdline"] or []
            if "yflink.runtime.entrypoints" in cmd and "taskmanager" in cmd and (
                    str(self.pid_dir) in " ".join(cmd) or p.info["ppid"] == jobmanager):
                found.append(p)
        return found

    def busy_slot_workers(self) -> list[psutil.Process]:
        """Slot worker processes of this cluster that run subtasks of the job (found by their data ports)."""
        ports = {int(s["endpoint"].rsplit(":", 1)[1]) for s in self.subtasks()
                 if s["status"] == "RUNNING" and s["endpoint"].rsplit(":", 1)[-1].isdigit()}
        found = []
        for tm in self.taskmanagers():
            try:
                for worker in tm.children():
                    if {c.laddr.port for c in worker.net_connections("tcp") if c.status == psutil.CONN_LISTEN} & ports:
                        found.append(worker)
            except psutil.Error:
                continue
        return found

    def busy_taskmanagers(self) -> list[psutil.Process]:
        """TaskManager processes whose slot workers run subtasks of the job."""
        found: dict[int, psutil.Process] = {}
        for worker in self.busy_slot_workers():
            try:
                parent = worker.parent()
            except psutil.Error:
                continue
            if parent is not None:
                found[parent.pid] = parent
        return list(found.values())


@pytest.fixture
def chaos_cluster(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ChaosCluster]:
    """A private standalone cluster; ``request.param`` is the checkpointing mode, or (mode, interval)."""
    mode, interval = request.param if isinstance(request.param, tuple) else (request.param, CHECKPOINT_INTERVAL)
    rest_port = free_port()
    flags = [*CLUSTER_FLAGS, "-D", f"rest.port={rest_port}", "-D", f"jobmanager.rpc.port={free_port()}",
             "-D", f"env.pid.dir={tmp_path}", "-D", f"env.log.dir={tmp_path / 'log'}",
             "-D", f"execution.checkpointing.interval={interval}",
             "-D", f"execution.checkpointing.mode={mode}",
             "-D", f"state.checkpoints.dir=file://{tmp_path / 'checkpoints'}",
             "-D", "restart-strategy.type=fixed-delay", "-D", "restart-strategy.fixed-delay.attempts=50",
             "-D", "restart-strategy.fixed-delay.delay=200 ms",
             "-D", "resourcemanager.local-taskmanagers.delay=200 ms"]
    started = yflink("cluster", "start", "--taskmanagers", "2", *flags, timeout=120)
    assert started.returncode == 0, started.stderr
    cluster = ChaosCluster(tmp_path, flags, f"127.0.0.1:{rest_port}")
    processes = []
    try:
        yield cluster
        processes = cluster.processes()  # including TaskManagers its ResourceManager started
    finally:
        yflink("cluster", "stop", *flags, timeout=120)
    wait_for(lambda: not any(alive(p) for p in processes), 30, "every process of the cluster to be gone")


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def in_progress_checkpoints(job_dir: Path) -> list[Path]:
    return [d for d in job_dir.glob("chk-*") if not (d / "_metadata").exists()]


def kill_during_checkpoint(cluster: ChaosCluster, victim: psutil.Process, job_dir: Path,
                           timeout_s: float) -> str | None:
    """Wait for a checkpoint in progress and SIGKILL ``victim`` then; the checkpoint's name when it was still in
    progress right after the kill, None when it completed meanwhile (or none started within ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pending = in_progress_checkpoints(job_dir)
        if pending:
            cluster.kill(victim)
            still = [d.name for d in pending if d.exists() and not (d / "_metadata").exists()]
            cluster.log.append(f"kill {victim.pid} during {[d.name for d in pending]}, after it: {still}")
            return still[0] if still else ""
        time.sleep(0.003)
    return None


def kill_after_completion(cluster: ChaosCluster, victim: psutil.Process, job_dir: Path,
                          timeout_s: float) -> str | None:
    """SIGKILL ``victim`` as soon as the next checkpoint's ``_metadata`` appears (the checkpoint completed; the
    FileSink's commit of its pending files may or may not have happened: the restore commits them again). The
    checkpoint's name, or None when none completed within ``timeout_s``."""
    done = {d.name for d in job_dir.glob("chk-*") if (d / "_metadata").exists()}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        new = [d.name for d in job_dir.glob("chk-*") if d.name not in done and (d / "_metadata").exists()]
        if new:
            cluster.kill(victim)
            cluster.log.append(f"kill {victim.pid} right after {new[0]} completed")
            return new[0]
        time.sleep(0.003)
    return None


def run_with_kills(cluster: ChaosCluster, output: Path, seed: int, kind: str = "taskmanager",
                   kills_wanted: int = KILLS) -> list[str]:
    """Submit the job, kill busy TaskManagers (``kind`` "taskmanager") or slot workers ("slot-worker") at random
    moments (>= ``kills_wanted``, >= 1 during a checkpoint), let the job finish; returns the committed lines.
    With slot workers, every kill must cost exactly one restart."""
    rng = random.Random(seed)
    fast = cluster.pid_dir / "go-fast"
    submitted = yflink("run", "-d", "-m", cluster.address, str(JOBS / "chaos_counts_to_files.py"), str(N),
                       str(output), str(RATE), str(fast))
    assert submitted.returncode == 0, submitted.stderr
    cluster.job_id = wait_for(lambda: next((j["id"] for j in cluster.rest("/jobs")["jobs"]), None), 60, "the job")
    job_dir = cluster.pid_dir / "checkpoints" / cluster.job_id
    kills, during_checkpoint, after_completion = 0, list[str](), list[str]()
    wait_for(lambda: cluster.rest(f"/jobs/{cluster.job_id}/checkpoints")["counts"]["completed"] >= 1, 30,
             "a first completed checkpoint")  # from here on, every restart restores one
    started = time.monotonic()
    while kills < kills_wanted or not during_checkpoint or not after_completion:
        assert time.monotonic() - started < 15 * kills_wanted, f"kills took too long: {cluster.log}"
        attempts = wait_for(cluster.running_attempts, 30, "the job to run (again)")
        time.sleep(rng.uniform(0.1, 1.5))  # a random moment while it runs
        victims = cluster.busy_taskmanagers() if kind == "taskmanager" else cluster.busy_slot_workers()
        assert victims, (f"no TaskManager runs the job's tasks: job {cluster.rest(f'/jobs/{cluster.job_id}')['state']},"
                         f" subtasks {[(s['status'], s['endpoint']) for s in cluster.subtasks()]}, TaskManagers "
                         f"{[p.pid for p in cluster.taskmanagers()]}; kills: {cluster.log}")
        victim = rng.choice(victims)
        if not during_checkpoint and (kills >= kills_wanted - 2 or rng.random() < 0.4):
            hit = kill_during_checkpoint(cluster, victim, job_dir, timeout_s=2.0)
            if hit is None:
                continue  # no checkpoint started in time: try again
            if hit:
                during_checkpoint.append(hit)
        elif not after_completion and (kills >= kills_wanted - 1 or rng.random() < 0.3):
            hit = kill_after_completion(cluster, victim, job_dir, timeout_s=2.0)
            if hit is None:
                continue
            after_completion.append(hit)
        else:
            cluster.kill(victim)
            cluster.log.append(f"kill {victim.pid}")
        kills += 1
        killed_at = time.monotonic()
        if kind == "taskmanager" and rng.random() < 0.25:  # once more while it recovers (restarting, deploying)
            time.sleep(rng.uniform(0.1, 1.0))
            others = cluster.taskmanagers()
            if others:
                again = rng.choice(others)
                cluster.kill(again)
                cluster.log.append(f"kill {again.pid} while recovering")
                kills += 1
        # the restart creates new attempts of every subtask
        wait_for(lambda a=attempts: (now := cluster.running_attempts()) is not None and
                 min(now) > max(a), 30, "the job to restart after the kill")
        cluster.log.append(f"running again after {time.monotonic() - killed_at:.1f} s")
    print(f"chaos seed {seed}: {kills} kills, during checkpoints {during_checkpoint}, right after "
          f"{after_completion} completed; {cluster.log}")
    wait_for(lambda: not any(alive(p) for p in cluster.killed), 15,
             "the killed processes and their slot workers to be gone")
    fast.touch()
    wait_for(lambda: cluster.rest(f"/jobs/{cluster.job_id}")["state"] in ("FINISHED", "FAILED", "CANCELED"),
             60, "the job to end")
    state = cluster.rest(f"/jobs/{cluster.job_id}")["state"]
    assert state == "FINISHED", cluster.rest(f"/jobs/{cluster.job_id}/exceptions")
    stats = cluster.rest(f"/jobs/{cluster.job_id}/checkpoints")
    print(f"checkpoint counts: {stats['counts']}")
    assert stats["counts"]["restored"] >= 1, stats
    if kind == "slot-worker":  # one failure, one restart (not one per deployment into the dead worker's slot)
        assert stats["counts"]["restored"] == kills, (stats, cluster.log)
    assert kills >= kills_wanted and during_checkpoint and after_completion, cluster.log
    return committed_lines(output)


def chaos_seed() -> int:
    seed = int(os.environ.get("YFLINK_CHAOS_SEED", random.randrange(2**32)))
    print(f"YFLINK_CHAOS_SEED={seed}")
    return seed


@pytest.mark.parametrize("chaos_cluster", ["EXACTLY_ONCE"], indirect=True)
def test_random_taskmanager_kills_exactly_once(chaos_cluster: ChaosCluster, tmp_path: Path) -> None:
    committed = run_with_kills(chaos_cluster, tmp_path / "out", chaos_seed())
    numbers, counts = parse(committed)
    assert not differences(numbers, Counter(range(1, N + 1))), (
        f"numbers: {differences(numbers, Counter(range(1, N + 1)))}; kills: {chaos_cluster.log}")
    assert not differences(counts, expected_counts(N)), (
        f"(key, count) pairs: {differences(counts, expected_counts(N))}; kills: {chaos_cluster.log}")
    assert not out_of_order(committed, N), out_of_order(committed, N)[:5]
    assert len(committed) == N


@pytest.mark.parametrize("chaos_cluster", ["AT_LEAST_ONCE"], indirect=True)
def test_random_taskmanager_kills_at_least_once_loses_nothing(chaos_cluster: ChaosCluster, tmp_path: Path) -> None:
    committed = run_with_kills(chaos_cluster, tmp_path / "out", chaos_seed())
    numbers, counts = parse(committed)
    missing = sorted(set(range(1, N + 1)) - set(numbers))
    assert not missing, f"{len(missing)} numbers lost, first {missing[:10]}; kills: {chaos_cluster.log}"
    lost_counts = sorted(set(expected_counts(N)) - set(counts))  # a replay counts again, never fewer
    assert not lost_counts, f"{len(lost_counts)} (key, count) pairs never written, first {lost_counts[:10]}"
    print(f"at-least-once: {sum(c - 1 for c in numbers.values())} numbers written more than once")


@pytest.mark.parametrize("chaos_cluster", ["EXACTLY_ONCE"], indirect=True)
def test_random_slot_worker_kills_restart_once_each_exactly_once(chaos_cluster: ChaosCluster, tmp_path: Path) -> None:
    """A slot worker (the process of one slot) SIGKILLed: its TaskManager fails its tasks and starts a new one;
    the job restarts once per kill and the committed output is still exact."""
    committed = run_with_kills(chaos_cluster, tmp_path / "out", chaos_seed(), kind="slot-worker", kills_wanted=4)
    numbers, counts = parse(committed)
    assert not differences(numbers, Counter(range(1, N + 1))), differences(numbers, Counter(range(1, N + 1)))
    assert not differences(counts, expected_counts(N)), differences(counts, expected_counts(N))
    assert not out_of_order(committed, N), out_of_order(committed, N)[:5]


@pytest.mark.parametrize("chaos_cluster", [("EXACTLY_ONCE", "5 s")], indirect=True)
def test_kill_while_part_of_the_job_has_finished_exactly_once(chaos_cluster: ChaosCluster, tmp_path: Path) -> None:
    """Source -> map -> FileSink chained at parallelism 2; subtask 0 reads its half at full speed and reaches the
    end of its input while subtask 1 is still paced. The slot worker of subtask 1 is SIGKILLed then, usually
    before the checkpoint with subtask 0's final state completed (5 s interval): its sink must not have committed
    at the end of its input (Flink FLIP-147: it commits with the final checkpoint), or the replay after the
    restart would commit its records twice. The committed output must hold every number once."""
    cluster, n, output, fast = chaos_cluster, 200_000, tmp_path / "out", tmp_path / "go-fast"
    submitted = yflink("run", "-d", "-m", cluster.address, str(JOBS / "uneven_numbers_to_files.py"), str(n),
                       str(output), "500", str(fast))
    assert submitted.returncode == 0, submitted.stderr
    cluster.job_id = wait_for(lambda: next((j["id"] for j in cluster.rest("/jobs")["jobs"]), None), 60, "the job")

    def first_half_read() -> list[dict[str, Any]] | None:  # metrics come about once a second
        subtasks = cluster.subtasks()
        done = any(s["subtask"] == 0 and s["metrics"]["read-records"] >= n // 2 for s in subtasks)
        return subtasks if done else None

    subtasks = wait_for(first_half_read, 60, "subtask 0 to read its half")
    completed_before = cluster.rest(f"/jobs/{cluster.job_id}/checkpoints")["counts"]["completed"]
    ports = {int(s["endpoint"].rsplit(":", 1)[1]) for s in subtasks if s["subtask"] == 1}
    victims = [w for w in cluster.busy_slot_workers()
               if {c.laddr.port for c in w.net_connections("tcp") if c.status == psutil.CONN_LISTEN} & ports]
    assert len(victims) == 1, (subtasks, victims)
    cluster.kill(victims[0])
    wait_for(lambda: cluster.rest(f"/jobs/{cluster.job_id}")["state"] == "RUNNING" and
             min(s["attempt"] for s in cluster.subtasks()) >= 1, 30, "the job to run again")
    fast.touch()
    wait_for(lambda: cluster.rest(f"/jobs/{cluster.job_id}")["state"] in ("FINISHED", "FAILED", "CANCELED"),
             60, "the job to end")
    assert cluster.rest(f"/jobs/{cluster.job_id}")["state"] == "FINISHED"
    numbers = Counter(int(line) for line in committed_lines(output))
    print(f"checkpoints completed before the kill: {completed_before}")
    assert not differences(numbers, Counter(range(1, n + 1))), (
        f"{differences(numbers, Counter(range(1, n + 1)))} (checkpoints completed before the kill: "
        f"{completed_before})")
