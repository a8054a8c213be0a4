"""How a window operator keeps a window's contents and turns them into outputs.

A window's contents are one of three kinds (Flink: the window state descriptor of ``reduce``, ``aggregate``
and ``apply``/``process``):

* ``reduce``: the value reduced so far (``reduce(acc, value)``, the first value as is);
* ``aggregate``: an AggregateFunction accumulator (``add(value, acc)``), evaluated with ``get_result``;
* ``list``: every element, in arrival order.

The window function then sees the single result (``reduce``/``aggregate``) or the list: pass-through
(results as they are), ``WindowFunction.apply(key, window, inputs)``, ``ProcessWindowFunction.process(key,
context, elements)`` and the all-window variants without the key. With an evictor the contents are always
the list of (value, timestamp) pairs and the reduce/aggregate step runs when the window fires.

Source of the semantics: Flink ``InternalSingleValueWindowFunction``, ``InternalIterableWindowFunction``,
``InternalSingleValueProcessWindowFunction``, ``ReduceApplyWindowFunction``, ``AggregateApplyWindowFunction``
and PyFlink ``pyflink/datastream/functions.py`` (the Internal*WindowFunction classes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Optional

from yflink.datastream.functions import (
    AggregateFunction,
    AllWindowFunction,
    ProcessAllWindowFunction,
    ProcessWindowFunction,
    ReduceFunction,
    WindowFunction,
)
from yflink.streaming.operators.udf import as_callable, close_function, open_function

REDUCE = "reduce"
AGGREGATE = "aggregate"
LIST = "list"

_MISSING = object()


class WindowFunctionRunner:
    """The contents kind, its incremental step, and the user's window function.

    Args:
        kind: ``reduce``, ``aggregate`` or ``list``.
        incremental: the ReduceFunction (or callable) of ``reduce``, the AggregateFunction of ``aggregate``,
            None for ``list``.
        window_function: None (pass the result through), a WindowFunction, ProcessWindowFunction,
            AllWindowFunction or ProcessAllWindowFunction.

    Raises:
        TypeError: a function of the wrong type.
    """

    def __init__(self, kind: str, incremental: Any, window_function: Any) -> None:
        if kind == REDUCE and not (isinstance(incremental, ReduceFunction) or callable(incremental)):
            raise TypeError("The input must be a ReduceFunction or a callable function")
        if kind == AGGREGATE and not isinstance(incremental, AggregateFunction):
            raise TypeError("The input must be a yflink.datastream.functions.AggregateFunction")
        if window_function is not None and not isinstance(
                window_function, (WindowFunction, ProcessWindowFunction, AllWindowFunction,
                                  ProcessAllWindowFunction)):
            raise TypeError("window_function should be a WindowFunction or ProcessWindowFunction (or, for "
                            "window_all, an AllWindowFunction or ProcessAllWindowFunction), "
                            f"got {type(window_function).__name__}")
        self.kind = kind
        self.incremental = incremental
        self.window_function = window_function

    # --- lifecycle ------------------------------------------------------------------------------------
    def open(self, runtime_context: Any, operator_name: str) -> None:
        if self.incremental is not None:
            open_function(self.incremental, runtime_context, operator_name)
        if self.window_function is not None:
            open_function(self.window_function, runtime_context, operator_name)
        self.reduce: Callable[[Any, Any], Any] = as_callable(self.incremental, "reduce")
        fn = self.window_function
        self._evaluate: Callable[[Any, Any, Any, Any], Optional[Iterable[Any]]]
        if fn is None:
            self._evaluate = _pass_through
        elif isinstance(fn, WindowFunction):
            apply = fn.apply
            self._evaluate = lambda key, window, ctx, inputs: apply(key, window, inputs)
        elif isinstance(fn, ProcessWindowFunction):
            process = fn.process
            self._evaluate = lambda key, window, ctx, inputs: process(key, ctx, inputs)
        elif isinstance(fn, AllWindowFunction):
            apply_all = fn.apply
            self._evaluate = lambda key, window, ctx, inputs: apply_all(window, inputs)
        else:
            process_all = fn.process
            self._evaluate = lambda key, window, ctx, inputs: process_all(ctx, inputs)

    def close(self, operator_name: str) -> None:
        if self.incremental is not None:
            close_function(self.incremental, operator_name)
        if self.window_function is not None:
            close_function(self.window_function, operator_name)

    # --- contents -------------------------------------------------------------------------------------
    def add(self, contents: Any, value: Any) -> Any:
        """``contents`` (or ``_MISSING`` for a new window) with ``value`` added; may modify ``contents``."""
        kind = self.kind
        if kind == LIST:
            if contents is _MISSING:
                return [value]
            contents.append(value)
            return contents
        if kind == REDUCE:
            return value if contents is _MISSING else self.reduce(contents, value)
        function = self.incremental
        return function.add(value, function.create_accumulator() if contents is _MISSING else contents)

    def merge(self, a: Any, b: Any) -> Any:
        """Contents of two merged (session) windows combined."""
        if self.kind == LIST:
            return a + b
        if self.kind == REDUCE:
            return self.reduce(a, b)
        return self.incremental.merge(a, b)

    def inputs_of(self, contents: Any) -> list[Any]:
        """What the window function sees for ``contents``."""
        if self.kind == LIST:
            return contents  # type: ignore[no-any-return]
        if self.kind == REDUCE:
            return [contents]
        return [self.incremental.get_result(contents)]

    def inputs_of_values(self, values: list[Any]) -> Optional[list[Any]]:
        """What the window function sees for the elements left after eviction; None: nothing to evaluate."""
        if self.kind == LIST:
            return values
        if self.kind == REDUCE:
            if not values:
                return None
            reduce = self.reduce
            acc = values[0]
            for value in values[1:]:
                acc = reduce(acc, value)
            return [acc]
        function = self.incremental
        acc = function.create_accumulator()
        for value in values:
            acc = function.add(value, acc)
        return [function.get_result(acc)]

    # --- evaluation -----------------------------------------------------------------------------------
    def evaluate(self, key: Any, window: Any, ctx: Any, inputs: list[Any]) -> Optional[Iterable[Any]]:
        """The outputs of the window function for one window."""
        return self._evaluate(key, window, ctx, inputs)

    def clear(self, ctx: Any) -> None:
        """The window expired: ``ProcessWindowFunction.clear(ctx)``."""
        fn = self.window_function
        if isinstance(fn, (ProcessWindowFunction, ProcessAllWindowFunction)):
            fn.clear(ctx)

    @property
    def user_functions(self) -> list[Any]:
        return [f for f in (self.incremental, self.window_function) if f is not None]

    def describe(self) -> str:
        """``ReduceFunction, MyProcessWindowFunction``: the functions' class names, for the operator's name."""
        names = [type(f).__name__ if not callable(f) or isinstance(f, (ReduceFunction, AggregateFunction))
                 or hasattr(f, "apply") or hasattr(f, "process") else getattr(f, "__name__", type(f).__name__)
                 for f in self.user_functions]
        return ", ".join(names) if names else "PassThroughWindowFunction"


def _pass_through(key: Any, window: Any, ctx: Any, inputs: Any) -> Any:
    return inputs


MISSING = _MISSING
