"""Admin management of plans, each change audited in its own transaction.

Every function takes `acting_user_id` and checks the role here (`users.require_role`), not in the
page. Refusals a person can fix raise `AdminError` (or a subclass naming the case) with a message to
show; non-admins get `NotAuthorised`. Accounts are in backend.admin.accounts, titles in backend.admin.content.

A plan has the requirements' fields: name, price, validity_days (it drives the billing period:
backend.billing.lifecycle.billing_period_for), access_level, max_devices_allowed, resolution,
description and is_active. An edit of a plan people subscribe to reaches them at their next renewal
(price and terms alike: each subscription keeps the terms of the period it is in).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

from backend.admin.checks import (
    AdminError,
    LastPlanOnSale,
    PlanHasSubscribers,
    PlanNameTaken,
    one_of,
    parse_price,
    require_admin,
    whole_number,
)
from backend.billing.errors import PlanNotFound
from backend.billing.lifecycle import billing_period_for
from backend.catalogue.rules import ACCESS_LEVELS
from backend.core import audit
from backend.core.clock import clock

RESOLUTIONS = ("480p", "720p", "1080p", "4K")
DEVICES = (1, 10)
VALIDITY_DAYS = (1, 400)
MAX_PLAN_NAME = 60
MAX_DESCRIPTION = 500


@dataclass(frozen=True)
class PlanInput:
    """A plan as the admin enters it (strings from a form are fine: `check_plan` parses and validates)."""

    name: str
    price: str | Decimal
    validity_days: int | str = 30
    max_devices_allowed: int | str = 1
    resolution: str = "1080p"
    access_level: str = "basic"
    description: str = ""
    is_active: bool = True


def check_plan(plan: PlanInput) -> dict:
    """The validated plan's columns (`billing_period` derived from `validity_days`), or AdminError naming the
    first field that is wrong."""
    name = " ".join((plan.name or "").split())
    if not name:
        raise AdminError("Enter the plan's name.", field="name")
    if len(name) > MAX_PLAN_NAME:
        raise AdminError(f"Plan names are at most {MAX_PLAN_NAME} characters.", field="name")
    description = (plan.description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise AdminError(f"The description is at most {MAX_DESCRIPTION} characters.", field="description")
    validity = whole_number(plan.validity_days, "Validity days", *VALIDITY_DAYS, field="validity_days")
    return {
        "name": name,
        "price": parse_price(plan.price),
        "validity_days": validity,
        "billing_period": billing_period_for(validity),
        "max_devices_allowed": whole_number(
            plan.max_devices_allowed, "Devices at once", *DEVICES, field="max_devices_allowed"
        ),
        "resolution": one_of(plan.resolution, "The resolution", RESOLUTIONS, field="resolution"),
        "access_level": one_of(plan.access_level, "The access level", ACCESS_LEVELS, field="access_level"),
        "description": description,
        "is_active": bool(plan.is_active),
    }


PLAN_FIELDS = (
    "name",
    "price",
    "validity_days",
    "billing_period",
    "max_devices_allowed",
    "resolution",
    "access_level",
    "description",
    "is_active",
)
INPUT_FIELDS = tuple(PlanInput.__dataclass_fields__)


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
        raise PlanNotFound("There is no such plan.")
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


def _live_subscribers(conn: Connection, plan_id: int) -> int:
    return conn.execute(
        text("SELECT count(*) FROM subscriptions WHERE plan_id = :id AND status IN ('trialing', 'active', 'past_due')"),
        {"id": plan_id},
    ).scalar_one()


NAME_TAKEN = "Another plan already has this name. Choose another."


def _unique_name_guard(error: IntegrityError) -> None:
    if "plans_name_key" in str(error.orig):
        raise PlanNameTaken(NAME_TAKEN, field="name") from None
    raise error


def _off_sale_check(conn: Connection, plan_id: int) -> None:
    others = conn.execute(
        text("SELECT count(*) FROM plans WHERE is_active AND plan_id <> :id"), {"id": plan_id}
    ).scalar_one()
    if others == 0:
        raise LastPlanOnSale("This is the only plan on sale. Create or activate another plan first.", field="is_active")


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
            ORDER BY NOT p.is_active, p.billing_period, p.price, p.name, p.plan_id""")
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


def get_plan(engine: Engine, plan_id: int, *, acting_user_id: int | None) -> dict:
    """One plan as `list_plans` shows it; PlanNotFound when there is none."""
    found = next((p for p in list_plans(engine, acting_user_id=acting_user_id) if p["plan_id"] == plan_id), None)
    if found is None:
        raise PlanNotFound("There is no such plan.")
    return found


