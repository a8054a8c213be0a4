"""Checkpointing costs on the embedded cluster, in the same run (issue 5, item 8).

1. Overhead: a keyed job (NumberSequenceSource -> map to (key, 1) over 10,000 keys -> key_by -> reduce(sum) ->
   a sink keeping each key's latest count) with checkpoints every 1 s to ``file://`` storage against the same job
   without checkpoints. Printed: records/s of both (median of --repeat runs, alternated) and the ratio
   (target >= 0.90). Every run's per-key counts are checked against plain Python.
2. Recovery: a paced keyed job (1,000 numbers/s per subtask, 200 ms checkpoints) on a fresh embedded cluster
   (2 TaskManagers x 2 slots); a TaskManager running its tasks is SIGKILLed --kills times. Printed: for each kill,
   seconds from the SIGKILL until ``GET /jobs/{id}`` says RUNNING and every subtask of ``GET
   /jobs/{id}/vertices/{vid}`` runs a new attempt, and whether that needed a new TaskManager (the ResourceManager
   starts one when too few slots are left); their median (target <= 5 s). The restart strategy is fixed-delay
   with ``--restart-delay`` (Flink's default delay for fixed-delay: 1 s), and the figure includes it.

Flink documentation: "Checkpointing", "Task Failure Recovery". The machine's load average is printed: on a shared
2-core machine the figures are noisy, so compare the ratios of one run.

    PYTHONPATH=. python bench/checkpointing.py [--records 20000000] [--repeat 3] [--kills 3] [--restart-delay "1 s"]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from yflink.common import Configuration, Types, WatermarkStrategy
from yflink.datastream import StreamExecutionEnvironment
from yflink.datastream.connectors import NumberSequenceSource, Sink, SinkWriter
from yflink.datastream.connectors.number_seq import NumberSequenceReader
from yflink.deploy import local
from yflink.deploy.local import shutdown_embedded_cluster
from yflink.graph.executor import set_context_configuration

KEYS = 10_000


# --- the keyed job and its check -------------------------------------------------------------------------------
def to_pair(x: int) -> tuple[int, int]:
    return (x % KEYS, 1)


def add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return (a[0], a[1] + b[1])


class LatestPerKeySink(Sink):
    """Keeps each key's latest count; writes ``part-<subtask>.json`` at the end of input."""

    def __init__(self, directory: str) -> None:
        self.directory = directory

    def create_writer(self) -> SinkWriter:
        return _LatestWriter(self.directory)


class _LatestWriter(SinkWriter):
    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.latest: dict[int, int] = {}

    def open(self, task_info: Any) -> None:
        self.index = task_info.subtask_index

    def write_batch(self, values: list[Any], timestamps: list[int] | None) -> None:
        latest = self.latest
        for key, count in values:
            latest[key] = count

    def flush(self, end_of_input: bool) -> None:
        if end_of_input:
            Path(self.directory, f"part-{self.index}.json").write_text(json.dumps(self.latest))

    def close(self) -> None:
        pass


def read_latest(directory: str) -> dict[int, int]:
    latest: dict[int, int] = {}
    for f in Path(directory).glob("part-*.json"):
        latest.update({int(k): v for k, v in json.loads(f.read_text()).items()})
        f.unlink()
    return latest


