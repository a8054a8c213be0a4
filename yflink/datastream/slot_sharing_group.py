"""SlotSharingGroup (PyFlink ``pyflink.datastream.slot_sharing_group``).

Operators in the same slot sharing group may run their subtasks in the same slot; a job needs as many slots
as the highest parallelism in each group, summed over the groups. yflink uses the group's name; the
resource figures are kept for fine-grained resource management, which yflink does not do yet.
"""

from __future__ import annotations

from typing import Optional

__all__ = ["SlotSharingGroup"]


class SlotSharingGroup:
    """A named slot sharing group with optional resource figures (CPU cores, memory in MiB)."""

    def __init__(self, name: str, cpu_cores: Optional[float] = None, task_heap_memory_mb: Optional[int] = None,
                 task_off_heap_memory_mb: Optional[int] = None, managed_memory_mb: Optional[int] = None) -> None:
        if not name:
            raise ValueError("The name of a slot sharing group must not be empty")
        self._name = name
        self._cpu_cores = cpu_cores
        self._task_heap_memory_mb = task_heap_memory_mb
        self._task_off_heap_memory_mb = task_off_heap_memory_mb
        self._managed_memory_mb = managed_memory_mb

    def get_name(self) -> str:
        return self._name

    def get_cpu_cores(self) -> Optional[float]:
        return self._cpu_cores

    def get_task_heap_memory(self) -> Optional[int]:
        """Task heap memory, MiB."""
        return self._task_heap_memory_mb

    def get_task_off_heap_memory(self) -> Optional[int]:
        """Task off-heap memory, MiB."""
        return self._task_off_heap_memory_mb

    def get_managed_memory(self) -> Optional[int]:
        """Managed memory, MiB."""
        return self._managed_memory_mb

    @staticmethod
    def builder(name: str) -> SlotSharingGroup.Builder:
        return SlotSharingGroup.Builder(name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SlotSharingGroup) and other.__dict__ == self.__dict__

    def __hash__(self) -> int:
        return hash(self._name)

    def __repr__(self) -> str:
        return f"SlotSharingGroup({self._name!r})"

    class Builder:
        """``SlotSharingGroup.builder("name").set_cpu_cores(1.0).set_task_heap_memory_mb(100).build()``."""

        def __init__(self, name: str) -> None:
            self._name = name
            self._cpu_cores: Optional[float] = None
            self._task_heap: Optional[int] = None
            self._task_off_heap: Optional[int] = None
            self._managed: Optional[int] = None

        def set_cpu_cores(self, cpu_cores: float) -> SlotSharingGroup.Builder:
            self._cpu_cores = cpu_cores
            return self

        def set_task_heap_memory_mb(self, task_heap_memory_mb: int) -> SlotSharingGroup.Builder:
            self._task_heap = task_heap_memory_mb
            return self

        def set_task_off_heap_memory_mb(self, task_off_heap_memory_mb: int) -> SlotSharingGroup.Builder:
            self._task_off_heap = task_off_heap_memory_mb
            return self

        def set_managed_memory_mb(self, managed_memory_mb: int) -> SlotSharingGroup.Builder:
            self._managed = managed_memory_mb
            return self

        def build(self) -> SlotSharingGroup:
            return SlotSharingGroup(self._name, self._cpu_cores, self._task_heap, self._task_off_heap, self._managed)
