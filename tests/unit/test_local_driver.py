"""The local ResourceManager driver (``yflink/runtime/local_driver.py``): how many TaskManagers it may start.

``resourcemanager.local-taskmanagers.max`` bounds the TaskManagers it started that still live: one that was
killed no longer holds slots, so it must not use up the allowance (a long-running cluster whose TaskManagers die
now and then would otherwise stop replacing them, and its jobs would wait for slots forever).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from yflink.common.configuration import Configuration
from yflink.deploy import process
from yflink.runtime.local_driver import LocalTaskManagerDriver


class FakeProcess:
    def __init__(self, name: str) -> None:
        self.name, self.pid, self.living = name, 4242, True

    def alive(self) -> bool:
        return self.living

    def stop(self) -> None:
        self.living = False


def test_dead_taskmanagers_do_not_count_against_the_maximum(monkeypatch: pytest.MonkeyPatch) -> None:
    spawned: list[FakeProcess] = []

    def fake_spawn(role: str, config: Configuration, run_dir: Path, name: str, extra: list[str],
                   **kwargs: Any) -> FakeProcess:
        assert role == "taskmanager" and extra == ["--jobmanager", "127.0.0.1:6123"]
        spawned.append(FakeProcess(name))
        return spawned[-1]

    monkeypatch.setattr(process, "spawn", fake_spawn)
    conf = Configuration()
    conf.set_string("resourcemanager.local-taskmanagers.max", "2")
    driver = LocalTaskManagerDriver(conf, "127.0.0.1:6123")

    async def start_while_allowed() -> int:
        started = 0
        while driver.can_start():
            await driver.start_task_manager()
            started += 1
        return started

    assert asyncio.run(start_while_allowed()) == 2
    spawned[0].living = False  # SIGKILLed
    assert driver.can_start()
    assert asyncio.run(start_while_allowed()) == 1
    assert not driver.can_start()
    assert [p.name for p in spawned] == ["taskmanager-rm-1", "taskmanager-rm-2", "taskmanager-rm-3"]  # no reuse
    driver.stop()
    assert not any(p.living for p in spawned)
