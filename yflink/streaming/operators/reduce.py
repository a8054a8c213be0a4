"""Rolling aggregation per key: ``reduce``, ``sum``, ``min``, ``max``, ``min_by``, ``max_by``.

For every input record the operator combines it with the key's aggregate so far (the first record of a key
is its aggregate) and emits the new aggregate, with the input record's timestamp: Flink's streaming
semantics. The aggregates live in the keyed state backend's table ``_reduce_state`` (``{key: aggregate}``).

``sum``/``min``/``max`` act on one field, chosen by position (or by name for named Rows), of tuples, lists
and Rows, and on the whole value of a basic type (position 0 only); the other fields come from the key's
first record. ``min_by``/``max_by`` keep the whole record that has the smallest/largest field, the earlier
one on ties. Aggregates are new objects: a Row or list already emitted is never modified afterwards.

Source of the semantics: Flink ``StreamGroupedReduceOperator`` and PyFlink ``KeyedStream._accumulate``.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any, Optional, Union

from yflink.common.types import Row
from yflink.datastream.functions import ReduceFunction
from yflink.streaming.operators.simple import UdfOperator

_MISSING = object()
REDUCE_STATE = "_reduce_state"


class AggregationType(Enum):
    """The built-in aggregations of a KeyedStream (PyFlink ``KeyedStream.AccumulateType``)."""

    MIN = 1
    MAX = 2
    MIN_BY = 3
    MAX_BY = 4
    SUM = 5


def _tuple_aggregation(kind: AggregationType, pos: int, arity: int) -> Callable[[Any, Any], Any]:
    """A fast aggregation of field ``pos`` of plain tuples (the common ``(key, count)`` shape special-cased)."""
    if kind is AggregationType.SUM:
        if arity == 2 and pos == 1:
            return lambda a, b: (a[0], a[1] + b[1])
        if arity == 2 and pos == 0:
            return lambda a, b: (a[0] + b[0], a[1])
        return lambda a, b: a[:pos] + (a[pos] + b[pos],) + a[pos + 1:]
    if kind is AggregationType.MIN:
        return lambda a, b: a[:pos] + (b[pos],) + a[pos + 1:] if b[pos] < a[pos] else a
    return lambda a, b: a[:pos] + (b[pos],) + a[pos + 1:] if b[pos] > a[pos] else a


def _with_field(record: Any, position: Union[int, str], value: Any) -> Any:
    """A copy of ``record`` (tuple, list or Row) whose field ``position`` is ``value``."""
    if isinstance(record, Row):
        copy = Row(*record)
        names = record.get_field_names()
        if names is not None:
            copy.set_field_names(names)
        copy.set_row_kind(record.get_row_kind())
        copy[position] = value
        return copy
    fields = list(record)
    fields[position] = value  # type: ignore[index]
    return tuple(fields) if isinstance(record, tuple) else fields


class AggregationFunction(ReduceFunction):
    """The ReduceFunction behind ``sum``/``min``/``max``/``min_by``/``max_by``.

    Args:
        kind: which aggregation.
        position: the field, an index or (for named Rows) a name.

    Raises:
        TypeError: ``position`` is neither int nor str, or is not 0 on a value of a basic type.
    """

    def __init__(self, kind: AggregationType, position: Union[int, str]) -> None:
        if not isinstance(position, (int, str)) or isinstance(position, bool):
            raise TypeError("The field position must be of int or str type to locate the value to calculate "
                            f"for min, max, min_by, max_by and sum. The given type is: {type(position)}")
        self.kind = kind
        self.position = position
        self._reduce: Optional[Callable[[Any, Any], Any]] = None

    def _build(self, sample: Any) -> Callable[[Any, Any], Any]:
        kind, pos = self.kind, self.position
        composite = isinstance(sample, (tuple, list, Row))
        if kind is AggregationType.MIN_BY:
            if composite:
                return lambda a, b: b if b[pos] < a[pos] else a
            return lambda a, b: b if b < a else a
        if kind is AggregationType.MAX_BY:
            if composite:
                return lambda a, b: b if b[pos] > a[pos] else a
            return lambda a, b: b if b > a else a
        if not composite:
            if pos != 0:
                raise TypeError(f"The {pos} field selected on a basic type. A field expression on a basic type can "
                                "only select the 0th field (which means selecting the entire basic type).")
            if kind is AggregationType.SUM:
                return lambda a, b: a + b
            if kind is AggregationType.MIN:
                return lambda a, b: b if b < a else a
            return lambda a, b: b if b > a else a
        if type(sample) is tuple and isinstance(pos, int):
            return _tuple_aggregation(kind, pos, len(sample))
        if kind is AggregationType.SUM:
            return lambda a, b: _with_field(a, pos, a[pos] + b[pos])
        if kind is AggregationType.MIN:
            return lambda a, b: _with_field(a, pos, b[pos]) if b[pos] < a[pos] else a
        return lambda a, b: _with_field(a, pos, b[pos]) if b[pos] > a[pos] else a

    def reduce(self, value1: Any, value2: Any) -> Any:
        reduce = self._reduce
        if reduce is None:
            reduce = self._reduce = self._build(value2)
        return reduce(value1, value2)

    def __repr__(self) -> str:
        return f"{self.kind.name.lower()}({self.position!r})"


class StreamGroupedReduce(UdfOperator):
    """``KeyedStream.reduce`` (and the built-in aggregations): emits the updated aggregate per record.

    In BATCH execution (``batch_mode``, set when the job is built) it emits only each key's final aggregate,
    at end of input, as Flink does in batch mode.

    Args:
        function: a ReduceFunction or a callable ``(aggregate, value) -> aggregate``.
        key_selector: the stream's key selector (a KeySelector or callable).
    """

    method = "reduce"
    is_keyed = True
    #: Records per batch emitted at end of input in BATCH mode.
    FINAL_BATCH = 1024

    def __init__(self, function: Any, key_selector: Any, name: str = "Reduce") -> None:
        super().__init__(function, name, key_selector)
        self.batch_mode = False

    def open(self) -> None:
        super().open()
        self._built: Any = None
        self._table = self.keyed_backend.table(REDUCE_STATE)

    def process_batch(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        keys = self._keys(values)
        reduce, table = self._fn, self._table
        lookup = table.get
        set_key = self.keyed_backend.set_current_key
        out: list[Any] = []
        append = out.append
        try:
            if isinstance(self.function, AggregationFunction):  # touches no state: no current key needed
                for k, v in zip(keys, values, strict=True):
                    current = lookup(k, _MISSING)
                    if current is not _MISSING:
                        v = reduce(current, v)
                    table[k] = v
                    append(v)
            else:
                for k, v in zip(keys, values, strict=True):
                    current = lookup(k, _MISSING)
                    if current is not _MISSING:
                        set_key(k)
                        v = reduce(current, v)
                    table[k] = v
                    append(v)
        except Exception as exc:
            raise self._error(exc) from exc
        if reduce is not self._built and isinstance(self.function, AggregationFunction):
            built = self.function._reduce
            if built is not None:
                self._fn = self._built = built  # skip AggregationFunction.reduce once it chose its shape
        if not self.batch_mode:
            self.output.emit(out, timestamps)

    def end_input(self) -> None:
        if self.batch_mode and self._table:
            finals = list(self._table.values())
            for start in range(0, len(finals), self.FINAL_BATCH):
                self.output.emit(finals[start:start + self.FINAL_BATCH], None)
