"""Load the Kaggle Netflix catalogue: `python -m etl.load_catalogue [--csv PATH] [--dry-run] [--json]`.

The file is read and checked (etl.reading: a bad file is one clear line, nothing changed), its rows cleaned
(etl.cleaning, dates in the formats the file uses), and each row matched to the title it is by what it is, not
by its show_id (etl.identity), into a plan (etl.plan) that a dry run reports and a real run writes: COPY into a
staging table and set-based SQL in one transaction (etl.merge). A failed or interrupted run leaves the previous
catalogue as it was, a re-run changes nothing, titles gone from the CSV are deactivated (never deleted), and a
file that re-numbers its ids is mapped, so members' ratings, progress, lists and viewing never move to another
title. Refused unless confirmed: a file whose ids would mostly name other titles (--allow-renumbering) or that
lacks over half the catalogue (--allow-mass-deactivation). Titles an admin edited in the app (`titles.edited_at`)
or added there (`origin = 'admin'`) are kept as they are unless `--overwrite-edits` is given.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

import database
from backend.catalogue.rules import catalogue_counts
from backend.core import jobs, locks
from backend.core.settings import run_cli
from etl import current, dates
from etl.cleaning import CleanCatalogue, clean_catalogue
from etl.merge import ACTIVE_CATALOGUE_COUNTS, apply_plan
from etl.plan import MAX_DEACTIVATION_SHARE, MAX_RENUMBERED_SHARE, LoadPlan, build_plan
from etl.reading import SourceFile, read_records, read_source
from etl.refusals import CatalogueRefused, FileChanged, NoValidRows, cli_message
from etl.source import CatalogueCsvNotFound, find_catalogue_csv
from etl.summary import LoadSummary, StepCallback, preview_lines, summary_lines

JOB_NAME = "catalogue_etl"

LOAD_STEPS = (
    "CSV read and cleaned",
    "matched to the catalogue",
    "staged with COPY",
    "titles merged",
    "genres, countries and people linked",
    "episodes generated",
    "committed",
)
PREVIEW_STEPS = ("CSV read and cleaned", "matched to the catalogue", "members' rows counted")

__all__ = ["NoValidRows", "load_catalogue", "preview_lines", "run_logged", "summary_lines"]


@contextmanager
def _gc_paused():
    """A load creates ~300k small objects that live until it ends: automatic collections meanwhile
    (~0.1 s each) would free nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_catalogue(csv_path: Path) -> CleanCatalogue:
    return clean_catalogue(read_records(read_source(csv_path).text))


def load_catalogue(
    engine: Engine,
    csv_path: Path,
    *,
    on_step: StepCallback | None = None,
    allow_mass_deactivation: bool = False,
    overwrite_edits: bool = False,
    allow_renumbering: bool = False,
    dry_run: bool = False,
    source_name: str | None = None,
    expected_sha256: str | None = None,
) -> LoadSummary:
    """Clean and load `csv_path` in one transaction (or only report what that would do: `dry_run`);
    returns what changed (or would) and what is there now. Refusals are `CatalogueRefused`; with
    `expected_sha256` (a previewed file's), a file that is no longer the same is one."""
    options = {
        "allow_mass_deactivation": allow_mass_deactivation,
        "overwrite_edits": overwrite_edits,
        "allow_renumbering": allow_renumbering,
    }
    with _gc_paused():
        return _load(engine, Path(csv_path), on_step, options, dry_run, source_name or str(csv_path), expected_sha256)


def _load(
    engine: Engine,
    csv_path: Path,
    on_step: StepCallback | None,
    options: dict,
    dry_run: bool,
    source_name: str,
    expected_sha256: str | None,
) -> LoadSummary:
    started = time.perf_counter()
    done, total = 0, len(PREVIEW_STEPS if dry_run else LOAD_STEPS)

    def step(name: str) -> None:
        nonlocal done
        done += 1
        if on_step:
            on_step(name, done, total)

    source = read_source(csv_path)
    if expected_sha256 and source.sha256 != expected_sha256:
        raise FileChanged("the file is not the one that was previewed (it changed since): preview it again")
    catalogue = clean_catalogue(read_records(source.text))
    step("CSV read and cleaned")
    now = datetime.now(UTC)
    with engine.connect() if dry_run else engine.begin() as conn:
        cursor = conn.connection.driver_connection.cursor()
        if dry_run:  # one snapshot, and nothing can be written
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        else:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (locks.CATALOGUE_LOAD,))
            # All or nothing either way; not waiting for the WAL flush at commit only risks losing the
            # whole (re-runnable) load if the server crashes in that instant.
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET LOCAL work_mem = '64MB'")  # the link sorts fit in memory
            cursor.execute("SET LOCAL lock_timeout = '15s'")  # give up (and roll back) rather than queue forever
        plan = build_plan(
            catalogue,
            current.existing_titles(cursor),
            current.details_reader(cursor),
            overwrite_edits=options["overwrite_edits"],
        )
        step("matched to the catalogue")
        summary = LoadSummary.of_plan(plan, dates.describe(catalogue.date_styles), source.sha256)
        refusal = plan.refusal(
            allow_renumbering=options["allow_renumbering"], allow_mass_deactivation=options["allow_mass_deactivation"]
        )
        if dry_run:
            summary.dry_run = True
            if refusal:
                summary.refusal, summary.refusal_override = str(refusal), refusal.override
            summary.member_rows = current.member_rows(cursor, plan)
            step("members' rows counted")
            conn.rollback()
        else:
            if refusal:
                raise refusal
            _write(cursor, plan, now, step, source, source_name, summary)
    if not dry_run:
        step("committed")
    counts = catalogue_counts(engine)
    summary.titles, summary.movies, summary.tv_shows = counts["titles"], counts["movies"], counts["tv_shows"]
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def _write(
    cursor, plan: LoadPlan, now: datetime, step, source: SourceFile, source_name: str, summary: LoadSummary
) -> None:
    apply_plan(cursor, plan, now, step, sha256=source.sha256, source_name=source_name)
    cursor.execute(ACTIVE_CATALOGUE_COUNTS)
    summary.genres, summary.countries, summary.people, summary.episodes = cursor.fetchone()


