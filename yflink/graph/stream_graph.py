"""StreamGraph: one node per physical transformation, edges carrying partitioners.

Source of the semantics: Flink ``StreamGraphGenerator`` and ``StreamGraph``. Virtual transformations
(partition, union) are folded into edges; an edge without an explicit partitioner is FORWARD when both
ends have the same parallelism and REBALANCE otherwise; FORWARD between different parallelisms is an error.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Optional

from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.common.errors import GraphError
from yflink.graph.partitioners import (
    ForwardPartitioner,
    KeyGroupStreamPartitioner,
    RebalancePartitioner,
    StreamPartitioner,
)
from yflink.graph.transformations import (
    OneInputTransformation,
    PartitionTransformation,
    SideOutputTransformation,
    SourceTransformation,
    Transformation,
    TwoInputTransformation,
    UnionTransformation,
)
from yflink.streaming.operators.base import ChainingStrategy, StreamOperator

DEFAULT_SLOT_SHARING_GROUP = "default"
_VIRTUAL = (PartitionTransformation, UnionTransformation, SideOutputTransformation)


@dataclass
class StreamEdge:
    """An edge between two StreamNodes. ``type_number`` is 0 for one-input targets, 1 or 2 for two-input."""

    source_id: int
    target_id: int
    partitioner: StreamPartitioner
    type_number: int = 0
    output_tag: Optional[str] = None  # the side output this edge carries; None for the main output


@dataclass
class StreamNode:
    """One operator with its parallelism, slot sharing group and chaining strategy."""

    id: int
    name: str
    operator: StreamOperator
    parallelism: int
    max_parallelism: int
    slot_sharing_group: str
    chaining_strategy: ChainingStrategy
    uid: Optional[str] = None
    is_source: bool = False
    bounded: bool = True
    key_selectors: list[Optional[Callable[[Any], Any]]] = field(default_factory=list)
    in_edges: list[StreamEdge] = field(default_factory=list)
    out_edges: list[StreamEdge] = field(default_factory=list)


@dataclass
class StreamGraph:
    """The program as operators and edges, plus the job's configuration."""

    job_name: str
    config: Configuration
    nodes: dict[int, StreamNode] = field(default_factory=dict)
    chaining_enabled: bool = True

    @property
    def sources(self) -> list[StreamNode]:
        return [n for n in self.nodes.values() if n.is_source]

    def topological_order(self) -> list[StreamNode]:
        """Nodes with every node after all of its inputs (ties broken by id, i.e. creation order)."""
        indegree = {nid: len(n.in_edges) for nid, n in self.nodes.items()}
        ready = sorted(nid for nid, d in indegree.items() if d == 0)
        order: list[StreamNode] = []
        while ready:
            nid = ready.pop(0)
            order.append(self.nodes[nid])
            for edge in self.nodes[nid].out_edges:
                indegree[edge.target_id] -= 1
                if indegree[edge.target_id] == 0:
                    ready.append(edge.target_id)
                    ready.sort()
        if len(order) != len(self.nodes):
            raise GraphError("the program's graph has a cycle; iterations are not supported")
        return order


