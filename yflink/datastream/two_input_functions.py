"""Functions over two inputs: connected streams, broadcast state, joins (PyFlink ``pyflink.datastream.functions``).

They are re-exported by :mod:`yflink.datastream.functions` and :mod:`yflink.datastream`, where PyFlink has them.
Outputs follow PyFlink (no Collector): ``map1``/``map2`` and ``JoinFunction.join`` return one element; the
others *yield* zero or more. In a process function, yielding ``(output_tag, value)`` or calling
``ctx.output(output_tag, value)`` emits to a side output.

PyFlink has no join functions; ``JoinFunction``, ``FlatJoinFunction``, ``CoGroupFunction`` and
``ProcessJoinFunction`` follow Flink's Java interfaces with Python names.

Source: Flink documentation, "Operators" (Connect, CoMap/CoFlatMap, Window Join, Interval Join, Window CoGroup),
"Process Function" (Low-level Joins), "The Broadcast State Pattern", and PyFlink ``functions.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Any, Generic, Optional

from yflink.datastream.functions import IN1, IN2, KEY, OUT, Function
from yflink.datastream.state import BroadcastState, MapStateDescriptor, ReadOnlyBroadcastState
from yflink.datastream.time_domain import TimeDomain
from yflink.datastream.timerservice import TimerService

__all__ = [
    "BaseBroadcastProcessFunction",
    "BroadcastProcessFunction",
    "CoFlatMapFunction",
    "CoGroupFunction",
    "CoMapFunction",
    "CoProcessFunction",
    "FlatJoinFunction",
    "JoinFunction",
    "KeyedBroadcastProcessFunction",
    "KeyedCoProcessFunction",
    "ProcessJoinFunction",
]


class CoMapFunction(Function):
    """A map over two connected streams; one instance serves both, so they can share state."""

    @abstractmethod
    def map1(self, value: Any) -> Any:
        """The result for an element of the first stream (None: no output, as in PyFlink)."""

    @abstractmethod
    def map2(self, value: Any) -> Any:
        """The result for an element of the second stream (None: no output)."""


class CoFlatMapFunction(Function):
    """A flat map over two connected streams: each method yields zero or more outputs."""

    @abstractmethod
    def flat_map1(self, value: Any) -> Any:
        ...

    @abstractmethod
    def flat_map2(self, value: Any) -> Any:
        ...


class CoProcessFunction(Function):
    """Processes the elements of two connected streams with access to time and side outputs."""

    class Context(ABC):
        @abstractmethod
        def timer_service(self) -> TimerService:
            """Processing time and watermark (timers need keyed connected streams)."""

        @abstractmethod
        def timestamp(self) -> Optional[int]:
            """The element's timestamp (ms), or None."""

        @abstractmethod
        def output(self, output_tag: Any, value: Any) -> None:
            """Emit ``value`` to the side output ``output_tag``."""

    @abstractmethod
    def process_element1(self, value: Any, ctx: CoProcessFunction.Context) -> Any:
        """An element of the first stream; yield the outputs."""

    @abstractmethod
    def process_element2(self, value: Any, ctx: CoProcessFunction.Context) -> Any:
        """An element of the second stream; yield the outputs."""


class KeyedCoProcessFunction(Function):
    """Processes two keyed streams connected on the same key: keyed state shared by both inputs and timers."""

    class Context(ABC):
        @abstractmethod
        def get_current_key(self) -> Any:
            ...

        @abstractmethod
        def timer_service(self) -> TimerService:
            ...

        @abstractmethod
        def timestamp(self) -> Optional[int]:
            """The element's timestamp, or the firing timer's (ms); None when the element has none."""

        @abstractmethod
        def output(self, output_tag: Any, value: Any) -> None:
            ...

    class OnTimerContext(Context):
        @abstractmethod
        def time_domain(self) -> TimeDomain:
            ...

    @abstractmethod
    def process_element1(self, value: Any, ctx: KeyedCoProcessFunction.Context) -> Any:
        ...

    @abstractmethod
    def process_element2(self, value: Any, ctx: KeyedCoProcessFunction.Context) -> Any:
        ...

    def on_timer(self, timestamp: int, ctx: KeyedCoProcessFunction.OnTimerContext) -> Any:
        """A timer of the current key fired; yield the outputs."""


