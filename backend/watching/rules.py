"""The viewing rules that playback, the seeder and the engagement analytics share (metrics.md)."""

from __future__ import annotations

COMPLETED_AT = 0.9  # a title counts as completed at 90% of its runtime
QUALIFIED_PLAY_SECONDS = 120  # a play counts once it reached 2 minutes (or the end of a shorter item)
# Free titles play for signed-in members without a subscription on this many screens at once, in this resolution
# (a subscriber plays them on the plan's screens).
FREE_SCREENS = 1
FREE_RESOLUTION = "720p"
