"""Event-time windows on real processes at parallelism 2: tumbling, sliding, session and all-windows, with
watermarks generated in a parallel source and by ``assign_timestamps_and_watermarks``, against plain Python.

Semantics: Flink documentation, "Windows" (Tumbling/Sliding/Session Windows, Window Functions, Keyed vs
Non-Keyed Windows), "Generating Watermarks" (Using Watermark Strategies; watermarks in parallel streams are
the minimum over inputs) and "Timely Stream Processing" (a bounded input ends with a watermark at +infinity,
so every window fires), "Execution Mode (Batch/Streaming)".
"""

from __future__ import annotations

import ast
import importlib.util
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType

import pytest

from tests.integration.conftest import Cluster, strip_subtask_prefix

pytestmark = pytest.mark.integration

JOB = Path(__file__).resolve().parent / "jobs" / "windows_job.py"


def job_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("windows_job", JOB)
    assert spec is not None and spec.loader is not None
    job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(job)
    return job


def expected() -> Counter[tuple[object, ...]]:
    job = job_module()
    result: Counter[tuple[object, ...]] = Counter()
    tumbling: dict[tuple[str, int], int] = defaultdict(int)
    for n in range(job.NUMBERS):
        tumbling[(f"k{n % 5}", 3 * n // 1000 * 1000)] += n
    result.update(("tumbling", key, start, total) for (key, start), total in tumbling.items())
    events = job.events()
    sliding: dict[tuple[str, int], int] = defaultdict(int)
    for key, _, ts in events:
        for start in range(ts - ts % 100, ts - 300, -100):
            sliding[(key, start)] += 1
    result.update(("sliding", key, start, count) for (key, start), count in sliding.items())
    for key in job.KEYS:
        session: list[int] = []
        start = end = 0
        for _, value, ts in sorted((e for e in events if e[0] == key), key=lambda e: e[2]):
            if session and ts <= end:
                end = max(end, ts + 40)
                session.append(value)
                continue
            if session:
                result[("session", key, start, end, len(session), sum(session))] += 1
            start, end, session = ts, ts + 40, [value]
        result[("session", key, start, end, len(session), sum(session))] += 1
    totals: dict[int, int] = defaultdict(int)
    for _, value, ts in events:
        totals[ts - ts % 500] += value
    result.update(("all", start, total) for start, total in totals.items())
    return result


@pytest.mark.parametrize("mode", ["STREAMING", "BATCH"])
def test_event_time_windows_job(cluster: Cluster, mode: str) -> None:
    """The same results in STREAMING and BATCH execution ("Execution Mode (Batch/Streaming)": bounded jobs
    give the same final results in both)."""
    result = cluster.run(JOB, "2", mode)
    assert result.returncode == 0, result.stderr
    lines = [strip_subtask_prefix(line) for line in result.job_output.splitlines() if line.strip()]  # type: ignore[attr-defined]
    got = Counter(ast.literal_eval(line) for line in lines)
    want = expected()
    assert {tag for tag, *_ in want} == {"tumbling", "sliding", "session", "all"}
    assert got == want


TIME_JOB = Path(__file__).resolve().parent / "jobs" / "time_job.py"


def test_processing_time_windows_and_idle_inputs(cluster: Cluster, tmp_path: Path) -> None:
    """Processing-time windows fire on the task's clock while the input is quiet (every element is counted in a
    fired window); an input marked idle ("Dealing With Idle Sources") does not hold back the watermark, so the
    other input's windows fire and the idle input's later, older record is late (side output)."""
    result = cluster.run(TIME_JOB, str(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = [strip_subtask_prefix(line) for line in result.job_output.splitlines() if line.strip()]  # type: ignore[attr-defined]
    got = [ast.literal_eval(line) for line in lines]
    assert sum(count for tag, count in (r for r in got if r[0] == "proc")) == 300
    assert sorted(r for r in got if r[0] == "event") == [("event", start, 100) for start in range(0, 1000, 100)]
    assert [r for r in got if r[0] == "late"] == [("late", 100)]
