"""Viewing profiles of an account (up to MAX_PROFILES), Kids profiles included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, text

from backend.accounts.errors import AccountError, ProfileLimit, ProfileNameTaken
from backend.catalogue.rules import KIDS_PROFILE_CAP
from backend.core.clock import clock

MAX_PROFILES = 5


@dataclass(frozen=True)
class Profile:
    profile_id: int
    name: str
    is_kids: bool
    maturity_cap: str | None


def list_profiles(engine: Engine, user_id: int) -> list[Profile]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("""SELECT profile_id, name, is_kids, maturity_cap FROM profiles
                                    WHERE user_id = :id ORDER BY created_at, profile_id"""),
            {"id": user_id},
        ).all()
    return [Profile(**r._mapping) for r in rows]


def create_profile(
    engine: Engine, user_id: int, name: str, *, is_kids: bool = False, now: datetime | None = None
) -> Profile:
    """A new viewing profile (at most MAX_PROFILES per account). Kids profiles see kids' and older
    kids' titles only."""
    name = " ".join((name or "").split())
    if not name or len(name) > 30:
        raise AccountError("Profile names are 1 to 30 characters.", field="name")
    cap = KIDS_PROFILE_CAP if is_kids else None
    with engine.begin() as conn:
        conn.execute(text("SELECT 1 FROM users WHERE user_id = :id FOR UPDATE"), {"id": user_id})
        count: int = conn.execute(
            text("SELECT count(*) FROM profiles WHERE user_id = :id"), {"id": user_id}
        ).scalar_one()
        if count >= MAX_PROFILES:
            raise ProfileLimit(f"An account has at most {MAX_PROFILES} profiles.")
        taken = conn.execute(
            text("SELECT 1 FROM profiles WHERE user_id = :id AND lower(name) = lower(:name)"),
            {"id": user_id, "name": name},
        ).first()
        if taken:
            raise ProfileNameTaken(f"There is already a profile called {name}.", field="name")
        row = conn.execute(
            text("""
            INSERT INTO profiles (user_id, name, is_kids, maturity_cap, created_at)
            VALUES (:id, :name, :kids, :cap, :now) RETURNING profile_id, name, is_kids, maturity_cap"""),
            {"id": user_id, "name": name, "kids": is_kids, "cap": cap, "now": clock(now)},
        ).one()
    return Profile(**row._mapping)
