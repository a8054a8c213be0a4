"""Row and RowKind (PyFlink ``pyflink.common.types``).

A :class:`Row` is an ordered sequence of field values, optionally with field names, plus a
:class:`RowKind` (the change-log flag of Flink's Table API). It behaves like PyFlink's ``Row``:

* ``Row(1, 'a')`` makes a positional row; ``Row(name='Alice', age=11)`` a named row whose fields are
  **sorted by name** (PyFlink's rule: ``Row(age=11, name='Alice')``);
* fields are read by index (``row[0]``), by name (``row['name']``) or as attributes (``row.name``), and
  written by index or name (``row[0] = 2``);
* ``Person = Row("name", "age")`` makes a row "class"; ``Person("Alice", 11)`` a named row;
* rows are equal when their field names, kind and values are equal; they hash like the tuple of their
  values, so a Row can be a key (``key_by(lambda r: r)``); they pickle with names and kind.

Source of the semantics: PyFlink ``pyflink/common/types.py`` and Flink ``org.apache.flink.types.Row``
(``toString`` as ``+I[a, 1]`` is produced by :meth:`RowKind.short_string` and the type system's display).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from enum import Enum
from typing import Any, Optional

__all__ = ["Row", "RowKind"]


class RowKind(Enum):
    """Kind of change a row describes (Flink ``RowKind``)."""

    INSERT = 0
    UPDATE_BEFORE = 1
    UPDATE_AFTER = 2
    DELETE = 3

    def short_string(self) -> str:
        """Flink's short form: ``+I``, ``-U``, ``+U`` or ``-D``."""
        return _SHORT[self.value]


_SHORT = ("+I", "-U", "+U", "-D")


def _create_row(fields: Optional[Sequence[str]], values: Sequence[Any], row_kind: Optional[RowKind] = None) -> Row:
    row = Row(*values)
    if fields is not None:
        row._fields = list(fields)
    if row_kind is not None:
        row._row_kind = row_kind
    return row


class Row:
    """A row of field values (PyFlink ``Row``); see the module docstring for the semantics.

    Raises:
        ValueError: both positional and keyword arguments are given.
    """

    __slots__ = ("_values", "_fields", "_row_kind", "_from_dict")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and kwargs:
            raise ValueError("Can not use both args and kwargs to create Row")
        if kwargs:
            names = sorted(kwargs)
            self._fields = names
            self._values = [kwargs[n] for n in names]
            self._from_dict = True
        else:
            self._values = list(args)
        self._row_kind = RowKind.INSERT

    # --- PyFlink's methods ---------------------------------------------------------------------------
    def as_dict(self, recursive: bool = False) -> dict[str, Any]:
        """The row as ``{field name: value}``; nested Rows too when ``recursive``.

        Raises:
            TypeError: the row has no field names.
        """
        if not hasattr(self, "_fields"):
            raise TypeError("Cannot convert a Row class into dict")
        if recursive:
            def conv(obj: Any) -> Any:
                if isinstance(obj, Row):
                    return obj.as_dict(True)
                if isinstance(obj, list):
                    return [conv(o) for o in obj]
                if isinstance(obj, dict):
                    return {k: conv(v) for k, v in obj.items()}
                return obj
            return dict(zip(self._fields, (conv(o) for o in self._values), strict=False))
        return dict(zip(self._fields, self._values, strict=False))

    def get_row_kind(self) -> RowKind:
        return self._row_kind

    def set_row_kind(self, row_kind: RowKind) -> None:
        self._row_kind = row_kind

    def set_field_names(self, field_names: list[str]) -> None:
        self._fields = list(field_names)

    def get_field_names(self) -> Optional[list[str]]:
        """The field names, or None for a positional row (yflink addition)."""
        return getattr(self, "_fields", None)

    def _is_retract_msg(self) -> bool:
        return self._row_kind in (RowKind.UPDATE_BEFORE, RowKind.DELETE)

    def _is_accumulate_msg(self) -> bool:
        return self._row_kind in (RowKind.UPDATE_AFTER, RowKind.INSERT)

    # --- container protocol --------------------------------------------------------------------------
    def __call__(self, *args: Any) -> Row:
        """Use a row of field names as a row "class": ``Row("a", "b")(1, 2)``."""
        if len(args) > len(self):
            raise ValueError(f"Can not create Row with fields {self}, expected {len(self)} values but got {args}")
        return _create_row(self._values, args, self._row_kind)

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, (int, slice)):
            return self._values[item]
        try:
            return self._values[self._fields.index(item)]
        except AttributeError:
            raise KeyError(item) from None
        except ValueError:
            raise ValueError(item) from None

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(key, (int, slice)):
            self._values[key] = value
            return
        try:
            self._values[self._fields.index(key)] = value
        except AttributeError:
            raise KeyError(key) from None
        except ValueError:
            raise ValueError(value) from None

    def __getattr__(self, item: str) -> Any:
        if item.startswith("_"):
            raise AttributeError(item)
        try:
            return self._values[self._fields.index(item)]
        except (AttributeError, ValueError):
            raise AttributeError(item) from None

    def __contains__(self, item: Any) -> bool:
        return item in self._values

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Row):
            return False
        if getattr(self, "_fields", None) != getattr(other, "_fields", None):
            return False
        return (type(self) is type(other) and self._row_kind == other._row_kind
                and self._values == other._values)

    def __hash__(self) -> int:
        return hash(tuple(self._values))

    def __reduce__(self) -> tuple[Any, ...]:
        return _create_row, (getattr(self, "_fields", None), tuple(self._values), self._row_kind)

    def __repr__(self) -> str:
        if hasattr(self, "_fields"):
            fields = ", ".join(f"{k}={v!r}" for k, v in zip(self._fields, self._values, strict=False))
            return f"Row({fields})"
        return f"<Row({', '.join(repr(field) for field in self._values)})>"
