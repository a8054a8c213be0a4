"""A job's checkpoints in the HA stores, with the JobMaster's real checkpoint wiring and fake tasks: a new leader's
JobMaster restores the newest checkpoint the previous one recorded and continues its ids; a JobMaster fenced off
by the HA store cannot complete a checkpoint, so no task hears of it (no FileSink commit); TaskManagers reject
calls of a stale JobMaster or ResourceManager session."""

from __future__ import annotations

import asyncio
import pickle
from pathlib import Path
from typing import Any

import grpc
import pytest

from tests.unit.test_checkpoint_jobmaster import KEYS, SLOT, FakeTasks, counts, job_graph, synchronously
from yflink.common.configuration import Configuration
from yflink.graph.job_graph import JobGraph
from yflink.rpc.protos import gateways_pb2 as pb
from yflink.runtime.highavailability import LeaderInformation, LeadershipLostError, StandaloneHaServices
from yflink.runtime.highavailability.checkpoints import JobHighAvailability
from yflink.runtime.jobmaster.checkpointing import JobCheckpointing
from yflink.runtime.jobmaster.execution_graph import ExecutionGraph
from yflink.runtime.states import ExecutionState, JobStatus
from yflink.runtime.taskexecutor.taskexecutor import TaskExecutor


def leader_job(jg: JobGraph, tasks: FakeTasks, ha: JobHighAvailability) -> JobCheckpointing:
    graph = ExecutionGraph(jg, 0)
    conf = Configuration()
    for key, value in jg.config.items():
        conf.set_string(key, value)
    cp = JobCheckpointing(jg, graph, conf, tasks.trigger, tasks.notify, fail_job=lambda m: None,
                          is_deployed=lambda: True, ha=ha)
    tasks.cp = cp
    return cp


def run_all(cp: JobCheckpointing) -> None:
    cp.graph.start_scheduling(1)
    for ex in cp.graph.executions():
        cp.graph.mark_deploying(ex.id, SLOT, 2)
        cp.graph.update_state(ex.id, ExecutionState.RUNNING, 3)


async def completed(cp: JobCheckpointing, n: int) -> None:
    for _ in range(300):
        await cp.driver.drain()
        if cp.coordinator.stats.completed + cp.coordinator.stats.failed >= n:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{n} checkpoints did not end: {cp.coordinator.stats}")


@synchronously
async def test_a_new_leader_restores_the_newest_recorded_checkpoint_and_continues_ids(tmp_path: Path) -> None:
    services = StandaloneHaServices()  # the same stores a ZooKeeper-backed new leader would read
    jg = job_graph(2, **{"execution.checkpointing.dir": f"file://{tmp_path}/cp"})
    ha = JobHighAvailability(services.checkpoint_pointer_store(jg.job_id), services.checkpoint_id_counter(jg.job_id))
    old_tasks = FakeTasks()
    old = leader_job(jg, old_tasks, ha)
    await old.prepare_initial_restore()  # nothing recorded yet: starts empty
    run_all(old)
    await old.on_task_state_changed()
    for n in (1, 2, 3):
        old.trigger_checkpoint()
        await completed(old, n)
    [(newest, pointer)] = ha.pointers.pointers()  # num-retained 1: the subsumed ones left the store
    assert newest == 3 and pointer.endswith("/chk-3") and ha.counter.get() == 4
    ha.counter.advance_to(5)  # checkpoint 4 was triggered (the counter moved first), then the old leader died
    await old.driver.stop()

    new_tasks = FakeTasks()
    new = leader_job(jg, new_tasks, ha)
    await new.prepare_initial_restore()
    assert counts(new, jg) == {k: 3 for k in KEYS}  # the fake counter's state is the checkpoint id it was taken at
    assert [c.checkpoint_id for c in new.coordinator.store.all()] == [3]  # claimed: subsumed like its own
    assert new.coordinator.next_checkpoint_id >= 5  # never reuses an id the old leader handed out
    run_all(new)
    await new.on_task_state_changed()
    next_id = new.trigger_checkpoint()
    await completed(new, 1)
    assert next_id >= 5 and [i for i, _ in ha.pointers.pointers()] == [next_id]
    assert not Path(pointer.removeprefix("file://")).exists()  # the claimed checkpoint was subsumed and deleted
    await new.shutdown(JobStatus.FINISHED)


