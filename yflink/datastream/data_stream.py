"""DataStream, KeyedStream and DataStreamSink (PyFlink ``pyflink.datastream.data_stream``).

A DataStream is a handle on a :class:`~yflink.graph.transformations.Transformation`; every operation adds
a transformation to the environment and returns a handle on it. Nothing runs until ``env.execute()``.
Operators run on batches of records; with no ``output_type`` a stream's records are any Python objects
(PyFlink's ``Types.PICKLED_BYTE_ARRAY()``), and ``print()`` shows them with ``str()``.

Source of the semantics: Flink documentation, "DataStream API" (Operators, Physical Partitioning, Task
chaining and resource groups), and PyFlink ``pyflink/datastream/data_stream.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Optional, Union, overload

from yflink.common.errors import GraphError
from yflink.common.typeinfo import TupleTypeInfo, TypeInformation, Types
from yflink.common.watermark_strategy import WatermarkStrategy
from yflink.datastream.functions import (
    FilterFunction,
    FlatMapFunction,
    KeyedProcessFunction,
    KeySelector,
    MapFunction,
    Partitioner,
    ProcessFunction,
    ReduceFunction,
    SinkFunction,
)
from yflink.datastream.output_tag import OutputTag
from yflink.datastream.slot_sharing_group import SlotSharingGroup
from yflink.graph import partitioners as parts
from yflink.graph.transformations import (
    OneInputTransformation,
    PartitionTransformation,
    SideOutputTransformation,
    SourceTransformation,
    Transformation,
    UnionTransformation,
)
from yflink.streaming.operators import collect as collect_ops
from yflink.streaming.operators import process as process_ops
from yflink.streaming.operators import reduce as reduce_ops
from yflink.streaming.operators import simple as simple_ops
from yflink.streaming.operators.base import ChainingStrategy, SinkOperator, StreamOperator

if TYPE_CHECKING:
    from yflink.datastream.connected_streams import BroadcastConnectedStream, BroadcastStream, ConnectedStreams
    from yflink.datastream.join import CoGroupedStreams, IntervalJoin, JoinedStreams
    from yflink.datastream.state import MapStateDescriptor
    from yflink.datastream.stream_execution_environment import StreamExecutionEnvironment
    from yflink.datastream.window import WindowAssigner
    from yflink.datastream.windowed_stream import AllWindowedStream, WindowedStream

__all__ = ["CloseableIterator", "DataStream", "DataStreamSink", "KeyedStream"]

SOURCE_PREFIX = "Source: "
SINK_PREFIX = "Sink: "
_TERMINAL = ("FINISHED", "FAILED", "CANCELED", "SUSPENDED")


def _check_function(func: Any, kind: type, what: str) -> None:
    if not isinstance(func, kind) and not callable(func):
        raise TypeError(f"The input must be a {what} or a callable function")


def _physical(t: Transformation, action: str) -> Transformation:
    if isinstance(t, (PartitionTransformation, UnionTransformation)):
        raise GraphError(f"{action} applies to an operator, but this stream is the result of a partitioning or "
                         "union; call it on the operator before shuffle()/rebalance()/key_by()/union()")
    return t


class DataStream:
    """A stream of elements; transform it into other streams (PyFlink ``DataStream``)."""

    def __init__(self, env: StreamExecutionEnvironment, transformation: Transformation) -> None:
        self._env = env
        self._transformation = transformation

    # --- operator properties ----------------------------------------------------------------------------
    def get_name(self) -> str:
        name = self._transformation.name
        if isinstance(self._transformation, SourceTransformation) and name.startswith(SOURCE_PREFIX):
            return name[len(SOURCE_PREFIX):]
        return name

    def name(self, name: str) -> DataStream:
        """Set the operator's name (shown in the job graph, the REST API and error messages)."""
        t = _physical(self._transformation, "name()")
        t.name = SOURCE_PREFIX + name if isinstance(t, SourceTransformation) else name
        op: Optional[StreamOperator] = getattr(t, "operator", None)
        if op is not None:
            op.name = name
        return self

    def uid(self, uid: str) -> DataStream:
        """Set the operator's stable id (maps state across job versions); unique per job."""
        _physical(self._transformation, "uid()").uid = uid
        return self

    def set_uid_hash(self, uid_hash: str) -> DataStream:
        """Store a user-provided operator hash (kept as ``uid_hash`` on the transformation)."""
        setattr(_physical(self._transformation, "set_uid_hash()"), "uid_hash", uid_hash)  # noqa: B010
        return self

    def set_parallelism(self, parallelism: int) -> DataStream:
        """The number of parallel instances of this operator (at least 1)."""
        t = _physical(self._transformation, "set_parallelism()")
        if parallelism < 1:
            raise GraphError(f"The parallelism of an operator must be at least 1, got {parallelism}")
        if getattr(t, "non_parallel", False) and parallelism != 1:
            raise GraphError(f"The parallelism of non parallel operator '{t.name}' must be 1.")
        t.parallelism = parallelism
        return self

    def set_max_parallelism(self, max_parallelism: int) -> DataStream:
        """The operator's number of key groups (upper bound for rescaling its keyed state), 1..32768."""
        if not 0 < max_parallelism <= 1 << 15:
            raise GraphError(f"The maximum parallelism must be in 1..32768, got {max_parallelism}")
        _physical(self._transformation, "set_max_parallelism()").max_parallelism = max_parallelism
        return self

    def force_non_parallel(self) -> DataStream:
        """Parallelism and max parallelism 1, and no other parallelism allowed later."""
        t = _physical(self._transformation, "force_non_parallel()")
        t.parallelism = 1
        t.max_parallelism = 1
        setattr(t, "non_parallel", True)  # noqa: B010
        return self

    def set_buffer_timeout(self, timeout_millis: int) -> DataStream:
        """Longest time (ms) this operator's output buffers wait before they are sent; -1: the job's default,
        0: flush after every record (kept as ``buffer_timeout`` on the transformation)."""
        setattr(_physical(self._transformation, "set_buffer_timeout()"), "buffer_timeout", timeout_millis)  # noqa: B010
        return self

    def start_new_chain(self) -> DataStream:
        """Begin a new operator chain at this operator (it may still chain to its successors)."""
        _physical(self._transformation, "start_new_chain()").chaining_strategy = ChainingStrategy.HEAD
        return self

    def disable_chaining(self) -> DataStream:
        """Chain this operator to neither its predecessor nor its successors."""
        _physical(self._transformation, "disable_chaining()").chaining_strategy = ChainingStrategy.NEVER
        return self

    def slot_sharing_group(self, slot_sharing_group: Union[str, SlotSharingGroup]) -> DataStream:
        """Put the operator in a slot sharing group (by default it inherits its inputs' group, or "default")."""
        name = slot_sharing_group.get_name() if isinstance(slot_sharing_group, SlotSharingGroup) \
            else slot_sharing_group
        _physical(self._transformation, "slot_sharing_group()").slot_sharing_group = name
        return self

    def set_description(self, description: str) -> DataStream:
        setattr(_physical(self._transformation, "set_description()"), "description", description)  # noqa: B010
        return self

    def get_type(self) -> TypeInformation:
        """The stream's TypeInformation (``Types.PICKLED_BYTE_ARRAY()`` when none was given)."""
        output_type: Optional[TypeInformation] = self._transformation.output_type
        return output_type if output_type is not None else Types.PICKLED_BYTE_ARRAY()

    def get_execution_environment(self) -> StreamExecutionEnvironment:
        return self._env

    def get_execution_config(self) -> Any:
        return self._env.get_config()

    # --- transformations --------------------------------------------------------------------------------
    def _one_input(self, name: str, operator: StreamOperator, output_type: Optional[TypeInformation],
                   key_selector: Optional[Callable[[Any], Any]] = None) -> DataStream:
        t = OneInputTransformation(name, self._transformation, operator, output_type=output_type,
                                   key_selector=key_selector)
        self._env._add_transformation(t)
        return DataStream(self._env, t)

    def _key_selector(self) -> Optional[Callable[[Any], Any]]:
        return None

    def _same_type(self) -> Optional[TypeInformation]:
        output_type: Optional[TypeInformation] = self._transformation.output_type
        return output_type

    def map(self, func: Union[Callable[[Any], Any], MapFunction], output_type: Optional[TypeInformation] = None) \
            -> DataStream:
        """One output per element: ``func(value)`` or ``MapFunction.map(value)``."""
        _check_function(func, MapFunction, "MapFunction")
        key = self._key_selector()
        return self._one_input("Map", simple_ops.StreamMap(func, "Map", key), output_type, key)

    def project(self, *field_indexes: int) -> DataStream:
        """Tuples of the given fields of each element, in the given order (Flink ``project``; the stream must
        be of ``Types.TUPLE``)."""
        tuple_type = self.get_type()
        if not isinstance(tuple_type, TupleTypeInfo):
            raise TypeError("project() only supports Tuple DataStream")
        types = tuple_type.get_field_types()
        indexes = tuple(int(i) for i in field_indexes)
        if not indexes or not all(0 <= i < len(types) for i in indexes):
            raise IndexError(f"project() needs field indexes in 0 ... {len(types) - 1}, got {field_indexes}")
        return self.map(_Projection(indexes), output_type=Types.TUPLE([types[i] for i in indexes])).name("Projection")

    def flat_map(self, func: Union[Callable[[Any], Any], FlatMapFunction],
                 output_type: Optional[TypeInformation] = None) -> DataStream:
        """Zero or more outputs per element: ``func(value)`` yields (or returns an iterable of) them."""
        _check_function(func, FlatMapFunction, "FlatMapFunction")
        key = self._key_selector()
        return self._one_input("FlatMap", simple_ops.StreamFlatMap(func, "FlatMap", key), output_type, key)

    def filter(self, func: Union[Callable[[Any], Any], FilterFunction]) -> DataStream:
        """Keep the elements for which ``func(value)`` is true."""
        _check_function(func, FilterFunction, "FilterFunction")
        key = self._key_selector()
        return self._one_input("Filter", simple_ops.StreamFilter(func, "Filter", key), self._same_type(), key)

    def process(self, func: Union[ProcessFunction, Callable[[Any, Any], Any]],
                output_type: Optional[TypeInformation] = None) -> DataStream:
        """``func.process_element(value, ctx)`` per element, yielding the outputs."""
        _check_function(func, ProcessFunction, "ProcessFunction")
        return self._one_input("Process", process_ops.ProcessOperator(func, "Process"), output_type)

    def key_by(self, key_selector: Union[Callable[[Any], Any], KeySelector],
               key_type: Optional[TypeInformation] = None) -> KeyedStream:
        """Partition by key: equal keys go to the same subtask, and operators after it have keyed state."""
        if not isinstance(key_selector, KeySelector) and not callable(key_selector):
            raise TypeError("Parameter key_selector should be type of KeySelector or a callable function.")
        key_fn = key_selector.get_key if isinstance(key_selector, KeySelector) else key_selector
        # max_parallelism is replaced by the consumer's when the StreamGraph is built.
        partition = PartitionTransformation(self._transformation, parts.KeyGroupStreamPartitioner(key_fn, 128))
        return KeyedStream(self._env, partition, key_selector, key_type, self)

    def get_side_output(self, output_tag: OutputTag) -> DataStream:
        """The values this stream's operator emitted with ``ctx.output(output_tag, value)``
        (Flink documentation, "Side Outputs")."""
        if not isinstance(output_tag, OutputTag):
            raise TypeError(f"get_side_output expects an OutputTag, got {type(output_tag).__name__}")
        return DataStream(self._env, SideOutputTransformation(self._transformation, output_tag.tag_id,
                                                              output_tag.type_info))

    def window_all(self, window_assigner: WindowAssigner[Any, Any]) -> AllWindowedStream:
        """Windows over the whole stream, evaluated on one subtask (Flink documentation, "Windows")."""
        from yflink.datastream.windowed_stream import AllWindowedStream

        return AllWindowedStream(self, window_assigner)

    def count_window_all(self, size: int, slide: int = 0) -> AllWindowedStream:
        """Tumbling (``slide`` 0) or sliding windows of ``size`` elements over the whole stream."""
        from yflink.datastream.window import CountSlidingWindowAssigner, CountTumblingWindowAssigner

        assigner = CountTumblingWindowAssigner(size) if slide == 0 else CountSlidingWindowAssigner(size, slide)
        return self.window_all(assigner)

    def union(self, *streams: DataStream) -> DataStream:
        """Merge this stream with ``streams`` (of the same type) into one."""
        return DataStream(self._env, UnionTransformation(
            [self._transformation] + [s._transformation for s in streams]))

    @overload
    def connect(self, ds: DataStream) -> ConnectedStreams: ...

    @overload
    def connect(self, ds: BroadcastStream) -> BroadcastConnectedStream: ...

    def connect(self, ds: Union[DataStream, BroadcastStream]) -> Union[ConnectedStreams, BroadcastConnectedStream]:
        """Connect with another stream (possibly of another type) for one operator that sees both
        (``map``/``flat_map``/``process`` with Co-functions), or with a BroadcastStream for the broadcast state
        pattern (Flink documentation, "Operators" > Connect, "The Broadcast State Pattern")."""
        from yflink.datastream.connected_streams import BroadcastConnectedStream, BroadcastStream, ConnectedStreams

        if isinstance(ds, BroadcastStream):
            return BroadcastConnectedStream(self, ds, ds.broadcast_state_descriptors)
        if not isinstance(ds, DataStream):
            raise TypeError(f"connect() needs a DataStream or a BroadcastStream, got {type(ds).__name__}")
        return ConnectedStreams(self, ds)

    def join(self, other_stream: DataStream) -> JoinedStreams:
        """Window join: ``join(other).where(k1).equal_to(k2).window(assigner).apply(join_function)``
        (Flink documentation, "Joining" > Window Join)."""
        from yflink.datastream.join import JoinedStreams

        return JoinedStreams(self, other_stream)

    def co_group(self, other_stream: DataStream) -> CoGroupedStreams:
        """Window co-group: ``co_group(other).where(k1).equal_to(k2).window(assigner).apply(co_group_function)``
        (Flink documentation, "Operators" > Window CoGroup)."""
        from yflink.datastream.join import CoGroupedStreams

        return CoGroupedStreams(self, other_stream)

    def _partition(self, partitioner: parts.StreamPartitioner) -> DataStream:
        return DataStream(self._env, PartitionTransformation(self._transformation, partitioner))

    def shuffle(self) -> DataStream:
        """Send each element to a uniformly random subtask of the next operator."""
        return self._partition(parts.ShufflePartitioner())

    def rebalance(self) -> DataStream:
        """Send elements round-robin over all subtasks of the next operator."""
        return self._partition(parts.RebalancePartitioner())

    def rescale(self) -> DataStream:
        """Send elements round-robin over a subset of the next operator's subtasks (local wiring)."""
        return self._partition(parts.RescalePartitioner())

    def forward(self) -> DataStream:
        """Send elements to the subtask of the same index (equal parallelism required)."""
        return self._partition(parts.ForwardPartitioner())

    def partition_custom(self, partitioner: Union[Callable[[Any, int], int], Partitioner],
                         key_selector: Union[Callable[[Any], Any], KeySelector]) -> DataStream:
        """Send each element to subtask ``partitioner.partition(key_selector(element), number of subtasks)``
        of the next operator (Flink documentation, "Operators" > Custom Partitioning)."""
        if not isinstance(partitioner, Partitioner) and not callable(partitioner):
            raise TypeError("Parameter partitioner should be type of Partitioner.")
        if not isinstance(key_selector, KeySelector) and not callable(key_selector):
            raise TypeError("Parameter key_selector should be type of KeySelector.")
        partition = partitioner.partition if isinstance(partitioner, Partitioner) else partitioner
        key_fn = key_selector.get_key if isinstance(key_selector, KeySelector) else key_selector
        return self._partition(parts.CustomPartitionerWrapper(partition, key_fn))

    @overload
    def broadcast(self) -> DataStream: ...

    @overload
    def broadcast(self, broadcast_state_descriptor: MapStateDescriptor,
                  *other_broadcast_state_descriptors: MapStateDescriptor) -> BroadcastStream: ...

    def broadcast(self, broadcast_state_descriptor: Optional[MapStateDescriptor] = None,
                  *other_broadcast_state_descriptors: MapStateDescriptor) -> Union[DataStream, BroadcastStream]:
        """Send every element to every subtask of the next operator; with MapStateDescriptors, a BroadcastStream
        whose elements the connected operator keeps in broadcast state under those names."""
        if broadcast_state_descriptor is not None:
            from yflink.datastream.connected_streams import BroadcastStream

            return BroadcastStream(self, broadcast_state_descriptor, *other_broadcast_state_descriptors)
        return self._partition(parts.BroadcastPartitioner())

    def global_(self) -> DataStream:
        """Send every element to the first subtask of the next operator (Flink's ``global()``)."""
        return self._partition(parts.GlobalPartitioner())

    def assign_timestamps_and_watermarks(self, watermark_strategy: WatermarkStrategy) -> DataStream:
        """Set element timestamps with the strategy's TimestampAssigner and emit its watermarks."""
        interval = self._env.get_config().get_auto_watermark_interval()
        operator = simple_ops.TimestampsAndWatermarksOperator(watermark_strategy, interval)
        return self._one_input("Timestamps/Watermarks", operator, self._same_type())

    # --- sinks --------------------------------------------------------------------------------------------
    def _sink(self, name: str, operator: StreamOperator) -> DataStreamSink:
        t = OneInputTransformation(SINK_PREFIX + name, self._transformation, operator, output_type=self._same_type())
        self._env._add_transformation(t)
        return DataStreamSink(t)

    def print(self, sink_identifier: Optional[str] = None) -> DataStreamSink:
        """Write each element to standard output, as Flink's print sink shows it: ``[id:][n> ]value``."""
        operator = simple_ops.PrintSinkOperator(sink_identifier, self._same_type())
        return self._sink("Print to Std. Out", operator)

    def add_sink(self, sink_func: SinkFunction) -> DataStreamSink:
        """Write elements with a SinkFunction (``invoke(value, context)`` per element)."""
        if not isinstance(sink_func, SinkFunction):
            raise TypeError("add_sink needs a SinkFunction (implement invoke(value, context))")
        return self._sink("Unnamed", simple_ops.SinkFunctionOperator(sink_func))

    def sink_to(self, sink: Any) -> DataStreamSink:
        """Write elements with a Sink (``FileSink``, ...): one writer per subtask."""
        if not callable(getattr(sink, "create_writer", None)):
            raise TypeError(f"sink_to needs a Sink (with create_writer()), got {type(sink).__name__}")
        name = type(sink).__name__
        return self._sink(name, SinkOperator(sink, name))

    @overload
    def execute_and_collect(self, job_execution_name: Optional[str] = None, limit: None = None) \
            -> CloseableIterator: ...

    @overload
    def execute_and_collect(self, job_execution_name: Optional[str] = None, *, limit: int) -> list[Any]: ...

    @overload
    def execute_and_collect(self, job_execution_name: Optional[str], limit: int) -> list[Any]: ...

    def execute_and_collect(self, job_execution_name: Optional[str] = None, limit: Optional[int] = None) \
            -> Union[CloseableIterator, list[Any]]:
        """Run the job and bring this stream's elements back to the program.

        Returns:
            an iterator over the elements (close it, or use it as a context manager, to cancel the job
            early), or the first ``limit`` elements as a list when ``limit`` is given.
        """
        operator_id = uuid.uuid4().hex
        sink = self._sink("Data stream collect sink", collect_ops.CollectSinkOperator(operator_id))
        sink.set_parallelism(1)
        job_client = self._env._submit(job_execution_name or "DataStream Collect")
        iterator = CloseableIterator(job_client, operator_id)
        if limit is None:
            return iterator
        with iterator:
            return [element for _, element in zip(range(limit), iterator, strict=False)]


