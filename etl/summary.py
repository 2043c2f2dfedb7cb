"""What a catalogue load did (counts, rejections, timings), as the CLI and the Data operations page report it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from etl.cleaning import Rejection

StepCallback = Callable[[str, int, int], None]


@dataclass
class LoadSummary:
    titles: int = 0
    movies: int = 0
    tv_shows: int = 0
    genres: int = 0
    countries: int = 0
    people: int = 0
    episodes: int = 0
    inserted: int = 0
    updated: int = 0
    deactivated: int = 0
    rejected: int = 0
    kept_edits: int = 0
    seconds: float = 0.0
    rejections: list[Rejection] = field(default_factory=list)

    def as_json(self) -> dict:
        data = asdict(self)
        data.pop("rejections")
        return data
