"""Discovery benchmark: `python -m benchmarks.discovery [--subscribers 10000] [--repeat 20] [--csv PATH] [--json]`.

Loads the full catalogue into a throwaway database, seeds `--subscribers` accounts with a year of history
(seed.generate, as benchmarks/seed.py does), then times server-side (the backend calls the pages make,
no rendering): search and filter queries on the full catalogue, and all home rows for a few profiles
(with history, Kids, new). Prints median and p95 per case. Targets: search/filter <= 100 ms, all home rows
of a profile <= 300 ms. The first home page of a process also fits the TF-IDF model and builds the
co-viewing matrix: that one-off cost is printed apart. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from datetime import UTC, date, datetime

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

import database
from backend.accounts import profiles as viewing_profiles
from backend.catalogue import search
from backend.catalogue.search import Filters
from backend.core.settings import run_cli
from backend.watching import home, recommend
from benchmarks.etl import server_url
from etl.load_catalogue import load_catalogue
from etl.source import find_catalogue_csv
from seed import generate
from seed import options as seed_options

TARGETS_MS = {"search": 100, "home": 300}
SEARCHES = {
    "exact title": Filters(query="Stranger Things"),
    "typo title": Filters(query="strangr thngs"),
    "typo person": Filters(query="leonardo dicaprio"),
    "short query": Filters(query="a"),
    "common word": Filters(query="the"),
    "10,000 characters": Filters(query="love " * 2_000),
    "wildcards": Filters(query="100%_"),
    "no query, newest": Filters(),
    "genre + country + years": Filters(genres=("Dramas",), countries=("India",), year_from=2010, year_to=2020),
    "film, adults, premium, A-Z": Filters(
        kinds=("movie",), audiences=("adults",), access_levels=("premium",), sort="title"
    ),
    "query + filters": Filters(query="love", kinds=("movie",), genres=("Romantic Movies",), sort="release_desc"),
    "person link": Filters(person="Shah Rukh Khan"),
}
KIDS = ("kids", "older_kids")


def timed(work, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]


def search_timings(engine, repeat: int) -> list[dict]:
    results = []
    for name, filters in SEARCHES.items():
        for who, allowed, page in (("adult", None, 1), ("kids", KIDS, 1), ("adult p5", None, 5)):
            if who != "adult" and name not in ("typo title", "no query, newest", "common word"):
                continue
            search.browse(engine, filters, allowed=allowed, page=page)  # warm the connection and plan
            median, p95 = timed(
                lambda f=filters, a=allowed, p=page: search.browse(engine, f, allowed=a, page=p), repeat
            )
            results.append({"case": f"{name} ({who})", "median_ms": round(median, 1), "p95_ms": round(p95, 1)})
    return results


def sample_profiles(engine) -> list[tuple[str, int, viewing_profiles.Profile]]:
    """The adult profile with the most history, a typical one, a Kids profile and one without history."""
    with engine.connect() as conn:
        counts = conn.execute(
            text("""
            SELECT p.user_id, p.profile_id, p.is_kids, count(v.title_id) AS titles
            FROM profiles p LEFT JOIN viewing_progress v USING (user_id, profile_id)
            GROUP BY p.user_id, p.profile_id, p.is_kids ORDER BY titles DESC, p.user_id""")
        ).all()
    adults = [r for r in counts if not r.is_kids and r.titles]
    picks = {
        "heaviest viewer": adults[0],
        "typical viewer": adults[len(adults) // 2],
        "kids": next(r for r in counts if r.is_kids and r.titles),
        "no history": next((r for r in counts if r.titles == 0), adults[-1]),
    }
    chosen = []
    for label, row in picks.items():
        profile = next(p for p in viewing_profiles.list_profiles(engine, row.user_id) if p.profile_id == row.profile_id)
        chosen.append((f"{label} ({row.titles} titles)", row.user_id, profile))
    return chosen


def home_timings(engine, repeat: int) -> tuple[list[dict], dict]:
    now = datetime.now(UTC)
    recommend.forget_models()
    start = time.perf_counter()
    recommend.models(engine)
    fit_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    home.refresh_week(engine, home.last_complete_week(now), now)
    week_ms = (time.perf_counter() - start) * 1000
    results = []
    for label, user_id, profile in sample_profiles(engine):
        rows = home.home_rows(engine, user_id, profile, now=now)
        median, p95 = timed(lambda u=user_id, p=profile: home.home_rows(engine, u, p, now=now), repeat)
        results.append({"case": label, "rows": len(rows), "median_ms": round(median, 1), "p95_ms": round(p95, 1)})
    return results, {"model_fit_ms": round(fit_ms), "top10_week_refresh_ms": round(week_ms)}


def seed_database(url: str, subscribers: int, csv: str | None) -> None:

    engine = database.get_engine(url)
    load_catalogue(engine, find_catalogue_csv(csv))
    generate.seed(engine, seed_options.Options(subscribers=subscribers, months=12, end=date.today()))


def run(subscribers: int, repeat: int, csv: str | None, url: str | None) -> dict:
    admin = create_engine(server_url(), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = None
    if url is None:
        name = f"bench_discovery_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        if name is not None:
            start = time.perf_counter()
            seed_database(url, subscribers, csv)
            seeded_s = round(time.perf_counter() - start, 1)
        else:
            seeded_s = None
        engine = database.get_engine(url)
        with engine.connect() as conn:
            sizes = {
                t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                for t in ("titles", "users", "profiles", "playback_events", "viewing_progress", "ratings")
            }
        searches = search_timings(engine, repeat)
        homes, one_off = home_timings(engine, repeat)
        return {"sizes": sizes, "seed_seconds": seeded_s, "search": searches, "home": homes, "one_off": one_off}
    finally:
        database.dispose_engines()
        if name is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.discovery", description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--csv", help="netflix_titles.csv (default: $NETFLIX_CSV, data/, or Kaggle)")
    parser.add_argument("--url", help="time an already seeded database instead of seeding a throwaway one")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.subscribers, args.repeat, args.csv, args.url)
    if args.json:
        print(json.dumps(result))
        return 0
    print(
        f"data: {', '.join(f'{k} {v:,}' for k, v in result['sizes'].items())}"
        + (f" (seeded in {result['seed_seconds']} s)" if result["seed_seconds"] else "")
    )
    print(f"search and filters (target <= {TARGETS_MS['search']} ms), {args.repeat} runs each:")
    for r in result["search"]:
        print(f"  {r['case']:<42} median {r['median_ms']:7.1f} ms   p95 {r['p95_ms']:7.1f} ms")
    print(f"all home rows of a profile (target <= {TARGETS_MS['home']} ms), {args.repeat} runs each:")
    for r in result["home"]:
        print(f"  {r['case']:<42} {r['rows']:>2} rows  median {r['median_ms']:7.1f} ms   p95 {r['p95_ms']:7.1f} ms")
    print(
        f"once per process: TF-IDF fit + co-viewing matrix {result['one_off']['model_fit_ms']:,} ms; "
        f"once per week: Top 10 rollup of a week {result['one_off']['top10_week_refresh_ms']:,} ms"
    )
    return 0


if __name__ == "__main__":
    run_cli(main)
