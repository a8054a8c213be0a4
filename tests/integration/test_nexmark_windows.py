"""The windowed Nexmark examples (q5 hot items, q7 highest bid, q8 new users, q11 user sessions) on real
processes, embedded and standalone, at parallelism 2-4: printed rows equal the plain-Python references.

Semantics: Nexmark ``queries/q5.sql``, ``q7.sql``, ``q8.sql``, ``q11.sql``; Flink documentation, "Windows" and
"Joining" (Window Join). Windows are scaled down so 20,000-50,000 events (2-5 s of event time) fill many.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.integration.conftest import EXAMPLES, Cluster, strip_subtask_prefix
from yflink.common import Types
from yflink.connectors.nexmark import window_queries as reference
from yflink.connectors.nexmark.generator import NexmarkGenerator

pytestmark = pytest.mark.integration

L, S = Types.LONG(), Types.STRING()

#: query -> (events, parallelism, example flags, reference keyword arguments, printed row type)
CASES = {
    "q5": (20_000, "3", ("--window-ms", "200", "--slide-ms", "40"), {"size": 200, "slide": 40}, Types.TUPLE([L] * 4)),
    "q7": (20_000, "4", ("--window-ms", "100"), {"size": 100}, Types.TUPLE([L, L, L, L, S])),
    "q8": (50_000, "2", ("--window-ms", "200"), {"size": 200}, Types.TUPLE([L, S, L])),
    "q11": (20_000, "4", ("--gap-ms", "50"), {"gap": 50}, Types.TUPLE([L] * 4)),
}


@pytest.mark.parametrize("query", list(CASES))
def test_windowed_nexmark_query_equals_reference(cluster: Cluster, query: str) -> None:
    events, parallelism, flags, kwargs, row_type = CASES[query]
    result = cluster.run(EXAMPLES / f"nexmark_{query}.py", "--events", str(events), "--parallelism", parallelism,
                         "--first-event-time-ms", "0", "--sink", "print", *flags)
    assert result.returncode == 0, result.stderr
    generated, _ = NexmarkGenerator(first_event_time_ms=0).generate(0, events)
    expected = Counter(row_type.to_display_string(row) for row in getattr(reference, query)(generated, **kwargs))
    printed = Counter(strip_subtask_prefix(line) for line in result.job_output.splitlines() if line.strip())
    assert printed == expected
    assert sum(expected.values()) >= 10
