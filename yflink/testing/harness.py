"""Run one operator without a cluster (Flink ``OneInputStreamOperatorTestHarness``).

::

    harness = OneInputOperatorTestHarness(StreamMap(lambda x: x * 2))
    harness.open()
    harness.process_elements([1, 2, 3])
    harness.end_input()
    assert harness.get_output() == [2, 4, 6]
    harness.close()

The harness gives the operator a :class:`~yflink.streaming.operators.base.TaskInfo` and an output that
collects what it emits; keyed operators get a fresh heap state backend. By default the operator is first
copied through cloudpickle, as the runtime copies the operator template into every subtask, so a test also
proves the operator ships. Source operators run with :meth:`OneInputOperatorTestHarness.run_source`.
"""

from __future__ import annotations

import time
from typing import Any, Optional

import cloudpickle  # type: ignore[import-untyped]

from yflink.state.backends import create_keyed_state_backend
from yflink.state.snapshot import OperatorSnapshot
from yflink.streaming.operators.base import StreamOperator, TaskInfo
from yflink.streaming.operators.state_handling import initialize_state, snapshot_state
from yflink.streaming.operators.timers import clock_of

__all__ = ["CollectingOutput", "OneInputOperatorTestHarness", "TwoInputOperatorTestHarness"]


class CollectingOutput:
    """An Output that records every batch and watermark, in order.

    Attributes:
        events: ``("record", value, timestamp)`` and ``("watermark", watermark)`` tuples in emission order.
        batches: the number of ``emit`` calls.
    """

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.batches = 0

    def emit(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        if timestamps is not None and len(timestamps) != len(values):
            raise AssertionError(f"emit got {len(values)} values but {len(timestamps)} timestamps")
        self.batches += 1
        if timestamps is None:
            self.events.extend(("record", v, None) for v in values)
        else:
            self.events.extend(("record", v, ts) for v, ts in zip(values, timestamps, strict=True))

    def emit_watermark(self, watermark: int) -> None:
        self.events.append(("watermark", watermark))

    def emit_watermark_status(self, idle: bool) -> None:
        self.events.append(("watermark_status", idle))

    def emit_side(self, tag: Any, values: list[Any], timestamps: Optional[list[int]]) -> None:
        """Side outputs are recorded as ``("side", tag id, value, timestamp)`` events."""
        tag_id = getattr(tag, "tag_id", tag)
        ts = timestamps if timestamps is not None else [None] * len(values)
        self.events.extend(("side", tag_id, v, t) for v, t in zip(values, ts, strict=True))

    def get_side_output(self, tag: Any) -> list[Any]:
        """Values emitted to side output ``tag`` (an OutputTag or its id)."""
        tag_id = getattr(tag, "tag_id", tag)
        return [e[2] for e in self.events if e[0] == "side" and e[1] == tag_id]


class OneInputOperatorTestHarness:
    """Drives one operator through its lifecycle and collects its output.

    Args:
        operator: the operator (a template: copied unless ``copy_operator`` is False).
        parallelism: the parallelism the operator believes it runs with.
        subtask_index: its index, 0 .. parallelism-1.
        max_parallelism: the number of key groups.
        job_parameters: global job parameters seen by ``RuntimeContext.get_job_parameter``.
        copy_operator: copy the operator through cloudpickle first (as the runtime does).
    """

    def __init__(self, operator: StreamOperator, parallelism: int = 1, subtask_index: int = 0,
                 max_parallelism: int = 128, job_parameters: Optional[dict[str, str]] = None,
                 copy_operator: bool = True, task_name: Optional[str] = None) -> None:
        self.operator: Any = cloudpickle.loads(cloudpickle.dumps(operator)) if copy_operator else operator
        self.task_info = TaskInfo(job_id="0" * 32, job_name="test job", task_name=task_name or operator.name,
                                  subtask_index=subtask_index, parallelism=parallelism,
                                  max_parallelism=max_parallelism, job_parameters=dict(job_parameters or {}))
        self.output = CollectingOutput()
        self.keyed_backend: Any = None
        self._is_setup = False
        self._is_open = False

    # --- lifecycle --------------------------------------------------------------------------------------
    def setup(self) -> OneInputOperatorTestHarness:
        """Give the operator its TaskInfo, the collecting output and (for keyed operators) a state backend."""
        if not self._is_setup:
            if getattr(self.operator, "is_keyed", False):
                self.keyed_backend = create_keyed_state_backend(self.task_info)
            self.operator.setup(self.task_info, self.output, self.keyed_backend)
            self._is_setup = True
        return self

    def open(self) -> OneInputOperatorTestHarness:
        self.setup()
        if not self._is_open:
            self.operator.open()
            self._is_open = True
        return self

    def close(self) -> None:
        if self._is_open:
            self._is_open = False
            self.operator.close()

    # --- state and time -------------------------------------------------------------------------------
    def initialize_state(self, snapshots: OperatorSnapshot | list[OperatorSnapshot] | None) -> None:
        """Restore the operator from one snapshot, or from the snapshots of all subtasks of an earlier run (with
        any parallelism: keyed state is taken by key group, operator state redistributed). Call before
        :meth:`open` (Flink ``initializeState``)."""
        if self._is_open:
            raise RuntimeError("initialize_state must come before open()")
        self.setup()
        if isinstance(snapshots, OperatorSnapshot):
            snapshots = [snapshots]
        initialize_state(self.operator, snapshots)

    def snapshot(self, checkpoint_id: int = 0, timestamp: int = 0) -> OperatorSnapshot:
        """A snapshot of the operator's keyed and operator state (timers included), as a checkpoint takes it."""
        self.open()
        return snapshot_state(self.operator, checkpoint_id, timestamp)

    def set_processing_time(self, now_ms: int) -> None:
        """Move processing time to ``now_ms`` (the operator's clock and state TTL) and fire the processing-time
        timers due by then. Before the first call the operator sees the wall clock."""
        clock = clock_of(self.operator)
        clock.set(now_ms)
        if self.keyed_backend is not None:
            self.keyed_backend.ttl_time_provider = clock.now
        if self._is_open and callable(getattr(self.operator, "on_processing_time", None)):
            self.operator.on_processing_time(now_ms)

    def get_processing_time(self) -> int:
        return clock_of(self.operator).now()

    def __enter__(self) -> OneInputOperatorTestHarness:
        return self.open()

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # --- input ----------------------------------------------------------------------------------------
    def process_element(self, value: Any, timestamp: Optional[int] = None) -> None:
        self.process_batch([value], None if timestamp is None else [timestamp])

    def process_elements(self, values: list[Any], timestamps: Optional[list[int]] = None) -> None:
        self.process_batch(list(values), None if timestamps is None else list(timestamps))

    def process_batch(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        self.open()
        self.operator.process_batch(values, timestamps)

    def process_watermark(self, watermark: int) -> None:
        self.open()
        self.operator.process_watermark(watermark)

    def end_input(self) -> None:
        self.open()
        self.operator.end_input()

    def run_source(self, max_records: int = 1024, timeout_s: float = 10.0) -> None:
        """Run a source operator until its input ends.

        Raises:
            TimeoutError: the source did not end within ``timeout_s`` seconds.
        """
        self.open()
        deadline = time.monotonic() + timeout_s
        while self.operator.emit_next(max_records) is not None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"source '{self.operator.name}' did not end within {timeout_s} s")

    # --- output ---------------------------------------------------------------------------------------
    def get_output(self) -> list[Any]:
        """The values emitted so far, in order."""
        return [e[1] for e in self.output.events if e[0] == "record"]

    def get_output_with_timestamps(self) -> list[tuple[Any, Optional[int]]]:
        return [(e[1], e[2]) for e in self.output.events if e[0] == "record"]

    def get_side_output(self, tag: Any) -> list[Any]:
        """Values emitted to side output ``tag`` (an OutputTag or its id), in order."""
        return self.output.get_side_output(tag)

    def get_watermarks(self) -> list[int]:
        return [e[1] for e in self.output.events if e[0] == "watermark"]

    def get_events(self) -> list[tuple[Any, ...]]:
        return list(self.output.events)

    def clear_output(self) -> None:
        self.output.events.clear()


class TwoInputOperatorTestHarness(OneInputOperatorTestHarness):
    """Drives a two-input operator (``process_batch1``/``process_batch2``, one watermark per input) and
    collects its output (Flink ``TwoInputStreamOperatorTestHarness``). Arguments as
    :class:`OneInputOperatorTestHarness`; keyed operators get a state backend."""

    def process_element1(self, value: Any, timestamp: Optional[int] = None) -> None:
        self.process_batch1([value], None if timestamp is None else [timestamp])

    def process_element2(self, value: Any, timestamp: Optional[int] = None) -> None:
        self.process_batch2([value], None if timestamp is None else [timestamp])

    def process_elements1(self, values: list[Any], timestamps: Optional[list[int]] = None) -> None:
        self.process_batch1(list(values), None if timestamps is None else list(timestamps))

    def process_elements2(self, values: list[Any], timestamps: Optional[list[int]] = None) -> None:
        self.process_batch2(list(values), None if timestamps is None else list(timestamps))

    def process_batch1(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        self.open()
        self.operator.process_batch1(values, timestamps)

    def process_batch2(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        self.open()
        self.operator.process_batch2(values, timestamps)

    def process_watermark1(self, watermark: int) -> None:
        self.open()
        self.operator.process_watermark1(watermark)

    def process_watermark2(self, watermark: int) -> None:
        self.open()
        self.operator.process_watermark2(watermark)

    def process_watermark_status1(self, idle: bool) -> None:
        self.open()
        self.operator.process_watermark_status1(idle)

    def process_watermark_status2(self, idle: bool) -> None:
        self.open()
        self.operator.process_watermark_status2(idle)

    def process_batch(self, values: list[Any], timestamps: Optional[list[int]]) -> None:
        raise TypeError("a two-input operator takes process_batch1/process_batch2 (or process_element1/2)")

    def process_watermark(self, watermark: int) -> None:
        raise TypeError("a two-input operator takes process_watermark1/process_watermark2")
