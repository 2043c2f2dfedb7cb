"""The job-run log's heartbeat: a run whose process is killed (kill -9: no word to the database) is marked
failed once its heartbeat is old, a live run is not, and a new run starts after a dead one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import text

from backend.core import jobs
from tests.waiting import wait_until

# A job process as the ETL and the seeder are: it logs its run, then works (here: waits) until killed.
JOB_PROCESS = """
import sys, threading
import database
from backend.core import jobs
jobs.HEARTBEAT_SECONDS = 0.2
run_id = jobs.start_run(database.get_engine(sys.argv[1], migrate=False), "catalogue_etl", {"csv": "x.csv"})
print(run_id, flush=True)
threading.Event().wait()
"""


def run_row(engine, run_id: int):
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT status, started_at, heartbeat_at, finished_at, error FROM job_runs WHERE run_id = :r"),
            {"r": run_id},
        ).one()


def test_a_killed_jobs_run_is_marked_failed_once_its_heartbeat_stops_and_a_new_run_starts(engine, db_url):
    job = subprocess.Popen([sys.executable, "-c", JOB_PROCESS, db_url], stdout=subprocess.PIPE, text=True)
    try:
        run_id = int(job.stdout.readline())
        first = run_row(engine, run_id).heartbeat_at
        beat = wait_until(lambda: (r := run_row(engine, run_id)).heartbeat_at > first and r, "a heartbeat")
        assert beat.status == "running"
        assert jobs.mark_dead_runs(engine) == 0  # alive: never marked
    finally:
        os.kill(job.pid, signal.SIGKILL)
        job.wait()
    last_beat = run_row(engine, run_id).heartbeat_at
    assert jobs.mark_dead_runs(engine, now=last_beat + jobs.DEAD_AFTER - timedelta(seconds=1)) == 0
    assert run_row(engine, run_id).status == "running"  # not yet: a beat may just be late

    assert jobs.mark_dead_runs(engine, now=last_beat + jobs.DEAD_AFTER + timedelta(seconds=1)) == 1
    dead = run_row(engine, run_id)
    assert dead.status == "failed" and dead.finished_at is not None
    assert dead.error == (
        "The process running this job stopped without finishing "
        f"(no heartbeat since {last_beat.astimezone(jobs.UTC):%Y-%m-%d %H:%M:%S} UTC)."
    )

    new_run = jobs.start_run(engine, "catalogue_etl", {"csv": "y.csv"})
    assert run_row(engine, new_run).status == "running"
    jobs.finish_run(engine, new_run, summary={"rows": 1})
    assert run_row(engine, new_run).status == "succeeded"
    history = jobs.recent_runs(engine, "catalogue_etl")
    assert list(history["status"]) == ["succeeded", "failed"]


def test_the_history_marks_a_run_dead_whose_heartbeat_is_long_gone(engine):
    with engine.begin() as conn:  # a run from before heartbeats, or one whose machine was lost an hour ago
        conn.execute(
            text("""INSERT INTO job_runs (job, status, started_at, heartbeat_at, started_by)
                    VALUES ('demo_seed', 'running', now() - interval '2 hours', now() - interval '1 hour', 'cli')""")
        )
    history = jobs.recent_runs(engine, "demo_seed")
    assert list(history["status"]) == ["failed"]
    assert history["error"][0].startswith("The process running this job stopped without finishing")


def test_a_finished_run_stops_beating(engine):
    run_id = jobs.start_run(engine, "catalogue_etl", {})
    jobs.finish_run(engine, run_id, error="ValueError: bad file")
    assert run_id not in jobs._beating
    row = run_row(engine, run_id)
    assert (row.status, row.error) == ("failed", "ValueError: bad file")
