"""Stateless operators: map, flat_map, filter, the sink-function and print sinks, timestamp assignment.

Each works on a whole batch with one comprehension over the records (``[f(v) for v in values]``), binds
what it calls to locals, and builds no per-record wrapper when the batch carries no timestamps. Output
records keep their input's timestamp, as Flink's operators do. Emitting happens outside the ``try`` that
guards the user function, so an error further down the chain is not blamed on this operator.

Source of the semantics: Flink ``StreamMap``, ``StreamFlatMap``, ``StreamFilter``, ``StreamSink``,
``PrintSinkFunction``/``PrintSinkOutputWriter``. ``TimestampsAndWatermarksOperator`` lives in
:mod:`yflink.streaming.operators.watermarks` (re-exported here).
"""

from __future__ import annotations

import os
import sys
import time
from itertools import compress
from typing import Any, Optional

from yflink.common.typeinfo import TypeInformation, python_string
from yflink.datastream.functions import SinkFunction
from yflink.state.backends import create_keyed_state_backend
from yflink.state.key_groups import fast_key_selector
from yflink.streaming.operators.base import StreamOperator
from yflink.streaming.operators.state_handling import ensure_initialized
from yflink.streaming.operators.udf import (
    MIN_WATERMARK,
    StreamingRuntimeContext,
    as_callable,
    close_function,
    open_function,
    user_error,
)
from yflink.streaming.operators.watermarks import TimestampsAndWatermarksOperator  # noqa: F401 - re-exported


class UdfOperator(StreamOperator):
    """An operator around one user function (Flink ``AbstractUdfStreamOperator``).

    Args:
        function: a Function object (``MapFunction``, ...) or a plain callable.
        name: the operator's name, shown in the graph and in error messages.
        key_selector: set when the input is a keyed stream: the operator then has keyed state and sets the
            current key before each call, so ``runtime_context.get_state`` works in map/flat_map/filter too.

    ``method`` names the Function's method called per record (``map``, ``flat_map``, ``filter``, ...).
    """

    method = ""

    def __init__(self, function: Any, name: str, key_selector: Any = None) -> None:
        super().__init__(name)
        self.function = function
        self.key_selector = key_selector
        if key_selector is not None:
            self.is_keyed = True
        self._fn: Any = None

    def open(self) -> None:
        if self.is_keyed and self.keyed_backend is None:
            self.keyed_backend = create_keyed_state_backend(self.task_info)
        ensure_initialized(self)  # CheckpointedFunction.initialize_state runs before open, as in Flink
        user_key_fn = as_callable(self.key_selector, "get_key") if self.key_selector is not None else None
        self._user_key_fn = user_key_fn  # errors name the user's function, not its itemgetter
        self._key_fn: Any = fast_key_selector(user_key_fn) if user_key_fn is not None else None
        self.runtime_context = StreamingRuntimeContext(self.task_info, self.keyed_backend)
        open_function(self.function, self.runtime_context, self.name)
        self._fn = as_callable(self.function, self.method)

    def close(self) -> None:
        close_function(self.function, self.name)

    def _keys(self, values: list[Any]) -> list[Any]:
        """The key of every value (keyed input only); wraps the key selector's errors."""
        key_fn = self._key_fn
        try:
            return list(map(key_fn, values))
        except Exception as exc:
            raise user_error(self.name, self._user_key_fn, exc) from exc

    def _error(self, exc: BaseException) -> Exception:
        return user_error(self.name, self._fn or self.function, exc)


def _keyed_calls(f: Any, values: list[Any], keys: list[Any], set_key: Any) -> list[Any]:
    """``[f(v) for v in values]`` with the current key set before each call."""
    results: list[Any] = []
    append = results.append
    for k, v in zip(keys, values, strict=True):
        set_key(k)
        append(f(v))
    return results


