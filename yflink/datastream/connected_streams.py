"""ConnectedStreams, BroadcastStream and BroadcastConnectedStream (PyFlink ``pyflink.datastream.data_stream``).

``ds1.connect(ds2)`` pairs two streams of possibly different types for one operator that sees both, with
shared state: ``map(CoMapFunction)``, ``flat_map(CoFlatMapFunction)``, ``process(CoProcessFunction)``. Keyed
connected streams (``connect(...).key_by(ks1, ks2)``, or two KeyedStreams) send equal keys of both inputs to
the same subtask; their functions have keyed state, and ``process(KeyedCoProcessFunction)`` has timers.

``ds.broadcast(descriptor, ...)`` makes a BroadcastStream: every element reaches every parallel instance of
the operator it is connected to, which keeps it in broadcast state named by the MapStateDescriptors;
``ds.connect(broadcast_stream).process(BroadcastProcessFunction)`` (``KeyedBroadcastProcessFunction`` when
``ds`` is keyed) reads that state on the other side.

Source of the semantics: Flink documentation, "Operators" (Connect, CoMap/CoFlatMap), "Process Function",
"The Broadcast State Pattern", and PyFlink ``ConnectedStreams``/``BroadcastConnectedStream``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Optional, Union

from yflink.common.typeinfo import TypeInformation
from yflink.datastream.functions import KeySelector
from yflink.datastream.state import MapStateDescriptor
from yflink.datastream.two_input_functions import (
    BroadcastProcessFunction,
    CoFlatMapFunction,
    CoMapFunction,
    CoProcessFunction,
    KeyedBroadcastProcessFunction,
    KeyedCoProcessFunction,
)
from yflink.graph.transformations import TwoInputTransformation
from yflink.streaming.operators import broadcast as broadcast_ops
from yflink.streaming.operators import co as co_ops
from yflink.streaming.operators.base import StreamOperator

if TYPE_CHECKING:
    from yflink.datastream.data_stream import DataStream

__all__ = ["BroadcastConnectedStream", "BroadcastStream", "ConnectedStreams"]


def _selector(stream: DataStream) -> Optional[Callable[[Any], Any]]:
    return stream._key_selector()


def _selector_obj(stream: DataStream) -> Any:
    return getattr(stream, "_key_selector_obj", None)


def two_input(name: str, stream1: DataStream, stream2: DataStream, operator: StreamOperator,
              output_type: Optional[TypeInformation], keyed: bool) -> DataStream:
    """Add a two-input operator reading ``stream1`` (input 1) and ``stream2`` (input 2)."""
    from yflink.datastream.data_stream import DataStream

    env = stream1.get_execution_environment()
    t = TwoInputTransformation(name, stream1._transformation, stream2._transformation, operator,
                               output_type=output_type,
                               key_selector1=_selector(stream1) if keyed else None,
                               key_selector2=_selector(stream2) if keyed else None)
    env._add_transformation(t)
    return DataStream(env, t)


class ConnectedStreams:
    """Two streams connected for one operator (PyFlink ``ConnectedStreams``).

    Attributes:
        stream1, stream2: the inputs (input 1 and input 2 of the operator).
    """

    def __init__(self, stream1: DataStream, stream2: DataStream) -> None:
        self.stream1 = stream1
        self.stream2 = stream2

    def _is_keyed_stream(self) -> bool:
        from yflink.datastream.data_stream import KeyedStream

        return isinstance(self.stream1, KeyedStream) and isinstance(self.stream2, KeyedStream)

    def key_by(self, key_selector1: Union[Callable[[Any], Any], KeySelector],
               key_selector2: Union[Callable[[Any], Any], KeySelector],
               key_type: Optional[TypeInformation] = None) -> ConnectedStreams:
        """Partition both inputs by key: equal keys of either input meet in the same subtask and share keyed
        state. The two selectors must produce keys of the same type."""
        from yflink.datastream.data_stream import KeyedStream

        ds1 = self.stream1._origin_stream if isinstance(self.stream1, KeyedStream) else self.stream1
        ds2 = self.stream2._origin_stream if isinstance(self.stream2, KeyedStream) else self.stream2
        return ConnectedStreams(ds1.key_by(key_selector1, key_type), ds2.key_by(key_selector2, key_type))

    def _key_selectors(self) -> tuple[Any, Any]:
        if self._is_keyed_stream():
            return _selector_obj(self.stream1), _selector_obj(self.stream2)
        return None, None

    def map(self, func: CoMapFunction, output_type: Optional[TypeInformation] = None) -> DataStream:
        """``func.map1`` for each element of the first input, ``func.map2`` for the second; one output each."""
        if not isinstance(func, CoMapFunction):
            raise TypeError("The input function must be a CoMapFunction!")
        operator = co_ops.CoStreamMap(func, "Co-Map", *self._key_selectors())
        return two_input("Co-Map", self.stream1, self.stream2, operator, output_type, self._is_keyed_stream())

    def flat_map(self, func: CoFlatMapFunction, output_type: Optional[TypeInformation] = None) -> DataStream:
        """``func.flat_map1``/``flat_map2`` per element of the first/second input; each yields outputs."""
        if not isinstance(func, CoFlatMapFunction):
            raise TypeError("The input must be a CoFlatMapFunction!")
        operator = co_ops.CoStreamFlatMap(func, "Co-Flat Map", *self._key_selectors())
        return two_input("Co-Flat Map", self.stream1, self.stream2, operator, output_type, self._is_keyed_stream())

    def process(self, func: Union[CoProcessFunction, KeyedCoProcessFunction],
                output_type: Optional[TypeInformation] = None) -> DataStream:
        """``func.process_element1``/``process_element2`` with a context; on keyed connected streams the
        function has keyed state and (a KeyedCoProcessFunction) timers and ``on_timer``.

        Raises:
            TypeError: not a (Keyed)CoProcessFunction, or a KeyedCoProcessFunction on non-keyed streams.
        """
        if not isinstance(func, (CoProcessFunction, KeyedCoProcessFunction)):
            raise TypeError("The input must be a CoProcessFunction or KeyedCoProcessFunction!")
        operator: StreamOperator
        if self._is_keyed_stream():
            name = "Keyed Co-Process"
            operator = co_ops.KeyedCoProcessOperator(func, *self._key_selectors(), name=name)
        else:
            if isinstance(func, KeyedCoProcessFunction):
                raise TypeError("A KeyedCoProcessFunction needs keyed connected streams: call "
                                "connect(...).key_by(key_selector1, key_selector2) first")
            name = "Co-Process"
            operator = co_ops.CoProcessOperator(func, name)
        return two_input(name, self.stream1, self.stream2, operator, output_type, self._is_keyed_stream())


class BroadcastStream:
    """A stream whose elements go to every parallel instance, with broadcast state named by
    ``broadcast_state_descriptors`` (PyFlink ``BroadcastStream``)."""

    def __init__(self, input_stream: DataStream, *broadcast_state_descriptors: MapStateDescriptor) -> None:
        for descriptor in broadcast_state_descriptors:
            if not isinstance(descriptor, MapStateDescriptor):
                raise TypeError(f"broadcast state needs MapStateDescriptors, got {type(descriptor).__name__}")
        self.input_stream = input_stream
        self.broadcast_state_descriptors = list(broadcast_state_descriptors)
        self._partitioned = input_stream.broadcast()

    def get_execution_environment(self) -> Any:
        return self.input_stream.get_execution_environment()


class BroadcastConnectedStream:
    """A (keyed or non-keyed) stream connected with a BroadcastStream (PyFlink ``BroadcastConnectedStream``)."""

    def __init__(self, non_broadcast_stream: DataStream, broadcast_stream: BroadcastStream,
                 broadcast_state_descriptors: list[MapStateDescriptor]) -> None:
        self.non_broadcast_stream = non_broadcast_stream
        self.broadcast_stream = broadcast_stream
        self.broadcast_state_descriptors = broadcast_state_descriptors

    def process(self, func: Union[BroadcastProcessFunction, KeyedBroadcastProcessFunction],
                output_type: Optional[TypeInformation] = None) -> DataStream:
        """Apply ``func``: ``process_element`` per element of the non-broadcast stream (read-only broadcast
        state), ``process_broadcast_element`` per broadcast element (read/write broadcast state).

        Raises:
            TypeError: a KeyedBroadcastProcessFunction on a non-keyed stream, or the other way round.
        """
        from yflink.datastream.data_stream import KeyedStream

        stream = self.non_broadcast_stream
        operator: StreamOperator
        if isinstance(stream, KeyedStream):
            if not isinstance(func, KeyedBroadcastProcessFunction):
                raise TypeError("For a keyed stream the function must be a KeyedBroadcastProcessFunction")
            name = "Co-Process-Broadcast-Keyed"
            operator = broadcast_ops.KeyedBroadcastProcessOperator(
                func, self.broadcast_state_descriptors, stream._key_selector_obj, name)
            keyed = True
        else:
            if not isinstance(func, BroadcastProcessFunction):
                raise TypeError("For a non-keyed stream the function must be a BroadcastProcessFunction")
            name = "Co-Process-Broadcast"
            operator = broadcast_ops.BroadcastProcessOperator(func, self.broadcast_state_descriptors, None, name)
            keyed = False
        from yflink.datastream.data_stream import DataStream

        env = stream.get_execution_environment()
        t = TwoInputTransformation(name, stream._transformation, self.broadcast_stream._partitioned._transformation,
                                   operator, output_type=output_type,
                                   key_selector1=stream._key_selector() if keyed else None)
        env._add_transformation(t)
        return DataStream(env, t)
