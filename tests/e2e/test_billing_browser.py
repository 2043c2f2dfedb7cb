"""The billing journey in headless Chromium against `streamlit run`: choose a plan, start the trial with
the success card, see what the plan includes, (trial converts: paid), downgrade, cancel, the period
ends, resubscribe; the decline card shows a clear message and charges nothing.

Time is moved by editing the subscription's dates and running the billing job from the test, as the
app's own scheduler would when the dates come."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from backend.billing import job as billing_job
from backend.billing import plans
from tests.e2e.conftest import ARTIFACTS, wait_for_app
from tests.e2e.test_accounts_browser import fresh_email, register

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def db(module_db_url):
    engine = create_engine(module_db_url, poolclass=NullPool)
    with engine.begin() as conn:
        plans.ensure_default_plans(conn)
    yield engine
    engine.dispose()


def user_id(db, email: str) -> int:
    with db.connect() as conn:
        return conn.execute(text("SELECT user_id FROM users WHERE email = :e"), {"e": email}).scalar_one()


def payments(db, uid: int) -> list[tuple]:
    with db.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text("SELECT amount, status, kind FROM payment_attempts WHERE user_id = :u ORDER BY payment_id"),
                {"u": uid},
            )
        ]


def due_now(db, uid: int, column: str) -> None:
    """Bring the subscription's next date to a minute ago and run the billing job."""
    with db.begin() as conn:
        conn.execute(
            text(
                f"UPDATE subscriptions SET {column} = :t WHERE user_id = :u "
                "AND status IN ('trialing', 'active', 'past_due')"
            ),
            {"t": datetime.now(UTC) - timedelta(minutes=1), "u": uid},
        )
    billing_job.run(db)


def go(page, app_server, path: str) -> None:
    page.goto(f"{app_server}/{path}")
    wait_for_app(page)


def fill_card(page, number: str) -> None:
    page.get_by_role("textbox", name="Card number").fill(number)
    page.get_by_role("textbox", name="CVC").fill("123")


def test_choose_pay_downgrade_cancel_resubscribe(page, app_server, db):
    email = fresh_email("payer")
    register(page, app_server, email)
    uid = user_id(db, email)

    go(page, app_server, "plans")
    page.get_by_role("button", name="Choose").nth(1).click()  # Standard (monthly plans come first, by price)
    wait_for_app(page)
    expect(page.get_by_text("Check out: Standard")).to_be_visible()
    fill_card(page, "4242 4242 4242 4242")
    page.get_by_role("button", name="Start 7-day free trial").click()
    expect(page.get_by_text("Your free trial of Standard has started.")).to_be_visible()
    expect(page.get_by_text("Your plan includes every title, the newest included")).to_be_visible()
    assert payments(db, uid) == []  # a trial charges nothing

    due_now(db, uid, "trial_end")  # the trial ends: the success card is charged
    assert [(str(a), s) for a, s, _ in payments(db, uid)] == [("13.99", "succeeded")]
    go(page, app_server, "subscription")
    expect(page.get_by_text("Active · USD 13.99 / month")).to_be_visible()

    page.get_by_label("New plan").click()
    page.get_by_role("option", name="Basic (USD 7.99 / month)").click()
    page.get_by_role("button", name="Change plan").click()
    expect(page.get_by_text("You move to Basic on your next billing date")).to_be_visible()
    expect(page.get_by_text("Changes to Basic on")).to_be_visible()

    page.get_by_role("button", name="Cancel subscription").click()
    expect(page.get_by_text("Cancelled. You can watch until")).to_be_visible()
    expect(page.get_by_role("button", name="Resume subscription")).to_be_visible()

    due_now(db, uid, "current_period_end")  # the paid period ends: voluntary churn
    go(page, app_server, "subscription")
    expect(page.get_by_text("Your subscription has ended. Resubscribe to keep watching.")).to_be_visible()
    page.get_by_role("link", name="Resubscribe").click()
    wait_for_app(page)
    page.get_by_role("button", name="Choose").nth(1).click()
    wait_for_app(page)
    expect(page.get_by_role("button", name="Pay USD 13.99")).to_be_visible()
    page.get_by_text("Pay with my saved Visa ending 4242").click()  # untick: pay with another card

    fill_card(page, "4000 0000 0000 0002")
    page.get_by_role("button", name="Pay USD 13.99").click()
    expect(page.get_by_text("Your card was declined. Nothing was charged.")).to_be_visible()
    assert len(payments(db, uid)) == 1  # nothing charged, nothing recorded as a payment

    fill_card(page, "4242 4242 4242 4242")
    page.get_by_role("button", name="Pay USD 13.99").click()
    expect(page.get_by_text("Payment received: welcome to Standard!")).to_be_visible()
    expect(page.get_by_text("Your plan includes every title, the newest included")).to_be_visible()
    assert [(str(a), s, k) for a, s, k in payments(db, uid)] == [
        ("13.99", "succeeded", "conversion"),
        ("13.99", "succeeded", "checkout"),
    ]
    with db.connect() as conn:
        kinds = (
            conn.execute(text("SELECT kind FROM subscription_events WHERE user_id = :u ORDER BY event_id"), {"u": uid})
            .scalars()
            .all()
        )
    assert kinds == [
        "trial_started",
        "trial_converted",
        "downgrade_scheduled",
        "cancel_scheduled",
        "churned",
        "reactivated",
    ]


def test_a_member_chooses_the_notes_and_genres_they_get(page, app_server, db):
    with db.begin() as conn:
        for name in ("Documentaries", "Stand-Up Comedy"):
            conn.execute(text("INSERT INTO genres (name) VALUES (:n) ON CONFLICT DO NOTHING"), {"n": name})
    email = fresh_email("notes")
    register(page, app_server, email)
    uid = user_id(db, email)
    go(page, app_server, "account")
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    page.get_by_text("Reminders 3 days before a renewal").click()  # untick
    genres = page.locator("[data-testid='stMultiSelect']").filter(has_text="My genres for the new-titles note")
    genres.locator("input").click()
    page.get_by_role("option", name="Documentaries", exact=True).click()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Save notification settings").click()
    expect(page.get_by_text("Notification settings saved.")).to_be_visible()
    with db.connect() as conn:
        saved = conn.execute(
            text("SELECT reminders, new_titles, email FROM notification_preferences WHERE user_id = :u"), {"u": uid}
        ).one()
        followed = conn.execute(
            text("SELECT g.name FROM followed_genres f JOIN genres g USING (genre_id) WHERE f.user_id = :u"),
            {"u": uid},
        ).scalars()
        assert tuple(saved) == (False, True, True) and list(followed) == ["Documentaries"]
    go(page, app_server, "account")  # what was saved is what the page shows next time
    expect(page.get_by_role("checkbox", name=re.compile("^Reminders 3 days before a renewal"))).not_to_be_checked()
    expect(genres).to_contain_text("Documentaries")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    expect(page.get_by_role("button", name="Save notification settings")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "notification_settings_phone.png"), full_page=True)
