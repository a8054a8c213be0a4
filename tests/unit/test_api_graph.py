"""The DataStream API builds the StreamGraph Flink would: names, parallelism, edges, chaining, groups."""

from __future__ import annotations

import json
from typing import Any

import pytest

from yflink.common import Configuration, Types
from yflink.common.errors import GraphError
from yflink.common.job_execution_result import JobExecutionResult
from yflink.datastream import (
    KeyedProcessFunction,
    MapFunction,
    RuntimeExecutionMode,
    SlotSharingGroup,
    StreamExecutionEnvironment,
)
from yflink.graph import executor as executors
from yflink.graph.partitioners import (
    BroadcastPartitioner,
    ForwardPartitioner,
    GlobalPartitioner,
    KeyGroupStreamPartitioner,
    RebalancePartitioner,
    RescalePartitioner,
    ShufflePartitioner,
)
from yflink.graph.stream_graph import StreamGraph, StreamNode
from yflink.streaming.operators.base import ChainingStrategy
from yflink.streaming.operators.process import KeyedProcessOperator
from yflink.streaming.operators.reduce import StreamGroupedReduce
from yflink.streaming.operators.simple import PrintSinkOperator, StreamMap


def env(**conf: Any) -> StreamExecutionEnvironment:
    configuration = Configuration()
    for key, value in conf.items():
        configuration.set_string(key.replace("_", "."), value)
    return StreamExecutionEnvironment.get_execution_environment(configuration)


def node(graph: StreamGraph, name: str) -> StreamNode:
    matches = [n for n in graph.nodes.values() if n.name == name]
    assert len(matches) == 1, f"expected one node named {name!r}, got {[n.name for n in graph.nodes.values()]}"
    return matches[0]


def test_pipeline_names_parallelism_and_forward_edges() -> None:
    e = env()
    e.set_parallelism(2)
    e.from_collection([1, 2, 3]).map(lambda x: x + 1).filter(lambda x: x > 1).print()
    graph = e.get_stream_graph("job")
    names = [n.name for n in graph.topological_order()]
    assert names == ["Source: Collection Source", "Map", "Filter", "Sink: Print to Std. Out"]
    assert graph.job_name == "job"
    assert node(graph, "Source: Collection Source").parallelism == 1
    assert node(graph, "Map").parallelism == 2
    assert isinstance(node(graph, "Map").in_edges[0].partitioner, RebalancePartitioner)  # 1 -> 2
    assert isinstance(node(graph, "Filter").in_edges[0].partitioner, ForwardPartitioner)
    assert node(graph, "Source: Collection Source").is_source and node(graph, "Source: Collection Source").bounded


def test_operator_settings_reach_the_graph() -> None:
    e = env()
    mapped = e.from_collection([1]).map(lambda x: x).name("double").uid("double-uid").set_parallelism(3) \
        .set_max_parallelism(16)
    mapped.print().name("out").set_parallelism(3).uid("sink-uid")
    graph = e.get_stream_graph()
    n = node(graph, "double")
    assert (n.parallelism, n.max_parallelism, n.uid) == (3, 16, "double-uid")
    assert n.operator.name == "double"
    sink = node(graph, "Sink: out")
    assert sink.uid == "sink-uid" and sink.parallelism == 3
    assert mapped.get_name() == "double"


def test_chaining_strategies_from_the_api() -> None:
    e = env()
    ds = e.from_collection([1])
    ds.map(lambda x: x).name("a").start_new_chain() \
        .map(lambda x: x).name("b").disable_chaining() \
        .map(lambda x: x).name("c") \
        .print().disable_chaining()
    graph = e.get_stream_graph()
    assert node(graph, "a").chaining_strategy is ChainingStrategy.HEAD
    assert node(graph, "b").chaining_strategy is ChainingStrategy.NEVER
    assert node(graph, "c").chaining_strategy is ChainingStrategy.ALWAYS
    assert node(graph, "Sink: Print to Std. Out").chaining_strategy is ChainingStrategy.NEVER
    assert node(graph, "Source: Collection Source").chaining_strategy is ChainingStrategy.HEAD


