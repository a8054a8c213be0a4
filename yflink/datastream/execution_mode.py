"""RuntimeExecutionMode (PyFlink ``pyflink.datastream.execution_mode``).

Written to ``execution.runtime-mode``. Source: Flink documentation, "Execution Mode (Batch/Streaming)".
"""

from __future__ import annotations

from enum import Enum

__all__ = ["RuntimeExecutionMode"]


class RuntimeExecutionMode(Enum):
    """``STREAMING``: results are updated continuously (the default); ``BATCH``: the job runs on bounded input
    in stages; ``AUTOMATIC``: BATCH when every source is bounded, else STREAMING."""

    STREAMING = 0
    BATCH = 1
    AUTOMATIC = 2
