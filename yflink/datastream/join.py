"""Joining two streams: window join, window co-group and interval join.

PyFlink has none of these; yflink follows Flink's Java API with Python names::

    a.join(b).where(lambda x: x[0]).equal_to(lambda y: y[0]) \\
        .window(TumblingEventTimeWindows.of(Duration.of_seconds(10))) \\
        .apply(lambda x, y: (x, y))                       # JoinFunction / FlatJoinFunction / callable

    a.co_group(b).where(...).equal_to(...).window(...).apply(MyCoGroupFunction())

    a.key_by(ka).interval_join(b.key_by(kb)) \\
        .between(Duration.of_millis(-2), Duration.of_millis(1)) \\
        .process(MyProcessJoinFunction())                  # lower_bound_exclusive(), upper_bound_exclusive()

Window join and co-group are built on the window operator (see :mod:`yflink.streaming.operators.co_group`);
their results carry the window's ``max_timestamp()``. The interval join pairs elements of the same key whose
timestamps are within ``[left.ts + lower, left.ts + upper]`` (both bounds inclusive by default); results carry
the larger timestamp of the pair. Bounds are a Duration, a Time or ms.

Source of the semantics: Flink documentation, "Joining" (Window Join, Interval Join), "Operators" (Window
CoGroup), Flink ``JoinedStreams``, ``CoGroupedStreams`` and ``KeyedStream.IntervalJoin``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Optional, Union

from yflink.common.typeinfo import TypeInformation
from yflink.datastream.functions import KeySelector
from yflink.datastream.output_tag import OutputTag
from yflink.datastream.two_input_functions import CoGroupFunction, FlatJoinFunction, JoinFunction, ProcessJoinFunction
from yflink.streaming.operators.co_group import CoGroupWindowFunction, JoinCoGroupFunction, Tagger, UnionKeySelector
from yflink.streaming.operators.interval_join import IntervalJoinOperator

if TYPE_CHECKING:
    from yflink.datastream.data_stream import DataStream, KeyedStream

__all__ = ["CoGroupedStreams", "IntervalJoin", "IntervalJoined", "JoinedStreams"]

KeySelectorLike = Union[Callable[[Any], Any], KeySelector]


def _millis(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{what} must be a Duration, a Time or ms, got {value!r}")
    if isinstance(value, int):
        return value
    to_ms = getattr(value, "to_milliseconds", None)
    if to_ms is None:
        raise TypeError(f"{what} must be a Duration, a Time or ms, got {type(value).__name__}")
    return int(to_ms())


def _check_selector(selector: Any) -> None:
    if not isinstance(selector, KeySelector) and not callable(selector):
        raise TypeError("A key selector must be a KeySelector or a callable function")


class _TwoStreamWindowBuilder:
    """``where(...).equal_to(...).window(...)`` shared by join and co-group."""

    _kind = "CoGroup"

    def __init__(self, input1: DataStream, input2: DataStream) -> None:
        self.input1 = input1
        self.input2 = input2
        self._key1: Optional[KeySelectorLike] = None
        self._key2: Optional[KeySelectorLike] = None
        self._assigner: Any = None
        self._trigger: Any = None
        self._evictor: Any = None
        self._allowed_lateness: Any = None

    def where(self, key_selector: KeySelectorLike, key_type: Optional[TypeInformation] = None) -> Any:
        """The key of the first input's elements."""
        _check_selector(key_selector)
        self._key1 = key_selector
        return self

    def equal_to(self, key_selector: KeySelectorLike, key_type: Optional[TypeInformation] = None) -> Any:
        """The key of the second input's elements; must equal the first's to join."""
        if self._key1 is None:
            raise TypeError("call where(...) before equal_to(...)")
        _check_selector(key_selector)
        self._key2 = key_selector
        return self

    def window(self, assigner: Any) -> Any:
        """The windows elements of both inputs are grouped in (any WindowAssigner)."""
        if self._key2 is None:
            raise TypeError("call where(...).equal_to(...) before window(...)")
        self._assigner = assigner
        return self

    def trigger(self, trigger: Any) -> Any:
        self._trigger = trigger
        return self

    def evictor(self, evictor: Any) -> Any:
        self._evictor = evictor
        return self

    def allowed_lateness(self, lateness: Any) -> Any:
        self._allowed_lateness = lateness
        return self

    def _co_group(self, function: CoGroupFunction, output_type: Optional[TypeInformation]) -> DataStream:
        if self._assigner is None:
            raise TypeError("call window(...) before apply(...)")
        tagged1 = self.input1.map(Tagger(1)).name(f"{self._kind}: tag input 1")
        tagged2 = self.input2.map(Tagger(2)).name(f"{self._kind}: tag input 2")
        windowed = tagged1.union(tagged2).key_by(UnionKeySelector(self._key1, self._key2)).window(self._assigner)
        if self._trigger is not None:
            windowed.trigger(self._trigger)
        if self._evictor is not None:
            windowed.evictor(self._evictor)
        if self._allowed_lateness is not None:
            windowed.allowed_lateness(self._allowed_lateness)
        return windowed.apply(CoGroupWindowFunction(function, self._kind), output_type)


