"""Data operations from the browser: the catalogue ETL, the seeder, their run history, CSV exports.

Admins and analysts may use them (checked here). The ETL and the seeder run through their own
`run_logged` (so each run is in `job_runs`, marked failed if it fails) with a progress callback, refuse
bad input with the same messages as their CLIs, and produce the same summary lines the CLIs print.
Each run is also written to the audit log, after the run's own transaction.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, text

from backend import audit, jobs, users
from backend.users import clock

DATA_ROLES = ("admin", "analyst")
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
EXPORT_ROW_LIMIT = 200_000
Progress = Callable[[str, int, int], None]


class DataOpsError(ValueError):
    """A refusal to show as it is; nothing was changed."""


def require_data_role(engine: Engine, acting_user_id: int | None) -> users.User:
    return users.require_role(engine, acting_user_id, *DATA_ROLES)


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
    from etl.source import CatalogueCsvNotFound, find_catalogue_csv

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
    from etl import load_catalogue as etl
    from etl.cleaning import BadHeader

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
    except (BadHeader, etl.NoValidRows, etl.MassDeactivation) as error:
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
    from seed.generate import Options

    if not 1 <= subscribers <= MAX_SEED_SUBSCRIBERS:
        raise DataOpsError(f"Subscribers must be from 1 to {MAX_SEED_SUBSCRIBERS:,} (larger runs: the CLI).")
    if not 1 <= months <= MAX_SEED_MONTHS:
        raise DataOpsError(f"Months must be from 1 to {MAX_SEED_MONTHS}.")
    if seed < 0:
        raise DataOpsError("The seed is a whole number of 0 or more.")
    return Options(subscribers=subscribers, months=months, seed=seed, reset=reset, **({"end": end} if end else {}))


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
    from seed import generate

    actor = require_data_role(engine, acting_user_id)
    options = _seed_options(int(subscribers), int(months), int(seed), reset, end)
    try:
        summary = generate.run_logged(engine, options, started_by=_started_by(actor), on_progress=on_progress)
    except generate.SeedError as error:
        raise DataOpsError(f"Not seeded: {error}. Nothing was changed.") from None
    printed = io.StringIO()
    generate._print_summary(summary, printed)  # the CLI's own summary, line for line
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
    return SeedResult(summary, printed.getvalue().rstrip("\n").splitlines())


# --- history and exports -------------------------------------------------------------------------------


def run_history(engine: Engine, *, acting_user_id: int | None, job: str | None = None, limit: int = 50) -> pd.DataFrame:
    require_data_role(engine, acting_user_id)
    return jobs.recent_runs(engine, job, limit=max(1, min(limit, 500)))


# Main tables; users without password hashes, avatars or bios. Newest rows first, at most EXPORT_ROW_LIMIT.
EXPORTS: dict[str, str] = {
    "users": """SELECT user_id, email, display_name, role, country_code, phone_e164, created_at, suspended_at,
                       is_seeded FROM users ORDER BY created_at DESC, user_id DESC""",
    "subscriptions": "SELECT * FROM subscriptions ORDER BY started_at DESC, user_id, subscription_id",
    "subscription_events": "SELECT * FROM subscription_events ORDER BY occurred_at DESC, user_id, event_id",
    "payments": """SELECT user_id, payment_id, subscription_id, plan_id, kind, amount, currency, status, failure_reason,
                          period_start, period_end, attempted_at, card_brand, card_last4
                   FROM payment_attempts ORDER BY attempted_at DESC, user_id, payment_id""",
    "plans": "SELECT * FROM plans ORDER BY plan_id",
    "titles": """SELECT title_id, show_id, kind, title, description, release_year, date_added, maturity_rating,
                        audience, duration_minutes, seasons, access_level, is_active, origin, edited_at
                 FROM titles ORDER BY title_id""",
    "job_runs": "SELECT * FROM job_runs ORDER BY started_at DESC, run_id DESC",
}


def export_csv(engine: Engine, table: str, *, acting_user_id: int | None, limit: int = EXPORT_ROW_LIMIT) -> bytes:
    """One of EXPORTS as CSV with a header (COPY TO STDOUT), newest `limit` rows."""
    require_data_role(engine, acting_user_id)
    if table not in EXPORTS:
        raise DataOpsError(f"Exports are: {', '.join(EXPORTS)}.")
    buffer = io.BytesIO()
    with engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()
        cursor.execute("SET LOCAL TimeZone = 'UTC'")
        cursor.copy_expert(f"COPY ({EXPORTS[table]} LIMIT {int(limit)}) TO STDOUT WITH (FORMAT csv, HEADER)", buffer)
        conn.rollback()
    return buffer.getvalue()


def export_row_counts(engine: Engine, *, acting_user_id: int | None) -> dict[str, int]:
    """Estimated rows per export (planner statistics: no table scans)."""
    require_data_role(engine, acting_user_id)

    names = {"payments": "payment_attempts"}
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                text("""SELECT relname, greatest(reltuples, 0)::bigint FROM pg_class
                                         WHERE relname = ANY(:n) AND relkind = 'r'"""),
                {"n": [names.get(t, t) for t in EXPORTS]},
            ).all()
        )
    return {t: rows.get(names.get(t, t), 0) for t in EXPORTS}
