"""User function interfaces (PyFlink ``pyflink.datastream.functions``).

These classes are the contract between a user's program and the runtime's operators: subclass one and
pass an instance to ``map``/``flat_map``/``process``/..., or pass a plain callable where PyFlink accepts one.
Every function has ``open(runtime_context)``, called once per parallel instance before the first record,
and ``close()``, called at the end (also after a failure).

Output conventions (as in PyFlink, which has no Collector):

* ``MapFunction.map`` returns one element; ``FilterFunction.filter`` returns a truth value;
* ``FlatMapFunction.flat_map``, ``ProcessFunction.process_element`` and ``KeyedProcessFunction.on_timer``
  *yield* (or return an iterable of) zero or more elements;
* ``SinkFunction.invoke(value, context)`` consumes an element; ``SourceFunction.run(ctx)`` emits with
  ``ctx.collect(element)`` until its input ends or ``cancel()`` is called.

Source of the semantics: Flink documentation, "Operators" and "Process Function", and PyFlink
``pyflink/datastream/functions.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Generic, Optional, TypeVar

from yflink.datastream.state import (
    AggregatingState,
    AggregatingStateDescriptor,
    ListState,
    ListStateDescriptor,
    MapState,
    MapStateDescriptor,
    ReducingState,
    ReducingStateDescriptor,
    ValueState,
    ValueStateDescriptor,
)
from yflink.datastream.time_domain import TimeDomain
from yflink.datastream.timerservice import TimerService

if TYPE_CHECKING:
    from yflink.datastream.two_input_functions import (
        BaseBroadcastProcessFunction,
        BroadcastProcessFunction,
        CoFlatMapFunction,
        CoGroupFunction,
        CoMapFunction,
        CoProcessFunction,
        FlatJoinFunction,
        JoinFunction,
        KeyedBroadcastProcessFunction,
        KeyedCoProcessFunction,
        ProcessJoinFunction,
    )
    from yflink.metrics import MetricGroup

__all__ = [
    "AggregateFunction",
    "AllWindowFunction",
    "FilterFunction",
    "FlatMapFunction",
    "Function",
    "KeySelector",
    "KeyedProcessFunction",
    "MapFunction",
    "Partitioner",
    "ProcessAllWindowFunction",
    "ProcessFunction",
    "ProcessWindowFunction",
    "ReduceFunction",
    "RuntimeContext",
    "SinkFunction",
    "SourceFunction",
    "TimerService",
    "WindowFunction",
    # two-input functions, defined in yflink.datastream.two_input_functions (loaded on first use)
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

_TWO_INPUT = frozenset(__all__[__all__.index("BaseBroadcastProcessFunction"):])

#: PyFlink's type variables (``from pyflink.datastream.functions import IN, OUT, KEY, W``): the window functions
#: are generic in them, so ``class F(ProcessWindowFunction[tuple, tuple, str, TimeWindow])`` works.
W = TypeVar("W")
W2 = TypeVar("W2")
IN = TypeVar("IN")
IN1 = TypeVar("IN1")
IN2 = TypeVar("IN2")
OUT = TypeVar("OUT")
KEY = TypeVar("KEY")


class KeyedStateStore(ABC):
    """Access to keyed state (only on a keyed stream, i.e. after ``key_by``)."""

    @abstractmethod
    def get_state(self, state_descriptor: ValueStateDescriptor) -> ValueState[Any]:
        """The ValueState named by ``state_descriptor``, scoped to the current key."""

    @abstractmethod
    def get_list_state(self, state_descriptor: ListStateDescriptor) -> ListState[Any]:
        ...

    @abstractmethod
    def get_map_state(self, state_descriptor: MapStateDescriptor) -> MapState[Any, Any]:
        ...

    @abstractmethod
    def get_reducing_state(self, state_descriptor: ReducingStateDescriptor) -> ReducingState[Any]:
        ...

    @abstractmethod
    def get_aggregating_state(self, state_descriptor: AggregatingStateDescriptor) -> AggregatingState[Any, Any]:
        ...


class RuntimeContext(KeyedStateStore):
    """What a function instance knows about where it runs (PyFlink ``RuntimeContext``)."""

    @abstractmethod
    def get_task_name(self) -> str:
        """The name of the task (operator chain) the function runs in."""

    @abstractmethod
    def get_number_of_parallel_subtasks(self) -> int:
        """The parallelism of the operator."""

    @abstractmethod
    def get_max_number_of_parallel_subtasks(self) -> int:
        """The max parallelism (number of key groups) of the operator."""

    @abstractmethod
    def get_index_of_this_subtask(self) -> int:
        """This instance's index, 0 .. parallelism-1."""

    @abstractmethod
    def get_attempt_number(self) -> int:
        """The attempt of this subtask, 0 for the first."""

    @abstractmethod
    def get_task_name_with_subtasks(self) -> str:
        """The task name with ``(index+1/parallelism)``, e.g. ``Map (3/6)``."""

    @abstractmethod
    def get_job_parameter(self, key: str, default_value: str) -> str:
        """The global job parameter ``key`` (``ExecutionConfig.set_global_job_parameters``), or the default."""

    @abstractmethod
    def get_metrics_group(self) -> MetricGroup:
        """This function instance's metric group (:mod:`yflink.metrics`)."""


