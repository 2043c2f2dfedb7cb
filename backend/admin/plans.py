"""Admin management of plans, each change audited in its own transaction.

Every function takes `acting_user_id` and checks the role here (`users.require_role`), not in the
page. Refusals a person can fix raise `AdminError` with a message to show; non-admins get
`NotAuthorised`. Accounts are in backend.admin.accounts, titles in backend.admin.content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

from backend.admin.checks import AdminError, one_of, parse_price, require_admin, whole_number
from backend.catalogue.rules import ACCESS_LEVELS
from backend.core import audit
from backend.core.clock import clock

RESOLUTIONS = ("480p", "720p", "1080p", "4K")
BILLING_PERIODS = ("month", "year")
STREAMS = (1, 10)
VALIDITY_DAYS = (1, 400)
MAX_PLAN_NAME = 60
MAX_DESCRIPTION = 500


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
    until their next renewal (the billing job charges the plan's price then, with a `price_changed` event).
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
