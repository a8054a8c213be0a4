"""JobGraph: operator chains as vertices, and the edges between them.

Source of the semantics: Flink ``StreamingJobGraphGenerator`` (``createChain``, ``isChainable``) and
``JobGraph``/``JobVertex``/``JobEdge``. Two operators are chained into one task when:

* the downstream operator has exactly one input edge,
* both are in the same slot sharing group,
* the downstream operator's chaining strategy is ALWAYS and the upstream one's is not NEVER,
* the edge's partitioner is FORWARD (which implies equal parallelism),
* chaining is enabled for the job (``pipeline.operator-chaining.enabled``).

The JobGraph itself is plain data the JobManager can read without user code; each vertex carries its
operator chain (user functions included) as cloudpickle bytes that only slot workers load.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Optional

import cloudpickle

from yflink.common.configuration import Configuration
from yflink.common.ids import IntermediateDataSetID, JobID, JobVertexID
from yflink.graph.partitioners import StreamPartitioner
from yflink.graph.stream_graph import StreamEdge, StreamGraph, StreamNode
from yflink.streaming.operators.base import ChainingStrategy, StreamOperator


@dataclass
class JobEdge:
    """A data exchange between two vertices.

    Attributes:
        id: the IntermediateDataSetID (hex) of the data the source vertex produces for this edge.
        ship_strategy: the partitioner's display name (FORWARD, HASH, REBALANCE, ...).
        pointwise: producers connect to a subset of consumers (FORWARD, RESCALE) rather than to all.
        type_number: 0 for a one-input target, 1 or 2 for the inputs of a two-input target.
    """

    id: str
    source_vertex_id: str
    target_vertex_id: str
    ship_strategy: str
    pointwise: bool
    type_number: int = 0


@dataclass
class JobVertex:
    """One operator chain, run as ``parallelism`` subtasks."""

    id: str
    name: str
    parallelism: int
    max_parallelism: int
    slot_sharing_group: str
    is_source: bool
    bounded: bool
    operator_names: list[str]
    chain: bytes  # cloudpickle of ChainSpec
    inputs: list[JobEdge] = field(default_factory=list)
    outputs: list[JobEdge] = field(default_factory=list)
    node_ids: list[int] = field(default_factory=list)  # stream node ids of the chain, head first
    operator_ids: list[str] = field(default_factory=list)  # their stable ids (yflink.checkpoint.operator_ids)
    operator_uids: list[Optional[str]] = field(default_factory=list)  # their user-given uids


@dataclass
class JobGraph:
    """The unit of submission: vertices in topological order plus the job's configuration."""

    job_id: str
    job_name: str
    config: dict[str, Any]
    vertices: list[JobVertex]

    def vertex(self, vertex_id: str) -> JobVertex:
        for v in self.vertices:
            if v.id == vertex_id:
                return v
        raise KeyError(vertex_id)

    def slots_needed(self) -> int:
        """Slots the job needs: per slot sharing group, its highest parallelism; summed over groups."""
        per_group: dict[str, int] = {}
        for v in self.vertices:
            per_group[v.slot_sharing_group] = max(per_group.get(v.slot_sharing_group, 0), v.parallelism)
        return sum(per_group.values())


@dataclass
class ChainedOperator:
    """One operator inside a chain, with where its output goes.

    Attributes:
        chained_outputs: node ids of operators in the same chain that receive this operator's output.
        network_outputs: (index into the vertex's ``outputs``, partitioner) pairs for edges leaving the chain.
        key_selectors: the key selectors of the operator's inputs (non-empty entries mean keyed state).
        side_chained: per side output tag id, the chained operators that receive it.
        side_network: per side output tag id, the (output index, partitioner) pairs that receive it.
    """

    node_id: int
    name: str
    operator: StreamOperator
    chained_outputs: list[int]
    network_outputs: list[tuple[int, StreamPartitioner]]
    key_selectors: list[Optional[Callable[[Any], Any]]]
    side_chained: dict[str, list[int]] = field(default_factory=dict)
    side_network: dict[str, list[tuple[int, StreamPartitioner]]] = field(default_factory=dict)


@dataclass
class ChainSpec:
    """What a subtask needs to build its OperatorChain: operators in topological order, head first."""

    head_id: int
    order: list[int]
    operators: dict[int, ChainedOperator]


def is_chainable(edge: StreamEdge, graph: StreamGraph) -> bool:
    """Flink's chaining rules (see the module docstring)."""
    up = graph.nodes[edge.source_id]
    down = graph.nodes[edge.target_id]
    return (
        graph.chaining_enabled
        and len(down.in_edges) == 1
        and up.slot_sharing_group == down.slot_sharing_group
        and down.chaining_strategy is ChainingStrategy.ALWAYS
        and up.chaining_strategy is not ChainingStrategy.NEVER
        and edge.partitioner.name() == "FORWARD"
        and up.parallelism == down.parallelism
    )


