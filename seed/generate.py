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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import bcrypt
import numpy as np
import pandas as pd
from dateutil.relativedelta import relativedelta
from faker import Faker
from sqlalchemy import Connection, Engine, text

import database
from backend.accounts import passwords
from backend.analytics import mrr_replay, rollups
from backend.billing import plans
from backend.core import jobs, locks
from backend.core.settings import run_cli
from backend.watching import partitions
from seed import business, population, viewing
from seed.copy import as_columns, copy_binary, copy_csv, reserve_ids

JOB_NAME = "seed"
DEFAULT_SEED = 20_240_601
DEMO_PASSWORD = "reelhouse-demo-1"  # every seeded account signs in with it (README)
VIEWING_CHUNK = 2_000  # accounts whose viewing is generated and copied at a time (bounds memory)
PHASES = ("accounts", "subscriptions", "viewing", "checks")

Progress = Callable[[str, int, int], None]


class SeedError(RuntimeError):
    """A reason the seeder will not run; the message is for the person running it."""


@dataclass(frozen=True)
class Options:
    subscribers: int = 5_000
    months: int = 12
    end: date = field(default_factory=lambda: datetime.now(UTC).date())
    seed: int = DEFAULT_SEED
    reset: bool = False

    def window(self) -> tuple[int, int]:
        """[start, end) in Unix seconds: the `months` calendar months up to the start of `end` (UTC)."""
        end = datetime(self.end.year, self.end.month, self.end.day, tzinfo=UTC)
        return int((end - relativedelta(months=self.months)).timestamp()), int(end.timestamp())

    def as_json(self) -> dict:
        return {
            "subscribers": self.subscribers,
            "months": self.months,
            "end": self.end.isoformat(),
            "seed": self.seed,
            "reset": self.reset,
        }


# --- reading what is there ---------------------------------------------------------------------------


