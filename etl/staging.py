"""Staging the planned titles: COPY into `catalogue_stage`, a permanent (unlogged) table emptied within the load.

The stage is a permanent table, not a temporary one, because the merge joins it into UPDATEs of `titles` and
`episodes`, which Citus refuses with a temporary table (scale-out rule 18). Loads are serialised by their
advisory lock and the table is emptied before and after each load inside its transaction, so other sessions
only ever see it empty. Only new, changed and re-keyed titles are staged; a title's lists travel as one text
field joined by the ASCII unit separator and are split in SQL where they are used.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from etl.plan import Planned

STAGE_COLUMNS = (
    "title_id",
    "action",
    "show_id",
    "kind",
    "title",
    "description",
    "release_year",
    "date_added",
    "maturity_rating",
    "audience",
    "duration_minutes",
    "seasons",
    "access_level",
    "genres",
    "countries",
    "directors",
    "cast_members",
    "episodes_per_season",
    "episode_minutes",
    "source_hash",
    "identity_key",
    "episode_seed",
)

# An empty CSV field is NULL, except in these columns, where it is the empty string.
NOT_NULL_TEXT_COLUMNS = ("description",)

EMPTY_STAGE = "TRUNCATE catalogue_stage"


def stage_row(p: Planned) -> tuple:
    return (p.title_id, p.action, *p.values, p.source_hash, p.row.identity, p.episode_seed)


def copy_csv(
    cursor, table: str, columns: Sequence[str], rows: Iterable[Sequence], *, not_null: Sequence[str] = ()
) -> None:
    """COPY rows (str, int, date or None) into `table` as CSV (scale-out rule 11).

    None and '' are both written as an empty field, which COPY reads as NULL, except in the
    `not_null` columns (FORCE_NOT_NULL), where it reads ''.
    """
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    buffer.seek(0)
    options = f", FORCE_NOT_NULL ({', '.join(not_null)})" if not_null else ""
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv{options})", buffer)


def stage(cursor, planned: Iterable[Planned]) -> int:
    """Empty the stage and COPY the titles the load writes into it; returns how many."""
    rows = [stage_row(p) for p in planned if p.action != "none"]
    cursor.execute(EMPTY_STAGE)
    if rows:
        copy_csv(cursor, "catalogue_stage", STAGE_COLUMNS, rows, not_null=NOT_NULL_TEXT_COLUMNS)
    return len(rows)
