"""Catalogue ETL benchmark: `python -m benchmarks.etl [--csv PATH] [--runs N] [--json]`.

Loads the full catalogue into an emptied catalogue N times (median reported), then times a
no-change re-run and measures memory in a separate traced run. Works in a throwaway database
(on DATABASE_URL's server, or the embedded test server) and prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
import tracemalloc
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

import database
from backend.core.settings import get_settings, run_cli
from etl import load_catalogue as etl
from etl.source import find_catalogue_csv

TARGET_SECONDS = 2.0
CATALOGUE_TABLES = "titles, genres, countries, people, title_genres, title_countries, title_people, episodes"


def server_url() -> str:
    return database.server_url(get_settings().data_dir / "pgdata-test")


def empty_catalogue(engine) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {CATALOGUE_TABLES} CASCADE"))
        conn.execute(text(f"ANALYZE {CATALOGUE_TABLES}"))


def rows_written(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT (SELECT count(*) FROM titles) + (SELECT count(*) FROM genres)"
                " + (SELECT count(*) FROM countries)"
                " + (SELECT count(*) FROM people) + (SELECT count(*) FROM title_genres)"
                " + (SELECT count(*) FROM title_countries) + (SELECT count(*) FROM title_people)"
                " + (SELECT count(*) FROM episodes)"
            )
        ).scalar_one()


def run(csv_path: Path, runs: int) -> dict:
    admin = create_engine(server_url(), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"bench_etl_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        engine = database.get_engine(url)
        timings = []
        for _ in range(runs):
            empty_catalogue(engine)
            started = time.perf_counter()
            summary = etl.load_catalogue(engine, csv_path)
            timings.append(time.perf_counter() - started)
        rows = rows_written(engine)

        started = time.perf_counter()
        rerun = etl.load_catalogue(engine, csv_path)
        rerun_seconds = time.perf_counter() - started
        assert rerun.inserted == rerun.updated == 0, "a re-run must change nothing"

        empty_catalogue(engine)
        tracemalloc.start()
        etl.load_catalogue(engine, csv_path)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        engine.dispose()
    finally:
        database.dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    median = statistics.median(timings)
    return {
        "csv": str(csv_path),
        "titles": summary.titles,
        "rows_written": rows,
        "runs": [round(t, 3) for t in timings],
        "median_seconds": round(median, 3),
        "titles_per_second": round(summary.titles / median),
        "rows_per_second": round(rows / median),
        "rerun_seconds": round(rerun_seconds, 3),
        "python_peak_mib": round(traced_peak / 2**20, 1),
        "process_max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "target_seconds": TARGET_SECONDS,
        "target_met": median < TARGET_SECONDS,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.etl", description=__doc__.splitlines()[0])
    parser.add_argument("--csv", help="catalogue CSV (default: as the ETL finds it)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(find_catalogue_csv(args.csv), args.runs)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"Catalogue ETL benchmark ({result['titles']:,} titles, {result['rows_written']:,} rows written)")
    print(f"  full load, {len(result['runs'])} runs: {', '.join(f'{t:.3f}' for t in result['runs'])} s")
    print(
        f"  median:           {result['median_seconds']:.3f} s   (target < {TARGET_SECONDS:.0f} s: "
        f"{'met' if result['target_met'] else 'NOT met'})"
    )
    print(f"  throughput:       {result['titles_per_second']:,} titles/s, {result['rows_per_second']:,} rows/s")
    print(f"  no-change re-run: {result['rerun_seconds']:.3f} s")
    print(
        f"  memory:           Python peak {result['python_peak_mib']} MiB (tracemalloc), "
        f"process max RSS {result['process_max_rss_mib']} MiB"
    )
    return 0


if __name__ == "__main__":
    run_cli(main)
