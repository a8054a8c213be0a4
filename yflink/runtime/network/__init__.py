"""Data exchange between tasks: result partitions, input gates, credit-based flow control.

Items that move through a subpartition are tuples ``(kind, a, b)``:
``(DATA, values, timestamps)``, ``(EVENT, event, None)`` or ``(ERROR, message, None)``.
Batches are immutable once emitted: a local consumer reads the very list the producer wrote.
"""

DATA = 0
EVENT = 1
ERROR = 2
