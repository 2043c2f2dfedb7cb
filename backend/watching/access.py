"""Who may play what: subscription state, the plan's access level and the profile's maturity cap,
checked on the server before any stream starts. A refusal says what would allow the play.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, text

from backend.accounts.profiles import Profile
from backend.billing import state as billing_state
from backend.billing import subscriptions
from backend.catalogue import cards as title_cards
from backend.catalogue.rules import PREMIUM_FROM_RELEASE_YEAR
from backend.core.clock import clock
from backend.core.errors import Refusal
from backend.watching.playable import WatchTitle


@dataclass(frozen=True)
class Device:
    """A live stream on the account, as shown when the plan's screens are all in use."""

    lease_id: int
    device_label: str
    profile_name: str
    title: str
    started_at: datetime
    heartbeat_at: datetime


@dataclass
class PlaybackRefused(Refusal):
    """Why a play was refused and what would allow it (`remedy`, a page of the app: `remedy_page`)."""

    kind = "forbidden"
    code = "playback_refused"

    reason: str  # guest | no_subscription | subscription_ended | plan | maturity | unavailable | streams | stopped
    message: str
    remedy: str
    remedy_page: str | None = None
    devices: tuple[Device, ...] = field(default=())

    def __str__(self) -> str:
        return self.message


def check_access(
    engine: Engine, user_id: int, profile: Profile, title: WatchTitle, now: datetime | None = None
) -> billing_state.Entitlement:
    """The member's entitlement if this profile may play the title now; else PlaybackRefused saying why."""
    entitlement = subscriptions.entitlement(engine, user_id, clock(now))
    if not entitlement.allowed:
        ended = subscriptions.current(engine, user_id) is not None
        raise PlaybackRefused(
            "subscription_ended" if ended else "no_subscription",
            entitlement.reason,
            "Resubscribe" if ended else "Start a subscription",
            "plans",
        )
    if title.access_level == "premium" and entitlement.access_level != "premium":
        raise PlaybackRefused(
            "plan",
            f"“{title.title}” is a premium title: your {entitlement.plan_name} plan includes titles released "
            f"before {PREMIUM_FROM_RELEASE_YEAR}.",
            f"Upgrade to {_premium_plan_names(engine)}",
            "subscription",
        )
    check_trailer(profile, title)
    return entitlement


def check_trailer(profile: Profile, title: WatchTitle) -> None:
    """The profile's maturity cap allows the title (its trailer too); else PlaybackRefused."""
    allowed = title_cards.allowed_audiences(profile)  # the same rule as what the profile may browse
    if allowed is not None and title.audience not in allowed:
        rating = title.maturity_rating or "unrated"
        raise PlaybackRefused(
            "maturity",
            f"“{title.title}” ({rating}) is not available on the {profile.name} profile.",
            "Switch to an adult profile",
            "profiles",
        )


def _premium_plan_names(engine: Engine) -> str:
    with engine.connect() as conn:
        names = (
            conn.execute(
                text("""SELECT name FROM plans WHERE is_active AND access_level = 'premium'
                                     AND billing_period = 'month' ORDER BY price""")
            )
            .scalars()
            .all()
        )
    return " or ".join(names) if names else "a plan with every title"
