"""The collect sink behind ``DataStream.execute_and_collect()`` (Flink ``CollectSinkOperator``).

Each subtask sends its records, in batches, to the JobMaster through its TaskManager; the client reads them
through the JobManager's REST API (``POST /jobs/{jobid}/coordinators/{operatorid}``) via
``JobClient.collect(operator_id)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional

from yflink.streaming.operators.base import StreamOperator

#: Set by the slot worker: ``send(operator_id, subtask_index, values, end_of_input)``.
CollectSender = Callable[[str, int, list[Any], bool], None]


class CollectSinkOperator(StreamOperator):
    """Ships every record it gets to the client of ``execute_and_collect``.

    Args:
        operator_id: a unique id (32 hex digits) the client uses to read this sink's records.
    """

    sender: Optional[CollectSender] = None  # injected by the runtime before open()

    def __init__(self, operator_id: str, name: str = "Collect Sink") -> None:
        super().__init__(name)
        self.operator_id = operator_id

    def process_batch(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        if self.sender is None:
            raise RuntimeError("collect sink used outside a yflink TaskManager")
        self.sender(self.operator_id, self.task_info.subtask_index, list(values), False)

    def process_watermark(self, watermark: int) -> None:
        pass

    def end_input(self) -> None:
        if self.sender is not None:
            self.sender(self.operator_id, self.task_info.subtask_index, [], True)
