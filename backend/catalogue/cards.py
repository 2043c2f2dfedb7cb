"""Title cards: the short form of a title that lists, rows and search results show, filtered by the
viewing profile's maturity cap (the one rule for that, used everywhere).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text

from backend.catalogue.rules import KIDS_PROFILE_CAP, RATED_AUDIENCES

AUDIENCE_ORDER = RATED_AUDIENCES


AUDIENCE_LABELS = {
    "kids": "Little kids",
    "older_kids": "Older kids",
    "teens": "Teens",
    "adults": "Adults",
    "unrated": "Unrated",
}


KIND_LABELS = {"movie": "Film", "tv_show": "Series"}
ACCESS_LABELS = {"free": "Free", "basic": "Basic", "premium": "Premium"}


def allowed_audiences(profile) -> tuple[str, ...] | None:
    """The audiences a viewing profile may see; None means every title (no cap).

    A Kids profile without an explicit cap is capped at older kids; unrated titles are shown only to
    profiles without a cap (as backend.watching.access decides who may play)."""
    if profile is None:
        return None
    cap = profile.maturity_cap or (KIDS_PROFILE_CAP if profile.is_kids else None)
    if cap is None or cap not in AUDIENCE_ORDER:
        return None
    return AUDIENCE_ORDER[: AUDIENCE_ORDER.index(cap) + 1]


def audience_condition(alias: str = "t") -> str:
    """SQL (bound parameter :allowed, a list or NULL) that keeps the titles a profile may see."""
    return f"(CAST(:allowed AS text[]) IS NULL OR {alias}.audience = ANY (CAST(:allowed AS text[])))"


def allowed_param(allowed: tuple[str, ...] | None) -> list[str] | None:
    return list(allowed) if allowed is not None else None


@dataclass(frozen=True)
class Card:
    """What a title card shows."""

    title_id: int
    show_id: str
    title: str
    kind: str
    release_year: int | None
    maturity_rating: str | None
    audience: str
    access_level: str
    duration: str
    genres: tuple[str, ...] = ()

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def access_label(self) -> str:
        return ACCESS_LABELS[self.access_level]


CARD_COLUMNS = """
    t.title_id, t.show_id, t.title, t.kind, t.release_year, t.maturity_rating, t.audience, t.access_level,
    CASE WHEN t.kind = 'movie' THEN coalesce(t.duration_minutes || ' min', '')
         ELSE coalesce(t.seasons || CASE WHEN t.seasons = 1 THEN ' season' ELSE ' seasons' END, '') END AS duration,
    ARRAY(SELECT g.name FROM title_genres tg JOIN genres g USING (genre_id)
          WHERE tg.title_id = t.title_id ORDER BY tg.position) AS genres
"""


def card_from(row) -> Card:
    values = dict(row._mapping)
    return Card(**{name: values[name] for name in Card.__dataclass_fields__} | {"genres": tuple(values["genres"])})


def cards_by_ids(conn, title_ids: list[int], allowed: tuple[str, ...] | None) -> list[Card]:
    """Cards of active titles in the order of `title_ids`, leaving out what the profile may not see."""
    if not title_ids:
        return []
    rows = conn.execute(
        text(
            f"SELECT {CARD_COLUMNS} FROM titles t WHERE t.title_id = ANY (:ids) AND t.is_active"
            f" AND {audience_condition()}"
        ),
        {"ids": list(title_ids), "allowed": allowed_param(allowed)},
    ).all()
    by_id = {row.title_id: card_from(row) for row in rows}
    return [by_id[i] for i in title_ids if i in by_id]


def cards(engine: Engine, title_ids: list[int], allowed: tuple[str, ...] | None) -> list[Card]:
    with engine.connect() as conn:
        return cards_by_ids(conn, title_ids, allowed)


def visible_to(card: Card, allowed: tuple[str, ...] | None) -> bool:
    return allowed is None or card.audience in allowed
