"""Billing history an auditor would sign: a card entered late never back-dates a charge, the billing job
carries on when accounts vanish under it, cancelled subscriptions are told when they end, and members
choose which notes they get (and the genres of the new-titles note)."""

from datetime import timedelta

import pytest
from sqlalchemy import text

from backend.billing import checkout as billing_checkout
from backend.billing import job as billing_job
from backend.billing import lifecycle, statements, subscriptions
from backend.notify import notifications, preferences
from tests.test_subscriptions import (  # noqa: F401 (gw and plan_ids are fixtures)
    GOOD,
    POOR,
    START,
    T0,
    events,
    gw,
    member,
    paying_member,
    payments,
    plan_ids,
)

RENEWAL = lifecycle.period_end(START, 1, 30)  # a monthly plan (30 days valid)


def outbox_subjects(engine, user_id):
    with engine.connect() as conn:
        return list(
            conn.execute(
                text("SELECT subject FROM email_outbox WHERE user_id = :u ORDER BY message_id"), {"u": user_id}
            ).scalars()
        )


def test_a_card_entered_after_a_failed_renewal_pays_on_the_day_it_is_entered(engine, plan_ids, gw):  # noqa: F811
    """The renewal fell due on a failing card; a good card entered three days later settles what fell due
    with the card that was on file (it failed, the grace period began), then pays on the day it is entered."""
    user = paying_member(engine, plan_ids, gw)
    subscriptions.update_card(engine, user.user_id, POOR, gateway=gw, now=START + timedelta(days=5))
    entered = RENEWAL + timedelta(days=3, hours=2)  # the job has not run since before the renewal
    assert subscriptions.update_card(engine, user.user_id, GOOD, gateway=gw, now=entered) == "recovered"
    history = [(p["kind"], p["status"], p["attempted_at"], p["card_last4"]) for p in payments(engine, user.user_id)]
    assert history[1:] == [
        ("renewal", "failed", RENEWAL, "9995"),  # at its own instant, with the card on file then
        ("retry", "failed", RENEWAL + timedelta(days=1), "9995"),
        ("retry", "failed", RENEWAL + timedelta(days=3), "9995"),
        ("retry", "succeeded", entered, "4242"),  # the cash is dated when the good card paid
    ]
    kinds = [(kind, at) for kind, at, _mrr, _reason in events(engine, user.user_id)]
    assert ("payment_failed", RENEWAL) in kinds and kinds[-1] == ("payment_recovered", entered)
    assert [n["kind"] for n in notifications.recent(engine, user.user_id)][:2] == [
        "payment_recovered",
        "payment_failed",
    ]
    paid = [p for p in statements.billing_history(engine, user.user_id) if p["status"] == "succeeded"]
    assert paid[0]["attempted_at"] == entered and paid[0]["period_start"] == RENEWAL


def test_a_card_entered_before_anything_fell_due_is_simply_saved(engine, plan_ids, gw):  # noqa: F811
    user = paying_member(engine, plan_ids, gw)
    assert subscriptions.update_card(engine, user.user_id, GOOD, gateway=gw, now=RENEWAL - timedelta(days=1)) == "saved"
    assert [p["kind"] for p in payments(engine, user.user_id)] == ["conversion"]


def delete_account(engine, user_id):
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE user_id = :u"), {"u": user_id})


def test_the_job_skips_accounts_that_vanish_under_it_and_carries_on(engine, plan_ids, gw, monkeypatch):  # noqa: F811
    stays = paying_member(engine, plan_ids, gw, tag="stays")
    goes = paying_member(engine, plan_ids, gw, tag="goes")
    listed_accounts, listed_reminders = billing_job._due_accounts, billing_job.reminders_due

    def accounts_then_one_deleted(engine_, now):  # the list is read, then an admin deletes an account
        due = listed_accounts(engine_, now)
        assert set(due) == {stays.user_id, goes.user_id}
        delete_account(engine_, goes.user_id)
        return due

    monkeypatch.setattr(billing_job, "_due_accounts", accounts_then_one_deleted)
    summary = billing_job.run(engine, RENEWAL + timedelta(hours=1), gateway=gw)
    assert summary["renewed"] == 1 and summary["accounts"] == 1
    assert [p["kind"] for p in payments(engine, stays.user_id)] == ["conversion", "renewal"]

    monkeypatch.setattr(billing_job, "_due_accounts", listed_accounts)
    gone_too = paying_member(engine, plan_ids, gw, tag="gone")

    def reminders_then_one_deleted(engine_, now):
        due = listed_reminders(engine_, now)
        assert {r["user_id"] for r in due} >= {gone_too.user_id}
        delete_account(engine_, gone_too.user_id)
        return due

    monkeypatch.setattr(billing_job, "reminders_due", reminders_then_one_deleted)
    later = lifecycle.period_end(START, 2, 30) - timedelta(days=2)
    summary = billing_job.run(engine, later, gateway=gw)  # renewal reminders for both: one account has gone
    assert summary["reminders"] == 1
    assert "renewal_reminder" in [n["kind"] for n in notifications.recent(engine, stays.user_id)]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM job_runs ORDER BY run_id DESC")).scalar() == "succeeded"