class _Projection(MapFunction):
    """``project``'s map: the fields at ``indexes`` as a tuple."""

    def __init__(self, indexes: tuple[int, ...]) -> None:
        self.indexes = indexes

    def map(self, value: Any) -> tuple[Any, ...]:
        return tuple(value[i] for i in self.indexes)


class DataStreamSink:
    """The end of a stream (PyFlink ``DataStreamSink``): set the sink operator's properties."""

    def __init__(self, transformation: Transformation) -> None:
        self._transformation = transformation

    def name(self, name: str) -> DataStreamSink:
        self._transformation.name = SINK_PREFIX + name
        return self

    def uid(self, uid: str) -> DataStreamSink:
        self._transformation.uid = uid
        return self

    def set_uid_hash(self, uid_hash: str) -> DataStreamSink:
        setattr(self._transformation, "uid_hash", uid_hash)  # noqa: B010
        return self

    def set_parallelism(self, parallelism: int) -> DataStreamSink:
        if parallelism < 1:
            raise GraphError(f"The parallelism of an operator must be at least 1, got {parallelism}")
        self._transformation.parallelism = parallelism
        return self

    def set_description(self, description: str) -> DataStreamSink:
        setattr(self._transformation, "description", description)  # noqa: B010
        return self

    def disable_chaining(self) -> DataStreamSink:
        self._transformation.chaining_strategy = ChainingStrategy.NEVER
        return self

    def slot_sharing_group(self, slot_sharing_group: Union[str, SlotSharingGroup]) -> DataStreamSink:
        self._transformation.slot_sharing_group = slot_sharing_group.get_name() \
            if isinstance(slot_sharing_group, SlotSharingGroup) else slot_sharing_group
        return self


