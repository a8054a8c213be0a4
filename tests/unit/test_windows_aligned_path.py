"""The window operator's specialised path for tumbling/sliding event-time windows gives exactly what the general
path gives, and both what a plain-Python model of Flink's rules gives, on random out-of-order input.

Semantics: Flink documentation, "Windows" (Tumbling Windows, Sliding Windows, Window Lifecycle, Allowed
Lateness, Getting late data as a side output) and Flink ``WindowOperator`` (EventTimeTrigger, cleanup timers).
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from tests.unit.test_windows_functions import AverageAggregate
from tests.unit.windows_support import keyed_stream, operator_of
from yflink.common import Types
from yflink.datastream import OutputTag
from yflink.datastream.window import SlidingEventTimeWindows, TumblingEventTimeWindows
from yflink.testing import OneInputOperatorTestHarness as Harness

LATE = OutputTag("late", Types.PICKLED_BYTE_ARRAY())
MIN = -(1 << 63)


def script(seed: int) -> list[tuple[Any, ...]]:
    """Batches of out-of-order ``(key, value)`` records (timestamps) and watermarks that trail them."""
    rng = random.Random(seed)
    steps: list[tuple[Any, ...]] = []
    now = 0
    for _ in range(60):
        batch = []
        for _ in range(rng.randint(0, 8)):
            now += rng.randint(0, 6)
            batch.append(((rng.choice("abc"), rng.randint(1, 9)), max(0, now - rng.randint(0, 40))))
        steps.append(("batch", batch))
        if rng.random() < 0.5:
            steps.append(("watermark", now - rng.randint(0, 25)))
    return steps


def run(stream: Any, steps: list[tuple[Any, ...]], aligned: bool) -> list[tuple[Any, ...]]:
    h = Harness(operator_of(stream))
    h.open()
    assert h.operator._aligned
    h.operator._aligned = aligned
    watermark = MIN
    for step in steps:
        if step[0] == "batch":
            if step[1]:
                h.process_elements([v for v, _ in step[1]], [t for _, t in step[1]])
        elif step[1] > watermark:
            watermark = step[1]
            h.process_watermark(watermark)
    h.end_input()
    return h.get_events()


def model(steps: list[tuple[Any, ...]], size: int, slide: int, lateness: int) -> Counter[tuple[Any, ...]]:
    """Flink's rules by hand: a window takes an element unless watermark >= max_timestamp + lateness; it fires
    when the watermark reaches max_timestamp, and again for every element added after that; an element no
    window took and with timestamp + lateness <= watermark is late."""
    watermark = MIN
    sums: dict[tuple[str, int], int] = {}
    out: Counter[tuple[Any, ...]] = Counter()
    for step in steps:
        if step[0] == "watermark":
            if step[1] <= watermark:
                continue
            for (key, start), total in sorted(sums.items(), key=lambda kv: kv[0][1]):
                if watermark < start + size - 1 <= step[1]:
                    out[("record", (key, total), start + size - 1)] += 1
            watermark = step[1]
            continue
        for (key, value), ts in step[1]:
            taken = False
            last = ts - ts % slide
            for start in range(last, ts - size, -slide):
                end_ts = start + size - 1
                if end_ts + lateness <= watermark:
                    continue
                taken = True
                sums[(key, start)] = sums.get((key, start), 0) + value
                if end_ts <= watermark:
                    out[("record", (key, sums[(key, start)]), end_ts)] += 1
            if not taken and ts + lateness <= watermark:
                out[("side", "late", (key, value), ts)] += 1
    for (key, start), total in sums.items():
        if start + size - 1 > watermark:
            out[("record", (key, total), start + size - 1)] += 1
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("size, slide, lateness", [(10, 10, 0), (10, 10, 15), (20, 5, 0), (12, 5, 7)])
def test_aligned_path_equals_general_path_and_model(seed: int, size: int, slide: int, lateness: int) -> None:
    """Reduce over tumbling and sliding windows, with and without allowed lateness, late data to a side output.
    Flink documentation: "Windows" > "Tumbling Windows", "Sliding Windows", "Allowed Lateness"."""
    assigner = TumblingEventTimeWindows.of(size) if size == slide else SlidingEventTimeWindows.of(size, slide)
    stream = keyed_stream().window(assigner).allowed_lateness(lateness).side_output_late_data(LATE) \
        .reduce(lambda a, b: (a[0], a[1] + b[1]))
    steps = script(seed)
    fast, general = run(stream, steps, True), run(stream, steps, False)
    assert fast == general
    assert Counter(e for e in fast if e[0] != "watermark") == model(steps, size, slide, lateness)


@pytest.mark.parametrize("seed", range(3))
def test_aligned_path_with_aggregate_and_process(seed: int) -> None:
    """The specialised path also runs aggregate and process windows (one accumulator / a list per window).
    Flink documentation: "Windows" > "Window Functions"."""
    steps = script(seed)
    for stream in (keyed_stream().window(SlidingEventTimeWindows.of(20, 10)).allowed_lateness(5)
                   .aggregate(AverageAggregate()),
                   keyed_stream().window(TumblingEventTimeWindows.of(10))
                   .apply(lambda key, window, inputs: [(key, window.start, sorted(v for _, v in inputs))])):
        assert run(stream, steps, True) == run(stream, steps, False)


def test_the_aligned_path_forgets_expired_windows() -> None:
    """Windows whose cleanup time passed are gone from the operator, state and all (Flink documentation, "Windows"
    > "Window Lifecycle": a window is removed when the watermark passes its end plus the allowed lateness)."""
    stream = keyed_stream().window(TumblingEventTimeWindows.of(10)).allowed_lateness(5) \
        .reduce(lambda a, b: (a[0], a[1] + b[1]))
    h = Harness(operator_of(stream))
    h.open()
    for start in range(0, 1000, 10):
        h.process_elements([("a", 1), ("b", 1)], [start, start + 3])
        h.process_watermark(start + 9)
    assert set(h.operator._window_cache) == {990}  # [980, 990) was cleaned up at 989 + 5
    assert set(h.operator._contents["a"]) == {(990, 1000)}
    assert len(h.get_output()) == 200
