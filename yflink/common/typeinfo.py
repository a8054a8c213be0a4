"""Type information (PyFlink ``pyflink.common.typeinfo``): ``Types.STRING()``, ``Types.TUPLE([...])``, ...

In PyFlink a TypeInformation chooses the Java serializer of a stream. yflink moves Python objects (pickled
between tasks, never between chained operators), so a TypeInformation here does two things:

* it decides how :meth:`DataStream.print` shows a value, the way Flink's print sink shows the Java object
  (:meth:`TypeInformation.to_display_string`): ``Types.TUPLE`` as Java's ``Tuple.toString()`` ``(a,1)``,
  ``Types.ROW`` as ``Row.toString()`` ``+I[a, 1]``, basic types as Java's ``toString`` (``true``,
  ``1.0E-4``, ``null``); a stream without a type (``Types.PICKLED_BYTE_ARRAY()``) shows Python's ``str()``;
* it shapes the elements of ``from_collection(..., type_info=...)`` as PyFlink hands them to functions:
  tuples and lists become :class:`~yflink.common.types.Row` for ``Types.ROW``/``ROW_NAMED`` and tuples
  for ``Types.TUPLE``.

Source of the display rules: Flink ``PrintSinkOutputWriter`` (``record.toString()``), ``Tuple2.toString``,
``RowUtils.deepToStringRow``, ``Double.toString``/``Float.toString``, ``java.sql.Timestamp.toString``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from typing import Any, Optional

from yflink.common.java_format import java_double_string, java_float_string, java_string, python_string
from yflink.common.types import Row, RowKind

__all__ = ["TypeInformation", "Types", "java_double_string", "java_float_string", "java_string", "python_string"]


# --- the type classes ------------------------------------------------------------------------------
class TypeInformation:
    """Base of all type information (PyFlink ``TypeInformation``)."""

    def to_display_string(self, value: Any) -> str:
        """How Flink's print sink shows ``value`` of this type (Java's ``toString`` of the Java object)."""
        return java_string(value)

    def _normalize(self, value: Any) -> Any:
        """The Python shape PyFlink gives a value of this type (Row for ROW, tuple for TUPLE)."""
        return value

    # PyFlink's conversion hooks, kept for programs that call them; yflink converts nothing.
    def need_conversion(self) -> bool:
        return False

    def to_internal_type(self, obj: Any) -> Any:
        return obj

    def from_internal_type(self, obj: Any) -> Any:
        return obj

    def __hash__(self) -> int:
        return hash(repr(self))


class BasicType(Enum):
    STRING = "String"
    BYTE = "Byte"
    BOOLEAN = "Boolean"
    SHORT = "Short"
    INT = "Integer"
    LONG = "Long"
    FLOAT = "Float"
    DOUBLE = "Double"
    CHAR = "Char"
    BIG_INT = "BigInteger"
    BIG_DEC = "BigDecimal"
    INSTANT = "Instant"


def _show_string(value: Any) -> str:
    return value if isinstance(value, str) else java_string(value)


def _show_boolean(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return java_string(value)


def _show_integer(value: Any) -> str:
    return str(value) if type(value) is int else java_string(value)


def _show_float(value: Any) -> str:
    return java_float_string(value) if isinstance(value, (int, float)) and value is not None \
        and not isinstance(value, bool) else java_string(value)


def _show_double(value: Any) -> str:
    return java_double_string(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else java_string(value)


def _show_decimal(value: Any) -> str:
    return str(value) if isinstance(value, Decimal) else java_string(value)


_BASIC_DISPLAY: dict[BasicType, Callable[[Any], str]] = {
    BasicType.STRING: _show_string, BasicType.CHAR: _show_string, BasicType.BOOLEAN: _show_boolean,
    BasicType.BYTE: _show_integer, BasicType.SHORT: _show_integer, BasicType.INT: _show_integer,
    BasicType.LONG: _show_integer, BasicType.BIG_INT: _show_integer, BasicType.FLOAT: _show_float,
    BasicType.DOUBLE: _show_double, BasicType.BIG_DEC: _show_decimal, BasicType.INSTANT: java_string,
}


class BasicTypeInfo(TypeInformation):
    """Primitive types, String, BigInteger, BigDecimal and Instant."""

    def __init__(self, basic_type: BasicType) -> None:
        self._basic_type = basic_type
        self._display = _BASIC_DISPLAY[basic_type]

    def to_display_string(self, value: Any) -> str:
        return self._display(value)

    def __eq__(self, o: object) -> bool:
        return isinstance(o, BasicTypeInfo) and self._basic_type == o._basic_type

    def __hash__(self) -> int:
        return hash(self._basic_type)

    def __repr__(self) -> str:
        return self._basic_type.value

    @staticmethod
    def STRING_TYPE_INFO() -> BasicTypeInfo:
        return BasicTypeInfo(BasicType.STRING)

    @staticmethod
    def BOOLEAN_TYPE_INFO() -> BasicTypeInfo:
        return BasicTypeInfo(BasicType.BOOLEAN)

    @staticmethod
    def BYTE_TYPE_INFO() -> BasicTypeInfo:
        return BasicTypeInfo(BasicType.BYTE)

    @staticmethod
    def SHORT_TYPE_INFO() -> BasicTypeInfo:
        return BasicTypeInfo(BasicType.SHORT)

    @staticmethod
    def INT_TYPE_INFO() -> BasicTypeInfo:
        return BasicTypeInfo(BasicType.INT)

    @staticmethod
    def LONG_TYPE_INFO() -> BasicTypeInfo:
        return BasicTypeInfo(BasicType.LONG)

    @staticmethod
    def FLOAT_TYPE_INFO() -> BasicTypeInfo:
        return BasicTypeInfo(BasicType.FLOAT)

    @staticmethod
    def DOUBLE_TYPE_INFO() -> BasicTypeInfo:
        return BasicTypeInfo(BasicType.DOUBLE)

    @staticmethod
    def CHAR_TYPE_INFO() -> BasicTypeInfo:
        return BasicTypeInfo(BasicType.CHAR)

    @staticmethod
    def BIG_INT_TYPE_INFO() -> BasicTypeInfo:
        return BasicTypeInfo(BasicType.BIG_INT)

    @staticmethod
    def BIG_DEC_TYPE_INFO() -> BasicTypeInfo:
        return BasicTypeInfo(BasicType.BIG_DEC)

    @staticmethod
    def INSTANT_TYPE_INFO() -> InstantTypeInfo:
        return InstantTypeInfo(BasicType.INSTANT)


class InstantTypeInfo(BasicTypeInfo):
    """Type information for :class:`~yflink.common.time.Instant` (shown as ISO-8601, ``...Z``)."""


class _SingletonTypeInfo(TypeInformation):
    _name = ""

    def __eq__(self, o: object) -> bool:
        return type(o) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return self._name


class SqlTimeTypeInfo(TypeInformation):
    """Factory of the SQL date/time types."""

    @staticmethod
    def DATE() -> DateTypeInfo:
        return DateTypeInfo()

    @staticmethod
    def TIME() -> TimeTypeInfo:
        return TimeTypeInfo()

    @staticmethod
    def TIMESTAMP() -> TimestampTypeInfo:
        return TimestampTypeInfo()


class DateTypeInfo(_SingletonTypeInfo):
    """``datetime.date``, shown as ``java.sql.Date``: ``2024-01-31``."""

    _name = "DateTypeInfo"


class TimeTypeInfo(_SingletonTypeInfo):
    """``datetime.time``, shown as ``java.sql.Time``: ``12:30:00``."""

    _name = "TimeTypeInfo"


class TimestampTypeInfo(_SingletonTypeInfo):
    """``datetime.datetime``, shown as ``java.sql.Timestamp``: ``2024-01-31 12:30:00.0``."""

    _name = "TimestampTypeInfo"


class PickledBytesTypeInfo(_SingletonTypeInfo):
    """Any Python object (PyFlink pickles it); shown with Python's ``str()``."""

    _name = "PickledByteArrayTypeInfo"

    def to_display_string(self, value: Any) -> str:
        return python_string(value)


