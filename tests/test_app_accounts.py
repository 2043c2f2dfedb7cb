"""The account pages under AppTest. A signed-in member is faked the way the authenticator sets the
session state; the app still checks that session against the database on every run."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from backend.accounts import details, sessions, users
from backend.accounts import profiles as viewing_profiles
from backend.core import errors as core_errors
from tests.conftest import APP, app_as

pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")
PASSWORD = "correct horse 42"


@pytest.fixture
def member(engine):
    return users.register(
        engine, "member@example.com", "Mia Member", PASSWORD, now=datetime.now(UTC) - timedelta(minutes=1)
    )


@pytest.fixture
def admin(engine):
    return users.register(
        engine, "boss@example.com", "Ada Admin", PASSWORD, role="admin", now=datetime.now(UTC) - timedelta(minutes=1)
    )


def test_guests_get_browse_sign_in_and_register(db_url):
    at = app_as(None)
    assert not at.exception
    with pytest.raises(Exception, match="account"):
        at.switch_page("pages/account.py")
    at = app_as(None)
    at.switch_page("pages/sign_in.py").run()
    assert at.title[0].value == "Sign in"


def test_register_page_creates_the_account(engine):
    at = app_as(None).switch_page("pages/register.py").run()
    at.text_input[0].input("Zoë <script>x</script>")
    at.text_input[1].input("new@example.com")
    at.text_input[2].input(PASSWORD)
    at.text_input[3].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert "You are signed in" in at.success[0].value
    assert users.find_user_by_email(engine, "NEW@example.com").display_name == "Zoë <script>x</script>"


@pytest.mark.parametrize(
    ("name", "email", "password", "again", "message"),
    [
        ("A", "a@example.com", "short", "short", "At least 10 characters"),
        ("A", "not an email", PASSWORD, PASSWORD, "valid email"),
        ("A", "a@example.com", PASSWORD, PASSWORD + "x", "differ"),
        ("", "a@example.com", PASSWORD, PASSWORD, "Enter your name"),
    ],
)
def test_register_page_refuses_bad_input_with_a_message(engine, name, email, password, again, message):
    at = app_as(None).switch_page("pages/register.py").run()
    for field, value in zip(at.text_input, (name, email, password, again), strict=True):
        field.input(value)
    at.button[0].click().run()
    assert message in at.error[0].value
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 0


def test_duplicate_email_message(member):
    at = app_as(None).switch_page("pages/register.py").run()
    for field, value in zip(at.text_input, ("Other", "Member@Example.com", PASSWORD, PASSWORD), strict=True):
        field.input(value)
    at.button[0].click().run()
    assert "already exists" in at.error[0].value


def test_sign_in_page_wrong_password_then_lock(member):
    at = app_as(None).switch_page("pages/sign_in.py").run()
    for attempt in range(sessions.FAILURES_BEFORE_LOCK):
        at.text_input[0].input("member@example.com")
        at.text_input[1].input("wrong password 1")
        at.button[0].click().run()
        expected = (
            sessions.SIGN_IN_FAILED if attempt < sessions.FAILURES_BEFORE_LOCK - 1 else "Too many failed sign-ins"
        )
        assert expected in at.error[0].value


def test_members_get_profiles_and_account_not_admin(member):
    at = app_as(member)
    assert not at.exception
    assert at.sidebar.selectbox[0].label == "Watching as"
    at.switch_page("pages/profiles.py").run()
    assert at.title[0].value == "Who's watching?"
    with pytest.raises(Exception, match="admin"):
        app_as(member).switch_page("pages/admin.py")


def test_a_signed_out_session_is_not_accepted(engine, member):
    sessions.sign_out_everywhere(engine, member.user_id, now=datetime.now(UTC) + timedelta(seconds=1))
    at = app_as(member)  # the faked cookie was issued before the sign-out
    assert not at.exception
    assert at.session_state["authentication_status"] is None


def test_admin_sees_the_overview(admin, member):
    at = app_as(admin).switch_page("pages/admin.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert dict(zip(table["role"], table["accounts"], strict=True)) == {"admin": 1, "subscriber": 1}


def test_admin_overview_refuses_a_demoted_admin(engine, admin):
    at = app_as(admin).switch_page("pages/admin.py").run()
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET role = 'subscriber' WHERE user_id = :i"), {"i": admin.user_id})
    with pytest.raises(core_errors.NotAuthorised):
        users.accounts_by_role(engine, acting_user_id=admin.user_id)
    at.run()  # checked again on the server: no admin data for a subscriber
    assert not at.exception
    assert not at.dataframe
    assert at.title[0].value == "Browse" or "do not have access" in at.error[0].value


def test_kids_profile_is_created_from_the_page(engine, member):
    at = app_as(member).switch_page("pages/profiles.py").run()
    at.text_input[0].input("Little ones")
    at.checkbox[0].check()
    at.button[0].click().run()
    assert not at.exception
    profiles = viewing_profiles.list_profiles(engine, member.user_id)
    assert [(p.name, p.is_kids) for p in profiles] == [("Mia", False), ("Little ones", True)]
    # (The switch to the new profile is checked in the browser: AppTest drops the sidebar's
    # widget state after switch_page.)


HUGE = "<script>alert(1)</script>" + "x" * 10_000


@pytest.mark.parametrize("page", ["pages/sign_in.py", "pages/register.py", "pages/forgot_password.py"])
def test_guest_forms_take_huge_markup_input_cleanly(engine, page):
    at = app_as(None).switch_page(page).run()
    for field in at.text_input:
        field.set_value(HUGE)
    at.button[0].click().run()
    assert not at.exception
    if page != "pages/forgot_password.py":
        assert at.error  # refused with a message
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 0


def test_account_forms_take_huge_markup_input_cleanly(engine, member):
    at = app_as(member).switch_page("pages/account.py").run()
    for field in at.text_input:
        field.set_value(HUGE)
    at.text_area[0].set_value(HUGE)
    forms = ("Save profile", "Send a confirmation link", "Change password")
    for button in [b for b in at.button if b.label in forms]:
        button.click().run()
        assert not at.exception
        assert at.error  # each form refuses with a message
    assert details.details(engine, member.user_id).display_name == "Mia Member"  # nothing changed


def test_account_page_saves_details(engine, member):
    at = app_as(member).switch_page("pages/account.py").run()
    name, phone = at.text_input[0], at.text_input[1]
    name.set_value("Mia M.")
    phone.set_value("+1 415 555 2671")
    at.text_area[0].set_value("Likes <i>noir</i>")
    at.button[0].click().run()  # the details form's button comes first
    assert not at.exception
    assert "Profile saved." in at.success[0].value
    saved = details.details(engine, member.user_id)
    assert (saved.display_name, saved.phone_e164, saved.bio) == ("Mia M.", "+14155552671", "Likes <i>noir</i>")
    assert "Likes <i>noir</i>" in [t.value for t in at.text]  # shown at once, as plain text


def test_forgot_password_answers_the_same_for_unknown_addresses(engine, member):
    messages = []
    for email in ("member@example.com", "nobody@example.com"):
        at = app_as(None).switch_page("pages/forgot_password.py").run()
        at.text_input[0].input(email)
        at.button[0].click().run()
        messages.append(at.info[0].value)
    assert messages[0] == messages[1]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM email_outbox")).scalar() == 1


def test_reset_and_confirm_pages_refuse_a_bad_link(db_url):
    at = app_as(None).switch_page("pages/reset_password.py").run()
    assert "invalid" in at.error[0].value  # no token at all
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["token"] = "1.forged"
    at.run().switch_page("pages/confirm_email.py").run()
    assert not at.exception
    assert "invalid" in at.error[0].value


def test_guests_see_only_active_plans_with_their_prices(engine):
    with engine.begin() as conn:
        conn.execute(
            text("""
            INSERT INTO plans (name, price, billing_period, validity_days, access_level, max_devices_allowed,
                               resolution, description, is_active)
            VALUES ('Basic', 7.99, 'month', 30, 'basic', 1, '720p', '', TRUE),
                   ('Premium', 22.99, 'month', 30, 'premium', 4, '4K', 'Spatial audio', TRUE),
                   ('Retired', 1.00, 'month', 30, 'basic', 1, '480p', '', FALSE)""")
        )
    at = app_as(None).switch_page("pages/plans.py").run()
    assert not at.exception
    assert [h.value for h in at.subheader] == ["Basic", "Premium"]
    assert "**USD 22.99 / month**" in [m.value for m in at.markdown]
    assert "4K · 4 screens at once" in [t.value for t in at.text]


def test_plans_page_without_plans_says_so(db_url):
    at = app_as(None).switch_page("pages/plans.py").run()
    assert "No plans are on sale yet." in at.info[0].value
