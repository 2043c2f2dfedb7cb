"""Data operations from the browser: the catalogue ETL and the seeder, run in the app's process.

This is an application layer above backend/: it calls the public functions of etl/ and seed/. Admins and
analysts may use them (checked here; the run history and CSV exports are backend.admin.data_exports'); a
catalogue load is previewed first (a dry run, which either role may do), and only an admin may apply a load
that overwrites admin edits, deactivates in bulk or accepts re-numbered ids. The ETL and the seeder run through
their own `run_logged` (so each run is in `job_runs`, marked failed if it fails) with a progress callback, refuse
bad input with the same messages as their CLIs, and produce the same summary lines the CLIs print.
Each run is also written to the audit log, after the run's own transaction.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from backend.accounts import users
from backend.admin.data_exports import DataOpsError, require_data_role
from backend.core import audit
from backend.core.clock import clock
from backend.core.errors import NotAuthorised
from etl import load_catalogue as etl
from etl.refusals import OVERRIDES, CatalogueRefused, with_hint
from etl.source import CatalogueCsvNotFound, find_catalogue_csv
from etl.summary import preview_lines, refusal_line
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
class LoadOptions:
    """What a catalogue load may do beyond an ordinary reload (each needs an admin to apply)."""

    overwrite_edits: bool = False
    allow_mass_deactivation: bool = False
    allow_renumbering: bool = False

    def given(self) -> list[str]:
        return [name for name in OVERRIDES if getattr(self, name)]


ADMIN_ONLY = (
    "Only an admin can apply a load that overwrites admin edits, deactivates in bulk or accepts re-numbered ids."
)


@dataclass(frozen=True)
class EtlResult:
    summary: dict  # the CLI's --json summary
    lines: list[str]  # the CLI's printed summary
    rejections: list[str]  # "row N (show_id): reason", as the CLI prints them after "rejected "


@dataclass(frozen=True)
class EtlPreview:
    summary: dict  # the CLI's --dry-run --json summary
    lines: list[str]  # the CLI's --dry-run report, with the page's wording for overrides
    rejections: list[str]
    sha256: str  # the previewed file: applying checks it is still the same
    refused: str | None  # why a real run would be refused, if it would
    can_apply: bool  # the acting account may apply this load as previewed
    why_not: str | None  # ... and if not, why


def _refused(name: str, error: CatalogueRefused) -> DataOpsError:
    return DataOpsError(f"{name}: {with_hint(str(error), error.override, page=True)}. Nothing was changed.")


def preview_catalogue_load(
    engine: Engine,
    csv_path: Path,
    *,
    acting_user_id: int | None,
    source_name: str = "",
    options: LoadOptions = LoadOptions(),
    on_step: Progress | None = None,
) -> EtlPreview:
    """What loading `csv_path` with `options` would do (`python -m etl.load_catalogue --dry-run`): counts per kind
    of change, the members' rows each touches, examples, and whether a real run would go ahead. Changes nothing."""
    actor = require_data_role(engine, acting_user_id)
    name = source_name or str(csv_path)
    try:
        summary = etl.load_catalogue(engine, Path(csv_path), on_step=on_step, dry_run=True, **asdict(options))
    except CatalogueRefused as error:
        raise _refused(name, error) from None
    needs_admin = bool(options.given()) and actor.role != "admin"
    refused = refusal_line(summary, page=True) if summary.refusal else None
    return EtlPreview(
        summary.as_json(),
        preview_lines(summary, name, page=True),
        [str(r) for r in summary.rejections],
        summary.sha256,
        refused,
        can_apply=not refused and not needs_admin,
        why_not=refused or (ADMIN_ONLY if needs_admin else None),
    )


def run_catalogue_etl(
    engine: Engine,
    csv_path: Path,
    *,
    acting_user_id: int | None,
    source_name: str = "",
    options: LoadOptions = LoadOptions(),
    expected_sha256: str | None = None,
    on_step: Progress | None = None,
) -> EtlResult:
    """Load the catalogue from `csv_path` as `python -m etl.load_catalogue` does; `expected_sha256`: the file
    previewed, refused if the file is no longer the same."""
    actor = require_data_role(engine, acting_user_id)
    if options.given() and actor.role != "admin":
        raise NotAuthorised(ADMIN_ONLY)
    name = source_name or str(csv_path)
    try:
        summary = etl.run_logged(
            engine,
            Path(csv_path),
            started_by=_started_by(actor),
            on_step=on_step,
            source_name=name,
            expected_sha256=expected_sha256,
            **asdict(options),
        )
    except CatalogueRefused as error:
        raise _refused(name, error) from None
    result = EtlResult(summary.as_json(), etl.summary_lines(summary, name), [str(r) for r in summary.rejections])
    with engine.begin() as conn:
        audit.record(
            conn,
            actor,
            "job.catalogue_etl",
            "job",
            "catalogue_etl",
            None,
            {"csv": name} | asdict(options) | _audited(result.summary),
            clock(),
        )
    return result


def _audited(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k not in ("examples", "member_rows")}


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