def test_disable_operator_chaining_and_buffer_timeout_go_to_configuration() -> None:
    e = env()
    assert e.is_chaining_enabled()
    e.disable_operator_chaining().set_buffer_timeout(5)
    assert not e.is_chaining_enabled() and e.get_buffer_timeout() == 5
    e.set_buffer_timeout(-1)
    assert e.get_buffer_timeout() == -1
    e.from_collection([1]).print()
    assert not e.get_stream_graph().chaining_enabled


def test_slot_sharing_groups_explicit_and_inherited() -> None:
    e = env()
    src = e.from_collection([1]).slot_sharing_group("sources")
    mapped = src.map(lambda x: x).name("inherits")
    mapped.map(lambda x: x).name("other").slot_sharing_group(SlotSharingGroup.builder("g2").build()) \
        .map(lambda x: x).name("inherits-g2").print()
    graph = e.get_stream_graph()
    assert node(graph, "Source: Collection Source").slot_sharing_group == "sources"
    assert node(graph, "inherits").slot_sharing_group == "sources"
    assert node(graph, "other").slot_sharing_group == "g2"
    assert node(graph, "inherits-g2").slot_sharing_group == "g2"
    assert node(graph, "Sink: Print to Std. Out").slot_sharing_group == "g2"
    assert mapped._transformation.slot_sharing_group is None  # inheritance is not written back


def test_union_of_different_groups_falls_back_to_default() -> None:
    e = env()
    a = e.from_collection([1]).slot_sharing_group("a")
    b = e.from_collection([2]).slot_sharing_group("b")
    a.union(b).map(lambda x: x).name("merged").print()
    graph = e.get_stream_graph()
    merged = node(graph, "merged")
    assert merged.slot_sharing_group == "default"
    assert sorted(edge.source_id for edge in merged.in_edges) == sorted(
        n.id for n in graph.nodes.values() if n.is_source)


@pytest.mark.parametrize("method, partitioner", [
    ("shuffle", ShufflePartitioner), ("rebalance", RebalancePartitioner), ("rescale", RescalePartitioner),
    ("broadcast", BroadcastPartitioner), ("forward", ForwardPartitioner), ("global_", GlobalPartitioner),
])
def test_physical_partitioning(method: str, partitioner: type) -> None:
    e = env()
    e.set_parallelism(2)
    src = e.from_sequence(1, 10)
    getattr(src, method)().map(lambda x: x).name("target").print()
    target = node(e.get_stream_graph(), "target")
    assert isinstance(target.in_edges[0].partitioner, partitioner)


def test_forward_between_different_parallelism_is_an_error() -> None:
    e = env()
    e.from_collection([1]).forward().map(lambda x: x).set_parallelism(2).print()
    with pytest.raises(GraphError, match="Forward partitioning"):
        e.get_stream_graph()


def test_key_by_uses_key_groups_of_the_consumer() -> None:
    e = env()
    e.set_parallelism(2)
    keyed = e.from_collection([("a", 1)]).key_by(lambda t: t[0])
    keyed.reduce(lambda a, b: (a[0], a[1] + b[1])).set_max_parallelism(64).print()
    keyed.process(_Counter()).name("counter").print()
    graph = e.get_stream_graph()
    reduce_node = node(graph, "Reduce")
    edge = reduce_node.in_edges[0]
    assert isinstance(edge.partitioner, KeyGroupStreamPartitioner) and edge.partitioner.max_parallelism == 64
    assert isinstance(reduce_node.operator, StreamGroupedReduce) and reduce_node.operator.is_keyed
    assert reduce_node.key_selectors[0] is not None
    counter = node(graph, "counter")
    assert isinstance(counter.operator, KeyedProcessOperator)
    counter_edge = counter.in_edges[0].partitioner
    assert isinstance(counter_edge, KeyGroupStreamPartitioner) and counter_edge.max_parallelism == 128
    assert edge.partitioner.key_selector(("k", 1)) == "k"


