"""Identifiers of jobs, vertices, executions, allocations and fencing tokens.

Semantics follow Flink's ``org.apache.flink.api.common.JobID``, ``JobVertexID``, ``ExecutionAttemptID``,
``AllocationID``, ``ResourceID`` and the fencing tokens ``JobMasterId`` / ``ResourceManagerId`` /
``DispatcherId``. Every id is a 32-hex-digit string on the wire (as in Flink's REST API); distinct classes
keep one kind of id from being passed where another is expected.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class _HexId:
    """A 128-bit id written as 32 lowercase hex digits."""

    hex: str

    @classmethod
    def generate(cls) -> _HexId:
        return cls(uuid.uuid4().hex)

    @classmethod
    def from_hex(cls, value: str) -> _HexId:
        """Parse a 32-hex-digit id; raises ValueError naming the bad value."""
        text = value.strip().lower()
        if len(text) != 32 or any(c not in "0123456789abcdef" for c in text):
            raise ValueError(f"{cls.__name__} must be 32 hex digits, got {value!r}")
        return cls(text)

    def __str__(self) -> str:
        return self.hex


class JobID(_HexId):
    """Id of a submitted job (Flink ``JobID``)."""


class JobVertexID(_HexId):
    """Id of a JobGraph vertex, i.e. one operator chain (Flink ``JobVertexID``)."""


class IntermediateDataSetID(_HexId):
    """Id of the data set a vertex produces for one outgoing JobEdge."""


class ExecutionAttemptID(_HexId):
    """Id of one attempt to run one subtask (Flink ``ExecutionAttemptID``)."""


class AllocationID(_HexId):
    """Id of one slot allocation (Flink ``AllocationID``)."""


class ResourceID(_HexId):
    """Id of a TaskManager process (Flink ``ResourceID``)."""


class JobMasterId(_HexId):
    """Fencing token of a JobMaster's leadership session."""


class ResourceManagerId(_HexId):
    """Fencing token of the ResourceManager's leadership session."""


class DispatcherId(_HexId):
    """Fencing token of the Dispatcher's leadership session."""
