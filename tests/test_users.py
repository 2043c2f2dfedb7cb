"""Accounts backend: registration, throttled sign-in, sessions, roles, viewing profiles."""

import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import bcrypt
import pytest
from sqlalchemy import text

import database
from backend.accounts import errors as account_errors
from backend.accounts import profiles as viewing_profiles
from backend.accounts import sessions, users
from backend.core import errors as core_errors
from tests.conftest import run_at_once

PASSWORD = "correct horse 42"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def alice(engine):
    return users.register(engine, "  Alice@Example.COM ", "Alice Liddell", PASSWORD, now=T0)


def test_register_normalises_email_and_creates_login_and_profile(engine, alice):
    assert alice.email == "alice@example.com" and alice.role == "subscriber"
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT user_id FROM user_logins WHERE email = 'alice@example.com'")).scalar()
            == alice.user_id
        )
        stored = conn.execute(text("SELECT password_hash FROM users WHERE user_id = :i"), {"i": alice.user_id}).scalar()
    assert stored.startswith("$2b$12$") and bcrypt.checkpw(PASSWORD.encode(), stored.encode())  # cost 12
    assert [p.name for p in viewing_profiles.list_profiles(engine, alice.user_id)] == ["Alice"]


def test_duplicate_email_is_refused_clearly_even_when_concurrent(engine, alice):
    with pytest.raises(account_errors.AccountError, match="already exists"):
        users.register(engine, "ALICE@example.com", "Other", "another pass 99")
    results = run_at_once(*[lambda: _try_register(engine, "bob@example.com")] * 2)
    assert sorted(results) == ["An account with this email already exists. Sign in instead.", "ok"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users WHERE email = 'bob@example.com'")).scalar() == 1


def _try_register(engine, email):
    try:
        users.register(engine, email, "Bob", PASSWORD)
        return "ok"
    except account_errors.AccountError as error:
        return str(error)


@pytest.mark.parametrize("password", ["short1", "nodigitsatall", "1234567890", "é" * 36 + "1", ""])
def test_password_policy(engine, password):
    with pytest.raises(account_errors.AccountError, match="At least 10 characters"):
        users.register(engine, "p@example.com", "P", password)


@pytest.mark.parametrize(
    ("email", "name"),
    [("not-an-email", "X"), ("a@b.c" + "x" * 300, "X"), ("ok@example.com", ""), ("ok@example.com", "x" * 10_000)],
)
def test_bad_emails_and_names_are_refused(engine, email, name):
    with pytest.raises(account_errors.AccountError):
        users.register(engine, email, name, PASSWORD)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 0


def test_unicode_and_markup_in_names_are_stored_as_given(engine):
    user = users.register(engine, "zoe@example.com", "Zoë <script>alert(1)</script> 🎬", PASSWORD)
    assert users.get_user(engine, user.user_id).display_name == "Zoë <script>alert(1)</script> 🎬"


def test_sign_in_by_email_any_case(engine, alice):
    assert sessions.authenticate(engine, "ALICE@example.com", PASSWORD, now=T0).user_id == alice.user_id


def test_wrong_password_and_unknown_account_get_the_same_message(engine, alice):
    with pytest.raises(account_errors.AccountError) as wrong:
        sessions.authenticate(engine, "alice@example.com", "wrong password 1", now=T0)
    with pytest.raises(account_errors.AccountError) as unknown:
        sessions.authenticate(engine, "nobody@example.com", "wrong password 1", now=T0)
    assert str(wrong.value) == str(unknown.value) == sessions.SIGN_IN_FAILED


def test_unknown_accounts_cost_about_as_much_time_as_known_ones(engine, alice):
    def timed(email):
        started = time.perf_counter()
        with pytest.raises(account_errors.AccountError):
            sessions.authenticate(engine, email, "wrong password 1", now=T0)
        return time.perf_counter() - started

    known = statistics.median(timed("alice@example.com") for _ in range(3))
    unknown = statistics.median(timed(f"nobody{i}@example.com") for i in range(3))
    assert 0.5 < unknown / known < 2  # both pay for one bcrypt check at cost 12


def test_five_failures_lock_sign_in_for_fifteen_minutes(engine, alice):
    for minute in range(4):
        with pytest.raises(account_errors.AccountError, match="incorrect"):
            sessions.authenticate(engine, "alice@example.com", "wrong password 1", now=T0 + timedelta(minutes=minute))
    with pytest.raises(account_errors.SignInLocked, match="Try again in 15 minutes"):
        sessions.authenticate(engine, "alice@example.com", "wrong password 1", now=T0 + timedelta(minutes=4))
    # Even the right password is refused while locked, and the lock is kept in the database.
    with pytest.raises(account_errors.SignInLocked, match="Try again in 5 minutes"):
        sessions.authenticate(engine, "alice@example.com", PASSWORD, now=T0 + timedelta(minutes=14))
    assert sessions.authenticate(engine, "alice@example.com", PASSWORD, now=T0 + timedelta(minutes=20))


def test_unknown_emails_lock_the_same_way(engine):
    for _ in range(4):
        with pytest.raises(account_errors.AccountError, match="incorrect"):
            sessions.authenticate(engine, "ghost@example.com", "wrong password 1", now=T0)
    with pytest.raises(account_errors.SignInLocked):
        sessions.authenticate(engine, "ghost@example.com", "wrong password 1", now=T0)


def test_failures_spread_over_more_than_the_window_do_not_lock(engine, alice):
    for step in range(6):
        with pytest.raises(account_errors.AccountError, match="incorrect"):
            sessions.authenticate(
                engine, "alice@example.com", "wrong password 1", now=T0 + timedelta(minutes=16 * step)
            )


def test_success_resets_the_failure_count(engine, alice):
    for _ in range(4):
        with pytest.raises(account_errors.AccountError):
            sessions.authenticate(engine, "alice@example.com", "nope nope 1", now=T0)
    sessions.authenticate(engine, "alice@example.com", PASSWORD, now=T0)
    with pytest.raises(account_errors.AccountError, match="incorrect"):
        sessions.authenticate(engine, "alice@example.com", "nope nope 1", now=T0)


def test_huge_password_is_a_plain_failure(engine, alice):
    with pytest.raises(account_errors.AccountError, match="incorrect"):
        sessions.authenticate(engine, "alice@example.com", "x" * 10_000, now=T0)


def cookie_expiring(issued_at):
    return issued_at + timedelta(days=sessions.SESSION_DAYS)


def test_signing_out_one_session_keeps_the_others(engine, alice):
    phone, tv = cookie_expiring(T0 + timedelta(minutes=1)), cookie_expiring(T0 + timedelta(minutes=2))
    assert sessions.session_user(engine, "alice@example.com", phone).user_id == alice.user_id
    sessions.sign_out_session(engine, alice.user_id, phone, now=T0 + timedelta(minutes=5))
    assert sessions.session_user(engine, "alice@example.com", phone) is None  # a saved copy no longer works
    assert sessions.session_user(engine, "alice@example.com", tv) is not None


def test_sign_out_everywhere_invalidates_earlier_cookies(engine, alice):
    issued = cookie_expiring(T0 + timedelta(minutes=1))
    sessions.sign_out_everywhere(engine, alice.user_id, now=T0 + timedelta(minutes=5))
    assert sessions.session_user(engine, "alice@example.com", issued) is None
    assert sessions.session_user(engine, "alice@example.com", cookie_expiring(T0 + timedelta(minutes=6))) is not None


def test_change_password_ends_other_sessions(engine, alice):
    with pytest.raises(account_errors.AccountError, match="current password"):
        sessions.change_password(engine, alice.user_id, "wrong password 1", "new password 77", now=T0)
    with pytest.raises(account_errors.AccountError, match="At least"):
        sessions.change_password(engine, alice.user_id, PASSWORD, "short", now=T0)
    sessions.change_password(engine, alice.user_id, PASSWORD, "new password 77", now=T0 + timedelta(hours=1))
    assert sessions.session_user(engine, "alice@example.com", cookie_expiring(T0 + timedelta(minutes=30))) is None
    with pytest.raises(account_errors.AccountError):
        sessions.authenticate(engine, "alice@example.com", PASSWORD, now=T0 + timedelta(hours=2))
    assert sessions.authenticate(engine, "alice@example.com", "new password 77", now=T0 + timedelta(hours=2))


def test_suspended_accounts_cannot_sign_in_or_keep_sessions(engine, alice):
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET suspended_at = :t WHERE user_id = :i"), {"t": T0, "i": alice.user_id})
    with pytest.raises(account_errors.AccountError, match="suspended"):
        sessions.authenticate(engine, "alice@example.com", PASSWORD, now=T0)
    assert sessions.session_user(engine, "alice@example.com", cookie_expiring(T0 + timedelta(days=1))) is None


def test_require_role_checks_the_database(engine, alice):
    with pytest.raises(core_errors.NotAuthorised):
        users.require_role(engine, alice.user_id, "admin")
    with pytest.raises(core_errors.NotAuthorised):
        users.require_role(engine, None, "admin")
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET role = 'admin' WHERE user_id = :i"), {"i": alice.user_id})
    assert users.require_role(engine, alice.user_id, "admin").role == "admin"


def test_profiles_at_most_five_names_unique_kids_capped(engine, alice):
    kids = viewing_profiles.create_profile(engine, alice.user_id, "Kids", is_kids=True)
    assert kids.is_kids and kids.maturity_cap == "older_kids"
    with pytest.raises(account_errors.AccountError, match="already a profile"):
        viewing_profiles.create_profile(engine, alice.user_id, "kids")
    for name in ("Bob", "Carol", "Dan"):
        viewing_profiles.create_profile(engine, alice.user_id, name)
    with pytest.raises(account_errors.AccountError, match="at most 5"):
        viewing_profiles.create_profile(engine, alice.user_id, "Eve")
    assert len(viewing_profiles.list_profiles(engine, alice.user_id)) == 5
    with pytest.raises(account_errors.AccountError, match="1 to 30"):
        viewing_profiles.create_profile(engine, alice.user_id, "x" * 10_000)


def test_create_admin_cli(db_url):
    result = subprocess.run(
        [sys.executable, "-m", "backend.accounts", "create-admin", "--email", "root@example.com", "--name", "Root"],
        capture_output=True,
        text=True,
        cwd=database.PROJECT_ROOT,
        timeout=60,
        env={**os.environ, "ADMIN_PASSWORD": "admin password 1"},
    )
    assert result.returncode == 0, result.stderr
    assert "admin root@example.com created" in result.stdout
    assert users.find_user_by_email(database.get_engine(db_url), "root@example.com").role == "admin"
    again = subprocess.run(
        [sys.executable, "-m", "backend.accounts", "create-admin", "--email", "root@example.com", "--name", "Root"],
        capture_output=True,
        text=True,
        cwd=database.PROJECT_ROOT,
        timeout=60,
        env={**os.environ, "ADMIN_PASSWORD": "admin password 1"},
    )
    assert again.returncode == 2 and "already exists" in again.stderr