@synchronously
async def test_a_fenced_jobmaster_cannot_complete_a_checkpoint_so_no_task_commits(tmp_path: Path) -> None:
    services = StandaloneHaServices()
    jg = job_graph(2, **{"execution.checkpointing.dir": f"file://{tmp_path}/cp",
                         "execution.checkpointing.tolerable-failed-checkpoints": "5"})

    class FencedPointers:
        def add(self, checkpoint_id: int, pointer: str) -> None:
            raise LeadershipLostError("leadership lost: the leader latch node no longer exists")

        def remove(self, checkpoint_id: int) -> None: ...

        def pointers(self) -> list[tuple[int, str]]:
            return []

    ha = JobHighAvailability(FencedPointers(), services.checkpoint_id_counter(jg.job_id))  # type: ignore[arg-type]
    tasks = FakeTasks()
    cp = leader_job(jg, tasks, ha)
    run_all(cp)
    await cp.on_task_state_changed()
    cp.trigger_checkpoint()
    await completed(cp, 1)
    assert cp.coordinator.stats.completed == 0 and cp.coordinator.stats.failed == 1
    assert not [n for n in tasks.notified if n[2]]  # never "completed": a FileSink would not commit
    await cp.shutdown(JobStatus.CANCELED)


class AbortingContext:
    """A grpc servicer context whose abort raises, as grpc.aio's does."""

    def __init__(self) -> None:
        self.code: Any = None

    async def abort(self, code: Any, details: str) -> None:
        self.code = code
        raise RuntimeError(details)


class FixedLeader:
    def __init__(self, info: LeaderInformation) -> None:
        self.info = info

    def start(self, listener: Any = None) -> None: ...

    def current(self) -> LeaderInformation:
        return self.info


@synchronously
async def test_taskmanager_rejects_calls_of_a_stale_jobmaster_or_resourcemanager_session() -> None:
    te = TaskExecutor(Configuration(), "tm", "", FixedLeader(LeaderInformation("s2", "127.0.0.1:1", "127.0.0.1:2")))
    te.resource_manager_id = "s2"
    slot = te.slots[0]
    slot.allocation_id, slot.job_id, slot.job_master_id = "alloc", "job", "jm-new"
    slot.executions["ex"] = pickle.loads(pickle.dumps(None))  # type: ignore[assignment]
    for call in (te.NotifyCheckpoint(pb.CheckpointNotification(job_id="job", job_master_id="jm-old",
                                                               execution_id="ex", checkpoint_id=7, completed=True),
                                     ctx := AbortingContext()),
                 te.TriggerCheckpoint(pb.TriggerCheckpointRequest(job_id="job", job_master_id="jm-old",
                                                                  execution_id="ex", checkpoint_id=7),
                                      ctx2 := AbortingContext()),
                 te.CancelTask(pb.CancelTaskRequest(job_master_id="jm-old", execution_id="ex"),
                               ctx3 := AbortingContext())):
        with pytest.raises(RuntimeError, match="stale JobMaster"):
            await call
    assert {c.code for c in (ctx, ctx2, ctx3)} == {grpc.StatusCode.FAILED_PRECONDITION}
    from yflink.runtime.taskexecutor.taskexecutor import WorkerHandle

    free = te.slots[-1] if len(te.slots) > 1 else te.slots[0]
    free.free()
    free.worker = WorkerHandle(popen=None)  # type: ignore[arg-type]
    free.worker.registered.set()
    with pytest.raises(RuntimeError, match="stale ResourceManager session s1"):
        await te.RequestSlot(pb.TaskExecutorSlotRequest(resource_manager_id="s1", slot_index=free.index,
                                                        allocation_id="a2", job_id="job"), AbortingContext())
    assert free.allocation_id == ""  # nothing was allocated


class MemoryHaServices(StandaloneHaServices):
    """In-memory stores that behave as highly available ones (what a new leader of the same cluster reads)."""

    highly_available = True


@synchronously
async def test_dispatcher_persists_submitted_jobs_recovers_them_and_cleans_up_terminal_ones() -> None:
    from yflink.runtime.dispatcher import Dispatcher

    ha = MemoryHaServices()
    conf = Configuration()
    conf.set_string("resourcemanager.local-taskmanagers.enabled", "false")
    first = Dispatcher(conf, "127.0.0.1:1", ha=ha, leader_session_id="s1")
    assert first.resource_manager.id == "s1"  # the leader session fences the ResourceManager's calls
    first.start()
    jg = job_graph(1)
    await first.submit_job(jg)
    assert ha.job_graph_store().job_ids() == [jg.job_id]
    await first.suspend("leadership revoked")  # the job stays for the next leader
    assert first.job_masters[jg.job_id].suspended and ha.job_graph_store().job_ids() == [jg.job_id]
    from yflink.common.errors import JobSubmissionError

    with pytest.raises(JobSubmissionError, match="no longer the leader"):
        await first.submit_job(job_graph(1))

    second = Dispatcher(conf, "127.0.0.1:2", ha=ha, leader_session_id="s2")
    second.start()
    assert await second.recover_jobs() == [jg.job_id]
    await second.cancel_job(jg.job_id)  # globally terminal: its HA metadata goes
    for _ in range(200):
        if not ha.job_graph_store().job_ids():
            break
        await asyncio.sleep(0.01)
    assert ha.job_graph_store().job_ids() == []
    await second.stop()
