"""StreamGraph and JobGraph building with Flink's chaining rules (StreamingJobGraphGenerator.isChainable)."""

import cloudpickle
import pytest

from yflink.common.configuration import Configuration
from yflink.common.errors import GraphError
from yflink.graph.job_graph import create_job_graph
from yflink.graph.partitioners import ForwardPartitioner, KeyGroupStreamPartitioner, RebalancePartitioner
from yflink.graph.stream_graph import generate_stream_graph
from yflink.graph.transformations import (
    OneInputTransformation,
    PartitionTransformation,
    SourceTransformation,
    Transformation,
    UnionTransformation,
)
from yflink.streaming.operators.base import ChainingStrategy, SourceOperator, StreamOperator


class _Source:
    def is_bounded(self) -> bool:
        return True

    def create_reader(self):  # pragma: no cover - never run here
        raise NotImplementedError


def source(name: str = "src", parallelism: int | None = None) -> SourceTransformation:
    return SourceTransformation(name, SourceOperator(_Source(), name), True, parallelism)


def op(input: Transformation, name: str, parallelism: int | None = None) -> OneInputTransformation:
    return OneInputTransformation(name, input, StreamOperator(name), parallelism)


def conf(**kv: object) -> Configuration:
    c = Configuration()
    for k, v in kv.items():
        c.set_string(k.replace("_", "."), str(v))
    return c


def names(job_graph) -> list[str]:
    return [v.name for v in job_graph.vertices]


def test_forward_edges_with_equal_parallelism_chain() -> None:
    s = source()
    m = op(s, "map")
    f = op(m, "filter")
    jg = create_job_graph(generate_stream_graph([f], conf(parallelism_default=2)))
    assert names(jg) == ["Source: src -> map -> filter"]
    assert jg.vertices[0].parallelism == 2
    spec = cloudpickle.loads(jg.vertices[0].chain)
    assert [spec.operators[n].name for n in spec.order] == ["src", "map", "filter"]


def test_different_parallelism_breaks_chain_with_rebalance() -> None:
    s = source(parallelism=1)
    m = op(s, "map", parallelism=2)
    jg = create_job_graph(generate_stream_graph([m], conf()))
    assert names(jg) == ["Source: src", "map"]
    assert jg.vertices[0].outputs[0].ship_strategy == "REBALANCE"
    assert not jg.vertices[0].outputs[0].pointwise


def test_key_by_breaks_chain_with_hash_and_consumer_max_parallelism() -> None:
    s = source()
    k = PartitionTransformation(s, KeyGroupStreamPartitioner(lambda x: x, 0))
    r = op(k, "reduce")
    r.max_parallelism = 256
    sg = generate_stream_graph([r], conf(parallelism_default=2))
    edge = sg.nodes[r.id].in_edges[0]
    assert isinstance(edge.partitioner, KeyGroupStreamPartitioner)
    assert edge.partitioner.max_parallelism == 256
    jg = create_job_graph(sg)
    assert names(jg) == ["Source: src", "reduce"]
    assert jg.vertices[0].outputs[0].ship_strategy == "HASH"


def test_disable_chaining_and_start_new_chain() -> None:
    s = source()
    a = op(s, "a")
    b = op(a, "b")
    b.chaining_strategy = ChainingStrategy.HEAD  # start_new_chain()
    c = op(b, "c")
    d = op(c, "d")
    d.chaining_strategy = ChainingStrategy.NEVER  # disable_chaining()
    e = op(d, "e")
    jg = create_job_graph(generate_stream_graph([e], conf()))
    assert names(jg) == ["Source: src -> a", "b -> c", "d", "e"]


def test_slot_sharing_groups_break_chains_and_count_slots() -> None:
    s = source()
    a = op(s, "a")
    a.slot_sharing_group = "other"
    jg = create_job_graph(generate_stream_graph([a], conf(parallelism_default=3)))
    assert names(jg) == ["Source: src", "a"]
    assert jg.slots_needed() == 6