class Function(ABC):  # noqa: B024 - open/close are optional hooks, as in PyFlink
    """Base of all user functions."""

    def open(self, runtime_context: RuntimeContext) -> None:  # noqa: B027
        """Called once per parallel instance before the first element."""

    def close(self) -> None:  # noqa: B027
        """Called once at the end, also after a failure."""


class MapFunction(Function):
    """One element in, one element out: ``ds.map(MyMapFunction())``."""

    @abstractmethod
    def map(self, value: Any) -> Any:
        """The transformed element."""


class FlatMapFunction(Function):
    """One element in, zero or more out: ``flat_map`` yields them (or returns an iterable)."""

    @abstractmethod
    def flat_map(self, value: Any) -> Any:
        """An iterable (usually a generator) of output elements."""


class FilterFunction(Function):
    """Keeps the elements for which ``filter`` returns a true value."""

    @abstractmethod
    def filter(self, value: Any) -> bool:
        ...


class ReduceFunction(Function):
    """Combines two values of the same type into one (per key on a keyed stream)."""

    @abstractmethod
    def reduce(self, value1: Any, value2: Any) -> Any:
        """The combination of the aggregate so far (``value1``) and the new element (``value2``)."""


class AggregateFunction(Function):
    """Incremental aggregation with an accumulator (for AggregatingState and windows)."""

    @abstractmethod
    def create_accumulator(self) -> Any:
        ...

    @abstractmethod
    def add(self, value: Any, accumulator: Any) -> Any:
        """The accumulator with ``value`` added (may be ``accumulator`` itself, modified)."""

    @abstractmethod
    def get_result(self, accumulator: Any) -> Any:
        ...

    @abstractmethod
    def merge(self, acc_a: Any, acc_b: Any) -> Any:
        ...


class KeySelector(Function):
    """Extracts the key of an element; the same element must always give the same (hashable) key."""

    @abstractmethod
    def get_key(self, value: Any) -> Any:
        ...


class Partitioner(Function):
    """Picks the downstream subtask of a key, for ``partition_custom`` (PyFlink ``Partitioner``)."""

    @abstractmethod
    def partition(self, key: Any, num_partitions: int) -> int:
        """The partition (0 ... ``num_partitions - 1``) of ``key``."""


