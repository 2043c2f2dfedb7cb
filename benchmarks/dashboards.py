"""Dashboard benchmark: `python -m benchmarks.dashboards [--subscribers 10000 100000] [--repeat 5] [--json]`.

For each size: a throwaway database with the full catalogue, seeded with that many subscribers over 12
months (`python -m seed.generate`, which refreshes the rollups), then the rollups' refresh timed: the whole
`rollups.refresh` (revenue + engagement + churn) over all months, then incremental from 35 days ago (what the
billing job does every 5 minutes; the churn model is not retrained within 6 hours), then the churn part alone with
the model retrained; then each dashboard page's data function timed (median of --repeat runs after one warm-up),
unfiltered and with a plan + country filter. Targets: each page's data in 500 ms or less at 10,000 subscribers,
2 s or less at 100,000; the full refresh 15 s or less and the incremental one 5 s or less at 10,000.
Prints figures; asserts nothing.

`--existing` times the database the app uses (DATABASE_URL or the embedded one) without seeding.

PAGES holds, for each dashboard page, the one backend function the page itself calls for everything it
draws (`function(engine, period, filters, acting_user_id=...)`), so the benchmark times what the pages run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

import database
from backend.analytics import (
    churn_metrics,
    churn_rollups,
    content_metrics,
    engagement_metrics,
    revenue_pages,
    rollups,
    selection,
)
from backend.core.settings import run_cli
from benchmarks.etl import server_url
from etl.load_catalogue import load_catalogue
from etl.source import find_catalogue_csv

TARGET_MS = {10_000: 500, 100_000: 2_000}
# The one function each page calls for everything it draws (pages/dashboards/*.py).
PAGES: dict[str, Callable] = {
    "Overview": revenue_pages.overview,
    "Revenue": revenue_pages.revenue_page,
    "Churn & retention": churn_metrics.page_data,
    "Engagement": engagement_metrics.engagement_page,
    "Content": content_metrics.content_page,
    "Acquisition": content_metrics.acquisition_page,
}


def time_call(call: Callable[[], object], repeat: int) -> float:
    """Median milliseconds of `repeat` calls after one warm-up."""
    call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def time_pages(engine, repeat: int) -> list[dict]:
    with engine.connect() as conn:
        acting = conn.execute(
            text("SELECT user_id FROM users WHERE role = 'analyst' ORDER BY user_id LIMIT 1")
        ).scalar_one()
    options = selection.filter_options(engine, acting_user_id=acting)
    period = options.default_period()
    cheapest = min(options.plans, key=lambda p: p)
    filtered = selection.Filters((cheapest,), tuple(options.countries[:2]))
    results = []
    for page, function in PAGES.items():
        row: dict = {"page": page, "function": f"{function.__module__}.{function.__name__}"}
        for label, filters in (("all_ms", selection.Filters()), ("filtered_ms", filtered)):
            row[label] = round(
                time_call(lambda f=filters, fn=function: fn(engine, period, f, acting_user_id=acting), repeat), 1
            )
        results.append(row)
    return results


def time_refresh(engine) -> dict:
    """Seconds of the full refresh, the billing job's incremental one (last 35 days) and the churn part alone."""

    started = time.perf_counter()
    full = rollups.refresh(engine)
    full_seconds = time.perf_counter() - started
    since = (datetime.now(UTC) - timedelta(days=35)).date()
    started = time.perf_counter()
    recent = rollups.refresh(engine, since=since)
    recent_seconds = time.perf_counter() - started
    started = time.perf_counter()
    churn_rollups.refresh(engine)
    churn_seconds = time.perf_counter() - started
    return {
        "refresh_full_s": round(full_seconds, 2),
        "refresh_full_parts": {k: round(v, 2) for k, v in full.items()},
        "refresh_recent_since": since.isoformat(),
        "refresh_recent_s": round(recent_seconds, 2),
        "refresh_recent_parts": {k: round(v, 2) for k, v in recent.items()},
        "refresh_churn_with_model_s": round(churn_seconds, 2),
    }


def measure(engine, size: int | None, repeat: int) -> dict:
    refresh = time_refresh(engine)
    with engine.connect() as conn:
        counts = dict(
            conn.execute(
                text("""
            SELECT 'subscribers', count(*) FROM users WHERE role = 'subscriber'
            UNION ALL SELECT 'subscription_events', count(*) FROM subscription_events
            UNION ALL SELECT 'playback_events', count(*) FROM playback_events
            UNION ALL SELECT 'revenue_monthly', count(*) FROM revenue_monthly""")
            ).all()
        )
    return {"size": size, "counts": counts, **refresh, "pages": time_pages(engine, repeat)}


def _analyst(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT user_id FROM users WHERE role IN ('analyst', 'admin') ORDER BY user_id LIMIT 1")
        ).scalar_one()


def seeded_run(size: int, repeat: int, csv: str | None) -> dict:
    admin = create_engine(server_url(), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"bench_dash_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        engine = database.get_engine(url)
        load_catalogue(engine, find_catalogue_csv(csv))
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "seed.generate", "--subscribers", str(size), "--months", "12", "--json"],
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            check=True,
        )
        result = measure(engine, size, repeat)
        result["seed_s"] = round(time.perf_counter() - started, 1)
        return result
    finally:
        database.dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def report(result: dict) -> None:
    size = result["size"]
    target = TARGET_MS.get(size)
    title = f"{size:,} subscribers" if size else "existing database"
    print(
        f"\n{title}: {result['counts'].get('subscription_events', 0):,} subscription events, "
        f"{result['counts'].get('revenue_monthly', 0):,} revenue_monthly rows"
        + (f", seeded in {result['seed_s']} s" if "seed_s" in result else "")
    )
    print(f"  {result['counts'].get('playback_events', 0):,} playback events")
    print(f"  rollups refresh, all months:       {result['refresh_full_s']:6.2f} s  {result['refresh_full_parts']}")
    print(
        f"  rollups refresh, since {result['refresh_recent_since']}: {result['refresh_recent_s']:6.2f} s  "
        f"{result['refresh_recent_parts']}"
    )
    print(f"  churn rollups + model retrained:   {result['refresh_churn_with_model_s']:6.2f} s")
    print(f"  {'page':<22} {'all (ms)':>10} {'filtered (ms)':>14}  target {target or '-'} ms")
    for row in result["pages"]:
        worst = max(row["all_ms"], row["filtered_ms"])
        verdict = "" if target is None else ("  ok" if worst <= target else "  OVER TARGET")
        print(f"  {row['page']:<22} {row['all_ms']:>10.1f} {row['filtered_ms']:>14.1f}{verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dashboards", description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--csv", help="netflix_titles.csv (default: $NETFLIX_CSV, data/, or Kaggle)")
    parser.add_argument("--existing", action="store_true", help="time the app's database, without seeding")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.existing:
        results = [measure(database.get_engine(), None, args.repeat)]
    else:
        results = [seeded_run(size, args.repeat, args.csv) for size in args.subscribers]
    if args.json:
        print(json.dumps(results))
    else:
        for result in results:
            report(result)
    return 0


if __name__ == "__main__":
    run_cli(main)