def register_program_modules() -> None:
    """Make cloudpickle ship the user's own modules by value.

    Functions defined in the job script (``__main__``) travel by value anyway; functions the script imports
    from its own modules would otherwise travel as references that slot workers cannot import. Every loaded
    module that is not part of Python, of an installed package or of yflink is shipped by value.
    """
    installed = {os.path.realpath(p) + os.sep for key, p in sysconfig.get_paths().items()
                 if key in ("stdlib", "platstdlib", "purelib", "platlib")}
    installed.add(os.path.realpath(os.path.dirname(os.path.dirname(__file__))) + os.sep)  # yflink itself
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if not path or name == "__main__" or name in _SHIPPED:
            continue
        real = os.path.realpath(path)
        if any(real.startswith(prefix) for prefix in installed) or "site-packages" in real:
            continue
        try:
            cloudpickle.register_pickle_by_value(module)
            _SHIPPED.add(name)
        except ValueError:
            pass


_SHIPPED: set[str] = set()


def create_job_graph(graph: StreamGraph, job_id: Optional[str] = None) -> JobGraph:
    """Chain the StreamGraph's operators into JobVertices. Returns a JobGraph in topological order."""
    register_program_modules()
    order = graph.topological_order()
    chain_of: dict[int, int] = {}  # node id -> head node id
    for node in order:
        if node.id in chain_of:
            continue
        if len(node.in_edges) == 1 and is_chainable(node.in_edges[0], graph):
            chain_of[node.id] = chain_of[node.in_edges[0].source_id]
        else:
            chain_of[node.id] = node.id

    heads = [n for n in order if chain_of[n.id] == n.id]
    members: dict[int, list[StreamNode]] = {h.id: [] for h in heads}
    for node in order:
        members[chain_of[node.id]].append(node)

    vertex_ids = {h.id: JobVertexID.generate().hex for h in heads}
    from yflink.checkpoint.operator_ids import stable_operator_ids

    operator_ids = stable_operator_ids(graph, lambda e: is_chainable(e, graph))
    vertices: dict[int, JobVertex] = {}
    chains: dict[int, ChainSpec] = {}
    for head in heads:
        nodes = members[head.id]
        vertex = JobVertex(
            id=vertex_ids[head.id], name=_chain_name(nodes), parallelism=head.parallelism,
            max_parallelism=max(n.max_parallelism for n in nodes), slot_sharing_group=head.slot_sharing_group,
            is_source=head.is_source, bounded=head.bounded, operator_names=[n.name for n in nodes], chain=b"",
            node_ids=[n.id for n in nodes], operator_ids=[operator_ids[n.id] for n in nodes],
            operator_uids=[n.uid for n in nodes])
        vertices[head.id] = vertex
        chains[head.id] = ChainSpec(head_id=head.id, order=[n.id for n in nodes], operators={
            n.id: ChainedOperator(node_id=n.id, name=n.name, operator=n.operator, chained_outputs=[],
                                  network_outputs=[], key_selectors=list(n.key_selectors)) for n in nodes})

    for node in order:
        head_id = chain_of[node.id]
        spec = chains[head_id]
        for edge in node.out_edges:
            chained = spec.operators[node.id]
            if chain_of[edge.target_id] == head_id:  # chainable edge: stays inside the task
                if edge.output_tag is None:
                    chained.chained_outputs.append(edge.target_id)
                else:
                    chained.side_chained.setdefault(edge.output_tag, []).append(edge.target_id)
                continue
            source_vertex = vertices[head_id]
            target_vertex = vertices[chain_of[edge.target_id]]
            job_edge = JobEdge(
                id=IntermediateDataSetID.generate().hex, source_vertex_id=source_vertex.id,
                target_vertex_id=target_vertex.id, ship_strategy=edge.partitioner.name(),
                pointwise=edge.partitioner.is_pointwise, type_number=edge.type_number)
            output = (len(source_vertex.outputs), edge.partitioner)
            if edge.output_tag is None:
                chained.network_outputs.append(output)
            else:
                chained.side_network.setdefault(edge.output_tag, []).append(output)
            source_vertex.outputs.append(job_edge)
            target_vertex.inputs.append(job_edge)

    for head_id, vertex in vertices.items():
        vertex.chain = cloudpickle.dumps(chains[head_id], protocol=5)
    config = graph.config.raw() if isinstance(graph.config, Configuration) else dict(graph.config)
    return JobGraph(job_id=job_id or JobID.generate().hex, job_name=graph.job_name, config=config,
                    vertices=[vertices[h.id] for h in heads])


def _chain_name(nodes: list[StreamNode]) -> str:
    names = []
    for n in nodes:
        names.append(f"Source: {n.name}" if n.is_source and not n.name.startswith("Source") else n.name)
    return " -> ".join(names)
