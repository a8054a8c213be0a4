"""How Java's ``toString`` shows values, for the display of typed streams (``DataStream.print``).

Flink's print sink writes ``record.toString()`` of the Java object; these functions give the same text for
the Python value: ``Double.toString`` (``1.0E-4``), ``Float.toString``, ``Tuple.toString`` (``(a,1)``),
``Row.toString`` (``+I[a, 1]``), ``List``/``Map.toString``, ``java.sql.Timestamp``/``Date``/``Time`` and
``Instant.toString``, ``null`` for None. Python's ``repr`` already gives the shortest digits that read back
as the same double, which is what Java's algorithm prints too.
"""

from __future__ import annotations

import datetime
import math
import struct
from decimal import Decimal
from typing import Any

from yflink.common.time import Instant
from yflink.common.types import Row

__all__ = ["java_double_string", "java_float_string", "java_string", "python_string"]


def _java_fp(text: str) -> str:
    """Java's Double/Float.toString layout for the shortest decimal ``text`` of a finite non-zero value."""
    sign, digit_tuple, exponent = Decimal(text).as_tuple()
    digits = "".join(map(str, digit_tuple))
    stripped = digits.rstrip("0")
    exponent = int(exponent) + len(digits) - len(stripped)
    digits = stripped
    e10 = len(digits) - 1 + exponent  # scientific exponent of the first digit
    prefix = "-" if sign else ""
    if -3 <= e10 < 7:
        if e10 >= 0:
            whole = digits[: e10 + 1].ljust(e10 + 1, "0")
            return f"{prefix}{whole}.{digits[e10 + 1:] or '0'}"
        return f"{prefix}0.{'0' * (-e10 - 1)}{digits}"
    return f"{prefix}{digits[0]}.{digits[1:] or '0'}E{e10}"


def java_double_string(value: float) -> str:
    """``Double.toString``: ``1.0``, ``1.0E7``, ``1.0E-4``, ``NaN``, ``Infinity``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    return _java_fp(repr(float(value)))


def java_float_string(value: float) -> str:
    """``Float.toString``: the shortest decimal that reads back as the same 32-bit float."""
    try:
        (f32,) = struct.unpack("f", struct.pack("f", value))
    except OverflowError:
        f32 = math.copysign(math.inf, value)
    if math.isnan(f32) or math.isinf(f32) or f32 == 0:
        return java_double_string(f32)
    for precision in range(9):
        text = f"{f32:.{precision}e}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == f32:
            return _java_fp(text)
    return _java_fp(repr(f32))


def _java_timestamp(value: datetime.datetime) -> str:
    nanos = value.microsecond * 1000
    fraction = str(nanos).rjust(9, "0").rstrip("0") or "0"
    return f"{value:%Y-%m-%d %H:%M:%S}.{fraction}"


def _java_instant(value: Instant) -> str:
    moment = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=value.seconds)
    text = f"{moment:%Y-%m-%dT%H:%M:%S}"
    if value.nanos:
        digits = str(value.nanos).rjust(9, "0")
        while digits.endswith("000"):
            digits = digits[:-3]
        text += "." + digits
    return text + "Z"


def java_string(value: Any) -> str:
    """How Java's ``toString`` shows the Java counterpart of a Python ``value`` whose type is not declared."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_double_string(value)
    if isinstance(value, Row):
        return f"{value.get_row_kind().short_string()}[{', '.join(java_string(v) for v in value)}]"
    if isinstance(value, tuple):
        return f"({','.join(java_string(v) for v in value)})"
    if isinstance(value, list):
        return f"[{', '.join(java_string(v) for v in value)}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{java_string(k)}={java_string(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (bytes, bytearray)):
        return "[" + ", ".join(str(b - 256 if b > 127 else b) for b in value) + "]"
    if isinstance(value, datetime.datetime):
        return _java_timestamp(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.time):
        return f"{value:%H:%M:%S}"
    if isinstance(value, Instant):
        return _java_instant(value)
    return str(value)


def python_string(value: Any) -> str:
    """PyFlink's display of an untyped (pickled) value: the value itself for ``str``, else ``str(value)``."""
    return value if isinstance(value, str) else str(value)
