"""`date_added` as the copies of the Kaggle file write it, detected per file.

The Kaggle file writes 'September 25, 2021' (some with a leading space); copies saved by spreadsheets write
'25-Sep-21', '2021-09-25', '9/25/2021' or '25/09/2021' (sometimes with a time). Month names are unambiguous.
For all-digit dates the day/month order is read off the file itself: a value like '25/09/2021' shows that the
file puts the day first. A value the file never settles ('03/04/2021' in a file without such evidence), one
against the file's order, or one in no known format is an error naming the value (the row is rejected).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?: ?[AaPp][Mm])?)?"
MONTH_FIRST_TEXT = re.compile(r"(?P<month>[A-Za-z]+)\.? +(?P<day>\d{1,2}),? +(?P<year>\d{4})")
DAY_FIRST_TEXT = re.compile(r"(?P<day>\d{1,2})(?P<sep>[ -])(?P<month>[A-Za-z]+)\.?[ -](?P<year>\d{4}|\d{2})")
YEAR_FIRST = re.compile(r"(?P<year>\d{4})(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})" + _TIME)
ALL_DIGITS = re.compile(r"(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})" + _TIME)


def _year(text: str) -> int:
    """Two-digit years as strptime's %y reads them: 69-99 are 19xx, 00-68 are 20xx."""
    year = int(text)
    if len(text) == 2:
        year += 1900 if year >= 69 else 2000
    return year


def _real_date(value: str, year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"date_added {value!r} is not a real date") from None


@dataclass
class DateReader:
    """Parses one file's `date_added` values; `styles` counts the rows written in each format."""

    day_first: bool | None = None  # all-digit dates: None when the file never shows the order
    styles: Counter = field(default_factory=Counter)
    _seen: dict[str, tuple[date, str] | str] = field(default_factory=dict)  # value -> (date, style) or error

    def parse(self, raw: str) -> date | None:
        value = raw.strip()
        if not value:
            self.styles["empty"] += 1
            return None
        known = self._seen.get(value)
        if known is None:
            try:
                known = self._parse(value)
            except ValueError as error:
                known = str(error)
            self._seen[value] = known
        if isinstance(known, str):
            raise ValueError(known)
        parsed, style = known
        self.styles[style] += 1
        return parsed

    def _parse(self, value: str) -> tuple[date, str]:
        if match := MONTH_FIRST_TEXT.fullmatch(value):
            month = self._month(value, match["month"])
            name = "Month" if len(match["month"]) > 4 else "Mon"
            return _real_date(value, int(match["year"]), month, int(match["day"])), f"{name} D, YYYY"
        if match := DAY_FIRST_TEXT.fullmatch(value):
            month = self._month(value, match["month"])
            name = "Month" if len(match["month"]) > 4 else "Mon"
            sep, digits = match["sep"], "YY" if len(match["year"]) == 2 else "YYYY"
            return _real_date(value, _year(match["year"]), month, int(match["day"])), f"D{sep}{name}{sep}{digits}"
        if match := YEAR_FIRST.fullmatch(value):
            sep = match["sep"]
            return _real_date(value, int(match["year"]), int(match["month"]), int(match["day"])), f"YYYY{sep}MM{sep}DD"
        if match := ALL_DIGITS.fullmatch(value):
            return self._all_digits(value, match)
        raise ValueError(f"date_added {value!r} is not a known date format")

    @staticmethod
    def _month(value: str, name: str) -> int:
        month = MONTHS.get(name.lower())
        if month is None:
            raise ValueError(f"date_added {value!r} is not a known date format (no month {name!r})")
        return month

    def _all_digits(self, value: str, match: re.Match) -> tuple[date, str]:
        a, b, sep = int(match["a"]), int(match["b"]), match["sep"]
        digits = "YY" if len(match["year"]) == 2 else "YYYY"
        if a != b and a <= 12 and b <= 12 and self.day_first is None:
            raise ValueError(
                f"date_added {value!r} is ambiguous: nothing in this file shows if the day or the month comes first"
            )
        day_first = bool(self.day_first) if a <= 12 and b <= 12 else a > 12
        if self.day_first is not None and day_first != self.day_first:
            order = "day/month" if self.day_first else "month/day"
            raise ValueError(f"date_added {value!r} does not follow this file's {order} order")
        day, month = (a, b) if day_first else (b, a)
        style = f"D{sep}M{sep}{digits}" if day_first else f"M{sep}D{sep}{digits}"
        return _real_date(value, _year(match["year"]), month, day), style


def detect(values: Iterable[str]) -> DateReader:
    """The reader for a file whose `date_added` values are `values`: the day/month order of its all-digit
    dates is the one its unambiguous values show (the more common one, if it shows both)."""
    day_first = month_first = 0
    for value in set(values):
        if match := ALL_DIGITS.fullmatch(value.strip()):
            a, b = int(match["a"]), int(match["b"])
            day_first += a > 12 >= b
            month_first += b > 12 >= a
    if not day_first and not month_first:
        return DateReader()
    return DateReader(day_first=day_first >= month_first)


def describe(styles: Counter) -> str:
    """'Month D, YYYY (8,797 rows), empty (10)': the formats a file used, most used first."""
    return ", ".join(f"{style} ({n:,} row{'s' if n != 1 else ''})" for style, n in styles.most_common()) or "none"
