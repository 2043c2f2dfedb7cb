"""Re-numbered reload check: `python -m benchmarks.etl_reload [--csv PATH] [--subscribers N] [--seed S]`.

In a throwaway database: load the catalogue file, seed members (ratings, progress, lists, viewing), then make a
re-numbered copy of the file in a temporary folder (its rows shuffled and its show ids handed out again at
random, as Kaggle did between releases; deleted afterwards), preview it (`--dry-run`), try to load it (refused),
load it with `--allow-renumbering`, and check that every title, rating, progress row, list entry, viewing row and
episode still means what it meant. Then the original file is loaded again. Prints the outputs and figures;
exits 1 if anything moved.
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

import database
from backend.core.settings import get_settings, run_cli
from etl import load_catalogue as etl
from etl.refusals import CatalogueRefused, cli_message
from etl.source import find_catalogue_csv
from seed import generate
from seed import options as seed_options

# What each title is (never its show id) and what members have on titles, by what the titles are.
TITLES = "SELECT title_id, kind, title, release_year, date_added, description, is_active FROM titles"
MEMBER_ROWS = {
    "ratings": """SELECT r.user_id, r.profile_id, t.kind, t.title, t.release_year, t.description, r.score
                  FROM ratings r JOIN titles t USING (title_id)""",
    "progress": """SELECT v.user_id, v.profile_id, t.kind, t.title, t.release_year, t.description,
                          e.season_number, e.episode_number, v.position_seconds
                   FROM viewing_progress v JOIN titles t USING (title_id) LEFT JOIN episodes e USING (episode_id)""",
    "lists": """SELECT l.user_id, l.profile_id, t.kind, t.title, t.release_year, t.description
                FROM list_entries l JOIN titles t USING (title_id)""",
    "viewing": """SELECT t.kind, t.title, t.release_year, t.description, e.season_number, e.episode_number, count(*)
                  FROM playback_events p JOIN titles t USING (title_id) LEFT JOIN episodes e USING (episode_id)
                  GROUP BY 1, 2, 3, 4, 5, 6""",
}
EPISODES = "SELECT episode_id, title_id, season_number, episode_number, duration_minutes, is_active FROM episodes"
SHOW_IDS = "SELECT title_id, show_id FROM titles"


def snapshot(engine) -> dict[str, set]:
    with engine.connect() as conn:
        found = {name: set(conn.execute(text(sql)).all()) for name, sql in MEMBER_ROWS.items()}
        found["titles"] = set(conn.execute(text(TITLES)).all())
        found["episodes"] = set(conn.execute(text(EPISODES)).all())
    return found


def show_ids(engine) -> dict[int, str]:
    with engine.connect() as conn:
        return dict(conn.execute(text(SHOW_IDS)).all())


def renumbered_copy(source: Path, folder: Path, seed: int) -> Path:
    """The file with its rows shuffled and its show ids dealt out again at random."""
    with open(source, encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        header, rows = next(reader), list(reader)
    rng = random.Random(seed)
    ids = [row[0] for row in rows]
    rng.shuffle(ids)
    rng.shuffle(rows)
    for row, show_id in zip(rows, ids, strict=True):
        row[0] = show_id
    path = folder / "netflix_titles_renumbered.csv"
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def timed(work):
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def compare(before: dict[str, set], after: dict[str, set]) -> list[str]:
    lines, moved = [], False
    for name in ("titles", "episodes", *MEMBER_ROWS):
        same = before[name] == after[name]
        moved |= not same
        lines.append(f"  {name:<9} {len(after[name]):>7,} rows  {'unchanged' if same else 'CHANGED'}")
    return [*lines, "  => nothing moved" if not moved else "  => SOMETHING MOVED"]


def run(csv_path: Path, subscribers: int, seed: int) -> int:
    admin = create_engine(
        database.server_url(get_settings().data_dir / "pgdata-test"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    name = f"bench_reload_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        engine = database.get_engine(url)
        return _check(engine, csv_path, subscribers, seed)
    finally:
        database.dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _check(engine, csv_path: Path, subscribers: int, seed: int) -> int:
    summary, seconds = timed(lambda: etl.load_catalogue(engine, csv_path))
    print(f"1. current file loaded in {seconds:.2f} s")
    print("\n".join(etl.summary_lines(summary, csv_path)))
    options = seed_options.Options(subscribers=subscribers, months=3, end=date(2026, 7, 1), seed=seed)
    _, seconds = timed(lambda: generate.seed(engine, options))
    before, ids_before = snapshot(engine), show_ids(engine)
    counts = ", ".join(f"{len(before[n]):,} {n}" for n in MEMBER_ROWS)
    print(f"\n2. seeded {subscribers:,} subscribers over 3 months in {seconds:.1f} s: {counts} (viewing: per episode)")

    with tempfile.TemporaryDirectory(prefix="renumbered-") as folder:
        copy = renumbered_copy(csv_path, Path(folder), seed)
        preview, seconds = timed(lambda: etl.load_catalogue(engine, copy, dry_run=True))
        print(f"\n3. python -m etl.load_catalogue --csv {copy.name} --dry-run   ({seconds:.2f} s)")
        print("\n".join(etl.preview_lines(preview, copy.name)))
        try:
            etl.run_logged(engine, copy)
            print("\n4. NOT refused")
            return 1
        except CatalogueRefused as error:
            print(f"\n4. a real run without --allow-renumbering: {cli_message(error)}. Nothing was changed.")
        unchanged = snapshot(engine) == before and show_ids(engine) == ids_before
        print(f"   catalogue and members' rows after the refusal: {'unchanged' if unchanged else 'CHANGED'}")
        loaded, seconds = timed(lambda: etl.run_logged(engine, copy, allow_renumbering=True))
        print(f"\n5. loaded with --allow-renumbering in {seconds:.2f} s")
        print("\n".join(etl.summary_lines(loaded, copy.name)))
        ids_after = show_ids(engine)
        rekeyed = sum(ids_before[i] != ids_after[i] for i in ids_before)
        print(f"   titles whose show_id changed: {rekeyed:,} of {len(ids_before):,}; what each title and row means:")
        after = snapshot(engine)
        report = compare(before, after)
        print("\n".join(report))
    back, seconds = timed(lambda: etl.run_logged(engine, csv_path, allow_renumbering=True))
    restored = show_ids(engine) == ids_before
    print(f"\n6. the current file again, in {seconds:.2f} s: {back.reidentified:,} re-identified, show ids restored:")
    print(f"   {'yes' if restored else 'NO'}")
    final = compare(before, snapshot(engine))
    print("\n".join(final))
    ok = unchanged and restored and report[-1].endswith("nothing moved") and final[-1].endswith("nothing moved")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.etl_reload", description=__doc__.splitlines()[0])
    parser.add_argument("--csv", help="catalogue CSV (default: as the ETL finds it)")
    parser.add_argument("--subscribers", type=int, default=400)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    return run(find_catalogue_csv(args.csv), args.subscribers, args.seed)


if __name__ == "__main__":
    run_cli(main)
