"""The task's processing-time callbacks (Flink ``ProcessingTimeService``: operators are called back on processing
time even while no input arrives; documentation "Process Function" > Timers, "Generating Watermarks" >
periodic watermark generation every ``pipeline.auto-watermark-interval``)."""

from __future__ import annotations

import time

from yflink.streaming.processing_time import ProcessingTimeTicker


class Ticked:
    def __init__(self) -> None:
        self.calls: list[int] = []

    def on_processing_time(self, now_ms: int) -> None:
        self.calls.append(now_ms)


def test_ticker_calls_operators_with_a_callback_at_most_once_per_period() -> None:
    """Only operators with ``on_processing_time`` are called, with the wall-clock time in ms, once per period."""
    op = Ticked()
    ticker = ProcessingTimeTicker([op, object()], tick_ms=20)
    assert ticker and not ProcessingTimeTicker([object()])
    ticker.tick()
    assert op.calls == []  # the first tick is one period after creation
    deadline = time.monotonic() + 5
    while not op.calls and time.monotonic() < deadline:
        time.sleep(ticker.wait_s)
        ticker.tick()
    assert len(op.calls) == 1 and abs(op.calls[0] - time.time_ns() // 1_000_000) < 1000
    ticker.tick()
    assert len(op.calls) == 1 and 0 < ticker.wait_s <= 0.02
