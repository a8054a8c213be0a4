"""Task deployment descriptors and the wiring of producer subpartitions to consumer input channels.

Source of the semantics: Flink ``TaskDeploymentDescriptor``, ``ResultPartitionDeploymentDescriptor``,
``InputGateDeploymentDescriptor`` and ``EdgeManagerBuildUtil`` (ALL_TO_ALL and POINTWISE connections).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


def partition_id(edge_id: str, producer_execution_id: str) -> str:
    """The id of the result partition one producer attempt writes for one JobEdge."""
    return f"{edge_id}.{producer_execution_id}"


@dataclass
class InputChannelDescriptor:
    partition_id: str
    subpartition_index: int
    data_address: str  # host:port of the producer's slot worker data server
    producer_name: str


@dataclass
class InputGateDescriptor:
    edge_id: str
    type_number: int
    channels: list[InputChannelDescriptor]


@dataclass
class ResultPartitionDescriptor:
    partition_id: str
    edge_index: int  # index into the vertex's outputs, matched by the chain's network outputs
    num_subpartitions: int


@dataclass
class TaskDeploymentDescriptor:
    job_id: str
    job_name: str
    job_master_id: str
    job_master_address: str
    execution_id: str
    allocation_id: str
    vertex_id: str
    task_name: str
    subtask_index: int
    parallelism: int
    max_parallelism: int
    attempt_number: int
    is_source: bool
    chain: bytes
    partitions: list[ResultPartitionDescriptor]
    gates: list[InputGateDescriptor]
    config: dict[str, Any] = field(default_factory=dict)
    #: pickled ``{stream node id: [OperatorSnapshot of every subtask of the checkpoint]}`` to restore, or None
    restored_state: Optional[bytes] = None
    #: ``{stream node id: stable operator id}`` of the chain: a task acknowledges its state by operator id
    operator_ids: dict[int, str] = field(default_factory=dict)


def pointwise_sources(consumer_index: int, producer_parallelism: int, consumer_parallelism: int) -> list[int]:
    """For a POINTWISE edge: the producer subtasks consumer ``consumer_index`` reads from."""
    p, c = producer_parallelism, consumer_parallelism
    if p == c:
        return [consumer_index]
    if p > c:
        start = consumer_index * p // c
        end = (consumer_index + 1) * p // c
        return list(range(start, end))
    return [consumer_index * p // c]


def pointwise_targets(producer_index: int, producer_parallelism: int, consumer_parallelism: int) -> list[int]:
    """For a POINTWISE edge: the consumer subtasks producer ``producer_index`` writes to, in subpartition order."""
    return [j for j in range(consumer_parallelism)
            if producer_index in pointwise_sources(j, producer_parallelism, consumer_parallelism)]


def num_subpartitions(pointwise: bool, producer_index: int, producer_parallelism: int,
                      consumer_parallelism: int) -> int:
    if not pointwise:
        return consumer_parallelism
    return len(pointwise_targets(producer_index, producer_parallelism, consumer_parallelism))


def consumer_channels(pointwise: bool, consumer_index: int, producer_parallelism: int,
                      consumer_parallelism: int) -> list[tuple[int, int]]:
    """(producer subtask, subpartition index) pairs that feed consumer ``consumer_index``."""
    if not pointwise:
        return [(i, consumer_index) for i in range(producer_parallelism)]
    out = []
    for i in pointwise_sources(consumer_index, producer_parallelism, consumer_parallelism):
        targets = pointwise_targets(i, producer_parallelism, consumer_parallelism)
        out.append((i, targets.index(consumer_index)))
    return out
