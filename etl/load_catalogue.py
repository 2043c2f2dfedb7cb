"""Load the Kaggle Netflix catalogue: `python -m etl.load_catalogue [--csv PATH] [--json]`.

Rows are cleaned in Python, COPYed into a temporary staging table (one row per title, its lists
split into arrays in SQL) and merged with set-based SQL in one transaction: a failed or interrupted run leaves
the previous catalogue as it was, a re-run changes nothing, titles gone from the CSV are
deactivated (never deleted), and only new or changed titles have their links rewritten.
Titles an admin edited in the app (`titles.edited_at`) or added there (`origin = 'admin'`) are kept as
they are unless `--overwrite-edits` is given (admin-added titles are never deactivated for being absent).
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
from etl.cleaning import BadHeader, CleanCatalogue, clean_catalogue, read_records
from etl.merge import ACTIVE_CATALOGUE_COUNTS, MAX_DEACTIVATION_SHARE, MassDeactivation, merge
from etl.source import CatalogueCsvNotFound, find_catalogue_csv
from etl.staging import NOT_NULL_TEXT_COLUMNS, SPLIT_STAGE, STAGE_COLUMNS, STAGE_TABLE, copy_csv, stage_row
from etl.summary import LoadSummary, StepCallback

JOB_NAME = "catalogue_etl"


class NoValidRows(ValueError):
    pass


LOAD_STEPS = (
    "CSV read and cleaned",
    "staged with COPY",
    "titles merged",
    "genres, countries and people linked",
    "episodes generated",
    "committed",
)


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
    with open(csv_path, encoding="utf-8-sig", newline="") as stream:
        return clean_catalogue(read_records(stream))


def load_catalogue(
    engine: Engine,
    csv_path: Path,
    *,
    on_step: StepCallback | None = None,
    allow_mass_deactivation: bool = False,
    overwrite_edits: bool = False,
) -> LoadSummary:
    """Clean and load `csv_path` in one transaction; returns what changed and what is there now."""
    with _gc_paused():
        return _load(engine, csv_path, on_step, allow_mass_deactivation, overwrite_edits)


def _load(
    engine: Engine,
    csv_path: Path,
    on_step: StepCallback | None,
    allow_mass_deactivation: bool,
    overwrite_edits: bool = False,
) -> LoadSummary:
    started = time.perf_counter()
    done = 0

    def step(name: str) -> None:
        nonlocal done
        done += 1
        if on_step:
            on_step(name, done, len(LOAD_STEPS))

    catalogue = read_catalogue(csv_path)
    if not catalogue.titles:
        raise NoValidRows("the CSV has no valid title rows; the catalogue was left as it was")
    step("CSV read and cleaned")
    summary = LoadSummary(rejected=len(catalogue.rejected), rejections=catalogue.rejected)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        cursor = conn.connection.driver_connection.cursor()
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (locks.CATALOGUE_LOAD,))
        # All or nothing either way; not waiting for the WAL flush at commit only risks losing the
        # whole (re-runnable) load if the server crashes in that instant.
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")  # the link sorts fit in memory
        cursor.execute("SET LOCAL lock_timeout = '15s'")  # give up (and roll back) rather than queue forever
        cursor.execute("SET LOCAL DateStyle = 'ISO, YMD'")  # the fingerprints hash dates as text
        cursor.execute(STAGE_TABLE)
        copy_csv(cursor, "stage_raw", STAGE_COLUMNS, map(stage_row, catalogue.titles), not_null=NOT_NULL_TEXT_COLUMNS)
        cursor.execute(SPLIT_STAGE)
        step("staged with COPY")
        merge(
            cursor, now, summary, step, allow_mass_deactivation=allow_mass_deactivation, overwrite_edits=overwrite_edits
        )
        cursor.execute(ACTIVE_CATALOGUE_COUNTS)
        summary.genres, summary.countries, summary.people, summary.episodes = cursor.fetchone()
    step("committed")
    counts = catalogue_counts(engine)
    summary.titles, summary.movies, summary.tv_shows = counts["titles"], counts["movies"], counts["tv_shows"]
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def run_logged(
    engine: Engine,
    csv_path: Path,
    *,
    started_by: str = "cli",
    on_step: StepCallback | None = None,
    allow_mass_deactivation: bool = False,
    overwrite_edits: bool = False,
) -> LoadSummary:
    """`load_catalogue` with a row in the run log, marked failed if the load raises (or is interrupted)."""
    parameters = {
        "csv": str(csv_path),
        "allow_mass_deactivation": allow_mass_deactivation,
        "overwrite_edits": overwrite_edits,
    }
    run_id = jobs.start_run(engine, JOB_NAME, parameters, started_by=started_by)
    try:
        summary = load_catalogue(
            engine,
            csv_path,
            on_step=on_step,
            allow_mass_deactivation=allow_mass_deactivation,
            overwrite_edits=overwrite_edits,
        )
    except BaseException as error:
        jobs.finish_run(engine, run_id, error=f"{type(error).__name__}: {error}".rstrip(": "))
        raise
    details = summary.as_json() | {"rejections": [str(r) for r in summary.rejections[:1000]]}
    jobs.finish_run(engine, run_id, summary=details)
    return summary


def _terminal_progress() -> tuple[StepCallback, Callable[[], None]]:
    """A tqdm bar on stderr when it is a terminal (silent otherwise)."""
    from tqdm import tqdm

    bar = tqdm(
        total=len(LOAD_STEPS),
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


def summary_lines(summary: LoadSummary, csv_path: Path | str) -> list[str]:
    """The summary the CLI prints (the data-operations page shows the same lines)."""
    lines = [
        f"Catalogue loaded from {csv_path} in {summary.seconds:.2f} s",
        f"  titles     {summary.titles:>7,}  ({summary.movies:,} movies, {summary.tv_shows:,} TV shows)",
        f"  genres     {summary.genres:>7,}",
        f"  countries  {summary.countries:>7,}",
        f"  people     {summary.people:>7,}",
        f"  episodes   {summary.episodes:>7,}  (generated)",
        f"  changes    {summary.inserted:,} inserted, {summary.updated:,} updated, "
        f"{summary.deactivated:,} deactivated, {summary.rejected:,} rejected",
    ]
    if summary.kept_edits:
        lines.append(f"  kept       {summary.kept_edits:>7,}  admin-edited titles (--overwrite-edits replaces them)")
    return lines


def _print_summary(summary: LoadSummary, csv_path: Path) -> None:
    print("\n".join(summary_lines(summary, csv_path)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m etl.load_catalogue", description=__doc__.splitlines()[0])
    parser.add_argument("--csv", help="path of netflix_titles.csv (default: $NETFLIX_CSV, data/, or Kaggle)")
    parser.add_argument("--json", action="store_true", help="print one JSON line with the summary")
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
    args = parser.parse_args(argv)

    engine = database.get_engine()
    if args.if_empty and catalogue_counts(engine)["titles"]:
        print("Catalogue already loaded; nothing to do.", file=sys.stderr)
        return 0
    try:
        csv_path = find_catalogue_csv(args.csv)
    except CatalogueCsvNotFound as error:
        print(error, file=sys.stderr)
        return 0 if args.if_empty else 2

    on_step, close_progress = _terminal_progress()
    try:
        summary = run_logged(
            engine,
            csv_path,
            on_step=on_step,
            allow_mass_deactivation=args.allow_mass_deactivation,
            overwrite_edits=args.overwrite_edits,
        )
    except (BadHeader, NoValidRows, MassDeactivation) as error:
        print(f"\n{csv_path}: {error}. Nothing was changed.", file=sys.stderr)
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
        _print_summary(summary, csv_path)
    return 0


if __name__ == "__main__":
    run_cli(main)