class _ElementTypeInfo(TypeInformation):
    """A container of elements of one type: shown like Java's ``List.toString``/``Arrays.toString``."""

    _label = ""

    def __init__(self, element_type: TypeInformation) -> None:
        self._element_type = element_type

    def to_display_string(self, value: Any) -> str:
        if value is None:
            return "null"
        show = self._element_type.to_display_string
        return "[" + ", ".join(show(v) for v in value) + "]"

    def __eq__(self, o: object) -> bool:
        return type(o) is type(self) and self._element_type == o._element_type  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self._element_type))

    def __repr__(self) -> str:
        return f"{self._label}<{self._element_type}>"


class PrimitiveArrayTypeInfo(_ElementTypeInfo):
    """Arrays of primitives (``int[]``); yflink shows them as ``Arrays.toString`` would."""

    _label = "PrimitiveArrayTypeInfo"


class BasicArrayTypeInfo(_ElementTypeInfo):
    """Arrays of boxed primitives or strings (``Integer[]``)."""

    _label = "BasicArrayTypeInfo"


class ObjectArrayTypeInfo(_ElementTypeInfo):
    """Arrays of non-primitive types."""

    _label = "ObjectArrayTypeInfo"


class ListTypeInfo(_ElementTypeInfo):
    """Lists (Java ``List``): ``[a, b]``."""

    _label = "ListTypeInfo"

    @property
    def elem_type(self) -> TypeInformation:
        return self._element_type


