"""Combines the watermarks of a task's input channels (Flink ``StatusWatermarkValve``), a pure state machine.

A task's event time is the minimum of its channels' watermarks; a channel that has ended no longer holds it
back (its watermark counts as +infinity). The valve reports a new combined watermark only when it advances.
Source: Flink documentation, "Timely Stream Processing" (watermarks in parallel streams).
"""

from __future__ import annotations

from typing import Optional

MIN_WATERMARK = -(1 << 63)
MAX_WATERMARK = (1 << 63) - 1


class WatermarkValve:
    """Per-channel watermarks of ``num_channels`` inputs."""

    def __init__(self, num_channels: int) -> None:
        self.channel_watermarks = [MIN_WATERMARK] * num_channels
        self.ended = [False] * num_channels
        self.current = MIN_WATERMARK

    def input_watermark(self, channel: int, watermark: int) -> Optional[int]:
        """Channel ``channel`` reached ``watermark`` ms; returns the new combined watermark if it advanced."""
        if watermark > self.channel_watermarks[channel]:
            self.channel_watermarks[channel] = watermark
            return self._advance()
        return None

    def channel_ended(self, channel: int) -> Optional[int]:
        """Channel ``channel`` ended; it no longer holds the combined watermark back."""
        self.ended[channel] = True
        return self._advance()

    def _advance(self) -> Optional[int]:
        live = [w for w, ended in zip(self.channel_watermarks, self.ended) if not ended]
        combined = min(live) if live else self.current
        if combined > self.current:
            self.current = combined
            return combined
        return None