class FunctionWrapper(Function):
    """Wraps a plain callable."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self._func = func


class MapFunctionWrapper(FunctionWrapper, MapFunction):
    def map(self, value: Any) -> Any:
        return self._func(value)


class FlatMapFunctionWrapper(FunctionWrapper, FlatMapFunction):
    def flat_map(self, value: Any) -> Any:
        return self._func(value)


class FilterFunctionWrapper(FunctionWrapper, FilterFunction):
    def filter(self, value: Any) -> bool:
        return self._func(value)  # type: ignore[no-any-return]


class ReduceFunctionWrapper(FunctionWrapper, ReduceFunction):
    def reduce(self, value1: Any, value2: Any) -> Any:
        return self._func(value1, value2)


class KeySelectorFunctionWrapper(FunctionWrapper, KeySelector):
    def get_key(self, value: Any) -> Any:
        return self._func(value)


class ProcessFunction(Function):
    """Processes each element with access to its timestamp and the time (PyFlink ``ProcessFunction``).

    ``process_element`` yields zero or more output elements. Outputs carry the input element's timestamp.
    """

    class Context(ABC):
        """Information about the element being processed; valid only during the call."""

        @abstractmethod
        def timer_service(self) -> TimerService:
            """Current processing time and watermark (timers need a keyed stream)."""

        @abstractmethod
        def timestamp(self) -> Optional[int]:
            """The element's timestamp (ms), or None when it has none."""

        @abstractmethod
        def output(self, output_tag: Any, value: Any) -> None:
            """Emit ``value`` to the side output ``output_tag`` (or yield ``(output_tag, value)``, as PyFlink)."""

    @abstractmethod
    def process_element(self, value: Any, ctx: ProcessFunction.Context) -> Any:
        """Process one element; yield the outputs."""


class KeyedProcessFunction(Function):
    """Processes each element of a keyed stream, with keyed state and timers (PyFlink ``KeyedProcessFunction``).

    ``process_element`` and ``on_timer`` yield zero or more output elements.
    """

    class Context(ABC):
        @abstractmethod
        def get_current_key(self) -> Any:
            """The key of the element (or timer) being processed."""

        @abstractmethod
        def timer_service(self) -> TimerService:
            ...

        @abstractmethod
        def timestamp(self) -> Optional[int]:
            """The element's timestamp, or the firing timer's time (ms); None when the element has none."""

        @abstractmethod
        def output(self, output_tag: Any, value: Any) -> None:
            """Emit ``value`` to the side output ``output_tag`` (or yield ``(output_tag, value)``, as PyFlink)."""

    class OnTimerContext(Context):
        @abstractmethod
        def time_domain(self) -> TimeDomain:
            """Whether the firing timer is an event-time or a processing-time timer."""

    @abstractmethod
    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Any:
        """Process one element; yield the outputs."""

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Any:
        """A timer set through ``ctx.timer_service()`` fired; yield the outputs."""


class SourceFunction(Function):
    """A source written as a loop (Flink's legacy ``SourceFunction``), used with ``env.add_source``.

    ``run(ctx)`` emits elements with ``ctx.collect(element)`` and returns when the input ends; ``cancel()`` is
    called from another thread to ask it to stop (set a flag that ``run`` checks). Each parallel instance
    runs its own ``run``; a non-parallel source (the default of ``add_source``) has one.
    """

    class SourceContext(ABC):
        @abstractmethod
        def collect(self, element: Any) -> None:
            """Emit ``element`` without a timestamp."""

        @abstractmethod
        def collect_with_timestamp(self, element: Any, timestamp: int) -> None:
            """Emit ``element`` with event timestamp ``timestamp`` (ms)."""

        @abstractmethod
        def emit_watermark(self, watermark: int) -> None:
            """Emit a watermark (ms)."""

        @abstractmethod
        def mark_as_temporarily_idle(self) -> None:
            ...

        @abstractmethod
        def get_checkpoint_lock(self) -> Any:
            """A lock to hold while emitting and updating the source's own state together."""

    @abstractmethod
    def run(self, ctx: SourceFunction.SourceContext) -> None:
        """Emit elements through ``ctx`` until the input ends or ``cancel()`` is called."""

    @abstractmethod
    def cancel(self) -> None:
        """Ask ``run`` to return soon (called from another thread)."""


