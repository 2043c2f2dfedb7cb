"""Run log of command-line jobs (catalogue ETL, seeder...).

Each write is its own short transaction, outside the job's work, so a failed or interrupted
job still leaves a 'failed' row behind. From start_run to finish_run, a thread of the job's process
writes the run's heartbeat every HEARTBEAT_SECONDS; a 'running' row whose heartbeat is older than DEAD_AFTER is a run
whose process died without a word (kill -9, a lost machine), and `mark_dead_runs` marks it failed
(the next run's start and every read of the history do).
"""

from __future__ import annotations

import contextlib
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine, text

HEARTBEAT_SECONDS = 5.0
DEAD_AFTER = timedelta(seconds=60)  # twelve missed heartbeats
DIED = "The process running this job stopped without finishing (no heartbeat since %s UTC)."  # SQL format()


def utcnow() -> datetime:
    return datetime.now(UTC)


def start_run(engine: Engine, job: str, parameters: dict[str, Any], started_by: str = "cli") -> int:
    sql = text("""
        INSERT INTO job_runs (job, status, started_at, heartbeat_at, started_by, parameters)
        VALUES (:job, 'running', :now, :now, :by, CAST(:params AS jsonb))
        RETURNING run_id
    """)
    mark_dead_runs(engine)
    with engine.begin() as conn:
        run_id = conn.execute(
            sql, {"job": job, "now": utcnow(), "by": started_by, "params": json.dumps(parameters, default=str)}
        ).scalar_one()
    _beating[run_id] = _Heartbeat(engine, run_id, HEARTBEAT_SECONDS)
    _beating[run_id].start()
    return run_id


def finish_run(engine: Engine, run_id: int, *, summary: dict[str, Any] | None = None, error: str | None = None) -> None:
    beat = _beating.pop(run_id, None)
    if beat is not None:
        beat.stopped.set()
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


def heartbeat(engine: Engine, run_id: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE job_runs SET heartbeat_at = :now WHERE run_id = :run_id AND status = 'running'"),
            {"now": utcnow(), "run_id": run_id},
        )


class _Heartbeat(threading.Thread):
    """Writes one run's heartbeat every `every` seconds until stopped (a missed beat, e.g. the database briefly
    away, is skipped: a run is only declared dead after DEAD_AFTER without one)."""

    def __init__(self, engine: Engine, run_id: int, every: float) -> None:
        super().__init__(name=f"job-heartbeat-{run_id}", daemon=True)
        self.engine, self.run_id, self.every, self.stopped = engine, run_id, every, threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            with contextlib.suppress(Exception):
                heartbeat(self.engine, self.run_id)


_beating: dict[int, _Heartbeat] = {}  # run_id -> the heartbeat of a run of this process


def mark_dead_runs(engine: Engine, *, now: datetime | None = None) -> int:
    """Mark failed every 'running' run whose heartbeat stopped DEAD_AFTER ago; how many there were."""
    now = now or utcnow()
    sql = text("""
        UPDATE job_runs
           SET status = 'failed', finished_at = :now,
               error = format(:died, to_char(coalesce(heartbeat_at, started_at) AT TIME ZONE 'UTC',
                                             'YYYY-MM-DD HH24:MI:SS'))
         WHERE status = 'running' AND coalesce(heartbeat_at, started_at) < :cutoff
    """)
    with engine.begin() as conn:
        return conn.execute(sql, {"now": now, "cutoff": now - DEAD_AFTER, "died": DIED}).rowcount


def recent_runs(engine: Engine, job: str | None = None, limit: int = 20) -> pd.DataFrame:
    mark_dead_runs(engine)
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
