"""CheckpointingMode (PyFlink ``pyflink.datastream.checkpointing_mode``): EXACTLY_ONCE or AT_LEAST_ONCE.

Flink documentation, "Checkpointing": exactly-once aligns barriers at tasks with several inputs; at-least-once
does not, so records after a barrier may be processed before the snapshot.
"""

from yflink.checkpoint.options import CheckpointingMode

__all__ = ["CheckpointingMode"]