def run_logged(
    engine: Engine,
    csv_path: Path,
    *,
    started_by: str = "cli",
    on_step: StepCallback | None = None,
    allow_mass_deactivation: bool = False,
    overwrite_edits: bool = False,
    allow_renumbering: bool = False,
    source_name: str | None = None,
    expected_sha256: str | None = None,
) -> LoadSummary:
    """`load_catalogue` with a row in the run log, marked failed if the load raises (or is interrupted)."""
    options = {
        "allow_mass_deactivation": allow_mass_deactivation,
        "overwrite_edits": overwrite_edits,
        "allow_renumbering": allow_renumbering,
    }
    run_id = jobs.start_run(engine, JOB_NAME, {"csv": source_name or str(csv_path)} | options, started_by=started_by)
    try:
        summary = load_catalogue(
            engine, csv_path, on_step=on_step, source_name=source_name, expected_sha256=expected_sha256, **options
        )
    except BaseException as error:
        jobs.finish_run(engine, run_id, error=f"{type(error).__name__}: {error}".rstrip(": "))
        raise
    details = summary.as_json() | {"rejections": [str(r) for r in summary.rejections[:1000]]}
    jobs.finish_run(engine, run_id, summary=details)
    return summary


def _terminal_progress(steps: int) -> tuple[StepCallback, Callable[[], None]]:
    """A tqdm bar on stderr when it is a terminal (silent otherwise)."""
    from tqdm import tqdm

    bar = tqdm(
        total=steps,
        desc="Loading catalogue",
        unit="step",
        file=sys.stderr,
        disable=None,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n}/{total}{postfix}",
    )

    def on_step(name: str, done: int, total: int) -> None:
        bar.set_postfix_str(name)
        bar.update(1)

    return on_step, bar.close


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m etl.load_catalogue", description=__doc__.splitlines()[0])
    parser.add_argument("--csv", help="path of netflix_titles.csv (default: $NETFLIX_CSV, data/, or Kaggle)")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="change nothing: print what the load would do and to how many members' rows "
        "(exit 0 if a real run would go ahead, 2 if it would be refused)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line with the summary")
    parser.add_argument(
        "--allow-renumbering",
        action="store_true",
        help=f"accept a CSV in which over {MAX_RENUMBERED_SHARE * 100:.0f}%% of the show ids name other titles "
        "than now (titles are matched by what they are, so members' rows stay with them)",
    )
    parser.add_argument(
        "--allow-mass-deactivation",
        action="store_true",
        help=f"accept a CSV that lacks over {MAX_DEACTIVATION_SHARE * 100:.0f}%% of the active titles",
    )
    parser.add_argument(
        "--overwrite-edits",
        action="store_true",
        help="replace titles edited or deactivated by an admin in the app with the CSV's values",
    )
    parser.add_argument(
        "--if-empty",
        action="store_true",
        help="only load when no catalogue is loaded yet; a missing CSV is then not an error",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)

    engine = database.get_engine()
    if args.if_empty and catalogue_counts(engine)["titles"]:
        print("Catalogue already loaded; nothing to do.", file=sys.stderr)
        return 0
    try:
        csv_path = find_catalogue_csv(args.csv)
    except CatalogueCsvNotFound as error:
        print(error, file=sys.stderr)
        return 0 if args.if_empty else 2

    options = {
        "allow_mass_deactivation": args.allow_mass_deactivation,
        "overwrite_edits": args.overwrite_edits,
        "allow_renumbering": args.allow_renumbering,
    }
    on_step, close_progress = _terminal_progress(len(PREVIEW_STEPS if args.dry_run else LOAD_STEPS))
    try:
        if args.dry_run:
            summary = load_catalogue(engine, csv_path, on_step=on_step, dry_run=True, **options)
        else:
            summary = run_logged(engine, csv_path, on_step=on_step, **options)
    except CatalogueRefused as error:
        print(f"\n{csv_path}: {cli_message(error)}. Nothing was changed.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nInterrupted: the previous catalogue is unchanged.", file=sys.stderr)
        return 130
    finally:
        close_progress()

    for rejection in summary.rejections:
        print(f"rejected {rejection}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary.as_json()))
    else:
        print("\n".join((preview_lines if args.dry_run else summary_lines)(summary, csv_path)))
    return 2 if summary.refusal else 0


if __name__ == "__main__":
    run_cli(main)
