"""Slot worker supervision in the TaskExecutor (``yflink/runtime/taskexecutor/taskexecutor.py``), without
processes: fake worker handles whose process "exits" when a test says so.

A dead slot worker fails its tasks and leaves its slot at once, so the ResourceManager's next slot request for
that slot is refused (it tries another slot) instead of being offered to a JobMaster whose deployment would then
fail and cost the job another restart; the replacement starts at once unless the dead worker itself started less
than WORKER_RESPAWN_DELAY_S before (one that keeps dying); a replacement that registers makes its slot available
to the ResourceManager again.
"""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any, Optional

import pytest

from yflink.common.configuration import Configuration
from yflink.rpc.protos import gateways_pb2 as pb
from yflink.runtime.states import ExecutionState
from yflink.runtime.taskexecutor import taskexecutor as te_module
from yflink.runtime.taskexecutor.taskexecutor import Slot, TaskExecutor, WorkerHandle


class FakePopen:
    next_pid = 1000

    def __init__(self) -> None:
        FakePopen.next_pid += 1
        self.pid = FakePopen.next_pid
        self.returncode: Optional[int] = None

    def poll(self) -> Optional[int]:
        return self.returncode


class Recorder:
    def __init__(self) -> None:
        self.states: list[pb.TaskExecutionState] = []
        self.available: list[tuple[int, str]] = []
        self.spawned: list[WorkerHandle] = []


def task_executor(monkeypatch: pytest.MonkeyPatch, recorder: Recorder) -> TaskExecutor:
    conf = Configuration()
    conf.set_string("taskmanager.numberOfTaskSlots", "2")
    te = TaskExecutor(conf, "a" * 32, "127.0.0.1:1")

    def spawn(index: int) -> WorkerHandle:
        recorder.spawned.append(WorkerHandle(FakePopen()))  # type: ignore[arg-type]
        return recorder.spawned[-1]

    async def forward_state(slot: Slot, state: pb.TaskExecutionState) -> None:
        recorder.states.append(state)

    async def notify_slot_available(slot: Slot, allocation_id: str) -> None:
        recorder.available.append((slot.index, allocation_id))

    monkeypatch.setattr(te, "_spawn_worker", spawn)
    monkeypatch.setattr(te, "_forward_state", forward_state)
    monkeypatch.setattr(te, "_notify_slot_available", notify_slot_available)
    for slot in te.slots:
        slot.worker = spawn(slot.index)
        slot.worker.registered.set()
        slot.worker.started_at -= 60  # long-lived workers
    te._registered.set()
    return te


def slot_request(index: int, allocation_id: str) -> pb.TaskExecutorSlotRequest:
    return pb.TaskExecutorSlotRequest(resource_manager_id="rm", slot_index=index, allocation_id=allocation_id,
                                      job_id="j" * 32, job_master_address="127.0.0.1:2", job_master_id="jm")


def test_a_dead_worker_fails_its_tasks_leaves_its_slot_and_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()
    te = task_executor(monkeypatch, recorder)
    slot = te.slots[0]
    slot.allocation_id, slot.job_id, slot.job_master_id = "alloc-1", "j" * 32, "jm"
    slot.executions["exec-1"] = SimpleNamespace(job_id="j" * 32, job_master_id="jm")  # type: ignore[assignment]
    dead = slot.worker
    assert dead is not None
    dead.popen.returncode = -9  # SIGKILLed

    async def scenario() -> None:
        await te._check_workers()
        assert [(s.execution_id, s.state) for s in recorder.states] == [("exec-1", ExecutionState.FAILED.value)]
        assert "exited with code -9" in recorder.states[0].failure
        replacement = slot.worker
        assert replacement is not None and replacement is not dead  # started at once: the dead one lived long
        assert not replacement.registered.is_set()
        # the JobMaster frees the old allocation; until the replacement registers, slot requests are refused
        await te._free(slot, "job restarts")
        reply = await te.RequestSlot(slot_request(0, "alloc-2"), None)
        assert not reply.accepted and "no running worker" in reply.reason
        submitted = await te.SubmitTask(pb.SubmitTaskRequest(allocation_id="alloc-1", job_master_id="jm"), None)
        assert not submitted.accepted
        recorder.available.clear()
        await te.RegisterSlotWorker(pb.SlotWorkerRegistration(
            slot_index=0, pid=replacement.popen.pid, control_address="127.0.0.1:3", data_address="127.0.0.1:4"),
            None)
        await asyncio.sleep(0)  # the notification runs as a task
        assert recorder.available == [(0, "")]
        assert replacement.registered.is_set()

    asyncio.run(scenario())


def test_a_worker_that_keeps_dying_is_restarted_at_most_once_per_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()
    te = task_executor(monkeypatch, recorder)
    slot = te.slots[1]
    young = slot.worker
    assert young is not None
    young.started_at = time.monotonic()  # it just started
    young.popen.returncode = 1

    async def scenario() -> None:
        await te._check_workers()
        assert slot.worker is None and slot.respawn_at is not None
        assert slot.respawn_at >= young.started_at + te_module.WORKER_RESPAWN_DELAY_S - 1e-6
        reply = await te.RequestSlot(slot_request(1, "alloc-3"), None)
        assert not reply.accepted and "no running worker" in reply.reason
        slot.respawn_at = time.monotonic()  # the delay has passed
        await te._check_workers()
        assert slot.worker is recorder.spawned[-1] and slot.respawn_at is None

    asyncio.run(scenario())
    assert te.slots[0].worker is recorder.spawned[0]  # the other slot's worker untouched


def test_a_slot_whose_worker_died_after_the_request_was_accepted_is_freed(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()
    te = task_executor(monkeypatch, recorder)

    async def scenario() -> Any:
        reply = await te.RequestSlot(slot_request(0, "alloc-4"), None)
        assert reply.accepted
        te.slots[0].worker = None  # died before the offer went out
        await asyncio.sleep(0)  # the offer task runs
        return te.slots[0].allocation_id

    assert asyncio.run(scenario()) == ""
    assert recorder.available == [(0, "alloc-4")]
