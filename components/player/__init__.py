"""The video player (a components-v2 component): plays a generated clip that stands in for the real
running time, resumes at a position and reports where it is (see player.js).

Only data goes to the component (URLs, numbers, a fixed caption), never user input or HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
_PLAYER = st.components.v2.component(
    "reelhouse_player", js=(HERE / "player.js").read_text(), css=(HERE / "player.css").read_text()
)


@dataclass(frozen=True)
class PlayerReport:
    """A report from the player: `kind` progress | pause | heartbeat | ended, and the position scaled to
    the real running time."""

    kind: str
    position_seconds: float
    ended: bool


def player(
    *,
    key: str,
    src: str,
    runtime_seconds: int,
    start_seconds: int = 0,
    caption: str = "",
    report: bool = True,
    stop: bool = False,
    device: str | None = None,
    every: int = 5,
    idle: int = 30,
    autoplay: bool = True,
) -> PlayerReport | None:
    """Mount the player; the report that caused this rerun, if any."""
    data = {
        "src": src,
        "runtime": runtime_seconds,
        "start": start_seconds,
        "caption": caption,
        "report": report,
        "stop": stop,
        "device": device,
        "every": every,
        "idle": idle,
        "autoplay": autoplay,
    }
    result = _PLAYER(key=key, data=data, on_report_change=lambda: None)
    raw = getattr(result, "report", None)
    if not isinstance(raw, dict) or not raw.get("d"):
        return None
    clip_position = max(0.0, min(float(raw.get("t") or 0), float(raw["d"])))
    return PlayerReport(str(raw.get("kind")), clip_position / float(raw["d"]) * runtime_seconds, bool(raw.get("ended")))