class BaseBroadcastProcessFunction(Function):
    """What the broadcast process functions share."""

    class BaseContext(ABC):
        @abstractmethod
        def timestamp(self) -> Optional[int]:
            ...

        @abstractmethod
        def current_processing_time(self) -> int:
            ...

        @abstractmethod
        def current_watermark(self) -> int:
            ...

        @abstractmethod
        def output(self, output_tag: Any, value: Any) -> None:
            ...

    class Context(BaseContext):
        """The broadcast side's context: read/write access to the broadcast state."""

        @abstractmethod
        def get_broadcast_state(self, state_descriptor: MapStateDescriptor) -> BroadcastState[Any, Any]:
            ...

    class ReadOnlyContext(BaseContext):
        """The non-broadcast side's context: read-only access to the broadcast state."""

        @abstractmethod
        def get_broadcast_state(self, state_descriptor: MapStateDescriptor) -> ReadOnlyBroadcastState[Any, Any]:
            ...


class BroadcastProcessFunction(BaseBroadcastProcessFunction, Generic[IN1, IN2, OUT]):
    """Connects a non-keyed stream with a broadcast stream (``ds.connect(rules.broadcast(descriptor))``)."""

    class Context(BaseBroadcastProcessFunction.Context, ABC):
        pass

    class ReadOnlyContext(BaseBroadcastProcessFunction.ReadOnlyContext, ABC):
        pass

    @abstractmethod
    def process_element(self, value: Any, ctx: BroadcastProcessFunction.ReadOnlyContext) -> Any:
        """An element of the non-broadcast stream; the broadcast state is read-only here."""

    @abstractmethod
    def process_broadcast_element(self, value: Any, ctx: BroadcastProcessFunction.Context) -> Any:
        """An element of the broadcast stream; update the broadcast state the same way in every instance."""


class KeyedBroadcastProcessFunction(BaseBroadcastProcessFunction, Generic[KEY, IN1, IN2, OUT]):
    """Connects a keyed stream with a broadcast stream: keyed state and timers on the keyed side."""

    class Context(BaseBroadcastProcessFunction.Context, ABC):
        """The broadcast side's context; ``apply_to_keyed_state`` visits the keyed state of every key."""

        @abstractmethod
        def apply_to_keyed_state(self, state_descriptor: Any, function: Callable[[Any, Any], None]) -> None:
            """Call ``function(key, state)`` for every key that has state ``state_descriptor`` (Flink
            ``applyToKeyedState``; PyFlink lacks it)."""

    class ReadOnlyContext(BaseBroadcastProcessFunction.ReadOnlyContext, ABC):
        @abstractmethod
        def timer_service(self) -> TimerService:
            ...

        @abstractmethod
        def get_current_key(self) -> Any:
            ...

    class OnTimerContext(ReadOnlyContext, ABC):
        @abstractmethod
        def time_domain(self) -> TimeDomain:
            ...

    @abstractmethod
    def process_element(self, value: Any, ctx: KeyedBroadcastProcessFunction.ReadOnlyContext) -> Any:
        ...

    @abstractmethod
    def process_broadcast_element(self, value: Any, ctx: KeyedBroadcastProcessFunction.Context) -> Any:
        ...

    def on_timer(self, timestamp: int, ctx: KeyedBroadcastProcessFunction.OnTimerContext) -> Any:
        """A timer of the current key fired; yield the outputs."""


class JoinFunction(Function):
    """Window join: called for every pair of elements of the two inputs in the same window with equal keys."""

    @abstractmethod
    def join(self, first: Any, second: Any) -> Any:
        """The joined element."""


class FlatJoinFunction(Function):
    """Window join yielding zero or more outputs per pair."""

    @abstractmethod
    def join(self, first: Any, second: Any) -> Iterable[Any]:
        ...


class CoGroupFunction(Function):
    """Window co-group: called once per key and window with the elements of both inputs (either may be empty)."""

    @abstractmethod
    def co_group(self, first: Iterable[Any], second: Iterable[Any]) -> Iterable[Any]:
        ...


class ProcessJoinFunction(Function):
    """Interval join: called for every pair (left, right) whose timestamps are within the bounds."""

    class Context(ABC):
        @abstractmethod
        def get_left_timestamp(self) -> int:
            ...

        @abstractmethod
        def get_right_timestamp(self) -> int:
            ...

        @abstractmethod
        def get_timestamp(self) -> int:
            """The pair's timestamp: the larger of the two."""

        @abstractmethod
        def output(self, output_tag: Any, value: Any) -> None:
            ...

    @abstractmethod
    def process_element(self, left: Any, right: Any, ctx: ProcessJoinFunction.Context) -> Any:
        """A joined pair; yield the outputs (they carry the pair's timestamp)."""
