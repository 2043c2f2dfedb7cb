"""The seeded world before it is written: accounts, profiles, visitors and the subscription business."""

from __future__ import annotations

from dataclasses import dataclass

import bcrypt
import numpy as np
import pandas as pd
from faker import Faker
from sqlalchemy import Engine, text

from backend.accounts import passwords
from backend.billing import plans
from seed import business, business_records, population
from seed import sessions as viewing_sessions
from seed.options import DEMO_PASSWORD, Options, SeedError


def plans_and_catalogue(engine: Engine, rng: np.random.Generator) -> tuple[pd.DataFrame, viewing_sessions.Catalogue]:
    with engine.begin() as conn:
        plans.ensure_default_plans(conn)
        plan_frame = pd.DataFrame(
            conn.execute(
                text("""
            SELECT plan_id, price, billing_period, validity_days, access_level, max_devices_allowed, resolution
            FROM plans WHERE is_active AND billing_period <> 'day'""")
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
        catalogue = viewing_sessions.Catalogue.from_frames(rng, titles, episodes)
    except ValueError as error:
        raise SeedError(str(error)) from None
    return plan_frame, catalogue


def shared_password_hash(rng: np.random.Generator) -> str:
    """One bcrypt hash for every seeded account, its salt drawn from the run's seed (so runs match)."""
    alphabet = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    salt_chars = bytes(alphabet[i] for i in rng.integers(0, 64, 21)) + b"e"  # 22 chars, last one's low bits 0
    salt = b"$2b$%02d$" % passwords.BCRYPT_COST + salt_chars
    return bcrypt.hashpw(DEMO_PASSWORD.encode(), salt).decode()


def review_pool(seed: int) -> np.ndarray:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    return np.array([fake.paragraph(nb_sentences=2)[:400] for _ in range(300)], dtype=object)


@dataclass
class Generated:
    accounts: pd.DataFrame
    profiles: pd.DataFrame
    visitors: pd.DataFrame
    business: business_records.Business
    engagement: pd.Series  # by user_id
    password_hash: str


def generate(
    rng: np.random.Generator,
    options: Options,
    plan_frame: pd.DataFrame,
    catalogue: viewing_sessions.Catalogue,
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
    book = business_records.PlanBook.from_frame(plan_frame)
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
        shared_password_hash(rng),
    )


def unix_to_timestamps(values) -> pd.Series:
    """Unix seconds (0 or NA meaning none) as UTC timestamps for CSV COPY."""
    series = pd.Series(values).astype("Int64")
    return pd.to_datetime(series.mask(series == 0), unit="s", utc=True)
