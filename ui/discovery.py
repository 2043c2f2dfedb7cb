"""What the discovery pages share (not a page): title cards, rows and grids, the viewing context, and
Markdown escaping for catalogue and member text (never rendered as HTML)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from backend.accounts import profiles as viewing_profiles
from backend.billing import subscriptions
from backend.catalogue import cards as title_cards
from backend.catalogue import posters
from backend.catalogue.cards import Card
from backend.watching import recommend
from ui.session import engine
from ui.text import md

TITLE_PAGE = "pages/title.py"
BROWSE_PAGE = "pages/browse.py"
WATCH_PAGE = "pages/watch.py"


@dataclass(frozen=True)
class Viewer:
    """Who is looking: a guest (user None) or a member's profile, with what it may see and watch."""

    user: object | None
    profile: object | None
    allowed: tuple[str, ...] | None
    access_level: str | None  # the member's plan access now (None: no entitlement)

    @property
    def is_guest(self) -> bool:
        return self.user is None


@st.cache_resource(show_spinner=False)
def _warm_models() -> None:
    """Once per server process: fit the recommendation models in the background."""
    recommend.warm(engine())


def viewer() -> Viewer:
    _warm_models()
    user = st.session_state.get("current_user")
    if user is None:
        return Viewer(None, None, None, None)
    # app.py has drawn the profile switcher (pages.common.active_profile), which keeps the choice in
    # session_state["profile_id"]; the last one seen here is the fallback (AppTest may not send it back).
    profiles = viewing_profiles.list_profiles(engine(), user.user_id)
    wanted = st.session_state.get("profile_id") or st.session_state.get("_viewer_profile_id")
    profile = next((p for p in profiles if p.profile_id == wanted), profiles[0])
    st.session_state["_viewer_profile_id"] = profile.profile_id
    entitled = subscriptions.entitlement(engine(), user.user_id)
    return Viewer(
        user, profile, title_cards.allowed_audiences(profile), entitled.access_level if entitled.allowed else None
    )


def open_deep_link() -> None:
    """`?title=s123` on a list page opens that title's page."""
    show_id = st.query_params.get("title")
    if show_id:
        st.switch_page(TITLE_PAGE, query_params={"title": show_id})


def badges(card: Card, who: Viewer) -> str:
    """Year · Film/Series · rating · duration · access, as escaped Markdown."""
    parts = [str(card.release_year or ""), card.kind_label, card.maturity_rating or "Unrated", card.duration]
    access = (
        f":orange-badge[{card.access_label}]" if card.access_level == "premium" else f":gray-badge[{card.access_label}]"
    )
    if card.access_level == "premium" and not who.is_guest and who.access_level != "premium":
        access += " :small[needs a Premium plan]"
    return " · ".join(md(p) for p in parts if p) + " " + access


def title_card(
    card: Card,
    who: Viewer,
    *,
    note: str | None = None,
    progress: float | None = None,
    rank: int | None = None,
    extra: Callable[[Card], None] | None = None,
) -> None:
    st.image(posters.poster_svg(card.show_id, card.title, card.kind, card.access_level), width="stretch")
    label = f"{rank}. {card.title}" if rank else card.title
    st.page_link(TITLE_PAGE, label=md(label), query_params={"title": card.show_id})
    if progress is not None:
        st.progress(min(max(progress, 0.0), 1.0))
    st.caption(badges(card, who) + (f"  \n{md(note)}" if note else ""))
    if extra is not None:
        extra(card)


def card_grid(
    cards: list[Card],
    who: Viewer,
    *,
    columns: int = 6,
    notes: dict[str, str] | None = None,
    progress: dict[str, float] | None = None,
    ranked: bool = False,
    extra: Callable[[Card], None] | None = None,
) -> None:
    """Cards in rows of `columns`."""
    for start in range(0, len(cards), columns):
        cells = st.columns(columns)
        for offset, card in enumerate(cards[start : start + columns]):
            with cells[offset]:
                title_card(
                    card,
                    who,
                    note=(notes or {}).get(card.show_id),
                    progress=(progress or {}).get(card.show_id),
                    rank=start + offset + 1 if ranked else None,
                    extra=extra,
                )
