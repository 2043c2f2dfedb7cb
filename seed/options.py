"""What a seeding run is asked to do, and the seeder's constants."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from dateutil.relativedelta import relativedelta

JOB_NAME = "seed"


DEFAULT_SEED = 20_240_601


DEMO_PASSWORD = "reelhouse-demo-1"  # every seeded account signs in with it (README)


VIEWING_CHUNK = 2_000  # accounts whose viewing is generated and copied at a time (bounds memory)


PHASES = ("accounts", "subscriptions", "viewing", "checks")


Progress = Callable[[str, int, int], None]


class SeedError(RuntimeError):
    """A reason the seeder will not run; the message is for the person running it."""


@dataclass(frozen=True)
class Options:
    subscribers: int = 5_000
    months: int = 12
    end: date = field(default_factory=lambda: datetime.now(UTC).date())
    seed: int = DEFAULT_SEED
    reset: bool = False

    def window(self) -> tuple[int, int]:
        """[start, end) in Unix seconds (UTC): `months` complete calendar months, then the month of `end` up
        to the start of that day. --months 12 --end 2026-12-07 is 2025-12-01 to 2026-12-07: twelve
        complete months plus the month to date (none when `end` is the first of a month)."""
        end = datetime(self.end.year, self.end.month, self.end.day, tzinfo=UTC)
        start = datetime(self.end.year, self.end.month, 1, tzinfo=UTC) - relativedelta(months=self.months)
        return int(start.timestamp()), int(end.timestamp())

    def as_json(self) -> dict:
        return {
            "subscribers": self.subscribers,
            "months": self.months,
            "end": self.end.isoformat(),
            "seed": self.seed,
            "reset": self.reset,
        }
