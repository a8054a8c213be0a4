"""Combines the watermarks of a task's input channels (Flink ``StatusWatermarkValve``), a pure state machine.

A task's event time is the minimum of its channels' watermarks; a channel that has ended or is idle no longer
holds it back. The valve reports a new combined watermark only when it advances, and the task is idle when every
live channel is idle. Source: Flink documentation, "Timely Stream Processing" (watermarks in parallel streams)
and "Generating Watermarks" (dealing with idle sources).
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
        self.idle = [False] * num_channels
        self.current = MIN_WATERMARK
        self.all_idle = False

    def add_channel(self) -> int:
        """Add a channel (at MIN_WATERMARK, active); returns its index."""
        self.channel_watermarks.append(MIN_WATERMARK)
        self.ended.append(False)
        self.idle.append(False)
        return len(self.channel_watermarks) - 1

    def input_status(self, channel: int, idle: bool) -> tuple[Optional[int], Optional[bool]]:
        """Channel ``channel`` went idle or active. Returns (advanced combined watermark or None,
        the task's new idleness when it changed or None)."""
        self.idle[channel] = idle
        advanced = self._advance()
        live = [i for i, e in zip(self.idle, self.ended) if not e]
        all_idle = bool(live) and all(live)
        changed = None
        if all_idle != self.all_idle:
            self.all_idle = all_idle
            changed = all_idle
            if all_idle:  # Flink: when every channel is idle, event time moves to the largest channel watermark
                top = max(w for w, e in zip(self.channel_watermarks, self.ended) if not e)
                if top > self.current:
                    self.current = advanced = top
        return advanced, changed

    def input_watermark(self, channel: int, watermark: int) -> Optional[int]:
        """Channel ``channel`` reached ``watermark`` ms; returns the new combined watermark if it advanced."""
        if self.idle[channel]:  # Flink ignores watermarks of idle channels until they report ACTIVE again
            return None
        if watermark > self.channel_watermarks[channel]:
            self.channel_watermarks[channel] = watermark
            return self._advance()
        return None

    def channel_ended(self, channel: int) -> Optional[int]:
        """Channel ``channel`` ended; it no longer holds the combined watermark back."""
        self.ended[channel] = True
        return self._advance()

    def _advance(self) -> Optional[int]:
        live = [w for w, ended, idle in zip(self.channel_watermarks, self.ended, self.idle) if not ended and not idle]
        combined = min(live) if live else self.current
        if combined > self.current:
            self.current = combined
            return combined
        return None
