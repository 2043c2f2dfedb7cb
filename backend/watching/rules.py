"""The viewing rules that playback, the seeder and the engagement analytics share (metrics.md)."""

from __future__ import annotations

COMPLETED_AT = 0.9  # a title counts as completed at 90% of its runtime
QUALIFIED_PLAY_SECONDS = 120  # a play counts once it reached 2 minutes (or the end of a shorter item)