def test_key_by_with_configured_max_parallelism_and_key_selector_class() -> None:
    from yflink.datastream import KeySelector

    class First(KeySelector):
        def get_key(self, value: Any) -> Any:
            return value[0]

    e = env()
    e.set_max_parallelism(256)
    e.from_collection([("a", 1)]).key_by(First()).sum(1).print()
    partitioner = node(e.get_stream_graph(), "Reduce").in_edges[0].partitioner
    assert isinstance(partitioner, KeyGroupStreamPartitioner) and partitioner.max_parallelism == 256


def test_keyed_stream_operators_are_keyed_and_restricted() -> None:
    e = env()
    keyed = e.from_collection([("a", 1)]).key_by(lambda t: t[0])
    mapped = keyed.map(lambda t: t)
    op = mapped._transformation.operator  # type: ignore[attr-defined]
    assert isinstance(op, StreamMap) and op.is_keyed
    with pytest.raises(GraphError, match="Cannot override partitioning"):
        keyed.shuffle()
    with pytest.raises(GraphError, match="Set parallelism for KeyedStream is not supported"):
        keyed.set_parallelism(2)
    with pytest.raises(TypeError, match="KeyedProcessFunction is required"):
        keyed.process(object())  # type: ignore[arg-type]
    assert keyed.key_by(lambda t: t[1])._origin_stream is keyed._origin_stream


def test_output_types_are_kept() -> None:
    e = env()
    tuple_type = Types.TUPLE([Types.STRING(), Types.INT()])
    ds = e.from_collection([("a", 1)], type_info=tuple_type)
    assert ds.get_type() == tuple_type
    assert ds.filter(lambda t: True).get_type() == tuple_type
    assert ds.map(lambda t: t).get_type() == Types.PICKLED_BYTE_ARRAY()
    assert ds.key_by(lambda t: t[0]).sum(1).get_type() == tuple_type
    ds.print()
    sink = node(e.get_stream_graph(), "Sink: Print to Std. Out")
    assert isinstance(sink.operator, PrintSinkOperator) and sink.operator.output_type == tuple_type


def test_from_collection_is_non_parallel_and_normalizes_typed_elements() -> None:
    e = env()
    ds = e.from_collection([(1, "a")], type_info=Types.ROW_NAMED(["id", "name"], [Types.INT(), Types.STRING()]))
    with pytest.raises(GraphError, match="non parallel"):
        ds.set_parallelism(2)
    source = ds._transformation.operator.source  # type: ignore[attr-defined]
    assert source.elements[0].name == "a"


def test_wrong_function_types_are_rejected() -> None:
    ds = env().from_collection([1])
    with pytest.raises(TypeError, match="MapFunction or a callable"):
        ds.map(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="KeySelector"):
        ds.key_by("field")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="SinkFunction"):
        ds.add_sink(print)  # type: ignore[arg-type]


def test_operator_settings_on_partitioned_stream_are_errors() -> None:
    ds = env().from_collection([1]).rebalance()
    with pytest.raises(GraphError, match="partitioning or union"):
        ds.set_parallelism(2)


def test_execution_plan_is_flinks_json() -> None:
    e = env()
    e.from_collection([("a", 1)]).key_by(lambda t: t[0]).sum(1).print()
    plan = json.loads(e.get_execution_plan())
    nodes = plan["nodes"]
    assert [n["pact"] for n in nodes] == ["Data Source", "Operator", "Data Sink"]
    assert nodes[0]["type"] == "Source: Collection Source" and "predecessors" not in nodes[0]
    assert nodes[1]["predecessors"] == [{"id": nodes[0]["id"], "ship_strategy": "HASH", "side": "second"}]
    assert nodes[2]["predecessors"][0]["ship_strategy"] == "FORWARD"
    assert e.get_stream_graph() is not None  # the plan does not consume the transformations


def test_environment_configuration() -> None:
    e = env(parallelism_default="4")
    assert e.get_parallelism() == 4
    e.set_parallelism(2).set_max_parallelism(64).set_runtime_mode(RuntimeExecutionMode.BATCH)
    e.get_config().set_global_job_parameters({"k": "v"})
    conf = e._config
    assert conf.get_integer("parallelism.default", 0) == 2
    assert e.get_max_parallelism() == 64
    assert conf.get_string("execution.runtime-mode", "") == "BATCH"
    other = Configuration()
    other.set_string("pipeline.name", "named")
    e.configure(other)
    e.from_collection([1]).print()
    assert e.get_stream_graph().job_name == "named"