class JoinedStreams(_TwoStreamWindowBuilder):
    """``a.join(b)``: pairs elements of equal keys in the same window (Flink ``JoinedStreams``)."""

    _kind = "Join"

    def apply(self, function: Union[JoinFunction, FlatJoinFunction, Callable[[Any, Any], Any]],
              output_type: Optional[TypeInformation] = None) -> DataStream:
        """``function.join(first, second)`` for every pair; a FlatJoinFunction yields zero or more outputs, a
        JoinFunction or plain callable returns one."""
        if not isinstance(function, (JoinFunction, FlatJoinFunction)) and not callable(function):
            raise TypeError("apply() needs a JoinFunction, a FlatJoinFunction or a callable function")
        return self._co_group(JoinCoGroupFunction(function, isinstance(function, FlatJoinFunction)), output_type)


class CoGroupedStreams(_TwoStreamWindowBuilder):
    """``a.co_group(b)``: all elements of both inputs per key and window (Flink ``CoGroupedStreams``)."""

    _kind = "CoGroup"

    def apply(self, function: Union[CoGroupFunction, Callable[[Any, Any], Any]],
              output_type: Optional[TypeInformation] = None) -> DataStream:
        """``function.co_group(first, second)`` once per key and window; it yields the outputs."""
        if not isinstance(function, CoGroupFunction) and not callable(function):
            raise TypeError("apply() needs a CoGroupFunction or a callable function")
        return self._co_group(function, output_type)  # type: ignore[arg-type]


class IntervalJoin:
    """``left.interval_join(right)`` on two KeyedStreams; set the interval with :meth:`between`."""

    def __init__(self, left: KeyedStream, right: KeyedStream) -> None:
        self.left = left
        self.right = right

    def between(self, lower_bound: Any, upper_bound: Any) -> IntervalJoined:
        """Join ``right`` elements with timestamps in ``[left.ts + lower_bound, left.ts + upper_bound]``.

        Raises:
            ValueError: ``lower_bound > upper_bound``.
        """
        lower, upper = _millis(lower_bound, "lower_bound"), _millis(upper_bound, "upper_bound")
        if lower > upper:
            raise ValueError(f"lowerBound <= upperBound must be fulfilled, got {lower} > {upper}")
        return IntervalJoined(self.left, self.right, lower, upper)


class IntervalJoined:
    """An interval join with its bounds; finish it with :meth:`process`."""

    def __init__(self, left: KeyedStream, right: KeyedStream, lower: int, upper: int) -> None:
        self.left = left
        self.right = right
        self.lower = lower
        self.upper = upper
        self.lower_inclusive = True
        self.upper_inclusive = True
        self.left_late_tag: Optional[OutputTag] = None
        self.right_late_tag: Optional[OutputTag] = None

    def lower_bound_exclusive(self) -> IntervalJoined:
        """Leave ``left.ts + lower_bound`` itself out of the interval."""
        self.lower_inclusive = False
        return self

    def upper_bound_exclusive(self) -> IntervalJoined:
        """Leave ``left.ts + upper_bound`` itself out of the interval."""
        self.upper_inclusive = False
        return self

    def side_output_left_late_data(self, output_tag: OutputTag) -> IntervalJoined:
        """Send left elements behind the watermark to ``output_tag`` instead of dropping them."""
        self.left_late_tag = output_tag
        return self

    def side_output_right_late_data(self, output_tag: OutputTag) -> IntervalJoined:
        """Send right elements behind the watermark to ``output_tag`` instead of dropping them."""
        self.right_late_tag = output_tag
        return self

    def process(self, process_join_function: Union[ProcessJoinFunction, Callable[[Any, Any, Any], Any]],
                output_type: Optional[TypeInformation] = None) -> DataStream:
        """``process_join_function.process_element(left, right, ctx)`` for every pair within the interval."""
        from yflink.datastream.connected_streams import two_input

        if not isinstance(process_join_function, ProcessJoinFunction) and not callable(process_join_function):
            raise TypeError("process() needs a ProcessJoinFunction or a callable function")
        operator = IntervalJoinOperator(process_join_function, self.lower, self.upper,
                                        self.left._key_selector_obj, self.right._key_selector_obj,
                                        self.lower_inclusive, self.upper_inclusive, self.left_late_tag,
                                        self.right_late_tag)
        return two_input("Interval Join", self.left, self.right, operator, output_type, keyed=True)
