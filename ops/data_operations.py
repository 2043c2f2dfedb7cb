"""Data operations from the browser: the catalogue ETL and the seeder, run in the app's process.

This is an application layer above backend/: it calls the public functions of etl/ and seed/. Admins and
analysts may use them (checked here; the run history and CSV exports are backend.admin.data_exports').
The ETL and the seeder run through their own
`run_logged` (so each run is in `job_runs`, marked failed if it fails) with a progress callback, refuse
bad input with the same messages as their CLIs, and produce the same summary lines the CLIs print.
Each run is also written to the audit log, after the run's own transaction.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from backend.accounts import users
from backend.admin.data_exports import DataOpsError, require_data_role
from backend.core import audit
from backend.core.clock import clock
from etl import load_catalogue as etl
from etl import merge as catalogue_merge
from etl.cleaning import BadHeader
from etl.source import CatalogueCsvNotFound, find_catalogue_csv
from seed import generate
from seed import options as seed_options

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
Progress = Callable[[str, int, int], None]


def _started_by(actor: users.User) -> str:
    return f"app:{actor.email}"


# --- catalogue ETL -----------------------------------------------------------------------------------


def save_upload(data: bytes, suffix: str = ".csv") -> Path:
    """An uploaded CSV as a temporary file (the caller deletes it after the run)."""
    if not data:
        raise DataOpsError("The uploaded file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise DataOpsError(f"Upload a CSV of at most {MAX_UPLOAD_BYTES // 1024 // 1024} MB.")
    with tempfile.NamedTemporaryFile("wb", suffix=suffix, prefix="catalogue-upload-", delete=False) as handle:
        handle.write(data)
    return Path(handle.name)


def configured_csv() -> Path:
    """The catalogue CSV the CLI would use ($NETFLIX_CSV, then data/netflix_titles.csv); never downloads."""
    try:
        return find_catalogue_csv(None, allow_download=False)
    except CatalogueCsvNotFound as error:
        raise DataOpsError(str(error)) from None


@dataclass(frozen=True)
class EtlResult:
    summary: dict  # the CLI's --json summary
    lines: list[str]  # the CLI's printed summary
    rejections: list[str]  # "row N (show_id): reason", as the CLI prints them after "rejected "


def run_catalogue_etl(
    engine: Engine,
    csv_path: Path,
    *,
    acting_user_id: int | None,
    source_name: str = "",
    overwrite_edits: bool = False,
    allow_mass_deactivation: bool = False,
    on_step: Progress | None = None,
) -> EtlResult:
    """Load the catalogue from `csv_path` as `python -m etl.load_catalogue` does."""
    actor = require_data_role(engine, acting_user_id)
    name = source_name or str(csv_path)
    try:
        summary = etl.run_logged(
            engine,
            Path(csv_path),
            started_by=_started_by(actor),
            on_step=on_step,
            overwrite_edits=overwrite_edits,
            allow_mass_deactivation=allow_mass_deactivation,
        )
    except (BadHeader, etl.NoValidRows, catalogue_merge.MassDeactivation) as error:
        message = str(error).replace("run again with --allow-mass-deactivation", "tick “Allow mass deactivation”")
        raise DataOpsError(f"{name}: {message}. Nothing was changed.") from None
    result = EtlResult(summary.as_json(), etl.summary_lines(summary, name), [str(r) for r in summary.rejections])
    with engine.begin() as conn:
        audit.record(
            conn,
            actor,
            "job.catalogue_etl",
            "job",
            "catalogue_etl",
            None,
            {"csv": name, "overwrite_edits": overwrite_edits, "allow_mass_deactivation": allow_mass_deactivation}
            | result.summary,
            clock(),
        )
    return result


# --- seeder --------------------------------------------------------------------------------------------

MAX_SEED_SUBSCRIBERS = 100_000
MAX_SEED_MONTHS = 36


@dataclass(frozen=True)
class SeedResult:
    summary: dict
    lines: list[str]


def _seed_options(subscribers: int, months: int, seed: int, reset: bool, end: date | None):
    if not 1 <= subscribers <= MAX_SEED_SUBSCRIBERS:
        raise DataOpsError(f"Subscribers must be from 1 to {MAX_SEED_SUBSCRIBERS:,} (larger runs: the CLI).")
    if not 1 <= months <= MAX_SEED_MONTHS:
        raise DataOpsError(f"Months must be from 1 to {MAX_SEED_MONTHS}.")
    if seed < 0:
        raise DataOpsError("The seed is a whole number of 0 or more.")
    return seed_options.Options(
        subscribers=subscribers, months=months, seed=seed, reset=reset, **({"end": end} if end else {})
    )


def run_seeder(
    engine: Engine,
    *,
    acting_user_id: int | None,
    subscribers: int,
    months: int,
    seed: int,
    reset: bool = False,
    end: date | None = None,
    on_progress: Progress | None = None,
) -> SeedResult:
    """Seed as `python -m seed.generate` does; a second run without `reset` is refused with its message."""
    actor = require_data_role(engine, acting_user_id)
    options = _seed_options(int(subscribers), int(months), int(seed), reset, end)
    try:
        summary = generate.run_logged(engine, options, started_by=_started_by(actor), on_progress=on_progress)
    except seed_options.SeedError as error:
        raise DataOpsError(f"Not seeded: {error}. Nothing was changed.") from None
    with engine.begin() as conn:
        audit.record(
            conn,
            actor,
            "job.seed",
            "job",
            "seed",
            None,
            options.as_json() | {"rows": summary["rows"], "seconds": summary["seconds"]},
            clock(),
        )
    return SeedResult(summary, generate.summary_lines(summary))  # the CLI's own summary, line for line
