"""What admins and analysts may read out of the data: the job run history and CSV exports of the main tables.

Both data roles may use them (checked here). Exports are COPY ... TO STDOUT of fixed queries, newest rows
first and at most EXPORT_ROW_LIMIT; users are exported without password hashes, avatars or bios.
"""

from __future__ import annotations

import io

import pandas as pd
from sqlalchemy import Engine, text

from backend.accounts import users
from backend.core import jobs
from backend.core.errors import Refusal

DATA_ROLES = ("admin", "analyst")
EXPORT_ROW_LIMIT = 200_000


class DataOpsError(Refusal):
    """A refusal to show as it is; nothing was changed."""


def require_data_role(engine: Engine, acting_user_id: int | None) -> users.User:
    return users.require_role(engine, acting_user_id, *DATA_ROLES)


def run_history(engine: Engine, *, acting_user_id: int | None, job: str | None = None, limit: int = 50) -> pd.DataFrame:
    require_data_role(engine, acting_user_id)
    return jobs.recent_runs(engine, job, limit=max(1, min(limit, 500)))


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
        driver = conn.connection.driver_connection
        assert driver is not None  # a checked-out connection always has one
        cursor = driver.cursor()
        cursor.execute("SET LOCAL TimeZone = 'UTC'")
        cursor.copy_expert(f"COPY ({EXPORTS[table]} LIMIT {int(limit)}) TO STDOUT WITH (FORMAT csv, HEADER)", buffer)
        conn.rollback()
    return buffer.getvalue()


def export_row_counts(engine: Engine, *, acting_user_id: int | None) -> dict[str, int]:
    """Estimated rows per export (planner statistics: no table scans)."""
    require_data_role(engine, acting_user_id)

    names = {"payments": "payment_attempts"}
    with engine.connect() as conn:
        rows: dict[str, int] = dict(
            conn.execute(
                text("""SELECT relname, greatest(reltuples, 0)::bigint FROM pg_class
                                         WHERE relname = ANY(:n) AND relkind = 'r'"""),
                {"n": [names.get(t, t) for t in EXPORTS]},
            ).all()
        )
    return {t: rows.get(names.get(t, t), 0) for t in EXPORTS}