class KeyedStream(DataStream):
    """A stream partitioned by key (PyFlink ``KeyedStream``): operators on it have keyed state.

    ``map``/``flat_map``/``filter``/``process`` after ``key_by`` run with the current key set, so their
    functions may use ``runtime_context.get_state``. Partitioning and operator settings (``name``,
    ``set_parallelism``, ...) do not apply to the KeyedStream itself, as in PyFlink.
    """

    def __init__(self, env: StreamExecutionEnvironment, transformation: Transformation,
                 key_selector: Union[Callable[[Any], Any], KeySelector], key_type: Optional[TypeInformation],
                 origin_stream: DataStream) -> None:
        super().__init__(env, transformation)
        self._key_selector_obj = key_selector
        self._key_type = key_type
        self._origin_stream = origin_stream

    def _key_selector(self) -> Optional[Callable[[Any], Any]]:
        obj = self._key_selector_obj
        return obj.get_key if isinstance(obj, KeySelector) else obj

    def get_key_type(self) -> TypeInformation:
        return self._key_type if self._key_type is not None else Types.PICKLED_BYTE_ARRAY()

    def key_by(self, key_selector: Union[Callable[[Any], Any], KeySelector],
               key_type: Optional[TypeInformation] = None) -> KeyedStream:
        return self._origin_stream.key_by(key_selector, key_type)

    def process(self, func: Union[KeyedProcessFunction, Callable[[Any, Any], Any]],  # type: ignore[override]
                output_type: Optional[TypeInformation] = None) -> DataStream:
        """``func.process_element(value, ctx)`` per element with keyed state and timers (``func.on_timer``)."""
        if not isinstance(func, KeyedProcessFunction):
            if isinstance(func, ProcessFunction) or not callable(func):
                raise TypeError("KeyedProcessFunction is required for KeyedStream.")
        operator = process_ops.KeyedProcessOperator(func, self._key_selector_obj, "KeyedProcess")
        return self._one_input("KeyedProcess", operator, output_type, self._key_selector())

    def window(self, window_assigner: WindowAssigner[Any, Any]) -> WindowedStream:
        """Windows per key: elements grouped by key and by the windows ``window_assigner`` gives them
        (Flink documentation, "Windows")."""
        from yflink.datastream.windowed_stream import WindowedStream

        return WindowedStream(self, window_assigner)

    def count_window(self, size: int, slide: int = 0) -> WindowedStream:
        """Tumbling (``slide`` 0) or sliding windows of ``size`` elements per key (PyFlink's count windows)."""
        from yflink.datastream.window import CountSlidingWindowAssigner, CountTumblingWindowAssigner

        assigner = CountTumblingWindowAssigner(size) if slide == 0 else CountSlidingWindowAssigner(size, slide)
        return self.window(assigner)

    def interval_join(self, other_stream: KeyedStream) -> IntervalJoin:
        """Interval join with another KeyedStream: ``interval_join(other).between(lower, upper).process(f)``
        (Flink documentation, "Joining" > Interval Join)."""
        from yflink.datastream.join import IntervalJoin

        if not isinstance(other_stream, KeyedStream):
            raise TypeError("interval_join() needs a KeyedStream (call key_by on the other stream)")
        return IntervalJoin(self, other_stream)

    def reduce(self, func: Union[Callable[[Any, Any], Any], ReduceFunction]) -> DataStream:
        """Per key, combine each element with the aggregate so far and emit the new aggregate."""
        _check_function(func, ReduceFunction, "ReduceFunction")
        operator = reduce_ops.StreamGroupedReduce(func, self._key_selector_obj, "Reduce")
        return self._one_input("Reduce", operator, self._same_type(), self._key_selector())

    def _aggregate(self, kind: reduce_ops.AggregationType, position: Union[int, str]) -> DataStream:
        return self.reduce(reduce_ops.AggregationFunction(kind, position))

    def sum(self, position_to_sum: Union[int, str] = 0) -> DataStream:
        """Rolling sum of the field at ``position_to_sum`` (index, or name of a named Row) per key."""
        return self._aggregate(reduce_ops.AggregationType.SUM, position_to_sum)

    def min(self, position_to_min: Union[int, str] = 0) -> DataStream:
        """Rolling minimum of a field per key; the other fields are the key's first element's."""
        return self._aggregate(reduce_ops.AggregationType.MIN, position_to_min)

    def max(self, position_to_max: Union[int, str] = 0) -> DataStream:
        """Rolling maximum of a field per key; the other fields are the key's first element's."""
        return self._aggregate(reduce_ops.AggregationType.MAX, position_to_max)

    def min_by(self, position_to_min_by: Union[int, str] = 0) -> DataStream:
        """The element with the smallest field per key (the earlier one on ties)."""
        return self._aggregate(reduce_ops.AggregationType.MIN_BY, position_to_min_by)

    def max_by(self, position_to_max_by: Union[int, str] = 0) -> DataStream:
        """The element with the largest field per key (the earlier one on ties)."""
        return self._aggregate(reduce_ops.AggregationType.MAX_BY, position_to_max_by)

    # --- what does not apply to a KeyedStream (PyFlink raises the same) -----------------------------------
    def _not_on_keyed(self, what: str) -> GraphError:
        return GraphError(f"{what} for KeyedStream is not supported.")

    def shuffle(self) -> DataStream:
        raise GraphError("Cannot override partitioning for KeyedStream.")

    def rebalance(self) -> DataStream:
        raise GraphError("Cannot override partitioning for KeyedStream.")

    def rescale(self) -> DataStream:
        raise GraphError("Cannot override partitioning for KeyedStream.")

    def forward(self) -> DataStream:
        raise GraphError("Cannot override partitioning for KeyedStream.")

    def broadcast(self, *broadcast_state_descriptors: Any) -> Any:  # type: ignore[override]
        raise GraphError("Cannot override partitioning for KeyedStream.")

    def global_(self) -> DataStream:
        raise GraphError("Cannot override partitioning for KeyedStream.")

    def partition_custom(self, partitioner: Any, key_selector: Any) -> DataStream:
        raise GraphError("Cannot override partitioning for KeyedStream.")

    def set_parallelism(self, parallelism: int) -> DataStream:
        raise self._not_on_keyed("Set parallelism")

    def set_max_parallelism(self, max_parallelism: int) -> DataStream:
        raise self._not_on_keyed("Set max parallelism")

    def name(self, name: str) -> DataStream:
        raise self._not_on_keyed("Set name")

    def get_name(self) -> str:
        raise self._not_on_keyed("Get name of")

    def uid(self, uid: str) -> DataStream:
        raise self._not_on_keyed("Set uid")

    def set_uid_hash(self, uid_hash: str) -> DataStream:
        raise self._not_on_keyed("Set uid hash")

    def force_non_parallel(self) -> DataStream:
        raise self._not_on_keyed("Set force non-parallel")

    def set_buffer_timeout(self, timeout_millis: int) -> DataStream:
        raise self._not_on_keyed("Set buffer timeout")

    def start_new_chain(self) -> DataStream:
        raise self._not_on_keyed("Start new chain")

    def disable_chaining(self) -> DataStream:
        raise self._not_on_keyed("Disable chaining")

    def slot_sharing_group(self, slot_sharing_group: Union[str, SlotSharingGroup]) -> DataStream:
        raise self._not_on_keyed("Setting slot sharing group")


class CloseableIterator:
    """The elements of ``execute_and_collect`` (PyFlink ``CloseableIterator``).

    Iterating blocks until elements arrive; the iterator ends when the job finishes and raises
    :class:`~yflink.common.errors.JobExecutionError` when it failed. ``close()`` (or leaving a ``with`` block)
    cancels the job if it still runs.
    """

    def __init__(self, job_client: Any, operator_id: str) -> None:
        self._job_client = job_client
        self._iterator: Iterator[Any] = iter(job_client.collect(operator_id))
        self._exhausted = False
        self._closed = False

    def __iter__(self) -> CloseableIterator:
        return self

    def __next__(self) -> Any:
        if self._closed:
            raise StopIteration
        try:
            return next(self._iterator)
        except StopIteration:
            if not self._exhausted:
                self._exhausted = True
                self._job_client.get_job_execution_result()  # raises when the job failed
            raise

    def next(self) -> Any:
        return self.__next__()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if not self._exhausted and str(self._job_client.get_job_status()) not in _TERMINAL:
            self._job_client.cancel()

    def __enter__(self) -> CloseableIterator:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
