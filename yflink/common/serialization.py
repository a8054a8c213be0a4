"""Turning records into bytes and back (PyFlink ``pyflink.common.serialization``).

- :class:`Encoder` writes records into the part files of a row-format ``FileSink``.
- :class:`SerializationSchema` / :class:`DeserializationSchema` turn single records into bytes and back (used by
  message-queue connectors later); :class:`SimpleStringSchema` does it for strings.

PyFlink's classes wrap Java objects; these are plain Python with the same names and arguments.
"""

from __future__ import annotations

import codecs
from typing import Any

from yflink.common.java_format import java_string

__all__ = [
    "DeserializationSchema",
    "Encoder",
    "SerializationSchema",
    "SimpleStringEncoder",
    "SimpleStringSchema",
]


def _check_charset(charset_name: str) -> str:
    """The codec name Python knows ``charset_name`` by (Java names like ``UTF-8``, ``ISO-8859-1`` work)."""
    try:
        return codecs.lookup(charset_name).name
    except LookupError:
        raise ValueError(f"unknown charset {charset_name!r}: use a name Python's codecs know, e.g. 'UTF-8'") from None


class SerializationSchema:
    """Turns a record into bytes."""

    def serialize(self, element: Any) -> bytes:
        raise NotImplementedError


class DeserializationSchema:
    """Turns bytes into a record."""

    def deserialize(self, message: bytes) -> Any:
        raise NotImplementedError


class SimpleStringSchema(SerializationSchema, DeserializationSchema):
    """Strings to bytes and back in ``charset`` (default UTF-8); ``serialize`` applies ``str()`` first."""

    def __init__(self, charset: str = "UTF-8") -> None:
        self.charset = _check_charset(charset)

    def serialize(self, element: Any) -> bytes:
        return str(element).encode(self.charset)

    def deserialize(self, message: bytes) -> str:
        return message.decode(self.charset)


class Encoder:
    """Writes records into a row-format ``FileSink``'s part files (Flink ``Encoder``).

    Subclasses implement :meth:`encode`; :meth:`encode_batch` may be overridden to encode a whole batch at once
    (the sink calls it once per batch).
    """

    def encode(self, element: Any) -> bytes:
        """The bytes of one record, including its delimiter."""
        raise NotImplementedError

    def encode_batch(self, elements: list[Any]) -> bytes:
        """The bytes of several records, in order."""
        return b"".join(self.encode(e) for e in elements)

    @staticmethod
    def simple_string_encoder(charset_name: str = "UTF-8") -> SimpleStringEncoder:
        """An encoder writing ``str(element)`` and a newline per record, in ``charset_name``."""
        return SimpleStringEncoder(charset_name)


class SimpleStringEncoder(Encoder):
    """Writes each record as text plus ``"\n"`` (Flink ``SimpleStringEncoder``, which writes ``toString()``).

    Records show as Flink shows their Java counterparts, like ``DataStream.print()``: strings as they are, tuples
    as ``(a,1)``, Rows as ``+I[a, 1]``, floats as Java doubles (``1.0E7``), None as ``null``
    (:func:`yflink.common.java_format.java_string`); other objects with ``str()``.
    """

    def __init__(self, charset_name: str = "UTF-8") -> None:
        self.charset_name = _check_charset(charset_name)

    def encode(self, element: Any) -> bytes:
        text = element if type(element) is str else java_string(element)
        return (text + "\n").encode(self.charset_name)

    def encode_batch(self, elements: list[Any]) -> bytes:
        if not elements:
            return b""
        text = "\n".join([e if type(e) is str else java_string(e) for e in elements])
        return (text + "\n").encode(self.charset_name)
