"""The interval join operator through the two-input harness.

Semantics: Flink documentation, "Joining" > Interval Join (``b.ts`` in ``[a.ts + lowerBound, a.ts + upperBound]``,
both bounds inclusive by default, ``lowerBoundExclusive()``/``upperBoundExclusive()``; the pair's timestamp is the
larger of the two), and Flink's ``IntervalJoinOperator`` (late elements dropped or sent to a side output; buffered
elements cleaned up by event-time timers).
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from yflink.datastream import OutputTag, ProcessJoinFunction
from yflink.streaming.operators.interval_join import LEFT_BUFFER, RIGHT_BUFFER, IntervalJoinOperator
from yflink.streaming.operators.timers import MAX_WATERMARK
from yflink.testing import TwoInputOperatorTestHarness as Harness


class Pair(ProcessJoinFunction):
    def process_element(self, left: Any, right: Any, ctx: ProcessJoinFunction.Context) -> Any:
        assert ctx.get_timestamp() == max(ctx.get_left_timestamp(), ctx.get_right_timestamp())
        yield left[1], right[1]


def join(lower: int, upper: int, **kwargs: Any) -> Harness:
    return Harness(IntervalJoinOperator(Pair(), lower, upper, lambda v: v[0], lambda v: v[0], **kwargs))


def feed(harness: Harness, left: list[int], right: list[int], key: str = "k") -> None:
    harness.process_elements1([(key, f"L{t}") for t in left], left)
    harness.process_elements2([(key, f"R{t}") for t in right], right)


def test_inclusive_bounds() -> None:
    """Joining > Interval Join: left.ts + lower <= right.ts <= left.ts + upper, bounds inclusive."""
    harness = join(-2, 1)
    feed(harness, [0, 10], [-3, -2, 0, 1, 2, 8, 11, 12])
    assert sorted(harness.get_output()) == [("L0", "R-2"), ("L0", "R0"), ("L0", "R1"), ("L10", "R11"), ("L10", "R8")]


def test_exclusive_bounds() -> None:
    """Joining > Interval Join: lowerBoundExclusive()/upperBoundExclusive() leave the bounds out."""
    harness = join(-2, 1, lower_inclusive=False, upper_inclusive=False)
    feed(harness, [0], [-2, -1, 0, 1])
    assert sorted(harness.get_output()) == [("L0", "R-1"), ("L0", "R0")]


def test_result_timestamp_is_the_larger_and_keys_are_separate() -> None:
    """Joining > Interval Join: only elements of the same key join; a result carries max(left.ts, right.ts)."""
    harness = join(0, 5)
    harness.process_element1(("a", "L1"), 1)
    harness.process_element2(("b", "R3"), 3)
    harness.process_element2(("a", "R4"), 4)
    harness.process_element1(("a", "L2"), 2)
    assert harness.get_output_with_timestamps() == [(("L1", "R4"), 4), (("L2", "R4"), 4)]


def test_matches_a_nested_loop_on_random_order() -> None:
    """Joining > Interval Join: the result is every pair within the interval, whatever the arrival order."""
    rng = random.Random(7)
    events = [(side, rng.choice("xyz"), rng.randint(0, 50)) for side in (1, 2) for _ in range(60)]
    rng.shuffle(events)
    harness = join(-3, 4)
    for side, key, ts in events:
        (harness.process_element1 if side == 1 else harness.process_element2)((key, (side, key, ts)), ts)
    lefts = [e for e in events if e[0] == 1]
    rights = [e for e in events if e[0] == 2]
    expected = sorted((a, b) for a, b in itertools.product(lefts, rights)
                      if a[1] == b[1] and a[2] - 3 <= b[2] <= a[2] + 4)
    assert sorted(harness.get_output()) == expected


def test_late_elements_are_dropped_or_sent_to_side_outputs() -> None:
    """Flink IntervalJoinOperator: an element with a timestamp behind the watermark is late; it is dropped, or emitted
    to the side output set with sideOutputLeftLateData / sideOutputRightLateData."""
    left_late, right_late = OutputTag("left-late"), OutputTag("right-late")
    harness = join(-1, 1, left_late_tag=left_late, right_late_tag=right_late)
    feed(harness, [10], [10])
    harness.process_watermark1(20)
    harness.process_watermark2(20)
    feed(harness, [19], [5])
    assert harness.get_output() == [("L10", "R10")]
    assert harness.get_side_output(left_late) == [("k", "L19")]
    assert harness.get_side_output(right_late) == [("k", "R5")]


def test_buffers_are_cleaned_up_when_the_watermark_passes() -> None:
    """Flink IntervalJoinOperator: a left element is kept until the watermark passes ts + upper, a right element
    until ts - lower; then no partner can arrive and the state is removed."""
    harness = join(-5, 3)
    feed(harness, [10], [10])
    tables = harness.keyed_backend.tables()
    harness.process_watermark1(13)
    harness.process_watermark2(13)
    assert tables[LEFT_BUFFER] == {} and tables[RIGHT_BUFFER] != {}
    harness.process_watermark1(15)
    harness.process_watermark2(15)
    assert tables[RIGHT_BUFFER] == {}


def test_buffers_and_timers_survive_a_snapshot() -> None:
    """Process Function (timers are checkpointed) and Joining > Interval Join: a restored join still finds partners
    for buffered elements and cleans them up."""
    harness = join(0, 10)
    feed(harness, [1], [])
    snapshot = harness.snapshot()
    restored = join(0, 10)
    restored.initialize_state(snapshot)
    feed(restored, [], [5])
    restored.process_watermark1(MAX_WATERMARK)
    restored.process_watermark2(MAX_WATERMARK)
    assert restored.get_output() == [("L1", "R5")]
    assert restored.keyed_backend.tables()[LEFT_BUFFER] == {}


def test_bounds_and_timestamps_are_checked() -> None:
    """Joining > Interval Join: lowerBound <= upperBound; joined elements need timestamps (event time)."""
    with pytest.raises(ValueError, match="lowerBound <= upperBound"):
        IntervalJoinOperator(Pair(), 2, 1, lambda v: v, lambda v: v)
    with pytest.raises(RuntimeError, match="timestamps"):
        join(0, 1).process_element1(("k", "x"))
