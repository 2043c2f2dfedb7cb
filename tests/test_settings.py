"""The one settings object: read from the environment once, validated, and unsafe production settings refused."""

import subprocess
import sys

import pytest

from backend.core.settings import PROJECT_ROOT, SettingsError, get_settings

PRODUCTION = {
    "APP_ENV": "production",
    "AUTH_COOKIE_KEY": "c" * 40,
    "API_JWT_SECRET": "j" * 40,
    "DATABASE_URL": "postgresql://app@db.internal/reelhouse",
    "PUBLIC_URL": "https://watch.reelhouse.example",
    "SMTP_HOST": "smtp.reelhouse.example",
}


def test_defaults_suit_development(monkeypatch):
    for name in ("APP_ENV", "DATABASE_URL", "TRIAL_DAYS", "DB_POOL_SIZE", "EMBEDDED_PGDATA"):
        monkeypatch.delenv(name, raising=False)
    settings = get_settings()
    assert settings.app_env == "development" and settings.is_embedded
    assert settings.trial_days == 7 and settings.db_pool_size == 5
    assert settings.pgdata == (settings.data_dir / "pgdata").resolve()


def test_values_come_from_the_environment_and_are_read_once(monkeypatch):
    monkeypatch.setenv("TRIAL_DAYS", "14")
    monkeypatch.setenv("SMTP_STARTTLS", "0")
    monkeypatch.setenv("DATABASE_URL", "")  # empty means unset
    first = get_settings()
    assert first.trial_days == 14 and first.smtp_starttls is False and first.is_embedded
    assert get_settings() is first  # the same object for the life of the process


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [("TRIAL_DAYS", "a week", "TRIAL_DAYS"), ("DB_POOL_SIZE", "0", "DB_POOL_SIZE"), ("APP_ENV", "staging", "APP_ENV")],
)
def test_a_bad_value_is_refused_naming_the_variable(monkeypatch, name, value, named):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=f"^Settings refused: {named}: "):
        get_settings()


def test_a_safe_production_configuration_is_accepted(monkeypatch):
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    assert get_settings().app_env == "production"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"AUTH_COOKIE_KEY": ""}, "AUTH_COOKIE_KEY must be set"),
        ({"API_JWT_SECRET": "short"}, "API_JWT_SECRET must be set to a random secret of 32+ characters"),
        ({"DATABASE_URL": ""}, "DATABASE_URL must be set"),
        ({"PUBLIC_URL": "http://watch.reelhouse.example"}, "PUBLIC_URL must be the https:// address"),
        ({"SMTP_HOST": ""}, "SMTP_HOST must be set"),
    ],
)
def test_unsafe_production_settings_are_refused(monkeypatch, change, problem):
    for name, value in (PRODUCTION | change).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match="unsafe for APP_ENV=production") as refused:
        get_settings()
    assert problem in str(refused.value)


def test_a_command_line_program_says_why_in_one_line_and_exits_2():
    env = {"PATH": "/usr/bin:/bin", "APP_ENV": "production"}
    done = subprocess.run(
        [sys.executable, "-m", "database", "status"], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT
    )
    assert done.returncode == 2
    assert done.stderr.startswith("Settings refused: unsafe for APP_ENV=production: AUTH_COOKIE_KEY must be set")
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_the_web_app_names_the_refused_setting_instead_of_serving(monkeypatch, fresh_streamlit_caches):
    from tests.conftest import app_as

    for name in ("AUTH_COOKIE_KEY", "API_JWT_SECRET", "DATABASE_URL", "PUBLIC_URL", "SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    at = app_as(None)
    assert [e.value for e in at.error] == [
        "Settings refused: unsafe for APP_ENV=production: AUTH_COOKIE_KEY must be set to a random secret of 32+ "
        "characters; API_JWT_SECRET must be set to a random secret of 32+ characters; DATABASE_URL must be set "
        "(the embedded server is for development only); PUBLIC_URL must be the https:// address members use; "
        "SMTP_HOST must be set (password resets and notices are emailed)."
    ]
    assert not at.exception