def expected_counts(records: int) -> dict[int, int]:
    """How many of 1..records fall on each key (plain arithmetic: the numbers k, k + KEYS, ... up to records)."""
    return {k: n for k in range(KEYS) if (n := (records - k) // KEYS + (k > 0)) > 0}


def keyed_job(env: StreamExecutionEnvironment, source: NumberSequenceSource, out: str) -> None:
    (env.from_source(source, WatermarkStrategy.no_watermarks(), "Numbers")
        .map(to_pair, output_type=Types.TUPLE([Types.INT(), Types.LONG()]))
        .key_by(lambda p: p[0])
        .reduce(add)
        .sink_to(LatestPerKeySink(out)))


def run_overhead_job(records: int, checkpoint_dir: str | None, out: str) -> tuple[float, int]:
    """(seconds for ``records`` numbers through the keyed job, checkpoints completed), with 1 s checkpoints when
    ``checkpoint_dir``."""
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    if checkpoint_dir:
        env.enable_checkpointing(1000)
        env.get_checkpoint_config().set_checkpoint_storage_dir(checkpoint_dir)
    keyed_job(env, NumberSequenceSource(1, records), out)
    start = time.perf_counter()
    client = env.execute_async("keyed count" + (" with checkpoints" if checkpoint_dir else ""))
    client.get_job_execution_result().result()
    elapsed = time.perf_counter() - start
    assert local._cluster is not None
    if not checkpoint_dir:
        return elapsed, 0
    stats = rest(local._cluster.rest_address, f"/jobs/{client.get_job_id()}/checkpoints")
    return elapsed, int(stats["counts"]["completed"])


def measure_overhead(records: int, repeat: int, work: Path) -> tuple[float, float, list[int], bool]:
    """(records/s without checkpoints, records/s with 1 s checkpoints, checkpoints completed per run, every
    result right)."""
    out = str(work / "out")
    os.makedirs(out, exist_ok=True)
    expected = expected_counts(records)
    plain: list[float] = []
    checkpointed: list[float] = []
    completed: list[int] = []
    ok = True
    run_overhead_job(10_000, None, out)  # start and warm the embedded cluster
    read_latest(out)
    for i in range(repeat):
        for times, directory in ((plain, None), (checkpointed, f"file://{work}/checkpoints-{i}")):
            elapsed, checkpoints = run_overhead_job(records, directory, out)
            times.append(elapsed)
            if directory:
                completed.append(checkpoints)
            if read_latest(out) != expected:
                ok = False
                print(f"overhead run {i} ({'with' if directory else 'without'} checkpoints): WRONG COUNTS",
                      file=sys.stderr)
    return records / statistics.median(plain), records / statistics.median(checkpointed), completed, ok


# --- recovery time ---------------------------------------------------------------------------------------------
class PacedReader(NumberSequenceReader):
    """Emits at most RATE numbers/s per subtask without blocking the slot worker (empty batches when early)."""

    RATE = 1000.0

    def _pace_from_here(self) -> None:
        self.emitted, self.paced_since = 0, time.monotonic()

    def open(self, task_info: Any) -> None:
        super().open(task_info)
        self._pace_from_here()

    def restore_state(self, state: Any) -> None:
        super().restore_state(state)
        self._pace_from_here()

    def poll_batch(self, max_records: int) -> Any:
        due = int((time.monotonic() - self.paced_since) * self.RATE) - self.emitted
        if due <= 0:
            return [], None
        polled = super().poll_batch(min(max_records, due))
        if polled is not None:
            self.emitted += len(polled[0])
        return polled


class PacedNumbers(NumberSequenceSource):
    def create_reader(self) -> PacedReader:
        return PacedReader(self.start, self.end)


def rest(address: str, path: str) -> Any:
    with urllib.request.urlopen(f"http://{address}{path}", timeout=10) as response:
        return json.loads(response.read())


def subtasks(address: str, job_id: str) -> list[dict[str, Any]]:
    vertices = rest(address, f"/jobs/{job_id}")["vertices"]
    return [s for v in vertices for s in rest(address, f"/jobs/{job_id}/vertices/{v['id']}")["subtasks"]]


def running_attempts(address: str, job_id: str) -> list[int] | None:
    """Every subtask's attempt number when the job and all its subtasks run, else None."""
    if rest(address, f"/jobs/{job_id}")["state"] != "RUNNING":
        return None
    found = subtasks(address, job_id)
    if not found or any(s["status"] != "RUNNING" for s in found):
        return None
    return [s["attempt"] for s in found]


def wait_for(condition: Callable[[], Any], timeout_s: float, what: str, poll_s: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll_s)
    raise TimeoutError(f"timed out after {timeout_s} s waiting for {what}")


def busy_taskmanagers(address: str, job_id: str, cluster: local.EmbeddedCluster) -> list[psutil.Process]:
    """The TaskManager processes whose slot workers serve running subtasks (found by the workers' data ports)."""
    ports = {int(s["endpoint"].rsplit(":", 1)[1]) for s in subtasks(address, job_id)
             if s["endpoint"].rsplit(":", 1)[-1].isdigit()}
    assert cluster.jobmanager is not None
    found = []
    # the cluster's TaskManagers are this process's children; those the ResourceManager started, the JobManager's
    for tm in psutil.Process().children() + psutil.Process(cluster.jobmanager.pid).children():
        for worker in tm.children():
            listening = {c.laddr.port for c in worker.net_connections("tcp") if c.status == psutil.CONN_LISTEN}
            if listening & ports:
                found.append(tm)
                break
    if not found:
        raise RuntimeError("no TaskManager runs the job's tasks")
    return found


def measure_recovery(kills: int, restart_delay: str, work: Path) -> list[tuple[float, bool]]:
    """(seconds from a SIGKILL of a busy TaskManager to the job RUNNING again with new attempts, whether it runs
    on a TaskManager started after the kill) for each kill."""
    shutdown_embedded_cluster()
    conf = Configuration()
    for key, value in {"taskmanager.numberOfTaskSlots": "2", "minicluster.number-of-taskmanagers": "2",
                       "restart-strategy.type": "fixed-delay", "restart-strategy.fixed-delay.attempts": "100",
                       "restart-strategy.fixed-delay.delay": restart_delay}.items():
        conf.set_string(key, value)
    set_context_configuration(conf)
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.enable_checkpointing(200)
    env.get_checkpoint_config().set_checkpoint_storage_dir(f"file://{work}/recovery-checkpoints")
    out = str(work / "recovery-out")
    os.makedirs(out, exist_ok=True)
    keyed_job(env, PacedNumbers(1, 10_000_000), out)
    client = env.execute_async("paced keyed count")
    job_id = str(client.get_job_id())
    cluster = local._cluster
    assert cluster is not None
    address = cluster.rest_address
    times: list[tuple[float, bool]] = []
    try:
        for _ in range(kills):
            attempts = wait_for(lambda: running_attempts(address, job_id), 60, "the job to run")
            wait_for(lambda: rest(address, f"/jobs/{job_id}/checkpoints")["counts"]["completed"] > 0, 30,
                     "a completed checkpoint")
            time.sleep(1.0)
            victim = busy_taskmanagers(address, job_id, cluster)[0]
            pids_before = {p.pid for p in psutil.process_iter()}
            victim.send_signal(signal.SIGKILL)
            killed_at = time.monotonic()
            before = max(attempts)

            def restarted(before: int = before) -> bool:
                now = running_attempts(address, job_id)
                return now is not None and min(now) > before

            wait_for(restarted, 60, "the job to run again")
            elapsed = time.monotonic() - killed_at
            on_new = any(tm.pid not in pids_before for tm in busy_taskmanagers(address, job_id, cluster))
            times.append((elapsed, on_new))
    finally:
        client.cancel()
        shutdown_embedded_cluster()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--restart-delay", default="1 s")
    args = parser.parse_args()

    conf = Configuration()
    conf.set_string("taskmanager.numberOfTaskSlots", "2")
    set_context_configuration(conf)
    work = Path(tempfile.mkdtemp(prefix="yflink-bench-checkpointing-"))
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}, records: {args.records:,}, "
          f"repeat: {args.repeat}, kills: {args.kills}", file=sys.stderr)
    plain, checkpointed, completed, ok = measure_overhead(args.records, args.repeat, work)
    shutdown_embedded_cluster()
    recovery = measure_recovery(args.kills, args.restart_delay, work)

    print(f"keyed job, no checkpoints:  {plain:>10,.0f} records/s")
    print(f"keyed job, 1 s checkpoints: {checkpointed:>10,.0f} records/s "
          f"(checkpoints completed per run: {', '.join(map(str, completed))})")
    print(f"ratio: {checkpointed / plain:.2f} (target >= 0.90); counts checked: {'equal' if ok else 'DIFFERENT'}")
    if recovery:  # --kills 0 skips the recovery measurement
        print("TaskManager SIGKILL -> RUNNING again: " + ", ".join(
            f"{t:.1f} s" + (" (new TaskManager)" if new else "") for t, new in recovery))
        print(f"median {statistics.median([t for t, _ in recovery]):.1f} s (target <= 5 s; includes the "
              f"{args.restart_delay} restart delay)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
