"""Transformations: what the DataStream API records, before any graph is built.

Source of the semantics: Flink ``org.apache.flink.api.dag.Transformation`` and its subclasses. Physical
transformations (source, one-input, two-input) become StreamGraph nodes; virtual ones (partition, union)
become edge properties.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, Optional

from yflink.graph.partitioners import StreamPartitioner
from yflink.streaming.operators.base import ChainingStrategy, SourceOperator, StreamOperator

_ids = itertools.count(1)


class Transformation:
    """One step of the program.

    Attributes:
        id: unique within the process, increasing in creation order.
        name: shown in the JobGraph and the REST API.
        parallelism: None means the environment's default at graph-building time.
        max_parallelism: None means the job's ``pipeline.max-parallelism`` (or the derived default).
        uid: the user's stable id of the operator (for state mapping later).
        slot_sharing_group: None means "default".
        chaining_strategy: overrides the operator's own (``start_new_chain`` -> HEAD, ``disable_chaining`` -> NEVER).
        output_type: the TypeInformation given by ``output_type=``/``type_info=``, or None.
        inputs: the transformations this one reads.
    """

    def __init__(self, name: str, inputs: list[Transformation], parallelism: Optional[int] = None,
                 output_type: Any = None) -> None:
        self.id = next(_ids)
        self.name = name
        self.inputs = inputs
        self.parallelism = parallelism
        self.max_parallelism: Optional[int] = None
        self.uid: Optional[str] = None
        self.slot_sharing_group: Optional[str] = None
        self.chaining_strategy: Optional[ChainingStrategy] = None
        self.output_type = output_type

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id}, name={self.name!r})"


class SourceTransformation(Transformation):
    """Reads from a source; ``bounded`` tells whether the input ends."""

    def __init__(self, name: str, operator: SourceOperator, bounded: bool, parallelism: Optional[int] = None,
                 output_type: Any = None) -> None:
        super().__init__(name, [], parallelism, output_type)
        self.operator = operator
        self.bounded = bounded


class OneInputTransformation(Transformation):
    """Applies ``operator`` to one input. ``key_selector`` is set when the input is keyed (keyed state)."""

    def __init__(self, name: str, input: Transformation, operator: StreamOperator,
                 parallelism: Optional[int] = None, output_type: Any = None,
                 key_selector: Optional[Callable[[Any], Any]] = None) -> None:
        super().__init__(name, [input], parallelism, output_type)
        self.operator = operator
        self.key_selector = key_selector


class TwoInputTransformation(Transformation):
    """Applies a two-input ``operator`` (``process_batch1``/``process_batch2``) to two inputs."""

    def __init__(self, name: str, input1: Transformation, input2: Transformation, operator: StreamOperator,
                 parallelism: Optional[int] = None, output_type: Any = None,
                 key_selector1: Optional[Callable[[Any], Any]] = None,
                 key_selector2: Optional[Callable[[Any], Any]] = None) -> None:
        super().__init__(name, [input1, input2], parallelism, output_type)
        self.operator = operator
        self.key_selector1 = key_selector1
        self.key_selector2 = key_selector2


class PartitionTransformation(Transformation):
    """Virtual: changes how records of ``input`` are distributed to the next operator."""

    def __init__(self, input: Transformation, partitioner: StreamPartitioner) -> None:
        super().__init__(f"Partition({partitioner.name()})", [input], input.parallelism, input.output_type)
        self.partitioner = partitioner


class SideOutputTransformation(Transformation):
    """Virtual: the values ``input``'s operator emitted to the side output ``tag_id``."""

    def __init__(self, input: Transformation, tag_id: str, output_type: Any = None) -> None:
        super().__init__(f"SideOutput({tag_id})", [input], input.parallelism, output_type)
        self.tag_id = tag_id


class UnionTransformation(Transformation):
    """Virtual: merges several inputs of the same type."""

    def __init__(self, inputs: list[Transformation]) -> None:
        super().__init__("Union", inputs, None, inputs[0].output_type if inputs else None)