class MapTypeInfo(TypeInformation):
    """Maps (Java ``Map``): ``{k=v, k2=v2}`` in the dict's order."""

    def __init__(self, key_type_info: TypeInformation, value_type_info: TypeInformation) -> None:
        self._key_type_info = key_type_info
        self._value_type_info = value_type_info

    def to_display_string(self, value: Any) -> str:
        if value is None:
            return "null"
        show_key, show_value = self._key_type_info.to_display_string, self._value_type_info.to_display_string
        return "{" + ", ".join(f"{show_key(k)}={show_value(v)}" for k, v in value.items()) + "}"

    def __eq__(self, o: object) -> bool:
        return (isinstance(o, MapTypeInfo) and self._key_type_info == o._key_type_info
                and self._value_type_info == o._value_type_info)

    def __hash__(self) -> int:
        return hash((self._key_type_info, self._value_type_info))

    def __repr__(self) -> str:
        return f"MapTypeInfo<{self._key_type_info}, {self._value_type_info}>"


class RowTypeInfo(TypeInformation):
    """Rows with typed (and optionally named) fields; shown as Flink's ``Row.toString``: ``+I[a, 1]``."""

    def __init__(self, field_types: list[TypeInformation], field_names: Optional[list[str]] = None) -> None:
        self._field_types = list(field_types)
        self._field_names = list(field_names) if field_names is not None else None

    def get_field_names(self) -> list[str]:
        """The field names; ``f0, f1, ...`` when none were given (as Flink names them)."""
        if self._field_names is None:
            return [f"f{i}" for i in range(len(self._field_types))]
        return list(self._field_names)

    def get_field_index(self, field_name: str) -> int:
        names = self.get_field_names()
        return names.index(field_name) if field_name in names else -1

    def get_field_types(self) -> list[TypeInformation]:
        return list(self._field_types)

    def _ordered_values(self, value: Any) -> list[Any]:
        if isinstance(value, dict):
            return [value.get(n) for n in self.get_field_names()]
        if isinstance(value, Row) and self._field_names is not None and value.get_field_names() is not None:
            return [value[n] for n in self._field_names]
        return list(value)

    def to_display_string(self, value: Any) -> str:
        if value is None:
            return "null"
        kind = value.get_row_kind() if isinstance(value, Row) else RowKind.INSERT
        fields = self._ordered_values(value)
        types = self._field_types
        shown = [types[i].to_display_string(v) if i < len(types) else java_string(v) for i, v in enumerate(fields)]
        return f"{kind.short_string()}[{', '.join(shown)}]"

    def _normalize(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, Row):
            if self._field_names is not None and value.get_field_names() is None:
                row = Row(*value)
                row.set_field_names(self._field_names)
                row.set_row_kind(value.get_row_kind())
                return row
            return value
        row = Row(*self._ordered_values(value))
        if self._field_names is not None:
            row.set_field_names(self._field_names)
        return row

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RowTypeInfo) and self._field_types == other._field_types

    def __hash__(self) -> int:
        return hash(tuple(self._field_types))

    def __repr__(self) -> str:
        if self._field_names:
            fields = ", ".join(f"{name}: {t}" for name, t in zip(self._field_names, self._field_types, strict=False))
            return f"RowTypeInfo({fields})"
        return f"RowTypeInfo({', '.join(str(t) for t in self._field_types)})"


class TupleTypeInfo(TypeInformation):
    """Tuples with typed fields; shown as Flink's ``Tuple.toString``: ``(a,1)``."""

    def __init__(self, field_types: list[TypeInformation]) -> None:
        self._field_types = list(field_types)

    def get_field_types(self) -> list[TypeInformation]:
        return list(self._field_types)

    def to_display_string(self, value: Any) -> str:
        if value is None:
            return "null"
        types = self._field_types
        shown = [types[i].to_display_string(v) if i < len(types) else java_string(v) for i, v in enumerate(value)]
        return f"({','.join(shown)})"

    def _normalize(self, value: Any) -> Any:
        return value if value is None or type(value) is tuple else tuple(value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TupleTypeInfo) and self._field_types == other._field_types

    def __hash__(self) -> int:
        return hash(tuple(self._field_types))

    def __repr__(self) -> str:
        return f"TupleTypeInfo({', '.join(str(t) for t in self._field_types)})"


