"""When the seeded members sign up and watch: the year's seasons, the week and the evening, in local time.

- **Local time**: each account gets a time zone of its country (several for the US, Canada and Australia,
  weighted by population); viewing hours are drawn in that zone and stored in UTC, so India, Japan and
  Australia peak in their own evenings, not at 20-21 h UTC. Offsets follow daylight saving day by day.
- **Seasons**: a holiday peak (Christmas to New Year, strongest on 28 December) and a summer dip (centred
  on 20 July, on 20 January south of the equator), on top of growth and the weekly rhythm. Signups follow
  the northern calendar (most accounts are there); viewing follows each member's hemisphere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

DAY = 86_400
# Zones per country and their share of its accounts (roughly by population).
ZONES: dict[str, list[tuple[str, float]]] = {
    "US": [
        ("America/New_York", 0.47),
        ("America/Chicago", 0.29),
        ("America/Denver", 0.07),
        ("America/Los_Angeles", 0.17),
    ],
    "GB": [("Europe/London", 1.0)],
    "CA": [("America/Toronto", 0.62), ("America/Edmonton", 0.2), ("America/Vancouver", 0.18)],
    "IN": [("Asia/Kolkata", 1.0)],
    "DE": [("Europe/Berlin", 1.0)],
    "FR": [("Europe/Paris", 1.0)],
    "ES": [("Europe/Madrid", 1.0)],
    "BR": [("America/Sao_Paulo", 1.0)],
    "MX": [("America/Mexico_City", 1.0)],
    "JP": [("Asia/Tokyo", 1.0)],
    "AU": [
        ("Australia/Sydney", 0.6),
        ("Australia/Brisbane", 0.2),
        ("Australia/Perth", 0.1),
        ("Australia/Adelaide", 0.1),
    ],
}
SOUTHERN = {"BR", "AU"}
ZONE_NAMES = np.array(["UTC", *sorted({zone for zones in ZONES.values() for zone, _ in zones})])
# Relative viewing by local hour (evening peak 20-22 h) and by weekday (Monday..Sunday).
EVENING = np.array([2, 1, 1, 1, 1, 1, 2, 3, 3, 3, 3, 4, 5, 5, 4, 4, 5, 6, 9, 12, 14, 13, 9, 4], dtype=float)
WEEKDAY = np.array([1.0, 1.0, 1.0, 1.05, 1.15, 1.3, 1.25])
HOLIDAY_PEAK, SUMMER_DIP = 0.35, 0.2  # at their centres, relative to an ordinary day
HOLIDAY_DAY, SUMMER_DAY = 361, 200  # day of the year (0 = 1 January): 28 December, 20 July


def assign_zones(rng: np.random.Generator, countries: np.ndarray) -> np.ndarray:
    """A time zone (index into ZONE_NAMES) for each account, drawn among its country's zones."""
    zones = np.zeros(countries.size, dtype=np.int64)
    for country, choices in ZONES.items():
        rows = np.flatnonzero(countries == country)
        names, shares = zip(*choices, strict=True)
        index = np.searchsorted(ZONE_NAMES, names)
        zones[rows] = index[rng.choice(len(names), size=rows.size, p=np.array(shares) / sum(shares))]
    return zones


def utc_offsets(first_day: int, days: int) -> np.ndarray:
    """offsets[zone, d]: seconds east of UTC of each zone at local noon of day `first_day + d` (Unix days)."""
    offsets = np.zeros((ZONE_NAMES.size, days), dtype=np.int64)
    for z, name in enumerate(ZONE_NAMES):
        zone = ZoneInfo(name)
        for d in range(days):
            noon = datetime.fromtimestamp((first_day + d) * DAY + DAY // 2, UTC).astimezone(zone)
            offset = noon.utcoffset()
            offsets[z, d] = 0 if offset is None else int(offset.total_seconds())
    return offsets


def _bump(day_of_year: np.ndarray, centre: int, width: float) -> np.ndarray:
    distance = np.abs(day_of_year - centre)
    distance = np.minimum(distance, 365 - distance)  # around the new year
    return np.exp(-0.5 * (distance / width) ** 2)


def seasonal(days: np.ndarray, southern: np.ndarray | bool = False) -> np.ndarray:
    """Relative activity of each day (Unix days): the holiday peak and the summer dip of its hemisphere."""
    stamp = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    day_of_year = (stamp - stamp.astype("datetime64[Y]")).astype(np.int64)
    summer = np.where(southern, (SUMMER_DAY + 183) % 365, SUMMER_DAY)
    return 1 + HOLIDAY_PEAK * _bump(day_of_year, HOLIDAY_DAY, 8.0) - SUMMER_DIP * _bump(day_of_year, summer, 30.0)


def weekday(days: np.ndarray) -> np.ndarray:
    """0 = Monday .. 6 = Sunday of Unix days (1970-01-01 was a Thursday)."""
    return (np.asarray(days, dtype=np.int64) + 3) % 7


def is_southern(countries: np.ndarray) -> np.ndarray:
    return np.isin(countries, list(SOUTHERN))