class StreamMap(UdfOperator):
    """``map``: one output per input."""

    method = "map"

    def __init__(self, function: Any, name: str = "Map", key_selector: Any = None) -> None:
        super().__init__(function, name, key_selector)

    def process_batch(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        f = self._fn
        keys = self._keys(values) if self._key_fn is not None else None
        try:
            if keys is None:
                out = [f(v) for v in values]
            else:
                out = _keyed_calls(f, values, keys, self.keyed_backend.set_current_key)
        except Exception as exc:
            raise self._error(exc) from exc
        self.output.emit(out, timestamps)


class StreamFlatMap(UdfOperator):
    """``flat_map``: the function yields (or returns an iterable of) zero or more outputs per input."""

    method = "flat_map"

    def __init__(self, function: Any, name: str = "FlatMap", key_selector: Any = None) -> None:
        super().__init__(function, name, key_selector)

    def process_batch(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        f = self._fn
        keys = self._keys(values) if self._key_fn is not None else None
        out_ts: Optional[list[int]] = None
        try:
            if timestamps is None and keys is None:
                out = [x for v in values for x in f(v)]
            else:
                out, out_ts = [], []
                set_key = self.keyed_backend.set_current_key if keys is not None else None
                for i, v in enumerate(values):
                    if set_key is not None:
                        set_key(keys[i])  # type: ignore[index]
                    produced = list(f(v))
                    out += produced
                    if timestamps is not None:
                        out_ts += [timestamps[i]] * len(produced)
                if timestamps is None:
                    out_ts = None
        except Exception as exc:
            raise self._error(exc) from exc
        if out:
            self.output.emit(out, out_ts)


class StreamFilter(UdfOperator):
    """``filter``: keeps the inputs for which the function returns a true value."""

    method = "filter"

    def __init__(self, function: Any, name: str = "Filter", key_selector: Any = None) -> None:
        super().__init__(function, name, key_selector)

    def process_batch(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        f = self._fn
        keys = self._keys(values) if self._key_fn is not None else None
        try:
            if timestamps is None and keys is None:
                out = [v for v in values if f(v)]
                out_ts = None
            else:
                if keys is None:
                    keep = [f(v) for v in values]
                else:
                    keep = _keyed_calls(f, values, keys, self.keyed_backend.set_current_key)
                out = list(compress(values, keep))
                out_ts = list(compress(timestamps, keep)) if timestamps is not None else None
        except Exception as exc:
            raise self._error(exc) from exc
        if out:
            self.output.emit(out, out_ts)


class _SinkContext(SinkFunction.Context):
    __slots__ = ("_timestamp", "watermark")

    def __init__(self) -> None:
        self._timestamp: Optional[int] = None
        self.watermark = MIN_WATERMARK

    def current_processing_time(self) -> int:
        return time.time_ns() // 1_000_000

    def current_watermark(self) -> int:
        return self.watermark

    def timestamp(self) -> Optional[int]:
        return self._timestamp


class SinkFunctionOperator(UdfOperator):
    """``add_sink``: calls ``SinkFunction.invoke(value, context)`` per record, ``finish()`` at end of input."""

    method = "invoke"

    def __init__(self, function: SinkFunction, name: str = "Unnamed") -> None:
        super().__init__(function, name)

    def open(self) -> None:
        super().open()
        self._ctx = _SinkContext()

    def process_batch(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        invoke, ctx = self._fn, self._ctx
        try:
            if timestamps is None:
                ctx._timestamp = None
                for v in values:
                    invoke(v, ctx)
            else:
                for v, ts in zip(values, timestamps, strict=True):
                    ctx._timestamp = ts
                    invoke(v, ctx)
        except Exception as exc:
            raise self._error(exc) from exc

    def process_watermark(self, watermark: int) -> None:
        self._ctx.watermark = watermark

    def end_input(self) -> None:
        finish = getattr(self.function, "finish", None)
        if callable(finish):
            try:
                finish()
            except Exception as exc:
                raise user_error(self.name, finish, exc) from exc


def print_prefix(sink_identifier: Optional[str], subtask_index: int, parallelism: int) -> str:
    """Flink's ``PrintSinkOutputWriter`` prefix: ``id:3> `` / ``3> `` with parallelism > 1, ``id> `` / ``""``."""
    prefix = sink_identifier or ""
    if parallelism > 1:
        if prefix:
            prefix += ":"
        prefix += str(subtask_index + 1)
    if prefix:
        prefix += "> "
    return prefix


_PIPE_BUF = 4096  # POSIX: writes up to this size to a pipe are never interleaved with other writers


def write_lines_atomically(lines: list[str]) -> None:
    """Write whole lines to standard output in chunks of at most PIPE_BUF bytes.

    Several slot-worker processes share one standard output (the client's, on the embedded cluster); a chunk
    written with one ``write(2)`` of at most PIPE_BUF bytes is never split by another process's output, so
    lines never interleave. A longer line goes alone in its own write.
    """
    out = sys.stdout
    try:
        fd = out.fileno()
    except (AttributeError, OSError, ValueError):  # replaced by a Python object (tests, notebooks)
        out.write("".join(lines))
        out.flush()
        return
    out.flush()
    chunk: list[bytes] = []
    size = 0
    for line in lines:
        data = line.encode("utf-8", "replace")
        if chunk and size + len(data) > _PIPE_BUF:
            _write_all(fd, b"".join(chunk))
            chunk, size = [], 0
        chunk.append(data)
        size += len(data)
    if chunk:
        _write_all(fd, b"".join(chunk))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class PrintSinkOperator(StreamOperator):
    """``print()``: writes each record on its own line to standard output, flushed after every batch.

    Args:
        sink_identifier: printed before each record (``print("out")`` gives ``out> ...``).
        output_type: the stream's TypeInformation: records show as Flink's print sink shows them
            (:meth:`TypeInformation.to_display_string`); None shows Python's ``str()``.
    """

    def __init__(self, sink_identifier: Optional[str] = None, output_type: Optional[TypeInformation] = None,
                 name: str = "Print to Std. Out") -> None:
        super().__init__(name)
        self.sink_identifier = sink_identifier
        self.output_type = output_type

    def open(self) -> None:
        self._prefix = print_prefix(self.sink_identifier, self.task_info.subtask_index, self.task_info.parallelism)
        self._show = self.output_type.to_display_string if self.output_type is not None else python_string

    def process_batch(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        show, prefix = self._show, self._prefix
        if prefix:
            lines = [f"{prefix}{show(v)}\n" for v in values]
        else:
            lines = [f"{show(v)}\n" for v in values]
        write_lines_atomically(lines)

    def process_watermark(self, watermark: int) -> None:
        pass
