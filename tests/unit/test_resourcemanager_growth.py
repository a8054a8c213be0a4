"""When the ResourceManager starts TaskManagers for waiting slot requests (``yflink/runtime/resourcemanager.py``
with a fake driver, no processes).

Normally it waits ``resourcemanager.local-taskmanagers.delay`` first: a restarting job's slots may be on their way
back. Right after a TaskManager was lost its slots will not come back, so it starts one at once, and a loss ends
a delay that is running (Flink's active ResourceManagers request new workers as soon as requirements exceed what
is registered). A job whose only TaskManager was killed then runs again seconds sooner.
"""

from __future__ import annotations

import asyncio

from yflink.common.configuration import Configuration
from yflink.runtime.resourcemanager import ResourceManager, SlotRequest, TaskExecutorRecord


class FakeDriver:
    slots_per_taskmanager = 2

    def __init__(self) -> None:
        self.started = 0

    def can_start(self) -> bool:
        return True

    async def start_task_manager(self) -> None:
        self.started += 1

    def stop(self) -> None:
        pass


def resource_manager(delay_ms: int) -> tuple[ResourceManager, FakeDriver, list[str]]:
    lost: list[str] = []

    async def on_lost(resource_id: str, cause: str) -> None:
        lost.append(resource_id)

    conf = Configuration()
    conf.set_string("resourcemanager.local-taskmanagers.delay", f"{delay_ms} ms")
    rm = ResourceManager(conf, on_lost)
    driver = FakeDriver()
    rm.driver = driver
    return rm, driver, lost


def dead_taskmanager() -> TaskExecutorRecord:
    return TaskExecutorRecord(resource_id="t" * 32, address="127.0.0.1:1", hostname="h", pid=1, slots=[None, None])


async def request_two_slots(rm: ResourceManager) -> None:
    for allocation_id in ("a1", "a2"):
        await rm.request_slot("j" * 32, allocation_id, "127.0.0.1:2", "jm")


def test_without_a_lost_taskmanager_the_delay_is_waited() -> None:
    async def scenario() -> None:
        rm, driver, _ = resource_manager(delay_ms=300)
        await request_two_slots(rm)
        await asyncio.sleep(0.1)
        assert driver.started == 0  # freed slots of a restarting job may still come back
        await asyncio.sleep(0.4)
        assert driver.started == 1  # two slots, two per TaskManager
        await rm.stop()

    asyncio.run(scenario())


def test_after_a_lost_taskmanager_one_is_started_at_once() -> None:
    async def scenario() -> None:
        rm, driver, lost = resource_manager(delay_ms=10_000)
        await rm._lost(dead_taskmanager(), "refuses connections")
        assert lost == ["t" * 32]
        await request_two_slots(rm)
        await asyncio.sleep(0.1)
        assert driver.started == 1
        await rm.stop()

    asyncio.run(scenario())


def test_a_lost_taskmanager_ends_a_running_delay() -> None:
    async def scenario() -> None:
        rm, driver, _ = resource_manager(delay_ms=10_000)
        await request_two_slots(rm)
        await asyncio.sleep(0.1)
        assert driver.started == 0
        await rm._lost(dead_taskmanager(), "refuses connections")
        await asyncio.sleep(0.1)
        assert driver.started == 1
        await rm.stop()

    asyncio.run(scenario())


def test_pending_requests_are_what_counts() -> None:
    async def scenario() -> None:
        rm, driver, _ = resource_manager(delay_ms=0)
        rm.task_executors["u" * 32] = TaskExecutorRecord(resource_id="u" * 32, address="127.0.0.1:1",
                                                        hostname="h", pid=1, slots=[SlotRequest("k", "b", "x", "y")])
        await rm._lost(dead_taskmanager(), "refuses connections")
        await asyncio.sleep(0.05)
        assert driver.started == 0  # nothing waits: a loss alone starts nothing
        await rm.stop()

    asyncio.run(scenario())
