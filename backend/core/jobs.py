"""Run log of command-line jobs (catalogue ETL, seeder...).

Each write is its own short transaction, outside the job's work, so a failed or interrupted
job still leaves a 'failed' row behind.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, text


def utcnow() -> datetime:
    return datetime.now(UTC)


def start_run(engine: Engine, job: str, parameters: dict[str, Any], started_by: str = "cli") -> int:
    sql = text("""
        INSERT INTO job_runs (job, status, started_at, started_by, parameters)
        VALUES (:job, 'running', :now, :by, CAST(:params AS jsonb))
        RETURNING run_id
    """)
    with engine.begin() as conn:
        return conn.execute(
            sql, {"job": job, "now": utcnow(), "by": started_by, "params": json.dumps(parameters, default=str)}
        ).scalar_one()


def finish_run(engine: Engine, run_id: int, *, summary: dict[str, Any] | None = None, error: str | None = None) -> None:
    sql = text("""
        UPDATE job_runs
           SET status = :status, finished_at = :now, summary = CAST(:summary AS jsonb), error = :error
         WHERE run_id = :run_id
    """)
    with engine.begin() as conn:
        conn.execute(
            sql,
            {
                "status": "failed" if error else "succeeded",
                "now": utcnow(),
                "summary": json.dumps(summary, default=str) if summary is not None else None,
                "error": error,
                "run_id": run_id,
            },
        )


def recent_runs(engine: Engine, job: str | None = None, limit: int = 20) -> pd.DataFrame:
    sql = text("""
        SELECT run_id, job, status, started_at, finished_at, started_by, summary, error
        FROM job_runs
        WHERE :job IS NULL OR job = :job
        ORDER BY started_at DESC, run_id DESC
        LIMIT :limit
    """)
    with engine.connect() as conn:
        result = conn.execute(sql, {"job": job, "limit": limit})
        return pd.DataFrame(result.mappings().all(), columns=list(result.keys()))
