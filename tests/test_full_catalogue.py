"""The real Kaggle file (NETFLIX_CSV): exact counts, the three fixed rows, idempotence, atomicity."""

import pytest
from sqlalchemy import text

from benchmarks.etl_reload import renumbered_copy
from etl import load_catalogue as etl
from tests.conftest import full_catalogue_csv, needs_full_csv
from tests.test_catalogue_etl import snapshot

pytestmark = needs_full_csv

RATING_HELD_DURATION = {"s5542": 74, "s5795": 84, "s5814": 66}


def test_full_load_counts_fixed_rows_and_idempotent_rerun(engine):
    summary = etl.load_catalogue(engine, full_catalogue_csv())
    assert (summary.titles, summary.movies, summary.tv_shows) == (8807, 6131, 2676)
    assert (summary.inserted, summary.rejected) == (8807, 0)
    assert (summary.genres, summary.countries) == (42, 122)
    assert summary.people > 40_000 and summary.episodes > 4_723 * 6  # at least 6 episodes a season

    with engine.connect() as conn:
        fixed = conn.execute(
            text("""
            SELECT show_id, maturity_rating, audience, duration_minutes FROM titles
            WHERE show_id IN ('s5542', 's5795', 's5814') ORDER BY show_id""")
        ).all()
        assert [(s, r, a, m) for s, r, a, m in fixed] == [
            (s, None, "unrated", minutes) for s, minutes in sorted(RATING_HELD_DURATION.items())
        ]
        assert conn.execute(text("SELECT count(*) FROM titles WHERE maturity_rating LIKE '%min'")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM countries WHERE name <> btrim(name) OR name = ''")).scalar() == 0
        dated = conn.execute(text("SELECT count(date_added) FROM titles")).scalar()
        assert dated == 8807 - 10  # the Kaggle file leaves 10 date_added empty; the 88 with a leading space parse

    before = snapshot(engine)
    rerun = etl.load_catalogue(engine, full_catalogue_csv())
    assert (rerun.inserted, rerun.updated, rerun.deactivated, rerun.titles) == (0, 0, 0, 8807)
    assert snapshot(engine) == before


def test_full_load_failing_midway_keeps_previous_catalogue(engine, tmp_path, monkeypatch):
    etl.load_catalogue(engine, full_catalogue_csv())
    before = snapshot(engine)
    # A smaller file with edited rows: the failing load has updated titles and deactivated about
    # 3,800 others before it fails in its last statement, just before commit.
    lines = full_catalogue_csv().read_text(encoding="utf-8").splitlines(keepends=True)
    partial = tmp_path / "partial.csv"
    partial.write_text(
        "".join(lines[:1] + [line.replace("Documentaries", "Docs") for line in lines[1:5000]]), encoding="utf-8"
    )
    monkeypatch.setattr(etl, "ACTIVE_CATALOGUE_COUNTS", "SELECT 1 / 0")
    with pytest.raises(Exception, match="division by zero"):
        etl.load_catalogue(engine, partial)
    assert snapshot(engine) == before


def test_a_renumbered_shuffled_copy_of_the_real_file_keeps_every_title(engine, tmp_path):
    """The copy is made here, in a temporary folder, and never kept."""
    etl.load_catalogue(engine, full_catalogue_csv())
    before = snapshot(engine)
    copy = renumbered_copy(full_catalogue_csv(), tmp_path, seed=11)
    preview = etl.load_catalogue(engine, copy, dry_run=True)
    assert (preview.inserted, preview.updated, preview.renamed, preview.deactivated, preview.rejected) == (0,) * 5
    assert preview.reidentified == preview.ids_changing_meaning > 8_700 and preview.refusal_override
    summary = etl.load_catalogue(engine, copy, allow_renumbering=True)
    assert (summary.reidentified, summary.titles, summary.episodes) == (
        preview.reidentified,
        8807,
        before_episodes(before),
    )
    after = snapshot(engine)
    assert without_ids(after["titles"]) == without_ids(before["titles"])  # each title id is the same title
    for table in ("episodes", "title_genres", "title_countries", "title_people"):
        assert after[table] == before[table], table


def without_ids(rows) -> set[tuple]:
    return {(r.title_id, r.kind, r.title, r.release_year, r.description, r.date_added) for r in rows}


def before_episodes(before) -> int:
    return sum(1 for e in before["episodes"] if e.is_active)
