"""Processing-time timers fire on the wall clock while the input is idle (Flink "Process Function": timers;
ProcessingTimeService). Runs on real processes."""

import re
from pathlib import Path

import pytest

from tests.integration.conftest import yflink

pytestmark = pytest.mark.integration


def test_processing_time_timer_fires_while_input_is_idle() -> None:
    result = yflink("run", str(Path(__file__).parent / "jobs" / "processing_timer.py"))
    assert result.returncode == 0, result.stderr
    match = re.search(r"fired after (\d+\.\d)s", result.stdout)
    assert match, result.stdout
    assert float(match.group(1)) < 0.9  # before the source's 1 s pause ended: the input was idle
