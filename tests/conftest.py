"""Test databases: real PostgreSQL, never the developer's data.

The server is `DATABASE_URL` when set, otherwise an embedded one under `data/pgdata-test`.
Each test session migrates a template database once; every test that asks for `db_url`
gets its own database cloned from it (CREATE DATABASE ... TEMPLATE, ~0.1 s) and dropped after.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

import database
from backend.core.settings import get_settings, reset_settings

# The app's billing scheduler stays off in tests (and in the apps they serve); tests run the job themselves.
os.environ.setdefault("BILLING_EVERY_MINUTES", "0")
APP = str(database.PROJECT_ROOT / "app.py")

TESTS_DIR = Path(__file__).resolve().parent
FIXTURES = TESTS_DIR / "fixtures"
QUIRKS_CSV = FIXTURES / "catalogue_quirks.csv"
SHARED_CSV = database.PROJECT_ROOT.parent / "shared" / "data" / "netflix_titles.csv"


def full_catalogue_csv() -> Path | None:
    """The real Kaggle file, through NETFLIX_CSV (as CI sets it) or the shared folder."""
    path = get_settings().netflix_csv or SHARED_CSV
    return path if path.is_file() else None


needs_full_csv = pytest.mark.skipif(
    full_catalogue_csv() is None, reason="set NETFLIX_CSV to the Kaggle netflix_titles.csv to run this test"
)


def _server_url() -> str:
    return database.server_url(get_settings().data_dir / "pgdata-test")


def _admin_execute(server_url: str, *statements: str) -> None:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def database_url_for(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def run_at_once(*work: Callable[[], object]) -> list:
    """Run the callables in parallel threads; their results in order, or the first error raised."""
    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        return [future.result() for future in [pool.submit(w) for w in work]]


@pytest.fixture(autouse=True)
def settings_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The app reads its settings once per process; in a test, each setenv/delenv makes them be read again."""
    setenv, delenv = monkeypatch.setenv, monkeypatch.delenv

    def setenv_and_reread(*args, **kwargs) -> None:
        setenv(*args, **kwargs)
        reset_settings()

    def delenv_and_reread(*args, **kwargs) -> None:
        delenv(*args, **kwargs)
        reset_settings()

    monkeypatch.setenv = setenv_and_reread  # type: ignore[method-assign]
    monkeypatch.delenv = delenv_and_reread  # type: ignore[method-assign]
    reset_settings()
    yield
    reset_settings()


@pytest.fixture(scope="session")
def server_url() -> str:
    return _server_url()


@pytest.fixture(scope="session")
def template_database(server_url: str) -> Iterator[str]:
    """A database migrated to head, cloned by every test database."""
    name = f"test_template_{os.getpid()}"
    _admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
    url = database_url_for(server_url, name)
    engine = create_engine(url, poolclass=NullPool)
    database.upgrade(engine)
    engine.dispose()
    yield name
    _admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def throwaway_database(server_url: str, template: str) -> Iterator[str]:
    name = f"test_{uuid.uuid4().hex[:12]}"
    _admin_execute(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield database_url_for(server_url, name)
    finally:
        database.dispose_engines()
        _admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db_url(server_url: str, template_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, migrated database of this test's own; DATABASE_URL points at it meanwhile."""
    with throwaway_database(server_url, template_database) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        yield url


@pytest.fixture(scope="module")
def module_db_url(server_url: str, template_database: str) -> Iterator[str]:
    """A fresh, migrated database shared by the tests of one module (e.g. behind one app server)."""
    with throwaway_database(server_url, template_database) as url:
        yield url


@pytest.fixture
def fresh_streamlit_caches():
    """Streamlit caches live for the process: each AppTest must use its own database."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def engine(db_url: str):
    return database.get_engine(db_url)


@pytest.fixture(scope="module")
def seeded_half_year_url(module_db_url: str, request: pytest.FixtureRequest) -> str:
    """This module's database with the quirks catalogue and six months of seeded business up to 2026-07-01,
    sized by the module's `SEEDED` options (e.g. {"subscribers": 300, "seed": 5})."""
    from datetime import date

    from etl.load_catalogue import load_catalogue
    from seed import generate
    from seed import options as seed_options

    engine = database.get_engine(module_db_url)
    load_catalogue(engine, QUIRKS_CSV)
    generate.seed(engine, seed_options.Options(months=6, end=date(2026, 7, 1), **request.module.SEEDED))
    return module_db_url


def demo_staff(engine, role: str):
    """The seeder's demo.admin@ / demo.analyst@ account."""
    from backend.accounts import users

    return users.find_user_by_email(engine, f"demo.{role}@example.com")


def app_as(user=None):
    """AppTest of the app, run once, signed in as `user` (None: a guest) the way the authenticator sets the
    session state; the app still checks that session against the database on every run."""
    from datetime import UTC, datetime, timedelta

    from streamlit.testing.v1 import AppTest

    from backend.accounts import sessions

    at = AppTest.from_file(APP, default_timeout=30)
    if user is not None:
        at.session_state["authentication_status"] = True
        at.session_state["username"] = user.email
        at.session_state["name"] = user.display_name
        at.session_state["roles"] = [user.role]
        at.session_state["logout"] = None
        at.session_state["session_expires_at"] = datetime.now(UTC) + timedelta(days=sessions.SESSION_DAYS)
    return at.run()
