"""Admin management of plans and accounts, each change audited in its own transaction.

Every function takes `acting_user_id` and checks the role here (`users.require_role`), not in the
page. Refusals a person can fix raise `AdminError` with a message to show; non-admins get
`users.NotAuthorised`. Titles are in `backend.admin_content`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

from backend import audit, subscriptions, users
from backend.users import clock

RESOLUTIONS = ("480p", "720p", "1080p", "4K")
ACCESS_LEVELS = ("basic", "premium")
BILLING_PERIODS = ("month", "year")
MAX_PRICE = Decimal("1000")
STREAMS = (1, 10)
VALIDITY_DAYS = (1, 400)
MAX_PLAN_NAME = 60
MAX_DESCRIPTION = 500


class AdminError(ValueError):
    """A refusal whose message can be shown as it is; nothing was changed."""


def require_admin(engine: Engine, acting_user_id: int | None) -> users.User:
    return users.require_role(engine, acting_user_id, "admin")


# --- plans -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanInput:
    """A plan as the admin enters it (strings from a form are fine: `check` parses and validates)."""

    name: str
    price: str | Decimal
    billing_period: str = "month"
    validity_days: int | str = 31
    max_streams: int | str = 1
    resolution: str = "1080p"
    access_level: str = "basic"
    description: str = ""


def parse_price(value: str | Decimal | int) -> Decimal:
    """A price above 0 and at most 1,000, with at most two decimals."""
    try:
        price = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise AdminError("Enter the price as a number, like 12.99.") from None
    if not price.is_finite():
        raise AdminError("Enter the price as a number, like 12.99.")
    if price <= 0 or price > MAX_PRICE:
        raise AdminError(f"The price must be above 0 and at most {MAX_PRICE:,.2f}.")
    if price != price.quantize(Decimal("0.01")):
        raise AdminError("The price has at most two decimals (cents).")
    return price.quantize(Decimal("0.01"))


def whole_number(value: int | str, label: str, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise AdminError(f"{label} must be a whole number from {low} to {high}.") from None
    if not low <= number <= high:
        raise AdminError(f"{label} must be from {low} to {high}.")
    return number


def one_of(value: str, label: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise AdminError(f"{label} must be one of: {', '.join(choices)}.")
    return value


def check_plan(plan: PlanInput) -> dict:
    """The validated plan's columns, or AdminError naming the first field that is wrong."""
    name = " ".join((plan.name or "").split())
    if not name:
        raise AdminError("Enter the plan's name.")
    if len(name) > MAX_PLAN_NAME:
        raise AdminError(f"Plan names are at most {MAX_PLAN_NAME} characters.")
    description = (plan.description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise AdminError(f"The description is at most {MAX_DESCRIPTION} characters.")
    return {
        "name": name,
        "price": parse_price(plan.price),
        "billing_period": one_of(plan.billing_period, "The billing period", BILLING_PERIODS),
        "validity_days": whole_number(plan.validity_days, "Validity days", *VALIDITY_DAYS),
        "max_streams": whole_number(plan.max_streams, "Streams at once", *STREAMS),
        "resolution": one_of(plan.resolution, "The resolution", RESOLUTIONS),
        "access_level": one_of(plan.access_level, "The access level", ACCESS_LEVELS),
        "description": description,
    }


PLAN_FIELDS = (
    "name",
    "price",
    "billing_period",
    "validity_days",
    "max_streams",
    "resolution",
    "access_level",
    "description",
    "is_active",
)


def _plan(conn: Connection, plan_id: int, *, lock: bool = False) -> dict:
    row = (
        conn.execute(
            text(
                f"SELECT plan_id, {', '.join(PLAN_FIELDS)} FROM plans WHERE plan_id = :id"
                + (" FOR UPDATE" if lock else "")
            ),
            {"id": plan_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise AdminError("There is no such plan.")
    return dict(row)


def _name_taken(conn: Connection, name: str, plan_id: int | None) -> bool:
    return conn.execute(
        text("SELECT EXISTS (SELECT 1 FROM plans WHERE lower(name) = lower(:n) AND plan_id IS DISTINCT FROM :id)"),
        {"n": name, "id": plan_id},
    ).scalar_one()


def _subscribers(conn: Connection, plan_id: int) -> int:
    """Accounts that ever held or paid for the plan (subscriptions, events or payments name it)."""
    return conn.execute(
        text("""
        SELECT count(DISTINCT user_id) FROM (
            SELECT user_id FROM subscriptions WHERE plan_id = :id OR scheduled_plan_id = :id
            UNION ALL SELECT user_id FROM payment_attempts WHERE plan_id = :id
            UNION ALL SELECT user_id FROM subscription_events WHERE plan_id = :id) x"""),
        {"id": plan_id},
    ).scalar_one()


def _unique_name_guard(error: IntegrityError) -> None:
    if "plans_name_key" in str(error.orig):
        raise AdminError("Another plan already has this name. Choose another.") from None
    raise error


def list_plans(engine: Engine, *, acting_user_id: int | None) -> list[dict]:
    """Every plan, on sale or not, with its live and all-time subscriber counts."""
    require_admin(engine, acting_user_id)
    with engine.connect() as conn:
        rows = (
            conn.execute(
                text(f"""
            SELECT p.plan_id, {", ".join("p." + f for f in PLAN_FIELDS)}, p.currency, p.updated_at,
                   coalesce(s.live, 0) AS live_subscribers, coalesce(s.ever, 0) AS subscribers_ever
            FROM plans p LEFT JOIN (
                SELECT plan_id, count(*) FILTER (WHERE status IN ('trialing', 'active', 'past_due')) AS live,
                       count(DISTINCT user_id) AS ever
                FROM subscriptions GROUP BY plan_id) s ON s.plan_id = p.plan_id
            ORDER BY NOT p.is_active, p.billing_period, p.price, p.name""")
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


def create_plan(engine: Engine, plan: PlanInput, *, acting_user_id: int | None, now: datetime | None = None) -> int:
    """A new plan, on sale at once (the plans page shows it). Returns its id."""
    actor = require_admin(engine, acting_user_id)
    values, now = check_plan(plan), clock(now)
    try:
        with engine.begin() as conn:
            if _name_taken(conn, values["name"], None):
                raise AdminError("Another plan already has this name. Choose another.")
            plan_id = conn.execute(
                text("""
                INSERT INTO plans (name, price, billing_period, validity_days, max_streams, resolution, access_level,
                                   description, is_active, created_at, updated_at)
                VALUES (:name, :price, :billing_period, :validity_days, :max_streams, :resolution, :access_level,
                        :description, TRUE, :now, :now)
                RETURNING plan_id"""),
                values | {"now": now},
            ).scalar_one()
            audit.record(conn, actor, "plan.create", "plan", plan_id, None, values | {"is_active": True}, now)
    except IntegrityError as error:
        _unique_name_guard(error)
    return plan_id


def update_plan(
    engine: Engine, plan_id: int, plan: PlanInput, *, acting_user_id: int | None, now: datetime | None = None
) -> dict:
    """Edit a plan. A new price applies to new periods only: subscribers keep the price they pay
    until their next renewal (the billing job charges the plan's price then, as `set_plan_price`).
    The billing period cannot change once anyone has subscribed. Returns the changed fields."""
    actor = require_admin(engine, acting_user_id)
    values, now = check_plan(plan), clock(now)
    try:
        with engine.begin() as conn:
            before = _plan(conn, plan_id, lock=True)
            if _name_taken(conn, values["name"], plan_id):
                raise AdminError("Another plan already has this name. Choose another.")
            if values["billing_period"] != before["billing_period"] and _subscribers(conn, plan_id):
                raise AdminError(
                    "The billing period of a plan with subscribers cannot change. Create a new plan instead."
                )
            old, new = audit.changed_fields({k: before[k] for k in values}, values)
            if not new:
                return {}
            conn.execute(
                text("""
                UPDATE plans SET name = :name, price = :price, billing_period = :billing_period,
                       validity_days = :validity_days, max_streams = :max_streams, resolution = :resolution,
                       access_level = :access_level, description = :description, updated_at = :now
                WHERE plan_id = :id"""),
                values | {"now": now, "id": plan_id},
            )
            audit.record(conn, actor, "plan.update", "plan", plan_id, old, new, now)
    except IntegrityError as error:
        _unique_name_guard(error)
    return new


def set_plan_active(
    engine: Engine, plan_id: int, active: bool, *, acting_user_id: int | None, now: datetime | None = None
) -> None:
    """Take a plan off sale (its subscribers keep it and renew on it) or put it back on sale."""
    actor = require_admin(engine, acting_user_id)
    now = clock(now)
    with engine.begin() as conn:
        before = _plan(conn, plan_id, lock=True)
        if before["is_active"] == active:
            return
        if not active:
            others = conn.execute(
                text("SELECT count(*) FROM plans WHERE is_active AND plan_id <> :id"), {"id": plan_id}
            ).scalar_one()
            if others == 0:
                raise AdminError("This is the only plan on sale. Create or activate another plan first.")
        conn.execute(
            text("UPDATE plans SET is_active = :a, updated_at = :now WHERE plan_id = :id"),
            {"a": active, "now": now, "id": plan_id},
        )
        audit.record(
            conn,
            actor,
            "plan.activate" if active else "plan.deactivate",
            "plan",
            plan_id,
            {"is_active": before["is_active"]},
            {"is_active": active},
            now,
        )


def delete_plan(engine: Engine, plan_id: int, *, acting_user_id: int | None, now: datetime | None = None) -> None:
    """Delete a plan nobody ever subscribed to; a plan with subscribers is deactivated, never deleted."""
    actor = require_admin(engine, acting_user_id)
    now = clock(now)
    with engine.begin() as conn:
        before = _plan(conn, plan_id, lock=True)
        if _subscribers(conn, plan_id):
            raise AdminError("This plan has subscribers, so it cannot be deleted. Deactivate it instead.")
        conn.execute(text("DELETE FROM plans WHERE plan_id = :id"), {"id": plan_id})
        audit.record(conn, actor, "plan.delete", "plan", plan_id, before, None, now)


# --- accounts --------------------------------------------------------------------------------------

MAX_SEARCH = 100


@dataclass(frozen=True)
class AccountRow:
    user_id: int
    email: str
    display_name: str
    role: str
    created_at: datetime
    suspended_at: datetime | None
    is_seeded: bool


def search_users(
    engine: Engine,
    query: str,
    *,
    acting_user_id: int | None,
    role: str = "",
    suspended_only: bool = False,
    limit: int = 50,
) -> list[AccountRow]:
    """Accounts whose email or name contains `query` (any case), newest first; an exact id too."""
    require_admin(engine, acting_user_id)
    query = (query or "").strip().lower()[:MAX_SEARCH]
    if role and role not in users.ROLES:
        raise AdminError(f"Role must be one of: {', '.join(users.ROLES)}.")
    with engine.connect() as conn:
        rows = conn.execute(
            text("""
            SELECT user_id, email, display_name, role, created_at, suspended_at, is_seeded FROM users
            WHERE (:q = '' OR strpos(email, :q) > 0 OR strpos(lower(display_name), :q) > 0
                   OR CAST(user_id AS text) = :q)
              AND (:role = '' OR role = :role) AND (NOT :suspended OR suspended_at IS NOT NULL)
            ORDER BY created_at DESC, user_id DESC LIMIT :limit"""),
            {"q": query, "role": role, "suspended": suspended_only, "limit": max(1, min(limit, 500))},
        ).all()
    return [AccountRow(**r._mapping) for r in rows]


VIEWING_HISTORY_ROWS = 50


def account_page(engine: Engine, user_id: int, *, acting_user_id: int | None) -> dict:
    """One account as the admin sees it: details, profiles, subscription, billing and recent viewing."""
    require_admin(engine, acting_user_id)
    with engine.connect() as conn:
        account = (
            conn.execute(
                text("""
            SELECT user_id, email, display_name, role, country_code, phone_e164, created_at, suspended_at,
                   tokens_valid_after, is_seeded FROM users WHERE user_id = :id"""),
                {"id": user_id},
            )
            .mappings()
            .first()
        )
        if account is None:
            raise AdminError("There is no such account.")
        viewing = (
            conn.execute(
                text("""
            SELECT e.started_at, p.name AS profile, t.title, ep.season_number AS season, ep.episode_number AS episode,
                   e.device, round(e.watched_seconds / 60.0, 1) AS minutes_watched, e.completed
            FROM playback_events e
            JOIN profiles p ON p.user_id = e.user_id AND p.profile_id = e.profile_id
            JOIN titles t ON t.title_id = e.title_id
            LEFT JOIN episodes ep ON ep.episode_id = e.episode_id
            WHERE e.user_id = :id ORDER BY e.started_at DESC LIMIT :n"""),
                {"id": user_id, "n": VIEWING_HISTORY_ROWS},
            )
            .mappings()
            .all()
        )
    sub = subscriptions.current(engine, user_id)
    return {
        "account": dict(account),
        "profiles": [asdict(p) for p in users.list_profiles(engine, user_id)],
        "subscription": asdict(sub) if sub else None,
        "billing": subscriptions.billing_history(engine, user_id),
        "viewing": [dict(v) for v in viewing],
    }


def _account_for_change(conn: Connection, actor: users.User, user_id: int) -> dict:
    if user_id == actor.user_id:
        raise AdminError("You cannot change your own account here: ask another admin.")
    row = (
        conn.execute(
            text("SELECT user_id, email, role, suspended_at FROM users WHERE user_id = :id FOR UPDATE"), {"id": user_id}
        )
        .mappings()
        .first()
    )
    if row is None:
        raise AdminError("There is no such account.")
    return dict(row)


def change_role(
    engine: Engine, user_id: int, role: str, *, acting_user_id: int | None, now: datetime | None = None
) -> None:
    """Make an account a subscriber, analyst or admin (not your own: an admin cannot lock themselves out)."""
    actor = require_admin(engine, acting_user_id)
    one_of(role, "The role", users.ROLES)
    now = clock(now)
    with engine.begin() as conn:
        before = _account_for_change(conn, actor, user_id)
        if before["role"] == role:
            return
        conn.execute(
            text("UPDATE users SET role = :r, updated_at = :now WHERE user_id = :id"),
            {"r": role, "now": now, "id": user_id},
        )
        audit.record(
            conn,
            actor,
            "user.change_role",
            "user",
            user_id,
            {"email": before["email"], "role": before["role"]},
            {"email": before["email"], "role": role},
            now,
        )


def suspend(engine: Engine, user_id: int, *, acting_user_id: int | None, now: datetime | None = None) -> None:
    """Suspend an account: it cannot sign in, and every session it holds (cookies in the app, API
    tokens) stops working on its next request, because sessions issued before `tokens_valid_after`
    are refused. Restoring the account does not bring those sessions back."""
    actor = require_admin(engine, acting_user_id)
    now = clock(now)
    with engine.begin() as conn:
        before = _account_for_change(conn, actor, user_id)
        if before["suspended_at"] is not None:
            raise AdminError("This account is already suspended.")
        conn.execute(
            text("""UPDATE users SET suspended_at = :now, tokens_valid_after = :now, updated_at = :now
                             WHERE user_id = :id"""),
            {"now": now, "id": user_id},
        )
        audit.record(
            conn,
            actor,
            "user.suspend",
            "user",
            user_id,
            {"email": before["email"], "suspended_at": None},
            {"email": before["email"], "suspended_at": now},
            now,
        )


def restore(engine: Engine, user_id: int, *, acting_user_id: int | None, now: datetime | None = None) -> None:
    """Lift a suspension: the account can sign in again (with a new sign-in)."""
    actor = require_admin(engine, acting_user_id)
    now = clock(now)
    with engine.begin() as conn:
        before = _account_for_change(conn, actor, user_id)
        if before["suspended_at"] is None:
            raise AdminError("This account is not suspended.")
        conn.execute(
            text("UPDATE users SET suspended_at = NULL, updated_at = :now WHERE user_id = :id"),
            {"now": now, "id": user_id},
        )
        audit.record(
            conn,
            actor,
            "user.restore",
            "user",
            user_id,
            {"email": before["email"], "suspended_at": before["suspended_at"]},
            {"email": before["email"], "suspended_at": None},
            now,
        )
