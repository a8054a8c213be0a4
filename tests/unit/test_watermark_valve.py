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