def test_context_configuration_is_the_starting_point() -> None:
    context = Configuration()
    context.set_integer("parallelism.default", 3)
    executors.set_context_configuration(context)
    try:
        assert StreamExecutionEnvironment.get_execution_environment().get_parallelism() == 3
    finally:
        executors.set_context_configuration(None)


class _FakeClient:
    def __init__(self, graph: StreamGraph) -> None:
        self.graph = graph

    def get_job_execution_result(self) -> JobExecutionResult:
        return JobExecutionResult("f" * 32, 5)


def test_execute_submits_and_clears_transformations(monkeypatch: pytest.MonkeyPatch) -> None:
    submitted: list[StreamGraph] = []

    class FakeExecutor:
        def execute(self, graph: StreamGraph, config: Configuration) -> _FakeClient:
            submitted.append(graph)
            return _FakeClient(graph)

    monkeypatch.setattr(executors, "get_executor", lambda config: FakeExecutor())
    e = env()
    e.from_collection([1]).map(_Double()).print()
    result = e.execute("my job")
    assert result.get_job_id() == "f" * 32
    assert submitted[0].job_name == "my job" and len(submitted[0].nodes) == 3
    with pytest.raises(GraphError, match="No operators"):
        e.execute()


def test_execute_and_collect_adds_a_collect_sink(monkeypatch: pytest.MonkeyPatch) -> None:
    graphs: list[StreamGraph] = []

    class Client:
        status = "RUNNING"
        cancelled = False

        def collect(self, operator_id: str) -> Any:
            yield from [10, 20, 30]

        def get_job_status(self) -> str:
            return self.status

        def cancel(self) -> None:
            self.cancelled = True

        def get_job_execution_result(self) -> JobExecutionResult:
            return JobExecutionResult("0" * 32, 1)

    client = Client()

    class FakeExecutor:
        def execute(self, graph: StreamGraph, config: Configuration) -> Client:
            graphs.append(graph)
            return client

    monkeypatch.setattr(executors, "get_executor", lambda config: FakeExecutor())
    e = env()
    e.set_parallelism(2)
    with e.from_collection([1, 2, 3]).map(lambda x: x * 10).execute_and_collect() as results:
        assert list(results) == [10, 20, 30]
    sink = node(graphs[0], "Sink: Data stream collect sink")
    assert sink.parallelism == 1 and isinstance(sink.in_edges[0].partitioner, RebalancePartitioner)
    assert not client.cancelled
    assert e.from_collection([1]).execute_and_collect(limit=2) == [10, 20]
    assert client.cancelled  # stopped early: the job is cancelled


class _Double(MapFunction):
    def map(self, value: Any) -> Any:
        return value * 2


class _Counter(KeyedProcessFunction):
    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Any:
        yield value


@pytest.mark.parametrize("mode, bounded_only, batch", [
    (RuntimeExecutionMode.STREAMING, True, False), (RuntimeExecutionMode.BATCH, True, True),
    (RuntimeExecutionMode.AUTOMATIC, True, True), (RuntimeExecutionMode.AUTOMATIC, False, False),
])
def test_runtime_mode_decides_batch_reduce(mode: RuntimeExecutionMode, bounded_only: bool, batch: bool) -> None:
    from yflink.datastream import SourceFunction

    class Endless(SourceFunction):
        def run(self, ctx: SourceFunction.SourceContext) -> None:
            ctx.collect(("a", 1))

        def cancel(self) -> None:
            pass

    e = env()
    e.set_runtime_mode(mode)
    source = e.from_collection([("a", 1)]) if bounded_only else e.add_source(Endless())
    source.key_by(lambda t: t[0]).sum(1).print()
    reduce_node = node(e.get_stream_graph(), "Reduce")
    assert isinstance(reduce_node.operator, StreamGroupedReduce) and reduce_node.operator.batch_mode is batch
