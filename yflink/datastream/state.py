"""Keyed state: descriptors and state interfaces (PyFlink ``pyflink.datastream.state``).

A function on a keyed stream asks its ``RuntimeContext`` for state by descriptor
(``get_state(ValueStateDescriptor("count", Types.LONG()))``) and gets a handle whose every access reads or
writes the value of the **current key** (the key of the record being processed). The state backend behind
the handles (:mod:`yflink.state.backends`) keeps one table per state name, keyed by key, so it can be
snapshotted and redistributed by key group.

Source of the semantics: Flink documentation, "Working with State" (DataStream API), and PyFlink
``pyflink/datastream/state.py``. ``update(None)`` on a ValueState clears it, as in Flink.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import Any, Generic, Optional, TypeVar

from yflink.common.typeinfo import TypeInformation, Types
from yflink.datastream.state_ttl import StateTtlConfig

__all__ = [
    "AggregatingState",
    "AggregatingStateDescriptor",
    "BroadcastState",
    "ListState",
    "ListStateDescriptor",
    "MapState",
    "MapStateDescriptor",
    "OperatorStateStore",
    "ReadOnlyBroadcastState",
    "ReducingState",
    "ReducingStateDescriptor",
    "State",
    "StateDescriptor",
    "StateTtlConfig",
    "ValueState",
    "ValueStateDescriptor",
]

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")
IN = TypeVar("IN")
OUT = TypeVar("OUT")


class State(ABC):
    """Partitioned state: every access sees the value of the current key."""

    @abstractmethod
    def clear(self) -> None:
        """Remove the value of the current key."""


class ValueState(State, Generic[T]):
    """One value per key."""

    @abstractmethod
    def value(self) -> Optional[T]:
        """The value of the current key, or None when it has none."""

    @abstractmethod
    def update(self, value: Optional[T]) -> None:
        """Set the value of the current key; None clears it."""


class AppendingState(State, Generic[IN, OUT]):
    """State that values are added to and that can be read as a whole."""

    @abstractmethod
    def get(self) -> OUT:
        """The state of the current key."""

    @abstractmethod
    def add(self, value: IN) -> None:
        """Add ``value`` to the state of the current key."""


class MergingState(AppendingState[IN, OUT]):
    """AppendingState whose instances can be merged (by windows)."""


class ReducingState(MergingState[T, T]):
    """Values added are combined with a ReduceFunction; ``get()`` is the combined value (None: empty)."""


class AggregatingState(MergingState[IN, OUT]):
    """Values added are folded into an accumulator of an AggregateFunction; ``get()`` is its result."""


class ListState(MergingState[T, Iterable[T]]):
    """A list of values per key."""

    @abstractmethod
    def update(self, values: list[T]) -> None:
        """Replace the list of the current key."""

    @abstractmethod
    def add_all(self, values: list[T]) -> None:
        """Append ``values`` to the list of the current key."""

    def __iter__(self) -> Iterator[T]:
        return iter(self.get())


class MapState(State, Generic[K, V]):
    """A map of user keys to values, per key."""

    @abstractmethod
    def get(self, key: K) -> Optional[V]:
        """The value under ``key`` for the current key (None when absent)."""

    @abstractmethod
    def put(self, key: K, value: V) -> None:
        ...

    @abstractmethod
    def put_all(self, dict_value: dict[K, V]) -> None:
        ...

    @abstractmethod
    def remove(self, key: K) -> None:
        ...

    @abstractmethod
    def contains(self, key: K) -> bool:
        ...

    @abstractmethod
    def items(self) -> Iterable[tuple[K, V]]:
        ...

    @abstractmethod
    def keys(self) -> Iterable[K]:
        ...

    @abstractmethod
    def values(self) -> Iterable[V]:
        ...

    @abstractmethod
    def is_empty(self) -> bool:
        ...

    def __getitem__(self, key: K) -> Optional[V]:
        return self.get(key)

    def __setitem__(self, key: K, value: V) -> None:
        self.put(key, value)

    def __delitem__(self, key: K) -> None:
        self.remove(key)

    def __contains__(self, key: K) -> bool:
        return self.contains(key)

    def __iter__(self) -> Iterator[K]:
        return iter(self.keys())


class ReadOnlyBroadcastState(State, Generic[K, V]):
    """A read-only view of a :class:`BroadcastState` (the non-broadcast side of a broadcast process function).

    Do not modify the values it returns: they are the state itself, not copies.
    """

    @abstractmethod
    def get(self, key: K) -> Optional[V]:
        ...

    @abstractmethod
    def contains(self, key: K) -> bool:
        ...

    @abstractmethod
    def items(self) -> Iterable[tuple[K, V]]:
        ...

    @abstractmethod
    def keys(self) -> Iterable[K]:
        ...

    @abstractmethod
    def values(self) -> Iterable[V]:
        ...

    @abstractmethod
    def is_empty(self) -> bool:
        ...

    def __getitem__(self, key: K) -> Optional[V]:
        return self.get(key)

    def __contains__(self, key: K) -> bool:
        return self.contains(key)

    def __iter__(self) -> Iterator[K]:
        return iter(self.keys())


class BroadcastState(ReadOnlyBroadcastState[K, V]):
    """Operator state that every parallel instance holds the same copy of (Flink documentation, "The Broadcast
    State Pattern"): the broadcast side writes it, and must write the same in every instance."""

    @abstractmethod
    def put(self, key: K, value: V) -> None:
        ...

    @abstractmethod
    def put_all(self, dict_value: dict[K, V]) -> None:
        ...

    @abstractmethod
    def remove(self, key: K) -> None:
        ...

    def __setitem__(self, key: K, value: V) -> None:
        self.put(key, value)

    def __delitem__(self, key: K) -> None:
        self.remove(key)


class OperatorStateStore(ABC):
    """Operator (non-keyed) state of a function instance (Flink ``OperatorStateStore``; PyFlink has only
    ``get_broadcast_state``). List state is split evenly over the instances when parallelism changes, union list
    state is given whole to every instance (Flink documentation, "Working with State", Operator State)."""

    @abstractmethod
    def get_broadcast_state(self, state_descriptor: MapStateDescriptor) -> BroadcastState[Any, Any]:
        """The broadcast state named by ``state_descriptor``, read/write."""

    @abstractmethod
    def get_list_state(self, state_descriptor: ListStateDescriptor) -> ListState[Any]:
        """List state redistributed evenly on rescaling."""

    @abstractmethod
    def get_union_list_state(self, state_descriptor: ListStateDescriptor) -> ListState[Any]:
        """List state that every instance receives whole on restore."""


class StateDescriptor(ABC):  # noqa: B024 - a base without abstract methods, as in PyFlink
    """Names a piece of keyed state and its type.

    Attributes:
        name: unique per operator; state with the same name is the same state.
        type_info: the type of the stored value (informational: yflink pickles state).
        state_kind: which state the backend creates: ``value``, ``list``, ``map``, ``reducing``, ``aggregating``.
    """

    state_kind = ""

    def __init__(self, name: str, type_info: Optional[TypeInformation]) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a state descriptor needs a non-empty name, got {name!r}")
        self.name = name
        self.type_info = type_info if type_info is not None else Types.PICKLED_BYTE_ARRAY()
        self._ttl_config: Any = None

    def get_name(self) -> str:
        return self.name

    def enable_time_to_live(self, ttl_config: StateTtlConfig) -> None:
        """Let values of this state expire after ``ttl_config``'s time to live (keyed state only; see
        :class:`~yflink.datastream.state_ttl.StateTtlConfig`)."""
        if not isinstance(ttl_config, StateTtlConfig):
            raise TypeError(f"enable_time_to_live expects a StateTtlConfig, got {type(ttl_config).__name__}")
        self._ttl_config = ttl_config

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.type_info!r})"


