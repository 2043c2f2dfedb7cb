"""Faults in the running app (AppTest against a real database): a database outage shows a short notice, never an
error's text, and the app works again once the database is back; an unexpected error shows an id that is in
the log; the authenticator holds no account's password hash."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from backend.accounts import users
from tests.api.test_database_outage import relayed
from tests.conftest import app_as
from ui import faults

pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")


@pytest.fixture
def member(engine):
    return users.register(engine, "member@example.com", "Mia Member", "secret pass 12")


def shown_text(at) -> str:
    kinds = ("error", "warning", "info", "markdown", "exception")
    return " ".join(str(element.value) for kind in kinds for element in at.get(kind))


def test_an_outage_shows_a_notice_and_the_app_works_once_the_database_is_back(db_url, monkeypatch, member):
    relay, through_relay = relayed(db_url)
    monkeypatch.setenv("DATABASE_URL", through_relay)
    assert not app_as(member).exception  # the app's pooled engine is made through the relay

    relay.cut()
    at = app_as(member)
    assert not at.exception
    assert [w.value for w in at.warning] == [faults.OUTAGE_NOTICE]
    page = shown_text(at)
    assert "OperationalError" not in page and "127.0.0.1" not in page and "psycopg2" not in page

    relay.start()  # the database is back, on the same address: the same pooled engine serves again
    at = app_as(member)
    assert not at.exception and not at.warning
    assert at.session_state["username"] == member.email and at.sidebar.selectbox[0].label == "Watching as"


def test_an_unexpected_error_shows_an_id_that_the_log_has(engine, caplog):
    with engine.begin() as conn:  # a real fault, not an outage: the table a guest's Browse page reads is gone
        conn.execute(text("DROP TABLE titles CASCADE"))
    with caplog.at_level(logging.ERROR, logger="reelhouse.app"):
        at = app_as(None)
    assert not at.exception
    (message,) = [e.value for e in at.error]
    assert message.startswith("Something went wrong on our side (error id ")
    error_id = message.split("error id ")[1][:12]
    logged = [r for r in caplog.records if error_id in r.getMessage()]
    assert logged and "UndefinedTable" in str(logged[0].exc_info[1])
    assert "titles" not in message and "Traceback" not in shown_text(at)


def test_the_authenticator_is_given_no_account(engine, member):
    at = app_as(member)
    assert not at.exception
    authenticator = at.session_state["authenticator"]
    assert authenticator.authentication_controller.authentication_model.credentials == {"usernames": {}}
    assert at.session_state["username"] == member.email  # signed in all the same
