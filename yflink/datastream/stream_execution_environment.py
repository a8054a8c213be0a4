"""StreamExecutionEnvironment (PyFlink ``pyflink.datastream.stream_execution_environment``).

The environment collects the program's transformations and its Configuration, and runs the job:
``execute()`` builds the StreamGraph (:func:`~yflink.graph.stream_graph.generate_stream_graph`), hands it to
the executor named by ``execution.target`` (the embedded local cluster by default, as ``python job.py`` does
in PyFlink) and waits for the result. The registered transformations are cleared after ``execute``, as in
Flink, so a program may build and run several jobs.

The Configuration starts from the context configuration (what ``yflink run`` set: cluster address,
``-D`` options) merged with the ``configuration`` given to :meth:`get_execution_environment`; setters such as
``set_parallelism`` write Flink's keys into it.

Source of the semantics: Flink documentation, "DataStream API" (Anatomy of a Flink Program, Execution
Parameters), Flink ``StreamExecutionEnvironment`` and ``JSONGenerator`` (the execution plan).
"""

from __future__ import annotations

import json
from typing import Any, Optional

from yflink.common import config_options as opts
from yflink.common.configuration import Configuration
from yflink.common.errors import GraphError
from yflink.common.execution_config import ExecutionConfig
from yflink.common.job_client import JobClient
from yflink.common.job_execution_result import JobExecutionResult
from yflink.common.typeinfo import TypeInformation, Types
from yflink.common.watermark_strategy import WatermarkStrategy
from yflink.datastream.checkpoint_config import CheckpointConfig
from yflink.datastream.checkpointing_mode import CheckpointingMode
from yflink.datastream.data_stream import SOURCE_PREFIX, DataStream
from yflink.datastream.execution_mode import RuntimeExecutionMode
from yflink.datastream.functions import SourceFunction
from yflink.datastream.time_characteristic import TimeCharacteristic
from yflink.graph import executor as executors
from yflink.graph.stream_graph import DEFAULT_SLOT_SHARING_GROUP, StreamGraph, generate_stream_graph
from yflink.graph.transformations import (
    PartitionTransformation,
    SourceTransformation,
    Transformation,
    UnionTransformation,
)
from yflink.streaming.operators import sources as source_ops
from yflink.streaming.operators.base import SinkOperator, SourceOperator

__all__ = ["StreamExecutionEnvironment"]

_SINK_OPERATOR_CLASSES = ("SinkOperator", "SinkFunctionOperator", "PrintSinkOperator", "CollectSinkOperator")


def _physical_inputs(t: Transformation) -> list[Transformation]:
    """The physical transformations that feed ``t`` (through partitionings and unions)."""
    result: list[Transformation] = []
    for i in t.inputs:
        if isinstance(i, (PartitionTransformation, UnionTransformation)):
            result.extend(_physical_inputs(i))
        else:
            result.append(i)
    return result


def _is_sink(node: Any) -> bool:
    op = node.operator
    return not node.out_edges and (isinstance(op, SinkOperator)
                                   or any(c.__name__ in _SINK_OPERATOR_CLASSES for c in type(op).__mro__))


