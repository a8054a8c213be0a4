"""Two-input operators on real processes: keyed co-process with timers, keyed broadcast state and an interval join,
at parallelism 2, in STREAMING and BATCH execution, against a plain-Python computation of the same results.

Semantics: Flink documentation, "Operators" (Connect), "Process Function" (KeyedCoProcessFunction, timers),
"The Broadcast State Pattern" (KeyedBroadcastProcessFunction, applyToKeyedState), "Joining" (Interval Join) and
"Execution Mode (Batch/Streaming)" (bounded jobs give the same final results in both modes).
"""

from __future__ import annotations

import ast
import itertools
from collections import Counter
from pathlib import Path

import pytest

from tests.integration.conftest import Cluster, strip_subtask_prefix

pytestmark = pytest.mark.integration

JOB = Path(__file__).resolve().parent / "jobs" / "connect_job.py"


def expected() -> Counter[tuple[object, ...]]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("connect_job", JOB)
    assert spec is not None and spec.loader is not None
    job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(job)
    left, right = job.data()
    weights = dict(job.WEIGHTS)
    result: Counter[tuple[object, ...]] = Counter()
    for key in {r[0] for r in left + right}:
        result[("totals", key, sum(r[2] for r in left if r[0] == key), sum(r[2] for r in right if r[0] == key))] += 1
    result.update(("weighted", r[0], r[2] * weights.get(r[0], 1)) for r in left)
    result.update(("pair", a[1], b[1], max(a[2], b[2])) for a, b in itertools.product(left, right)
                  if a[0] == b[0] and a[2] - 3 <= b[2] <= a[2] + 2)
    return result


@pytest.mark.parametrize("mode", ["STREAMING", "BATCH"])
def test_connect_broadcast_and_interval_join_job(cluster: Cluster, mode: str) -> None:
    result = cluster.run(JOB, "2", mode)
    assert result.returncode == 0, result.stderr
    lines = [strip_subtask_prefix(line) for line in result.job_output.splitlines() if line.strip()]  # type: ignore[attr-defined]
    got = Counter(ast.literal_eval(line) for line in lines)
    want = expected()
    assert got == want
    assert {kind for kind, *_ in want} == {"totals", "weighted", "pair"}
