"""The DataStream API (PyFlink ``pyflink.datastream``).

::

    from yflink.common import Types
    from yflink.datastream import StreamExecutionEnvironment

    env = StreamExecutionEnvironment.get_execution_environment()
    env.from_collection(["a b", "b"]) \\
        .flat_map(lambda line: line.split()) \\
        .map(lambda w: (w, 1), output_type=Types.TUPLE([Types.STRING(), Types.INT()])) \\
        .key_by(lambda t: t[0]) \\
        .sum(1) \\
        .print()
    env.execute("wordcount")

The function interfaces and state descriptors are imported eagerly; the environment and the stream classes
on first use, because the operators (which the runtime loads alone, in slot workers) import the function
interfaces from this package and must not pull the whole API in with them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from yflink.datastream.checkpoint_config import CheckpointConfig, ExternalizedCheckpointRetention
from yflink.datastream.checkpointing_mode import CheckpointingMode
from yflink.datastream.execution_mode import RuntimeExecutionMode
from yflink.datastream.functions import (
    AggregateFunction,
    FilterFunction,
    FlatMapFunction,
    Function,
    KeyedProcessFunction,
    KeySelector,
    MapFunction,
    Partitioner,
    ProcessFunction,
    ReduceFunction,
    RuntimeContext,
    SinkFunction,
    SourceFunction,
)
from yflink.datastream.output_tag import OutputTag
from yflink.datastream.slot_sharing_group import SlotSharingGroup
from yflink.datastream.state import (
    AggregatingState,
    AggregatingStateDescriptor,
    ListState,
    ListStateDescriptor,
    MapState,
    MapStateDescriptor,
    ReducingState,
    ReducingStateDescriptor,
    StateDescriptor,
    ValueState,
    ValueStateDescriptor,
)
from yflink.datastream.time_domain import TimeDomain
from yflink.datastream.timerservice import TimerService

if TYPE_CHECKING:
    from yflink.datastream.data_stream import CloseableIterator, DataStream, DataStreamSink, KeyedStream
    from yflink.datastream.stream_execution_environment import StreamExecutionEnvironment

__all__ = [
    "AggregateFunction",
    "AggregatingState",
    "AggregatingStateDescriptor",
    "CheckpointConfig",
    "CheckpointingMode",
    "CloseableIterator",
    "DataStream",
    "DataStreamSink",
    "ExternalizedCheckpointRetention",
    "FilterFunction",
    "FlatMapFunction",
    "Function",
    "KeySelector",
    "KeyedProcessFunction",
    "KeyedStream",
    "ListState",
    "ListStateDescriptor",
    "MapFunction",
    "MapState",
    "MapStateDescriptor",
    "OutputTag",
    "Partitioner",
    "ProcessFunction",
    "ReduceFunction",
    "ReducingState",
    "ReducingStateDescriptor",
    "RuntimeContext",
    "RuntimeExecutionMode",
    "SinkFunction",
    "SlotSharingGroup",
    "SourceFunction",
    "StateDescriptor",
    "StreamExecutionEnvironment",
    "TimeCharacteristic",
    "TimeDomain",
    "TimerService",
    "ValueState",
    "ValueStateDescriptor",
]

_LAZY = {
    "CloseableIterator": "yflink.datastream.data_stream",
    "DataStream": "yflink.datastream.data_stream",
    "DataStreamSink": "yflink.datastream.data_stream",
    "KeyedStream": "yflink.datastream.data_stream",
    "StreamExecutionEnvironment": "yflink.datastream.stream_execution_environment",
    "TimeCharacteristic": "yflink.datastream.time_characteristic",
}


#: Windowing (PyFlink exports it from ``pyflink.datastream`` too), loaded on first use.
_WINDOW_FUNCTIONS = ("AllWindowFunction", "ProcessAllWindowFunction", "ProcessWindowFunction", "WindowFunction")
_WINDOWING = ("CountSlidingWindowAssigner", "CountTumblingWindowAssigner", "CountWindow", "EventTimeSessionWindows",
              "GlobalWindow", "GlobalWindows", "MergingWindowAssigner", "ProcessingTimeSessionWindows",
              "SessionWindowTimeGapExtractor", "SlidingEventTimeWindows", "SlidingProcessingTimeWindows",
              "TimeWindow", "Trigger", "TriggerResult", "TumblingEventTimeWindows", "TumblingProcessingTimeWindows",
              "Window", "WindowAssigner")
_LAZY.update({name: "yflink.datastream.functions" for name in _WINDOW_FUNCTIONS})
_LAZY.update({name: "yflink.datastream.window" for name in _WINDOWING})
_LAZY.update({"AllWindowedStream": "yflink.datastream.windowed_stream",
              "WindowedStream": "yflink.datastream.windowed_stream"})
__all__ += [*_WINDOW_FUNCTIONS, *_WINDOWING, "AllWindowedStream", "WindowedStream"]

#: Two inputs, broadcast state, joins, operator state, state TTL and state backends, loaded on first use.
_TWO_INPUT_FUNCTIONS = ("BaseBroadcastProcessFunction", "BroadcastProcessFunction", "CoFlatMapFunction",
                        "CoGroupFunction", "CoMapFunction", "CoProcessFunction", "FlatJoinFunction", "JoinFunction",
                        "KeyedBroadcastProcessFunction", "KeyedCoProcessFunction", "ProcessJoinFunction")
_TWO_INPUT_STREAMS = {"BroadcastConnectedStream": "connected_streams", "BroadcastStream": "connected_streams",
                      "ConnectedStreams": "connected_streams", "CoGroupedStreams": "join", "IntervalJoin": "join",
                      "IntervalJoined": "join", "JoinedStreams": "join",
                      "CheckpointedFunction": "checkpointed_function",
                      "FunctionInitializationContext": "checkpointed_function",
                      "FunctionSnapshotContext": "checkpointed_function",
                      "BroadcastState": "state", "OperatorStateStore": "state", "ReadOnlyBroadcastState": "state",
                      "StateTtlConfig": "state"}
_TWO_INPUT_STREAMS.update({name: "state_backend" for name in ("EmbeddedRocksDBStateBackend", "HashMapStateBackend",
                                                                 "StateBackend")})
_LAZY.update({name: "yflink.datastream.two_input_functions" for name in _TWO_INPUT_FUNCTIONS})
_LAZY.update({name: f"yflink.datastream.{module}" for name, module in _TWO_INPUT_STREAMS.items()})
__all__ += [*_TWO_INPUT_FUNCTIONS, *_TWO_INPUT_STREAMS]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'yflink.datastream' has no attribute '{name}'")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
