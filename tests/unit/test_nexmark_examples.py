"""The Nexmark examples' pipelines (``examples/nexmark_q*.py``) compute the reference results, at parallelism 1
and 2, without a cluster: the operators of each forward-connected subtask run in-process through the operator
test harness, as a chain would run them in a slot worker."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from yflink.common import WatermarkStrategy
from yflink.connectors.nexmark import NexmarkSource
from yflink.connectors.nexmark import queries as reference
from yflink.datastream import DataStream, StreamExecutionEnvironment
from yflink.datastream.connectors import DiscardingSink
from yflink.graph.stream_graph import StreamNode
from yflink.testing import OneInputOperatorTestHarness

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))

import nexmark_q0  # noqa: E402
import nexmark_q1  # noqa: E402
import nexmark_q2  # noqa: E402

EVENTS = 20_000


def run_forward_pipeline(query: Callable[[DataStream], DataStream], source: NexmarkSource,
                         parallelism: int) -> list[list[Any]]:
    """Each subtask's results of ``query`` over ``source`` (every edge must be FORWARD)."""
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(parallelism)
    query(env.from_source(source, WatermarkStrategy.no_watermarks(), "Nexmark Source")).sink_to(DiscardingSink())
    graph = env.get_stream_graph()
    nodes: list[StreamNode] = [graph.nodes[i] for i in sorted(graph.nodes)]
    assert nodes[0].is_source and nodes[-1].name.startswith("Sink")
    assert all(n.parallelism == parallelism for n in nodes)
    results = []
    for index in range(parallelism):
        harness = OneInputOperatorTestHarness(nodes[0].operator, parallelism, index)
        harness.run_source()
        values = harness.get_output()
        harness.close()
        for node in nodes[1:-1]:  # the operators between source and sink, in chain order
            harness = OneInputOperatorTestHarness(node.operator, parallelism, index)
            harness.process_elements(values)
            harness.end_input()
            values = harness.get_output()
            harness.close()
        results.append(values)
    return results


@pytest.mark.parametrize("parallelism", [1, 2])
@pytest.mark.parametrize(("query", "expected"), [
    (nexmark_q0.q0, reference.q0),
    (nexmark_q1.q1, reference.q1),
    (nexmark_q2.q2, reference.q2),
])
def test_example_pipeline_equals_reference(query: Callable[[DataStream], DataStream],
                                           expected: Callable[[list[Any]], list[Any]], parallelism: int) -> None:
    source = NexmarkSource(EVENTS, seed=3, first_event_time_ms=1_700_000_000_000)
    want = expected(source.events())
    parts = run_forward_pipeline(query, source, parallelism)
    if parallelism == 1:
        assert parts == [want]
    assert Counter(row for part in parts for row in part) == Counter(want)
    assert want  # the query selects something at this size
