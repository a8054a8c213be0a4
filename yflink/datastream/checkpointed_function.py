"""CheckpointedFunction: a user function with its own operator state (Flink ``CheckpointedFunction``).

PyFlink has no counterpart; yflink follows Flink's Java interface with Python names::

    class BufferingSink(SinkFunction, CheckpointedFunction):
        def initialize_state(self, context):
            self.buffer = context.get_operator_state_store().get_list_state(ListStateDescriptor("buffer"))
            if context.is_restored():
                ...

        def snapshot_state(self, context):
            ...  # bring the state up to date; it is then copied into the checkpoint

``initialize_state`` runs once per parallel instance before ``open``, also when nothing is restored;
``snapshot_state`` runs whenever a snapshot of the operator is taken. Operator list state is split evenly over
the instances when the parallelism changes, union list state is given whole to every instance.
Source: Flink documentation, "Working with State" (Using Operator State, CheckpointedFunction).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Optional

from yflink.datastream.state import OperatorStateStore

__all__ = ["CheckpointedFunction", "FunctionInitializationContext", "FunctionSnapshotContext"]


class FunctionSnapshotContext(ABC):
    """The snapshot being taken."""

    @abstractmethod
    def get_checkpoint_id(self) -> int:
        ...

    @abstractmethod
    def get_checkpoint_timestamp(self) -> int:
        """When the checkpoint was triggered, ms since the epoch."""


class FunctionInitializationContext(ABC):
    """Access to the state stores while a function instance is initialized."""

    @abstractmethod
    def is_restored(self) -> bool:
        """True when the state was restored from a snapshot."""

    @abstractmethod
    def get_operator_state_store(self) -> OperatorStateStore:
        ...

    @abstractmethod
    def get_keyed_state_store(self) -> Optional[Any]:
        """The keyed state store (a KeyedStateStore) on a keyed stream, else None."""

    def get_restored_checkpoint_id(self) -> Optional[int]:
        return None


class CheckpointedFunction(ABC):
    """Mix into a user function to keep operator state through snapshots."""

    @abstractmethod
    def snapshot_state(self, context: FunctionSnapshotContext) -> None:
        """A snapshot is taken: write what must survive into the state obtained in :meth:`initialize_state`."""

    @abstractmethod
    def initialize_state(self, context: FunctionInitializationContext) -> None:
        """Obtain the state (restored or empty) before ``open``."""
