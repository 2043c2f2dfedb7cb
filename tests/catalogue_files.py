"""Catalogue files written by the reload tests: a small invented catalogue (no row of the Kaggle file) and the
ways other releases and copies of such a file differ: re-numbered ids, shuffled rows, dates written another
way, other encodings and line endings."""

from __future__ import annotations

import csv
import io
import random
from datetime import date
from pathlib import Path

HEADER = (
    "show_id",
    "type",
    "title",
    "director",
    "cast",
    "country",
    "date_added",
    "release_year",
    "rating",
    "duration",
    "listed_in",
    "description",
)


def row(show_id, kind, title, director, cast, added, year, rating, duration, genres, description, country="Chile"):
    return dict(
        zip(
            HEADER,
            (show_id, kind, title, director, cast, country, added, str(year), rating, duration, genres, description),
            strict=True,
        )
    )


ADDED = {  # date_added of each row, as dates (written in each file's own way)
    "r1": date(2021, 3, 3),
    "r2": date(2017, 8, 14),
    "r3": date(2019, 11, 20),
    "r4": date(2020, 1, 15),
    "r5": date(2020, 10, 2),
    "r6": date(2018, 12, 24),
    "r7": date(2021, 9, 9),
    "r8": date(2016, 5, 30),
    "r9": date(2015, 7, 7),
    "r10": date(2019, 2, 28),
}

TITLES = [
    row("r1", "Movie", "The Paper Lantern", "Ada Quill", "Bo Reyes, Cy Moss", "", 2019, "PG-13", "101 min",
        "Dramas", "A lamp maker lights up one last festival."),
    row("r2", "TV Show", "Harbour Lights", "", "Dee Okafor, Eli Varga", "", 2016, "TV-MA", "2 Seasons",
        "Crime TV Shows", "Dockside detectives chase a smuggler."),
    row("r3", "Movie", "Night Train", "Uma Stone", "Lee Park, Ola Berg", "", 2019, "R", "95 min",
        "Thrillers", "A sleeper car, a missing violin."),
    row("r4", "Movie", "Night Train", "Rafe Cole", "Mia Wong, Lee Park", "", 2019, "PG", "88 min",
        "Documentaries", "The last overnight service across the plains."),
    row("r5", "TV Show", "Kitchen Wars", "Mo Diaz", "Ned Frost", "", 2020, "TV-14", "3 Seasons",
        "Reality TV", "Chefs cook against the clock."),
    row("r6", "Movie", "Quiet Orchard", "", "", "", 2018, "NR", "74 min",
        "Documentaries", "Farmers in two valleys share one harvest."),
    row("r7", "TV Show", "Little Sprouts", "", "Gus Hale, Ivy Chen", "", 2021, "TV-Y", "1 Season",
        "Kids' TV", "Tiny vegetables learn to count."),
    row("r8", "Movie", "Glass Meadow", "Pia Lund", "Tom Ash", "", 2015, "TV-PG", "99 min",
        "Dramas", "A glassblower returns to her village."),
    row("r9", "Movie", "Salt Roads", "Ken Obi", "Ray Sol, Ana Ruiz", "", 2014, "TV-MA", "120 min",
        "Dramas", "Two truckers, one desert, no water."),
    row("r10", "TV Show", "Copper Sky", "", "Zed Moor", "", 2018, "TV-14", "4 Seasons",
        "Sci-Fi & Fantasy", "A mining colony loses its sun."),
]  # fmt: skip


def kaggle_date(day: date) -> str:
    return f"{day.strftime('%B')} {day.day}, {day.year}"


def write(
    path: Path,
    rows: list[dict],
    *,
    dates=kaggle_date,
    encoding: str = "utf-8",
    newline: str = "\n",
    delimiter: str = ",",
) -> Path:
    """`rows` as a catalogue CSV, each row's date_added (from ADDED, by its original id `_key` or show_id)
    written by `dates`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline, delimiter=delimiter)
    writer.writerow(HEADER)
    for r in rows:
        key = r.get("_key", r["show_id"])
        added = r["date_added"] or (dates(ADDED[key]) if key in ADDED else "")
        writer.writerow([added if column == "date_added" else r[column] for column in HEADER])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def renumbered(rows: list[dict], seed: int = 7, prefix: str = "r") -> list[dict]:
    """The rows shuffled and their ids dealt out again (as a new release of the source did): `_key` keeps
    each row's original id for the tests; a new `prefix` gives ids the catalogue has never seen."""
    rng = random.Random(seed)
    ids = [r["show_id"] for r in rows]
    while True:
        rng.shuffle(ids)
        if all(a != b for a, b in zip(ids, [r["show_id"] for r in rows], strict=True)):
            break
    out = [
        dict(r, _key=r.get("_key", r["show_id"]), show_id=prefix + new[1:]) for r, new in zip(rows, ids, strict=True)
    ]
    rng.shuffle(out)
    return out