class StreamExecutionEnvironment:
    """The context a streaming program runs in (PyFlink ``StreamExecutionEnvironment``).

    Use :meth:`get_execution_environment` to get one.
    """

    def __init__(self, configuration: Optional[Configuration] = None) -> None:
        self._config = executors.get_context_configuration()
        if configuration is not None:
            self._config.add_all(configuration)
        self._transformations: list[Transformation] = []
        self._time_characteristic = TimeCharacteristic.EventTime

    @staticmethod
    def get_execution_environment(configuration: Optional[Configuration] = None) -> StreamExecutionEnvironment:
        """A new environment: the context configuration (``yflink run``'s) plus ``configuration``."""
        return StreamExecutionEnvironment(configuration)

    # --- configuration ------------------------------------------------------------------------------------
    def get_config(self) -> ExecutionConfig:
        """The ExecutionConfig, a view that writes through to this environment's Configuration."""
        return ExecutionConfig(self._config)

    def configure(self, configuration: Configuration) -> StreamExecutionEnvironment:
        """Apply every key of ``configuration`` to this environment."""
        self._config.add_all(configuration)
        return self

    def set_parallelism(self, parallelism: int) -> StreamExecutionEnvironment:
        """Default parallelism of operators that set none (``parallelism.default``)."""
        self.get_config().set_parallelism(parallelism)
        return self

    def get_parallelism(self) -> int:
        return self.get_config().get_parallelism()

    def set_max_parallelism(self, max_parallelism: int) -> StreamExecutionEnvironment:
        """Number of key groups, 1..32768 (``pipeline.max-parallelism``)."""
        self.get_config().set_max_parallelism(max_parallelism)
        return self

    def get_max_parallelism(self) -> int:
        """The configured max parallelism; -1 when derived from the parallelism (at least 128)."""
        return self.get_config().get_max_parallelism()

    # --- checkpointing (Flink documentation, "Checkpointing") -------------------------------------------------
    def enable_checkpointing(self, interval: int, mode: Optional[CheckpointingMode] = None
                             ) -> StreamExecutionEnvironment:
        """Checkpoint every ``interval`` ms, exactly-once unless ``mode`` says AT_LEAST_ONCE.

        Raises:
            ValueError: ``interval`` below 10 ms.
        """
        config = self.get_checkpoint_config()
        config.set_checkpoint_interval(interval)
        if mode is not None:
            config.set_checkpointing_mode(mode)
        return self

    def get_checkpoint_config(self) -> CheckpointConfig:
        """The checkpoint settings, backed by this environment's configuration."""
        return CheckpointConfig(self._config)

    def get_checkpoint_interval(self) -> int:
        """The checkpoint interval in ms, or -1 when checkpointing is disabled."""
        return self.get_checkpoint_config().get_checkpoint_interval()

    def set_state_backend(self, state_backend: Any) -> StreamExecutionEnvironment:
        """Where keyed state lives: ``HashMapStateBackend()`` or ``EmbeddedRocksDBStateBackend(incremental)``
        from :mod:`yflink.datastream.state_backend` (sets ``state.backend.type`` and its options; Flink
        "State Backends").

        Raises:
            TypeError: ``state_backend`` is not one of those.
        """
        from yflink.datastream.state_backend import StateBackend

        if not isinstance(state_backend, StateBackend):
            raise TypeError(f"set_state_backend takes a HashMapStateBackend or EmbeddedRocksDBStateBackend from "
                            f"yflink.datastream.state_backend, not {state_backend!r}")
        for key, value in state_backend.to_configuration().items():
            self._config.set(key, value)
        return self

    def get_state_backend(self) -> Any:
        """The state backend the configuration selects (HashMapStateBackend when none is set)."""
        from yflink.datastream.state_backend import from_configuration

        return from_configuration(self._config.raw())

    def get_checkpointing_mode(self) -> CheckpointingMode:
        return self.get_checkpoint_config().get_checkpointing_mode()

    def set_runtime_mode(self, execution_mode: RuntimeExecutionMode) -> StreamExecutionEnvironment:
        """``execution.runtime-mode``: STREAMING (default), BATCH or AUTOMATIC."""
        self._config.set(opts.RUNTIME_MODE, execution_mode.name)
        return self

    def set_buffer_timeout(self, timeout_millis: int) -> StreamExecutionEnvironment:
        """Longest time (ms) a partly filled output buffer waits before it is sent; 0 flushes after every
        record, -1 only when buffers are full (``execution.buffer-timeout.*``)."""
        if timeout_millis < -1:
            raise ValueError(f"Timeout of buffer must be non-negative or -1, got {timeout_millis}")
        if timeout_millis == -1:
            self._config.set(opts.BUFFER_TIMEOUT_ENABLED, False)
        else:
            self._config.set(opts.BUFFER_TIMEOUT_ENABLED, True)
            self._config.set(opts.BUFFER_TIMEOUT, int(timeout_millis))
        return self

    def get_buffer_timeout(self) -> int:
        """The buffer timeout in ms; -1 when buffers are flushed only when full."""
        if not self._config.get(opts.BUFFER_TIMEOUT_ENABLED):
            return -1
        return self._config.get(opts.BUFFER_TIMEOUT)

    def set_stream_time_characteristic(self, characteristic: TimeCharacteristic) -> StreamExecutionEnvironment:
        """Flink 1.x's time characteristic (deprecated; event time is the default): ``ProcessingTime`` turns
        periodic watermarks off (``pipeline.auto-watermark-interval: 0``), the others set them to 200 ms."""
        if not isinstance(characteristic, TimeCharacteristic):
            raise TypeError(f"expected a TimeCharacteristic, got {characteristic!r}")
        self._time_characteristic = characteristic
        interval = 0 if characteristic is TimeCharacteristic.ProcessingTime else 200
        self.get_config().set_auto_watermark_interval(interval)
        return self

    def get_stream_time_characteristic(self) -> TimeCharacteristic:
        return self._time_characteristic

    def disable_operator_chaining(self) -> StreamExecutionEnvironment:
        """Run every operator in its own task (``pipeline.operator-chaining.enabled: false``)."""
        self._config.set(opts.OPERATOR_CHAINING, False)
        return self

    def is_chaining_enabled(self) -> bool:
        return self._config.get(opts.OPERATOR_CHAINING)

    # --- sources ------------------------------------------------------------------------------------------
    def _add_transformation(self, transformation: Transformation) -> None:
        self._transformations.append(transformation)

    def _add_source(self, name: str, operator: SourceOperator, bounded: bool, parallelism: Optional[int],
                    type_info: Optional[TypeInformation]) -> DataStream:
        t = SourceTransformation(SOURCE_PREFIX + name, operator, bounded, parallelism, type_info)
        self._add_transformation(t)
        return DataStream(self, t)

    def from_collection(self, collection: list[Any], type_info: Optional[TypeInformation] = None) -> DataStream:
        """A bounded, non-parallel stream of the elements of ``collection``.

        With ``type_info``, elements take the shape PyFlink gives them: tuples/lists/dicts become Rows for
        ``Types.ROW``/``ROW_NAMED``, lists become tuples for ``Types.TUPLE``.
        """
        from yflink.datastream.connectors.collection import CollectionSource

        elements = list(collection)
        if type_info is not None:
            elements = [type_info._normalize(e) for e in elements]
        ds = self._add_source("Collection Source", SourceOperator(CollectionSource(elements), "Collection Source"),
                              True, 1, type_info)
        setattr(ds._transformation, "non_parallel", True)  # noqa: B010
        return ds

    def from_source(self, source: Any, watermark_strategy: WatermarkStrategy, source_name: str,
                    type_info: Optional[TypeInformation] = None) -> DataStream:
        """A stream read from a Source (``FileSource``, ``NumberSequenceSource``, ...); the watermark strategy
        runs inside the source operator."""
        if not callable(getattr(source, "create_reader", None)):
            raise TypeError(f"from_source needs a Source (with create_reader()), got {type(source).__name__}")
        strategy = watermark_strategy or WatermarkStrategy.no_watermarks()
        operator: SourceOperator
        if strategy.generates_watermarks or strategy.get_timestamp_assigner() is not None:
            interval = self.get_config().get_auto_watermark_interval()
            operator = source_ops.WatermarkingSourceOperator(source, strategy, interval, source_name)
        else:
            operator = SourceOperator(source, source_name)
        return self._add_source(source_name, operator, bool(source.is_bounded()), None, type_info)

    def add_source(self, source_func: SourceFunction, source_name: str = "Custom Source",
                   type_info: Optional[TypeInformation] = None) -> DataStream:
        """A stream produced by a SourceFunction's ``run(ctx)`` (parallelism 1 unless set; every parallel
        instance runs its own ``run``)."""
        if not isinstance(source_func, SourceFunction):
            raise TypeError("add_source needs a SourceFunction (implement run(ctx) and cancel())")
        operator = source_ops.SourceFunctionOperator(source_func, source_name)
        return self._add_source(source_name, operator, False, 1, type_info)

    def from_sequence(self, start: int, end: int) -> DataStream:
        """The numbers ``start .. end`` (inclusive), in parallel (Flink ``fromSequence``)."""
        from yflink.datastream.connectors.number_seq import NumberSequenceSource

        return self.from_source(NumberSequenceSource(start, end), WatermarkStrategy.no_watermarks(),
                                "Sequence Source", Types.LONG())

    # --- running ------------------------------------------------------------------------------------------
    def get_stream_graph(self, job_name: Optional[str] = None, clear_transformations: bool = False) -> StreamGraph:
        """The StreamGraph of the transformations registered so far (Flink ``getStreamGraph``).

        Raises:
            GraphError: no operators, or an invalid graph (names the operator).
        """
        if not self._transformations:
            raise GraphError("No operators defined in streaming topology. Cannot execute.")
        inherited = self._inherit_slot_sharing_groups()
        try:
            graph = generate_stream_graph(list(self._transformations), Configuration(self._config), job_name)
        finally:
            for t in inherited:
                t.slot_sharing_group = None
        batch = self._is_batch(graph)
        for n in graph.nodes.values():
            if hasattr(n.operator, "batch_mode"):
                n.operator.batch_mode = batch
        if clear_transformations:
            self._transformations.clear()
        return graph

    def _is_batch(self, graph: StreamGraph) -> bool:
        """BATCH, or AUTOMATIC with only bounded sources (Flink's rule)."""
        mode = self._config.get(opts.RUNTIME_MODE)
        return mode == "BATCH" or (mode == "AUTOMATIC" and all(n.bounded for n in graph.sources))

    def _inherit_slot_sharing_groups(self) -> list[Transformation]:
        """Give operators without a slot sharing group their inputs' group when all inputs share one (Flink's
        rule); returns the transformations changed, to be reset after the graph is built."""
        seen: dict[int, Transformation] = {}
        stack = list(self._transformations)
        while stack:
            t = stack.pop()
            if t.id not in seen:
                seen[t.id] = t
                stack.extend(t.inputs)
        changed = []
        for t in sorted(seen.values(), key=lambda t: t.id):
            if isinstance(t, (PartitionTransformation, UnionTransformation)) or t.slot_sharing_group is not None:
                continue
            groups = {i.slot_sharing_group or DEFAULT_SLOT_SHARING_GROUP for i in _physical_inputs(t)}
            if len(groups) == 1 and groups != {DEFAULT_SLOT_SHARING_GROUP}:
                t.slot_sharing_group = groups.pop()
                changed.append(t)
        return changed

    def execute(self, job_name: Optional[str] = None) -> JobExecutionResult:
        """Run the job and wait for it to end.

        Returns:
            the JobExecutionResult once the job FINISHED.

        Raises:
            JobExecutionError: the job ended FAILED or CANCELED (carries the cause and the user's traceback).
            JobSubmissionError, GraphError, ConfigurationError: the job could not be built or submitted.
        """
        client = self._submit(job_name)
        target = (self._config.get(opts.EXECUTION_TARGET) or "local").lower()
        if not self._config.get(opts.EXECUTION_ATTACHED) and target != "local":
            # Detached (``yflink run -d``): Flink returns at once with a DetachedJobExecutionResult.
            return JobExecutionResult(client.get_job_id(), 0)
        return client.get_job_execution_result()

    def execute_async(self, job_name: Optional[str] = None) -> JobClient:
        """Submit the job and return a :class:`~yflink.common.job_client.JobClient` without waiting for its
        end: ``get_job_id()``, and futures from ``get_job_status()``, ``cancel()`` and
        ``get_job_execution_result()`` (PyFlink's ``JobClient``)."""
        return JobClient(self._submit(job_name))

    def _submit(self, job_name: Optional[str] = None) -> Any:
        """Submit the job; the executor's client (:class:`yflink.graph.executor.JobClient`: direct answers)."""
        graph = self.get_stream_graph(job_name, clear_transformations=True)
        config = Configuration(self._config)
        return executors.get_executor(config).execute(graph, config)

    def get_execution_plan(self) -> str:
        """The job as Flink's JSON execution plan: ``{"nodes": [{"id", "type", "pact", "contents",
        "parallelism", "predecessors": [{"id", "ship_strategy", "side"}]}]}``; sinks come last."""
        graph = self.get_stream_graph()
        nodes = sorted(graph.nodes.values(), key=lambda n: (_is_sink(n), n.id))
        plan = []
        for n in nodes:
            pact = "Data Source" if n.is_source else "Data Sink" if _is_sink(n) else "Operator"
            entry: dict[str, Any] = {"id": n.id, "type": n.name, "pact": pact,
                                     "contents": getattr(n, "description", None) or n.name,
                                     "parallelism": n.parallelism}
            if not n.is_source:
                entry["predecessors"] = [{"id": e.source_id, "ship_strategy": e.partitioner.name(),
                                          "side": "second"} for e in n.in_edges]
            plan.append(entry)
        return json.dumps({"nodes": plan}, indent=2)

    def close(self) -> None:
        """Forget the registered transformations."""
        self._transformations.clear()

    def __repr__(self) -> str:
        return f"StreamExecutionEnvironment(parallelism={self.get_parallelism()}, " \
               f"{len(self._transformations)} transformations)"
