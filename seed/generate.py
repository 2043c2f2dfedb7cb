"""Seed a believable year of the business: accounts, subscriptions, billing and viewing.

    python -m seed.generate [--subscribers N] [--months M] [--end YYYY-MM-DD] [--seed S]
                            [--reset] [--if-empty] [--json]

Everything is generated with NumPy from one seed (the same seed and options give the same data)
and loaded with COPY in one transaction: a failed or interrupted run leaves nothing behind. Seeded
rows belong to seeded users (`users.is_seeded`) or are seeded visitors; `--reset` removes exactly
those, never an account registered in the app or its data.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, text

import database
from backend.analytics import mrr_replay, rollups
from backend.core import jobs, locks
from backend.core.settings import run_cli
from backend.watching import partitions
from seed import business_records, population, rhythms, viewing
from seed import sessions as viewing_sessions
from seed.business_records import DAY
from seed.copy import reserve_ids
from seed.options import DEFAULT_SEED, DEMO_PASSWORD, JOB_NAME, VIEWING_CHUNK, Options, Progress, SeedError
from seed.synthesis import Generated, generate, plans_and_catalogue, review_pool
from seed.writing import (
    can_skip_fk_triggers,
    check_integrity,
    copy_business,
    copy_people,
    copy_viewing,
    delete_seeded,
)


def seeded_accounts(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM users WHERE is_seeded")).scalar_one()


def seed(engine: Engine, options: Options, on_progress: Progress | None = None) -> dict:
    """Generate and load the year; returns the summary the CLI prints (also kept in the run log)."""
    started = time.perf_counter()
    progress = on_progress or (lambda phase, done, total: None)
    if options.subscribers < 1 or options.months < 1:
        raise SeedError("--subscribers and --months must be at least 1")
    rng = np.random.default_rng(options.seed)
    plan_frame, catalogue = plans_and_catalogue(engine, rng)
    start, end = options.window()
    progress("accounts", 0, 1)
    ids = {
        "users": reserve_ids(engine, "users", "user_id", options.subscribers + len(population.STAFF)),
        "profiles": reserve_ids(engine, "profiles", "profile_id", 5 * options.subscribers),
        "subscriptions": reserve_ids(
            engine, "subscriptions", "subscription_id", business_records.capacity(options.subscribers)
        ),
    }
    g = generate(rng, options, plan_frame, catalogue, ids)
    with engine.begin() as conn:
        partitions.ensure_month_partitions(
            conn, datetime.fromtimestamp(start, UTC).date(), datetime.fromtimestamp(end - 1, UTC).date()
        )
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": locks.SEEDER})
        conn.execute(text("SET LOCAL TimeZone = 'UTC'"))
        conn.execute(text("SET LOCAL synchronous_commit = off"))
        existing = conn.execute(text("SELECT count(*) FROM users WHERE is_seeded")).scalar_one()
        if existing and not options.reset:
            raise SeedError(f"{existing:,} seeded accounts exist already: run with --reset to replace them")
        fast = can_skip_fk_triggers(conn)
        if fast:  # FK triggers off for this transaction; check_integrity checks the references set-based
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        counts["removed_accounts"] = delete_seeded(conn) if existing else 0
        taken = (
            conn.execute(text("SELECT email FROM user_logins WHERE email = ANY(:e)"), {"e": list(g.accounts["email"])})
            .scalars()
            .all()
        )
        if taken:
            raise SeedError(f"{len(taken)} seeded emails belong to registered accounts (e.g. {taken[0]})")
        counts |= copy_people(conn, g)
        progress("accounts", 1, 1)
        progress("subscriptions", 0, 1)
        counts |= copy_business(conn, g.business)
        progress("subscriptions", 1, 1)
        counts |= _load_viewing(conn, rng, options, catalogue, g, plan_frame, progress)
        progress("checks", 0, 1)
        if fast:
            check_integrity(conn)
    with engine.begin() as conn:
        for table in (
            "users",
            "subscriptions",
            "subscription_events",
            "payment_attempts",
            "playback_events",
            "viewing_progress",
            "list_entries",
            "ratings",
            "profiles",
            "visitors",
        ):
            conn.execute(text(f"ANALYZE {table}"))
    refresh_rollups(engine)
    progress("checks", 1, 1)
    seconds = time.perf_counter() - started
    rows = sum(v for k, v in counts.items() if k != "removed_accounts")
    first_month = datetime.fromtimestamp(start, UTC).date()
    last_month = datetime.fromtimestamp(end - 1, UTC).date()
    return {
        "rows": counts,
        "total_rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds),
        "mrr_by_month": mrr_replay.mrr_by_month(engine, first_month, last_month),
        "demo_sign_ins": demo_sign_ins(engine),
        "options": options.as_json(),
    }


def _load_viewing(
    conn: Connection,
    rng: np.random.Generator,
    options: Options,
    catalogue: viewing_sessions.Catalogue,
    g: Generated,
    plan_frame: pd.DataFrame,
    progress: Progress,
) -> dict[str, int]:
    start, end = options.window()
    premium = dict(zip(plan_frame["plan_id"], plan_frame["access_level"] == "premium", strict=True))
    screens = dict(zip(plan_frame["plan_id"], plan_frame["max_devices_allowed"], strict=True))
    segments = viewing.entitlement_segments(g.business.events, premium, end, screens)
    members = g.accounts[g.accounts["role"] == "subscriber"]
    first_day = start // DAY - 2
    clock = viewing_sessions.Clock(
        zone=pd.Series(members["zone"].to_numpy(), index=members["user_id"].to_numpy()),
        southern=pd.Series(
            rhythms.is_southern(members["country_code"].to_numpy()), index=members["user_id"].to_numpy()
        ),
        offsets=rhythms.utc_offsets(first_day, (end - start) // DAY + 5),
        first_day=first_day,
    )
    reviews = review_pool(options.seed)
    members = g.engagement.index.to_numpy()
    totals: dict[str, int] = {"playback_events": 0, "viewing_progress": 0, "list_entries": 0, "ratings": 0}
    chunks = max(1, -(-members.size // VIEWING_CHUNK))
    for number in range(chunks):
        progress("viewing", number, chunks)
        chunk = members[number * VIEWING_CHUNK : (number + 1) * VIEWING_CHUNK]
        these = segments[segments["user_id"].isin(chunk)]
        result = viewing.simulate_viewing(
            rng, catalogue, these, g.profiles[g.profiles["user_id"].isin(chunk)], g.engagement, reviews, end, clock
        )
        for table, count in copy_viewing(conn, result).items():
            totals[table] += count
    progress("viewing", chunks, chunks)
    return totals


def refresh_rollups(engine: Engine) -> list[str]:
    """Refresh every dashboard rollup over the seeded data; returns their names."""
    return list(rollups.refresh(engine))


def demo_sign_ins(engine: Engine) -> list[dict]:
    """A seeded subscriber on each plan (active now), and the seeded staff."""
    with engine.connect() as conn:
        rows = (
            conn.execute(
                text("""
            SELECT DISTINCT ON (p.plan_id) u.email, 'subscriber' AS role, p.name AS plan
            FROM subscriptions s JOIN users u ON u.user_id = s.user_id JOIN plans p ON p.plan_id = s.plan_id
            WHERE u.is_seeded AND s.status = 'active' AND NOT s.cancel_at_period_end
            ORDER BY p.plan_id, u.user_id""")
            )
            .mappings()
            .all()
        )
        staff = (
            conn.execute(
                text("""SELECT email, role, NULL AS plan FROM users
                                     WHERE is_seeded AND role <> 'subscriber' ORDER BY role""")
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in [*rows, *staff]]


def _terminal_progress() -> tuple[Progress, Callable[[], None]]:
    """One tqdm bar per phase on stderr when it is a terminal (silent otherwise)."""
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def on_progress(phase: str, done: int, total: int) -> None:
        bar = bars.get(phase)
        if bar is None:
            bar = bars[phase] = tqdm(
                total=total,
                desc=f"{phase:<13}",
                unit="step",
                file=sys.stderr,
                disable=None,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n}/{total} [{elapsed}]",
            )
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return on_progress, close


def summary_lines(summary: dict) -> list[str]:
    """What the CLI prints after a run: rows per table, MRR at both ends, the demo sign-ins."""
    options = summary["options"]
    lines = [
        f"Seeded {options['subscribers']:,} subscribers x {options['months']} months "
        f"in {summary['seconds']:.1f} s ({summary['rows_per_second']:,} rows/s)"
    ]
    lines += [f"  {table:<20} {count:>10,}" for table, count in summary["rows"].items()]
    months = list(summary["mrr_by_month"].items())
    if months:
        lines.append(f"  MRR {months[0][0]} {months[0][1]} -> {months[-1][0]} {months[-1][1]}")
    lines.append(f"Demo sign-ins (password: {DEMO_PASSWORD}):")
    lines += [
        f"  {who['email']:<40} {who['role']}{' on ' + who['plan'] if who['plan'] else ''}"
        for who in summary["demo_sign_ins"]
    ]
    return lines


def _print_summary(summary: dict, stream) -> None:
    print("\n".join(summary_lines(summary)), file=stream)


def run_logged(
    engine: Engine, options: Options, *, started_by: str = "cli", on_progress: Progress | None = None
) -> dict:
    """`seed` with a row in the run log (marked failed if it raises or is interrupted)."""
    run_id = jobs.start_run(engine, JOB_NAME, options.as_json(), started_by=started_by)
    try:
        summary = seed(engine, options, on_progress)
    except BaseException as error:
        jobs.finish_run(engine, run_id, error=f"{type(error).__name__}: {error}".rstrip(": "))
        raise
    jobs.finish_run(engine, run_id, summary=summary)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seed.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=Options.subscribers, help="accounts to create (5,000)")
    parser.add_argument(
        "--months",
        type=int,
        default=Options.months,
        help="complete calendar months of history before the month to date (12)",
    )
    parser.add_argument("--end", type=date.fromisoformat, help="last day, YYYY-MM-DD (default today, UTC)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (same seed, same data)")
    parser.add_argument("--reset", action="store_true", help="replace previously seeded data (only that)")
    parser.add_argument("--if-empty", action="store_true", help="do nothing when seeded data exists")
    parser.add_argument("--json", action="store_true", help="print one final JSON line with the summary")
    args = parser.parse_args(argv)
    options = Options(
        subscribers=args.subscribers,
        months=args.months,
        seed=args.seed,
        reset=args.reset,
        **({"end": args.end} if args.end else {}),
    )
    engine = database.get_engine()
    if args.if_empty and seeded_accounts(engine):
        print("Seeded data exists already; nothing to do.", file=sys.stderr)
        return 0
    on_progress, close_progress = _terminal_progress()
    try:
        summary = run_logged(engine, options, on_progress=on_progress)
    except SeedError as error:
        close_progress()
        print(f"Not seeded: {error}. Nothing was changed.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        close_progress()
        print("\nInterrupted: nothing was changed.", file=sys.stderr)
        return 130
    close_progress()
    if args.json:
        _print_summary(summary, sys.stderr)
        print(
            json.dumps(
                {
                    **summary["rows"],
                    "seconds": summary["seconds"],
                    "rows_per_second": summary["rows_per_second"],
                    "mrr_by_month": summary["mrr_by_month"],
                }
            )
        )
    else:
        _print_summary(summary, sys.stdout)
    return 0


if __name__ == "__main__":
    run_cli(main)