def create_plan(engine: Engine, plan: PlanInput, *, acting_user_id: int | None, now: datetime | None = None) -> int:
    """A new plan, on sale at once unless `is_active` is False. Returns its id."""
    actor = require_admin(engine, acting_user_id)
    values, now = check_plan(plan), clock(now)
    try:
        with engine.begin() as conn:
            if _name_taken(conn, values["name"], None):
                raise PlanNameTaken(NAME_TAKEN, field="name")
            plan_id = conn.execute(
                text("""
                INSERT INTO plans (name, price, billing_period, validity_days, max_devices_allowed, resolution,
                                   access_level, description, is_active, created_at, updated_at)
                VALUES (:name, :price, :billing_period, :validity_days, :max_devices_allowed, :resolution,
                        :access_level, :description, :is_active, :now, :now)
                RETURNING plan_id"""),
                values | {"now": now},
            ).scalar_one()
            audit.record(conn, actor, "plan.create", "plan", plan_id, None, values, now)
    except IntegrityError as error:
        _unique_name_guard(error)
    return plan_id


@dataclass(frozen=True)
class PlanChange:
    """What an edit changed, and how many live subscribers keep their current terms until their next renewal."""

    changed: dict
    live_subscribers: int


def update_plan(
    engine: Engine, plan_id: int, plan: PlanInput, *, acting_user_id: int | None, now: datetime | None = None
) -> dict:
    """Replace a plan's fields (every field of `plan`). Returns the changed fields (see `change_plan`)."""
    return change_plan(engine, plan_id, asdict(plan), acting_user_id=acting_user_id, now=now).changed


def change_plan(
    engine: Engine,
    plan_id: int,
    changes: Mapping[str, object],
    *,
    acting_user_id: int | None,
    now: datetime | None = None,
) -> PlanChange:
    """Change the given fields of a plan (the others stay as they are).

    New periods only: a subscriber keeps the price, validity, access level, devices and resolution of the
    period they are in, and gets the plan as it is now from their next renewal (the billing job charges
    the new price then, with a `price_changed` event, and tells them of new terms). Taking the plan off
    sale keeps its subscribers on it; the last plan on sale cannot be taken off sale."""
    actor = require_admin(engine, acting_user_id)
    unknown = set(changes) - set(INPUT_FIELDS)
    if unknown:
        raise AdminError(f"Plans have no field {', '.join(sorted(unknown))}.", field=sorted(unknown)[0])
    now = clock(now)
    try:
        with engine.begin() as conn:
            before = _plan(conn, plan_id, lock=True)
            values = check_plan(PlanInput(**({k: before[k] for k in INPUT_FIELDS} | dict(changes))))
            if _name_taken(conn, values["name"], plan_id):
                raise PlanNameTaken(NAME_TAKEN, field="name")
            if before["is_active"] and not values["is_active"]:
                _off_sale_check(conn, plan_id)
            old, new = audit.changed_fields({k: before[k] for k in values}, values)
            if not new:
                return PlanChange({}, _live_subscribers(conn, plan_id))
            conn.execute(
                text("""
                UPDATE plans SET name = :name, price = :price, billing_period = :billing_period,
                       validity_days = :validity_days, max_devices_allowed = :max_devices_allowed,
                       resolution = :resolution, access_level = :access_level, description = :description,
                       is_active = :is_active, updated_at = :now
                WHERE plan_id = :id"""),
                values | {"now": now, "id": plan_id},
            )
            audit.record(conn, actor, "plan.update", "plan", plan_id, old, new, now)
            live = _live_subscribers(conn, plan_id)
    except IntegrityError as error:
        _unique_name_guard(error)
    return PlanChange(new, live)


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
            _off_sale_check(conn, plan_id)
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
    """Delete a plan nobody ever subscribed to; a plan with subscribers is taken off sale, never deleted."""
    actor = require_admin(engine, acting_user_id)
    now = clock(now)
    with engine.begin() as conn:
        before = _plan(conn, plan_id, lock=True)
        if _subscribers(conn, plan_id):
            raise PlanHasSubscribers("This plan has subscribers, so it cannot be deleted. Deactivate it instead.")
        conn.execute(text("DELETE FROM plans WHERE plan_id = :id"), {"id": plan_id})
        audit.record(conn, actor, "plan.delete", "plan", plan_id, before, None, now)
