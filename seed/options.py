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
        """[start, end) in Unix seconds: the `months` calendar months up to the start of `end` (UTC)."""
        end = datetime(self.end.year, self.end.month, self.end.day, tzinfo=UTC)
        return int((end - relativedelta(months=self.months)).timestamp()), int(end.timestamp())

    def as_json(self) -> dict:
        return {
            "subscribers": self.subscribers,
            "months": self.months,
            "end": self.end.isoformat(),
            "seed": self.seed,
            "reset": self.reset,
        }
