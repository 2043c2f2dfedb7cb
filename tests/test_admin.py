"""Admin management of plans and accounts, and the audit log: every rule, every bad input (a clear
message and nothing changed), the role checked in the backend, and an audit row with before and after."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from backend.accounts import errors as account_errors
from backend.accounts import passwords, sessions, users
from backend.admin import accounts as account_admin
from backend.admin import audit_log
from backend.admin import plans as plan_admin
from backend.admin.checks import AdminError
from backend.admin.plans import PlanInput
from backend.billing import checkout as billing_checkout
from backend.billing import gateway, lifecycle, plans, statements, subscriptions
from backend.billing import job as billing_job
from backend.billing import state as billing_state
from backend.billing.errors import PlanNotFound
from backend.core import audit
from backend.core import errors as core_errors

PASSWORD = "correct horse 42"


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    """Accounts are not what these tests are about: cheaper bcrypt for the ones they create."""
    monkeypatch.setattr(passwords, "BCRYPT_COST", 4)


@pytest.fixture
def staff(engine):
    earlier = datetime.now(UTC) - timedelta(hours=1)
    return {
        role: users.register(engine, f"{role}@example.com", f"{role.title()} One", PASSWORD, role=role, now=earlier)
        for role in users.ROLES
    }


@pytest.fixture
def admin_id(staff):
    return staff["admin"].user_id


def plan_rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT * FROM plans ORDER BY plan_id"))]


def audit_rows(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text("SELECT * FROM audit_log ORDER BY audit_id")).mappings()]


GOOD = PlanInput(
    name="Family",
    price="24.99",
    validity_days=31,
    max_devices_allowed=6,
    resolution="4K",
    access_level="premium",
    description="Six screens.",
)


def test_create_plan_is_on_sale_at_once_and_audited(engine, admin_id):
    plan_id = plan_admin.create_plan(engine, GOOD, acting_user_id=admin_id)
    on_sale = {p.name: p for p in plans.active_plans(engine)}
    assert on_sale["Family"].plan_id == plan_id and on_sale["Family"].price == Decimal("24.99")
    assert on_sale["Family"].max_devices_allowed == 6 and on_sale["Family"].billing_period == "month"
    [row] = audit_rows(engine)
    assert (row["action"], row["target_type"], row["target_key"], row["actor_user_id"], row["actor_email"]) == (
        "plan.create",
        "plan",
        str(plan_id),
        admin_id,
        "admin@example.com",
    )
    assert row["before"] is None and row["after"]["price"] == "24.99" and row["after"]["name"] == "Family"


BAD_PLANS = [
    ({"price": "-1"}, "above 0 and at most 1,000.00"),
    ({"price": "0"}, "above 0 and at most 1,000.00"),
    ({"price": "1000.01"}, "above 0 and at most 1,000.00"),
    ({"price": "12.999"}, "at most two decimals"),
    ({"price": "twelve"}, "Enter the price as a number"),
    ({"price": "NaN"}, "Enter the price as a number"),
    ({"name": "   "}, "Enter the plan's name."),
    ({"name": "x" * 61}, "at most 60 characters"),
    ({"max_devices_allowed": 0}, "Devices at once must be from 1 to 10."),
    ({"max_devices_allowed": 11}, "Devices at once must be from 1 to 10."),
    ({"max_devices_allowed": "two"}, "Devices at once must be a whole number"),
    ({"validity_days": 0}, "Validity days must be from 1 to 400."),
    ({"validity_days": 401}, "Validity days must be from 1 to 400."),
    ({"resolution": "8K"}, "The resolution must be one of: 480p, 720p, 1080p, 4K."),
    ({"access_level": "gold"}, "The access level must be one of: free, basic, premium."),
    ({"description": "d" * 501}, "at most 500 characters"),
]


def test_bad_plan_input_is_refused_with_a_clear_message_and_nothing_changes(engine, admin_id):
    plan_id = plan_admin.create_plan(engine, GOOD, acting_user_id=admin_id)
    before, logged = plan_rows(engine), audit_rows(engine)
    for change, message in BAD_PLANS:
        bad = PlanInput(**{**GOOD.__dict__, **change})
        for attempt, args in (
            (plan_admin.create_plan, (engine, bad)),
            (plan_admin.update_plan, (engine, plan_id, bad)),
        ):
            with pytest.raises(AdminError) as refused:
                attempt(*args, acting_user_id=admin_id)
            assert message in str(refused.value), (change, str(refused.value))
    assert plan_rows(engine) == before and audit_rows(engine) == logged


def test_price_bounds_are_inclusive_of_1000(engine, admin_id):
    plan_id = plan_admin.create_plan(engine, PlanInput(**{**GOOD.__dict__, "price": "1000"}), acting_user_id=admin_id)
    assert plan_admin.list_plans(engine, acting_user_id=admin_id)[0]["price"] == Decimal("1000.00")
    assert plan_id


def test_duplicate_names_are_refused_whatever_the_case(engine, admin_id):
    plan_admin.create_plan(engine, GOOD, acting_user_id=admin_id)
    other = plan_admin.create_plan(engine, PlanInput(**{**GOOD.__dict__, "name": "Solo"}), acting_user_id=admin_id)
    before = plan_rows(engine)
    with pytest.raises(AdminError, match="Another plan already has this name"):
        plan_admin.create_plan(engine, PlanInput(**{**GOOD.__dict__, "name": " family "}), acting_user_id=admin_id)
    with pytest.raises(AdminError, match="Another plan already has this name"):
        plan_admin.update_plan(engine, other, PlanInput(**{**GOOD.__dict__, "name": "FAMILY"}), acting_user_id=admin_id)
    assert plan_rows(engine) == before


def test_non_admins_are_refused_in_the_backend(engine, staff):
    plan_id = plan_admin.create_plan(engine, GOOD, acting_user_id=staff["admin"].user_id)
    member = staff["subscriber"]
    for who in (None, member.user_id, staff["analyst"].user_id, 10**12):
        calls = [
            (plan_admin.create_plan, engine, GOOD),
            (plan_admin.update_plan, engine, plan_id, GOOD),
            (plan_admin.set_plan_active, engine, plan_id, False),
            (plan_admin.delete_plan, engine, plan_id),
            (plan_admin.list_plans, engine),
            (account_admin.search_users, engine, ""),
            (account_admin.account_page, engine, member.user_id),
            (account_admin.change_role, engine, member.user_id, "admin"),
            (account_admin.suspend, engine, member.user_id),
            (account_admin.restore, engine, member.user_id),
            (audit_log.entries, engine),
            (audit_log.actions, engine),
        ]
        for function, *args in calls:
            with pytest.raises(core_errors.NotAuthorised):
                function(*args, acting_user_id=who)
    assert users.get_user(engine, member.user_id).role == "subscriber"
    assert [r["action"] for r in audit_rows(engine)] == ["plan.create"]


def test_a_suspended_admin_is_refused(engine, staff):
    other = users.register(engine, "admin2@example.com", "Admin Two", PASSWORD, role="admin")
    account_admin.suspend(engine, other.user_id, acting_user_id=staff["admin"].user_id)
    with pytest.raises(core_errors.NotAuthorised):
        plan_admin.list_plans(engine, acting_user_id=other.user_id)


def paying_member(engine, plan_id: int, start: datetime) -> users.User:
    member = users.register(engine, "payer@example.com", "Pat Payer", PASSWORD, now=start - timedelta(minutes=1))
    billing_checkout.checkout(
        engine,
        member.user_id,
        plan_id,
        billing_state.CardDetails(gateway.SUCCESS_CARD, 12, 2035, "123"),
        "k1",
        now=start,
    )
    return member


def test_a_price_change_applies_to_new_periods_only(engine, admin_id):
    plan_id = plan_admin.create_plan(engine, GOOD, acting_user_id=admin_id)
    start = datetime.now(UTC) - timedelta(days=lifecycle.trial_days() + 40)
    member = paying_member(engine, plan_id, start)
    billing_job.settle_account(engine, gateway.default_gateway(), member.user_id, start + timedelta(days=10))
    assert subscriptions.current(engine, member.user_id).price == Decimal("24.99")

    changed = plan_admin.update_plan(
        engine,
        plan_id,
        PlanInput(**{**GOOD.__dict__, "price": "29.99"}),
        acting_user_id=admin_id,
        now=start + timedelta(days=11),
    )
    assert changed == {"price": Decimal("29.99")}
    assert subscriptions.current(engine, member.user_id).price == Decimal("24.99")  # this period: as agreed
    billing_job.settle_account(engine, gateway.default_gateway(), member.user_id, datetime.now(UTC))
    paid = [(p["amount"], p["status"]) for p in statements.billing_history(engine, member.user_id)]
    assert paid[-1] == (Decimal("24.99"), "succeeded") and paid[0] == (Decimal("29.99"), "succeeded")
    row = audit_rows(engine)[-1]
    assert (row["action"], row["before"], row["after"]) == ("plan.update", {"price": "24.99"}, {"price": "29.99"})


def test_an_edit_without_changes_writes_nothing(engine, admin_id):
    plan_id = plan_admin.create_plan(engine, GOOD, acting_user_id=admin_id)
    assert plan_admin.update_plan(engine, plan_id, GOOD, acting_user_id=admin_id) == {}
    assert len(audit_rows(engine)) == 1


def test_a_plan_with_subscribers_is_deactivated_never_deleted(engine, admin_id):
    plan_id = plan_admin.create_plan(engine, GOOD, acting_user_id=admin_id)
    plan_admin.create_plan(engine, PlanInput(**{**GOOD.__dict__, "name": "Solo"}), acting_user_id=admin_id)
    member = paying_member(engine, plan_id, datetime.now(UTC) - timedelta(days=1))
    with pytest.raises(AdminError, match=re.escape("has subscribers, so it cannot be deleted. Deactivate it instead.")):
        plan_admin.delete_plan(engine, plan_id, acting_user_id=admin_id)
    plan_admin.set_plan_active(engine, plan_id, False, acting_user_id=admin_id)
    assert "Family" not in [p.name for p in plans.active_plans(engine)]
    assert subscriptions.current(engine, member.user_id).plan_id == plan_id  # the member keeps it
    plan_admin.set_plan_active(engine, plan_id, True, acting_user_id=admin_id)
    assert "Family" in [p.name for p in plans.active_plans(engine)]
    assert [(r["action"], r["before"], r["after"]) for r in audit_rows(engine)][-2:] == [
        ("plan.deactivate", {"is_active": True}, {"is_active": False}),
        ("plan.activate", {"is_active": False}, {"is_active": True}),
    ]


def test_an_unused_plan_can_be_deleted_but_not_the_last_one_on_sale_deactivated(engine, admin_id):
    plan_id = plan_admin.create_plan(engine, GOOD, acting_user_id=admin_id)
    with pytest.raises(AdminError, match="only plan on sale"):
        plan_admin.set_plan_active(engine, plan_id, False, acting_user_id=admin_id)
    plan_admin.delete_plan(engine, plan_id, acting_user_id=admin_id)
    assert plan_rows(engine) == []
    assert audit_rows(engine)[-1]["before"]["name"] == "Family"
    with pytest.raises(PlanNotFound, match=re.escape("There is no such plan.")):  # a 404 in the API
        plan_admin.update_plan(engine, plan_id, GOOD, acting_user_id=admin_id)


# --- accounts ---------------------------------------------------------------------------------------


def test_suspension_blocks_sign_in_and_ends_an_existing_session_at_once(engine, staff, admin_id):
    member = staff["subscriber"]
    signed_in = sessions.authenticate(engine, member.email, PASSWORD)
    cookie_expires = datetime.now(UTC) + timedelta(days=sessions.SESSION_DAYS)  # a cookie issued just now
    assert sessions.session_user(engine, signed_in.email, cookie_expires) is not None

    account_admin.suspend(engine, member.user_id, acting_user_id=admin_id)
    assert sessions.session_user(engine, member.email, cookie_expires) is None
    with pytest.raises(account_errors.AccountError, match="suspended"):
        sessions.authenticate(engine, member.email, PASSWORD)

    account_admin.restore(engine, member.user_id, acting_user_id=admin_id)
    assert sessions.authenticate(engine, member.email, PASSWORD).user_id == member.user_id
    assert sessions.session_user(engine, member.email, cookie_expires) is None  # the old cookie stays dead
    new_cookie = datetime.now(UTC) + timedelta(days=sessions.SESSION_DAYS, seconds=1)
    assert sessions.session_user(engine, member.email, new_cookie) is not None
    suspend_row, restore_row = audit_rows(engine)
    assert suspend_row["action"] == "user.suspend" and suspend_row["before"]["suspended_at"] is None
    assert suspend_row["after"]["suspended_at"] is not None and suspend_row["target_key"] == str(member.user_id)
    assert restore_row["action"] == "user.restore" and restore_row["after"]["suspended_at"] is None


def test_admins_cannot_suspend_or_demote_themselves_and_repeats_are_refused(engine, staff, admin_id):
    with pytest.raises(AdminError, match="your own account"):
        account_admin.suspend(engine, admin_id, acting_user_id=admin_id)
    with pytest.raises(AdminError, match="your own account"):
        account_admin.change_role(engine, admin_id, "subscriber", acting_user_id=admin_id)
    member = staff["subscriber"].user_id
    with pytest.raises(AdminError, match="not suspended"):
        account_admin.restore(engine, member, acting_user_id=admin_id)
    account_admin.suspend(engine, member, acting_user_id=admin_id)
    with pytest.raises(AdminError, match="already suspended"):
        account_admin.suspend(engine, member, acting_user_id=admin_id)
    with pytest.raises(AdminError, match="no such account"):
        account_admin.suspend(engine, 10**12, acting_user_id=admin_id)
    assert [r["action"] for r in audit_rows(engine)] == ["user.suspend"]


def test_change_role_is_audited_and_unknown_roles_refused(engine, staff, admin_id):
    member = staff["subscriber"].user_id
    with pytest.raises(AdminError, match=re.escape("The role must be one of: subscriber, admin, analyst.")):
        account_admin.change_role(engine, member, "superuser", acting_user_id=admin_id)
    account_admin.change_role(engine, member, "analyst", acting_user_id=admin_id)
    assert users.get_user(engine, member).role == "analyst"
    [row] = audit_rows(engine)
    assert (row["before"]["role"], row["after"]["role"]) == ("subscriber", "analyst")


def test_search_and_account_page(engine, staff, admin_id):
    plan_id = plan_admin.create_plan(engine, GOOD, acting_user_id=admin_id)
    member = paying_member(engine, plan_id, datetime.now(UTC) - timedelta(days=1))
    assert [r.email for r in account_admin.search_users(engine, "PAT pay", acting_user_id=admin_id)] == [member.email]
    assert [r.email for r in account_admin.search_users(engine, "", role="analyst", acting_user_id=admin_id)] == [
        "analyst@example.com"
    ]
    assert [r.user_id for r in account_admin.search_users(engine, str(member.user_id), acting_user_id=admin_id)] == [
        member.user_id
    ]
    assert account_admin.search_users(engine, "%", acting_user_id=admin_id) == []  # no wildcards
    page = account_admin.account_page(engine, member.user_id, acting_user_id=admin_id)
    assert page["account"]["email"] == member.email and "password_hash" not in page["account"]
    assert page["subscription"]["plan_name"] == "Family" and page["subscription"]["status"] == "trialing"
    assert page["billing"] == [] and page["viewing"] == [] and page["profiles"][0]["name"] == "Pat"


def test_audit_log_filters(engine, staff, admin_id):
    plan_id = plan_admin.create_plan(engine, GOOD, acting_user_id=admin_id)
    account_admin.suspend(engine, staff["subscriber"].user_id, acting_user_id=admin_id)
    assert [e["action"] for e in audit_log.entries(engine, acting_user_id=admin_id)] == ["user.suspend", "plan.create"]
    assert [e["action"] for e in audit_log.entries(engine, acting_user_id=admin_id, action="plan.")] == ["plan.create"]
    assert [
        e["target_key"]
        for e in audit_log.entries(engine, acting_user_id=admin_id, target_type="plan", target_key=str(plan_id))
    ] == [str(plan_id)]
    assert audit_log.entries(engine, acting_user_id=admin_id, actor_email="nobody") == []
    today = datetime.now(UTC).date()
    assert len(audit_log.entries(engine, acting_user_id=admin_id, since=today, until=today)) == 2
    assert audit_log.entries(engine, acting_user_id=admin_id, until=today - timedelta(days=1)) == []
    assert audit_log.actions(engine, acting_user_id=admin_id) == ["plan.create", "user.suspend"]


def test_a_failed_change_leaves_no_audit_row(engine, admin_id, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        plan_admin.create_plan(engine, GOOD, acting_user_id=admin_id)
    assert plan_rows(engine) == []  # the change and its audit row commit together, or neither