class ValueStateDescriptor(StateDescriptor):
    """Describes a :class:`ValueState`: ``ValueStateDescriptor(name, value_type_info)``."""

    state_kind = "value"

    def __init__(self, name: str, value_type_info: Optional[TypeInformation] = None) -> None:
        super().__init__(name, value_type_info)


class ListStateDescriptor(StateDescriptor):
    """Describes a :class:`ListState`: ``ListStateDescriptor(name, elem_type_info)``."""

    state_kind = "list"

    def __init__(self, name: str, elem_type_info: Optional[TypeInformation] = None) -> None:
        super().__init__(name, Types.LIST(elem_type_info or Types.PICKLED_BYTE_ARRAY()))
        self.elem_type_info = elem_type_info


class MapStateDescriptor(StateDescriptor):
    """Describes a :class:`MapState`: ``MapStateDescriptor(name, key_type_info, value_type_info)``."""

    state_kind = "map"

    def __init__(self, name: str, key_type_info: Optional[TypeInformation] = None,
                 value_type_info: Optional[TypeInformation] = None) -> None:
        super().__init__(name, Types.MAP(key_type_info or Types.PICKLED_BYTE_ARRAY(),
                                         value_type_info or Types.PICKLED_BYTE_ARRAY()))
        self.key_type_info = key_type_info
        self.value_type_info = value_type_info


class ReducingStateDescriptor(StateDescriptor):
    """Describes a :class:`ReducingState`: ``ReducingStateDescriptor(name, reduce_function, type_info)``.

    ``reduce_function`` is a ReduceFunction or a callable ``(a, b) -> combined``.
    """

    state_kind = "reducing"

    def __init__(self, name: str, reduce_function: Any, type_info: Optional[TypeInformation] = None) -> None:
        super().__init__(name, type_info)
        from yflink.datastream.functions import ReduceFunction, ReduceFunctionWrapper

        if not isinstance(reduce_function, ReduceFunction):
            if not callable(reduce_function):
                raise TypeError("The input must be a ReduceFunction or a callable function!")
            reduce_function = ReduceFunctionWrapper(reduce_function)
        self._reduce_function = reduce_function

    def get_reduce_function(self) -> Any:
        return self._reduce_function


class AggregatingStateDescriptor(StateDescriptor):
    """Describes an :class:`AggregatingState`: ``AggregatingStateDescriptor(name, agg_function, state_type_info)``."""

    state_kind = "aggregating"

    def __init__(self, name: str, agg_function: Any, state_type_info: Optional[TypeInformation] = None) -> None:
        super().__init__(name, state_type_info)
        from yflink.datastream.functions import AggregateFunction

        if not isinstance(agg_function, AggregateFunction):
            raise TypeError("The input must be a yflink.datastream.functions.AggregateFunction!")
        self._agg_function = agg_function

    def get_agg_function(self) -> Any:
        return self._agg_function
