"""End-to-end jobs on real processes; results equal a plain-Python computation of the same thing.

Semantics: Flink DataStream API ("Overview", "Operators"), Nexmark queries q0-q2 (nexmark/nexmark, queries/*.sql).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import pytest

from tests.integration.conftest import EXAMPLES, Cluster, strip_subtask_prefix
from yflink.common import Types
from yflink.connectors.nexmark import queries as reference
from yflink.connectors.nexmark.generator import NexmarkGenerator

pytestmark = pytest.mark.integration

EVENTS = 20_000


def output_lines(stdout: str) -> Counter[str]:
    return Counter(strip_subtask_prefix(line) for line in stdout.splitlines() if line.strip())


def test_wordcount_equals_python_counter(cluster: Cluster, tmp_path: Path) -> None:
    rng = random.Random(3)
    words = [f"w{i}" for i in range(300)]
    text = "\n".join(" ".join(rng.choices(words, k=rng.randint(0, 12))) for _ in range(5000))
    path = tmp_path / "input.txt"
    path.write_text(text)
    result = cluster.run(EXAMPLES / "wordcount.py", "--input", str(path), "--parallelism", "4")
    assert result.returncode == 0, result.stderr
    final: dict[str, int] = {}
    for line in output_lines(result.job_output):
        match = re.fullmatch(r"\((\S+),(\d+)\)", line)
        assert match, f"unexpected output line {line!r}"
        word, count = match.group(1), int(match.group(2))
        final[word] = max(final.get(word, 0), count)
    assert final == dict(Counter(text.split()))


@pytest.mark.parametrize("query", ["q0", "q1", "q2"])
def test_nexmark_query_equals_reference(cluster: Cluster, query: str) -> None:
    result = cluster.run(EXAMPLES / f"nexmark_{query}.py", "--events", str(EVENTS), "--parallelism", "4",
                         "--sink", "print", "--first-event-time-ms", "0")
    assert result.returncode == 0, result.stderr
    events, _ = NexmarkGenerator(first_event_time_ms=0).generate(0, EVENTS)
    expected_rows = getattr(reference, query)(events)
    display = {
        "q0": Types.TUPLE([Types.LONG(), Types.LONG(), Types.LONG(), Types.LONG(), Types.STRING()]),
        "q1": Types.TUPLE([Types.LONG(), Types.LONG(), Types.DOUBLE(), Types.LONG(), Types.STRING()]),
        "q2": Types.TUPLE([Types.LONG(), Types.LONG()]),
    }[query]
    expected = Counter(display.to_display_string(tuple(row)) for row in expected_rows)
    assert output_lines(result.job_output) == expected
    assert sum(expected.values()) > 0
