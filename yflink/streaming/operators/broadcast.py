"""The broadcast state pattern: a stream connected with a broadcast stream (input 2).

``process_broadcast_element`` sees every element of the broadcast stream in every parallel instance and may
change the broadcast state (operator state named by the MapStateDescriptors given to ``broadcast(...)``);
``process_element`` sees the other input's elements with read-only access to it. On a keyed stream the
non-broadcast side also has keyed state and timers, and the broadcast side may visit the keyed state of every
key (``ctx.apply_to_keyed_state``). In BATCH execution the broadcast input is processed first.

Source of the semantics: Flink ``CoBroadcastWithNonKeyedOperator``, ``CoBroadcastWithKeyedOperator`` and the
documentation sections "The Broadcast State Pattern" and "Execution Mode" (Order of Processing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from yflink.datastream.two_input_functions import (
    BroadcastProcessFunction,
    KeyedBroadcastProcessFunction,
)
from yflink.streaming.operators.co import TwoInputProcessOperator
from yflink.streaming.operators.process_base import BaseContext
from yflink.streaming.operators.state_handling import operator_state_backend_of


class _BroadcastAccess(BaseContext):
    """Broadcast state access for the contexts of both sides."""

    __slots__ = ("_writable",)

    def __init__(self, operator: BroadcastProcessOperator, timer_service: Any, writable: bool) -> None:
        super().__init__(operator, timer_service)
        self._writable = writable

    def get_broadcast_state(self, state_descriptor: Any) -> Any:
        operator: BroadcastProcessOperator = self._operator  # type: ignore[assignment]
        name = getattr(state_descriptor, "name", None)
        if name not in operator.broadcast_state_names:
            raise ValueError(f"The requested broadcast state '{name}' does not exist. Check for typos in your state "
                             "descriptor, or pass it to datastream.broadcast(...) if you forgot to register it.")
        backend = operator_state_backend_of(operator)
        if self._writable:
            return backend.get_broadcast_state(state_descriptor)
        return backend.get_read_only_broadcast_state(state_descriptor)

    def apply_to_keyed_state(self, state_descriptor: Any, function: Callable[[Any, Any], None]) -> None:
        """Call ``function(key, state)`` for every key with a value in ``state_descriptor``'s state."""
        operator: BroadcastProcessOperator = self._operator  # type: ignore[assignment]
        backend = operator.keyed_backend
        if backend is None:
            raise RuntimeError("apply_to_keyed_state needs a keyed non-broadcast stream")
        state = backend.get_state(state_descriptor)
        previous = backend.get_current_key()
        try:
            for key in backend.keys(state_descriptor.name):
                backend.set_current_key(key)
                function(key, state)
        finally:
            backend.set_current_key(previous)


class _NonKeyedReadOnly(_BroadcastAccess, BroadcastProcessFunction.ReadOnlyContext):
    __slots__ = ()


class _NonKeyedBroadcastSide(_BroadcastAccess, BroadcastProcessFunction.Context):
    __slots__ = ()


class _KeyedReadOnly(_BroadcastAccess, KeyedBroadcastProcessFunction.OnTimerContext):
    __slots__ = ()


class _KeyedBroadcastSide(_BroadcastAccess, KeyedBroadcastProcessFunction.Context):
    __slots__ = ()

    def timer_service(self) -> Any:
        raise RuntimeError("The broadcast side has no current key, so no timers (as in Flink); register timers in "
                           "process_element, or visit every key with ctx.apply_to_keyed_state")


class BroadcastProcessOperator(TwoInputProcessOperator):
    """``ds.connect(broadcast_stream).process(BroadcastProcessFunction)`` (input 2 is the broadcast stream).

    Args:
        function: a BroadcastProcessFunction (or KeyedBroadcastProcessFunction, with ``key_selector``).
        broadcast_state_descriptors: the MapStateDescriptors registered with ``broadcast(...)``.
        key_selector: the non-broadcast stream's key selector when it is keyed.
    """

    methods = ("process_element", "process_broadcast_element")
    broadcast_inputs = (False, True)

    def __init__(self, function: Any, broadcast_state_descriptors: list[Any], key_selector: Any = None,
                 name: str = "Co-Process-Broadcast") -> None:
        super().__init__(function, name, key_selector, None)
        self.broadcast_state_descriptors = list(broadcast_state_descriptors)
        self.broadcast_state_names = {d.name for d in self.broadcast_state_descriptors}

    def open(self) -> None:
        backend = operator_state_backend_of(self)
        for descriptor in self.broadcast_state_descriptors:
            backend.get_broadcast_state(descriptor)  # registered (and restored) before the first element
        super().open()

    def _make_context(self, input_index: int) -> BaseContext:
        keyed = self.keyed_backend is not None
        if input_index == 1:
            return (_KeyedBroadcastSide if keyed else _NonKeyedBroadcastSide)(self, self.timer_service, True)
        return (_KeyedReadOnly if keyed else _NonKeyedReadOnly)(self, self.timer_service, False)

    def _make_timer_context(self) -> BaseContext:
        return _KeyedReadOnly(self, self.timer_service, False)


class KeyedBroadcastProcessOperator(BroadcastProcessOperator):
    """``keyed.connect(broadcast_stream).process(KeyedBroadcastProcessFunction)``: keyed state and timers."""

    is_keyed = True

    def __init__(self, function: Any, broadcast_state_descriptors: list[Any], key_selector: Any,
                 name: str = "Co-Process-Broadcast-Keyed") -> None:
        super().__init__(function, broadcast_state_descriptors, key_selector, name)