class Types:
    """The type information of the common types (PyFlink ``Types``); each is a factory method."""

    @staticmethod
    def STRING() -> TypeInformation:
        """Python ``str`` (Java ``String``). Supports None."""
        return BasicTypeInfo.STRING_TYPE_INFO()

    @staticmethod
    def BYTE() -> TypeInformation:
        """Python ``int`` in [-128, 127] (Java ``byte``)."""
        return BasicTypeInfo.BYTE_TYPE_INFO()

    @staticmethod
    def BOOLEAN() -> TypeInformation:
        """Python ``bool``, shown ``true``/``false``."""
        return BasicTypeInfo.BOOLEAN_TYPE_INFO()

    @staticmethod
    def SHORT() -> TypeInformation:
        """Python ``int`` (Java ``short``)."""
        return BasicTypeInfo.SHORT_TYPE_INFO()

    @staticmethod
    def INT() -> TypeInformation:
        """Python ``int`` (Java ``int``)."""
        return BasicTypeInfo.INT_TYPE_INFO()

    @staticmethod
    def LONG() -> TypeInformation:
        """Python ``int`` (Java ``long``)."""
        return BasicTypeInfo.LONG_TYPE_INFO()

    @staticmethod
    def FLOAT() -> TypeInformation:
        """Python ``float`` shown as a 32-bit Java ``float``."""
        return BasicTypeInfo.FLOAT_TYPE_INFO()

    @staticmethod
    def DOUBLE() -> TypeInformation:
        """Python ``float`` (Java ``double``): ``1.0``, ``1.0E7``."""
        return BasicTypeInfo.DOUBLE_TYPE_INFO()

    @staticmethod
    def CHAR() -> TypeInformation:
        """A one-character ``str``."""
        return BasicTypeInfo.CHAR_TYPE_INFO()

    @staticmethod
    def BIG_INT() -> TypeInformation:
        """Python ``int`` of any size (Java ``BigInteger``)."""
        return BasicTypeInfo.BIG_INT_TYPE_INFO()

    @staticmethod
    def BIG_DEC() -> TypeInformation:
        """``decimal.Decimal`` (Java ``BigDecimal``)."""
        return BasicTypeInfo.BIG_DEC_TYPE_INFO()

    @staticmethod
    def INSTANT() -> TypeInformation:
        """:class:`~yflink.common.time.Instant`."""
        return BasicTypeInfo.INSTANT_TYPE_INFO()

    @staticmethod
    def SQL_DATE() -> TypeInformation:
        """``datetime.date``."""
        return SqlTimeTypeInfo.DATE()

    @staticmethod
    def SQL_TIME() -> TypeInformation:
        """``datetime.time``."""
        return SqlTimeTypeInfo.TIME()

    @staticmethod
    def SQL_TIMESTAMP() -> TypeInformation:
        """``datetime.datetime``."""
        return SqlTimeTypeInfo.TIMESTAMP()

    @staticmethod
    def PICKLED_BYTE_ARRAY() -> TypeInformation:
        """Any picklable Python object: the type of a stream that declares none."""
        return PickledBytesTypeInfo()

    @staticmethod
    def ROW(field_types: list[TypeInformation]) -> RowTypeInfo:
        """:class:`~yflink.common.types.Row` with fields of the given types."""
        return RowTypeInfo(field_types)

    @staticmethod
    def ROW_NAMED(field_names: list[str], field_types: list[TypeInformation]) -> RowTypeInfo:
        """Row with named fields of the given types."""
        return RowTypeInfo(field_types, field_names)

    @staticmethod
    def TUPLE(field_types: list[TypeInformation]) -> TupleTypeInfo:
        """Python ``tuple`` with fields of the given types."""
        return TupleTypeInfo(field_types)

    @staticmethod
    def PRIMITIVE_ARRAY(element_type: TypeInformation) -> TypeInformation:
        """An array of primitives (a Python list or bytes)."""
        return PrimitiveArrayTypeInfo(element_type)

    @staticmethod
    def BASIC_ARRAY(element_type: TypeInformation) -> TypeInformation:
        """An array of boxed primitives or strings (a Python list)."""
        return BasicArrayTypeInfo(element_type)

    @staticmethod
    def OBJECT_ARRAY(element_type: TypeInformation) -> TypeInformation:
        """An array of objects (a Python list)."""
        return ObjectArrayTypeInfo(element_type)

    @staticmethod
    def MAP(key_type_info: TypeInformation, value_type_info: TypeInformation) -> TypeInformation:
        """A Python ``dict``."""
        return MapTypeInfo(key_type_info, value_type_info)

    @staticmethod
    def LIST(element_type_info: TypeInformation) -> TypeInformation:
        """A Python ``list``."""
        return ListTypeInfo(element_type_info)