def test_a_cancelled_subscription_is_told_when_it_ends_in_the_app_and_by_email(engine, plan_ids, gw):  # noqa: F811
    user = paying_member(engine, plan_ids, gw)
    subscriptions.cancel(engine, user.user_id, gateway=gw, now=START + timedelta(days=10))
    for _ in range(2):  # a re-run sends nothing twice
        billing_job.run(engine, RENEWAL - timedelta(days=2), gateway=gw)
    [ending] = [n for n in notifications.recent(engine, user.user_id) if n["kind"] == "subscription_ending"]
    assert ending["title"] == f"Your subscription ends on {RENEWAL:%d %b %Y}"
    assert "nothing more will be charged" in ending["body"] and "Resume" in ending["body"]
    assert f"Reelhouse: Your subscription ends on {RENEWAL:%d %b %Y}" in outbox_subjects(engine, user.user_id)
    assert not [n for n in notifications.recent(engine, user.user_id) if n["kind"] == "renewal_reminder"]
    billing_job.run(engine, RENEWAL + timedelta(hours=1), gateway=gw)
    assert subscriptions.current(engine, user.user_id).status == "canceled"


def test_a_cancelled_trial_is_told_when_it_ends(engine, plan_ids, gw):  # noqa: F811
    user = member(engine)
    billing_checkout.checkout(engine, user.user_id, plan_ids["Basic"], GOOD, "k", gateway=gw, now=T0)
    subscriptions.cancel(engine, user.user_id, gateway=gw, now=T0 + timedelta(days=1))
    billing_job.run(engine, T0 + timedelta(days=lifecycle.trial_days() - 2), gateway=gw)
    [ending] = [n for n in notifications.recent(engine, user.user_id) if n["kind"] == "subscription_ending"]
    assert ending["title"].startswith("Your free trial ends on")


def add_title(conn, genre_name: str, title: str, added) -> tuple[int, int]:
    """A film added to the catalogue on `added`, in the genre (created if new); (genre_id, title_id)."""
    genre = conn.execute(text("SELECT genre_id FROM genres WHERE name = :n"), {"n": genre_name}).scalar()
    if genre is None:
        genre = conn.execute(
            text("INSERT INTO genres (name) VALUES (:n) RETURNING genre_id"), {"n": genre_name}
        ).scalar_one()
    title_id = conn.execute(
        text("""INSERT INTO titles (show_id, kind, title, audience, access_level, date_added)
                VALUES (:s, 'movie', :t, 'adults', 'basic', :d) RETURNING title_id"""),
        {"s": f"x-{title}", "t": title, "d": added},
    ).scalar_one()
    conn.execute(text("INSERT INTO title_genres VALUES (:t, :g, 1)"), {"t": title_id, "g": genre})
    return genre, title_id


def test_preferences_choose_the_notes_their_genres_and_email(engine, plan_ids, gw):  # noqa: F811
    user = paying_member(engine, plan_ids, gw)
    fresh = (RENEWAL - timedelta(days=4)).date()
    with engine.begin() as conn:
        _, watched = add_title(conn, "Dramas", "Quiet Harbour", fresh)
        comedy, _ = add_title(conn, "Comedies", "Loud Lighthouse", fresh)
        profile = conn.execute(text("SELECT profile_id FROM profiles WHERE user_id = :u"), {"u": user.user_id}).scalar()
        conn.execute(
            text("INSERT INTO list_entries VALUES (:u, :p, :t, :now)"),
            {"u": user.user_id, "p": profile, "t": watched, "now": START},
        )
    assert preferences.preferences(engine, user.user_id) == preferences.Preferences()  # defaults: all on
    saved = preferences.save(
        engine, user.user_id, reminders=False, new_titles=True, email=False, genre_ids=[comedy], now=START
    )
    assert saved == preferences.Preferences(reminders=False, new_titles=True, email=False, genre_ids=(comedy,))
    before = len(outbox_subjects(engine, user.user_id))
    billing_job.run(engine, RENEWAL - timedelta(days=2), gateway=gw)
    kinds = {n["kind"]: n for n in notifications.recent(engine, user.user_id)}
    assert "renewal_reminder" not in kinds  # reminders off
    note = kinds["new_titles"]  # the genre chosen, not the one inferred from the list
    assert note["title"] == "New this week in genres you follow"
    assert "Loud Lighthouse" in note["body"] and "Quiet Harbour" not in note["body"]
    assert len(outbox_subjects(engine, user.user_id)) == before  # in the app only
    # Turned off: next week's new comedy is not announced; turned on again, the same run announces it.
    preferences.save(engine, user.user_id, reminders=True, new_titles=False, email=True, genre_ids=[], now=START)
    assert preferences.preferences(engine, user.user_id).genre_ids == ()
    next_week = RENEWAL + timedelta(days=6)
    with engine.begin() as conn:
        add_title(conn, "Comedies", "Later Lantern", (next_week - timedelta(days=1)).date())

    def notes():
        return [n for n in notifications.recent(engine, user.user_id) if n["kind"] == "new_titles"]

    billing_job.run(engine, next_week, gateway=gw)
    assert len(notes()) == 1
    preferences.save(engine, user.user_id, reminders=True, new_titles=True, email=True, genre_ids=[comedy], now=START)
    billing_job.run(engine, next_week, gateway=gw)
    assert len(notes()) == 2 and "Later Lantern" in notes()[0]["body"]
    assert outbox_subjects(engine, user.user_id)[-1] == "Reelhouse: New this week in genres you follow"


def test_bad_preferences_are_refused_and_change_nothing(engine, plan_ids, gw):  # noqa: F811
    user = paying_member(engine, plan_ids, gw)
    with pytest.raises(preferences.PreferencesRefused, match="no longer exists"):
        preferences.save(
            engine, user.user_id, reminders=False, new_titles=False, email=False, genre_ids=[987654], now=START
        )
    with pytest.raises(preferences.PreferencesRefused, match="at most 10"):
        preferences.save(
            engine, user.user_id, reminders=True, new_titles=True, email=True, genre_ids=range(11), now=START
        )
    assert preferences.preferences(engine, user.user_id) == preferences.Preferences()
