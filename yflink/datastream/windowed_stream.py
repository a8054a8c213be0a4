"""WindowedStream and AllWindowedStream (PyFlink ``pyflink.datastream.data_stream``).

``keyed.window(assigner)`` (or ``keyed.count_window(n)``) gives a :class:`WindowedStream`; configure it with
``trigger``, ``evictor``, ``allowed_lateness`` and ``side_output_late_data``, then end it with a window function:

* ``reduce(fn[, window_function])`` and ``aggregate(agg_fn[, window_function])`` keep one accumulator per key
  and window (incremental); the optional WindowFunction / ProcessWindowFunction sees the single result;
* ``apply(WindowFunction)`` and ``process(ProcessWindowFunction)`` see every element of the window.

``stream.window_all(assigner)`` gives an :class:`AllWindowedStream`: the same over the whole stream, on one
subtask (as Flink's ``windowAll``), with AllWindowFunction / ProcessAllWindowFunction. The result of each is a
plain DataStream whose elements carry the window's ``max_timestamp()``; ``get_side_output(tag)`` on it gives the
late elements. Everything becomes one :class:`~yflink.streaming.operators.window.WindowOperator`.

Source of the semantics: Flink documentation, "Windows", and PyFlink ``WindowedStream`` / ``AllWindowedStream``.
Flink's Java API adds ``evictor``, which PyFlink lacks; yflink has it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Optional, Union

from yflink.common.typeinfo import TypeInformation
from yflink.datastream.data_stream import DataStream, KeyedStream
from yflink.datastream.functions import (
    AggregateFunction,
    AllWindowFunction,
    KeySelector,
    ProcessAllWindowFunction,
    ProcessWindowFunction,
    ReduceFunction,
    WindowFunction,
)
from yflink.datastream.output_tag import OutputTag
from yflink.datastream.window.assigners import MergingWindowAssigner, WindowAssigner, to_millis
from yflink.datastream.window.evictors import Evictor
from yflink.datastream.window.triggers import Trigger
from yflink.streaming.operators.window import WindowOperator
from yflink.streaming.operators.window_functions import AGGREGATE, LIST, REDUCE, WindowFunctionRunner

__all__ = ["AllWindowedStream", "NullByteKeySelector", "WindowedStream"]


class NullByteKeySelector(KeySelector):
    """Keys every element by 0: ``window_all`` runs a keyed window operator with one key."""

    def get_key(self, value: Any) -> int:
        return 0


class _CallableWindowFunction(WindowFunction):
    def __init__(self, func: Callable[[Any, Any, Iterable[Any]], Iterable[Any]]) -> None:
        self._func = func

    def apply(self, key: Any, window: Any, inputs: Iterable[Any]) -> Iterable[Any]:
        return self._func(key, window, inputs)


class _CallableAllWindowFunction(AllWindowFunction):
    def __init__(self, func: Callable[[Any, Iterable[Any]], Iterable[Any]]) -> None:
        self._func = func

    def apply(self, window: Any, inputs: Iterable[Any]) -> Iterable[Any]:
        return self._func(window, inputs)


class _WindowedStreamBase:
    """What WindowedStream and AllWindowedStream share: configuration and building the operator."""

    _kind = "Window"
    _window_types: tuple[type, ...] = (WindowFunction, ProcessWindowFunction)
    _apply_type: type = WindowFunction
    _process_type: type = ProcessWindowFunction

    def __init__(self, keyed_stream: KeyedStream, window_assigner: WindowAssigner[Any, Any]) -> None:
        if not isinstance(window_assigner, WindowAssigner):
            raise TypeError(f"window() needs a WindowAssigner, got {type(window_assigner).__name__}")
        self._keyed_stream = keyed_stream
        self._window_assigner = window_assigner
        self._allowed_lateness = 0
        self._late_data_output_tag: Optional[OutputTag] = None
        self._window_trigger: Optional[Trigger[Any, Any]] = None
        self._evictor: Optional[Evictor] = None

    def get_execution_environment(self) -> Any:
        return self._keyed_stream.get_execution_environment()

    def get_input_type(self) -> TypeInformation:
        return self._keyed_stream.get_type()

    def trigger(self, trigger: Trigger[Any, Any]) -> Any:
        """Use ``trigger`` instead of the assigner's default.

        Raises:
            TypeError: ``trigger`` is not a Trigger, or cannot merge but the assigner merges windows.
        """
        if not isinstance(trigger, Trigger):
            raise TypeError(f"trigger() needs a Trigger, got {type(trigger).__name__}")
        if isinstance(self._window_assigner, MergingWindowAssigner) and trigger.can_merge() is not True:
            raise TypeError("A merging window assigner cannot be used with a trigger that does not support merging.")
        self._window_trigger = trigger
        return self

    def evictor(self, evictor: Evictor) -> Any:
        """Remove elements from fired windows with ``evictor`` (keeps every element: no pre-aggregation)."""
        if not isinstance(evictor, Evictor):
            raise TypeError(f"evictor() needs an Evictor, got {type(evictor).__name__}")
        self._evictor = evictor
        return self

    def allowed_lateness(self, time_ms: Any) -> Any:
        """Keep event-time windows ``time_ms`` (ms, or a Duration/Time) after their end: late elements within
        it update the window and fire it again; later ones are dropped or go to the late side output.

        Raises:
            ValueError: a negative lateness.
        """
        lateness = to_millis(time_ms, "allowed lateness")
        if lateness < 0:
            raise ValueError("The allowed lateness cannot be negative.")
        self._allowed_lateness = lateness
        return self

    def side_output_late_data(self, output_tag: OutputTag) -> Any:
        """Send elements too late for every window to the side output ``output_tag``
        (read it with ``result.get_side_output(output_tag)``)."""
        if not isinstance(output_tag, OutputTag):
            raise TypeError(f"side_output_late_data needs an OutputTag, got {type(output_tag).__name__}")
        self._late_data_output_tag = output_tag
        return self

    # --- window functions ---------------------------------------------------------------------------------
    def _check_window_function(self, window_function: Any) -> None:
        if window_function is not None and not isinstance(window_function, self._window_types):
            names = " or ".join(t.__name__ for t in self._window_types)
            raise TypeError(f"window_function should be a {names}")

    def reduce(self, reduce_function: Union[Callable[[Any, Any], Any], ReduceFunction],
               window_function: Any = None, output_type: Optional[TypeInformation] = None) -> DataStream:
        """Reduce each window incrementally with ``reduce_function(acc, value)``; emit the result, or give it to
        ``window_function`` (a window function or process window function)."""
        if not isinstance(reduce_function, ReduceFunction) and not callable(reduce_function):
            raise TypeError("The input must be a ReduceFunction or a callable function")
        self._check_window_function(window_function)
        if window_function is None and output_type is None:
            output_type = self.get_input_type()
        return self._build(WindowFunctionRunner(REDUCE, reduce_function, window_function), output_type)

    def aggregate(self, aggregate_function: AggregateFunction, window_function: Any = None,
                  accumulator_type: Optional[TypeInformation] = None,
                  output_type: Optional[TypeInformation] = None) -> DataStream:
        """Aggregate each window incrementally with ``aggregate_function`` (``create_accumulator``, ``add``,
        ``get_result``, ``merge`` for sessions); emit ``get_result``, or give it to ``window_function``.
        ``accumulator_type`` is informational (yflink pickles state)."""
        if not isinstance(aggregate_function, AggregateFunction):
            raise TypeError("The input must be a yflink.datastream.functions.AggregateFunction")
        self._check_window_function(window_function)
        return self._build(WindowFunctionRunner(AGGREGATE, aggregate_function, window_function), output_type)

    def apply(self, window_function: Any, output_type: Optional[TypeInformation] = None) -> DataStream:
        """Evaluate each window with ``window_function.apply`` over all its elements (a callable with the same
        arguments is accepted too)."""
        if not isinstance(window_function, self._apply_type):
            if not callable(window_function):
                raise TypeError(f"apply() needs a {self._apply_type.__name__}")
            window_function = self._wrap_callable(window_function)
        return self._build(WindowFunctionRunner(LIST, None, window_function), output_type)

    def process(self, process_window_function: Any, output_type: Optional[TypeInformation] = None) -> DataStream:
        """Evaluate each window with ``process_window_function.process`` over all its elements, with a context
        (window, time, per-window and per-key state, side outputs)."""
        if not isinstance(process_window_function, self._process_type):
            raise TypeError(f"process() needs a {self._process_type.__name__}")
        return self._build(WindowFunctionRunner(LIST, None, process_window_function), output_type)

    def _wrap_callable(self, func: Any) -> Any:
        return _CallableWindowFunction(func)

    def _build(self, runner: WindowFunctionRunner, output_type: Optional[TypeInformation]) -> DataStream:
        assigner = self._window_assigner
        trigger = self._window_trigger or assigner.get_default_trigger(self.get_execution_environment())
        parts = [repr(assigner), type(trigger).__name__]
        if self._evictor is not None:
            parts.append(type(self._evictor).__name__)
        parts.append(runner.describe())
        name = f"{self._kind}({', '.join(parts)})"
        keyed = self._keyed_stream
        operator = WindowOperator(assigner, trigger, runner, keyed._key_selector_obj, self._allowed_lateness,
                                  self._late_data_output_tag, self._evictor, name)
        return self._finish(keyed._one_input(name, operator, output_type, keyed._key_selector()))

    def _finish(self, stream: DataStream) -> DataStream:
        return stream


class WindowedStream(_WindowedStreamBase):
    """A keyed stream split into windows (PyFlink ``WindowedStream``)."""


class AllWindowedStream(_WindowedStreamBase):
    """A whole stream split into windows, evaluated on one subtask (PyFlink ``AllWindowedStream``)."""

    _kind = "AllWindow"
    _window_types = (AllWindowFunction, ProcessAllWindowFunction)
    _apply_type = AllWindowFunction
    _process_type = ProcessAllWindowFunction

    def __init__(self, data_stream: DataStream, window_assigner: WindowAssigner[Any, Any]) -> None:
        super().__init__(data_stream.key_by(NullByteKeySelector()), window_assigner)

    def _wrap_callable(self, func: Any) -> Any:
        return _CallableAllWindowFunction(func)

    def _finish(self, stream: DataStream) -> DataStream:
        return stream.force_non_parallel()
