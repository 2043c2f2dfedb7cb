"""Catalogue ETL against a real database: loading, re-running, changes, atomicity, CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

import database
from backend.catalogue.rules import episode_plan
from backend.core import jobs
from backend.core.settings import get_settings
from etl import load_catalogue as etl
from etl import merge as catalogue_merge
from etl.refusals import BadHeader, MassDeactivation
from tests.conftest import QUIRKS_CSV, run_at_once

CATALOGUE_TABLES = (
    "titles",
    "genres",
    "countries",
    "people",
    "title_genres",
    "title_countries",
    "title_people",
    "episodes",
)


def snapshot(engine) -> dict[str, list]:
    """Every row of every catalogue table, in a stable order."""
    with engine.connect() as conn:
        return {
            table: conn.execute(text(f"SELECT * FROM {table} ORDER BY {table}")).all() for table in CATALOGUE_TABLES
        }


def foreign_keys(engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(
            text("""
            SELECT conrelid::regclass::text, conname, convalidated FROM pg_constraint
            WHERE contype = 'f' ORDER BY 1, 2""")
        ).all()


def edited_csv(tmp_path: Path, edit) -> Path:
    lines = QUIRKS_CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "edited.csv"
    path.write_text("".join(edit(lines)), encoding="utf-8")
    return path


def test_fixture_load_counts(engine):
    summary = etl.load_catalogue(engine, QUIRKS_CSV)
    expected_episodes = sum(len(episode_plan(s, n).episodes()) for s, n in (("t2", 2), ("t5", 1), ("t8", 3)))
    assert (summary.titles, summary.movies, summary.tv_shows) == (9, 6, 3)
    assert (summary.genres, summary.countries, summary.people) == (13, 9, 16)
    assert summary.episodes == expected_episodes
    assert (summary.inserted, summary.updated, summary.deactivated, summary.rejected) == (9, 0, 0, 8)


def test_fixture_rows_land_with_links_in_order(engine):
    etl.load_catalogue(engine, QUIRKS_CSV)
    with engine.connect() as conn:
        t3 = conn.execute(text("SELECT * FROM titles WHERE show_id = 't3'")).mappings().one()
        assert (t3["maturity_rating"], t3["audience"], t3["duration_minutes"]) == (None, "unrated", 74)
        t7 = conn.execute(text("SELECT description, date_added FROM titles WHERE show_id = 't7'")).one()
        assert t7 == ("", None)  # an empty description stays an empty string
        countries = (
            conn.execute(
                text("""
            SELECT c.name FROM title_countries tc JOIN countries c USING (country_id)
            JOIN titles t USING (title_id) WHERE t.show_id = 't4' ORDER BY tc.position""")
            )
            .scalars()
            .all()
        )
        assert countries == ["France", "Belgium"]
        people = conn.execute(
            text("""
            SELECT tp.role, p.name FROM title_people tp JOIN people p USING (person_id)
            JOIN titles t USING (title_id) WHERE t.show_id IN ('t5', 't6', 't8')
            ORDER BY t.show_id, tp.role, tp.position""")
        ).all()
        assert people == [
            ("cast", 'Gus "Gizmo" Hale'),
            ("cast", "Ivy Chen"),
            ("cast", "Jo Back\\slash"),
            ("cast", "Kim Lee"),
            ("director", "Hal Ortiz"),
            ("cast", "Ned Frost"),
            ("director", "Mo Diaz"),
            ("director", "Ada Quill"),
        ]
        seasons = conn.execute(
            text("""
            SELECT e.season_number, count(*) FROM episodes e JOIN titles t USING (title_id)
            WHERE t.show_id = 't8' GROUP BY 1 ORDER BY 1""")
        ).all()
        assert [n for _, n in seasons] == list(episode_plan("t8", 3).episodes_per_season)
        assert conn.execute(text("SELECT bool_and(is_generated) FROM episodes")).scalar() is True


def test_rerun_changes_nothing(engine):
    etl.load_catalogue(engine, QUIRKS_CSV)
    before = snapshot(engine)
    summary = etl.load_catalogue(engine, QUIRKS_CSV)
    assert (summary.inserted, summary.updated, summary.deactivated) == (0, 0, 0)
    assert snapshot(engine) == before  # same rows, same ids, same updated_at


def test_changed_added_and_removed_titles(engine, tmp_path):
    etl.load_catalogue(engine, QUIRKS_CSV)

    def edit(lines):
        out = []
        for line in lines:
            if line.startswith("t1,"):
                line = line.replace('"Bo Reyes, Cy Moss, Bo Reyes"', '"Cy Moss, Pat New"')
            if line.startswith("t7,"):  # removed from the CSV
                continue
            if line.startswith("t8,"):  # one season fewer
                line = line.replace("3 Seasons", "2 Seasons")
            out.append(line)
        out.append('t20,Movie,Brand New,,,Chile,"May 1, 2021",2021,R,100 min,Dramas,Added later.\n')
        return out

    summary = etl.load_catalogue(engine, edited_csv(tmp_path, edit))
    assert (summary.inserted, summary.updated, summary.deactivated) == (1, 2, 1)
    assert summary.titles == 9
    with engine.connect() as conn:
        cast = (
            conn.execute(
                text("""
            SELECT p.name FROM title_people tp JOIN people p USING (person_id) JOIN titles t USING (title_id)
            WHERE t.show_id = 't1' AND tp.role = 'cast' ORDER BY tp.position""")
            )
            .scalars()
            .all()
        )
        assert cast == ["Cy Moss", "Pat New"]
        assert conn.execute(text("SELECT is_active FROM titles WHERE show_id = 't7'")).scalar() is False
        season_3 = conn.execute(
            text("""
            SELECT count(*) FILTER (WHERE e.is_active), count(*) FROM episodes e JOIN titles t USING (title_id)
            WHERE t.show_id = 't8' AND e.season_number = 3""")
        ).one()
        assert season_3[0] == 0 and season_3[1] > 0  # kept for history, no longer offered

    # Putting the title back reactivates it (same id: history keeps its references).
    with engine.connect() as conn:
        old_id = conn.execute(text("SELECT title_id FROM titles WHERE show_id = 't7'")).scalar()
    summary = etl.load_catalogue(engine, QUIRKS_CSV)
    assert summary.deactivated == 1  # t20 is gone again
    with engine.connect() as conn:
        row = conn.execute(text("SELECT title_id, is_active FROM titles WHERE show_id = 't7'")).one()
    assert row == (old_id, True)


@pytest.mark.parametrize("bulk_threshold", [1, 10_000], ids=["bulk-path", "row-path"])
def test_failure_midway_leaves_previous_catalogue(engine, tmp_path, monkeypatch, bulk_threshold):
    etl.load_catalogue(engine, QUIRKS_CSV)
    before, keys_before = snapshot(engine), foreign_keys(engine)
    monkeypatch.setattr(catalogue_merge, "BULK_CHANGE_THRESHOLD", bulk_threshold)
    # Fail after titles, names and links were written, while episodes are merged.
    monkeypatch.setattr(catalogue_merge, "MERGE_EPISODES", ("SELECT 1 / 0",))
    changed = edited_csv(tmp_path, lambda lines: [x.replace("Dockside", "Harbourside") for x in lines])
    indexes_before = indexes(engine)
    with pytest.raises(Exception, match="division by zero"):
        etl.run_logged(engine, changed)
    assert snapshot(engine) == before
    assert foreign_keys(engine) == keys_before
    assert indexes(engine) == indexes_before
    last = jobs.recent_runs(engine, etl.JOB_NAME, limit=1).iloc[0]
    assert last["status"] == "failed" and "division by zero" in last["error"]


def indexes(engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2")
        ).all()


def test_bulk_path_restores_foreign_keys_and_indexes(engine, monkeypatch):
    keys_before, indexes_before = foreign_keys(engine), indexes(engine)
    monkeypatch.setattr(catalogue_merge, "BULK_CHANGE_THRESHOLD", 1)
    etl.load_catalogue(engine, QUIRKS_CSV)
    keys_after = foreign_keys(engine)
    assert keys_after == keys_before
    assert indexes(engine) == indexes_before
    assert all(validated for _, _, validated in keys_after)
    assert len([k for k in keys_after if k[0] == "title_people"]) == 2


def test_bad_header_changes_nothing(engine, tmp_path):
    etl.load_catalogue(engine, QUIRKS_CSV)
    before = snapshot(engine)
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name\n1,x\n", encoding="utf-8")
    with pytest.raises(BadHeader):
        etl.run_logged(engine, bad)
    assert snapshot(engine) == before


def test_csv_without_valid_rows_changes_nothing(engine, tmp_path):
    etl.load_catalogue(engine, QUIRKS_CSV)
    before = snapshot(engine)
    header_only = edited_csv(tmp_path, lambda lines: lines[:1])
    with pytest.raises(etl.NoValidRows):
        etl.load_catalogue(engine, header_only)
    assert snapshot(engine) == before  # not a single title deactivated


def test_a_csv_lacking_most_titles_is_refused_unless_allowed(engine, tmp_path):
    etl.load_catalogue(engine, QUIRKS_CSV)
    before = snapshot(engine)
    first_two = edited_csv(tmp_path, lambda lines: lines[:3])  # header, t1, t2
    with pytest.raises(MassDeactivation, match="lacks 7 of the 9 active titles"):
        etl.run_logged(engine, first_two)
    assert snapshot(engine) == before
    summary = etl.load_catalogue(engine, first_two, allow_mass_deactivation=True)
    assert (summary.titles, summary.deactivated) == (2, 7)


def test_cli_refuses_mass_deactivation_with_advice(engine, tmp_path):
    etl.load_catalogue(engine, QUIRKS_CSV)
    result = run_cli("--csv", str(edited_csv(tmp_path, lambda lines: lines[:2])))
    assert result.returncode == 2
    assert "--allow-mass-deactivation" in result.stderr and "Nothing was changed" in result.stderr
    assert (
        run_cli("--csv", str(edited_csv(tmp_path, lambda lines: lines[:2])), "--allow-mass-deactivation").returncode
        == 0
    )


def test_concurrent_loads_serialise(engine):
    first, second = run_at_once(
        lambda: etl.load_catalogue(engine, QUIRKS_CSV), lambda: etl.load_catalogue(engine, QUIRKS_CSV)
    )
    assert sorted([first.inserted, second.inserted]) == [0, 9]  # one waited for the other, then found no changes
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*), count(DISTINCT show_id) FROM titles")).one() == (9, 9)


def test_successful_run_is_logged(engine):
    etl.run_logged(engine, QUIRKS_CSV, started_by="pytest")
    run = jobs.recent_runs(engine, etl.JOB_NAME, limit=1).iloc[0]
    assert run["status"] == "succeeded" and run["started_by"] == "pytest"
    assert run["summary"]["titles"] == 9 and run["summary"]["rejected"] == 8
    assert run["summary"]["rejections"][0].startswith("row 9 (t2)")
    assert run["finished_at"] >= run["started_at"]


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "etl.load_catalogue", *args],
        capture_output=True,
        text=True,
        cwd=database.PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_cli_prints_one_json_line_and_reports_rejections(db_url):
    result = run_cli("--csv", str(QUIRKS_CSV), "--json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert list(summary) == [
        "titles",
        "movies",
        "tv_shows",
        "genres",
        "countries",
        "people",
        "episodes",
        "inserted",
        "updated",
        "reidentified",
        "renamed",
        "unchanged",
        "deactivated",
        "rejected",
        "kept_edits",
        "kept_rejected",
        "ids_changing_meaning",
        "shared_ids",
        "file_rows",
        "sha256",
        "date_formats",
        "dry_run",
        "refusal",
        "refusal_override",
        "examples",
        "member_rows",
        "seconds",
    ]
    assert summary["titles"] == 9 and summary["rejected"] == 8
    assert "rejected row 14 (t13): has 13 fields, expected 12" in result.stderr


def test_the_load_joins_no_temporary_table_into_an_update_or_delete():
    """Scale-out rule 18: on Citus a temporary table cannot be joined into an UPDATE or DELETE of a reference
    table; the load stages into the permanent `catalogue_stage` and passes other rows as bound arrays."""
    for path in (database.PROJECT_ROOT / "etl").glob("*.py"):
        assert not re.search(r"CREATE\s+(TEMP|TEMPORARY)\s+TABLE", path.read_text(), re.IGNORECASE), path.name


def test_the_stage_is_empty_after_a_load_and_after_a_failed_one(engine, monkeypatch, tmp_path):
    etl.load_catalogue(engine, QUIRKS_CSV)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM catalogue_stage")).scalar() == 0
    monkeypatch.setattr(catalogue_merge, "MERGE_EPISODES", ("SELECT 1 / 0",))
    changed = edited_csv(tmp_path, lambda lines: [x.replace("Dockside", "Harbourside") for x in lines])
    with pytest.raises(Exception, match="division by zero"):
        etl.load_catalogue(engine, changed)  # fails after staging
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM catalogue_stage")).scalar() == 0


def test_cli_without_a_csv_says_where_to_put_it(db_url, tmp_path):
    env = {"NETFLIX_CSV": "", "NETFLIX_NO_DOWNLOAD": "1"}
    data_csv = get_settings().data_dir / "netflix_titles.csv"
    if data_csv.exists():  # a developer's own copy: the explicit missing path still must fail clearly
        result = run_cli("--csv", str(tmp_path / "missing.csv"), env=env)
        assert result.returncode == 2 and "no such file" in result.stderr
        return
    result = run_cli(env=env)
    assert result.returncode == 2
    assert str(data_csv) in result.stderr and "NETFLIX_CSV" in result.stderr
    assert run_cli("--if-empty", env=env).returncode == 0  # `make run` goes on and the page explains


def test_cli_if_empty_skips_a_loaded_catalogue(engine):
    etl.load_catalogue(engine, QUIRKS_CSV)
    result = run_cli("--if-empty", "--csv", str(QUIRKS_CSV))
    assert result.returncode == 0 and "already loaded" in result.stderr