def seeded_accounts(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM users WHERE is_seeded")).scalar_one()


def _plans_and_catalogue(engine: Engine, rng: np.random.Generator) -> tuple[pd.DataFrame, viewing.Catalogue]:
    with engine.begin() as conn:
        plans.ensure_default_plans(conn)
        plan_frame = pd.DataFrame(
            conn.execute(
                text("""
            SELECT plan_id, price, billing_period, access_level FROM plans WHERE is_active""")
            )
            .mappings()
            .all()
        )
        titles = pd.DataFrame(
            conn.execute(
                text("""
            SELECT t.title_id, t.kind, t.duration_minutes, t.access_level, t.audience, t.release_year,
                   (SELECT g.genre_id FROM title_genres g WHERE g.title_id = t.title_id ORDER BY g.position LIMIT 1)
                       AS genre_id
            FROM titles t WHERE t.is_active""")
            )
            .mappings()
            .all(),
            columns=["title_id", "kind", "duration_minutes", "access_level", "audience", "release_year", "genre_id"],
        )
        episodes = pd.DataFrame(
            conn.execute(
                text("""
            SELECT episode_id, title_id, season_number, episode_number, duration_minutes
            FROM episodes WHERE is_active""")
            )
            .mappings()
            .all(),
            columns=["episode_id", "title_id", "season_number", "episode_number", "duration_minutes"],
        )
    if plan_frame.empty:
        raise SeedError("there is no active plan to subscribe to: activate one (Admin > Plans) first")
    try:
        catalogue = viewing.Catalogue.from_frames(rng, titles, episodes)
    except ValueError as error:
        raise SeedError(str(error)) from None
    return plan_frame, catalogue


def _shared_password_hash(rng: np.random.Generator) -> str:
    """One bcrypt hash for every seeded account, its salt drawn from the run's seed (so runs match)."""
    alphabet = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    salt_chars = bytes(alphabet[i] for i in rng.integers(0, 64, 21)) + b"e"  # 22 chars, last one's low bits 0
    salt = b"$2b$%02d$" % passwords.BCRYPT_COST + salt_chars
    return bcrypt.hashpw(DEMO_PASSWORD.encode(), salt).decode()


def _review_pool(seed: int) -> np.ndarray:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    return np.array([fake.paragraph(nb_sentences=2)[:400] for _ in range(300)], dtype=object)


# --- the run ----------------------------------------------------------------------------------------


@dataclass
class Generated:
    accounts: pd.DataFrame
    profiles: pd.DataFrame
    visitors: pd.DataFrame
    business: business.Business
    engagement: pd.Series  # by user_id
    password_hash: str


def generate(
    rng: np.random.Generator,
    options: Options,
    plan_frame: pd.DataFrame,
    catalogue: viewing.Catalogue,
    first_ids: dict[str, int],
) -> Generated:
    """Accounts, profiles, visitors and the subscription business (viewing comes later, in chunks)."""
    start, end = options.window()
    accounts = population.make_accounts(rng, options.subscribers, start, end, options.seed)
    accounts["user_id"] = first_ids["users"] + np.arange(len(accounts))
    profiles = population.make_profiles(rng, accounts)
    profiles["profile_id"] = first_ids["profiles"] + np.arange(len(profiles))
    genre_weight = np.bincount(catalogue.genre, weights=catalogue.popularity, minlength=catalogue.genre_ids.size)
    profiles["favourite_genre"] = rng.choice(genre_weight.size, size=len(profiles), p=genre_weight / genre_weight.sum())
    visitors = population.make_visitors(rng, accounts, start, end)
    members = accounts[accounts["role"] == "subscriber"]
    engagement = rng.lognormal(0.0, 0.6, len(members))
    book = business.PlanBook.from_frame(plan_frame)
    result = business.simulate(
        rng,
        book,
        members["user_id"].to_numpy(),
        members["created_at"].to_numpy(),
        engagement,
        end,
        first_ids["subscriptions"],
    )
    return Generated(
        accounts,
        profiles,
        visitors,
        result,
        pd.Series(engagement, index=members["user_id"].to_numpy()),
        _shared_password_hash(rng),
    )


def _stamps(values) -> pd.Series:
    """Unix seconds (0 or NA meaning none) as UTC timestamps for CSV COPY."""
    series = pd.Series(values).astype("Int64")
    return pd.to_datetime(series.mask(series == 0), unit="s", utc=True)


def _copy_people(conn: Connection, g: Generated) -> dict[str, int]:
    a = g.accounts
    created = _stamps(a["created_at"])
    counts = {
        "users": copy_csv(
            conn,
            "users",
            pd.DataFrame(
                {
                    "user_id": a["user_id"],
                    "email": a["email"],
                    "display_name": a["display_name"],
                    "password_hash": g.password_hash,
                    "role": a["role"],
                    "country_code": a["country_code"],
                    "phone_e164": a["phone_e164"],
                    "tokens_valid_after": created,
                    "created_at": created,
                    "updated_at": created,
                    "is_seeded": True,
                }
            ),
        ),
        "user_logins": copy_csv(
            conn, "user_logins", pd.DataFrame({"email": a["email"], "user_id": a["user_id"], "created_at": created})
        ),
    }
    p = g.profiles
    counts["profiles"] = copy_csv(
        conn,
        "profiles",
        pd.DataFrame(
            {
                "user_id": p["user_id"],
                "profile_id": p["profile_id"],
                "name": p["name"],
                "is_kids": p["is_kids"],
                "maturity_cap": p["maturity_cap"],
                "created_at": _stamps(p["created_at"]),
            }
        ),
    )
    v = g.visitors
    counts["visitors"] = copy_csv(
        conn,
        "visitors",
        pd.DataFrame(
            {
                "first_seen_at": _stamps(v["first_seen_at"]),
                "traffic_source": v["traffic_source"],
                "landing_page": v["landing_page"],
                "country_code": v["country_code"],
                "device_type": v["device_type"],
                "signed_up_user_id": v["signed_up_user_id"],
                "signed_up_at": _stamps(v["signed_up_at"]),
                "is_seeded": True,
            }
        ),
    )
    return counts


def _copy_business(conn: Connection, b: business.Business) -> dict[str, int]:
    s = b.subscriptions.copy()
    for column in (
        "started_at",
        "trial_end",
        "current_period_start",
        "current_period_end",
        "canceled_at",
        "grace_until",
        "ended_at",
        "billing_anchor",
    ):
        s[column] = _stamps(s[column])
    s["created_at"] = s["updated_at"] = s["started_at"]
    e = b.events.assign(occurred_at=lambda f: _stamps(f["occurred_at"]))
    p = b.payments.copy()
    for column in ("period_start", "period_end", "attempted_at"):
        p[column] = _stamps(p[column])
    cards = _cards(b.subscriptions)
    return {
        "payment_methods": copy_csv(conn, "payment_methods", cards),
        "subscriptions": copy_csv(conn, "subscriptions", s),
        "subscription_events": copy_csv(conn, "subscription_events", e),
        "payment_attempts": copy_csv(conn, "payment_attempts", p),
    }


def _cards(subscriptions: pd.DataFrame) -> pd.DataFrame:
    """A card on file for every account that ever subscribed, as the simulated gateway keeps it. The cards of
    members still in their grace period keep failing (they must update them); the rest keep paying."""
    latest = subscriptions.sort_values("started_at").drop_duplicates("user_id", keep="last")
    failing = (latest["status"] == "past_due").to_numpy()
    return pd.DataFrame(
        {
            "user_id": latest["user_id"].to_numpy(),
            "brand": business.CARD_BRAND,
            "last4": business.CARD_LAST4,
            "exp_month": 12,
            "exp_year": pd.to_datetime(latest["started_at"].to_numpy(), unit="s").year + 4,
            "gateway_token": np.where(failing, "tok_sim_insufficient_funds_seed", "tok_sim_ok_seed"),
            "updated_at": _stamps(latest["started_at"].to_numpy()),
        }
    )


def _copy_viewing(conn: Connection, v: viewing.Viewing) -> dict[str, int]:
    pb = v.playback
    playback = as_columns(
        {
            "user_id": ("int8", pb["user_id"]),
            "profile_id": ("int8", pb["profile_id"]),
            "title_id": ("int8", pb["title_id"]),
            "episode_id": ("int8", pb["episode_id"]),
            "device": ("text", pb["device"]),
            "started_at": ("timestamptz", pb["started_at"]),
            "ended_at": ("timestamptz", pb["ended_at"]),
            "start_position_seconds": ("int4", pb["start_position_seconds"]),
            "end_position_seconds": ("int4", pb["end_position_seconds"]),
            "watched_seconds": ("int4", pb["watched_seconds"]),
            "duration_seconds": ("int4", pb["duration_seconds"]),
            "completed": ("bool", pb["completed"]),
        },
        nulls={"episode_id": pb["is_film"]},
    )
    pr = v.progress
    progress = as_columns(
        {
            "user_id": ("int8", pr["user_id"].to_numpy()),
            "profile_id": ("int8", pr["profile_id"].to_numpy()),
            "title_id": ("int8", pr["title_id"].to_numpy()),
            "episode_id": ("int8", pr["episode_id"].fillna(0).to_numpy(np.int64)),
            "position_seconds": ("int4", pr["position_seconds"].to_numpy()),
            "duration_seconds": ("int4", pr["duration_seconds"].to_numpy()),
            "completed": ("bool", pr["completed"].to_numpy()),
            "updated_at": ("timestamptz", pr["updated_at"].to_numpy()),
        },
        nulls={"episode_id": pr["episode_id"].isna().to_numpy()},
    )
    li = v.lists
    lists = as_columns(
        {
            "user_id": ("int8", li["user_id"].to_numpy()),
            "profile_id": ("int8", li["profile_id"].to_numpy()),
            "title_id": ("int8", li["title_id"].to_numpy()),
            "added_at": ("timestamptz", li["added_at"].to_numpy()),
        }
    )
    ra = v.ratings.assign(created_at=lambda f: _stamps(f["created_at"]), updated_at=lambda f: _stamps(f["updated_at"]))
    return {
        "playback_events": copy_binary(conn, "playback_events", playback),
        "viewing_progress": copy_binary(conn, "viewing_progress", progress),
        "list_entries": copy_binary(conn, "list_entries", lists),
        "ratings": copy_csv(conn, "ratings", ra),
    }


def _delete_seeded(conn: Connection) -> int:
    """Remove every seeded row: the per-user tables' rows of seeded users, then those users and visitors."""
    seeded = conn.execute(text("SELECT count(*) FROM users WHERE is_seeded")).scalar_one()
    per_user = (
        conn.execute(
            text("""
        SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'user_id'
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND c.relname NOT IN ('users', 'visitors') ORDER BY c.relname""")
        )
        .scalars()
        .all()
    )
    conn.execute(text("CREATE TEMP TABLE seeded_users ON COMMIT DROP AS SELECT user_id FROM users WHERE is_seeded"))
    conn.execute(text("ANALYZE seeded_users"))
    for table in per_user:
        conn.execute(text(f"DELETE FROM {table} t USING seeded_users s WHERE t.user_id = s.user_id"))
    conn.execute(text("DELETE FROM users WHERE is_seeded"))
    conn.execute(text("DELETE FROM visitors WHERE is_seeded"))
    return seeded


INTEGRITY_CHECKS = {
    "playback without its profile": """SELECT count(*) FROM playback_events e JOIN seeded_new n USING (user_id)
        WHERE NOT EXISTS (SELECT 1 FROM profiles p WHERE p.user_id = e.user_id AND p.profile_id = e.profile_id)""",
    "playback of an unknown title or episode": """SELECT count(*)
        FROM playback_events e JOIN seeded_new n USING (user_id)
        WHERE NOT EXISTS (SELECT 1 FROM titles t WHERE t.title_id = e.title_id)
           OR (e.episode_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM episodes x WHERE x.episode_id = e.episode_id))""",
    "events or payments without their subscription": """SELECT
        (SELECT count(*) FROM subscription_events e JOIN seeded_new n USING (user_id) WHERE NOT EXISTS
            (SELECT 1 FROM subscriptions s WHERE s.user_id = e.user_id AND s.subscription_id = e.subscription_id))
      + (SELECT count(*) FROM payment_attempts e JOIN seeded_new n USING (user_id) WHERE NOT EXISTS
            (SELECT 1 FROM subscriptions s WHERE s.user_id = e.user_id AND s.subscription_id = e.subscription_id))""",
    "progress, lists or ratings without their profile or title": """SELECT
        (SELECT count(*) FROM viewing_progress e JOIN seeded_new n USING (user_id) WHERE NOT EXISTS
            (SELECT 1 FROM profiles p WHERE p.user_id = e.user_id AND p.profile_id = e.profile_id))
      + (SELECT count(*) FROM list_entries e JOIN seeded_new n USING (user_id) WHERE NOT EXISTS
            (SELECT 1 FROM titles t WHERE t.title_id = e.title_id))
      + (SELECT count(*) FROM ratings e JOIN seeded_new n USING (user_id) WHERE NOT EXISTS
            (SELECT 1 FROM titles t WHERE t.title_id = e.title_id))""",
}


def _check_integrity(conn: Connection) -> None:
    """With FK triggers off for the load, check the same references set-based before committing."""
    conn.execute(text("CREATE TEMP TABLE seeded_new ON COMMIT DROP AS SELECT user_id FROM users WHERE is_seeded"))
    conn.execute(text("ANALYZE seeded_new"))
    for what, sql in INTEGRITY_CHECKS.items():
        broken = conn.execute(text(sql)).scalar_one()
        if broken:
            raise SeedError(f"integrity check failed: {broken} {what}")


def _can_skip_fk_triggers(conn: Connection) -> bool:
    return bool(conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar())


def seed(engine: Engine, options: Options, on_progress: Progress | None = None) -> dict:
    """Generate and load the year; returns the summary the CLI prints (also kept in the run log)."""
    started = time.perf_counter()
    progress = on_progress or (lambda phase, done, total: None)
    if options.subscribers < 1 or options.months < 1:
        raise SeedError("--subscribers and --months must be at least 1")
    rng = np.random.default_rng(options.seed)
    plan_frame, catalogue = _plans_and_catalogue(engine, rng)
    start, end = options.window()
    progress("accounts", 0, 1)
    ids = {
        "users": reserve_ids(engine, "users", "user_id", options.subscribers + len(population.STAFF)),
        "profiles": reserve_ids(engine, "profiles", "profile_id", 5 * options.subscribers),
        "subscriptions": reserve_ids(
            engine, "subscriptions", "subscription_id", business.capacity(options.subscribers)
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
        fast = _can_skip_fk_triggers(conn)
        if fast:  # FK triggers off for this transaction; _check_integrity checks the references set-based
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        counts["removed_accounts"] = _delete_seeded(conn) if existing else 0
        taken = (
            conn.execute(text("SELECT email FROM user_logins WHERE email = ANY(:e)"), {"e": list(g.accounts["email"])})
            .scalars()
            .all()
        )
        if taken:
            raise SeedError(f"{len(taken)} seeded emails belong to registered accounts (e.g. {taken[0]})")
        counts |= _copy_people(conn, g)
        progress("accounts", 1, 1)
        progress("subscriptions", 0, 1)
        counts |= _copy_business(conn, g.business)
        progress("subscriptions", 1, 1)
        counts |= _load_viewing(conn, rng, options, catalogue, g, plan_frame, progress)
        progress("checks", 0, 1)
        if fast:
            _check_integrity(conn)
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
    catalogue: viewing.Catalogue,
    g: Generated,
    plan_frame: pd.DataFrame,
    progress: Progress,
) -> dict[str, int]:
    _start, end = options.window()
    premium = dict(zip(plan_frame["plan_id"], plan_frame["access_level"] == "premium", strict=True))
    segments = viewing.entitlement_segments(g.business.events, premium, end)
    reviews = _review_pool(options.seed)
    members = g.engagement.index.to_numpy()
    totals: dict[str, int] = {"playback_events": 0, "viewing_progress": 0, "list_entries": 0, "ratings": 0}
    chunks = max(1, -(-members.size // VIEWING_CHUNK))
    for number in range(chunks):
        progress("viewing", number, chunks)
        chunk = members[number * VIEWING_CHUNK : (number + 1) * VIEWING_CHUNK]
        these = segments[segments["user_id"].isin(chunk)]
        result = viewing.simulate_viewing(
            rng, catalogue, these, g.profiles[g.profiles["user_id"].isin(chunk)], g.engagement, reviews, end
        )
        for table, count in _copy_viewing(conn, result).items():
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


# --- CLI -------------------------------------------------------------------------------------------


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
    parser.add_argument("--months", type=int, default=Options.months, help="months of history (12)")
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