def generate_stream_graph(transformations: list[Transformation], config: Configuration,
                          job_name: Optional[str] = None) -> StreamGraph:
    """Build the StreamGraph of everything reachable backwards from ``transformations``.

    Args:
        transformations: the environment's registered transformations (sinks and every operator added).
        config: the job's configuration (``parallelism.default``, ``pipeline.max-parallelism``, chaining).
        job_name: shown in the REST API; defaults to ``pipeline.name`` or "yflink Streaming Job".

    Raises:
        GraphError: no operators, a forward edge between different parallelisms, a bad parallelism.
    """
    default_parallelism = config.get(opts.PARALLELISM_DEFAULT)
    if default_parallelism < 1:
        raise GraphError(f"parallelism.default must be at least 1, got {default_parallelism}")
    configured_max = config.get(opts.MAX_PARALLELISM)
    graph = StreamGraph(
        job_name=job_name or config.get(opts.PIPELINE_NAME) or "yflink Streaming Job",
        config=config,
        chaining_enabled=config.get(opts.OPERATOR_CHAINING),
    )
    if not transformations:
        raise GraphError("No operators defined in streaming topology. Cannot execute.")

    # Collect every physical transformation reachable from the registered ones.
    seen: dict[int, Transformation] = {}
    stack = list(transformations)
    while stack:
        t = stack.pop()
        if t.id in seen:
            continue
        seen[t.id] = t
        stack.extend(t.inputs)

    def parallelism_of(t: Transformation) -> int:
        if isinstance(t, _VIRTUAL):
            raise AssertionError("virtual transformations have no parallelism of their own")
        p = t.parallelism if t.parallelism is not None else default_parallelism
        if p < 1:
            raise GraphError(f"Operator '{t.name}' has parallelism {p}; it must be at least 1")
        return p

    physical = sorted((t for t in seen.values()
                       if not isinstance(t, _VIRTUAL)), key=lambda t: t.id)
    for t in physical:
        p = parallelism_of(t)
        max_p = t.max_parallelism or (configured_max if configured_max > 0 else opts.default_max_parallelism(p))
        if max_p < p:
            raise GraphError(f"Operator '{t.name}' has parallelism {p} above its max parallelism {max_p}")
        assert isinstance(t, (SourceTransformation, OneInputTransformation, TwoInputTransformation))
        op = t.operator
        strategy = t.chaining_strategy or op.chaining_strategy
        if isinstance(t, OneInputTransformation):
            selectors = [t.key_selector]
        elif isinstance(t, TwoInputTransformation):
            selectors = [t.key_selector1, t.key_selector2]
        else:
            selectors = []
        graph.nodes[t.id] = StreamNode(
            id=t.id, name=t.name, operator=op, parallelism=p, max_parallelism=max_p,
            slot_sharing_group=t.slot_sharing_group or DEFAULT_SLOT_SHARING_GROUP,
            chaining_strategy=strategy, uid=t.uid, is_source=isinstance(t, SourceTransformation),
            bounded=t.bounded if isinstance(t, SourceTransformation) else True, key_selectors=selectors)

    Resolved = list[tuple[int, Optional[StreamPartitioner], Optional[str]]]

    def resolve(t: Transformation, partitioner: Optional[StreamPartitioner], tag: Optional[str]) -> Resolved:
        """The physical upstream node ids behind ``t``, each with the partitioner and side output that apply."""
        if isinstance(t, PartitionTransformation):
            return resolve(t.inputs[0], partitioner or t.partitioner, tag)
        if isinstance(t, SideOutputTransformation):
            return resolve(t.inputs[0], partitioner, tag or t.tag_id)
        if isinstance(t, UnionTransformation):
            return [r for i in t.inputs for r in resolve(i, partitioner, tag)]
        return [(t.id, partitioner, tag)]

    for t in physical:
        target = graph.nodes[t.id]
        for type_index, input_t in enumerate(t.inputs):
            type_number = type_index + 1 if isinstance(t, TwoInputTransformation) else 0
            for source_id, partitioner, tag in resolve(input_t, None, None):
                source = graph.nodes[source_id]
                if partitioner is None:
                    partitioner = (ForwardPartitioner() if source.parallelism == target.parallelism
                                   else RebalancePartitioner())
                else:
                    partitioner = copy.copy(partitioner)
                if isinstance(partitioner, ForwardPartitioner) and source.parallelism != target.parallelism:
                    raise GraphError(
                        f"Forward partitioning does not allow change of parallelism: upstream '{source.name}' "
                        f"has {source.parallelism}, downstream '{target.name}' has {target.parallelism}. "
                        "Use rebalance() or another partitioning, or equal parallelism.")
                if isinstance(partitioner, KeyGroupStreamPartitioner):
                    partitioner.max_parallelism = target.max_parallelism
                edge = StreamEdge(source_id, t.id, partitioner, type_number, tag)
                source.out_edges.append(edge)
                target.in_edges.append(edge)
    graph.topological_order()  # raises on cycles
    return graph
