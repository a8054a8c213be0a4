"""Type serializers (PyFlink ``pyflink.common.serializer``).

PyFlink programs name :class:`TypeSerializer` in type hints and in custom window assigners
(``def get_window_serializer(self) -> TypeSerializer[TimeWindow]``). yflink moves Python objects with pickle
(protocol 5) and never asks a serializer, so these exist for programs that subclass or return them; the default
methods pickle, so a serializer that only exists to be returned works as it is.

Source: PyFlink ``pyflink/common/serializer.py``.
"""

from __future__ import annotations

import pickle
from abc import ABC
from typing import IO, Any, Generic, TypeVar

__all__ = ["TypeSerializer", "VoidNamespace", "VoidNamespaceSerializer"]

T = TypeVar("T")


class TypeSerializer(ABC, Generic[T]):
    """Writes values of one type to a binary stream and reads them back."""

    def serialize(self, element: T, stream: IO[bytes]) -> None:
        """Write ``element`` to ``stream`` (default: pickle protocol 5)."""
        pickle.dump(element, stream, protocol=5)

    def deserialize(self, stream: IO[bytes]) -> T:
        """Read one value written by :meth:`serialize` from ``stream``."""
        return pickle.load(stream)  # type: ignore[no-any-return]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, self.__class__)

    def __hash__(self) -> int:
        return hash(type(self).__name__)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class VoidNamespace:
    """The namespace of state that has none (PyFlink ``VoidNamespace``)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VoidNamespace)

    def __hash__(self) -> int:
        return 99

    def __repr__(self) -> str:
        return "VoidNamespace"


class VoidNamespaceSerializer(TypeSerializer[VoidNamespace]):
    """Serializer of :class:`VoidNamespace`: writes nothing."""

    def serialize(self, element: VoidNamespace, stream: Any) -> None:
        pass

    def deserialize(self, stream: Any) -> VoidNamespace:
        return VoidNamespace()