def test_operator_chaining_can_be_disabled_for_the_job() -> None:
    s = source()
    a = op(s, "a")
    c = conf()
    c.set_string("pipeline.operator-chaining.enabled", "false")
    jg = create_job_graph(generate_stream_graph([a], c))
    assert names(jg) == ["Source: src", "a"]
    assert jg.vertices[0].outputs[0].ship_strategy == "FORWARD"


def test_union_makes_multi_input_vertex_that_does_not_chain() -> None:
    s1, s2 = source("s1"), source("s2")
    u = UnionTransformation([s1, s2])
    m = op(u, "map")
    jg = create_job_graph(generate_stream_graph([m], conf()))
    assert names(jg) == ["Source: s1", "Source: s2", "map"]
    assert len(jg.vertex(jg.vertices[2].id).inputs) == 2


def test_forward_between_different_parallelism_is_an_error() -> None:
    s = source(parallelism=1)
    f = PartitionTransformation(s, ForwardPartitioner())
    m = op(f, "map", parallelism=2)
    with pytest.raises(GraphError, match="Forward partitioning does not allow change of parallelism"):
        generate_stream_graph([m], conf())


def test_explicit_rebalance_with_equal_parallelism_does_not_chain() -> None:
    s = source()
    r = PartitionTransformation(s, RebalancePartitioner())
    m = op(r, "map")
    jg = create_job_graph(generate_stream_graph([m], conf(parallelism_default=2)))
    assert names(jg) == ["Source: src", "map"]


def test_no_operators_is_an_error() -> None:
    with pytest.raises(GraphError, match="No operators"):
        generate_stream_graph([], conf())


def test_default_max_parallelism_is_128_and_configurable() -> None:
    s = source()
    sg = generate_stream_graph([s], conf(parallelism_default=4))
    assert sg.nodes[s.id].max_parallelism == 128
    c = conf(parallelism_default=4)
    c.set_string("pipeline.max-parallelism", "64")
    assert generate_stream_graph([s], c).nodes[s.id].max_parallelism == 64


def test_side_output_edges_carry_their_tag_and_may_chain() -> None:
    from yflink.graph.transformations import SideOutputTransformation

    s = source()
    m = op(s, "split")
    late = SideOutputTransformation(m, "late")
    main_sink = op(m, "main")
    side_sink = op(PartitionTransformation(late, RebalancePartitioner()), "side")
    chained_side = op(SideOutputTransformation(m, "other"), "chained side")
    sg = generate_stream_graph([main_sink, side_sink, chained_side], conf(parallelism_default=2))
    tags = sorted((e.output_tag or "") for e in sg.nodes[m.id].out_edges)
    assert tags == ["", "late", "other"]
    jg = create_job_graph(sg)
    head = jg.vertices[0]
    spec = cloudpickle.loads(head.chain)
    split = spec.operators[m.id]
    assert split.chained_outputs == [main_sink.id]
    assert split.side_chained == {"other": [chained_side.id]}
    assert list(split.side_network) == ["late"] and head.outputs[0].ship_strategy == "REBALANCE"


def test_vertices_carry_stable_operator_ids_of_their_chain() -> None:
    """Checkpoints map state by these ids: the same program gets the same ids; a uid decides its operator's id."""
    from yflink.checkpoint.operator_ids import operator_id_from_uid

    def build() -> tuple[list[list[int]], list[list[str]]]:
        s = source()
        m = op(s, "map")
        m.uid = "my-map"
        k = PartitionTransformation(m, KeyGroupStreamPartitioner(lambda x: x, 0))
        jg = create_job_graph(generate_stream_graph([op(k, "reduce")], conf(parallelism_default=2)))
        for v in jg.vertices:
            spec = cloudpickle.loads(v.chain)
            assert v.node_ids == spec.order and len(v.operator_ids) == len(v.node_ids) == len(v.operator_uids)
        return [v.node_ids for v in jg.vertices], [v.operator_ids for v in jg.vertices]

    _, first = build()
    _, second = build()
    assert first == second
    assert first[0][1] == operator_id_from_uid("my-map")
    assert len({i for ids in first for i in ids}) == 3
