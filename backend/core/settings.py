"""The one settings object: every environment variable the project reads, validated once at start.

Nothing else reads `os.environ`. `get_settings()` builds the object on first use and keeps it for the life
of the process (tests call `reset_settings()` after changing the environment). Bad values, and settings
that are unsafe for production (`APP_ENV=production` without real keys, say), are refused with one
message that names every problem (`SettingsError`). docs/operations.md lists every variable.
"""

from __future__ import annotations

import functools
import ipaddress
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal, NoReturn

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MIN_KEY_LENGTH = 32


class SettingsError(ValueError):
    """The environment holds a bad or unsafe setting; the message says which and why."""


class Settings(BaseSettings):
    """Every setting, by its environment variable (the field's name in upper case)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    app_env: Literal["development", "production"] = "development"
    # Where the data is: DATABASE_URL, else the embedded server under DATA_DIR (EMBEDDED_PGDATA).
    database_url: str | None = None
    data_dir: Path = PROJECT_ROOT / "data"
    embedded_pgdata: Path | None = None
    db_pool_size: int = Field(5, ge=1, le=200)
    db_max_overflow: int = Field(5, ge=0, le=200)
    # Signing keys: set them in production; in development a random key is made once under DATA_DIR.
    auth_cookie_key: SecretStr | None = None
    api_jwt_secret: SecretStr | None = None
    # The app as members' browsers reach it (links in emails).
    public_url: str = "http://localhost:8501"
    # Billing: the app's scheduler (0 = off) and the length of free trials.
    billing_every_minutes: float = Field(5, ge=0)
    trial_days: int = Field(7, ge=0, le=90)
    default_phone_region: str = Field("US", pattern=r"^[A-Z]{2}$")
    # Email: without SMTP_HOST, messages stay in the outbox and the log (development).
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "Reelhouse <no-reply@reelhouse.example>"
    smtp_starttls: bool = True
    # The Kaggle catalogue: a path, and whether the ETL may download it when none is found.
    netflix_csv: Path | None = None
    netflix_no_download: bool = False
    # `python -m backend.accounts create-admin` takes the password from here, else a prompt.
    admin_password: SecretStr | None = None
    # The JSON API: browser origins allowed to call it (CORS; comma-separated, e.g. https://app.example.com),
    # the proxies whose X-Forwarded-For is believed (comma-separated addresses or networks; none: the
    # client is the connection's peer), and the rate limits (requests a minute per IP when anonymous, per account).
    api_cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    api_trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    api_anonymous_per_minute: int = Field(60, ge=1, le=1_000_000)
    api_user_per_minute: int = Field(300, ge=1, le=1_000_000)

    @field_validator("database_url", "smtp_host", "smtp_user", "netflix_csv", "embedded_pgdata", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("api_cors_origins", "api_trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("api_cors_origins")
    @classmethod
    def _origins(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        for origin in origins:
            if (origin != "*" and not origin.startswith(("http://", "https://"))) or origin.endswith("/"):
                raise ValueError(f"{origin!r} is not an origin: use scheme://host[:port] (no path), or *")
        return origins

    @field_validator("api_trusted_proxies")
    @classmethod
    def _networks(cls, proxies: tuple[str, ...]) -> tuple[str, ...]:
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"{proxy!r} is not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/24)") from None
        return proxies

    @property
    def pgdata(self) -> Path:
        """The embedded server's data folder (EMBEDDED_PGDATA, else DATA_DIR/pgdata)."""
        return (self.embedded_pgdata or self.data_dir / "pgdata").resolve()

    @property
    def is_embedded(self) -> bool:
        return self.database_url is None

    @model_validator(mode="after")
    def _safe_for_production(self) -> Settings:
        if self.app_env != "production":
            return self
        problems = []
        for name in ("auth_cookie_key", "api_jwt_secret"):
            key = getattr(self, name)
            if key is None or len(key.get_secret_value()) < MIN_KEY_LENGTH:
                problems.append(f"{name.upper()} must be set to a random secret of {MIN_KEY_LENGTH}+ characters")
        if self.database_url is None:
            problems.append("DATABASE_URL must be set (the embedded server is for development only)")
        if not self.public_url.startswith("https://"):
            problems.append("PUBLIC_URL must be the https:// address members use")
        if self.smtp_host is None:
            problems.append("SMTP_HOST must be set (password resets and notices are emailed)")
        if problems:
            raise ValueError("unsafe for APP_ENV=production: " + "; ".join(problems))
        return self


def _explain(error: ValidationError) -> str:
    parts = []
    for problem in error.errors():
        where = ".".join(str(p) for p in problem["loc"]).upper()
        message = str(problem["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "Settings refused: " + "; ".join(parts) + "."


@functools.cache
def get_settings() -> Settings:
    """The process's settings, read from the environment once."""
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(_explain(error)) from None


def reset_settings() -> None:
    """Forget the settings read so far (after a test changed the environment)."""
    get_settings.cache_clear()


def run_cli(main: Callable[[], int]) -> NoReturn:
    """Run a command-line program's `main`; a refused setting is one clear line and exit status 2."""
    try:
        code = main()
    except SettingsError as error:
        print(error, file=sys.stderr)
        code = 2
    sys.exit(code)
