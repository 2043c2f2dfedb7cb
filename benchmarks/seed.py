"""Seeder benchmark: `python -m benchmarks.seed [--subscribers N ...] [--months M] [--csv PATH] [--json]`.

For each size, in a throwaway database with the full catalogue loaded, runs the seeder in a fresh
process (so its peak memory is its own) and prints seconds, rows, rows/s and peak RSS. Targets for
10,000 subscribers x 12 months: 60 s or less, 150,000 rows/s or more, 1.5 GB or less. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import uuid
from datetime import date

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

import database
from backend.core.settings import run_cli
from benchmarks.etl import server_url
from etl.load_catalogue import load_catalogue
from etl.source import find_catalogue_csv
from seed import generate
from seed import options as seed_options

TARGETS = {"seconds": 60, "rows_per_second": 150_000, "peak_mb": 1536}


def one_run(subscribers: int, months: int) -> dict:
    """Seed into DATABASE_URL in this process; the summary plus this process's peak RSS."""

    engine = database.get_engine()
    summary = generate.seed(
        engine, seed_options.Options(subscribers=subscribers, months=months, end=date(2026, 11, 1), reset=True)
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "subscribers": subscribers,
        "months": months,
        "seconds": summary["seconds"],
        "rows": summary["total_rows"],
        "rows_per_second": summary["rows_per_second"],
        "peak_mb": round(peak_mb),
    }


def run(sizes: list[int], months: int, csv: str | None) -> list[dict]:
    admin = create_engine(server_url(), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"bench_seed_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    results = []
    try:
        load_catalogue(database.get_engine(url), find_catalogue_csv(csv))
        database.dispose_engines()
        for size in sizes:
            command = [sys.executable, "-m", "benchmarks.seed", "--one", str(size), "--months", str(months)]
            done = subprocess.run(
                command, env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True, check=True
            )
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    finally:
        database.dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.seed", description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[10_000])
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--csv", help="netflix_titles.csv (default: $NETFLIX_CSV, data/, or Kaggle)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one run in this process
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_run(args.one, args.months)))
        return 0
    results = run(args.subscribers, args.months, args.csv)
    if args.json:
        print(json.dumps(results))
        return 0
    print(
        f"targets at 10,000 x 12: <= {TARGETS['seconds']} s, >= {TARGETS['rows_per_second']:,} rows/s, "
        f"<= {TARGETS['peak_mb']:,} MB peak"
    )
    for r in results:
        print(
            f"{r['subscribers']:>8,} subscribers x {r['months']} months: {r['seconds']:7.1f} s  "
            f"{r['rows']:>11,} rows  {r['rows_per_second']:>9,} rows/s  peak {r['peak_mb']:,} MB"
        )
    return 0


if __name__ == "__main__":
    run_cli(main)