class SinkFunction(Function):
    """Writes elements out (Flink's legacy ``SinkFunction``), used with ``DataStream.add_sink``."""

    class Context(ABC):
        @abstractmethod
        def current_processing_time(self) -> int:
            ...

        @abstractmethod
        def current_watermark(self) -> int:
            ...

        @abstractmethod
        def timestamp(self) -> Optional[int]:
            """The element's timestamp (ms), or None."""

    @abstractmethod
    def invoke(self, value: Any, context: SinkFunction.Context) -> None:
        """Write one element."""

    def finish(self) -> None:
        """The input ended: make everything written visible (before ``close``)."""


# --- window functions (PyFlink ``WindowFunction`` ... ``ProcessAllWindowFunction``) --------------------------
class WindowFunction(Function, Generic[IN, OUT, KEY, W]):
    """Evaluates a window of a keyed stream: ``apply(key, window, inputs)`` yields the outputs."""

    @abstractmethod
    def apply(self, key: Any, window: Any, inputs: Iterable[Any]) -> Iterable[Any]:
        """Evaluate ``window`` of ``key`` whose elements are ``inputs``; yield zero or more outputs."""


class AllWindowFunction(Function, Generic[IN, OUT, W]):
    """Evaluates a window of a non-keyed stream (``window_all``): ``apply(window, inputs)`` yields the outputs."""

    @abstractmethod
    def apply(self, window: Any, inputs: Iterable[Any]) -> Iterable[Any]:
        ...


class _WindowContext(ABC):
    """What a window function may ask while it evaluates (or clears) one window."""

    @abstractmethod
    def window(self) -> Any:
        """The window being evaluated."""

    @abstractmethod
    def current_processing_time(self) -> int:
        """The current processing time, ms."""

    @abstractmethod
    def current_watermark(self) -> int:
        """The current event-time watermark, ms."""

    @abstractmethod
    def window_state(self) -> KeyedStateStore:
        """State of the current key *and window* (clean it up in ``clear``)."""

    @abstractmethod
    def global_state(self) -> KeyedStateStore:
        """State of the current key, shared by all its windows."""

    @abstractmethod
    def output(self, output_tag: Any, value: Any) -> None:
        """Emit ``value`` to the side output ``output_tag`` (timestamp: the window's max timestamp)."""


class ProcessWindowFunction(Function, Generic[IN, OUT, KEY, W]):
    """Evaluates a window of a keyed stream with a context (window, time, per-window and per-key state)."""

    class Context(_WindowContext, Generic[W2]):
        """The context of ``process`` and ``clear``."""

    @abstractmethod
    def process(self, key: Any, context: ProcessWindowFunction.Context, elements: Iterable[Any]) -> Iterable[Any]:
        """Evaluate the window ``context.window()`` of ``key``; yield zero or more outputs."""

    def clear(self, context: ProcessWindowFunction.Context) -> None:  # noqa: B027 - optional hook
        """The window expired (watermark past its end plus the allowed lateness): delete its window state."""


class ProcessAllWindowFunction(Function, Generic[IN, OUT, W]):
    """Evaluates a window of a non-keyed stream (``window_all``) with a context."""

    class Context(_WindowContext, Generic[W2]):
        """The context of ``process`` and ``clear``."""

    @abstractmethod
    def process(self, context: ProcessAllWindowFunction.Context, elements: Iterable[Any]) -> Iterable[Any]:
        """Evaluate the window ``context.window()``; yield zero or more outputs."""

    def clear(self, context: ProcessAllWindowFunction.Context) -> None:  # noqa: B027 - optional hook
        """The window expired: delete its window state."""


def __getattr__(name: str) -> Any:
    """The two-input functions live in their own module; PyFlink imports them from here."""
    if name in _TWO_INPUT:
        from yflink.datastream import two_input_functions

        value = getattr(two_input_functions, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'yflink.datastream.functions' has no attribute '{name}'")
