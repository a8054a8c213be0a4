"""Combining channel watermarks (Flink "Timely Stream Processing": the minimum over input channels)."""

from yflink.streaming.watermark_valve import WatermarkValve


def test_combined_watermark_is_the_minimum_and_only_advances() -> None:
    valve = WatermarkValve(2)
    assert valve.input_watermark(0, 10) is None  # channel 1 still at -inf
    assert valve.input_watermark(1, 5) == 5
    assert valve.input_watermark(1, 20) == 10
    assert valve.input_watermark(0, 8) is None  # a channel's watermark never goes back
    assert valve.current == 10


def test_ended_channel_stops_holding_back() -> None:
    valve = WatermarkValve(2)
    valve.input_watermark(0, 100)
    assert valve.channel_ended(1) == 100


def test_idle_channel_does_not_hold_back_and_all_idle_is_reported() -> None:
    """Flink "Generating Watermarks": dealing with idle sources."""
    valve = WatermarkValve(2)
    valve.input_watermark(0, 50)
    advanced, idleness = valve.input_status(1, True)
    assert advanced == 50 and idleness is None
    advanced, idleness = valve.input_status(0, True)
    assert advanced is None and idleness is True
    assert valve.input_watermark(1, 70) is None  # Flink ignores watermarks of idle channels
    advanced, idleness = valve.input_status(1, False)
    assert idleness is False
    assert valve.input_watermark(1, 70) == 70  # active again; channel 0 is idle and does not hold it back


def test_all_idle_moves_event_time_to_the_largest_channel_watermark() -> None:
    """Flink StatusWatermarkValve: when the last active channel goes idle, emit the max over channels."""
    valve = WatermarkValve(2)
    valve.input_watermark(0, 100)
    valve.input_watermark(1, 50)
    assert valve.current == 50
    valve.input_status(0, True)
    advanced, idleness = valve.input_status(1, True)
    assert idleness is True and advanced == 100 and valve.current == 100
