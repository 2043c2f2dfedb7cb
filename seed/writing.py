"""Writing the seeded world with COPY, deleting an earlier seed, and the integrity checks that end a run."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from seed import business_records, viewing
from seed.copy import as_columns, copy_binary, copy_csv
from seed.options import SeedError
from seed.synthesis import Generated, unix_to_timestamps


def copy_people(conn: Connection, g: Generated) -> dict[str, int]:
    a = g.accounts
    created = unix_to_timestamps(a["created_at"])
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
                "created_at": unix_to_timestamps(p["created_at"]),
            }
        ),
    )
    v = g.visitors
    counts["visitors"] = copy_csv(
        conn,
        "visitors",
        pd.DataFrame(
            {
                "first_seen_at": unix_to_timestamps(v["first_seen_at"]),
                "traffic_source": v["traffic_source"],
                "landing_page": v["landing_page"],
                "country_code": v["country_code"],
                "device_type": v["device_type"],
                "signed_up_user_id": v["signed_up_user_id"],
                "signed_up_at": unix_to_timestamps(v["signed_up_at"]),
                "is_seeded": True,
            }
        ),
    )
    return counts


def copy_business(conn: Connection, b: business_records.Business) -> dict[str, int]:
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
        s[column] = unix_to_timestamps(s[column])
    s["created_at"] = s["updated_at"] = s["started_at"]
    e = b.events.assign(occurred_at=lambda f: unix_to_timestamps(f["occurred_at"]))
    p = b.payments.copy()
    for column in ("period_start", "period_end", "attempted_at"):
        p[column] = unix_to_timestamps(p[column])
    cards = cards_frame(b.subscriptions)
    return {
        "payment_methods": copy_csv(conn, "payment_methods", cards),
        "subscriptions": copy_csv(conn, "subscriptions", s),
        "subscription_events": copy_csv(conn, "subscription_events", e),
        "payment_attempts": copy_csv(conn, "payment_attempts", p),
    }


def cards_frame(subscriptions: pd.DataFrame) -> pd.DataFrame:
    """A card on file for every account that ever subscribed, as the simulated gateway keeps it. The cards of
    members still in their grace period keep failing (they must update them); the rest keep paying."""
    latest = subscriptions.sort_values("started_at").drop_duplicates("user_id", keep="last")
    failing = (latest["status"] == "past_due").to_numpy()
    return pd.DataFrame(
        {
            "user_id": latest["user_id"].to_numpy(),
            "brand": business_records.CARD_BRAND,
            "last4": business_records.CARD_LAST4,
            "exp_month": 12,
            "exp_year": pd.to_datetime(latest["started_at"].to_numpy(), unit="s").year + 4,
            "gateway_token": np.where(failing, "tok_sim_insufficient_funds_seed", "tok_sim_ok_seed"),
            "updated_at": unix_to_timestamps(latest["started_at"].to_numpy()),
        }
    )


def copy_viewing(conn: Connection, v: viewing.Viewing) -> dict[str, int]:
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
    ra = v.ratings.assign(
        created_at=lambda f: unix_to_timestamps(f["created_at"]),
        updated_at=lambda f: unix_to_timestamps(f["updated_at"]),
    )
    return {
        "playback_events": copy_binary(conn, "playback_events", playback),
        "viewing_progress": copy_binary(conn, "viewing_progress", progress),
        "list_entries": copy_binary(conn, "list_entries", lists),
        "ratings": copy_csv(conn, "ratings", ra),
    }


def delete_seeded(conn: Connection) -> int:
    """Remove every seeded row: the per-user tables' rows of seeded users, then those users and visitors.

    The seeded accounts' rows are locked first, as every billing step and member action locks its account:
    work on an account already under way finishes before its rows go, and work that starts later (the
    billing job takes accounts with SKIP LOCKED) leaves the account alone and then finds it gone."""
    seeded = conn.execute(
        text("SELECT count(*) FROM (SELECT user_id FROM users WHERE is_seeded FOR UPDATE) locked")
    ).scalar_one()
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


def check_integrity(conn: Connection) -> None:
    """With FK triggers off for the load, check the same references set-based before committing."""
    conn.execute(text("CREATE TEMP TABLE seeded_new ON COMMIT DROP AS SELECT user_id FROM users WHERE is_seeded"))
    conn.execute(text("ANALYZE seeded_new"))
    for what, sql in INTEGRITY_CHECKS.items():
        broken = conn.execute(text(sql)).scalar_one()
        if broken:
            raise SeedError(f"integrity check failed: {broken} {what}")


def can_skip_fk_triggers(conn: Connection) -> bool:
    return bool(conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar())
