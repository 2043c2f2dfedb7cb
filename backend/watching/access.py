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
from backend.catalogue.rules import AccessLevel, level_includes, level_summary
from backend.core.clock import clock
from backend.core.errors import Refusal
from backend.watching import rules as watching_rules
from backend.watching.playable import WatchTitle

# Why a play is refused -> (kind, the class's word for it); the code is `playback_<reason>`.
REASONS: dict[str, str] = {
    "guest": "unauthorised",
    "no_subscription": "forbidden",
    "subscription_ended": "forbidden",
    "plan": "forbidden",
    "maturity": "forbidden",
    "unavailable": "conflict",
    "streams": "conflict",
    "stopped": "conflict",
}


@dataclass(frozen=True)
class Device:
    """A live stream on the account, as shown when the plan's screens are all in use."""

    lease_id: int
    device_label: str
    profile_name: str
    title: str
    started_at: datetime
    heartbeat_at: datetime
    state: str = "playing"  # or "paused" (the player's last report was a pause)


@dataclass
class PlaybackRefused(Refusal):
    """Why a play was refused and what would allow it (`remedy`, a page of the app: `remedy_page`).
    Its kind and code follow the reason (`REASONS`; code `playback_<reason>`)."""

    reason: str  # guest | no_subscription | subscription_ended | plan | maturity | unavailable | streams | stopped
    message: str
    remedy: str
    remedy_page: str | None = None
    devices: tuple[Device, ...] = field(default=())

    def __str__(self) -> str:
        return self.message

    @property
    def kind(self):  # type: ignore[override]  # the reason decides: a full account is a conflict, a plan that does not allow it forbidden
        return REASONS.get(self.reason, "forbidden")

    @property
    def code(self) -> str:  # type: ignore[override]
        return f"playback_{self.reason}"

    @property
    def details(self) -> dict:
        devices = [
            {k: getattr(d, k) for k in ("lease_id", "device_label", "profile_name", "title", "started_at")}
            for d in self.devices
        ]
        return {"reason": self.reason, "remedy": self.remedy, "devices": devices or None}


def check_access(
    engine: Engine, user_id: int, profile: Profile, title: WatchTitle, now: datetime | None = None
) -> billing_state.Entitlement:
    """The member's entitlement if this profile may play the title now; else PlaybackRefused saying why.
    A free title plays without a subscription (on `FREE_SCREENS`), within the profile's maturity cap."""
    entitlement = subscriptions.entitlement(engine, user_id, clock(now))
    if not entitlement.allowed and title.access_level == AccessLevel.FREE:
        check_trailer(profile, title)
        return billing_state.Entitlement(
            True,
            "",
            plan_name="free",
            access_level=AccessLevel.FREE,
            max_devices_allowed=watching_rules.FREE_SCREENS,
            resolution=watching_rules.FREE_RESOLUTION,
        )
    if not entitlement.allowed:
        ended = subscriptions.current(engine, user_id) is not None
        raise PlaybackRefused(
            "subscription_ended" if ended else "no_subscription",
            entitlement.reason,
            "Resubscribe" if ended else "Start a subscription",
            "plans",
        )
    if not level_includes(entitlement.access_level, title.access_level):
        raise PlaybackRefused(
            "plan",
            f"“{title.title}” is a {title.access_level} title: your {entitlement.plan_name} plan includes "
            f"{level_summary(entitlement.access_level)}.",
            f"Upgrade to {_plan_names_for(engine, title.access_level)}",
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


def _plan_names_for(engine: Engine, title_level: str) -> str:
    """The monthly plans on sale that play titles of this level, cheapest first."""
    with engine.connect() as conn:
        plans = conn.execute(
            text("SELECT name, access_level FROM plans WHERE is_active AND billing_period = 'month' ORDER BY price")
        ).all()
    names = [name for name, level in plans if level_includes(level, title_level)]
    return " or ".join(names) if names else "a plan with every title"
